/* Lesson 13 tests: counted wrappers for the calls listed in lesson.mk's LDWRAP. */
#include "counted.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

int watching;
long polls, blocking_calls;
long spawn_calls, spawn_fail_at;
int group_fail;
long check_calls, check_fail_at;
long nreq, inflight, inflight_peak;

void counted_reset(void)
{
    polls = blocking_calls = spawn_calls = spawn_fail_at = 0;
    group_fail = 0;
    check_calls = check_fail_at = 0;
    nreq = inflight = inflight_peak = 0;
}

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
    return __real_aio_park(deadline);
}

static int in_group;   /* aio_group_spawn calls aio_spawn itself: one spawn, counted once */

static int spawn_refused(void)
{
    if (!watching || in_group)
        return 0;
    if (++spawn_calls == spawn_fail_at) {
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

aio_task *__real_aio_group_spawn(aio_group *g, aio_fn fn, void *arg);
aio_task *__wrap_aio_group_spawn(aio_group *g, aio_fn fn, void *arg);
aio_task *__wrap_aio_group_spawn(aio_group *g, aio_fn fn, void *arg)
{
    if (spawn_refused())
        return NULL;
    in_group = 1;
    aio_task *t = __real_aio_group_spawn(g, fn, arg);
    in_group = 0;
    return t;
}

aio_group *__real_aio_group_new(void);
aio_group *__wrap_aio_group_new(void);
aio_group *__wrap_aio_group_new(void)
{
    if (watching && group_fail) {
        group_fail = 0;
        errno = ENOMEM;
        return NULL;
    }
    return __real_aio_group_new();
}

struct check *__wrap_check_new(struct window *w, const char *url);
struct check *__wrap_check_new(struct window *w, const char *url)
{
    if (watching && ++check_calls == check_fail_at)
        return NULL;
    return __real_check_new(w, url);
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
    nreq++;
    if (++inflight > inflight_peak)
        inflight_peak = inflight;
    int rc = __real_aio_http_get(c, url, out, deadline);
    inflight--;
    return rc;
}

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
