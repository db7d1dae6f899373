# A lesson's timeline: one Gantt panel per mode, stacked, on one time axis. Variables from
# timeline.sh: data (segments.dat), panels (panels.gp), out_png, out_svg, title.
# segments.dat holds one block per mode (index i-1), lines "start_s end_s lane colour state";
# panels.gp sets npanels, span, and per panel lanesI, ticsI (a `set ytics` command), titleI.

load panels
set style fill solid 1.0 noborder
set grid xtics lc rgb '#e8e8e8'
set key off

# Panel heights follow their lane counts, so a lane is as tall in every panel.
lanes(i) = value(sprintf('lanes%d', i))
total = 0
do for [i=1:npanels] { total = total + lanes(i) + 3 }
total = total + 2                    # the last panel's axis label
px = 16 * total + 120
px = (px < 300 ? 300 : px)

bar = 0.38
draw(i) = sprintf("plot data index %d using (($1+$2)/2):3:1:2:($3-bar):($3+bar):4 with boxxyerror fc rgb variable", i - 1)

do for [out=1:2] {
  if (out == 1) {
    set terminal pngcairo size 1000, px font ',10' noenhanced
    set output out_png
  } else {
    set terminal svg size 1000, px font 'sans,10' noenhanced
    set output out_svg
  }
  set multiplot title title font ',12'
  set border
  set tics
  set tics scale 0
  set ytics nomirror font ',8'
  set xrange [0:span * 1.02]
  set lmargin 16
  set rmargin 3
  top = 1.0 - 40.0 / px
  usable = top - 70.0 / px
  do for [i=1:npanels] {
    h = usable * (lanes(i) + 3 + (i == npanels ? 2 : 0)) / total
    set origin 0, top - h
    set size 1, h
    top = top - h
    eval value(sprintf('tics%d', i))
    set yrange [lanes(i) + 0.7 : 0.3]
    set title value(sprintf('title%d', i)) font ',10' offset 0, -0.6
    if (i == npanels) { set xlabel 'seconds from the first event of each run'; set format x '%g' } \
    else { unset xlabel; set format x '' }
    set tmargin 1.6
    set bmargin (i == npanels ? 2.5 : 0.6)
    eval draw(i)
  }
  # The legend: a row of coloured words under the panels.
  unset title
  set origin 0, 0
  set size 1, 40.0 / px
  unset border
  unset tics
  unset xlabel
  set xrange [0:1]
  set yrange [0:1]
  set lmargin 0
  set rmargin 0
  set tmargin 0
  set bmargin 0
  set label 1 'running' at 0.01, 0.5 tc rgb '#d62728' font ',9'
  set label 2 'ready (queued)' at 0.08, 0.5 tc rgb '#cc9900' font ',9'
  set label 3 'waiting: I/O' at 0.19, 0.5 tc rgb '#1f77b4' font ',9'
  set label 4 'waiting: timer' at 0.29, 0.5 tc rgb '#6baed6' font ',9'
  set label 5 'waiting: task, lock' at 0.40, 0.5 tc rgb '#807dba' font ',9'
  set label 6 'loop idle' at 0.54, 0.5 tc rgb '#7f7f7f' font ',9'
  set label 7 'server: in flight (its clock)' at 0.62, 0.5 tc rgb '#2ca02c' font ',9'
  set label 8 'cut, no answer' at 0.85, 0.5 tc rgb '#5cb85c' font ',9'
  plot 2 notitle
  unset label
  unset multiplot
  unset output
}
