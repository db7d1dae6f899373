# Lesson 02: only what differs from the defaults (harness/README.md, "lesson.mk"). No server,
# no packages: the loop stands alone on poll().
TITLE       := The event loop
EXERCISE    := loop.c
GIVEN       := loop_base.c
LDWRAP      := poll ppoll epoll_wait realloc
BENCH_MODES := blocking loop
BENCH_ARGS  := --delay 50
RUN_POINT   := 16
PLOT_TITLE  := Lesson 02: N timers of 50 ms, slept one after another vs waited on by one loop
PLOT_XLABEL := timers (N)
PLOT_CAPTION := Sleeping through each timer in turn takes N times 50 ms; one loop waiting on all N timers at once takes 50 ms for any N. The loop line stays flat because the loop sleeps until the earliest deadline instead of spinning.
