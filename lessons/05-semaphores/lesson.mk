# Lesson 05: only what differs from the defaults (harness/README.md, "lesson.mk").
TITLE       := Semaphores
EXERCISE    := capped.c sema.c
GIVEN       := fetch_base.c sema_base.c
USES_AIO    := 1
LDWRAP      := aio_yield aio_sleep aio_sleep_until aio_park aio_unpark aio_spawn aio_join \
               aio_http_get aio_sem_init aio_sem_acquire aio_sem_try_acquire aio_sem_release \
               malloc calloc realloc sleep usleep nanosleep
BENCH_MODES := unbounded sem mine curl
BENCH_X     := k
BENCH_POINTS := 1 2 3 4 5
BENCH_ARGS  := --n 13 --delay 100
RUN_POINT   := 5
SPEEDUP_POINT := 5
PLOT_TITLE  := Lesson 05: 13 requests of 100 ms to /limited (server limit 5), at most K in flight
PLOT_XLABEL := cap in flight (K)
PLOT_LOGX   := 0
PLOT_LOGY   := 0
PLOT_KEY    := top right
PLOT_PANELS := peak s429
PLOT_LIMIT_peak := 5 the server's limit
PLOT_LABEL_s429 := refused with 429
PLOT_CAPTION := 13 requests against a server that answers 429 above 5 in flight. Unbounded is fastest and collects 429s (its peak is over the limit); capped at K, the batch takes ceil(13/K) delays and gets no 429 at all: the runtime's semaphore (sem), the student's own (mine) and libcurl's connection cap (curl) follow the same staircase. The panels under it show why: the server's peak in flight (unbounded goes over the limit of 5, each capped mode stays at K) and the requests it refused with 429 (8 for unbounded, 0 for every capped mode).
# make grade's performance component (harness/course/GRADING.md): 13 requests of 100 ms through
# the student's own semaphore at K = 5, never more than the server's limit of 5 in flight (a
# 429 is a request not answered 200); the reference takes 3 delays. Full marks up to 1.1 times
# its time, none from 2.5 (K = 2 takes 7 delays, one at a time 13).
PERF_POINTS := 3
PERF_ARGS   := --mode mine --k 5 --n 13 --delay 100
PERF_PEAK   := 1 5
PERF_ZERO   := 2.5
PERF_ZERO_WHY := the pace of two requests in flight, not five; one at a time takes 4.3
