# Lesson 13: only what differs from the defaults (harness/README.md, "lesson.mk").
TITLE       := A URL checker
EXERCISE    := window.c check.c
GIVEN       := urlcheck_base.c tool_base.c
USES_AIO    := 1
PKGS        :=
LDWRAP      := aio_yield aio_sleep aio_sleep_until aio_park aio_spawn aio_group_spawn \
               aio_http_get check_new sleep usleep nanosleep
BENCH_MODES := seq c4 c16 c64 slurp
BENCH_X     := n
BENCH_POINTS := 16 64 256 1024
BENCH_ARGS  := --delay 50 --window 32
RUN_POINT   := 64
SPEEDUP_POINT := 64
