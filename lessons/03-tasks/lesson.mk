# Lesson 03: only what differs from the defaults (harness/README.md, "lesson.mk").
TITLE       := Tasks
EXERCISE    := downloads.c job.c
GIVEN       := sequential.c job_base.c
USES_AIO    := 1
LDWRAP      := aio_yield aio_sleep aio_sleep_until aio_park aio_spawn download_one \
               malloc calloc realloc sleep usleep nanosleep clock_nanosleep
BENCH_MODES := await tasks jobs
BENCH_ARGS  := --delay 100
RUN_ARGS    := --mode tasks --n 10 --delay 100
PLOT_MISTAKES := busy-join
PLOT_TITLE  := Lesson 03: N downloads of 100 ms, awaited one by one vs spawned as tasks (part one) vs joined with job_join (part two)
PLOT_XLABEL := downloads (N)
PLOT_CAPTION := Awaiting each download before starting the next costs N times 100 ms; spawning every download as a task first and joining them after costs one delay. Same code inside each task, only the moment of the join moved. The jobs line is part two: the same tasks joined through the student's job_join, built on park and unpark; it lies on the tasks line. The panel under it is CPU time as a share of wall time: a join that sleeps stays near 0%, one that polls with aio_yield (make lesson-03 bench MISTAKE=busy-join) climbs towards 100%.
