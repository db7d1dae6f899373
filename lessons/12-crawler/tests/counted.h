/* Lesson 12 tests: the calls the test binary counts (lesson.mk's LDWRAP), shared by both test
 * files. Test code that must not be counted calls the __real_ versions. */
#ifndef LESSON12_COUNTED_H
#define LESSON12_COUNTED_H

#include "aio.h"
#include "crawl.h"

#include <stddef.h>

int __real_aio_sleep(int64_t ms);
aio_task *__real_aio_spawn(aio_fn fn, void *arg);
int __real_links_extract(const char *page_url, const char *html, size_t len,
                         struct links *out);

/* Everything below counts only while `watching` is set. */
extern int watching;

/* Waits that are not parks (what a polling loop calls), sleeps blocking the thread, parks and
 * unparks. */
extern long polls, blocking_calls, parks, unparks;
/* Task spawns (aio_spawn and aio_group_spawn together); the k-th fails when spawn_fail_at is
 * k > 0 (NULL, errno ENOMEM). */
extern long spawn_calls, spawn_fail_at;
/* aio_group_new calls; the k-th fails (NULL, errno ENOMEM) when group_new_fail_at is k > 0. */
extern long group_new_calls, group_new_fail_at;
/* aio_http_get: calls, in flight now and at most, calls made once `cancelled` was set. */
extern long gets, inflight, inflight_peak, gets_after_cancel;
extern int cancelled;
/* links_extract, seen_add and crawl_push calls. */
extern long extracts, seen_adds, pushes;
/* Refusals on demand (when k > 0, the k-th call while watching fails as out of memory):
 * crawl_push (-ENOMEM), links_push (-ENOMEM), curl_url (NULL). */
extern long push_fail_at, links_push_calls, links_push_fail_at, curl_url_calls, curl_url_fail_at;

void counted_reset(void);

#endif
