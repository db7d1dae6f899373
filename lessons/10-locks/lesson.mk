# Lesson 10: only what differs from the defaults (harness/README.md, "lesson.mk").
TITLE       := Locks
EXERCISE    := lock.c cache.c
GIVEN       := lock_base.c cache_base.c
USES_AIO    := 1
LDWRAP      := aio_yield aio_sleep aio_sleep_until aio_park aio_unpark aio_spawn aio_join \
               aio_http_get sleep usleep nanosleep
BENCH_MODES := global nolock mine
BENCH_X     := n
BENCH_POINTS := 4 8 16 32 64
BENCH_ARGS  := --repeat 75 --delay 100
RUN_POINT   := 16
SPEEDUP_POINT := 32
PLOT_TITLE  := Lesson 10: N askers of a cache, 3 in 4 asking for a url another asks for too; 100 ms a fetch
PLOT_XLABEL := askers (N)
PLOT_LOGY   := 0
PLOT_PANELS := requests peak
PLOT_LABEL_requests := requests the server saw
PLOT_LABEL_peak := peak in flight
