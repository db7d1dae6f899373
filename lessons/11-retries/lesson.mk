# Lesson 11: only what differs from the defaults (harness/README.md, "lesson.mk").
TITLE       := Retries and circuit breakers
EXERCISE    := retry.c breaker.c
GIVEN       := retry_base.c breaker_base.c
USES_AIO    := 1
LDWRAP      := aio_sleep aio_sleep_until aio_yield aio_park aio_http_get retry_draw \
               sleep usleep nanosleep
BENCH_MODES := once retry breaker
BENCH_X     := n
BENCH_POINTS := 4 8 16 32 64
BENCH_ARGS  := --calls 4 --gap 20 --attempts 4 --threshold 5 --cooldown 100
RUN_POINT   := 16
SPEEDUP_POINT := 16
