/* Lesson 03 tests, part two: job_join and job_finish. Who gets the result and when, who is
 * woken, what is left on the waiter list, and CPU time against wall time while a join waits. */
#include "job.h"
#include "kit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define JOINERS 5
#define UNTOUCHED (-12345)   /* a result value no job here returns */
#define PATIENCE_MS 3000     /* a join's deadline when it should succeed long before */
#define WATCHDOG_S 5         /* a test that takes 0.5 s is stuck after this */

/* ---- counting aio_yield() calls (the test binary is linked with -Wl,--wrap=aio_yield) --- */

static long n_yields;

int __real_aio_yield(void);

int __wrap_aio_yield(void)
{
    n_yields++;
    return __real_aio_yield();
}

/* A job's body: sleep, note that it got to the end, return a value. */
struct sleeper {
    int64_t ms;
    int value;
    int finished; /* 1 once the body has returned its value */
};

static int sleep_then_return(void *arg)
{
    struct sleeper *s = arg;

    aio_sleep(s->ms);
    s->finished = 1;
    return s->value;
}

/* One join, and what was true when it returned. */
struct join_seen {
    struct job *job;
    struct sleeper *body;
    int64_t deadline;
    int rc;
    int result;
    int body_finished; /* the body had returned when job_join did */
};

static void seen_init(struct join_seen *s, struct job *j, struct sleeper *body, int64_t deadline)
{
    s->job = j;
    s->body = body;
    s->deadline = deadline;
    s->rc = UNTOUCHED;
    s->result = UNTOUCHED;
    s->body_finished = 0;
}

static void join_and_note(struct join_seen *s)
{
    s->rc = job_join(s->job, s->deadline, &s->result);
    s->body_finished = s->body != NULL && s->body->finished;
}

/* Once no join is running on j any more, whatever is still on its list is a node in a dead
 * stack frame (a wrong job_join left it there). Drop it, so that job_finish() does not
 * follow it and crash before the test can say what went wrong. */
static void forget_stale_waiters(struct job *j)
{
    j->waiters = NULL;
}

/* A joiner task: join the job it is given. */
static int joiner(void *arg)
{
    join_and_note(arg);
    return 0;
}

/* A task that never waits cannot be interrupted by the loop, so a join that spins without
 * ever switching would hang the test until Criterion's timeout. The watchdog ends the test
 * first, with a diagnostic (write() and _exit() are safe in a signal handler). */
static const char *watchdog_message;

static void watchdog_bark(int sig)
{
    (void)sig;
    if (write(STDERR_FILENO, watchdog_message, strlen(watchdog_message)) < 0)
        _exit(1);
    _exit(1);
}

static void watchdog_arm(const char *message)
{
    struct sigaction sa = { .sa_handler = watchdog_bark };

    watchdog_message = message;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    alarm(WATCHDOG_S);
}

/* Run a test's main task on a fresh loop; the assertions come after the loop has ended. */
static void run(aio_fn fn, void *arg)
{
    int rc = aio_run(fn, arg);

    cr_assert_eq(rc, 0, "[runtime] the test's main task failed with %d (%s); a task could not "
                 "be spawned.", rc, strerror(-rc));
}

static void expect_join_done(const struct join_seen *s)
{
    cr_assert_neq(s->rc, -ENOSYS, "[not-done] job_join still returns -ENOSYS: it is the "
                  "skeleton's stub. Start at TODO 2 in job.c (and `make hint-03` if stuck).");
}

/* The same .timeout as the other suite: Criterion 2.4.1 leaks a little memory in its runner
 * when the suites of one binary have different timeouts, and LeakSanitizer then fails it. */
TestSuite(job, .timeout = 15);

/* ---- the result, whenever join is called ----------------------------------------------- */

struct after_finish {
    struct sleeper body;
    struct join_seen seen;
    int done_before_join;
    int close_rc;
};

static int after_finish_main(void *arg)
{
    struct after_finish *t = arg;
    struct job j;

    if (job_start(&j, sleep_then_return, &t->body) < 0)
        return -ENOMEM;
    aio_sleep(100); /* the body returns at once: the job is over long before this ends */
    t->done_before_join = job_done(&j);
    seen_init(&t->seen, &j, &t->body, aio_now() + PATIENCE_MS);
    join_and_note(&t->seen);
    t->close_rc = job_close(&j);
    return 0;
}

Test(job, join_after_the_job_finished)
{
    struct after_finish t = { .body = { .ms = 0, .value = 42 } };

    run(after_finish_main, &t);
    expect_join_done(&t.seen);
    cr_assert(t.done_before_join, "[finish-not-done] the job's body returned 100 ms ago, but "
              "job_done() is still 0: job_finish() must set j->done (TODO 3 in job.c).");
    cr_assert_neq(t.seen.rc, -ETIMEDOUT, "[join-after-done] job_join waited until its "
                  "deadline for a job that had already finished. If j->done is set, hand over "
                  "the result at once.");
    cr_assert_eq(t.seen.rc, 0, "[join-return] job_join returned %d (%s); expected 0.",
                 t.seen.rc, strerror(-t.seen.rc));
    cr_assert_eq(t.seen.result, 42, "[wrong-result] job_join gave %d; the job returned 42. "
                 "Store the body's return value in job_finish() and copy it to *result.",
                 t.seen.result);
    cr_assert_eq(t.close_rc, 0, "[runtime] job_close() returned %d.", t.close_rc);
}

struct before_finish {
    struct sleeper body;
    struct join_seen seen;
};

static int before_finish_main(void *arg)
{
    struct before_finish *t = arg;
    struct job j;

    if (job_start(&j, sleep_then_return, &t->body) < 0)
        return -ENOMEM;
    seen_init(&t->seen, &j, &t->body, aio_now() + PATIENCE_MS);
    join_and_note(&t->seen);
    forget_stale_waiters(&j);
    job_close(&j);
    return 0;
}

Test(job, join_before_the_job_finished)
{
    struct before_finish t = { .body = { .ms = 200, .value = 7 } };

    run(before_finish_main, &t);
    expect_join_done(&t.seen);
    cr_assert_neq(t.seen.rc, -ETIMEDOUT, "[lost-wakeup] job_join slept until its deadline "
                  "(%d ms) although the job finished after 200 ms: nobody woke it. job_finish() "
                  "must aio_unpark() every waiter on the list.", PATIENCE_MS);
    cr_assert(t.seen.rc != 0 || t.seen.body_finished, "[early-result] job_join returned 0 "
              "(result %d) before the job had finished. Wait until j->done is 1 before you "
              "read j->result.", t.seen.result);
    cr_assert_eq(t.seen.rc, 0, "[join-return] job_join returned %d (%s); expected 0.",
                 t.seen.rc, strerror(-t.seen.rc));
    cr_assert_eq(t.seen.result, 7, "[wrong-result] job_join gave %d; the job returned 7.",
                 t.seen.result);
}

/* ---- several joiners, and a wake-up that is not the job finishing --------------------- */

struct many {
    struct sleeper body;
    struct join_seen seen[JOINERS];
    int left_on_list;
};

static int many_main(void *arg)
{
    struct many *t = arg;
    aio_task *joiners[JOINERS] = { 0 };
    struct job j;
    int rc = 0;

    if (job_start(&j, sleep_then_return, &t->body) < 0)
        return -ENOMEM;
    for (int i = 0; i < JOINERS; i++) {
        seen_init(&t->seen[i], &j, &t->body, aio_now() + PATIENCE_MS);
        joiners[i] = aio_spawn(joiner, &t->seen[i]);
        if (joiners[i] == NULL)
            rc = -ENOMEM;
    }
    for (int i = 0; i < JOINERS; i++)
        if (joiners[i] != NULL)
            aio_join(joiners[i], AIO_NEVER);
    t->left_on_list = j.waiters != NULL;
    forget_stale_waiters(&j);
    job_close(&j);
    return rc;
}

Test(job, every_joiner_is_woken)
{
    struct many t = { .body = { .ms = 150, .value = 99 } };
    int woken = 0;
    int unlucky = 0; /* a joiner that did not get the result, for the message */

    run(many_main, &t);
    expect_join_done(&t.seen[0]);
    for (int i = 0; i < JOINERS; i++) {
        if (t.seen[i].rc == 0 && t.seen[i].result == 99)
            woken++;
        else
            unlucky = i;
    }
    cr_assert_eq(woken, JOINERS, "[lost-wakeup] %d tasks joined the same job and only %d got "
                 "its result (joiner %d returned %d, %s). job_finish() must wake every waiter "
                 "on the list, not just the first.", JOINERS, woken, unlucky,
                 t.seen[unlucky].rc, strerror(-t.seen[unlucky].rc));
    cr_assert_eq(t.left_on_list, 0, "[stale-waiter] after every join returned, j->waiters "
                 "still held waiters. Those nodes lived in frames that are gone; job_finish() "
                 "should empty the list as it wakes them.");
}

struct spurious {
    struct sleeper body;
    struct join_seen seen;
    aio_task *victim;
};

/* Wake the joiner early, as any other code holding its handle may. */
static int poke(void *arg)
{
    struct spurious *t = arg;

    aio_sleep(50);
    aio_unpark(t->victim);
    return 0;
}

static int spurious_main(void *arg)
{
    struct spurious *t = arg;
    aio_task *poker;
    struct job j;

    if (job_start(&j, sleep_then_return, &t->body) < 0)
        return -ENOMEM;
    seen_init(&t->seen, &j, &t->body, aio_now() + PATIENCE_MS);
    t->victim = aio_spawn(joiner, &t->seen);
    if (t->victim == NULL)
        return -ENOMEM;
    poker = aio_spawn(poke, t);
    if (poker != NULL)
        aio_join(poker, AIO_NEVER);
    aio_join(t->victim, AIO_NEVER);
    forget_stale_waiters(&j);
    job_close(&j);
    return poker != NULL ? 0 : -ENOMEM;
}

Test(job, a_wake_up_is_not_the_result)
{
    struct spurious t = { .body = { .ms = 300, .value = 5 } };

    run(spurious_main, &t);
    expect_join_done(&t.seen);
    cr_assert(t.seen.rc != 0 || t.seen.body_finished, "[early-result] another task called "
              "aio_unpark() on the joiner 50 ms in, and job_join returned 0 (result %d) while "
              "the job was still running. aio_park() returning 0 only means someone woke you: "
              "check j->done again in a loop, and park again if it is not set.",
              t.seen.result);
    cr_assert_eq(t.seen.rc, 0, "[join-return] job_join returned %d (%s); expected 0.",
                 t.seen.rc, strerror(-t.seen.rc));
    cr_assert_eq(t.seen.result, 5, "[wrong-result] job_join gave %d; the job returned 5.",
                 t.seen.result);
}

/* ---- waiting costs nothing ------------------------------------------------------------- */

struct busy {
    struct sleeper body;
    struct join_seen seen;
    double wall, cpu;
    long yields; /* aio_yield() calls made while job_join ran */
};

static int busy_main(void *arg)
{
    struct busy *t = arg;
    struct job j;

    if (job_start(&j, sleep_then_return, &t->body) < 0)
        return -ENOMEM;
    seen_init(&t->seen, &j, &t->body, aio_now() + PATIENCE_MS);
    t->wall = kit_wall();
    t->cpu = kit_cpu();
    n_yields = 0;
    join_and_note(&t->seen);
    t->yields = n_yields;
    t->wall = kit_wall() - t->wall;
    t->cpu = kit_cpu() - t->cpu;
    forget_stale_waiters(&j);
    job_close(&j);
    return 0;
}

Test(job, a_join_sleeps_while_it_waits)
{
    struct busy t = { .body = { .ms = 500, .value = 1 } };

    run(busy_main, &t);
    expect_join_done(&t.seen);
    cr_assert_eq(t.seen.rc, 0, "[join-return] job_join returned %d (%s); expected 0.",
                 t.seen.rc, strerror(-t.seen.rc));
    /* Two witnesses. Parked, the joiner costs a few ms of CPU; spinning costs nearly all of
     * the 500 ms on an idle machine, but on a loaded one the spinner gets only its share of a
     * core, so 10% is the line (a correct join stays near 1%). And a parked join calls
     * aio_yield() not at all; one that polls with it calls it thousands of times, whatever
     * the load. */
    cr_assert(t.cpu < 0.10 * t.wall && t.yields < 100, "[busy-join] job_join used %.2f s of "
              "CPU in %.2f s of waiting for a job that only sleeps, and called aio_yield() %ld "
              "times: it polls instead of sleeping. Put the task on the waiter list and "
              "aio_park() it; job_finish() will wake it.", t.cpu, t.wall, t.yields);
}

/* ---- deadline and cancellation --------------------------------------------------------- */

struct deadline {
    struct sleeper body;
    struct join_seen early, late;
    int left_on_list;
};

static int deadline_main(void *arg)
{
    struct deadline *t = arg;
    struct job j;

    if (job_start(&j, sleep_then_return, &t->body) < 0)
        return -ENOMEM;
    seen_init(&t->early, &j, &t->body, aio_now() + 50);
    join_and_note(&t->early);
    t->left_on_list = j.waiters != NULL;
    forget_stale_waiters(&j);
    seen_init(&t->late, &j, &t->body, aio_now() + PATIENCE_MS);
    join_and_note(&t->late);
    job_close(&j);
    return 0;
}

Test(job, a_join_gives_up_at_its_deadline)
{
    struct deadline t = { .body = { .ms = 400, .value = 11 } };

    run(deadline_main, &t);
    expect_join_done(&t.early);
    cr_assert_eq(t.early.rc, -ETIMEDOUT, "[join-deadline] job_join with a 50 ms deadline, on a "
                 "job that takes 400 ms, returned %d (%s); expected -ETIMEDOUT. Pass the "
                 "deadline to aio_park() and return its error.", t.early.rc,
                 strerror(-t.early.rc));
    cr_assert_eq(t.early.result, UNTOUCHED, "[result-on-error] job_join timed out but wrote "
                 "%d to *result. On an error, leave *result alone: there is no result yet.",
                 t.early.result);
    cr_assert_eq(t.left_on_list, 0, "[stale-waiter] job_join timed out and left its waiter on "
                 "j->waiters. That node lives in job_join's stack frame, which is gone once it "
                 "returns; job_finish() would write into it later. Call job_waiter_remove() "
                 "before returning an error.");
    cr_assert_eq(t.late.rc, 0, "[join-after-timeout] a second job_join, after the first timed "
                 "out, returned %d (%s); the job keeps running after a join gives up, and a "
                 "later join should get its result.", t.late.rc, strerror(-t.late.rc));
    cr_assert_eq(t.late.result, 11, "[wrong-result] the second job_join gave %d; the job "
                 "returned 11.", t.late.result);
}

struct cancel {
    struct sleeper body;
    struct join_seen seen;
    int left_on_list;
};

static int cancel_main(void *arg)
{
    struct cancel *t = arg;
    aio_task *victim;
    struct job j;

    if (job_start(&j, sleep_then_return, &t->body) < 0)
        return -ENOMEM;
    seen_init(&t->seen, &j, &t->body, AIO_NEVER);
    victim = aio_spawn(joiner, &t->seen);
    if (victim == NULL)
        return -ENOMEM;
    aio_sleep(50);
    aio_cancel(victim);
    aio_join(victim, AIO_NEVER);
    t->left_on_list = j.waiters != NULL;
    forget_stale_waiters(&j);
    job_close(&j);
    return 0;
}

Test(job, a_cancelled_joiner_stops_waiting)
{
    struct cancel t = { .body = { .ms = 400, .value = 3 } };

    watchdog_arm("[join-cancel] the joining task was cancelled, and job_join never returned: "
                 "it loops on aio_park() without looking at its result. Once a task is "
                 "cancelled, every wait returns -ECANCELED at once, so that loop never sleeps "
                 "and nothing else can run. Return aio_park()'s error.\n");
    run(cancel_main, &t);
    alarm(0);
    expect_join_done(&t.seen);
    cr_assert_eq(t.seen.rc, -ECANCELED, "[join-cancel] the joining task was cancelled 50 ms "
                 "in, and job_join returned %d (%s)%s; expected -ECANCELED at once. Return "
                 "aio_park()'s error instead of parking again.", t.seen.rc,
                 strerror(-t.seen.rc), t.seen.body_finished ? " after the job finished" : "");
    cr_assert_eq(t.seen.result, UNTOUCHED, "[result-on-error] job_join was cancelled but wrote "
                 "%d to *result; leave it alone on an error.", t.seen.result);
    cr_assert_eq(t.left_on_list, 0, "[stale-waiter] job_join was cancelled and left its waiter "
                 "on j->waiters, pointing into a stack frame that is gone. Call "
                 "job_waiter_remove() before returning an error.");
}

/* ---- a bare job is a Future: someone else sets its result, once ----------------------- */

struct future {
    struct join_seen seen;
    int first, second, result_after;
};

static int future_main(void *arg)
{
    struct future *t = arg;
    aio_task *waiter;
    struct job j;

    job_init(&j);
    seen_init(&t->seen, &j, NULL, aio_now() + PATIENCE_MS);
    waiter = aio_spawn(joiner, &t->seen);
    if (waiter == NULL)
        return -ENOMEM;
    aio_sleep(30);               /* the joiner is parked by now */
    t->first = job_finish(&j, 8);
    t->second = job_finish(&j, 9);
    t->result_after = j.result;
    aio_join(waiter, AIO_NEVER);
    return 0;
}

Test(job, a_bare_job_finishes_once)
{
    struct future t = { 0 };

    run(future_main, &t);
    cr_assert_neq(t.first, -ENOSYS, "[not-done] job_finish still returns -ENOSYS: it is the "
                  "skeleton's stub. Start at TODO 3 in job.c.");
    expect_join_done(&t.seen);
    cr_assert_eq(t.first, 0, "[finish-return] the first job_finish returned %d (%s); expected "
                 "0.", t.first, strerror(-t.first));
    cr_assert_eq(t.second, -EALREADY, "[finish-twice] a second job_finish on a finished job "
                 "returned %d; expected -EALREADY. A job has one result: check j->done first.",
                 t.second);
    cr_assert_eq(t.result_after, 8, "[finish-twice] a second job_finish replaced the result "
                 "8 with %d; the first result must stand.", t.result_after);
    cr_assert_eq(t.seen.rc, 0, "[lost-wakeup] the task parked in job_join got %d (%s) instead "
                 "of the result set by job_finish() from another task.", t.seen.rc,
                 strerror(-t.seen.rc));
    cr_assert_eq(t.seen.result, 8, "[wrong-result] job_join gave %d; job_finish set 8.",
                 t.seen.result);
}
