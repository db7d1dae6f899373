# Lesson 07: only what differs from the defaults (harness/README.md, "lesson.mk").
TITLE       := Cancellation
EXERCISE    := job.c hedge.c
GIVEN       := pool_base.c
USES_AIO    := 1
LDWRAP      := aio_yield aio_sleep aio_sleep_until aio_park aio_spawn aio_join aio_join_any \
               aio_wait_for aio_cancel aio_http_get aio_http_new aio_http_free \
               aio_sem_acquire aio_sem_release sleep usleep nanosleep
BENCH_MODES := none wait-all mine
BENCH_X     := slow
BENCH_POINTS := 0 25 50 75 100
BENCH_ARGS  := --n 8 --delay 100 --slow-ms 1000 --hedge 50
RUN_POINT   := 50
SPEEDUP_POINT := 50
PLOT_TITLE  := Lesson 07: 8 mirrors of 100 ms, the first share of them slow (1 s); a hedge every 50 ms
PLOT_XLABEL := share of slow mirrors, first in line (%)
PLOT_LOGX   := 0
PLOT_LOGY   := 0
PLOT_KEY    := top left
PLOT_PANELS := cancelled open
PLOT_LABEL_cancelled := mirrors cancelled
PLOT_LABEL_open := left held after
PLOT_CAPTION := One answer asked of 8 mirrors, the first share of them slow (1 s), the rest answering in 100 ms; a new mirror is asked every 50 ms until one answers. Asking only the first mirror (none) takes 1 s as soon as it is slow; hedging without cancelling (wait-all) finds the fast mirror as soon but still waits for every slow mirror it asked, 1 s too; hedging and cancelling the rest (mine, the student's hedged_get) returns 50 ms later a slow mirror, and at 100% takes the slow mirror's time like the others. The panels count the mirrors cancelled (only mine cancels, the slow ones it asked) and what was still held after the call: tasks, timers, descriptors, transfers, connections and permits (0 in every mode: the cancelled jobs gave everything back).
