/* Lesson 04 tests, part two: the done queue (dq_body, dq_next, dq_close) with the test's own
 * tasks. Evidence: the order tasks are handed out against the order they finished (shuffled
 * sleeps from the seed), each task exactly once and its own result, when each was handed out
 * (as it finished, not after all of them), parks and polls counted, a stray wake-up, a deadline
 * and a cancellation while waiting, and after dq_close: every task ended, cancelled where it
 * was running, and joined. The tasks only record; the tests assert after aio_run(). A run that
 * does not end is cancelled by a watchdog and named. */
#include "counted.h"
#include "done_queue.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit_test.h"

#define WATCHDOG_MS 2000        /* a scenario still running this long (less the time the busy
                                 * machine kept the test from a CPU) is stuck */
#define NJOBS_MAX 64
#define LONG_MS 10000           /* a task that only ends when cancelled */

static void setup(void)
{
    /* Every suite of the binary starts a server (Criterion 2.4.1 leaks otherwise). */
    kit_server_start(NULL);
}

static void teardown(void)
{
    kit_cleanup();
    kit_server_stop();
}

TestSuite(done_queue, .init = setup, .fini = teardown, .timeout = 15);

struct job {
    int64_t sleep_ms;
    int result;
    int started, ended;
    int slept;              /* the sleep's result: -ECANCELED when cancelled */
    double ended_at;        /* s since the scenario started */
};

struct scenario {
    size_t n;
    struct job *jobs;       /* n of them */
    struct done_queue q;
    int got[NJOBS_MAX + 2]; /* what each dq_next returned */
    int results[NJOBS_MAX + 2];
    double handed_at[NJOBS_MAX + 2];
    double handed_busy[NJOBS_MAX + 2]; /* of handed_at, the time the busy machine kept the
                                        * test and server from a CPU */
    double busy0;           /* kit_starved_s() at t0 */
    double close_busy;      /* the same, during close_script's dq_close */
    int ngot;
    int close_rc;
    int init_rc;
    double t0;
    int stalled;
    int all_ended_at_close; /* every job had ended when dq_close returned */
    size_t unjoined_after_close;
    aio_task *script_task;
    void *extra;
    int entered;            /* dq_next calls begun */
    struct kit_wait waited; /* what the script waited for before it acted */
    int in_time;            /* it acted while the scene it needed still held */
};

static double since(const struct scenario *s)
{
    return kit_wall() - s->t0;
}

static struct scenario *cur;

static int job_body(void *arg)
{
    struct job *j = arg;
    j->started = 1;
    j->slept = __real_aio_sleep(j->sleep_ms);
    j->ended = 1;
    j->ended_at = since(cur);
    return j->slept < 0 ? j->slept : j->result;
}

static void spawn_jobs(struct scenario *s)
{
    for (size_t i = 0; i < s->n; i++)
        dq_spawn(&s->q, job_body, &s->jobs[i]);
}

static void next(struct scenario *s, int64_t deadline)
{
    int result = -12345;
    s->entered++;
    int i = dq_next(&s->q, &result, deadline);
    if (s->ngot < NJOBS_MAX + 2) {
        s->handed_at[s->ngot] = since(s);
        s->handed_busy[s->ngot] = kit_starved_s() - s->busy0;
        s->results[s->ngot] = result;
        s->got[s->ngot++] = i;
    }
}

static void close_queue(struct scenario *s)
{
    s->close_rc = dq_close(&s->q);
    s->all_ended_at_close = 1;
    for (size_t i = 0; i < s->n; i++)
        s->all_ended_at_close &= s->jobs[i].ended;
    s->unjoined_after_close = tasks_unjoined();
}

static int script_main(void *arg);
static int (*script)(struct scenario *s);

static int script_task(void *arg)
{
    struct scenario *s = arg;
    return script(s);
}

static int script_main(void *arg)
{
    struct scenario *s = arg;

    s->init_rc = dq_init(&s->q, s->n);
    if (s->init_rc < 0)
        return 0;
    watching = 1;
    s->t0 = kit_wall();
    s->busy0 = kit_starved_s();
    s->script_task = __real_aio_spawn(script_task, s);
    if (join_watched(s->script_task, WATCHDOG_MS) == -ETIMEDOUT) {
        s->stalled = 1;
        for (size_t i = 0; i < ntasks; i++)
            if (!tasks_joined[i] && !task_finished(i))
                aio_cancel(tasks_seen[i]);
        aio_cancel(s->script_task);
        __real_aio_join(s->script_task, AIO_NEVER);
    }
    watching = 0;
    for (size_t i = 0; i < ntasks; i++)
        if (!tasks_joined[i] && !task_finished(i))
            aio_cancel(tasks_seen[i]);
    for (size_t i = 0; i < ntasks; i++)
        if (!tasks_joined[i])
            __real_aio_join(tasks_seen[i], AIO_NEVER);
    dq_free(&s->q);
    return 0;
}

static struct scenario *scenario_new(size_t n)
{
    struct scenario *s = kit_alloc(sizeof *s);
    s->n = n;
    s->jobs = kit_alloc_array(n, sizeof *s->jobs);
    for (size_t i = 0; i < n; i++)
        s->jobs[i].result = 1000 + (int)i;
    return s;
}

static void run(struct scenario *s, int (*fn)(struct scenario *))
{
    counted_reset();
    cur = s;
    script = fn;
    cr_assert_eq(aio_run(script_main, s), 0, "[runtime] the test's own loop failed");
    cr_assert_eq(s->init_rc, 0, "[runtime] dq_init failed");
    cur = NULL;
}

static void expect_not_done(const struct scenario *s)
{
    for (int k = 0; k < s->ngot; k++)
        kit_expect_done(s->got[k], "dq_next", "done_queue.c");
    kit_expect_done(s->close_rc, "dq_close", "done_queue.c");
    for (size_t i = 0; i < s->n; i++)
        cr_assert(!(s->jobs[i].started == 0 && task_finished(i)), "[not-done] dq_body returned "
                  "without running the task's own fn(arg): that is the skeleton's stub. Start "
                  "at its TODO in done_queue.c (`make hint-04` gives a hint).");
}

/* The script's waits end on their evidence, or when the watchdog has given up on the script
 * (s->stalled: it is cancelled, and a step would return at once). */
static int all_ended(const struct scenario *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (!s->jobs[i].ended)
            return 0;
    return 1;
}

static void expect_no_stall(const struct scenario *s, const char *what)
{
    kit_expect_waited(&s->waited);
    cr_assert(!s->stalled, "[stall] %s: the scenario had not ended after %d ms (not counting "
              "the time the busy machine kept the test from a CPU); the test cancelled it. "
              "Does dq_next wait for a wake-up that never comes (a task that finished without "
              "waking it, or two finishing in the same pass)?", what, WATCHDOG_MS);
}

static void expect_no_polling(const char *what)
{
    cr_assert_eq(polls, 0, "[polling] %s: the queue called aio_sleep/aio_yield %ld times; it "
                 "should wait asleep in aio_park() until dq_body wakes it.", what, polls);
    cr_assert_eq(blocking_calls, 0, "[blocking-sleep] %s: sleep/usleep/nanosleep was called "
                 "%ld times: that stops every task.", what, blocking_calls);
}

/* ---- as they finish ---------------------------------------------------------------------- */

static int as_completed_script(struct scenario *s)
{
    spawn_jobs(s);
    for (size_t k = 0; k <= s->n; k++)
        next(s, AIO_NEVER);
    close_queue(s);
    return 0;
}

static void in_finishing_order(size_t n, int step)
{
    char what[96];
    unsigned seed = kit_seed();
    uint32_t rng = seed;
    struct scenario *s = scenario_new(n);
    size_t *order = kit_alloc_array(n, sizeof *order);

    snprintf(what, sizeof what, "%zu tasks with shuffled sleeps (seed %u)", n, seed);
    kit_shuffle(order, n, &rng);
    /* The last to finish ends 400 ms after the others: a first hand-out as it finishes comes
     * long before it, whatever stall the machine makes in between. */
    for (size_t i = 0; i < n; i++)
        s->jobs[i].sleep_ms = 5 + step * (int64_t)order[i] + (order[i] == n - 1 ? 400 : 0);
    run(s, as_completed_script);
    expect_not_done(s);
    expect_no_stall(s, what);
    cr_assert_eq(s->ngot, (int)n + 1, "[test] %s: %d calls recorded", what, s->ngot);
    /* by sleep order: the index whose order is k */
    int *want = kit_alloc_array(n, sizeof *want);
    int in_spawn_order = 1;
    for (size_t i = 0; i < n; i++)
        want[order[i]] = (int)i;
    for (size_t k = 0; k < n; k++)
        in_spawn_order &= s->got[k] == (int)k;
    for (size_t k = 0; k < n; k++) {
        cr_assert(!(in_spawn_order && want[k] != (int)k), "[submission-order] %s: dq_next "
                  "handed the tasks out in the order they were spawned (0, 1, 2, ...); they "
                  "must come out in the order they finished (first out: task %d, which slept "
                  "%lld ms).", what, want[0], (long long)s->jobs[want[0]].sleep_ms);
        cr_assert_eq(s->got[k], want[k], "[completion-order] %s: call %zu of dq_next returned "
                     "%s; the task to finish %s was %d (it slept %lld ms).", what, k + 1,
                     kit_errname(s->got[k]), k == 0 ? "first" : "next", want[k],
                     (long long)s->jobs[want[k]].sleep_ms);
        cr_assert_eq(s->results[k], 1000 + want[k], "[wrong-result] %s: dq_next returned task "
                     "%d with result %d; its body returned %d.", what, want[k], s->results[k],
                     1000 + want[k]);
    }
    cr_assert_eq(s->got[n], -ENOENT, "[no-enoent] %s: after every task was handed out, dq_next "
                 "returned %s; expected -ENOENT.", what, kit_errname(s->got[n]));
    /* Handed out as it finished: the first long before the last task ended. Only a machine
     * that kept the test from a CPU for half a second could hold the first hand-out back
     * until then. */
    double last_end = s->jobs[want[n - 1]].ended_at;
    kit_expect_premise(s->handed_at[0] < last_end - 0.05 || s->handed_busy[0] < 0.25,
                       "the first task was to be handed out 400 ms before the last one ended, "
                       "and the busy machine kept the test from a CPU most of that time");
    cr_assert_lt(s->handed_at[0], last_end - 0.05, "[waits-for-all] %s: the first task was "
                 "handed out at %.3f s, the last task ended at %.3f s; each must come out as it "
                 "finishes, not after all of them.", what, s->handed_at[0], last_end);
    cr_assert_eq(tasks_unjoined(), 0, "[never-joined] %s: %zu tasks were never joined; dq_next "
                 "joins each task it hands out.", what, tasks_unjoined());
    cr_assert_eq(s->close_rc, 0, "[close-count] %s: dq_close returned %d with every task "
                 "handed out; expected 0 still running.", what, s->close_rc);
    cr_assert_leq(parks, (long)n + 1, "[parks] %s: dq_next parked %ld times for %zu tasks; it "
                  "should park only while nothing has finished.", what, parks, n);
    expect_no_polling(what);
    kit_expect_no_leaks("the done queue");
}

Test(done_queue, thirteen_in_finishing_order)
{
    in_finishing_order(13, 15);
}

Test(done_queue, thirty_three_in_finishing_order)
{
    in_finishing_order(33, 6);
}

/* ---- finished already, and many in one pass ---------------------------------------------- */

static int finished_already_script(struct scenario *s)
{
    spawn_jobs(s);
    /* Until every job has ended, however slow the machine (a fixed sleep was not enough on a
     * loaded one: the jobs' own sleeps could start after it). */
    s->waited = (struct kit_wait){ .what = "7 tasks that sleep 0 ms to end", .bound_s = 10 };
    kit_wait_until(&s->waited, all_ended(s) || s->stalled, __real_aio_sleep(1));
    long parks_before = parks;
    for (size_t k = 0; k <= s->n; k++)
        next(s, AIO_NEVER);
    s->extra = (void *)(intptr_t)(parks - parks_before);
    close_queue(s);
    return 0;
}

Test(done_queue, finished_already_no_wait)
{
    const char *what = "7 tasks finished before dq_next is called";
    struct scenario *s = scenario_new(7);
    run(s, finished_already_script);
    expect_not_done(s);
    expect_no_stall(s, what);
    for (int k = 0; k < 7; k++) {
        cr_assert_eq(s->got[k], k, "[completion-order] %s: call %d of dq_next returned %s; they "
                     "finished in spawn order, so %d.", what, k + 1, kit_errname(s->got[k]), k);
        cr_assert_eq(s->results[k], 1000 + k, "[wrong-result] %s: task %d came with result %d, "
                     "expected %d.", what, k, s->results[k], 1000 + k);
    }
    cr_assert_eq(s->got[7], -ENOENT, "[no-enoent] %s: the 8th dq_next returned %s; expected "
                 "-ENOENT.", what, kit_errname(s->got[7]));
    cr_assert_eq((intptr_t)s->extra, 0, "[parked-needlessly] %s: dq_next parked %ld times; "
                 "a task finished already is handed out without waiting.", what,
                 (long)(intptr_t)s->extra);
    cr_assert_eq(tasks_unjoined(), 0, "[never-joined] %s: %zu tasks never joined.", what,
                 tasks_unjoined());
    expect_no_polling(what);
    kit_expect_no_leaks("the done queue");
}

Test(done_queue, seven_finishing_in_one_pass)
{
    const char *what = "7 tasks that all finish in the same loop pass";
    struct scenario *s = scenario_new(7);
    for (size_t i = 0; i < 7; i++)
        s->jobs[i].sleep_ms = 30;
    run(s, as_completed_script);
    expect_not_done(s);
    expect_no_stall(s, what);
    int seen[7] = { 0 };
    for (int k = 0; k < 7; k++) {
        cr_assert(s->got[k] >= 0 && s->got[k] < 7, "[lost-task] %s: call %d of dq_next returned "
                  "%s; 7 tasks had finished.", what, k + 1, kit_errname(s->got[k]));
        cr_assert(!seen[s->got[k]]++, "[duplicate] %s: task %d was handed out twice.", what,
                  s->got[k]);
        cr_assert_eq(s->results[k], 1000 + s->got[k], "[wrong-result] %s: task %d came with "
                     "result %d.", what, s->got[k], s->results[k]);
    }
    cr_assert_eq(s->got[7], -ENOENT, "[no-enoent] %s: the 8th dq_next returned %s; expected "
                 "-ENOENT.", what, kit_errname(s->got[7]));
    cr_assert_eq(tasks_unjoined(), 0, "[never-joined] %s: %zu tasks never joined.", what,
                 tasks_unjoined());
    expect_no_polling(what);
    kit_expect_no_leaks("the done queue");
}

/* ---- waits that end without a task -------------------------------------------------------- */

/* Once the script waits in dq_next (it has begun the call, and this task runs), wake it. */
static int stray_unparker(void *arg)
{
    struct scenario *s = arg;
    s->waited.what = "the script to enter dq_next";
    kit_wait_until(&s->waited, s->entered > 0 || s->stalled, __real_aio_yield());
    s->in_time = !s->jobs[0].ended;
    __real_aio_unpark(s->script_task);
    return 0;
}

static int stray_script(struct scenario *s)
{
    spawn_jobs(s);
    aio_task *u = __real_aio_spawn(stray_unparker, s);
    next(s, AIO_NEVER);
    __real_aio_join(u, AIO_NEVER);
    next(s, AIO_NEVER);
    close_queue(s);
    return 0;
}

Test(done_queue, a_stray_wakeup)
{
    const char *what = "a task of 80 ms, and a stray aio_unpark() of the waiter in dq_next";
    struct scenario *s = scenario_new(1);
    s->jobs[0].sleep_ms = 80;
    run(s, stray_script);
    expect_not_done(s);
    expect_no_stall(s, what);
    kit_expect_premise(s->in_time, "the stray wake-up was meant to come while the task still "
                       "ran, and it came after its end");
    cr_assert_eq(s->got[0], 0, "[stray-wakeup] %s: dq_next returned %s; a wake-up is not a task "
                 "finished: look again, and wait on while nothing has finished.", what,
                 kit_errname(s->got[0]));
    cr_assert_eq(s->results[0], 1000, "[wrong-result] %s: result %d", what, s->results[0]);
    cr_assert_geq(s->handed_at[0], 0.07, "[stray-wakeup] %s: dq_next returned at %.3f s, before "
                  "the task ended.", what, s->handed_at[0]);
    cr_assert_eq(s->got[1], -ENOENT, "[no-enoent] %s: the 2nd dq_next returned %s.", what,
                 kit_errname(s->got[1]));
    expect_no_polling(what);
    kit_expect_no_leaks("the done queue");
}

static int timeout_script(struct scenario *s)
{
    spawn_jobs(s);
    next(s, aio_now() + 40);
    close_queue(s);
    return 0;
}

Test(done_queue, the_deadline_then_close)
{
    const char *what = "a task that runs on, dq_next with a 40 ms deadline, then dq_close";
    struct scenario *s = scenario_new(3);
    s->jobs[0].sleep_ms = LONG_MS;
    s->jobs[1].sleep_ms = LONG_MS;
    s->jobs[2].sleep_ms = LONG_MS;
    run(s, timeout_script);
    expect_not_done(s);
    expect_no_stall(s, what);
    cr_assert_eq(s->got[0], -ETIMEDOUT, "[deadline] %s: dq_next returned %s; expected "
                 "-ETIMEDOUT.", what, kit_errname(s->got[0]));
    cr_assert(s->handed_at[0] >= 0.035 && s->handed_at[0] - s->handed_busy[0] < 1.0,
              "[deadline] %s: dq_next returned after %.3f s (%.3f s of it the busy machine kept "
              "the test from a CPU); the deadline was 40 ms.", what, s->handed_at[0],
              s->handed_busy[0]);
    cr_assert(s->all_ended_at_close, "[outlived] %s: dq_close returned while tasks were still "
              "running; it cancels each one and waits until it has ended.", what);
    cr_assert_eq(unparks, 0, "[stale-waiter] %s: aio_unpark() was called %ld times after "
                 "dq_next had timed out and nobody waited in it: the queue still named the "
                 "task that waited once. Clear the waiter when dq_next stops waiting.", what,
                 unparks);
    cr_assert_eq(s->close_rc, 3, "[close-count] %s: dq_close returned %d; 3 tasks were still "
                 "running.", what, s->close_rc);
    cr_assert_eq(s->unjoined_after_close, 0, "[never-joined] %s: %zu tasks were not joined when "
                 "dq_close returned.", what, s->unjoined_after_close);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(s->jobs[i].slept, -ECANCELED, "[not-cancelled] %s: task %d's sleep "
                     "returned %s; dq_close cancels the tasks still running.", what, i,
                     kit_errname(s->jobs[i].slept));
    expect_no_polling(what);
    kit_expect_no_leaks("the done queue");
}

/* ---- the close ----------------------------------------------------------------------------- */

static int close_script(struct scenario *s)
{
    spawn_jobs(s);
    next(s, AIO_NEVER);
    next(s, AIO_NEVER);
    s->waited.what = "task 2 (a sleep of 25 ms) to end";   /* finished, not handed out */
    kit_wait_until(&s->waited, s->jobs[2].ended || s->stalled, __real_aio_sleep(1));
    double t = since(s), busy = kit_starved_s();
    close_queue(s);
    s->handed_at[NJOBS_MAX + 1] = since(s) - t;
    s->close_busy = kit_starved_s() - busy;
    next(s, aio_now() + 50);
    return 0;
}

Test(done_queue, close_cancels_the_rest_and_waits)
{
    const char *what = "7 tasks: 2 handed out, 1 finished and not, 4 running; then dq_close";
    struct scenario *s = scenario_new(7);
    s->jobs[0].sleep_ms = 5;
    s->jobs[1].sleep_ms = 15;
    s->jobs[2].sleep_ms = 25;
    for (int i = 3; i < 7; i++)
        s->jobs[i].sleep_ms = LONG_MS;
    run(s, close_script);
    expect_not_done(s);
    expect_no_stall(s, what);
    cr_assert(s->got[0] == 0 && s->got[1] == 1, "[completion-order] %s: dq_next returned %s and "
              "%s; expected tasks 0 and 1.", what, kit_errname(s->got[0]),
              kit_errname(s->got[1]));
    cr_assert(s->all_ended_at_close, "[outlived] %s: dq_close returned while tasks were still "
              "running; it must wait until every task has ended (like leaving a TaskGroup).",
              what);
    cr_assert_eq(s->unjoined_after_close, 0, "[never-joined] %s: %zu tasks were not joined when "
                 "dq_close returned; join each one, finished or cancelled.", what,
                 s->unjoined_after_close);
    for (int i = 3; i < 7; i++)
        cr_assert_eq(s->jobs[i].slept, -ECANCELED, "[not-cancelled] %s: task %d's sleep "
                     "returned %s; dq_close cancels the tasks still running.", what, i,
                     kit_errname(s->jobs[i].slept));
    cr_assert_eq(s->jobs[2].slept, 0, "[cancelled-finished] %s: task 2 had finished; its "
                 "sleep says %s.", what, kit_errname(s->jobs[2].slept));
    cr_assert_eq(s->close_rc, 4, "[close-count] %s: dq_close returned %d; 4 tasks were still "
                 "running.", what, s->close_rc);
    cr_assert_lt(s->handed_at[NJOBS_MAX + 1] - s->close_busy, 1.0, "[not-cancelled] %s: "
                 "dq_close took %.3f s (%.3f s of it the busy machine kept the test from a "
                 "CPU)", what, s->handed_at[NJOBS_MAX + 1], s->close_busy);
    cr_assert_eq(s->got[2], -ENOENT, "[next-after-close] %s: dq_next after dq_close returned %s; "
                 "the queue has nothing left to hand out: -ENOENT.", what,
                 kit_errname(s->got[2]));
    expect_no_polling(what);
    kit_expect_no_leaks("the done queue");
}

/* A waiter of its own, cancelled while it waits in dq_next; it then closes the queue. */
static int cancelled_waiter(void *arg)
{
    struct scenario *s = arg;
    next(s, AIO_NEVER);
    close_queue(s);
    return 0;
}

static int cancel_script(struct scenario *s)
{
    spawn_jobs(s);
    aio_task *w = __real_aio_spawn(cancelled_waiter, s);
    s->waited.what = "the waiter to enter dq_next";
    kit_wait_until(&s->waited, s->entered > 0 || s->stalled, __real_aio_yield());
    aio_cancel(w);
    __real_aio_join(w, AIO_NEVER);
    return 0;
}

Test(done_queue, a_cancelled_waiter_closes_the_queue)
{
    const char *what = "5 running tasks, the waiter in dq_next cancelled, then its dq_close";
    struct scenario *s = scenario_new(5);
    for (int i = 0; i < 5; i++)
        s->jobs[i].sleep_ms = LONG_MS;
    run(s, cancel_script);
    expect_not_done(s);
    expect_no_stall(s, what);
    cr_assert_eq(s->got[0], -ECANCELED, "[cancel] %s: dq_next returned %s; a cancelled waiter "
                 "gets -ECANCELED.", what, kit_errname(s->got[0]));
    cr_assert(s->all_ended_at_close, "[outlived] %s: dq_close (called by a cancelled task) "
              "returned while tasks were still running.", what);
    cr_assert_eq(s->close_rc, 5, "[close-count] %s: dq_close returned %d; 5 tasks were running.",
                 what, s->close_rc);
    cr_assert_eq(s->unjoined_after_close, 0, "[never-joined] %s: %zu tasks were not joined when "
                 "dq_close returned.", what, s->unjoined_after_close);
    expect_no_polling(what);
    kit_expect_no_leaks("the done queue");
}
