/* Lesson 06 tests: the calls the test binary counts (lesson.mk's LDWRAP), shared by both test
 * files. Test code that must not be counted calls the __real_ versions. */
#ifndef LESSON06_COUNTED_H
#define LESSON06_COUNTED_H

#include "aio.h"

#include <stddef.h>

#define TRACK_MAX 512          /* requests and tasks tracked in one test */

int __real_aio_yield(void);
int __real_aio_sleep(int64_t ms);
int __real_aio_park(int64_t deadline);
aio_task *__real_aio_spawn(aio_fn fn, void *arg);
int __real_aio_join(aio_task *t, int64_t deadline);
int __real_aio_cancel(aio_task *t);
void __real_aio_unpark(aio_task *t);

/* Everything below counts only while `watching` is set. */
extern int watching;

/* Waits that are not joins or parks (what a polling loop calls), sleeps blocking the thread,
 * parks, unparks, cancels, and joins given a deadline other than AIO_NEVER. */
extern long polls, blocking_calls, parks, unparks, cancels, timed_joins;

/* aio_spawn: when spawn_fail_at is k > 0, the k-th call fails (NULL, errno ENOMEM). Every
 * task spawned, whether its body has returned, and whether it was joined (aio_join after it
 * finished, or aio_wait_for). */
extern long spawn_calls, spawn_fail_at;
extern size_t ntasks;
size_t tasks_unjoined(void);
size_t tasks_running(void);     /* spawned and not finished */
/* Cancel every tracked task still running and join every one not joined (uncounted): the
 * clean-up after a wrong answer, so the test's loop can end. */
void reap(void);

/* aio_http_get: each request's url, its start and end on aio_now()'s clock, its deadline and
 * rc; requests in flight now and at most. */
extern size_t nreq;
extern long inflight, inflight_peak;
extern const char *urls_seen[TRACK_MAX];
extern int64_t req_start[TRACK_MAX], req_end[TRACK_MAX], req_deadline[TRACK_MAX];
extern int req_rc[TRACK_MAX];

/* While alloc_fail_task is set, the alloc_fail_at-th malloc, calloc or realloc that task makes
 * (counting from 1) fails, and every one after it succeeds again. */
extern aio_task *alloc_fail_task;
extern long alloc_fail_at, alloc_calls;

void counted_reset(void);

#endif
