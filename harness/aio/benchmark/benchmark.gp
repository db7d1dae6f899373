# benchmark.gp: one panel per benchmark, aio vs asyncio as bars on a
# log scale, the goal as a dashed line. For HTTP two floors follow: curl_multi (libcurl, no
# runtime) and epoll_raw (no library). run.sh passes, with -e:
#   csv, png, svg                    the data (benchmark,implementation,value,unit) and outputs
#   subtitle                         date, commit and load, under the title
#   names, units, goals, betters     word lists, one word per panel, in the same order

set datafile separator ","
set datafile commentschars "#"

n = words(names)
cols = n < 3 ? n : 3
rows = (n + cols - 1) / cols

# Bar position and colour of each implementation; the CSV's column-name row maps to NaN.
impl_x(s) = s eq "aio" ? 0 : s eq "asyncio" ? 1 : s eq "curl_multi" ? 2 : s eq "epoll_raw" ? 3 : NaN
impl_rgb(s) = s eq "aio" ? 0x1b7837 : s eq "asyncio" ? 0x3465a4 : s eq "curl_multi" ? 0x999999 : 0xcccccc
# The value of this row if it belongs to panel bm, else NaN (gnuplot skips the point).
pick(bm) = strcol(1) eq bm ? column(3) : NaN
# A label like "14.2 ns" or "3.52 us" for a bar.
nice(v, u) = u eq "ns" && v >= 1000 ? sprintf("%.3g us", v / 1000) : \
             v >= 100 ? sprintf("%.0f %s", v, u) : sprintf("%.3g %s", v, u)
# The value of implementation impl in panel bm, else NaN.
pick_impl(bm, impl) = strcol(1) eq bm && strcol(2) eq impl ? column(3) : NaN

set style fill solid 0.85 border -1
set boxwidth 0.6
set logscale y
set grid ytics mytics lc rgb "#dddddd"
set key top right font ",9"
set xtics nomirror scale 0
set format y "%g"

do for [out = 1:2] {
    if (out == 1) {
        set terminal pngcairo size 1500, 320 * rows + 60 font "sans,10"
        set output png
    } else {
        set terminal svg size 1500, 320 * rows + 60 font "sans,10" dynamic
        set output svg
    }
    set multiplot layout rows, cols title \
        "aio runtime vs Python asyncio/aiohttp (log scale; dashed: the goal for aio)\n".subtitle noenhanced
    do for [i = 1:n] {
        bm = word(names, i)
        u = word(units, i)
        goal = word(goals, i) + 0
        http = bm[1:5] eq "http_"
        set ylabel u
        if (http) {
            set xtics ("aio" 0, "asyncio" 1, "curl\\_multi" 2, "epoll\\_raw" 3)
        } else {
            set xtics ("aio" 0, "asyncio" 1)
        }
        # Leave room above the tallest bar for its label; the range always includes the goal.
        # (stats reads one column as x values, so the x range must be free while it runs.)
        set xrange [*:*]
        set yrange [*:*]
        stats csv using (pick(bm)) nooutput
        lo = (STATS_min < goal ? STATS_min : goal) / 3
        hi = (STATS_max > goal ? STATS_max : goal) * 4
        # The title says by how much aio wins (or loses), as the table does.
        better = word(betters, i)
        # A stats that finds no point (a failed implementation) leaves STATS_max undefined.
        stats csv using (pick_impl(bm, "aio")) nooutput
        a = exists("STATS_max") ? STATS_max : NaN
        stats csv using (pick_impl(bm, "asyncio")) nooutput
        p = exists("STATS_max") ? STATS_max : NaN
        r = better eq "lower" ? p / a : a / p
        verdict = r != r ? "no aio or asyncio result" : \
                  r >= 1 ? sprintf("aio %.3gx ahead", r) : sprintf("aio %.3gx behind", 1 / r)
        set title sprintf("%s (%s is better): %s", bm, better, verdict) noenhanced
        set xrange [-0.6:(http ? 3.6 : 1.6)]
        set yrange [lo:hi]
        plot csv using (impl_x(strcol(2))):(pick(bm)):(impl_rgb(strcol(2))) \
                 with boxes lc rgb variable notitle, \
             csv using (impl_x(strcol(2))):(pick(bm)):(nice(pick(bm), u)) \
                 with labels offset 0, 0.8 font ",9" notitle, \
             goal with lines dt 2 lw 1.5 lc rgb "#b2182b" title sprintf("goal %g %s", goal, u)
    }
    unset multiplot
    set output
}
