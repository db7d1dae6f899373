# Lesson 06: only what differs from the defaults (harness/README.md, "lesson.mk").
TITLE       := Timeouts
EXERCISE    := batch.c waitfor.c
GIVEN       := batch_base.c waitfor_base.c
USES_AIO    := 1
LDWRAP      := aio_yield aio_sleep aio_sleep_until aio_park aio_unpark aio_spawn aio_join \
               aio_wait_for aio_cancel aio_http_get sleep usleep nanosleep malloc calloc realloc
BENCH_MODES := none batch mine
BENCH_X     := hung
BENCH_POINTS := 0 5 25 50 75 100
BENCH_ARGS  := --n 20 --delay 100 --deadline 500 --hang 2000
RUN_POINT   := 25
SPEEDUP_POINT := 25
PLOT_TITLE  := Lesson 06: 20 requests of 100 ms, a share of them stuck for 2 s; batch deadline 500 ms
PLOT_XLABEL := share of stuck requests (%)
PLOT_LOGX   := 0
PLOT_LOGY   := 0
PLOT_KEY    := center right
PLOT_PANELS := ok open
PLOT_LABEL_ok := answered (of 20)
PLOT_LABEL_open := left open after
PLOT_CAPTION := A batch of 20 requests of 100 ms, some of them stuck for 2 s. Without a deadline (none) the batch lasts as long as its slowest request as soon as one is stuck; with one deadline for the whole batch (batch: aio_wait_for; mine: the student's wf_wait_for) it ends at 500 ms whatever the share, with the finished results intact and nothing left open. The panels under it count both: the requests answered (all 20 without a deadline, 20 minus the stuck ones with one) and what the runtime still held after the batch (tasks, timers, descriptors: 0 in every mode).
