# A lesson's chart: median wall time of each mode against the swept parameter, min-max bars,
# and the theory as a dashed line in the same colour. Variables come from plot.sh:
# data, modes, out_png, out_svg, title, xlabel, ylabel, logx, logy, note.

set datafile separator ','
set title title
set xlabel xlabel
set ylabel ylabel
set key top left box opaque
set grid xtics ytics mytics lc rgb '#dddddd'
if (logx) set logscale x 2
if (logy) set logscale y 10
set label 1 note at screen 0.99, screen 0.015 right font ',8' tc rgb '#777777'
set offsets graph 0.03, graph 0.03, 0, 0

n = words(modes)
measured(i) = sprintf('%s (measured, median)', word(modes, i))
theory(i) = sprintf('%s (theory)', word(modes, i))
is(i) = word(modes, i)

# Columns: 1 mode, 2 x, 3 runs, 4 median, 5 min, 6 max, 7 cpu, 8 peak, 9 theory.
chart = 'plot for [i=1:n] data using 2:(strcol(1) eq is(i) ? $4 : NaN):5:6 with yerrorlines lw 2 pt 7 ps 0.8 lc i title measured(i), \
              for [i=1:n] data using 2:(strcol(1) eq is(i) ? $9 : NaN) with lines dt 2 lw 1.5 lc i title theory(i)'

set terminal pngcairo size 960,600 font ',10'
set output out_png
eval chart
set terminal svg size 960,600 dynamic font ',10'
set output out_svg
eval chart
set output
