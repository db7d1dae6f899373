# Lesson 13: only what differs from the defaults (harness/README.md, "lesson.mk").
TITLE       := A URL checker
EXERCISE    := window.c check.c
GIVEN       := urlcheck_base.c tool_base.c
USES_AIO    := 1
LDWRAP      := aio_yield aio_sleep aio_sleep_until aio_park aio_spawn aio_group_new aio_group_spawn \
               aio_http_get check_new sleep usleep nanosleep
BENCH_MODES := seq c4 c16 c64 slurp
BENCH_X     := n
BENCH_POINTS := 16 64 256 1024
BENCH_ARGS  := --delay 20 --window 128
RUN_POINT   := 64
SPEEDUP_POINT := 64
TIMELINE_ARGS := --n 24 --delay 50 --window 8
PLOT_TITLE  := Lesson 13: N URLs of 4 to 20 ms, C checks in flight, a window of 128 lines
PLOT_XLABEL := URLs (N)
PLOT_LOGX   := 1
PLOT_LOGY   := 1
PLOT_KEY    := top left
PLOT_PANELS := held
PLOT_LABEL_held := lines held at once
PLOT_LIMIT_held := 128 the window W
# make grade's weights: the capstone's three promises (written as soon as known, memory bounded
# whatever the input, nothing left after Ctrl-C).
POINTS      := check::writes_as_soon_as_known=2 check::a_thousand_lines_in_a_small_window=2 \
               check::cancel_with_checks_in_flight=2
PLOT_CAPTION := N distinct URLs answering in 4 to 20 ms (12 on average), checked and written in input order through a window of 128 lines. One at a time (seq) costs the sum, N x 12 ms; C workers divide it by about C (c4, c16, c64), down to what the server and the slowest line at the head of the window allow. Reading everything first (slurp, C = 64) is no faster than c64. The panel shows what the time hides: the lines held at once (read, not yet written). With the window they stop at 128 whatever N is; slurp holds all N.
