# make compare's chart for two lesson benches (harness/course/compare.sh): the median wall time
# of each mode in run A (solid, filled points) and run B (dashed, open points, the same colour)
# with their min-max bars; under it the ratio B/A of each point; and, when both runs have it,
# the CPU time as a share of wall time in each (a log axis from 0.1%). Variables: data (a block a mode and run, A
# first; columns mode, x, median, min, max, cpu %), ratios (a block a mode; columns mode, x,
# A, B, B/A), modes, out_png, out_svg, title, xlabel, la, lb, logx, logy, cpu, note.
set datafile separator ','
set datafile missing 'nan'
set grid xtics ytics lc rgb '#dddddd'
if (logx) set logscale x 2
n = words(modes)
main_h = 560.0
panel_h = 230.0
height = main_h + (1 + cpu) * panel_h
fr(px) = px / height
# Block k (from 0) is mode k/2 + 1 of run k%2 (0: A, 1: B).
ttl(k) = sprintf('%s, %s', word(modes, k / 2 + 1), k % 2 == 0 ? la : lb)
dash(k) = k % 2 + 1
fl(v) = (v == v && v < 0.1) ? 0.1 : v   # the CPU panel's log axis starts at 0.1%
point(k) = k % 2 == 0 ? 7 : 6

draw = "set multiplot; set lmargin 11; set rmargin 4; set tmargin; \
  set size 1, fr(main_h); set origin 0, fr((1 + cpu) * panel_h); \
  set title title; set ylabel 'wall time (s)'; unset xlabel; set bmargin 2; \
  if (logy) { set logscale y 10; set ytics ('0.001' 0.001, '0.002' 0.002, '0.005' 0.005, '0.01' 0.01, '0.02' 0.02, '0.05' 0.05, '0.1' 0.1, '0.2' 0.2, '0.5' 0.5, '1' 1, '2' 2, '5' 5, '10' 10, '20' 20, '50' 50, '100' 100, '200' 200, '500' 500, '1000' 1000) } else { unset logscale y; set ytics autofreq }; set autoscale yfix; \
  set offsets graph 0.03, graph 0.03, graph 0.06, graph 0.06; set key top left box opaque noenhanced; \
  set label 1 note at screen 0.99, screen fr(9) right font ',8' tc rgb '#777777'; \
  plot for [k=0:2*n-1] data index k using 2:3:4:5 with yerrorlines lw 2 lc (k / 2 + 1) dt dash(k) pt point(k) ps 0.8 title ttl(k); \
  unset label 1; unset title; unset logscale y; set ytics autofreq; set tmargin 1; set yrange [0:1.2<*]; \
  set size 1, fr(panel_h); set origin 0, fr(cpu * panel_h); \
  set ylabel 'B / A (wall time)'; set key top right box opaque font ',9'; \
  if (cpu) { unset xlabel; set bmargin 1 } else { set xlabel xlabel; set bmargin 5.5 }; \
  set offsets graph 0.03, graph 0.03, graph 0.1, 0; \
  set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lc rgb '#444444'; \
  plot for [i=1:n] ratios index (i - 1) using 2:5 with linespoints lw 2 lc i pt 7 ps 0.7 title word(modes, i); \
  unset arrow 1; \
  if (cpu) { \
    set size 1, fr(panel_h); set origin 0, 0; set xlabel xlabel; set bmargin 5.5; \
    set ylabel 'CPU time, % of wall'; set logscale y 10; set yrange [0.1:250]; set ytics ('0.1%%' 0.1, '1%%' 1, '10%%' 10, '100%%' 100); \
    set offsets graph 0.03, graph 0.03, 0, 0; unset key; \
    plot for [k=0:2*n-1] data index k using 2:(fl($6)) with linespoints lw 2 lc (k / 2 + 1) dt dash(k) pt point(k) ps 0.7 notitle; \
    unset logscale y; set ytics autofreq; set autoscale y; \
  }; \
  unset multiplot"

set terminal pngcairo size 960, height font ',10' noenhanced
set output out_png
eval draw
set terminal svg size 960, height dynamic font ',10' noenhanced
set output out_svg
eval draw
set output
