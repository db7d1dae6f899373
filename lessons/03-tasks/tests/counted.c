/* Lesson 03 tests: counted wrappers for the aio calls listed in lesson.mk's LDWRAP. */
#include "counted.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "kit_test.h"

KIT_COUNT_CALLS(int, aio_yield, (void), ())
KIT_COUNT_CALLS(int, aio_sleep_until, (int64_t deadline), (deadline))

/* aio_sleep is counted by hand: a sleep of 0 ms or less is a yield, anything longer a wait on
 * a timer. */
long kit_calls_aio_sleep, timer_sleeps;
int __real_aio_sleep(int64_t ms);
int __wrap_aio_sleep(int64_t ms);

int __wrap_aio_sleep(int64_t ms)
{
    kit_calls_aio_sleep++;
    timer_sleeps += ms > 0;
    return __real_aio_sleep(ms);
}
KIT_COUNT_CALLS(int, aio_park, (int64_t deadline), (deadline))

long counted_waits(void)
{
    return kit_calls_aio_yield + kit_calls_aio_sleep + kit_calls_aio_sleep_until +
           kit_calls_aio_park;
}

void counted_reset(void)
{
    timer_sleeps = 0;
    kit_calls_aio_yield = kit_calls_aio_sleep = kit_calls_aio_sleep_until = 0;
    kit_calls_aio_park = 0;
}

long spawn_calls, spawn_fail_at, spawned_ok;
void *spawned_args[SPAWN_LOG];

aio_task *__wrap_aio_spawn(aio_fn fn, void *arg);

aio_task *__wrap_aio_spawn(aio_fn fn, void *arg)
{
    aio_task *t;

    spawn_calls++;
    if (spawn_fail_at > 0 && spawn_calls == spawn_fail_at) {
        errno = ENOMEM;
        return NULL;
    }
    t = __real_aio_spawn(fn, arg);
    if (t != NULL && spawned_ok < SPAWN_LOG)
        spawned_args[spawned_ok++] = arg;
    return t;
}

/* malloc, calloc and realloc from the kit's own objects, the runtime and the student's code
 * (not from shared libraries): while alloc_fail_task is set, every one made by that task
 * fails. */
aio_task *alloc_fail_task;
long alloc_failed;

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
    alloc_failed++;
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

/* The calls that put the whole thread to sleep, counted while blocking_watch is set. */
int blocking_watch;
long blocking_calls;

unsigned __real_sleep(unsigned s);
int __real_usleep(useconds_t us);
int __real_nanosleep(const struct timespec *req, struct timespec *rem);
int __real_clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
                           struct timespec *rem);
unsigned __wrap_sleep(unsigned s);
int __wrap_usleep(useconds_t us);
int __wrap_nanosleep(const struct timespec *req, struct timespec *rem);
int __wrap_clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
                           struct timespec *rem);

unsigned __wrap_sleep(unsigned s)
{
    blocking_calls += blocking_watch;
    return __real_sleep(s);
}

int __wrap_usleep(useconds_t us)
{
    blocking_calls += blocking_watch;
    return __real_usleep(us);
}

int __wrap_nanosleep(const struct timespec *req, struct timespec *rem)
{
    blocking_calls += blocking_watch;
    return __real_nanosleep(req, rem);
}

int __wrap_clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
                           struct timespec *rem)
{
    blocking_calls += blocking_watch;
    return __real_clock_nanosleep(clock, flags, req, rem);
}
