# Lesson 12: only what differs from the defaults (harness/README.md, "lesson.mk").
TITLE       := A crawler
EXERCISE    := links.c crawl.c
GIVEN       := links_base.c crawl_base.c
USES_AIO    := 1
PKGS        := libcurl libxml-2.0
LDWRAP      := aio_yield aio_sleep aio_sleep_until aio_park aio_unpark aio_spawn \
               aio_group_spawn aio_http_get links_extract seen_add crawl_push \
               sleep usleep nanosleep
BENCH_MODES := seq mine
BENCH_X     := k
BENCH_POINTS := 1 2 4 8 16 32 64
BENCH_ARGS  := --n 100 --delay 20
RUN_POINT   := 8
SPEEDUP_POINT := 16
PLOT_TITLE  := Lesson 12: a crawl of 100 pages of 20 ms (3 to 5 links each), K workers
PLOT_XLABEL := workers (K)
PLOT_PANELS := peak levels
PLOT_LABEL_levels := levels (depth + 1)
