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
PLOT_TITLE  := Lesson 11: N callers, 4 calls each, 20 ms apart, against a server that is down (503)
PLOT_XLABEL := callers (N)
PLOT_LOGY   := 0
PLOT_PANELS := sent fast
PLOT_LABEL_sent := requests the server saw
PLOT_LABEL_fast := calls refused at once
PLOT_CAPTION := N callers make 4 calls each, 20 ms apart, to a server that answers every request with 503. One GET a call (once) sends 4N requests and is over in the 60 ms of gaps. Retries (retry: 4 attempts, pauses drawn below 10, 20, 40 ms) multiply the load on the sick server by the attempts, 16N requests, and add the pauses to every call. A circuit breaker shared by the callers (breaker: 5 failures in a row open it for 100 ms) lets the first wave through, N requests all in flight before any failure is back, then refuses the other 3N calls at once without sending anything: the server's load falls to N, and the calls fail as fast as the server could fail them.
# The lesson's point weighs double: the pauses predicted exactly, nothing past the deadline, one
# probe among many callers, and an outcome judged only by the state its call began in.
POINTS      := retry::flaky_series=2 retry::no_pause_past_the_deadline=2 breaker::one_probe=2 \
               breaker::stale_success_does_not_close=2 breaker::stale_failure_does_not_count=2
