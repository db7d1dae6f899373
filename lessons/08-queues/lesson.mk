# Lesson 08: only what differs from the defaults (harness/README.md, "lesson.mk").
TITLE       := Queues
EXERCISE    := queue.c pipeline.c
GIVEN       := queue_base.c pipeline_base.c
USES_AIO    := 1
LDWRAP      := aio_yield aio_sleep aio_sleep_until aio_park aio_unpark aio_spawn \
               aio_group_new aio_group_spawn aio_http_get item_new queue_init queue_put queue_get queue_close \
               sleep usleep nanosleep
BENCH_MODES := unbounded bounded mine
BENCH_X     := n
BENCH_POINTS := 8 16 32 64 128
BENCH_ARGS  := --delay 20 --work 20 --producers 4 --consumers 2 --q 4
RUN_POINT   := 32
SPEEDUP_POINT := 32
PLOT_TITLE  := Lesson 08: N URLs of 20 ms, 4 producers, 2 consumers of 20 ms an item, a queue of 4
PLOT_XLABEL := URLs (N)
PLOT_LOGX   := 1
PLOT_LOGY   := 1
PLOT_KEY    := top left
PLOT_PANELS := held
PLOT_LABEL_held := items held at once
PLOT_LIMIT_held := 10 Q + P + C
# make grade's weights: the back-pressure the lesson is about, and the races of part one that a
# queue passing every plain test can still get wrong.
POINTS      := pipeline::back_pressure=3 queue::get_cancelled_as_it_is_served=2 \
               queue::put_cancelled_as_it_is_served=2 pipeline::caller_cancelled=2
PLOT_CAPTION := N URLs fetched by 4 producers (20 ms each) and processed by 2 consumers (20 ms an item): the consumers are the slower end, so every mode takes about N/2 x 20 ms and the lines lie on one another. The panel shows what the time hides: the items alive at once. With a queue that never says no (unbounded) the producers run ahead and the items pile up, about half of N at the end; with a bound of 4 (bounded, the runtime's semaphores; mine, your queue) the producers wait in put and never more than Q + P + C = 10 items are alive, whatever N is.
