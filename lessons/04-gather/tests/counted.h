/* Lesson 04 tests: the calls the test binary counts (lesson.mk's LDWRAP), shared by both test
 * files. Test code that must not be counted calls the __real_ versions. */
#ifndef LESSON04_COUNTED_H
#define LESSON04_COUNTED_H

#include "aio.h"

#include <stddef.h>

#define TRACK_MAX 512          /* requests and tasks tracked in one test */

int __real_aio_yield(void);
int __real_aio_sleep(int64_t ms);
int __real_aio_park(int64_t deadline);
aio_task *__real_aio_spawn(aio_fn fn, void *arg);
int __real_aio_join(aio_task *t, int64_t deadline);
void __real_aio_unpark(aio_task *t);

/* Everything below counts only while `watching` is set. */
extern int watching;

/* Waits that are not joins or parks (what a polling loop calls), and sleeps blocking the
 * thread. */
extern long polls, blocking_calls;
extern long parks, unparks;

/* aio_spawn (the runtime's own spawns for a group included): when spawn_fail_at is k > 0, the
 * k-th call fails (NULL, errno ENOMEM). Every task spawned, and whether it was joined. */
extern long spawn_calls, spawn_fail_at;
extern size_t ntasks;
extern aio_task *tasks_seen[TRACK_MAX];
extern int tasks_joined[TRACK_MAX];
size_t tasks_unjoined(void);
int task_finished(size_t i);   /* task i's body has returned */

/* aio_http_get: requests in flight now and at most; urls_seen[] is the url pointer of each
 * request in the order they started, with its start and end time (s, from watch_start) and
 * its rc (req_rc is 1 while it runs). */
extern long inflight, inflight_peak;
extern size_t nreq;
extern const char *urls_seen[TRACK_MAX];
extern double req_start[TRACK_MAX], req_end[TRACK_MAX];
extern int req_rc[TRACK_MAX];
extern double watch_start;

/* While alloc_fail_task is set, the alloc_fail_at-th malloc, calloc or realloc that task makes
 * (counting from 1) fails, and every one after it succeeds again. */
extern aio_task *alloc_fail_task;
extern long alloc_fail_at, alloc_calls;

void counted_reset(void);

/* The watchdog's join, uncounted: wait for t until limit_ms from now, the limit moved on by
 * every millisecond the busy machine keeps the test and server from a CPU meanwhile (a stall
 * never counts as the code under test being stuck). -ETIMEDOUT when t is still running then;
 * else its result. */
int join_watched(aio_task *t, int64_t limit_ms);

#endif
