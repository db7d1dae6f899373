/* aio's own tests: aio_wait_for (timeout.c) against aio_join's shield semantics, and the
 * accounting (aio_counts, aio_counts_at_end). Inside the loop the tasks only write down what
 * they see; the assertions run after aio_run has returned. */
#include "aio.h"
#include "kit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

TestSuite(timeout, .fini = kit_fini_leaks, .timeout = 20);

/* What one inner task did. */
struct inner {
    int64_t sleep_ms;     /* how long it sleeps */
    int result;           /* what it returns when its sleep ends normally */
    int cleanup_yields;   /* yields it makes in its clean-up after a cancellation */
    int slept;            /* its sleep's return value */
    int cleaned;          /* 1 once its clean-up is over */
};

static int inner_body(void *arg)
{
    struct inner *in = arg;

    in->slept = aio_sleep(in->sleep_ms);
    if (in->slept < 0) {
        for (int i = 0; i < in->cleanup_yields; i++)
            aio_yield();
        in->cleaned = 1;
        return in->slept;
    }
    return in->result;
}

/* What the outer task saw. */
struct seen {
    struct inner in;
    int64_t deadline_ms;  /* relative to the start; -1: AIO_NEVER */
    int rc;
    int cleaned_at_return;
    int64_t elapsed;
    struct aio_counts after;
    int counts_rc;
};

static int outer(void *arg)
{
    struct seen *s = arg;
    int64_t t0 = aio_now();
    aio_task *t = aio_spawn(inner_body, &s->in);

    if (t == NULL)
        return -ENOMEM;
    s->rc = aio_wait_for(t, s->deadline_ms < 0 ? AIO_NEVER : t0 + s->deadline_ms);
    s->cleaned_at_return = s->in.cleaned;
    s->elapsed = aio_now() - t0;
    s->counts_rc = aio_counts(&s->after);
    return 0;
}

static void expect_nothing_open(const struct aio_counts *c, const char *when)
{
    cr_expect_eq(c->tasks + c->timers + c->descriptors + c->operations, 0,
                 "[counts-open] %s: %zu tasks, %zu timers, %zu descriptors, %zu operations still "
                 "open, expected none", when, c->tasks, c->timers, c->descriptors, c->operations);
}

Test(timeout, a_task_that_ends_in_time_gives_its_result)
{
    struct seen s = { .in = { .sleep_ms = 10, .result = 7 }, .deadline_ms = 2000 };
    cr_assert_eq(aio_run(outer, &s), 0);
    cr_expect_eq(s.rc, 7, "[wait-for-result] got %d, expected the task's own 7", s.rc);
    cr_expect_eq(s.in.slept, 0);
    cr_expect_lt(s.elapsed, 1000, "[wait-for-late] returned after %lld ms", (long long)s.elapsed);
    cr_assert_eq(s.counts_rc, 0);
    expect_nothing_open(&s.after, "right after aio_wait_for returned");
}

Test(timeout, never_is_a_plain_join)
{
    struct seen s = { .in = { .sleep_ms = 30, .result = -EIO }, .deadline_ms = -1 };
    cr_assert_eq(aio_run(outer, &s), 0);
    cr_expect_eq(s.rc, -EIO);
    expect_nothing_open(&s.after, "right after aio_wait_for returned");
}

Test(timeout, at_the_deadline_the_task_is_cancelled_and_waited_for)
{
    struct seen s = { .in = { .sleep_ms = 10000, .result = 7, .cleanup_yields = 5 },
                      .deadline_ms = 40 };
    cr_assert_eq(aio_run(outer, &s), 0);
    cr_expect_eq(s.rc, -ETIMEDOUT, "[wait-for-timeout] got %d, expected -ETIMEDOUT", s.rc);
    cr_expect_eq(s.in.slept, -ECANCELED, "[wait-for-cancel] the inner sleep returned %d, "
                 "expected -ECANCELED", s.in.slept);
    cr_expect_eq(s.cleaned_at_return, 1, "[wait-for-not-waited] aio_wait_for returned before "
                 "the cancelled task's clean-up was over");
    cr_expect_geq(s.elapsed, 40);
    cr_expect_lt(s.elapsed, 2000, "[wait-for-late] returned after %lld ms", (long long)s.elapsed);
    expect_nothing_open(&s.after, "right after aio_wait_for timed out");
}

Test(timeout, a_deadline_already_past)
{
    struct seen s = { .in = { .sleep_ms = 10000, .cleanup_yields = 1 }, .deadline_ms = 0 };
    cr_assert_eq(aio_run(outer, &s), 0);
    cr_expect_eq(s.rc, -ETIMEDOUT);
    cr_expect_eq(s.cleaned_at_return, 1);
    expect_nothing_open(&s.after, "right after aio_wait_for timed out");
}

static int finished_then_past(void *arg)
{
    struct seen *s = arg;
    aio_task *t = aio_spawn(inner_body, &s->in);
    aio_sleep(30);                       /* t is done by now */
    s->rc = aio_wait_for(t, aio_now() - 10);
    aio_counts(&s->after);
    return 0;
}

Test(timeout, a_finished_task_keeps_its_result_past_the_deadline)
{
    struct seen s = { .in = { .sleep_ms = 1, .result = 5 } };
    cr_assert_eq(aio_run(finished_then_past, &s), 0);
    cr_expect_eq(s.rc, 5, "[wait-for-result] got %d for a task already finished", s.rc);
    expect_nothing_open(&s.after, "right after aio_wait_for");
}

/* The caller is cancelled while it waits: it cancels the inner task too, and waits for it. */
static struct seen cancelled_seen;
static int cancelled_outer(void *arg)
{
    (void)arg;
    return outer(&cancelled_seen);
}

static int cancel_the_waiter(void *arg)
{
    (void)arg;
    aio_task *o = aio_spawn(cancelled_outer, NULL);
    aio_sleep(30);
    aio_cancel(o);
    int r = aio_join(o, AIO_NEVER);
    struct aio_counts c;
    aio_counts(&c);
    return r == 0 && c.tasks == 0 ? 0 : -EIO;
}

Test(timeout, a_cancelled_caller_cancels_the_inner_task)
{
    cancelled_seen = (struct seen){ .in = { .sleep_ms = 10000, .cleanup_yields = 3 },
                                    .deadline_ms = 5000 };
    cr_assert_eq(aio_run(cancel_the_waiter, NULL), 0);
    cr_expect_eq(cancelled_seen.rc, -ECANCELED, "[wait-for-cancelled] got %d",
                 cancelled_seen.rc);
    cr_expect_eq(cancelled_seen.cleaned_at_return, 1);
    cr_expect_lt(cancelled_seen.elapsed, 2000);
}

/* Shield semantics: aio_join's deadline leaves the task running, to be collected later. */
static int shielded(void *arg)
{
    struct seen *s = arg;
    aio_task *t = aio_spawn(inner_body, &s->in);
    int first = aio_join(t, aio_now() + 20);
    s->cleaned_at_return = aio_done(t);
    s->rc = aio_join(t, AIO_NEVER);
    return first;
}

Test(timeout, join_with_a_deadline_is_the_shield)
{
    struct seen s = { .in = { .sleep_ms = 60, .result = 9 } };
    cr_assert_eq(aio_run(shielded, &s), -ETIMEDOUT);
    cr_expect_eq(s.cleaned_at_return, 0);
    cr_expect_eq(s.in.slept, 0, "the shielded task was not cancelled");
    cr_expect_eq(s.rc, 9, "collected later, with its own result");
}

static int self_and_outside(void *arg)
{
    int *r = arg;
    r[0] = aio_wait_for(aio_current(), AIO_NEVER);
    return 0;
}

Test(timeout, refusals)
{
    int r[1];
    struct aio_counts c;
    cr_assert_eq(aio_run(self_and_outside, r), 0);
    cr_expect_eq(r[0], -EDEADLK);
    cr_expect_eq(aio_counts(&c), -EPERM, "aio_counts outside a loop");
}

/* ---- the accounting ------------------------------------------------------------------------ */

static int sleeper(void *arg)
{
    (void)arg;
    return aio_sleep(20);
}

struct during {
    struct aio_counts c;
};

static int count_during(void *arg)
{
    struct during *d = arg;
    aio_task *a = aio_spawn(sleeper, NULL);
    aio_task *b = aio_spawn(sleeper, NULL);
    aio_yield();                          /* both are asleep now: two timers */
    aio_counts(&d->c);
    aio_join(a, AIO_NEVER);
    aio_join(b, AIO_NEVER);
    return 0;
}

Test(timeout, counts_during_and_at_end)
{
    struct during d;
    struct aio_counts end;
    cr_assert_eq(aio_run(count_during, &d), 0);
    cr_expect_eq(d.c.tasks, 2);
    cr_expect_eq(d.c.timers, 2);
    cr_expect_eq(d.c.descriptors, 0);
    cr_expect_eq(d.c.operations, 0);
    cr_assert_eq(aio_counts_at_end(&end), 0);
    expect_nothing_open(&end, "at loop end");
}

static int leave_one_unjoined(void *arg)
{
    (void)arg;
    aio_spawn(sleeper, NULL);
    return 0;
}

Test(timeout, counts_at_end_see_a_task_never_joined)
{
    struct aio_counts end;
    cr_assert_eq(aio_run(leave_one_unjoined, NULL), 0);
    cr_assert_eq(aio_counts_at_end(&end), 0);
    cr_expect_eq(end.tasks, 1, "[counts-unjoined] %zu tasks at loop end, expected 1", end.tasks);
}
