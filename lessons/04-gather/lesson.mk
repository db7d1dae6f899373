# Lesson 04: only what differs from the defaults (harness/README.md, "lesson.mk").
TITLE       := Gather
EXERCISE    := gather.c done_queue.c
GIVEN       := gather_base.c done_queue_base.c
USES_AIO    := 1
LDWRAP      := aio_yield aio_sleep aio_sleep_until aio_park aio_unpark aio_spawn aio_join \
               aio_http_get malloc calloc realloc sleep usleep nanosleep
BENCH_MODES := all first mine
BENCH_POINTS := 1 2 4 8 16 32
BENCH_ARGS  := --delay 1000
RUN_POINT   := 8
SPEEDUP_POINT := 16
PLOT_TITLE  := Lesson 04: N mirrors of one answer, each answering after 1 to 2 s (a fixed draw)
PLOT_XLABEL := mirrors asked at once (N)
PLOT_YLABEL := time to the answer (s)
PLOT_LOGY   := 0
PLOT_KEY    := center right
PLOT_PANELS := left
PLOT_LABEL_left := still served after the answer
PLOT_CAPTION := N mirrors of one answer, each after 1 to 2 s. Waiting for all of them (all, gather) takes the slowest mirror's time, which grows with N; keeping the first answer and cancelling the rest (first with aio_join_any, mine with the student's done queue) takes the fastest mirror's time, which falls with N. The panel under it counts the requests the server was still serving 50 ms after the answer: 0 in every mode, because first and mine cancel the losers; an answer that leaves them running (make lesson-04 bench MISTAKE=losers-running) draws N - 1 there.
