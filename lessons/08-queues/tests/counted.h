/* Lesson 08 tests: the calls the test binary counts (lesson.mk's LDWRAP), shared by both test
 * files. Test code that must not be counted calls the __real_ versions. */
#ifndef LESSON08_COUNTED_H
#define LESSON08_COUNTED_H

#include "aio.h"
#include "pipeline.h"
#include "queue.h"

#include <stddef.h>

#define TRACK_MAX 2048          /* requests tracked in one test */

int __real_aio_yield(void);
int __real_aio_sleep(int64_t ms);
int __real_aio_park(int64_t deadline);
void __real_aio_unpark(aio_task *t);
aio_task *__real_aio_spawn(aio_fn fn, void *arg);
int __real_aio_join(aio_task *t, int64_t deadline);
int __real_aio_cancel(aio_task *t);
int __real_queue_put(struct queue *q, void *item, int64_t deadline);
int __real_queue_get(struct queue *q, void **out, int64_t deadline);
int __real_queue_close(struct queue *q);

/* Everything below counts only while `watching` is set. */
extern int watching;

/* Waits that are not parks or joins (aio_yield, aio_sleep, aio_sleep_until: what a polling
 * loop calls), sleeps blocking the thread, parks and unparks. */
extern long polls, blocking_calls, parks, unparks;

/* Task spawns, by aio_spawn or aio_group_spawn together: when spawn_fail_at is k > 0 the k-th
 * call fails (NULL, errno ENOMEM). */
extern long spawn_calls, spawn_fail_at;
/* aio_group_new: calls, and when group_fail_at is k > 0 the k-th call fails (NULL, ENOMEM). */
extern long group_news, group_fail_at;
/* queue_init: when queue_init_fail is 1, the next call fails (-ENOMEM). */
extern int queue_init_fail;
/* item_new: when item_fail_at is k > 0, the k-th call fails (NULL, errno ENOMEM). */
extern long item_calls, item_fail_at;

/* queue_put, queue_get, queue_close: calls, returns, and each one's result counted by kind;
 * the put_calls and get_calls under way now (entered, not returned) and at most. */
extern long put_calls, get_calls, closes, puts_ok, gets_ok, puts_pipe, gets_pipe;
extern long puts_now, gets_now, puts_now_peak;
/* The event number (1, 2, ...) of the last put returned, of the first close; every event of
 * the counted calls (a put's or get's return, a close) takes the next number. */
extern long events, last_put_event, first_close_event, close_rc_first;

/* aio_http_get: each request's url pointer, requests in flight now and at most. */
extern size_t nreq;
extern long inflight, inflight_peak;
extern const char *urls_seen[TRACK_MAX];

void counted_reset(void);

#endif
