/* Lesson 06 tests: counted wrappers for the calls listed in lesson.mk's LDWRAP. */
#include "counted.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int watching;
long polls, blocking_calls, parks, unparks, cancels, timed_joins;
long spawn_calls, spawn_fail_at;
size_t ntasks;
size_t nreq;
long inflight, inflight_peak;
const char *urls_seen[TRACK_MAX];
int64_t req_start[TRACK_MAX], req_end[TRACK_MAX], req_deadline[TRACK_MAX];
int req_rc[TRACK_MAX];

/* Each task spawned while watching runs through this trampoline, which notes when its body
 * has returned. */
struct task_rec {
    aio_fn fn;
    void *arg;
    aio_task *task;
    int finished;
    int joined;
};
static struct task_rec recs[TRACK_MAX];

void counted_reset(void)
{
    polls = blocking_calls = parks = unparks = cancels = timed_joins = 0;
    spawn_calls = spawn_fail_at = 0;
    ntasks = 0;
    memset(recs, 0, sizeof recs);
    nreq = 0;
    inflight = inflight_peak = 0;
    alloc_fail_task = NULL;
    alloc_fail_at = alloc_calls = 0;
}

size_t tasks_unjoined(void)
{
    size_t n = 0;

    for (size_t i = 0; i < ntasks; i++)
        n += !recs[i].joined;
    return n;
}

size_t tasks_running(void)
{
    size_t n = 0;

    for (size_t i = 0; i < ntasks; i++)
        n += !recs[i].finished;
    return n;
}

void reap(void)
{
    int was = watching;

    watching = 0;
    for (size_t i = 0; i < ntasks; i++)
        if (!recs[i].joined && !recs[i].finished)
            __real_aio_cancel(recs[i].task);
    for (size_t i = 0; i < ntasks; i++) {
        if (!recs[i].joined) {
            recs[i].joined = 1;
            __real_aio_join(recs[i].task, AIO_NEVER);
        }
    }
    watching = was;
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

int __wrap_aio_cancel(aio_task *t);
int __wrap_aio_cancel(aio_task *t)
{
    cancels += watching;
    return __real_aio_cancel(t);
}

/* ---- tasks ----------------------------------------------------------------------------- */

static int trampoline(void *p)
{
    struct task_rec *r = p;
    int rc = r->fn(r->arg);

    r->finished = 1;
    return rc;
}

aio_task *__wrap_aio_spawn(aio_fn fn, void *arg);
aio_task *__wrap_aio_spawn(aio_fn fn, void *arg)
{
    aio_task *t;

    if (!watching)
        return __real_aio_spawn(fn, arg);
    spawn_calls++;
    if (spawn_fail_at > 0 && spawn_calls == spawn_fail_at) {
        errno = ENOMEM;
        return NULL;
    }
    if (ntasks >= TRACK_MAX)
        return __real_aio_spawn(fn, arg);
    recs[ntasks] = (struct task_rec){ .fn = fn, .arg = arg };
    t = __real_aio_spawn(trampoline, &recs[ntasks]);
    if (t != NULL)
        recs[ntasks++].task = t;
    return t;
}

static struct task_rec *rec_of(aio_task *t)
{
    for (size_t i = 0; i < ntasks; i++)
        if (recs[i].task == t && !recs[i].joined)
            return &recs[i];
    return NULL;
}

int __wrap_aio_join(aio_task *t, int64_t deadline);
int __wrap_aio_join(aio_task *t, int64_t deadline)
{
    struct task_rec *r = rec_of(t);

    timed_joins += watching && deadline != AIO_NEVER;
    int rc = __real_aio_join(t, deadline);
    if (r != NULL && r->finished)
        r->joined = 1;
    return rc;
}

int __real_aio_wait_for(aio_task *t, int64_t deadline);
int __wrap_aio_wait_for(aio_task *t, int64_t deadline);
int __wrap_aio_wait_for(aio_task *t, int64_t deadline)
{
    struct task_rec *r = rec_of(t);
    int rc = __real_aio_wait_for(t, deadline);

    if (r != NULL)
        r->joined = 1;                  /* aio_wait_for joins on every path */
    return rc;
}

/* ---- requests -------------------------------------------------------------------------- */

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
        urls_seen[i] = url;
        req_start[i] = aio_now();
        req_deadline[i] = deadline;
    }
    rc = __real_aio_http_get(c, url, out, deadline);
    if (i < TRACK_MAX) {
        req_end[i] = aio_now();
        req_rc[i] = rc;
    }
    inflight--;
    return rc;
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

/* ---- allocations that fail on demand ---------------------------------------------------- */

aio_task *alloc_fail_task;
long alloc_fail_at, alloc_calls;

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);

static int alloc_fails(void)
{
    if (alloc_fail_task == NULL || aio_current() != alloc_fail_task)
        return 0;
    if (++alloc_calls != alloc_fail_at)
        return 0;
    errno = ENOMEM;
    return 1;
}

void *__wrap_malloc(size_t size)
{
    return alloc_fails() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return alloc_fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    return alloc_fails() ? NULL : __real_realloc(p, size);
}
