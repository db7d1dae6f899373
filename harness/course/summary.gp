# The gallery's summary chart (harness/course/gallery.sh): for each lesson, its last mode's
# speedup over its first at the largest point measured, beside the theory's. Variables: in (the
# summary CSV: lesson,title,x,first_mode,last_mode,first_s,last_s,speedup,ideal,asyncio_speedup),
# out_png, out_svg.
set datafile separator ','
set title "Each lesson: the last mode against the first, measured and in theory"
set ylabel 'times faster (log scale)'
set logscale y 10
set yrange [0.1:*]
set ytics ("0.1" 0.1, "0.2" 0.2, "0.5" 0.5, "1" 1, "2" 2, "5" 5, "10" 10, "20" 20, "50" 50, "100" 100, "200" 200)
# Bars rise or fall from 1 (as fast as the first mode), so a lesson slower on purpose points down.
set style fill solid 0.8 border -1
set key top right box opaque
set grid ytics lc rgb '#dddddd'
set xtics noenhanced
set xrange [-0.6:*]
set offsets 0, 0.6, 0, 0
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lc rgb '#444444'
label(a, b, c) = sprintf('%s: %s vs %s', a, b, c)
# Three bars a lesson where its asyncio program ran too (column 10 a number): C, asyncio, theory.
set datafile missing 'nan'
# (py: 1 when gallery.sh saw an asyncio ratio.)
if (!exists('py')) py = 0
chart = py ? \
  "plot in skip 1 using ($0 - 0.27):8:($0 - 0.39):($0 - 0.14):(1):8 with boxxyerror title 'C (medians)' lc rgb '#3366cc', \
        in skip 1 using ($0):10:($0 - 0.12):($0 + 0.12):(1):10 with boxxyerror title 'asyncio (medians)' lc rgb '#ee9933', \
        in skip 1 using ($0 + 0.27):9:($0 + 0.14):($0 + 0.39):(1):9 with boxxyerror title 'theory' lc rgb '#aaaaaa', \
        in skip 1 using 0:(NaN):xtic(label(stringcolumn(1), stringcolumn(5), stringcolumn(4))) notitle" : \
  "plot in skip 1 using ($0 - 0.2):8:($0 - 0.39):($0 - 0.01):(1):8 with boxxyerror title 'measured (medians)' lc rgb '#3366cc', \
              in skip 1 using ($0 + 0.2):9:($0 + 0.01):($0 + 0.39):(1):9 with boxxyerror title 'theory' lc rgb '#aaaaaa', \
              in skip 1 using 0:(NaN):xtic(label(stringcolumn(1), stringcolumn(5), stringcolumn(4))) notitle"
set terminal pngcairo size 960,540 font ',10' noenhanced
set output out_png
eval chart
set terminal svg size 960,540 dynamic font ',10' noenhanced
set output out_svg
eval chart
set output
