/* aio's own tests: aio_sem, the bounded semaphore (sem.c). The cap, FIFO hand-over, one
 * wake-up a release, no overtaking, timeouts and cancellations while queued (also in the same
 * pass as the release that picks the waiter), stray wake-ups, and the refusals. */
#include "aio.h"
#include "kit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

TestSuite(sem, .fini = kit_fini_leaks, .timeout = 20);

#define MAX_EVENTS 64

static aio_sem sem;
static int events[MAX_EVENTS];
static int nevents;
static int holders, most_holders;

static void note(int v)
{
    if (nevents < MAX_EVENTS)
        events[nevents++] = v;
}

/* ---- the cap ---------------------------------------------------------------------------- */

static int hold_20ms(void *arg)
{
    (void)arg;
    int r = aio_sem_acquire(&sem, AIO_NEVER);
    if (r < 0)
        return r;
    holders++;
    if (holders > most_holders)
        most_holders = holders;
    aio_sleep(20);
    holders--;
    return aio_sem_release(&sem);
}

static int cap_main(void *arg)
{
    (void)arg;
    aio_task *t[13];
    int64_t t0 = aio_now();
    for (int i = 0; i < 13; i++)
        t[i] = aio_spawn(hold_20ms, NULL);
    for (int i = 0; i < 13; i++)
        cr_expect_eq(aio_join(t[i], AIO_NEVER), 0, "[sem-holder] holder %d failed", i);
    int64_t ms = aio_now() - t0;
    /* ceil(13 / 3) = 5 rounds of 20 ms */
    cr_expect(ms >= 95 && ms < 400, "[sem-time] 13 holders of 20 ms, 3 at a time, took %lld ms; "
              "expected about 100 ms", (long long)ms);
    return 0;
}

Test(sem, caps_holders)
{
    cr_assert_eq(aio_sem_init(&sem, 3), 0);
    cr_assert_eq(aio_run(cap_main, NULL), 0);
    cr_expect_eq(most_holders, 3, "[sem-cap] %d tasks held a permit at once; expected 3",
                 most_holders);
    cr_expect_eq(aio_sem_value(&sem), 3, "[sem-value] %d permits free at the end; expected 3",
                 aio_sem_value(&sem));
    cr_expect_eq(aio_sem_waiting(&sem), 0);
}

/* ---- FIFO, one wake-up a release, no overtaking ---------------------------------------- */

static int queue_and_note(void *arg)
{
    int id = (int)(intptr_t)arg;
    int r = aio_sem_acquire(&sem, AIO_NEVER);
    note(r == 0 ? id : -100 + r);
    return r;
}

static int fifo_main(void *arg)
{
    (void)arg;
    /* 7 waiters, queued in an order that is not their spawn order */
    static const int order[7] = { 4, 1, 6, 0, 3, 5, 2 };
    aio_task *t[7];
    for (int i = 0; i < 7; i++) {
        t[i] = aio_spawn(queue_and_note, (void *)(intptr_t)order[i]);
        aio_yield();                   /* it queues now, before the next one is spawned */
    }
    cr_expect_eq(aio_sem_waiting(&sem), 7, "[sem-queued] %zu waiting, expected 7",
                 aio_sem_waiting(&sem));
    for (int i = 0; i < 7; i++) {
        cr_expect_eq(aio_sem_release(&sem), 0);
        /* no overtaking: the permit went to the queue, not to the free count */
        cr_expect_eq(aio_sem_try_acquire(&sem), -EAGAIN,
                     "[sem-overtake] try_acquire took a permit released to a queued waiter");
        cr_expect_eq(aio_sem_value(&sem), 0);
        aio_yield();
        aio_yield();
        cr_expect_eq(nevents, i + 1, "[sem-one-wake] after %d releases %d waiters had their "
                     "permit; a release wakes exactly one", i + 1, nevents);
    }
    for (int i = 0; i < 7; i++)
        aio_join(t[i], AIO_NEVER);
    return 0;
}

Test(sem, fifo_one_wakeup_a_release)
{
    cr_assert_eq(aio_sem_init(&sem, 7), 0);
    for (int i = 0; i < 7; i++)
        cr_assert_eq(aio_sem_try_acquire(&sem), 0);   /* outside a task: allowed */
    cr_assert_eq(aio_sem_try_acquire(&sem), -EAGAIN);
    cr_assert_eq(aio_run(fifo_main, NULL), 0);
    static const int order[7] = { 4, 1, 6, 0, 3, 5, 2 };
    cr_assert_eq(nevents, 7);
    for (int i = 0; i < 7; i++)
        cr_expect_eq(events[i], order[i], "[sem-fifo] permit %d went to waiter %d; expected "
                     "%d, the %d-th to queue", i, events[i], order[i], i + 1);
    cr_expect_eq(aio_sem_value(&sem), 0);    /* 7 held, by tasks that returned without release */
}

static int late_acquire(void *arg)
{
    (void)arg;
    /* arrives after a release handed the only permit to the queue: must queue too */
    int r = aio_sem_acquire(&sem, aio_now());
    note(1000 + (r == -ETIMEDOUT));
    return 0;
}

static int overtake_main(void *arg)
{
    (void)arg;
    cr_assert_eq(aio_sem_acquire(&sem, AIO_NEVER), 0);
    aio_task *a = aio_spawn(queue_and_note, (void *)(intptr_t)7);
    aio_yield();
    aio_sem_release(&sem);
    /* the same pass: a newcomer asks while the woken waiter has not run yet */
    int r = aio_sem_acquire(&sem, aio_now());
    cr_expect_eq(r, -ETIMEDOUT, "[sem-overtake] a newcomer acquired (%d) the permit just "
                 "released to a queued waiter", r);
    aio_task *b = aio_spawn(late_acquire, NULL);
    aio_join(a, AIO_NEVER);
    aio_join(b, AIO_NEVER);
    cr_expect_eq(aio_sem_release(&sem), 0);
    return 0;
}

Test(sem, no_overtaking)
{
    aio_sem_init(&sem, 1);
    cr_assert_eq(aio_run(overtake_main, NULL), 0);
    cr_expect_eq(events[0], 7);
    cr_expect_eq(aio_sem_value(&sem), 1);
    cr_expect_eq(aio_sem_waiting(&sem), 0);
}

/* ---- timeouts, cancellations, stray wake-ups ------------------------------------------- */

static int acquire_until(void *arg)
{
    int64_t deadline = (int64_t)(intptr_t)arg;
    int r = aio_sem_acquire(&sem, deadline);
    note(r);
    if (r == 0) {
        aio_sleep(5);
        aio_sem_release(&sem);
    }
    return r;
}

static int timeout_main(void *arg)
{
    (void)arg;
    cr_assert_eq(aio_sem_acquire(&sem, AIO_NEVER), 0);
    int64_t t0 = aio_now();
    aio_task *a = aio_spawn(acquire_until, (void *)(intptr_t)(t0 + 30));
    aio_task *b = aio_spawn(acquire_until, (void *)(intptr_t)AIO_NEVER);
    aio_sleep(60);
    cr_expect_eq(aio_sem_waiting(&sem), 1, "[sem-timeout-left] %zu waiting after one timed "
                 "out; expected 1", aio_sem_waiting(&sem));
    cr_expect_eq(aio_sem_release(&sem), 0);
    cr_expect_eq(aio_join(a, AIO_NEVER), -ETIMEDOUT);
    cr_expect_eq(aio_join(b, AIO_NEVER), 0);
    return 0;
}

Test(sem, timeout_takes_nothing)
{
    aio_sem_init(&sem, 1);
    cr_assert_eq(aio_run(timeout_main, NULL), 0);
    cr_expect_eq(nevents, 2);
    cr_expect_eq(events[0], -ETIMEDOUT);
    cr_expect_eq(events[1], 0);
    cr_expect_eq(aio_sem_value(&sem), 1, "[sem-lost] %d permits free at the end; expected 1",
                 aio_sem_value(&sem));
}

/* cancel_first: the waiter at the head is cancelled, then (same pass) the permit released */
static int cancel_main(void *arg)
{
    int cancel_first = (int)(intptr_t)arg;
    cr_assert_eq(aio_sem_acquire(&sem, AIO_NEVER), 0);
    aio_task *a = aio_spawn(acquire_until, (void *)(intptr_t)AIO_NEVER);
    aio_yield();
    aio_task *b = aio_spawn(acquire_until, (void *)(intptr_t)AIO_NEVER);
    aio_yield();
    cr_assert_eq(aio_sem_waiting(&sem), 2);
    if (cancel_first) {
        aio_cancel(a);
        aio_sem_release(&sem);         /* a was woken by the cancel, has not run: b's turn */
    } else {
        aio_sem_release(&sem);         /* a has the permit, and is cancelled afterwards */
        aio_cancel(a);
    }
    int ra = aio_join(a, AIO_NEVER);
    int rb = aio_join(b, AIO_NEVER);
    cr_expect_eq(ra, cancel_first ? -ECANCELED : 0, "[sem-cancel] the waiter cancelled %s "
                 "the release returned %d", cancel_first ? "before" : "after", ra);
    cr_expect_eq(rb, 0, "[sem-cancel-next] the waiter behind the cancelled one got %d", rb);
    return 0;
}

Test(sem, cancel_before_release_same_pass)
{
    aio_sem_init(&sem, 1);
    cr_assert_eq(aio_run(cancel_main, (void *)1), 0);
    cr_expect_eq(aio_sem_value(&sem), 1, "[sem-lost] %d permits free at the end; expected 1",
                 aio_sem_value(&sem));
    cr_expect_eq(aio_sem_waiting(&sem), 0);
}

Test(sem, cancel_after_release_same_pass)
{
    aio_sem_init(&sem, 1);
    cr_assert_eq(aio_run(cancel_main, (void *)0), 0);
    cr_expect_eq(aio_sem_value(&sem), 1, "[sem-lost] %d permits free at the end; expected 1",
                 aio_sem_value(&sem));
    cr_expect_eq(aio_sem_waiting(&sem), 0);
}

/* equal deadlines: the waiter times out in the same pass as the release of the permit */
static int same_deadline_main(void *arg)
{
    (void)arg;
    cr_assert_eq(aio_sem_acquire(&sem, AIO_NEVER), 0);
    int64_t when = aio_now() + 30;
    aio_task *a = aio_spawn(acquire_until, (void *)(intptr_t)when);
    aio_yield();
    aio_task *b = aio_spawn(acquire_until, (void *)(intptr_t)AIO_NEVER);
    aio_yield();
    aio_sleep_until(when);
    aio_sem_release(&sem);
    int ra = aio_join(a, AIO_NEVER);
    cr_expect(ra == 0 || ra == -ETIMEDOUT);
    cr_expect_eq(aio_join(b, AIO_NEVER), 0, "[sem-cancel-next] the waiter behind a timed-out "
                 "one did not get the permit");
    return 0;
}

Test(sem, timeout_with_release_same_pass)
{
    aio_sem_init(&sem, 1);
    cr_assert_eq(aio_run(same_deadline_main, NULL), 0);
    cr_expect_eq(aio_sem_value(&sem), 1, "[sem-lost] %d permits free at the end; expected 1",
                 aio_sem_value(&sem));
}

static int stray_main(void *arg)
{
    (void)arg;
    cr_assert_eq(aio_sem_acquire(&sem, AIO_NEVER), 0);
    aio_task *a = aio_spawn(acquire_until, (void *)(intptr_t)AIO_NEVER);
    aio_yield();
    aio_unpark(a);                    /* not a release: it must stay queued */
    aio_yield();
    aio_yield();
    cr_expect_eq(nevents, 0, "[sem-stray] a stray aio_unpark() gave the waiter a permit");
    cr_expect_eq(aio_sem_waiting(&sem), 1);
    aio_sem_release(&sem);
    cr_expect_eq(aio_join(a, AIO_NEVER), 0);
    return 0;
}

Test(sem, stray_unpark_keeps_waiting)
{
    aio_sem_init(&sem, 1);
    cr_assert_eq(aio_run(stray_main, NULL), 0);
    cr_expect_eq(aio_sem_value(&sem), 1);
}

/* ---- refusals --------------------------------------------------------------------------- */

static int refusals_main(void *arg)
{
    (void)arg;
    cr_expect_eq(aio_sem_release(&sem), -EOVERFLOW, "[sem-overflow] a release without an "
                 "acquire was accepted");
    cr_expect_eq(aio_sem_value(&sem), 2);
    /* a free permit is taken even after the deadline */
    cr_expect_eq(aio_sem_acquire(&sem, aio_now() - 10), 0);
    aio_cancel(aio_current());
    cr_expect_eq(aio_sem_acquire(&sem, AIO_NEVER), -ECANCELED, "[sem-cancelled-entry] a "
                 "cancelled task acquired a free permit");
    cr_expect_eq(aio_sem_value(&sem), 1);
    cr_expect_eq(aio_sem_release(&sem), 0);
    return 0;
}

Test(sem, refusals)
{
    aio_sem zero;
    cr_expect_eq(aio_sem_init(&zero, -1), -EINVAL);
    cr_assert_eq(aio_sem_init(&zero, 0), 0);
    cr_expect_eq(aio_sem_release(&zero), -EOVERFLOW);
    cr_expect_eq(aio_sem_acquire(&zero, AIO_NEVER), -EPERM);   /* outside a task */
    aio_sem_init(&sem, 2);
    aio_run(refusals_main, NULL);
    cr_expect_eq(aio_sem_value(&sem), 2);
}
