/* Lesson 06 tests, part two: wf_wait (shield) and wf_wait_for (wait-for). What each returns
 * and when, whether the job was cancelled or left alone, whether its task had ended (its
 * clean-up over) and was joined before the call returned (the runtime's own task count right
 * after the call), a stray unpark during the wait, and the stale-waiter trap: a job ending
 * after its waiter gave up must not wake that task out of a later, unrelated park. */
#include "counted.h"
#include "waitfor.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kit_test.h"

static void teardown(void)
{
    kit_cleanup();
}

TestSuite(waitfor, .fini = teardown, .timeout = 20);

/* A job: sleeps sleep_ms, then returns result; cancelled, it makes cleanup_yields yields
 * (its clean-up) and returns -ECANCELED. */
struct work {
    int64_t sleep_ms;
    int result;
    int cleanup_yields;
    int slept;         /* its sleep's return value, NOT_YET until it returns */
    int cleaned;       /* 1 once its clean-up is over */
    int64_t ended_at;  /* aio_now() when it returned its result (not cancelled) */
};
#define NOT_YET (-12345)

static int work_body(void *arg)
{
    struct work *w = arg;

    w->slept = __real_aio_sleep(w->sleep_ms);
    if (w->slept < 0) {
        for (int i = 0; i < w->cleanup_yields; i++)
            __real_aio_yield();
        w->cleaned = 1;
        return w->slept;
    }
    w->ended_at = aio_now();
    return w->result;
}

/* What one call saw, right after it returned. */
struct seen {
    const char *func;
    struct work w;
    int64_t deadline_ms;        /* from the call's start; AIO_NEVER as is */
    size_t extra;               /* the test's own tasks alive during the call */
    int rc;
    int64_t elapsed;
    int64_t net;     /* elapsed, less the time the busy machine kept the test and server
                      * from a CPU: the upper bounds use it */
    int finished_at_return;     /* j->finished */
    int cleaned_at_return;
    aio_task *task_at_return;
    struct aio_counts after;
    long parks, polls, timed_joins, cancels;
    struct kit_wait waited;     /* what the test waited for before it acted */
    int in_time;                /* it acted while the scene it needed still held */
};

static struct wf_job *job;      /* kit_alloc'd */
static int calls_begun;         /* calls of wf_wait/wf_wait_for begun since start_job */
static int64_t call_deadline;   /* the deadline of the last call begun */

static void call(struct seen *s)
{
    int64_t t0 = aio_now();
    double busy = kit_starved_s();
    int64_t deadline = s->deadline_ms == AIO_NEVER ? AIO_NEVER : t0 + s->deadline_ms;

    call_deadline = deadline;
    calls_begun++;
    watching = 1;
    s->rc = strcmp(s->func, "wf_wait") == 0 ? wf_wait(job, deadline)
                                            : wf_wait_for(job, deadline);
    watching = 0;
    s->elapsed = aio_now() - t0;
    s->net = s->elapsed - (int64_t)((kit_starved_s() - busy) * 1000);
    s->finished_at_return = job->finished;
    s->cleaned_at_return = s->w.cleaned;
    s->task_at_return = job->task;
    aio_counts(&s->after);
    s->after.tasks -= s->extra;
    s->parks = parks;
    s->polls = polls;
    s->timed_joins = timed_joins;
    s->cancels = cancels;
}

static int start_job(struct seen *s)
{
    s->w.slept = NOT_YET;
    calls_begun = 0;
    counted_reset();
    return wf_spawn(job, work_body, &s->w);
}

static int one_call(void *arg)
{
    struct seen *s = arg;

    if (start_job(s) < 0)
        return -ENOMEM;
    call(s);
    if (job->task != NULL) {            /* a wf_wait that timed out: collect the job */
        __real_aio_cancel(job->task);
        __real_aio_join(job->task, AIO_NEVER);
    }
    reap();
    return 0;
}

static void run(aio_fn fn, struct seen *s)
{
    job = kit_alloc(sizeof *job);
    int rc = aio_run(fn, s);
    cr_assert_eq(rc, 0, "[deadlock] the test's loop ended with %s: every task was waiting and "
                 "nothing could wake any of them.", kit_errname(rc));
    kit_expect_waited(&s->waited);
    kit_expect_done(s->rc, s->func, "waitfor.c");
}

static void expect_no_polling(const struct seen *s)
{
    cr_assert_eq(s->polls, 0, "[polling] %s called aio_sleep/aio_yield %ld times: park, and let "
                 "the job's end unpark you.", s->func, s->polls);
    cr_assert_eq(s->timed_joins, 0, "[timed-join] %s called aio_join with a deadline: part two "
                 "builds that wait from aio_park.", s->func);
}

/* The job finished by the deadline: its result, its task joined. */
static void expect_result(const struct seen *s, int result)
{
    cr_assert_eq(s->rc, result, "[wait-result] %s returned %s for a job that returned %s in "
                 "time", s->func, kit_errname(s->rc), kit_errname(result));
    cr_assert(s->task_at_return == NULL && s->after.tasks == 0, "[not-joined] %s returned the "
              "result but the job's task was not joined (j->task %s, %zu %s not joined).",
              s->func, s->task_at_return ? "still set" : "NULL", s->after.tasks,
              kit_plural((long)s->after.tasks, "task", "tasks"));
    cr_assert_eq(s->cancels, 0, "[cancelled-finished] %s cancelled a job that had finished",
                 s->func);
    expect_no_polling(s);
}

Test(waitfor, wait_for_a_job_in_time)
{
    struct seen s = { .func = "wf_wait_for", .w = { .sleep_ms = 20, .result = 13 },
                      .deadline_ms = 2000 };
    run(one_call, &s);
    expect_result(&s, 13);
    cr_assert_lt(s.net, 1000, "[wait-late] a job of 20 ms, and wf_wait_for took %lld ms",
                 (long long)s.elapsed);
    cr_assert_geq(s.parks, 1, "[polling] wf_wait_for never parked");
    kit_expect_no_leaks("wf_wait_for");
}

Test(waitfor, shield_a_job_in_time)
{
    struct seen s = { .func = "wf_wait", .w = { .sleep_ms = 20, .result = -EIO },
                      .deadline_ms = AIO_NEVER };
    run(one_call, &s);
    expect_result(&s, -EIO);
    kit_expect_no_leaks("wf_wait");
}

static int finished_before(void *arg)
{
    struct seen *s = arg;

    if (start_job(s) < 0)
        return -ENOMEM;
    s->waited.what = "the job (a sleep of 1 ms) to finish";
    kit_wait_until(&s->waited, job->finished, __real_aio_sleep(1));
    s->deadline_ms = -10;               /* and the deadline long past */
    call(s);
    reap();
    return 0;
}

Test(waitfor, a_job_already_finished_past_the_deadline)
{
    struct seen s = { .func = "wf_wait_for", .w = { .sleep_ms = 1, .result = 7 } };
    run(finished_before, &s);
    expect_result(&s, 7);
    kit_expect_no_leaks("wf_wait_for");
}

Test(waitfor, wait_for_cancels_at_the_deadline_and_waits_for_the_end)
{
    struct seen s = { .func = "wf_wait_for",
                      .w = { .sleep_ms = 10000, .result = 1, .cleanup_yields = 4 },
                      .deadline_ms = 60 };
    run(one_call, &s);
    cr_assert_eq(s.rc, -ETIMEDOUT, "[wait-for-rc] wf_wait_for returned %s at the deadline, "
                 "expected -ETIMEDOUT", kit_errname(s.rc));
    cr_assert_eq(s.w.slept, -ECANCELED, "[not-cancelled] the job's sleep returned %s: at the "
                 "deadline wf_wait_for cancels the job.", kit_errname(s.w.slept));
    cr_assert(s.finished_at_return && s.cleaned_at_return, "[not-waited] wf_wait_for returned "
              "before the cancelled job had ended (its clean-up %s): cancel, then wait for the "
              "task to end (aio_join), or its clean-up runs on after you.",
              s.cleaned_at_return ? "was over" : "was not over");
    cr_assert(s.task_at_return == NULL && s.after.tasks == 0, "[not-joined] wf_wait_for "
              "returned with the job's task not joined (%zu %s open)", s.after.tasks,
              kit_plural((long)s.after.tasks, "task", "tasks"));
    cr_assert(s.elapsed >= 60 && s.net < 1000, "[wait-for-late] wf_wait_for returned "
              "after %lld ms with its deadline at 60 ms", (long long)s.elapsed);
    expect_no_polling(&s);
    kit_expect_no_leaks("wf_wait_for");
}

Test(waitfor, shield_leaves_the_job_running)
{
    struct seen s = { .func = "wf_wait", .w = { .sleep_ms = 400, .result = 5 },
                      .deadline_ms = 40 };
    run(one_call, &s);
    cr_assert_eq(s.rc, -ETIMEDOUT, "[shield-rc] wf_wait returned %s at the deadline, expected "
                 "-ETIMEDOUT", kit_errname(s.rc));
    cr_assert(s.elapsed >= 40 && s.net < 300, "[shield-late] wf_wait returned after %lld "
              "ms, its deadline at 40 ms, the job done at 400", (long long)s.elapsed);
    cr_assert(!s.finished_at_return && s.task_at_return != NULL && s.cancels == 0,
              "[shield-cancelled] wf_wait cancelled or collected the job at its deadline: the "
              "shield leaves it running, to be waited for later.");
    expect_no_polling(&s);
    kit_expect_no_leaks("wf_wait");
}

/* The shield times out at 30 ms; the job ends at 250 ms while the caller sits in another park
 * (until 430 ms); then the job is collected with wf_wait. */
struct stale {
    struct seen s;
    int other_park;       /* the unrelated park's return value */
    int64_t park_until;   /* its deadline */
    int later;            /* the later wf_wait's return value */
    struct aio_counts end;
};

static int stale_main(void *arg)
{
    struct stale *st = arg;

    if (start_job(&st->s) < 0)
        return -ENOMEM;
    call(&st->s);                                      /* times out at 30 ms */
    st->park_until = aio_now() + 400;
    st->other_park = __real_aio_park(st->park_until);  /* the job ends at 250 ms, meanwhile */
    watching = 1;
    st->later = wf_wait(job, aio_now() + 1000);
    watching = 0;
    aio_counts(&st->end);
    if (job->task != NULL) {
        __real_aio_cancel(job->task);
        __real_aio_join(job->task, AIO_NEVER);
    }
    reap();
    return 0;
}

Test(waitfor, a_waiter_that_gave_up_is_not_woken_later)
{
    struct stale st = { .s = { .func = "wf_wait", .w = { .sleep_ms = 250, .result = 21 },
                               .deadline_ms = 30 } };
    run(stale_main, &st.s);
    cr_assert_eq(st.s.rc, -ETIMEDOUT, "[shield-rc] wf_wait returned %s at the deadline",
                 kit_errname(st.s.rc));
    /* The job's end and the park's deadline in one loop pass (a stall of 180 ms) would hide a
     * stale wake-up behind the timeout. */
    kit_expect_premise(st.s.w.ended_at != 0 && st.s.w.ended_at < st.park_until, "the job "
                       "was meant to end during the unrelated park, and it ended with it");
    cr_assert_eq(st.other_park, -ETIMEDOUT, "[stale-waiter] after wf_wait had timed out, the "
                 "job's end woke the task out of an unrelated aio_park (it returned %s): a "
                 "waiter that gives up must take itself off the job (j->waiter).",
                 kit_errname(st.other_park));
    cr_assert_eq(st.later, 21, "[shield-collect] the job went on and returned 21; waited for "
                 "again, wf_wait returned %s", kit_errname(st.later));
    cr_assert_eq(st.end.tasks, 0, "[not-joined] the job collected later was not joined");
    kit_expect_no_leaks("wf_wait");
}

/* A stray aio_unpark of the waiter, from another task, in the middle of the wait: once the
 * waiter has begun its call (this task runs, so the waiter waits in it), before the job's end
 * and the call's deadline. */
static aio_task *stray_target;

static int stray(void *arg)
{
    struct seen *s = arg;
    s->waited.what = "the waiting task to begin its call";
    kit_wait_until(&s->waited, calls_begun > 0, __real_aio_yield());
    s->in_time = !job->finished && (call_deadline == AIO_NEVER || aio_now() < call_deadline);
    __real_aio_unpark(stray_target);
    return 0;
}

static int stray_main(void *arg)
{
    struct seen *s = arg;

    if (start_job(s) < 0)
        return -ENOMEM;
    stray_target = aio_current();
    aio_task *h = __real_aio_spawn(stray, s);
    s->extra = 1;
    call(s);
    __real_aio_join(h, AIO_NEVER);
    if (job->task != NULL) {
        __real_aio_cancel(job->task);
        __real_aio_join(job->task, AIO_NEVER);
    }
    reap();
    return 0;
}

Test(waitfor, a_stray_unpark_does_not_end_the_wait)
{
    struct seen s = { .func = "wf_wait_for", .w = { .sleep_ms = 70, .result = 3 },
                      .deadline_ms = 2000 };
    run(stray_main, &s);
    kit_expect_premise(s.in_time, "the stray wake-up was meant to come while the job ran, and "
                       "it came after its end");
    cr_assert_eq(s.rc, 3, "[stray-unpark] a stray aio_unpark during the wait ended "
                 "wf_wait_for with %s before the job (70 ms) was done: a wake-up is not proof "
                 "the job finished.", kit_errname(s.rc));
    expect_result(&s, 3);
    kit_expect_no_leaks("wf_wait_for");
}

Test(waitfor, a_stray_unpark_does_not_move_the_deadline)
{
    struct seen s = { .func = "wf_wait_for",
                      .w = { .sleep_ms = 600, .result = 3, .cleanup_yields = 2 },
                      .deadline_ms = 100 };
    run(stray_main, &s);
    kit_expect_premise(s.in_time, "the stray wake-up was meant to come before the call's "
                       "100 ms deadline, and it came after");
    cr_assert_eq(s.rc, -ETIMEDOUT, "[stray-unpark] a stray aio_unpark during the wait, the "
                 "deadline at 100 ms, the job done at 600 ms: wf_wait_for returned %s after "
                 "%lld ms, expected -ETIMEDOUT at the deadline. A wake-up is not proof the job "
                 "finished: look, and park again until the same deadline.", kit_errname(s.rc),
                 (long long)s.elapsed);
    cr_assert(s.elapsed >= 100 && s.net < 500, "[stray-unpark] wf_wait_for returned after "
              "%lld ms, its deadline at 100 ms", (long long)s.elapsed);
    cr_assert(s.finished_at_return && s.cleaned_at_return && s.task_at_return == NULL,
              "[not-waited] wf_wait_for returned before the cancelled job had ended.");
    expect_no_polling(&s);
    kit_expect_no_leaks("wf_wait_for");
}

/* The caller is cancelled while it waits in wf_wait_for: the job is cancelled too. */
static struct seen cancelled_seen;

static int cancelled_caller(void *arg)
{
    (void)arg;
    call(&cancelled_seen);
    return 0;
}

static int cancel_main(void *arg)
{
    struct seen *s = arg;

    cancelled_seen.extra = 1;                       /* the caller's task itself */
    if (start_job(&cancelled_seen) < 0)
        return -ENOMEM;
    aio_task *caller = __real_aio_spawn(cancelled_caller, NULL);
    cancelled_seen.waited.what = "the caller to begin wf_wait_for";
    kit_wait_until(&cancelled_seen.waited, calls_begun > 0, __real_aio_yield());
    __real_aio_cancel(caller);
    __real_aio_join(caller, AIO_NEVER);
    *s = cancelled_seen;
    if (job->task != NULL) {
        __real_aio_cancel(job->task);
        __real_aio_join(job->task, AIO_NEVER);
    }
    reap();
    return 0;
}

Test(waitfor, a_cancelled_caller_cancels_the_job)
{
    cancelled_seen = (struct seen){ .func = "wf_wait_for",
                                    .w = { .sleep_ms = 10000, .cleanup_yields = 3 },
                                    .deadline_ms = 5000 };
    struct seen s = cancelled_seen;
    job = kit_alloc(sizeof *job);
    cr_assert_eq(aio_run(cancel_main, &s), 0);
    kit_expect_waited(&s.waited);
    kit_expect_done(s.rc, "wf_wait_for", "waitfor.c");
    cr_assert_eq(s.rc, -ECANCELED, "[cancelled-rc] wf_wait_for in a cancelled task returned "
                 "%s, expected -ECANCELED", kit_errname(s.rc));
    cr_assert(s.finished_at_return && s.cleaned_at_return && s.task_at_return == NULL,
              "[not-waited] the caller was cancelled; wf_wait_for returned before the job had "
              "been cancelled and had ended.");
    cr_assert_lt(s.net, 2000, "[cancelled-late] wf_wait_for returned %lld ms after its "
                 "start, cancelled while it waited", (long long)s.elapsed);
    kit_expect_no_leaks("wf_wait_for");
}
