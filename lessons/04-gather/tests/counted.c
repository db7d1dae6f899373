/* Lesson 04 tests: counted wrappers for the calls listed in lesson.mk's LDWRAP. */
#include "counted.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kit.h"

int watching;
long polls, blocking_calls, parks, unparks;
long spawn_calls, spawn_fail_at;
size_t ntasks;
aio_task *tasks_seen[TRACK_MAX];
int tasks_joined[TRACK_MAX];
long inflight, inflight_peak;
size_t nreq;
const char *urls_seen[TRACK_MAX];
double req_start[TRACK_MAX], req_end[TRACK_MAX];
int req_rc[TRACK_MAX];
double watch_start;

void counted_reset(void)
{
    polls = blocking_calls = parks = unparks = 0;
    spawn_calls = spawn_fail_at = 0;
    ntasks = 0;
    memset(tasks_joined, 0, sizeof tasks_joined);
    inflight = inflight_peak = 0;
    nreq = 0;
    watch_start = kit_wall();
}

size_t tasks_unjoined(void)
{
    size_t n = 0;

    for (size_t i = 0; i < ntasks; i++)
        n += !tasks_joined[i];
    return n;
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

/* ---- tasks ----------------------------------------------------------------------------- */

/* Each task spawned while watching runs through this trampoline, which notes when its body
 * has returned: a join that returns after that has freed the task (whatever the result, even
 * -ETIMEDOUT or -ECANCELED, which a body may return too). */
struct task_rec {
    aio_fn fn;
    void *arg;
    int finished;
};
static struct task_rec recs[TRACK_MAX];

static int trampoline(void *p)
{
    struct task_rec *r = p;
    int rc = r->fn(r->arg);

    r->finished = 1;
    return rc;
}

int task_finished(size_t i)
{
    return recs[i].finished;
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
    recs[ntasks] = (struct task_rec){ .fn = fn, .arg = arg, .finished = 0 };
    t = __real_aio_spawn(trampoline, &recs[ntasks]);
    if (t != NULL)
        tasks_seen[ntasks++] = t;
    return t;
}

int __wrap_aio_join(aio_task *t, int64_t deadline);
int __wrap_aio_join(aio_task *t, int64_t deadline)
{
    size_t i = 0;

    while (i < ntasks && !(tasks_seen[i] == t && !tasks_joined[i]))
        i++;
    int rc = __real_aio_join(t, deadline);
    if (i < ntasks && recs[i].finished)
        tasks_joined[i] = 1;
    return rc;
}

int join_watched(aio_task *t, int64_t limit_ms)
{
    int64_t start = aio_now(), until = start + limit_ms;
    double busy0 = kit_starved_s();
    int rc;

    while ((rc = __real_aio_join(t, until)) == -ETIMEDOUT) {
        int64_t later = start + limit_ms + (int64_t)((kit_starved_s() - busy0) * 1000.0);
        if (later <= until)
            break;
        until = later;
    }
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
        req_start[i] = kit_wall() - watch_start;
        req_rc[i] = 1;
    }
    rc = __real_aio_http_get(c, url, out, deadline);
    if (i < TRACK_MAX) {
        req_end[i] = kit_wall() - watch_start;
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
