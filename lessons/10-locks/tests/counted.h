/* Lesson 10 tests: the calls the test binary counts (lesson.mk's LDWRAP), shared by both test
 * files. Test code that must not be counted calls the __real_ versions. */
#ifndef LESSON10_COUNTED_H
#define LESSON10_COUNTED_H

#include "aio.h"

#include <stddef.h>

#define TRACK_MAX 512          /* requests tracked in one test */
#define URL_MAX 200            /* the longest url a test uses, with its NUL */

int __real_aio_yield(void);
int __real_aio_sleep(int64_t ms);
int __real_aio_park(int64_t deadline);
void __real_aio_unpark(aio_task *t);
aio_task *__real_aio_spawn(aio_fn fn, void *arg);
int __real_aio_join(aio_task *t, int64_t deadline);

/* Everything below counts only while `watching` is set. */
extern int watching;

/* Waits that a lock never needs (aio_yield, aio_sleep, aio_sleep_until: what a polling loop
 * calls), sleeps blocking the thread, parks and unparks. */
extern long polls, blocking_calls, parks, unparks;

/* aio_http_get: each request's url (a copy), its start and end on aio_now()'s clock and rc;
 * requests in flight now and at most. on_request, when set, is called as each one starts. */
extern size_t nreq;
extern long inflight, inflight_peak;
extern char urls_seen[TRACK_MAX][URL_MAX];
extern int64_t req_end[TRACK_MAX];
extern int req_rc[TRACK_MAX];
/* Requests for the same url in flight as request i began, i included: counted, not timed. */
extern long req_open_at_start[TRACK_MAX];
extern void (*on_request)(size_t i);

/* calloc: the k-th calloc of one struct cache_entry (cache_join's) fails when
 * entry_fail_at is k > 0; entry_callocs counts them. */
extern long entry_callocs, entry_fail_at;

/* Requests sent for url, and requests that have started for it but not ended. */
long requests_to(const char *url);
long requests_open_to(const char *url);

void counted_reset(void);

#endif
