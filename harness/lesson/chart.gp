# A lesson's chart: median wall time of each mode against the swept parameter, min-max bars,
# and the theory as a dashed line in the same colour; under it, one panel for each of the
# lesson's PLOT_PANELS (CPU time as a share of wall time, the server's peak, a count the row
# carries), the same modes in the same colours, median and min-max bars again. The machine and
# the commit go in the bottom right corner. Variables come from plot.sh: data, modes, out_png,
# out_svg, title, xlabel, ylabel, logx, logy, key, note, colours, npanels, and for each panel i:
# pmed_i, pmin_i, pmax_i (columns), plabel_i, plimit_i (a value drawn as a line, or NaN),
# plimitlabel_i, pceil_i (the least top of the y axis, or NaN), plog_i (1: a log axis, floor 0.1).

set datafile separator ','
set datafile missing 'nan'
set grid xtics ytics mytics lc rgb '#dddddd'
if (logx) set logscale x 2

n = words(modes)
# A known mistake's chart names it on a line of its own, under the lesson's title.
t = strstrt(title, ' (known mistake: ')
if (t > 0) title = title[1:t-1] . "\n" . title[t+1:]
ispy(i) = strstrt(word(modes, i), 'py:') == 1
anypy = strstrt(modes, 'py:') > 0
measured(i) = ispy(i) ? sprintf('%s (asyncio, median)', word(modes, i)[4:]) : \
              sprintf(anypy ? '%s (C, median)' : '%s (measured, median)', word(modes, i))
# The theory is the same for both programs: drawn once, for the C mode.
theory(i) = ispy(i) ? '' : sprintf('%s (theory)', word(modes, i))
# Each mode's colour number (plot.sh gives asyncio's "py:" modes the colour of their C twin);
# those modes draw dotted lines with open points.
colour(i) = int(word(colours, i))
dash(i) = ispy(i) ? 3 : 1
point(i) = ispy(i) ? 6 : 7

# Sizes, in pixels: the wall-time chart, then each panel; the x axis lines up across them.
main_h = 600.0
panel_h = 230.0
height = main_h + npanels * panel_h
fr(px) = px / height

# data holds one block per mode, in the order of modes. Columns: 1 mode, 2 x, 3 runs, 4 median,
# 5 min, 6 max, 7 cpu, 8 peak, 9 theory, then the spreads and the panels' fields (plot.sh finds them).
wall = 'plot for [i=1:n] data index (i-1) using 2:4:5:6 with yerrorlines lw 2 lc colour(i) dt dash(i) pt point(i) ps 0.8 title measured(i), \
             for [i=1:n] data index (i-1) using 2:(ispy(i) ? NaN : $9) with lines dt 2 lw 1.5 lc colour(i) title theory(i)'
# On a log panel, values under its floor (0.1) are drawn on the floor.
fl(v) = (plog && v == v && v < 0.1) ? 0.1 : v
panel = 'plot for [i=1:n] data index (i-1) using 2:(fl(column(pm))):(fl(column(pn))):(fl(column(px))) with yerrorlines lw 2 lc colour(i) dt dash(i) pt point(i) ps 0.6 notitle'
limit = ', lim with lines dt 4 lw 1.5 lc rgb "#aa3333" title limlabel'

# draw: the whole figure, on whichever terminal is set.
draw = "set multiplot; \
  set lmargin 11; set rmargin 4; set tmargin; \
  set size 1, fr(main_h); set origin 0, fr(npanels * panel_h); \
  set title title; set ylabel ylabel; \
  if (logy) { set logscale y 10; set ytics ('0.001' 0.001, '0.002' 0.002, '0.005' 0.005, '0.01' 0.01, '0.02' 0.02, '0.05' 0.05, '0.1' 0.1, '0.2' 0.2, '0.5' 0.5, '1' 1, '2' 2, '5' 5, '10' 10, '20' 20, '50' 50, '100' 100, '200' 200, '500' 500, '1000' 1000) } else { unset logscale y; set ytics autofreq }; \
  set autoscale yfix; set offsets graph 0.03, graph 0.03, graph 0.06, graph 0.06; \
  eval sprintf('set key %s box opaque', key); \
  if (npanels > 0) { unset xlabel; set bmargin 2 } else { set xlabel xlabel; set bmargin 5.5 }; \
  set label 1 note at screen 0.99, screen fr(9) right font ',8' tc rgb '#777777'; \
  eval wall; \
  unset label 1; unset title; unset logscale y; set ytics autofreq; set tmargin 1; \
  do for [p=1:npanels] { \
    set size 1, fr(panel_h); set origin 0, fr((npanels - p) * panel_h); \
    pm = value(sprintf('pmed_%d', p)); pn = value(sprintf('pmin_%d', p)); px = value(sprintf('pmax_%d', p)); \
    lim = value(sprintf('plimit_%d', p)); limlabel = value(sprintf('plimitlabel_%d', p)); ceil = value(sprintf('pceil_%d', p)); \
    set ylabel value(sprintf('plabel_%d', p)); set key top right box opaque font ',9'; \
    set offsets graph 0.03, graph 0.03, graph 0.08, 0; \
    plog = value(sprintf('plog_%d', p)); \
    if (plog) { set logscale y 10; set ytics ('0.1%%' 0.1, '1%%' 1, '10%%' 10, '100%%' 100); set yrange [0.1:250]; set offsets graph 0.03, graph 0.03, 0, 0 } \
    else { unset logscale y; set ytics autofreq; if (ceil == ceil) { eval sprintf('set yrange [0:%g<*]', ceil) } else { set yrange [0:*] } }; \
    if (p == npanels) { set xlabel xlabel; set bmargin 5.5 } else { unset xlabel; set bmargin 1 }; \
    if (lim == lim) { set key; eval panel.limit } else { unset key; eval panel }; \
  }; \
  unset multiplot"

set terminal pngcairo size 960, height font ',10' noenhanced
set output out_png
eval draw
set terminal svg size 960, height dynamic font ',10' noenhanced
set output out_svg
eval draw
set output
