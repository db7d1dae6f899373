/* Lesson 12 tests: counted wrappers for the calls listed in lesson.mk's LDWRAP. */
#include "counted.h"

#include <curl/curl.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

/* The page graph's rule, delayd's own (page_links), so the tests know every page's links. */
#include "../../../harness/delayd/content.c"

int watching, cancelled;
long polls, blocking_calls, parks, unparks;
long spawn_calls, spawn_fail_at, group_new_calls, group_new_fail_at;
long gets, inflight, inflight_peak, gets_after_cancel;
long extracts, seen_adds, pushes;
long push_fail_at, links_push_calls, links_push_fail_at, curl_url_calls, curl_url_fail_at;

void counted_reset(void)
{
    polls = blocking_calls = parks = unparks = 0;
    spawn_calls = spawn_fail_at = group_new_calls = group_new_fail_at = 0;
    gets = inflight = inflight_peak = gets_after_cancel = 0;
    extracts = seen_adds = pushes = 0;
    push_fail_at = links_push_calls = links_push_fail_at = curl_url_calls = curl_url_fail_at = 0;
    cancelled = 0;
}

int __real_aio_yield(void);
int __wrap_aio_yield(void);
int __wrap_aio_yield(void)
{
    polls += watching;
    return __real_aio_yield();
}

int __wrap_aio_sleep(int64_t ms);
int __wrap_aio_sleep(int64_t ms)
{
    polls += watching;
    return __real_aio_sleep(ms);
}

int __real_aio_sleep_until(int64_t deadline);
int __wrap_aio_sleep_until(int64_t deadline);
int __wrap_aio_sleep_until(int64_t deadline)
{
    polls += watching;
    return __real_aio_sleep_until(deadline);
}

int __real_aio_park(int64_t deadline);
int __wrap_aio_park(int64_t deadline);
int __wrap_aio_park(int64_t deadline)
{
    parks += watching;
    return __real_aio_park(deadline);
}

void __real_aio_unpark(aio_task *t);
void __wrap_aio_unpark(aio_task *t);
void __wrap_aio_unpark(aio_task *t)
{
    unparks += watching;
    __real_aio_unpark(t);
}

static int in_group;   /* aio_group_spawn calls aio_spawn itself: one spawn, counted once */

static int spawn_refused(void)
{
    if (!watching || in_group)
        return 0;
    spawn_calls++;
    if (spawn_fail_at > 0 && spawn_calls == spawn_fail_at) {
        errno = ENOMEM;
        return 1;
    }
    return 0;
}

aio_task *__wrap_aio_spawn(aio_fn fn, void *arg);
aio_task *__wrap_aio_spawn(aio_fn fn, void *arg)
{
    return spawn_refused() ? NULL : __real_aio_spawn(fn, arg);
}

aio_group *__real_aio_group_new(void);
aio_group *__wrap_aio_group_new(void);
aio_group *__wrap_aio_group_new(void)
{
    if (watching && ++group_new_calls == group_new_fail_at) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_aio_group_new();
}

aio_task *__real_aio_group_spawn(aio_group *g, aio_fn fn, void *arg);
aio_task *__wrap_aio_group_spawn(aio_group *g, aio_fn fn, void *arg);
aio_task *__wrap_aio_group_spawn(aio_group *g, aio_fn fn, void *arg)
{
    if (spawn_refused())
        return NULL;
    in_group++;
    aio_task *t = __real_aio_group_spawn(g, fn, arg);
    in_group--;
    return t;
}

int __real_aio_http_get(aio_http *c, const char *url, struct aio_response *out,
                        int64_t deadline);
int __wrap_aio_http_get(aio_http *c, const char *url, struct aio_response *out,
                        int64_t deadline);
int __wrap_aio_http_get(aio_http *c, const char *url, struct aio_response *out,
                        int64_t deadline)
{
    if (!watching)
        return __real_aio_http_get(c, url, out, deadline);
    gets++;
    gets_after_cancel += cancelled;
    if (++inflight > inflight_peak)
        inflight_peak = inflight;
    int rc = __real_aio_http_get(c, url, out, deadline);
    inflight--;
    return rc;
}

int __wrap_links_extract(const char *page_url, const char *html, size_t len, struct links *out);
int __wrap_links_extract(const char *page_url, const char *html, size_t len, struct links *out)
{
    extracts += watching;
    return __real_links_extract(page_url, html, len, out);
}

int __real_seen_add(struct crawl *c, const char *url);
int __wrap_seen_add(struct crawl *c, const char *url);
int __wrap_seen_add(struct crawl *c, const char *url)
{
    seen_adds += watching;
    return __real_seen_add(c, url);
}

int __real_crawl_push(struct crawl *c, const char *url, int depth);
int __wrap_crawl_push(struct crawl *c, const char *url, int depth);
int __wrap_crawl_push(struct crawl *c, const char *url, int depth)
{
    pushes += watching;
    if (watching && push_fail_at > 0 && pushes == push_fail_at)
        return -ENOMEM;
    return __real_crawl_push(c, url, depth);
}

int __real_links_push(struct links *l, const char *url);
int __wrap_links_push(struct links *l, const char *url);
int __wrap_links_push(struct links *l, const char *url)
{
    links_push_calls += watching;
    if (watching && links_push_fail_at > 0 && links_push_calls == links_push_fail_at)
        return -ENOMEM;
    return __real_links_push(l, url);
}

CURLU *__real_curl_url(void);
CURLU *__wrap_curl_url(void);
CURLU *__wrap_curl_url(void)
{
    curl_url_calls += watching;
    if (watching && curl_url_fail_at > 0 && curl_url_calls == curl_url_fail_at)
        return NULL;
    return __real_curl_url();
}

unsigned int __real_sleep(unsigned int s);
unsigned int __wrap_sleep(unsigned int s);
unsigned int __wrap_sleep(unsigned int s)
{
    blocking_calls += watching;
    return __real_sleep(s);
}

int __real_usleep(useconds_t us);
int __wrap_usleep(useconds_t us);
int __wrap_usleep(useconds_t us)
{
    blocking_calls += watching;
    return __real_usleep(us);
}

int __real_nanosleep(const struct timespec *req, struct timespec *rem);
int __wrap_nanosleep(const struct timespec *req, struct timespec *rem);
int __wrap_nanosleep(const struct timespec *req, struct timespec *rem)
{
    blocking_calls += watching;
    return __real_nanosleep(req, rem);
}
