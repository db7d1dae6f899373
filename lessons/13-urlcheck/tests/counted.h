/* Lesson 13 tests: the calls the test binary counts (lesson.mk's LDWRAP), shared by both test
 * files. Test code that must not be counted calls the __real_ versions. */
#ifndef LESSON13_COUNTED_H
#define LESSON13_COUNTED_H

#include "aio.h"
#include "urlcheck.h"

#include <stddef.h>

int __real_aio_yield(void);
int __real_aio_sleep(int64_t ms);
int __real_aio_park(int64_t deadline);
aio_task *__real_aio_spawn(aio_fn fn, void *arg);
struct check *__real_check_new(struct window *w, const char *url);

/* Everything below counts only while `watching` is set. */
extern int watching;

/* Waits that are not parks (aio_yield, aio_sleep, aio_sleep_until: what a polling loop
 * calls), and sleeps that block the thread. */
extern long polls, blocking_calls;
/* Tasks spawned (aio_spawn and aio_group_spawn together): when spawn_fail_at is k > 0, the
 * k-th call fails (NULL, errno ENOMEM). aio_group_new: when group_fail is 1, it fails. */
extern long spawn_calls, spawn_fail_at;
extern int group_fail;
/* check_new: calls; when check_fail_at is k > 0, the k-th call fails (NULL). */
extern long check_calls, check_fail_at;
/* aio_http_get: calls, in flight now and at most. */
extern long nreq, inflight, inflight_peak;

void counted_reset(void);

#endif
