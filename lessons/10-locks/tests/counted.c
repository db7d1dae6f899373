/* Lesson 10 tests: counted wrappers for the calls listed in lesson.mk's LDWRAP. */
#include "counted.h"
#include "cache.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int watching;
long polls, blocking_calls, parks, unparks;
size_t nreq;
long inflight, inflight_peak;
char urls_seen[TRACK_MAX][URL_MAX];
int64_t req_end[TRACK_MAX];
int req_rc[TRACK_MAX];
long req_open_at_start[TRACK_MAX];
void (*on_request)(size_t i);
long entry_callocs, entry_fail_at;

void counted_reset(void)
{
    entry_callocs = entry_fail_at = 0;
    polls = blocking_calls = parks = unparks = 0;
    nreq = 0;
    inflight = inflight_peak = 0;
    on_request = NULL;
}

long requests_to(const char *url)
{
    long k = 0;

    for (size_t i = 0; i < nreq; i++)
        k += strcmp(urls_seen[i], url) == 0;
    return k;
}

long requests_open_to(const char *url)
{
    long k = 0;

    for (size_t i = 0; i < nreq; i++)
        k += strcmp(urls_seen[i], url) == 0 && req_end[i] < 0;
    return k;
}

/* ---- waits ----------------------------------------------------------------------------- */

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

int __wrap_aio_park(int64_t deadline);
int __wrap_aio_park(int64_t deadline)
{
    parks += watching;
    return __real_aio_park(deadline);
}

void __wrap_aio_unpark(aio_task *t);
void __wrap_aio_unpark(aio_task *t)
{
    unparks += watching;
    __real_aio_unpark(t);
}

aio_task *__wrap_aio_spawn(aio_fn fn, void *arg);
aio_task *__wrap_aio_spawn(aio_fn fn, void *arg)
{
    return __real_aio_spawn(fn, arg);
}

int __wrap_aio_join(aio_task *t, int64_t deadline);
int __wrap_aio_join(aio_task *t, int64_t deadline)
{
    return __real_aio_join(t, deadline);
}

/* ---- requests ----------------------------------------------------------------------------- */

int __real_aio_http_get(aio_http *c, const char *url, struct aio_response *out,
                        int64_t deadline);
int __wrap_aio_http_get(aio_http *c, const char *url, struct aio_response *out,
                        int64_t deadline);
int __wrap_aio_http_get(aio_http *c, const char *url, struct aio_response *out,
                        int64_t deadline)
{
    size_t i = nreq;
    int rc;

    if (!watching)
        return __real_aio_http_get(c, url, out, deadline);
    inflight++;
    if (inflight > inflight_peak)
        inflight_peak = inflight;
    if (i < TRACK_MAX) {
        nreq++;
        snprintf(urls_seen[i], URL_MAX, "%s", url);
        req_end[i] = -1;
        req_open_at_start[i] = requests_open_to(url);   /* this one included */
        if (on_request != NULL)
            on_request(i);
    }
    rc = __real_aio_http_get(c, url, out, deadline);
    if (i < TRACK_MAX) {
        req_end[i] = aio_now();
        req_rc[i] = rc;
    }
    inflight--;
    return rc;
}

/* ---- memory ------------------------------------------------------------------------------ */

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size)
{
    if (watching && n == 1 && size == sizeof(struct cache_entry) &&
        ++entry_callocs == entry_fail_at)
        return NULL;
    return __real_calloc(n, size);
}

/* ---- calls that put the whole thread to sleep ------------------------------------------ */

unsigned __real_sleep(unsigned s);
int __real_usleep(useconds_t us);
int __real_nanosleep(const struct timespec *req, struct timespec *rem);
unsigned __wrap_sleep(unsigned s);
int __wrap_usleep(useconds_t us);
int __wrap_nanosleep(const struct timespec *req, struct timespec *rem);

unsigned __wrap_sleep(unsigned s)
{
    blocking_calls += watching;
    return __real_sleep(s);
}

int __wrap_usleep(useconds_t us)
{
    blocking_calls += watching;
    return __real_usleep(us);
}

int __wrap_nanosleep(const struct timespec *req, struct timespec *rem)
{
    blocking_calls += watching;
    return __real_nanosleep(req, rem);
}
