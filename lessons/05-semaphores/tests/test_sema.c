/* Lesson 05 tests, part two: sema_acquire and sema_release. Who gets a permit and in which
 * order, how many tasks a release wakes (counted aio_unpark calls), what is on the queue
 * while tasks wait and after one gives up, the free count once everything has settled, and
 * the same-pass races: a waiter cancelled or timed out in the very pass a release picks it. */
#include "counted.h"
#include "fetch.h"
#include "sema.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "kit_test.h"

#define NOT_YET (-12345)   /* an acquire that has not returned */
#define MAX_PARKS 3        /* parks one acquire may make for one hand-over */

static const char *base;

static void setup(void)
{
    const char *args[] = { "--limit", "3", NULL };
    base = kit_server_start(args);
}

static void teardown(void)
{
    kit_cleanup();
    kit_server_stop();
}

TestSuite(sem, .init = setup, .fini = teardown, .timeout = 15);

/* A check inside a task: an assertion there would jump off the task's own stack, so the first
 * failure is written down, every helper task is cancelled, and the task returns; the test
 * function asserts it once the loop has ended. */
static char failure[1024];
static aio_task *helpers[16];
static int nhelpers;

static void bail(void)
{
    for (int i = 0; i < nhelpers; i++)
        if (helpers[i] != NULL && !aio_done(helpers[i]))
            aio_cancel(helpers[i]);
}

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            if (failure[0] == '\0')                                                            \
                snprintf(failure, sizeof failure, __VA_ARGS__);                                \
            bail();                                                                            \
            return -1;                                                                         \
        }                                                                                      \
    } while (0)
#define CHECK_EQ(a, b, ...) CHECK((a) == (b), __VA_ARGS__)
#define CHECK_NEQ(a, b, ...) CHECK((a) != (b), __VA_ARGS__)
#define CHECK_DONE(rc, func, file)                                                             \
    CHECK((rc) != -ENOSYS, "[not-done] %s still returns -ENOSYS: that is the skeleton's "     \
          "stub. Start at its TODO in %s (`make hint-%s` gives a hint).", (func), (file),      \
          kit_lesson())

/* The test function's side: run main in a loop, then report what a task wrote down. */
static void run_checked(aio_fn main_fn, void *arg)
{
    failure[0] = '\0';
    nhelpers = 0;
    int rc = aio_run(main_fn, arg);
    watching = 0;
    cr_assert(failure[0] == '\0', "%s", failure);
    cr_assert_eq(rc, 0, "[deadlock] the test's loop ended with %s: every task was waiting and "
                 "nothing could wake any of them (a waiter nobody will ever unpark, or a permit "
                 "that was never given back?).", kit_errname(rc));
}

/* Join a helper task and take it off the list bail() cancels. */
static int join_helper(aio_task *t)
{
    for (int i = 0; i < nhelpers; i++)
        if (helpers[i] == t)
            helpers[i] = NULL;
    return __real_aio_join(t, AIO_NEVER);
}

static aio_task *helper(aio_fn fn, void *arg)
{
    aio_task *t = __real_aio_spawn(fn, arg);
    if (nhelpers < 16)
        helpers[nhelpers++] = t;
    return t;
}

static struct sema *S;      /* the semaphore under test (kit_alloc'd) */

/* One task's acquire, and what happened. */
struct taker {
    int id;
    int64_t deadline;
    int hold_ms;           /* > 0: hold the permit this long, then release; 0: keep it */
    int rc;
    aio_task *task;
};

static int order[64];      /* ids in the order their acquire returned 0 */
static int norder;
static int holders, most_holders;

static int take(void *arg)
{
    struct taker *t = arg;

    t->rc = sema_acquire(S, t->deadline);
    if (t->rc != 0)
        return t->rc;
    order[norder++] = t->id;
    holders++;
    if (holders > most_holders)
        most_holders = holders;
    if (t->hold_ms > 0) {
        __real_aio_sleep(t->hold_ms);
        holders--;
        CHECK_EQ(sema_release(S), 0, "[release-return] sema_release returned nonzero.");
    }
    return 0;
}

static struct taker *takers(int n)
{
    struct taker *t = kit_alloc_array((size_t)n, sizeof *t);

    for (int i = 0; i < n; i++) {
        t[i].id = i;
        t[i].deadline = AIO_NEVER;
        t[i].rc = NOT_YET;
    }
    return t;
}

/* Let every ready task run until nothing is left to do now (uncounted yields). */
static void settle(void)
{
    for (int i = 0; i < 6; i++)
        __real_aio_yield();
}

static void reset_all(int permits)
{
    S = kit_alloc(sizeof *S);
    sema_init(S, permits);
    norder = holders = most_holders = 0;
    counted_reset();
    watching = 1;
}

/* How many nodes S's queue holds (at most 64 walked: a loop is reported as 65). */
static size_t queue_len(void)
{
    size_t n = 0;
    for (struct sema_waiter *w = S->head; w != NULL && n <= 64; w = w->next)
        n++;
    return n;
}

static int queue_has(aio_task *t)
{
    size_t n = 0;
    for (struct sema_waiter *w = S->head; w != NULL && n <= 64; w = w->next, n++)
        if (w->task == t)
            return 1;
    return 0;
}

/* Whatever a wrong answer left on the queue lives in dead frames once the loop ends. */
static void forget_queue(void)
{
    if (S != NULL)
        S->head = S->tail = NULL;
}

/* ---- the cap --------------------------------------------------------------------------- */

static int cap_main(void *arg)
{
    (void)arg;
    struct taker *t = takers(13);
    aio_task *h[13];
    int rc;

    for (int i = 0; i < 13; i++) {
        t[i].hold_ms = 20;
        h[i] = helper(take, &t[i]);
    }
    for (int i = 0; i < 13; i++)
        join_helper(h[i]);
    rc = t[0].rc;
    CHECK_DONE(rc, "sema_acquire", "sema.c");
    return 0;
}

/* How long the 13 holders may take: theory is 5 rounds of 20 ms (0.1 s); the bound is on the
 * time less what the busy machine kept the test from a CPU, with room for a stall that is not
 * counted as such. The evidence against a semaphore that polls is the count of parks and
 * waits, not the clock: a right answer parks once for each of the 10 acquires that wait. */
#define CAPS_SLOW_S 0.45

Test(sem, caps_holders)
{
    reset_all(3);
    double t0 = kit_wall(), busy0 = kit_starved_s();
    run_checked(cap_main, NULL);
    double wall = kit_wall() - t0, busy = kit_starved_s() - busy0;
    forget_queue();
    cr_assert(most_holders <= 3, "[sem-over-cap] %d tasks held a permit at once; the semaphore "
              "had 3.", most_holders);
    cr_assert_eq(norder, 13, "[sem-lost-waiter] only %d of 13 tasks got a permit.", norder);
    cr_assert_eq(most_holders, 3, "[sem-under-cap] at most %d tasks held a permit at once; the "
                 "semaphore had 3.", most_holders);
    cr_assert_eq(S->permits, 3, "[sem-count] after 13 acquires and 13 releases, %d permits are "
                 "free; expected 3.", S->permits);
    cr_assert(polls == 0 && parks <= 10 * 2, "[poll-acquire] 13 acquires of 3 permits, 10 of "
              "which had to wait, called aio_park() %ld times and aio_yield() or aio_sleep() "
              "%ld times: a waiter parks until a release hands it the permit (once, or twice "
              "at most), and never polls.", parks, polls);
    cr_assert(wall - busy < CAPS_SLOW_S, "[sem-slow] 13 holders of 20 ms, 3 at a time, took "
              "%.3f s (%.3f s once the time the busy machine kept it from a CPU is taken off); "
              "about 0.1 s expected. Does a release wake the waiter it hands its permit to?",
              wall, wall - busy);
    kit_expect_no_leaks("sema_acquire");
}

/* ---- FIFO and one wake-up a release --------------------------------------------------- */

static int fifo_main(void *arg)
{
    int *queue_order = arg;
    struct taker *t = takers(7);
    aio_task *h[7];

    for (int i = 0; i < 7; i++) {
        int id = queue_order[i];
        h[id] = helper(take, &t[id]);
        settle();                          /* it queues before the next one comes */
    }
    CHECK_DONE(t[queue_order[0]].rc == NOT_YET ? 0 : t[queue_order[0]].rc, "sema_acquire",
                    "sema.c");
    CHECK_EQ(norder, 0, "[sem-took-none] with 0 permits, %d acquires returned 0.", norder);
    for (int r = 0; r < 7; r++) {
        long before = unparks;
        int rc = sema_release(S);
        CHECK_DONE(rc, "sema_release", "sema.c");
        CHECK_EQ(rc, 0, "[release-return] sema_release with %d tasks waiting returned %d; "
                 "expected 0.", 7 - r, rc);
        CHECK(unparks - before <= 1, "[wake-all] one sema_release with %d tasks waiting "
                  "called aio_unpark() %ld times: a release wakes exactly one waiter.", 7 - r,
                  unparks - before);
        settle();
        CHECK_EQ(norder, r + 1, "[one-per-release] after %d %s, %d tasks held a permit; "
                     "each release hands out exactly one.", r + 1,
                     kit_plural(r + 1, "release", "releases"), norder);
        int pos = 0;
        while (pos < 7 && queue_order[pos] != order[r])
            pos++;
        CHECK_EQ(order[r], queue_order[r], "[not-fifo] release %d went to the waiter that "
                     "queued %d-th; it should go to the oldest one still waiting, which queued "
                     "%d-th (KIT_SEED=%u).", r + 1, pos + 1, r + 1, kit_seed());
    }
    for (int i = 0; i < 7; i++)
        join_helper(h[i]);
    return 0;
}

Test(sem, fifo_one_wakeup_each)
{
    int queue_order[7];
    size_t idx[7];
    uint32_t st = kit_seed();

    kit_shuffle(idx, 7, &st);
    for (int i = 0; i < 7; i++)
        queue_order[i] = (int)idx[i];
    reset_all(0);
    run_checked(fifo_main, queue_order);
    forget_queue();
    cr_assert(parks <= 7 * 2, "[poll-acquire] 7 waiters parked %ld times for 7 hand-overs.",
              parks);
    cr_assert_eq(S->permits, 0, "[sem-count] 7 permits released to 7 waiters left %d free; "
                 "expected 0.", S->permits);
    kit_expect_no_leaks("sema_acquire");
}

/* ---- no overtaking ---------------------------------------------------------------------- */

static int overtake_main(void *arg)
{
    (void)arg;
    struct taker *t = takers(1);
    int rc = sema_acquire(S, AIO_NEVER);
    CHECK_DONE(rc, "sema_acquire", "sema.c");
    CHECK_EQ(rc, 0, "[free-permit] sema_acquire of a free permit returned %s.",
                 kit_errname(rc));
    aio_task *h = helper(take, &t[0]);
    settle();
    CHECK_DONE(sema_release(S), "sema_release", "sema.c");
    /* The same pass: the woken waiter has not run yet, and this task asks again. */
    rc = sema_acquire(S, aio_now());
    CHECK_NEQ(rc, 0, "[overtake] a task released its permit to a waiting task and took it "
                  "back at once with sema_acquire, before the waiter ran: a newcomer must queue "
                  "behind the waiters.");
    join_helper(h);
    CHECK_EQ(t[0].rc, 0, "[overtake] the waiter got %s after the release.",
                 kit_errname(t[0].rc));
    return 0;
}

Test(sem, no_overtaking)
{
    reset_all(1);
    run_checked(overtake_main, NULL);
    forget_queue();
    kit_expect_no_leaks("sema_acquire");
}

/* ---- timeouts and cancellations ------------------------------------------------------- */

static int timeout_main(void *arg)
{
    (void)arg;
    struct taker *t = takers(2);
    int rc = sema_acquire(S, AIO_NEVER);
    CHECK_DONE(rc, "sema_acquire", "sema.c");
    t[0].deadline = aio_now() + 40;
    aio_task *a = helper(take, &t[0]);
    aio_task *b = helper(take, &t[1]);
    settle();
    long parks_before = parks;
    __real_aio_sleep(120);
    CHECK_EQ(t[0].rc, -ETIMEDOUT, "[timeout-ignored] a waiter with a 40 ms deadline had "
                 "%s 120 ms later; expected -ETIMEDOUT.",
                 t[0].rc == NOT_YET ? "not returned" : kit_errname(t[0].rc));
    CHECK(parks - parks_before <= 1, "[poll-acquire] while no permit came free for "
              "120 ms, the waiters called aio_park() %ld times: a waiter sleeps until a "
              "release, its deadline or a cancellation.", parks - parks_before);
    CHECK(!queue_has(a), "[stale-waiter] the waiter that timed out is still on the queue.");
    CHECK_EQ(queue_len(), 1, "[queue-length] after one of two waiters timed out, the "
                 "queue holds %zu nodes; expected 1.", queue_len());
    sema_release(S);
    join_helper(a);
    join_helper(b);
    CHECK_EQ(t[1].rc, 0, "[timeout-leak] the waiter behind the one that timed out got %s "
                 "after a release.", kit_errname(t[1].rc));
    return 0;
}

Test(sem, timeout_takes_nothing)
{
    reset_all(1);
    run_checked(timeout_main, NULL);
    forget_queue();
    kit_expect_no_leaks("sema_acquire");
}

/* mode 0: cancel the head waiter, then release in the same pass; 1: release, then cancel the
 * head waiter in the same pass; 2: the head waiter's deadline and the release at one time. */
static int race_main(void *arg)
{
    int mode = (int)(intptr_t)arg;
    struct taker *t = takers(2);
    int rc = sema_acquire(S, AIO_NEVER);
    CHECK_DONE(rc, "sema_acquire", "sema.c");
    int64_t when = aio_now() + 40;
    t[0].hold_ms = t[1].hold_ms = 10;
    if (mode == 2)
        t[0].deadline = when;
    aio_task *a = helper(take, &t[0]);
    settle();
    aio_task *b = helper(take, &t[1]);
    settle();
    if (mode == 0) {
        aio_cancel(a);
        sema_release(S);
    } else if (mode == 1) {
        sema_release(S);
        aio_cancel(a);
    } else {
        __real_aio_sleep(when - aio_now());
        sema_release(S);
    }
    /* b must get the permit in every case, without anybody releasing again */
    int64_t until = aio_now() + 300;
    while (t[1].rc == NOT_YET && aio_now() < until)
        __real_aio_sleep(5);
    CHECK_EQ(t[1].rc, 0, "[cancel-leak] the first waiter was %s in the same pass as the "
                 "release that could pick it, and the waiter behind it %s: a waiter that "
                 "returns an error must pass on a permit handed to it.",
                 mode == 0 ? "cancelled" : mode == 1 ? "cancelled" : "timed out",
                 t[1].rc == NOT_YET ? "never got the permit" : "failed");
    join_helper(a);
    join_helper(b);
    if (mode == 0)
        CHECK_EQ(t[0].rc, -ECANCELED, "[cancel-ignored] a waiter cancelled before the "
                     "release returned %s; expected -ECANCELED.", kit_errname(t[0].rc));
    return 0;
}

static void race(int mode)
{
    reset_all(1);
    run_checked(race_main, (void *)(intptr_t)mode);
    forget_queue();
    cr_assert_eq(S->permits, 1, "[permit-lost] once every holder had released, %d permits were "
                 "free; the semaphore had 1. A waiter %s in the same pass as a release %s.",
                 S->permits, mode == 2 ? "timed out" : "cancelled",
                 S->permits < 1 ? "lost the permit handed to it" : "made a permit twice");
    cr_assert_eq(queue_len(), 0, "[stale-waiter] the queue still holds %zu nodes.",
                 queue_len());
    kit_expect_no_leaks("sema_acquire");
}

Test(sem, cancel_then_release_same_pass) { race(0); }
Test(sem, release_then_cancel_same_pass) { race(1); }
Test(sem, timeout_with_release_same_pass) { race(2); }

/* ---- free permits, deadlines, stray wake-ups ------------------------------------------ */

static int edges_main(void *arg)
{
    (void)arg;
    struct taker *t = takers(1);
    int rc = sema_acquire(S, AIO_NEVER);
    CHECK_DONE(rc, "sema_acquire", "sema.c");
    CHECK_EQ(rc, 0, "[free-permit] sema_acquire with 2 free permits returned %s.",
                 kit_errname(rc));
    rc = sema_acquire(S, aio_now() + 1000);
    CHECK_EQ(rc, 0, "[free-permit] a second sema_acquire with 1 free permit returned %s.",
                 kit_errname(rc));
    CHECK_EQ(parks, 0, "[parked-when-free] sema_acquire parked %ld times with a permit "
                 "free and nobody waiting.", parks);
    int64_t t0 = aio_now();
    double busy0 = kit_starved_s();
    rc = sema_acquire(S, t0 + 30);
    int64_t took = aio_now() - t0;
    /* the upper bound on the time less what the busy machine kept the test from a CPU */
    int64_t net = took - (int64_t)((kit_starved_s() - busy0) * 1000);
    CHECK_EQ(rc, -ETIMEDOUT, "[timeout-ignored] sema_acquire with nothing free and a 30 ms "
                 "deadline returned %s.", kit_errname(rc));
    CHECK(took >= 25 && net < 400, "[acquire-deadline] it returned after %lld ms (%lld ms once "
              "the time the busy machine kept it from a CPU is taken off), for a 30 ms "
              "deadline.", (long long)took, (long long)net);
    CHECK_EQ(queue_len(), 0, "[stale-waiter] after a timed-out acquire the queue holds %zu "
                 "nodes.", queue_len());
    /* a deadline beyond INT_MAX ms, and a stray wake-up */
    t[0].deadline = aio_now() + (int64_t)INT_MAX + 1000;
    aio_task *a = helper(take, &t[0]);
    settle();
    CHECK_EQ(t[0].rc, NOT_YET, "[far-deadline] sema_acquire with a deadline %lld ms away "
                 "returned %s at once.", (long long)INT_MAX + 1000, kit_errname(t[0].rc));
    __real_aio_unpark(a);
    settle();
    CHECK_EQ(t[0].rc, NOT_YET, "[stray-wakeup] another task called aio_unpark() on a "
                 "waiter without releasing, and its sema_acquire returned %s: a wake-up is not "
                 "a permit.", kit_errname(t[0].rc));
    CHECK(queue_has(a), "[stray-wakeup] after a stray aio_unpark() the waiter was no longer "
              "on the queue.");
    sema_release(S);
    join_helper(a);
    CHECK_EQ(t[0].rc, 0, "[far-deadline] the waiter got %s after a release.",
                 kit_errname(t[0].rc));
    sema_release(S);
    return 0;
}

Test(sem, free_permits_deadlines_stray)
{
    reset_all(2);
    run_checked(edges_main, NULL);
    forget_queue();
    cr_assert_eq(S->permits, 1, "[sem-count] 2 permits, 3 taken, 2 given back: %d free; "
                 "expected 1.", S->permits);
    kit_expect_no_leaks("sema_acquire");
}

/* ---- a whole batch capped by it -------------------------------------------------------- */

struct my_batch {
    struct fetch f[13];
    char *url[13];
    int rc;
};

static int my_batch_main(void *arg)
{
    struct my_batch *m = arg;
    aio_http *c = aio_http_new();

    if (c == NULL)
        return -ENOMEM;
    m->rc = fetch_with_my_sem(c, m->f, 13, 3, aio_now() + 1000);
    aio_http_free(c);
    return 0;
}

static void free_my_batch(void *arg)
{
    struct my_batch *m = arg;
    fetches_free(m->f, 13);
}

Test(sem, caps_a_batch)
{
    struct my_batch *m = kit_alloc(sizeof *m);
    struct kit_stats st;

    for (int i = 0; i < 13; i++) {
        m->url[i] = kit_sprintf("%s/limited?delay_ms=50&tag=%d", base, i);
        m->f[i].url = m->url[i];
    }
    kit_defer(free_my_batch, m);
    counted_reset();
    watching = 1;
    cr_assert_eq(kit_stats_reset(base), 0, "[server] could not reset the server's counts");
    cr_assert_eq(aio_run(my_batch_main, m), 0);
    watching = 0;
    kit_expect_done(m->rc, "sema_acquire or sema_release", "sema.c");
    cr_assert_eq(kit_stats_get(base, &st), 0, "[server] could not read /stats");
    cr_assert(inflight_peak <= 3, "[sem-over-cap] capped by your struct sema of 3, %ld requests "
              "were in flight at once.", inflight_peak);
    cr_assert_eq(kit_stats_status(base, 429), 0, "[sem-got-429] capped by your struct sema of 3, "
                 "the server answered 429 %ld times.", kit_stats_status(base, 429));
    cr_assert_eq(inflight_peak, 3, "[sem-under-cap] capped by your struct sema of 3, at most %ld "
                 "requests were in flight at once.", inflight_peak);
    cr_assert_eq(m->rc, 0, "[sem-batch] the batch capped by your struct sema returned %s.",
                 kit_errname(m->rc));
    kit_expect_no_leaks("sema_acquire");
}
