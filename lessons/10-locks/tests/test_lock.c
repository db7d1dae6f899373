/* Lesson 10 tests, part one: the lock. The witnesses: each task's return value and the order
 * in which the tasks got the lock against the order they began to wait; how many were inside
 * at once and a balance that every holder reads before an await and writes after it (a lost
 * update shows); lock_holder() and lock_waiting() after each step; the parks, unparks and
 * polling calls counted (LDWRAP). The test waits for evidence (every task has begun to wait,
 * a task has parked again), never a fixed sleep. */
#include "counted.h"
#include "kit.h"
#include "lock.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kit_test.h"

TestSuite(lock, .timeout = 20);

#define WORKERS_MAX 40
#define NOT_RUN 77777

/* One task that takes the lock, stays inside for `hold` turns and gives it back. */
struct worker {
    struct lock *l;
    int64_t deadline;
    int hold;                  /* uncounted aio_yield()s inside */
    int rounds;                /* times it takes the lock (1 when 0) */
    int rc;                    /* lock_acquire's last result, NOT_RUN before */
    int release_rc;            /* lock_release's last result, NOT_RUN before */
    int holder_ok;             /* lock_holder() named it each time it got the lock */
    int began;                 /* the order it began to wait (0 first), -1 before */
    int got;                   /* the order it got the lock (0 first), -1 never */
    int done;
    int64_t began_at, done_at;
    const char *frame;         /* worker_fn's frame: lock_acquire's lies just below it */
    aio_task *t;
};

/* What the scene saw, and the balance every holder updates across an await. */
static int began_count, got_count, inside, inside_max;
static long balance;

static int worker_fn(void *arg)
{
    struct worker *w = arg;
    int rounds = w->rounds > 0 ? w->rounds : 1;

    w->frame = __builtin_frame_address(0);
    w->holder_ok = 1;
    for (int r = 0; r < rounds; r++) {
        if (w->began < 0)
            w->began = began_count++;
        w->began_at = aio_now();
        w->rc = lock_acquire(w->l, w->deadline);
        if (w->rc != 0)
            break;
        w->holder_ok &= lock_holder(w->l) == aio_current();
        if (w->got < 0)
            w->got = got_count++;
        if (++inside > inside_max)
            inside_max = inside;
        long seen = balance;               /* read before the await... */
        for (int k = 0; k < w->hold; k++)
            __real_aio_yield();
        balance = seen + 1;                /* ...written after it */
        inside--;
        w->release_rc = lock_release(w->l);
    }
    w->done = 1;
    w->done_at = aio_now();
    return 0;
}

static void worker_init(struct worker *w, struct lock *l, int64_t deadline, int hold)
{
    *w = (struct worker){ .l = l, .deadline = deadline, .hold = hold, .rc = NOT_RUN,
                          .release_rc = NOT_RUN, .began = -1, .got = -1 };
}

static void start(struct worker *w)
{
    w->t = __real_aio_spawn(worker_fn, w);
}

static void finish(struct worker *w)
{
    if (w->t != NULL)
        __real_aio_join(w->t, AIO_NEVER);
    w->t = NULL;
}

static int started(const struct worker *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (w[i].began < 0 && !w[i].done)
            return 0;
    return 1;
}

/* The scene: the test's own steps inside a loop, with the counters reset and watched. */
struct scene {
    int (*steps)(struct scene *s);
    struct lock l;
    struct worker w[WORKERS_MAX];
    size_t n;
    int rc[8];                 /* what the steps' own calls returned */
    long count[8];             /* counts the steps took at given moments */
    struct kit_wait wait;      /* the steps' premise */
    int stale;                 /* a returned waiter's node was found on the queue */
    int left_queued;           /* nodes on the queue once every worker had returned */
};

/* Is p inside the frame of a worker that has returned (its lock_acquire's node, left on the
 * queue)? Worker stacks are their own; lock_acquire's frame lies just below worker_fn's. */
static int in_dead_frame(const struct scene *s, const void *p)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct worker *w = &s->w[i];
        if (w->done && w->frame != NULL && (const char *)p < w->frame &&
            (const char *)p >= w->frame - 16384)
            return 1;
    }
    return 0;
}

/* lock_waiting(), without reading a dead frame: -1 when a node of a waiter that has returned
 * is still on the queue. Then the queue is dropped and the waiters still queued are
 * cancelled, so that the scene can end instead of crashing. */
static long waiting_checked(struct scene *s)
{
    long n = 0;

    for (const struct lock_waiter *p = s->l.head; p != NULL; p = p->next) {
        if (in_dead_frame(s, p)) {
            s->stale = 1;
            s->l.head = s->l.tail = NULL;
            for (size_t i = 0; i < s->n; i++)
                if (!s->w[i].done && s->w[i].t != NULL)
                    aio_cancel(s->w[i].t);
            return -1;
        }
        n++;
    }
    return n;
}

static int scene_main(void *arg)
{
    struct scene *s = arg;

    counted_reset();
    began_count = got_count = inside = inside_max = 0;
    balance = 0;
    for (size_t i = 0; i < 8; i++)
        s->rc[i] = NOT_RUN;
    watching = 1;
    int rc = s->steps(s);
    watching = 0;
    for (size_t i = 0; i < s->n; i++)
        finish(&s->w[i]);
    /* Every worker has returned: whatever is still queued lives in a dead frame. */
    s->left_queued = s->l.head != NULL;
    s->l.head = s->l.tail = NULL;
    if (s->left_queued)
        s->l.holder = NULL;
    return rc;
}

static void expect_no_polling(void);

static void run(struct scene *s)
{
    lock_init(&s->l);
    int rc = aio_run(scene_main, s);
    cr_assert_eq(rc, 0, "[deadlock] the test's loop ended with %s: every task was waiting and "
                 "nothing could wake any of them.", kit_errname(rc));
    for (size_t i = 0; i < 8; i++)
        kit_expect_done(s->rc[i], i % 2 ? "lock_release" : "lock_acquire", "lock.c");
    for (size_t i = 0; i < s->n; i++) {
        kit_expect_done(s->w[i].rc, "lock_acquire", "lock.c");
        kit_expect_done(s->w[i].release_rc, "lock_release", "lock.c");
    }
    kit_expect_waited(&s->wait);
    expect_no_polling();
}

/* Waits until every one of the scene's workers has begun to wait (or ended). */
static void until_all_wait(struct scene *s, const char *what)
{
    s->wait.what = what;
    kit_wait_until(&s->wait, started(s->w, s->n), __real_aio_yield());
}

static void expect_free(const struct scene *s, const char *after)
{
    cr_assert(!s->left_queued, "[waiter-left-queued] after %s, with every task returned, the "
              "lock's queue still held a waiter's node: lock_acquire takes its node off the "
              "queue on every way out (the node dies with its frame).", after);
    cr_assert(lock_holder(&s->l) == NULL, "[lock-left-held] after %s the lock still has a "
              "holder; expected it free.", after);
}

static void expect_not_stale(const struct scene *s, const char *how)
{
    cr_assert(!s->stale, "[%s] a waiter that %s returned from lock_acquire and left its node "
              "on the lock's queue: the node lives in lock_acquire's frame, so it must be off "
              "the queue before lock_acquire returns, whatever the reason it returns.",
              strstr(how, "cancel") ? "cancelled-waiter-kept" : "timed-out-waiter-kept", how);
}

static void expect_no_polling(void)
{
    cr_assert(polls == 0 && blocking_calls == 0, "[lock-polls] the lock called aio_yield, "
              "aio_sleep or aio_sleep_until %ld %s and blocked the thread %ld %s: a waiter "
              "sleeps in aio_park() until a release wakes it.", polls,
              kit_plural(polls, "time", "times"), blocking_calls,
              kit_plural(blocking_calls, "time", "times"));
}

/* ---- one task ----------------------------------------------------------------------------- */

static int steps_alone(struct scene *s)
{
    aio_task *me = aio_current();

    s->rc[0] = lock_acquire(&s->l, aio_now() - 10);     /* free: taken, past deadline or not */
    s->count[0] = parks;
    s->count[1] = lock_holder(&s->l) == me;
    s->rc[2] = lock_acquire(&s->l, aio_now() + 50);     /* held by the caller itself */
    s->count[2] = lock_holder(&s->l) == me && lock_waiting(&s->l) == 0;
    s->rc[1] = lock_release(&s->l);
    s->count[3] = lock_holder(&s->l) == NULL;
    s->rc[3] = lock_release(&s->l);                     /* nobody holds it */
    s->rc[4] = lock_acquire(&s->l, AIO_NEVER);          /* again, kept past the loop's end */
    s->count[4] = parks;
    return 0;
}

Test(lock, one_task)
{
    struct scene s = { .steps = steps_alone };
    run(&s);
    cr_assert(s.rc[0] == 0 && s.count[0] == 0 && s.count[1], "[lock-free-waits] a free lock "
              "nobody waits for, asked with a deadline already past: lock_acquire returned %s "
              "after %ld %s, and the caller %s the holder; expected 0 at once, the caller "
              "holding it.", kit_errname(s.rc[0]), s.count[0],
              kit_plural(s.count[0], "park", "parks"), s.count[1] ? "is" : "is not");
    cr_assert(s.rc[2] == -EDEADLK && s.count[2], "[lock-reentry] the holder asked for its own "
              "lock again and got %s%s; expected -EDEADLK at once, the lock left as it was "
              "(held by the caller, nobody queued).", kit_errname(s.rc[2]),
              s.count[2] ? "" : ", and the lock changed");
    cr_assert(s.rc[1] == 0 && s.count[3], "[lock-still-held] the holder's lock_release returned "
              "%s and the lock %s; expected 0 and a free lock.", kit_errname(s.rc[1]),
              s.count[3] ? "is free" : "still has a holder");
    cr_assert_eq(s.rc[3], -EPERM, "[release-unheld] lock_release of a lock nobody holds "
                 "returned %s; expected -EPERM: a release without its acquire is refused.",
                 kit_errname(s.rc[3]));
    cr_assert(s.rc[4] == 0 && s.count[4] == 0, "[lock-free-waits] a free lock (after a "
              "release) returned %s after %ld %s; expected 0 at once.", kit_errname(s.rc[4]),
              s.count[4], kit_plural(s.count[4], "park", "parks"));
    /* The loop is over: no task is running, so nobody is the holder. */
    aio_task *was = lock_holder(&s.l);
    int outside = lock_release(&s.l);
    cr_assert(outside == -EPERM && lock_holder(&s.l) == was, "[release-unheld] lock_release "
              "outside any task returned %s%s; expected -EPERM with the lock unchanged: only "
              "its holder may release it.", kit_errname(outside),
              lock_holder(&s.l) == was ? "" : " and changed the lock");
    struct lock free_lock;
    lock_init(&free_lock);
    int rc = lock_acquire(&free_lock, AIO_NEVER);
    cr_assert(rc == -EPERM && lock_holder(&free_lock) == NULL, "[lock-outside-task] "
              "lock_acquire outside any task returned %s; expected -EPERM, the lock untouched.",
              kit_errname(rc));
    rc = lock_release(&free_lock);
    cr_assert_eq(rc, -EPERM, "[release-unheld] lock_release of a free lock, outside any task, "
                 "returned %s; expected -EPERM: nobody holds it, so nobody may release it.",
                 kit_errname(rc));
    kit_expect_no_leaks("lock_acquire");
}

/* ---- many tasks --------------------------------------------------------------------------- */

static int steps_balance(struct scene *s)
{
    for (size_t i = 0; i < s->n; i++) {
        worker_init(&s->w[i], &s->l, AIO_NEVER, 1 + (int)(i % 3));
        s->w[i].rounds = 3;
        start(&s->w[i]);
    }
    for (size_t i = 0; i < s->n; i++)
        finish(&s->w[i]);
    return 0;
}

Test(lock, thirteen_tasks_update_a_balance)
{
    struct scene s = { .steps = steps_balance, .n = 13 };
    run(&s);
    for (size_t i = 0; i < s.n; i++)
        cr_assert(s.w[i].rc == 0 && s.w[i].release_rc == 0 && s.w[i].holder_ok,
                  "[lock-rc] task %zu of 13 got %s from lock_acquire and %s from lock_release "
                  "(and was %s the holder inside); expected 0 and 0, the holder each time.", i,
                  kit_errname(s.w[i].rc), kit_errname(s.w[i].release_rc),
                  s.w[i].holder_ok ? "" : "not always");
    cr_assert(inside_max == 1 && balance == 39, "[two-holders] %d tasks were inside at once "
              "and the balance is %ld after 39 updates; expected 1 inside at a time and 39: "
              "each update reads the balance, awaits, then writes it, so a second task inside "
              "loses an update.", inside_max, balance);
    cr_assert(parks <= 39, "[lock-spins] 39 acquires parked %ld times; a waiter parks once and "
              "wakes holding the lock.", parks);
    expect_free(&s, "every task gave its lock back");
    kit_expect_no_leaks("lock_acquire");
}

/* The test holds the lock while 33 tasks, spawned in a shuffled order, queue for it. */
static uint32_t fifo_seed;

static int steps_fifo(struct scene *s)
{
    size_t order[WORKERS_MAX];
    uint32_t state = fifo_seed;

    s->rc[0] = lock_acquire(&s->l, AIO_NEVER);
    kit_shuffle(order, s->n, &state);
    for (size_t i = 0; i < s->n; i++) {
        worker_init(&s->w[order[i]], &s->l, AIO_NEVER, 1);
        start(&s->w[order[i]]);
    }
    until_all_wait(s, "33 tasks to queue for the lock");
    s->count[0] = waiting_checked(s);
    s->count[1] = parks;
    s->count[2] = unparks;
    s->rc[1] = lock_release(&s->l);
    for (size_t i = 0; i < s->n; i++)
        finish(&s->w[i]);
    return 0;
}

Test(lock, thirty_three_in_queue_order)
{
    fifo_seed = kit_seed();
    struct scene s = { .steps = steps_fifo, .n = 33 };
    run(&s);
    cr_assert_eq(s.rc[0], 0, "[lock-free-waits] a free lock returned %s", kit_errname(s.rc[0]));
    cr_assert(s.count[2] == 0, "[lock-wakes-early] while the test held the lock, %ld %s made: "
              "nothing should wake a waiter before a release.", s.count[2],
              kit_plural(s.count[2], "unpark was", "unparks were"));
    for (size_t i = 0; i < s.n; i++) {
        const struct worker *w = &s.w[i];
        cr_assert(w->rc == 0 && w->release_rc == 0, "[lock-rc] task %zu of 33 got %s from "
                  "lock_acquire and %s from lock_release; expected 0 and 0.", i,
                  kit_errname(w->rc), kit_errname(w->release_rc));
        cr_assert_eq(w->got, w->began, "[lock-not-fifo] the task that began to wait %s got "
                     "the lock %s (seed %u); expected the lock to go in the order the waits "
                     "began.", kit_ordinal(w->began + 1), kit_ordinal(w->got + 1), fifo_seed);
    }
    cr_assert(parks == 33 && unparks == 33, "[lock-wake-all] 33 waiters parked %ld times and "
              "were unparked %ld times; expected 33 and 33: each release wakes exactly the one "
              "task it hands the lock to.", parks, unparks);
    cr_assert(inside_max == 1 && balance == 33, "[two-holders] %d tasks were inside at once; "
              "balance %ld of 33.", inside_max, balance);
    expect_free(&s, "33 tasks took and gave back the lock");
    kit_expect_no_leaks("lock_acquire");
}

/* The test releases and asks again at once (no await between) while B waits; C was spawned
 * just before the release, so it runs before B. */
static int steps_barging(struct scene *s)
{
    s->rc[0] = lock_acquire(&s->l, AIO_NEVER);
    worker_init(&s->w[0], &s->l, AIO_NEVER, 2);
    start(&s->w[0]);
    s->n = 1;
    until_all_wait(s, "task B to queue for the lock");
    worker_init(&s->w[1], &s->l, AIO_NEVER, 2);
    start(&s->w[1]);
    s->rc[1] = lock_release(&s->l);
    s->rc[2] = lock_acquire(&s->l, aio_now() + 3000);
    s->count[0] = got_count;        /* how many workers had the lock before the test again */
    s->count[1] = s->w[1].began;    /* C's place in the queue (-1: not yet asked) */
    s->rc[3] = lock_release(&s->l);
    s->n = 2;
    finish(&s->w[1]);
    return 0;
}

Test(lock, no_barging)
{
    struct scene s = { .steps = steps_barging };
    run(&s);
    cr_assert_eq(s.rc[1], 0, "[lock-rc] the holder's lock_release returned %s",
                 kit_errname(s.rc[1]));
    cr_assert(s.rc[2] == 0 && s.count[0] >= 1, "[lock-barging] a task released the lock and "
              "at once asked for it again while task B waited: %s%s; expected B to hold it "
              "first, the asker to queue behind B. Does a release leave the lock free for "
              "whoever runs next, instead of handing it to the oldest waiter?",
              s.rc[2] == 0 ? "the releaser got it back first" :
              "the releaser's second lock_acquire returned ", s.rc[2] == 0 ? "" :
              kit_errname(s.rc[2]));
    cr_assert(s.count[0] == 1 && s.w[0].got == 0 && s.w[1].rc == 0 && s.w[1].got == 1,
              "[lock-barging] task C asked after a release had chosen B, before B had run: C "
              "got the lock %s (%s), %s the releaser, who had asked first; expected B, then "
              "the releaser, then C. Does a release leave the lock free for whoever runs "
              "next, instead of handing it to the oldest waiter?",
              s.w[1].got == 0 ? "before B" : "after B", kit_errname(s.w[1].rc),
              s.count[0] == 1 ? "after" : "before");
    cr_assert(s.w[0].rc == 0 && s.w[0].release_rc == 0, "[lock-rc] task B got %s and %s",
              kit_errname(s.w[0].rc), kit_errname(s.w[0].release_rc));
    expect_free(&s, "every task gave its lock back");
    kit_expect_no_leaks("lock_release");
}

/* ---- deadlines, cancels, stray wake-ups, the wrong releaser -------------------------------- */

/* The test holds the lock; W0 and W2 queue with the same deadline 40 ms away, W1 between them
 * with a deadline far beyond INT_MAX ms, W3 with none. */
static int steps_timeouts(struct scene *s)
{
    s->rc[0] = lock_acquire(&s->l, AIO_NEVER);
    int64_t t0 = aio_now();
    worker_init(&s->w[0], &s->l, t0 + 40, 1);
    worker_init(&s->w[1], &s->l, INT64_MAX, 1);
    worker_init(&s->w[2], &s->l, t0 + 40, 1);
    worker_init(&s->w[3], &s->l, AIO_NEVER, 1);
    for (size_t i = 0; i < 4; i++)
        start(&s->w[i]);
    s->n = 4;
    until_all_wait(s, "4 tasks to queue for the lock");
    struct kit_wait w = { .what = "the two waiters' deadlines to pass" };
    kit_wait_until(&w, (s->w[0].done && s->w[2].done) || aio_now() > t0 + 4000,
                   __real_aio_sleep(2));
    s->count[0] = waiting_checked(s);
    s->count[1] = lock_holder(&s->l) == aio_current();
    s->count[2] = s->w[1].done || s->w[3].done;
    s->count[3] = aio_now() - t0;
    s->rc[1] = lock_release(&s->l);
    finish(&s->w[1]);
    finish(&s->w[3]);
    return 0;
}

Test(lock, timeouts_leave_the_queue)
{
    struct scene s = { .steps = steps_timeouts };
    run(&s);
    expect_not_stale(&s, "timed out");
    for (size_t i = 0; i < 4; i += 2) {
        const struct worker *w = &s.w[i];
        cr_assert_eq(w->rc, -ETIMEDOUT, "[lock-timeout-rc] a waiter whose deadline (40 ms) "
                     "passed while the lock stayed held got %s; expected -ETIMEDOUT.",
                     kit_errname(w->rc));
        cr_assert(w->done_at >= w->deadline, "[lock-timeout-early] a waiter with a 40 ms "
                  "deadline gave up %lld ms before it.", (long long)(w->deadline - w->done_at));
        cr_assert(w->got < 0, "[lock-timeout-rc] a waiter that timed out had the lock");
    }
    cr_assert(s.count[2] == 0 && s.count[1], "[lock-timeout-rc] the waiters without a near "
              "deadline %s while the test still held the lock.",
              s.count[2] ? "returned" : "were fine, but the test lost its lock");
    cr_assert(s.count[0] <= 2, "[timed-out-waiter-kept] after two waiters timed out, %ld %s "
              "queued; expected the 2 still waiting: a waiter that gives up leaves the "
              "queue before it returns.", s.count[0], kit_plural(s.count[0], "task is",
              "tasks are"));
    cr_assert(s.count[0] == 2, "[waiter-not-queued] %ld %s queued while 2 waited for the "
              "lock: every waiter is on the lock's queue (lock_waiter_append), so that a "
              "release can hand the lock to the oldest.", s.count[0],
              kit_plural(s.count[0], "task was", "tasks were"));
    cr_assert(s.w[1].rc == 0 && s.w[3].rc == 0 && s.w[1].got == 0 && s.w[3].got == 1,
              "[lock-after-timeout] after the release the two remaining waiters got %s and "
              "%s, in the order %d, %d; expected 0 and 0, the earlier first. A deadline beyond "
              "INT_MAX ms is a deadline like any other.", kit_errname(s.w[1].rc),
              kit_errname(s.w[3].rc), s.w[1].got, s.w[3].got);
    expect_free(&s, "two timed out and two took and gave back the lock");
    kit_expect_no_leaks("lock_acquire");
}

/* A deadline already past with the lock held: -ETIMEDOUT, off the queue. */
static int steps_past(struct scene *s)
{
    s->rc[0] = lock_acquire(&s->l, AIO_NEVER);
    worker_init(&s->w[0], &s->l, aio_now() - 1, 1);
    start(&s->w[0]);
    s->n = 1;
    struct kit_wait w = { .what = "the waiter to give up" };
    kit_wait_until(&w, s->w[0].done, __real_aio_sleep(1));
    s->count[0] = waiting_checked(s);
    s->rc[1] = lock_release(&s->l);
    s->count[1] = lock_holder(&s->l) == NULL;
    return 0;
}

Test(lock, deadline_already_past)
{
    struct scene s = { .steps = steps_past };
    run(&s);
    expect_not_stale(&s, "timed out");
    cr_assert_eq(s.w[0].rc, -ETIMEDOUT, "[lock-timeout-rc] a waiter whose deadline had "
                 "already passed, with the lock held, got %s; expected -ETIMEDOUT.",
                 kit_errname(s.w[0].rc));
    cr_assert(s.count[0] == 0 && s.count[1], "[timed-out-waiter-kept] a waiter that timed out "
              "left %ld %s in the queue, and after the holder's release the lock %s; "
              "expected an empty queue and a free lock.", s.count[0],
              kit_plural(s.count[0], "task", "tasks"), s.count[1] ? "was free" :
              "went to the task that had given up");
    kit_expect_no_leaks("lock_acquire");
}

/* W0 is cancelled while it waits; W1 waits behind it. With `handed` the test cancels W0 and
 * releases in the same pass, so the release picks W0 before W0 runs again. */
static int handed;

static int steps_cancel(struct scene *s)
{
    s->rc[0] = lock_acquire(&s->l, AIO_NEVER);
    for (size_t i = 0; i < s->n; i++) {
        worker_init(&s->w[i], &s->l, aio_now() + 3000, 1);
        start(&s->w[i]);
    }
    until_all_wait(s, "the waiters to queue for the lock");
    aio_cancel(s->w[0].t);
    if (!handed) {
        struct kit_wait w = { .what = "the cancelled waiter to return" };
        kit_wait_until(&w, s->w[0].done, __real_aio_yield());
        s->count[0] = waiting_checked(s);
    }
    s->rc[1] = lock_release(&s->l);
    for (size_t i = 0; i < s->n; i++)
        finish(&s->w[i]);
    s->count[1] = lock_holder(&s->l) == NULL;
    return 0;
}

static void expect_cancelled(const struct scene *s, const char *when)
{
    cr_assert_eq(s->w[0].rc, -ECANCELED, "[lock-cancel-rc] a waiter cancelled %s got %s; "
                 "expected -ECANCELED.", when, kit_errname(s->w[0].rc));
    cr_assert(s->w[0].got < 0, "[lock-cancel-rc] the cancelled waiter had the lock");
    if (s->n > 1)
        cr_assert(s->w[1].rc == 0 && s->w[1].release_rc == 0, "[lock-lost-handoff] a waiter "
                  "was cancelled %s; the waiter behind it got %s from lock_acquire "
                  "(3 s deadline); expected 0: the lock goes on to the next waiter, never "
                  "to a task that has given up.", when, kit_errname(s->w[1].rc));
    cr_assert(s->count[1], "[lock-lost-handoff] a waiter was cancelled %s, and after every "
              "task had ended the lock still had a holder; expected it free: a waiter that "
              "returns an error passes on a lock it was handed.", when);
}

Test(lock, cancelled_waiter_leaves)
{
    struct scene s = { .steps = steps_cancel, .n = 2 };
    handed = 0;
    run(&s);
    expect_not_stale(&s, "was cancelled");
    expect_cancelled(&s, "while it waited");
    cr_assert(s.count[0] <= 1, "[cancelled-waiter-kept] after a waiter was cancelled, %ld "
              "%s queued; expected 1: a cancelled waiter leaves the queue.", s.count[0],
              kit_plural(s.count[0], "task is", "tasks are"));
    cr_assert(s.count[0] == 1, "[waiter-not-queued] %ld %s queued while 1 waited for the "
              "lock: every waiter is on the lock's queue (lock_waiter_append), so that a "
              "release can hand the lock to the oldest.", s.count[0],
              kit_plural(s.count[0], "task was", "tasks were"));
    expect_free(&s, "a cancel and a hand-off");
    kit_expect_no_leaks("lock_acquire");
}

Test(lock, cancelled_as_it_is_handed_the_lock)
{
    struct scene s = { .steps = steps_cancel, .n = 2 };
    handed = 1;
    run(&s);
    expect_cancelled(&s, "in the same pass as the release that chose it");
    expect_free(&s, "a cancel and a hand-off");
    kit_expect_no_leaks("lock_acquire");
}

Test(lock, cancelled_as_it_is_handed_the_lock_alone)
{
    struct scene s = { .steps = steps_cancel, .n = 1 };
    handed = 1;
    run(&s);
    expect_cancelled(&s, "in the same pass as the release that chose it, with nobody behind");
    expect_free(&s, "a cancel in the same pass as the release");
    kit_expect_no_leaks("lock_acquire");
}

/* While the test holds the lock, W is unparked by someone else; then a task that does not hold
 * the lock tries to release it. */
static int wrong_release(void *arg)
{
    struct scene *s = arg;
    s->rc[3] = lock_release(&s->l);
    return 0;
}

static int steps_stray(struct scene *s)
{
    s->rc[0] = lock_acquire(&s->l, AIO_NEVER);
    worker_init(&s->w[0], &s->l, aio_now() + 3000, 1);
    worker_init(&s->w[1], &s->l, aio_now() + 3000, 1);
    start(&s->w[0]);
    start(&s->w[1]);
    s->n = 2;
    until_all_wait(s, "the waiters to queue for the lock");
    long parked = parks;
    __real_aio_unpark(s->w[0].t);
    struct kit_wait w = { .what = "the unparked waiter to run" };
    kit_wait_until(&w, parks > parked || s->w[0].done, __real_aio_yield());
    s->count[0] = s->w[0].done;
    s->count[1] = lock_holder(&s->l) == aio_current();
    if (s->w[0].done) {
        /* It returned: its node may still be queued; end the scene without reading it. */
        waiting_checked(s);
        s->rc[1] = lock_release(&s->l);
        return 0;
    }
    aio_task *t = __real_aio_spawn(wrong_release, s);
    __real_aio_join(t, AIO_NEVER);
    s->count[2] = lock_holder(&s->l) == aio_current();
    s->count[3] = waiting_checked(s);
    s->count[4] = s->w[0].done || s->w[1].done;
    s->rc[1] = lock_release(&s->l);
    finish(&s->w[0]);
    finish(&s->w[1]);
    return 0;
}

Test(lock, stray_wakeup_and_wrong_releaser)
{
    struct scene s = { .steps = steps_stray };
    run(&s);
    cr_assert(!s.count[0] && s.count[1], "[lock-stray-wake] a waiter woken by an aio_unpark() "
              "that was not a release %s; expected it to go on waiting (the lock is still "
              "held): aio_park() returning 0 does not mean the lock is yours.",
              s.count[0] ? "returned" : "took the lock");
    cr_assert_eq(s.rc[3], -EPERM, "[release-by-other] a task that does not hold the lock "
                 "called lock_release and got %s; expected -EPERM: only the holder may "
                 "release it.", kit_errname(s.rc[3]));
    cr_assert(s.count[2] && s.count[3] == 2 && !s.count[4], "[release-by-other] a refused "
              "lock_release changed the lock: %s, %ld queued, %s; expected it unchanged.",
              s.count[2] ? "the holder kept it" : "the holder lost it", s.count[3],
              s.count[4] ? "a waiter returned" : "no waiter returned");
    cr_assert(s.w[0].rc == 0 && s.w[1].rc == 0 && s.w[0].got == 0 && s.w[1].got == 1,
              "[lock-not-fifo] after the release the waiters got %s and %s in the order %d, "
              "%d; expected 0 and 0, the first waiter first.", kit_errname(s.w[0].rc),
              kit_errname(s.w[1].rc), s.w[0].got, s.w[1].got);
    expect_free(&s, "a stray wake-up and a refused release");
    kit_expect_no_leaks("lock_release");
}
