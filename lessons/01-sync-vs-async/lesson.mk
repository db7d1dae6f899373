# Lesson 01: only what differs from the defaults (harness/README.md, "lesson.mk").
TITLE       := Sync vs async
EXERCISE    := fetch.c
GIVEN       := body.c
PKGS        := libcurl
LDWRAP      := curl_easy_init curl_easy_cleanup curl_multi_add_handle curl_multi_remove_handle \
               curl_multi_perform curl_multi_poll curl_multi_wait
BENCH_MODES := seq conc
BENCH_ARGS  := --delay 200
PLOT_TITLE  := Lesson 01: N requests of 200 ms, one after another vs all at once
PLOT_XLABEL := requests (N)
