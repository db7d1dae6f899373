# benchmark.gp: one panel per benchmark, aio and each peer (asyncio, go, node) as bars on a
# log scale, the goal as a dashed line. For HTTP three floors follow: curl_multi and
# curl_socket (libcurl's two loops, no runtime) and epoll_raw (no library). run.sh passes, with -e:
#   csv, png, svg                    the data (benchmark,implementation,value,unit) and outputs
#   subtitle                         date, commit and load, under the title
#   names, units, goals, betters     word lists, one word per panel, in the same order
#   micro_impls, http_impls          the bars of the other panels and of the HTTP ones, in order

set datafile separator ","
set datafile commentschars "#"

n = words(names)
cols = n < 3 ? n : 3
rows = (n + cols - 1) / cols

# Bar position of implementation s in the word list l (0, 1, ...), NaN when it is not there
# (the CSV's column-name row, an implementation this panel does not draw); and its colour.
impl_at(l, s) = strstrt(" ".l." ", " ".s." ") > 0 ? words((" ".l." ")[1:strstrt(" ".l." ", " ".s." ")]) : NaN
impl_rgb(s) = s eq "aio" ? 0x1b7837 : s eq "asyncio" ? 0x3465a4 : s eq "go" ? 0x00a3cc : \
              s eq "node" ? 0xe08214 : s eq "curl_multi" ? 0x999999 : \
              s eq "curl_socket" ? 0xb3b3b3 : 0xcccccc
# The value of this row if it belongs to panel bm, else NaN (gnuplot skips the point).
pick(bm) = strcol(1) eq bm ? column(3) : NaN
# A label like "14.2 ns" or "3.52 us" for a bar.
nice(v, u) = u eq "ns" && v >= 1000 ? sprintf("%.3g us", v / 1000) : \
             u eq "req/s" && v >= 1000 ? sprintf("%.3gk %s", v / 1000, u) : \
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
        "aio runtime vs its peers: Python asyncio/aiohttp, Go, Node.js (log scale; dashed: the goal for aio;\n".\
        "each title: aio against the best peer on that row)\n".subtitle noenhanced
    do for [i = 1:n] {
        bm = word(names, i)
        u = word(units, i)
        goal = word(goals, i) + 0
        http = bm[1:5] eq "http_"
        set ylabel u
        impls = http ? http_impls : micro_impls
        # Seven bars in an HTTP panel: smaller, slanted names and smaller value labels.
        tics_font = http ? ",8" : ",10"
        label_font = http ? ",7" : ",9"
        if (http) { set xtics () noenhanced font tics_font rotate by 20 right } \
        else { set xtics () noenhanced font tics_font norotate autojustify }
        do for [j = 1:words(impls)] {
            set xtics add (word(impls, j) j - 1)
        }
        # Leave room above the tallest bar for its label; the range always includes the goal.
        # (stats reads one column as x values, so the x range must be free while it runs.)
        set xrange [*:*]
        set yrange [*:*]
        stats csv using (pick(bm)) nooutput
        lo = (STATS_min < goal ? STATS_min : goal) / 3
        hi = (STATS_max > goal ? STATS_max : goal) * 4
        # The title says by how much aio wins (or loses) against the best peer, as the table does.
        better = word(betters, i)
        # A stats that finds no point (a failed implementation) leaves STATS_max undefined:
        # it is undefined before each one, so a missing peer is not read as the previous one.
        undefine STATS_*
        stats csv using (pick_impl(bm, "aio")) nooutput
        a = exists("STATS_max") ? STATS_max : NaN
        r = NaN
        best = ""
        do for [peer in "asyncio go node"] {
            undefine STATS_*
            stats csv using (pick_impl(bm, peer)) nooutput
            if (exists("STATS_max")) {
                rp = better eq "lower" ? STATS_max / a : a / STATS_max
                if (rp == rp && (best eq "" || rp < r)) {
                    r = rp
                    best = peer
                }
            }
        }
        verdict = r != r ? "no aio or peer result" : \
                  r >= 1 ? sprintf("aio %.3gx ahead of %s", r, best) : \
                  sprintf("aio %.3gx BEHIND %s", 1 / r, best)
        set title sprintf("%s (%s is better): %s", bm, better, verdict) noenhanced
        set xrange [-0.6:words(impls) - 0.4]
        set yrange [lo:hi]
        plot csv using (impl_at(impls, strcol(2))):(pick(bm)):(impl_rgb(strcol(2))) \
                 with boxes lc rgb variable notitle, \
             csv using (impl_at(impls, strcol(2))):(pick(bm)):(nice(pick(bm), u)) \
                 with labels offset 0, 0.8 font label_font notitle, \
             goal with lines dt 2 lw 1.5 lc rgb "#b2182b" title sprintf("goal %g %s", goal, u)
    }
    unset multiplot
    set output
}
