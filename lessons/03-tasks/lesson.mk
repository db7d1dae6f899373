# Lesson 03: only what differs from the defaults (harness/README.md, "lesson.mk").
TITLE       := Tasks
EXERCISE    := downloads.c job.c
GIVEN       := sequential.c job_base.c
USES_AIO    := 1
LDWRAP      := aio_yield
BENCH_MODES := await tasks
BENCH_ARGS  := --delay 100
PLOT_TITLE  := Lesson 03: N downloads of 100 ms, awaited one by one vs spawned as tasks
PLOT_XLABEL := downloads (N)
