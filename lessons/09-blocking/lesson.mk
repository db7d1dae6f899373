# Lesson 09: only what differs from the defaults (harness/README.md, "lesson.mk").
TITLE       := Blocking pitfalls
EXERCISE    := offload.c item.c
GIVEN       := library.c batch_base.c
PKGS        := libcurl
USES_AIO    := 1
LDWRAP      := digest ledger_write curl_easy_perform sleep usleep nanosleep aio_to_thread \
               aio_http_get aio_sem_acquire aio_sem_release aio_sleep aio_yield aio_park malloc
BENCH_MODES := blocking to_thread-all mine
BENCH_POINTS := 1 2 4 8 16 32
BENCH_ARGS  := --delay 50 --work 10 --write 10
RUN_POINT   := 16
SPEEDUP_POINT := 16
PLOT_TITLE  := Lesson 09: N items, each a GET of 50 ms, a digest of 10 ms of CPU and a blocking write of 10 ms
PLOT_XLABEL := items (N)
PLOT_PANELS := stall_ms cpu
PLOT_LABEL_stall_ms := loop's longest stall (ms)
PLOT_CAPTION := N items, each a GET of 50 ms, a digest of 10 ms of CPU and a ledger write that blocks 10 ms. Written plainly (blocking), every step holds the loop: the items run one after another (70 ms each), and since no task ever gives the loop back, its longest stall, seen by a heartbeat task, is the whole batch. Handing each item to the pool whole (to_thread-all) frees the loop but four threads bound everything: four GETs at a time. mine waits for the GETs on the loop (all at once), runs the digests on threads as many at once as the cores and the writes on threads: 50 ms plus the digests' CPU shared by the cores, with a stall of a few ms. The CPU panel shows the digests using both cores.
POINTS      := item::thirteen_items_every_step_in_its_place=2 \
               item::cancelled_while_its_digest_runs=2 \
               digest::cancelled_while_queued_for_a_thread=2 \
               item::debug_mode_reports_no_task_holding_the_loop=2
