# A lesson's chart: median wall time of each mode against the swept parameter, min-max bars,
# and the theory as a dashed line in the same colour. Variables come from plot.sh:
# data, modes, out_png, out_svg, title, xlabel, ylabel, logx, logy, key, note.

set datafile separator ','
set title title
set xlabel xlabel
set ylabel ylabel
eval sprintf('set key %s box opaque', key)   # where the lines are not: PLOT_KEY
set grid xtics ytics mytics lc rgb '#dddddd'
if (logx) set logscale x 2
if (logy) set logscale y 10
# On a log axis, label 1-2-5 steps: with decades alone a flat line at 0.2 s has no label near it.
if (logy) set ytics ("0.001" 0.001, "0.002" 0.002, "0.005" 0.005, "0.01" 0.01, "0.02" 0.02, "0.05" 0.05, \
    "0.1" 0.1, "0.2" 0.2, "0.5" 0.5, "1" 1, "2" 2, "5" 5, "10" 10, "20" 20, "50" 50, "100" 100, \
    "200" 200, "500" 500, "1000" 1000)
set bmargin 5
set label 1 note at screen 0.99, screen 0.02 right font ',8' tc rgb '#777777'
set autoscale yfix   # the data's own range, padded by the offsets below (not rounded out to decades)
set offsets graph 0.03, graph 0.03, graph 0.06, graph 0.06

n = words(modes)
measured(i) = sprintf('%s (measured, median)', word(modes, i))
theory(i) = sprintf('%s (theory)', word(modes, i))

# data holds one block per mode, in the order of modes. Columns: 1 mode, 2 x, 3 runs, 4 median, 5 min, 6 max, 7 cpu, 8 peak, 9 theory.
chart = 'plot for [i=1:n] data index (i-1) using 2:4:5:6 with yerrorlines lw 2 pt 7 ps 0.8 lc i title measured(i), \
              for [i=1:n] data index (i-1) using 2:9 with lines dt 2 lw 1.5 lc i title theory(i)'

set terminal pngcairo size 960,600 font ',10' noenhanced
set output out_png
eval chart
set terminal svg size 960,600 dynamic font ',10' noenhanced
set output out_svg
eval chart
set output
