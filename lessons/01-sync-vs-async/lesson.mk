# Lesson 01: only what differs from the defaults (harness/README.md, "lesson.mk").
TITLE       := Sync vs async
EXERCISE    := fetch.c
GIVEN       := body.c
PKGS        := libcurl
LDWRAP      := curl_easy_init curl_easy_cleanup curl_multi_init curl_multi_cleanup \
               curl_multi_add_handle curl_multi_remove_handle curl_multi_perform \
               curl_multi_socket_action curl_multi_poll curl_multi_wait \
               sleep usleep nanosleep clock_nanosleep
BENCH_MODES := seq conc
BENCH_ARGS  := --delay 200
PLOT_TITLE  := Lesson 01: N requests of 200 ms, one after another vs all at once
PLOT_XLABEL := requests (N)
PLOT_CAPTION := One after another, N requests take N times 200 ms: the seq line climbs with N. All at once they take about one request's time, whatever N: the conc line stays flat near 0.2 s. The gap between the lines is the time spent waiting in a row. The panel under it is the CPU time as a share of the wall time: both modes stay near 0%, because waiting on the network costs nothing; a loop that spins instead of waiting (make lesson-01 bench MISTAKE=spin) draws its conc line near 100%.
# make grade's performance component (harness/course/GRADING.md): 8 requests of 200 ms all at
# once, the server's peak 8; timed from the first request to the program's exit against the
# reference's. Full marks up to 1.1 times its time, none from 4 (one after another takes 8).
PERF_POINTS := 3
PERF_ARGS   := --mode conc --n 8 --delay 200
PERF_PEAK   := 8
PERF_ZERO   := 4
PERF_ZERO_WHY := four delays for a batch that takes one; one request after another takes eight
