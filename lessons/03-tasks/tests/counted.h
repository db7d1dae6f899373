/* Lesson 03 tests: the aio calls the test binary counts (lesson.mk's LDWRAP), shared by both
 * test files. Test code that must not be counted calls the __real_ versions. */
#ifndef LESSON03_COUNTED_H
#define LESSON03_COUNTED_H

#include "aio.h"

/* Calls to each since the test last zeroed them (counted.c). */
extern long kit_calls_aio_yield, kit_calls_aio_sleep, kit_calls_aio_sleep_until, kit_calls_aio_park;

int __real_aio_yield(void);
int __real_aio_sleep(int64_t ms);
int __real_aio_sleep_until(int64_t deadline);
int __real_aio_park(int64_t deadline);
aio_task *__real_aio_spawn(aio_fn fn, void *arg);

/* aio_sleep() calls of more than 0 ms (a shorter one is a yield). */
extern long timer_sleeps;

/* Every wait that is not a join: what a polling loop calls. */
long counted_waits(void);
void counted_reset(void);

/* aio_spawn() through the wrapper: when spawn_fail_at is k > 0, the k-th call from now fails
 * (NULL, errno ENOMEM). spawned_args[] records the arg of each spawn that succeeded, in order,
 * up to SPAWN_LOG of them. */
#define SPAWN_LOG 512
extern long spawn_calls, spawn_fail_at;
extern void *spawned_args[SPAWN_LOG];
extern long spawned_ok;

/* sleep, usleep, nanosleep and clock_nanosleep calls while blocking_watch is set. */
extern int blocking_watch;
extern long blocking_calls;

/* While set, every malloc, calloc and realloc this task makes fails (counted.c). */
extern aio_task *alloc_fail_task;
extern long alloc_failed;

#endif
