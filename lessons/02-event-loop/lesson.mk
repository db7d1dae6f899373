# Lesson 02: only what differs from the defaults (harness/README.md, "lesson.mk"). No server,
# no packages: the loop stands alone on poll().
TITLE       := The event loop
EXERCISE    := loop.c
LDWRAP      := poll epoll_wait
BENCH_MODES := blocking loop
BENCH_ARGS  := --delay 50
RUN_POINT   := 16
PLOT_TITLE  := Lesson 02: N timers of 50 ms, slept one after another vs waited on by one loop
PLOT_XLABEL := timers (N)
