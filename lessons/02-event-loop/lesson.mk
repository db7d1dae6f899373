# Lesson 02 metadata, read by the top Makefile (see harness/README.md). No server, no packages:
# the loop stands alone on poll().
TITLE        := The event loop
EXERCISE     := loop.c
GIVEN        := loop_base.c
MAIN         := main.c
TESTS        := tests/support.c tests/test_timers.c tests/test_fds.c tests/test_run.c
PKGS         :=
LDWRAP       := poll ppoll epoll_wait realloc
RUN_ARGS     := --mode loop --n 16 --delay 50
BENCH_MODES  := blocking loop
BENCH_X      := n
BENCH_POINTS := 1 2 4 8 16 32 64
BENCH_ARGS   := --delay 50
BENCH_REPEAT := 3
SPEEDUP_ARGS := --n 16 --delay 50
PLOT_TITLE   := Lesson 02: N timers of 50 ms, slept one after another vs waited on by one loop
PLOT_XLABEL  := timers (N)
PLOT_YLABEL  := wall time (s)
PLOT_LOGX    := 1
PLOT_LOGY    := 1
