/* Lesson 03 tests: counted wrappers for the aio calls listed in lesson.mk's LDWRAP. */
#include "counted.h"

#include <criterion/criterion.h>
#include <errno.h>

#include "kit_test.h"

KIT_COUNT_CALLS(int, aio_yield, (void), ())
KIT_COUNT_CALLS(int, aio_sleep, (int64_t ms), (ms))
KIT_COUNT_CALLS(int, aio_sleep_until, (int64_t deadline), (deadline))
KIT_COUNT_CALLS(int, aio_park, (int64_t deadline), (deadline))

long counted_waits(void)
{
    return kit_calls_aio_yield + kit_calls_aio_sleep + kit_calls_aio_sleep_until +
           kit_calls_aio_park;
}

void counted_reset(void)
{
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
