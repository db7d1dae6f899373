/* Lesson 08 tests: counted wrappers for the calls listed in lesson.mk's LDWRAP. */
#include "counted.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int watching;
long polls, blocking_calls, parks, unparks;
long spawn_calls, spawn_fail_at;
long item_calls, item_fail_at;
long group_news, group_fail_at;
int queue_init_fail;
long put_calls, get_calls, closes, puts_ok, gets_ok, puts_pipe, gets_pipe;
long puts_now, gets_now, puts_now_peak;
long events, last_put_event, first_close_event, close_rc_first;
size_t nreq;
long inflight, inflight_peak;
const char *urls_seen[TRACK_MAX];

void counted_reset(void)
{
    polls = blocking_calls = parks = unparks = 0;
    spawn_calls = spawn_fail_at = item_calls = item_fail_at = 0;
    group_news = group_fail_at = 0;
    queue_init_fail = 0;
    put_calls = get_calls = closes = puts_ok = gets_ok = puts_pipe = gets_pipe = 0;
    puts_now = gets_now = puts_now_peak = 0;
    events = last_put_event = first_close_event = close_rc_first = 0;
    nreq = 0;
    inflight = inflight_peak = 0;
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

/* ---- tasks and items -------------------------------------------------------------------- */

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

int __real_queue_init(struct queue *q, size_t cap);
int __wrap_queue_init(struct queue *q, size_t cap);
int __wrap_queue_init(struct queue *q, size_t cap)
{
    if (watching && queue_init_fail) {
        queue_init_fail = 0;
        return -ENOMEM;
    }
    return __real_queue_init(q, cap);
}

aio_group *__real_aio_group_new(void);
aio_group *__wrap_aio_group_new(void);
aio_group *__wrap_aio_group_new(void)
{
    if (watching && ++group_news == group_fail_at) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_aio_group_new();
}

struct item *__real_item_new(struct pipeline *p, size_t index);
struct item *__wrap_item_new(struct pipeline *p, size_t index);
struct item *__wrap_item_new(struct pipeline *p, size_t index)
{
    if (watching && ++item_calls == item_fail_at) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_item_new(p, index);
}

/* ---- the queue -------------------------------------------------------------------------- */

int __wrap_queue_put(struct queue *q, void *item, int64_t deadline);
int __wrap_queue_put(struct queue *q, void *item, int64_t deadline)
{
    if (!watching)
        return __real_queue_put(q, item, deadline);
    put_calls++;
    if (++puts_now > puts_now_peak)
        puts_now_peak = puts_now;
    int rc = __real_queue_put(q, item, deadline);
    puts_now--;
    puts_ok += rc == 0;
    puts_pipe += rc == -EPIPE;
    last_put_event = ++events;
    return rc;
}

int __wrap_queue_get(struct queue *q, void **out, int64_t deadline);
int __wrap_queue_get(struct queue *q, void **out, int64_t deadline)
{
    if (!watching)
        return __real_queue_get(q, out, deadline);
    get_calls++;
    gets_now++;
    int rc = __real_queue_get(q, out, deadline);
    gets_now--;
    gets_ok += rc == 0;
    gets_pipe += rc == -EPIPE;
    events++;
    return rc;
}

int __wrap_queue_close(struct queue *q);
int __wrap_queue_close(struct queue *q)
{
    if (!watching)
        return __real_queue_close(q);
    int rc = __real_queue_close(q);
    if (closes++ == 0) {
        first_close_event = ++events;
        close_rc_first = rc;
    } else {
        events++;
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
    if (!watching)
        return __real_aio_http_get(c, url, out, deadline);
    if (nreq < TRACK_MAX)
        urls_seen[nreq] = url;
    nreq++;
    if (++inflight > inflight_peak)
        inflight_peak = inflight;
    int rc = __real_aio_http_get(c, url, out, deadline);
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
