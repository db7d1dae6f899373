# Lesson 01 metadata, read by the top Makefile (see harness/README.md).
TITLE        := Sync vs async
EXERCISE     := fetch.c
GIVEN        := body.c
MAIN         := main.c
TESTS        := tests/test_fetch.c
PKGS         := libcurl
LDWRAP       := curl_easy_init curl_easy_cleanup curl_multi_init curl_multi_cleanup \
                curl_multi_add_handle curl_multi_remove_handle curl_multi_perform \
                curl_multi_socket_action curl_multi_poll curl_multi_wait \
                sleep usleep nanosleep clock_nanosleep
RUN_ARGS     := --mode conc --n 10 --delay 200
BENCH_MODES  := seq conc
BENCH_X      := n
BENCH_POINTS := 1 2 4 8 16 32 64
BENCH_ARGS   := --delay 200
BENCH_REPEAT := 3
SPEEDUP_ARGS := --n 16 --delay 200
PLOT_TITLE   := Lesson 01: N requests of 200 ms, one after another vs all at once
PLOT_XLABEL  := requests (N)
PLOT_YLABEL  := wall time (s)
PLOT_LOGX    := 1
PLOT_LOGY    := 1
