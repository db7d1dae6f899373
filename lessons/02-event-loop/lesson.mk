# Lesson 02: only what differs from the defaults (harness/README.md, "lesson.mk"). No server,
# no packages: the loop stands alone on poll().
TITLE       := The event loop
EXERCISE    := loop.c
GIVEN       := loop_base.c
LDWRAP      := poll ppoll epoll_wait realloc
BENCH_MODES := blocking loop
BENCH_ARGS  := --delay 50
RUN_POINT   := 16
PLOT_MISTAKES := busy-loop
PLOT_TITLE  := Lesson 02: N timers of 50 ms, slept one after another vs waited on by one loop
PLOT_XLABEL := timers (N)
PLOT_CAPTION := Sleeping through each timer in turn takes N times 50 ms; one loop waiting on all N timers at once takes 50 ms for any N. The loop line stays flat because the loop sleeps until the earliest deadline. The panel under it says how: CPU time as a share of wall time stays near 0% in both modes. A loop that polls with a zero timeout (make lesson-02 bench MISTAKE=busy-loop) draws the same flat wall-time line, and its CPU line at 100%: a core busy the whole time.
