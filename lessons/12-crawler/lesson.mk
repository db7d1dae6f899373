# Lesson 12: only what differs from the defaults (harness/README.md, "lesson.mk").
TITLE       := A crawler
EXERCISE    := links.c crawl.c
GIVEN       := links_base.c crawl_base.c
USES_AIO    := 1
PKGS        := libcurl libxml-2.0
LDWRAP      := aio_yield aio_sleep aio_sleep_until aio_park aio_unpark aio_spawn \
               aio_group_new aio_group_spawn aio_http_get links_extract links_push seen_add crawl_push curl_url \
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
PLOT_LOGY   := 1
PLOT_KEY    := top right
PLOT_CAPTION := A crawl of delayd's 100 pages (3 to 5 links each, 20 ms a page) with K workers. One fetch at a time (seq) takes 100 x 20 ms, whatever K is. K workers over the growing queue (mine) divide that by K while K is small, then flatten: the graph is about 6 levels deep from its start, and a page cannot be fetched before the page that links to it, so no K beats about 6 x 20 ms (the theory line). The panels show the server's peak in flight following K up to the width the graph allows, and the same number of levels in every run.
# make grade's weights: the lesson's point, K workers kept busy on a queue that grows, each page
# once, and the end seen at the right moment.
POINTS      := crawl::k_fetches_at_once=2 crawl::first_links_together=2 \
               crawl::depth_two_of_257_pages=2 crawl::deadline_returns_what_was_found=2
