# Lesson 10: only what differs from the defaults (harness/README.md, "lesson.mk").
TITLE       := Locks
EXERCISE    := lock.c cache.c
GIVEN       := lock_base.c cache_base.c
USES_AIO    := 1
LDWRAP      := aio_yield aio_sleep aio_sleep_until aio_park aio_unpark aio_spawn aio_join \
               aio_http_get calloc sleep usleep nanosleep
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
PLOT_CAPTION := N askers of a cache at once, 3 in 4 of them asking for a url another asker asks for too (N/4 distinct urls), 100 ms a fetch. Without a lock (nolock) the cache is as fast as it can be and wrong: every asker that comes while a url's fetch is on its way sees it missing and fetches it again, so the server sees N requests. One lock for the whole cache (global) fetches each url once, one after another: N/4 fetches of 100 ms. A lock for each url (mine, the student's cache_get) fetches each url once and all of them at once: one fetch's time. The panels show why: the requests the server saw (N without a lock, N/4 with either lock) and its peak in flight (N, 1, N/4).
# The lesson's point weighs double: one fetch for a url asked many times, the fetches of
# different urls together, and the job handed on when the fetcher gives up.
POINTS      := cache::thirteen_askers_one_fetch=2 cache::thirty_three_askers_seven_urls=2 \
               cache::fetcher_cancelled_hands_on=2
