/* Lesson 03 tests, part two: job_join and job_finish. Who gets the result and when, who is
 * woken, what is on the waiter list while a join sleeps and after it returns, deadlines (short,
 * AIO_NEVER, beyond INT_MAX ms), cancellation, and how many times a join wakes up while it
 * waits (a count the machine's load cannot change). */
#include "counted.h"
#include "job.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "kit_test.h"

#define JOINERS 5
#define UNTOUCHED (-12345)   /* a result value no job here returns */
#define PATIENCE_MS 1500     /* a join's deadline when it should succeed long before */
#define WATCHDOG_S 3         /* a test that takes 0.4 s is stuck after this */
#define MAX_JOIN_WAITS 2     /* waits one join may make for a job that finishes once */

/* A job's body: sleep (uncounted: only the student's calls are counted), note that it got to
 * the end, return a value. */
struct sleeper {
    int64_t ms;
    int value;
    int finished; /* 1 once the body has returned its value */
};

static int sleep_then_return(void *arg)
{
    struct sleeper *s = arg;

    __real_aio_sleep(s->ms);
    s->finished = 1;
    return s->value;
}

/* One join, and what was true when it returned. */
struct join_seen {
    struct job *job;
    struct sleeper *body;
    int64_t deadline;
    aio_task *task;    /* the joining task */
    int rc;
    int result;
    int body_finished; /* the body had returned when job_join did */
    int64_t returned_at;
};

static void seen_init(struct join_seen *s, struct job *j, struct sleeper *body, int64_t deadline)
{
    s->job = j;
    s->body = body;
    s->deadline = deadline;
    s->task = NULL;
    s->rc = UNTOUCHED;
    s->result = UNTOUCHED;
    s->body_finished = 0;
    s->returned_at = 0;
}

static void join_and_note(struct join_seen *s)
{
    s->task = aio_current();
    s->rc = job_join(s->job, s->deadline, &s->result);
    s->body_finished = s->body != NULL && s->body->finished;
    s->returned_at = aio_now();
}

/* Once no join is running on j any more, whatever is still on its list is a node in a dead
 * stack frame (a wrong job_join left it there). Drop it, so that job_finish() does not
 * follow it and crash before the test can say what went wrong. */
static void forget_stale_waiters(struct job *j)
{
    j->waiters = NULL;
}

/* How many nodes on j's list name task t (at most 64 nodes are walked: a list that loops is
 * cut there). *length gets the list's length, up to that cap. */
static int on_list(const struct job *j, const aio_task *t, int *length)
{
    int n = 0, len = 0;

    for (const struct job_waiter *w = j->waiters; w != NULL && len < 64; w = w->next, len++)
        n += w->task == t;
    if (length != NULL)
        *length = len;
    return n;
}

/* A joiner task: join the job it is given. */
static int joiner(void *arg)
{
    join_and_note(arg);
    return 0;
}

/* kit_wait_until's step, uncounted: let every other ready task have its next turn. */
#define NEXT_TURN __real_aio_yield()

/* Every joiner of s[0..n) has entered job_join. Whenever this task runs, a joiner that has is
 * not running: it waits inside job_join (or has returned), which is what a probe needs. */
static int joiners_started(const struct join_seen *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i].task == NULL)
            return 0;
    return 1;
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

    cr_assert_eq(rc, 0, "[runtime] the test's main task failed with %s; a task could not "
                 "be spawned.", kit_errname(rc));
}

static void expect_join_done(const struct join_seen *s)
{
    kit_expect_done(s->rc, "job_join", "job.c");
}

static void fini(void)
{
    alarm(0);
    kit_cleanup();
}

/* The same .timeout as the other suite: Criterion 2.4.1 leaks a little memory in its runner
 * when the suites of one binary have different timeouts, and LeakSanitizer then fails it. */
TestSuite(job, .fini = fini, .timeout = 20);

/* ---- the result, whenever join is called ----------------------------------------------- */

struct after_finish {
    struct sleeper body;
    struct kit_wait over; /* the body has returned, and its task called job_finish() */
    struct join_seen seen;
    int done_before_join;
    int close_rc;
    long waits;
    int left_on_list; /* j->waiters was not empty once job_join had returned */
};

static int after_finish_main(void *arg)
{
    struct after_finish *t = arg;
    struct job j;

    if (job_start(&j, sleep_then_return, &t->body) < 0)
        return -ENOMEM;
    /* The body returns at once; its task calls job_finish() in the same turn. */
    t->over.what = "the job's body (a sleep of 0 ms) to return";
    kit_wait_until(&t->over, t->body.finished, NEXT_TURN);
    t->done_before_join = job_done(&j);
    seen_init(&t->seen, &j, &t->body, aio_now() + PATIENCE_MS);
    counted_reset();
    join_and_note(&t->seen);
    t->waits = counted_waits();
    t->left_on_list = j.waiters != NULL;
    forget_stale_waiters(&j);
    t->close_rc = job_close(&j);
    return 0;
}

Test(job, join_after_the_job_finished)
{
    struct after_finish t = { .body = { .ms = 0, .value = 42 } };

    run(after_finish_main, &t);
    kit_expect_waited(&t.over);
    expect_join_done(&t.seen);
    cr_assert(t.done_before_join, "[finish-not-done] the job's body had returned and its task "
              "had called job_finish(), but job_done() is still 0: job_finish() must set "
              "j->done (TODO 3 in job.c).");
    cr_assert_neq(t.seen.rc, -ETIMEDOUT, "[join-after-done] job_join waited until its "
                  "deadline for a job that had already finished. If j->done is set, hand over "
                  "the result at once.");
    cr_assert_eq(t.seen.rc, 0, "[join-return] job_join returned %s; expected 0.",
                 kit_errname(t.seen.rc));
    cr_assert_eq(t.seen.result, 42, "[wrong-result] job_join gave %d; the job returned 42. "
                 "Store the body's return value in job_finish() and copy it to *result.",
                 t.seen.result);
    cr_assert_eq(t.waits, 0, "[join-after-done] job_join waited (%ld %s) for a job that had "
                 "already finished; when j->done is set there is nothing to wait for.",
                 t.waits, kit_plural(t.waits, "time", "times"));
    cr_assert(!t.left_on_list, "[stale-waiter] job_join of a job that had already finished "
              "returned with its waiter still on j->waiters: a node in a frame that is gone. "
              "Push yourself only when you are going to wait, or take the node off before "
              "you return.");
    cr_assert_eq(t.close_rc, 0, "[runtime] job_close() returned %s.", kit_errname(t.close_rc));
    kit_expect_no_leaks("job_join");
}

/* A probe that looks at the waiter list while the joiner sleeps. */
struct probe {
    struct job *job;
    struct join_seen *seen;
    struct kit_wait started; /* the joiner has entered job_join */
    int job_running;         /* the job had not finished when the probe looked */
    int looked;
    int on_list;   /* how many nodes named the joiner */
    int length;
};

static int probe_list(void *arg)
{
    struct probe *p = arg;

    p->started.what = "the joining task to enter job_join";
    kit_wait_until(&p->started, joiners_started(p->seen, 1), NEXT_TURN);
    p->looked = 1;
    p->job_running = !p->seen->body->finished;
    p->on_list = on_list(p->job, p->seen->task, &p->length);
    return 0;
}

static void expect_on_list(const struct probe *p, const char *when)
{
    cr_assert(p->looked, "[harness] the probe never ran.");
    kit_expect_waited(&p->started);
    kit_expect_premise(p->job_running, "the probe meant to look at j->waiters while the job "
                       "still ran, and it had finished");
    cr_assert_neq(p->on_list, 0, "[not-on-list] %s, while job_join was asleep, j->waiters did "
                  "not hold the joining task (the list had %d %s). job_finish() wakes only "
                  "the tasks it finds there: put a struct job_waiter for yourself on the list "
                  "(job_waiter_push) before you park.", when, p->length,
                  kit_plural(p->length, "node", "nodes"));
    cr_assert_eq(p->on_list, 1, "[pushed-twice] %s, j->waiters held the joining task %d "
                 "times%s. Push your waiter once, before the first park: after a wake-up that "
                 "was not the job finishing, it is still on the list.", when, p->on_list,
                 p->length >= 64 ? " (the list loops back on itself)" : "");
}

struct before_finish {
    struct sleeper body;
    struct join_seen seen;
    struct probe probe;
};

static int before_finish_main(void *arg)
{
    struct before_finish *t = arg;
    aio_task *probe;
    struct job j;

    if (job_start(&j, sleep_then_return, &t->body) < 0)
        return -ENOMEM;
    seen_init(&t->seen, &j, &t->body, aio_now() + PATIENCE_MS);
    t->probe = (struct probe){ .job = &j, .seen = &t->seen };
    probe = __real_aio_spawn(probe_list, &t->probe);
    if (probe == NULL)
        return -ENOMEM;
    join_and_note(&t->seen);
    forget_stale_waiters(&j);
    aio_join(probe, AIO_NEVER);
    job_close(&j);
    return 0;
}

Test(job, join_before_the_job_finished)
{
    struct before_finish t = { .body = { .ms = 200, .value = 7 } };

    run(before_finish_main, &t);
    expect_join_done(&t.seen);
    expect_on_list(&t.probe, "with the job still running");
    cr_assert_neq(t.seen.rc, -ETIMEDOUT, "[lost-wakeup] job_join slept until its deadline "
                  "(%d ms) although the job finished after 200 ms, with the joiner on the "
                  "list: nobody woke it. job_finish() must aio_unpark() every waiter on the "
                  "list.", PATIENCE_MS);
    cr_assert(t.seen.rc != 0 || t.seen.body_finished, "[early-result] job_join returned 0 "
              "(result %d) before the job had finished. Wait until j->done is 1 before you "
              "read j->result.", t.seen.result);
    cr_assert_eq(t.seen.rc, 0, "[join-return] job_join returned %s; expected 0.",
                 kit_errname(t.seen.rc));
    cr_assert_eq(t.seen.result, 7, "[wrong-result] job_join gave %d; the job returned 7.",
                 t.seen.result);
    kit_expect_no_leaks("job_join");
}

/* ---- several joiners, and a wake-up that is not the job finishing --------------------- */

struct many {
    struct sleeper body;
    struct kit_wait started; /* every joiner has entered job_join */
    int job_running;         /* the job had not finished when the list was read */
    struct join_seen seen[JOINERS];
    int on_list[JOINERS]; /* nodes naming each joiner, just before the job finished */
    int length;
    int left_on_list;
    struct join_seen late; /* a join after the job finished */
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
        joiners[i] = __real_aio_spawn(joiner, &t->seen[i]);
        if (joiners[i] == NULL)
            rc = -ENOMEM;
    }
    t->started.what = "every joining task to enter job_join";
    kit_wait_until(&t->started, rc < 0 || joiners_started(t->seen, JOINERS), NEXT_TURN);
    t->job_running = !t->body.finished;
    for (int i = 0; i < JOINERS; i++)
        t->on_list[i] = on_list(&j, t->seen[i].task, &t->length);
    for (int i = 0; i < JOINERS; i++)
        if (joiners[i] != NULL)
            aio_join(joiners[i], AIO_NEVER);
    t->left_on_list = j.waiters != NULL;
    forget_stale_waiters(&j);
    seen_init(&t->late, &j, &t->body, aio_now() + PATIENCE_MS);
    join_and_note(&t->late);
    job_close(&j);
    return rc;
}

Test(job, every_joiner_is_woken)
{
    struct many t = { .body = { .ms = 150, .value = 99 } };
    int woken = 0;
    int unlucky = 0; /* a joiner that did not get the result, for the message */

    run(many_main, &t);
    kit_expect_waited(&t.started);
    kit_expect_premise(t.job_running, "the test meant to read j->waiters while the job still "
                       "ran, and it had finished");
    expect_join_done(&t.seen[0]);
    for (int i = 0; i < JOINERS; i++) {
        cr_assert_neq(t.on_list[i], 0, "[not-on-list] %d tasks were parked in job_join on "
                      "the same job, and joiner %d was not on j->waiters (the list had %d %s). "
                      "Push your waiter before you park: job_finish() only wakes the tasks on "
                      "the list.", JOINERS, i, t.length, kit_plural(t.length, "node", "nodes"));
        cr_assert_eq(t.on_list[i], 1, "[pushed-twice] joiner %d was on j->waiters %d times.",
                     i, t.on_list[i]);
        if (t.seen[i].rc == 0 && t.seen[i].result == 99)
            woken++;
        else
            unlucky = i;
    }
    cr_assert_eq(woken, JOINERS, "[lost-wakeup] %d tasks joined the same job and only %d got "
                 "its result (joiner %d returned %s, result %d). job_finish() must wake every "
                 "waiter on the list, not just the first.", JOINERS, woken, unlucky,
                 kit_errname(t.seen[unlucky].rc), t.seen[unlucky].result);
    cr_assert_eq(t.left_on_list, 0, "[finish-keeps-waiters] after every join returned, "
                 "j->waiters still held waiters. Those nodes lived in frames that are gone; "
                 "job_finish() must empty the list as it wakes them.");
    cr_assert(t.late.rc == 0 && t.late.result == 99, "[join-after-done] a join after the job "
              "had finished returned %s with result %d; expected 0 and 99.",
              kit_errname(t.late.rc), t.late.result);
    kit_expect_no_leaks("job_join");
}

struct spurious {
    struct sleeper body;
    struct join_seen seen;
    struct probe probe;
    aio_task *victim;
    struct kit_wait woken; /* the joiner has had its turn after the wake-up */
};

/* Wake the joiner early, as any other code holding its handle may; once it has had its turn
 * after that (it waits again, or it returned), look at the list (and mend it if it loops, so
 * that job_finish() cannot go round it forever). Only the joiner's calls are counted here. */
static int poke(void *arg)
{
    struct spurious *t = arg;
    long waits;

    t->probe.started.what = "the joining task to enter job_join";
    kit_wait_until(&t->probe.started, joiners_started(&t->seen, 1), NEXT_TURN);
    waits = counted_waits();
    aio_unpark(t->victim);
    t->woken.what = "the joining task to run after its wake-up";
    kit_wait_until(&t->woken, counted_waits() > waits || t->seen.rc != UNTOUCHED, NEXT_TURN);
    t->probe.looked = 1;
    t->probe.job_running = !t->body.finished;
    t->probe.on_list = on_list(t->probe.job, t->victim, &t->probe.length);
    if (t->probe.on_list > 1) {
        /* A node pushed twice points at itself: keep one copy, alone. */
        t->probe.job->waiters->next = NULL;
    }
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
    t->probe = (struct probe){ .job = &j, .seen = &t->seen };
    t->victim = __real_aio_spawn(joiner, &t->seen);
    if (t->victim == NULL)
        return -ENOMEM;
    poker = __real_aio_spawn(poke, t);
    if (poker != NULL)
        aio_join(poker, AIO_NEVER);
    aio_join(t->victim, AIO_NEVER);
    forget_stale_waiters(&j);
    job_close(&j);
    return poker != NULL ? 0 : -ENOMEM;
}

Test(job, a_wake_up_is_not_the_result)
{
    struct spurious t = { .body = { .ms = 250, .value = 5 } };

    run(spurious_main, &t);
    kit_expect_waited(&t.probe.started);
    kit_expect_waited(&t.woken);
    expect_join_done(&t.seen);
    cr_assert(t.seen.rc != 0 || t.seen.body_finished, "[early-result] another task called "
              "aio_unpark() on the joiner while it waited, and job_join returned 0 (result %d) "
              "while the job was still running. aio_park() returning 0 only means someone woke "
              "you: check j->done again in a loop, and park again if it is not set.",
              t.seen.result);
    expect_on_list(&t.probe, "after a wake-up that was not the job finishing");
    cr_assert_eq(t.seen.rc, 0, "[join-return] job_join returned %s after a wake-up that was "
                 "not the job finishing; expected 0 once the job finished.",
                 kit_errname(t.seen.rc));
    cr_assert_eq(t.seen.result, 5, "[wrong-result] job_join gave %d; the job returned 5.",
                 t.seen.result);
    kit_expect_no_leaks("job_join");
}

/* ---- waiting costs nothing ------------------------------------------------------------- */

struct busy {
    struct sleeper body;
    struct join_seen seen;
    double wall, cpu;
    long yields, parks, sleeps; /* calls job_join made while it waited */
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
    counted_reset();
    join_and_note(&t->seen);
    t->yields = kit_calls_aio_yield;
    t->parks = kit_calls_aio_park;
    t->sleeps = kit_calls_aio_sleep + kit_calls_aio_sleep_until;
    t->wall = kit_wall() - t->wall;
    t->cpu = kit_cpu() - t->cpu;
    forget_stale_waiters(&j);
    job_close(&j);
    return 0;
}

Test(job, a_join_sleeps_while_it_waits)
{
    struct busy t = { .body = { .ms = 400, .value = 1 } };

    run(busy_main, &t);
    expect_join_done(&t.seen);
    cr_assert_eq(t.seen.rc, 0, "[join-return] job_join returned %s; expected 0.",
                 kit_errname(t.seen.rc));
    /* The verdict is a count, which the machine's load cannot change: a parked join is woken
     * once, by job_finish(). CPU time is only told, as a second witness. */
    cr_assert(t.yields < 100, "[busy-join] job_join called aio_yield() %ld times (and used "
              "%.2f s of CPU in %.2f s) waiting for a job that only sleeps: it polls instead "
              "of sleeping. Put the task on the waiter list and aio_park() it; job_finish() "
              "will wake it.", t.yields, t.cpu, t.wall);
    cr_assert(t.yields + t.parks + t.sleeps <= MAX_JOIN_WAITS, "[poll-join] job_join woke "
              "%ld %s while the job ran for 400 ms (aio_park() %ld, aio_sleep() %ld, "
              "aio_yield() %ld): it looks at the job on a timer. Park with the caller's "
              "deadline only; job_finish() wakes you when there is something to see.",
              t.yields + t.parks + t.sleeps,
              kit_plural(t.yields + t.parks + t.sleeps, "time", "times"), t.parks, t.sleeps,
              t.yields);
    kit_expect_no_leaks("job_join");
}

/* ---- deadlines and cancellation -------------------------------------------------------- */

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
    struct deadline t = { .body = { .ms = 200, .value = 11 } };

    run(deadline_main, &t);
    expect_join_done(&t.early);
    cr_assert_eq(t.early.rc, -ETIMEDOUT, "[join-deadline] job_join with a 50 ms deadline, on a "
                 "job that takes 200 ms, returned %s; expected -ETIMEDOUT. Pass the deadline "
                 "to aio_park() and return its error.", kit_errname(t.early.rc));
    cr_assert_eq(t.early.result, UNTOUCHED, "[result-on-error] job_join timed out but wrote "
                 "%d to *result. On an error, leave *result alone: there is no result yet.",
                 t.early.result);
    cr_assert_eq(t.left_on_list, 0, "[stale-waiter] job_join timed out and left its waiter on "
                 "j->waiters. That node lives in job_join's stack frame, which is gone once it "
                 "returns; job_finish() would write into it later. Call job_waiter_remove() "
                 "before returning an error.");
    cr_assert_eq(t.late.rc, 0, "[join-after-timeout] a second job_join, after the first timed "
                 "out, returned %s; the job keeps running after a join gives up, and a later "
                 "join should get its result.", kit_errname(t.late.rc));
    cr_assert_eq(t.late.result, 11, "[wrong-result] the second job_join gave %d; the job "
                 "returned 11.", t.late.result);
    kit_expect_no_leaks("job_join");
}

/* Two joiners, one of which gives up while the other waits on; in both orders on the list. */
struct two {
    struct sleeper body;
    struct join_seen patient, hasty;
    int patient_first;      /* the patient joiner pushes first (it is then second on the list) */
    struct kit_wait started; /* both joiners have entered job_join */
    int before_deadline;    /* the list was read before the hasty joiner's deadline */
    int early_patient, early_hasty; /* each one's nodes on the list once both wait */
    int early_length;
    int still_running;      /* the job had not finished when the list was read again */
    int patient_on_list;    /* just after the hasty one gave up */
    int hasty_on_list;
    int length;
    struct join_seen after; /* a join after the job finished */
};

static int two_main(void *arg)
{
    struct two *t = arg;
    aio_task *a, *b;
    struct job j;

    if (job_start(&j, sleep_then_return, &t->body) < 0)
        return -ENOMEM;
    seen_init(&t->patient, &j, &t->body, aio_now() + PATIENCE_MS);
    seen_init(&t->hasty, &j, &t->body, aio_now() + 60);
    a = __real_aio_spawn(joiner, t->patient_first ? &t->patient : &t->hasty);
    b = __real_aio_spawn(joiner, t->patient_first ? &t->hasty : &t->patient);
    if (a == NULL || b == NULL)
        return -ENOMEM;
    t->started.what = "both joining tasks to enter job_join";
    kit_wait_until(&t->started, t->patient.task != NULL && t->hasty.task != NULL, NEXT_TURN);
    t->before_deadline = aio_now() < t->hasty.deadline;
    t->early_patient = on_list(&j, t->patient.task, &t->early_length);
    t->early_hasty = on_list(&j, t->hasty.task, NULL);
    aio_join(t->patient_first ? b : a, AIO_NEVER); /* the hasty one: back after 60 ms */
    t->still_running = !t->body.finished;
    t->patient_on_list = on_list(&j, t->patient.task, &t->length);
    t->hasty_on_list = on_list(&j, t->hasty.task, NULL);
    if (t->hasty_on_list > 0 || t->patient_on_list != 1) {
        /* Mend the list, so the test can go on and say what it saw. */
        static struct job_waiter mended;
        mended = (struct job_waiter){ .task = t->patient.task };
        j.waiters = &mended;
    }
    aio_join(t->patient_first ? a : b, AIO_NEVER);
    forget_stale_waiters(&j);
    seen_init(&t->after, &j, &t->body, AIO_NEVER);
    join_and_note(&t->after);
    job_close(&j);
    return 0;
}

static void expect_two(const struct two *t)
{
    const char *order = t->patient_first ? "second" : "first";

    kit_expect_waited(&t->started);
    kit_expect_premise(t->before_deadline, "the test meant to read j->waiters before the "
                       "60 ms deadline of one joiner, and read it after");
    expect_join_done(&t->hasty);
    cr_assert(t->early_patient == 1 && t->early_hasty == 1, "[not-on-list] while two tasks "
              "joined the same job, j->waiters held the first joiner %d and the second %d "
              "%s (the list had %d %s); each should be there once. Push your waiter once, "
              "before you park.", t->patient_first ? t->early_patient : t->early_hasty,
              t->patient_first ? t->early_hasty : t->early_patient,
              kit_plural(t->patient_first ? t->early_hasty : t->early_patient, "time",
                         "times"), t->early_length, kit_plural(t->early_length, "node",
                                                               "nodes"));
    cr_assert_eq(t->hasty.rc, -ETIMEDOUT, "[join-deadline] of two joiners, the one with a "
                 "60 ms deadline returned %s; expected -ETIMEDOUT (the job takes 250 ms).",
                 kit_errname(t->hasty.rc));
    /* The job ends 190 ms after that deadline and then takes the other joiner off the list
     * itself: a stall that long, and the list proves nothing. */
    kit_expect_premise(t->still_running, "the test meant to read j->waiters while the 250 ms "
                       "job still ran, just after the joiner with a 60 ms deadline gave up, "
                       "and the job had already finished");
    /* The other joiner first: a join that unlinks the head instead of its own node both
     * loses the other and leaves its own; the cause is the removal, not a forgotten one. */
    cr_assert_eq(t->patient_on_list, 1, "[removed-other-waiter] when the joiner with a 60 ms "
                 "deadline gave up (it joined %s, of two), the other joiner's waiter was no "
                 "longer on j->waiters (%d on the list). Remove your own node, wherever it is "
                 "on the list, not the head: job_waiter_remove(j, &self).", order,
                 t->patient_on_list);
    cr_assert_eq(t->hasty_on_list, 0, "[stale-waiter] a joiner whose deadline passed (it "
                 "joined %s, of two) left its waiter on j->waiters. Take your own node off "
                 "the list (job_waiter_remove) before you return.", order);
    cr_assert(t->patient.rc == 0 && t->patient.result == 13, "[lost-wakeup] the joiner that "
              "waited on got %s with result %d after the other one gave up; expected 0 and 13.",
              kit_errname(t->patient.rc), t->patient.result);
    cr_assert(t->after.rc == 0 && t->after.result == 13, "[join-after-done] a join with "
              "AIO_NEVER after the job had finished returned %s with result %d; expected 0 "
              "and 13.", kit_errname(t->after.rc), t->after.result);
}

Test(job, a_second_joiner_gives_up_first)
{
    struct two t = { .body = { .ms = 250, .value = 13 }, .patient_first = 1 };

    run(two_main, &t);
    expect_two(&t);
    kit_expect_no_leaks("job_join");
}

Test(job, a_first_joiner_gives_up_first)
{
    struct two t = { .body = { .ms = 250, .value = 13 }, .patient_first = 0 };

    run(two_main, &t);
    expect_two(&t);
    kit_expect_no_leaks("job_join");
}

/* AIO_NEVER is -1, below every real time; a deadline past INT_MAX ms must not wrap. */
struct far {
    struct sleeper body;
    struct join_seen never, huge;
};

static int far_main(void *arg)
{
    struct far *t = arg;
    aio_task *a, *b;
    struct job j;

    if (job_start(&j, sleep_then_return, &t->body) < 0)
        return -ENOMEM;
    seen_init(&t->never, &j, &t->body, AIO_NEVER);
    seen_init(&t->huge, &j, &t->body, aio_now() + (int64_t)INT_MAX + 1000);
    a = __real_aio_spawn(joiner, &t->never);
    b = __real_aio_spawn(joiner, &t->huge);
    if (a != NULL)
        aio_join(a, AIO_NEVER);
    if (b != NULL)
        aio_join(b, AIO_NEVER);
    forget_stale_waiters(&j);
    job_close(&j);
    return a != NULL && b != NULL ? 0 : -ENOMEM;
}

Test(job, no_deadline_and_a_far_one)
{
    struct far t = { .body = { .ms = 100, .value = 21 } };

    watchdog_arm("[join-never-returned] a join with AIO_NEVER was still waiting 3 s after "
                 "the job had finished (in 100 ms): nobody woke it. Is the joiner on "
                 "j->waiters while it sleeps, and does job_finish() wake every waiter?\n");
    run(far_main, &t);
    alarm(0);
    expect_join_done(&t.never);
    cr_assert_eq(t.never.rc, 0, "[join-never] job_join(j, AIO_NEVER, &r) returned %s; "
                 "expected 0 after the job's 100 ms. AIO_NEVER (-1) means no deadline, not one "
                 "in the past: hand it to aio_park() as it is.", kit_errname(t.never.rc));
    cr_assert_eq(t.huge.rc, 0, "[join-far-deadline] job_join with a deadline %lld ms away "
                 "(past INT_MAX) returned %s; expected 0 after the job's 100 ms. Keep "
                 "deadlines in int64_t: one cast to int wraps to the past.",
                 (long long)INT_MAX + 1000, kit_errname(t.huge.rc));
    cr_assert(t.never.result == 21 && t.huge.result == 21, "[wrong-result] the joins gave %d "
              "and %d; the job returned 21.", t.never.result, t.huge.result);
    kit_expect_no_leaks("job_join");
}

struct cancel {
    struct sleeper body;
    struct join_seen seen;
    struct kit_wait started; /* the joiner has entered job_join */
    int job_running;         /* the job had not finished when the joiner was cancelled */
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
    victim = __real_aio_spawn(joiner, &t->seen);
    if (victim == NULL)
        return -ENOMEM;
    t->started.what = "the joining task to enter job_join";
    kit_wait_until(&t->started, t->seen.task != NULL, NEXT_TURN);
    t->job_running = !t->body.finished;
    aio_cancel(victim);
    aio_join(victim, AIO_NEVER);
    t->left_on_list = j.waiters != NULL;
    forget_stale_waiters(&j);
    job_close(&j);
    return 0;
}

Test(job, a_cancelled_joiner_stops_waiting)
{
    struct cancel t = { .body = { .ms = 200, .value = 3 } };

    watchdog_arm("[join-cancel] the joining task was cancelled, and job_join never returned: "
                 "it loops on aio_park() without looking at its result. Once a task is "
                 "cancelled, every wait returns -ECANCELED at once, so that loop never sleeps "
                 "and nothing else can run. Return aio_park()'s error.\n");
    run(cancel_main, &t);
    alarm(0);
    kit_expect_waited(&t.started);
    kit_expect_premise(t.job_running, "the test meant to cancel the joiner while the job still "
                       "ran, and the job had finished");
    expect_join_done(&t.seen);
    cr_assert_neq(t.seen.rc, -ETIMEDOUT, "[join-never] job_join(j, AIO_NEVER, &r) returned "
                  "-ETIMEDOUT (its task was cancelled while it waited, which should give "
                  "-ECANCELED). AIO_NEVER (-1) means no deadline, not one in the past: hand it "
                  "to aio_park() as it is.");
    cr_assert_eq(t.seen.rc, -ECANCELED, "[join-cancel] the joining task was cancelled while it "
                 "waited, and job_join returned %s%s; expected -ECANCELED at once. Return "
                 "aio_park()'s error instead of parking again.", kit_errname(t.seen.rc),
                 t.seen.body_finished ? " after the job finished" : "");
    cr_assert_eq(t.seen.result, UNTOUCHED, "[result-on-error] job_join was cancelled but wrote "
                 "%d to *result; leave it alone on an error.", t.seen.result);
    cr_assert_eq(t.left_on_list, 0, "[stale-waiter] job_join was cancelled and left its waiter "
                 "on j->waiters, pointing into a stack frame that is gone. Call "
                 "job_waiter_remove() before returning an error.");
    kit_expect_no_leaks("job_join");
}

/* ---- a job whose body fails: the error is its result ---------------------------------- */

struct failing {
    struct sleeper body[2];
    struct join_seen before[2], after[2];
};

static int failing_main(void *arg)
{
    struct failing *t = arg;
    aio_task *w[2] = { 0 };
    struct job j[2];
    int rc = 0;

    for (int k = 0; k < 2; k++) {
        if (job_start(&j[k], sleep_then_return, &t->body[k]) < 0)
            return -ENOMEM;
        seen_init(&t->before[k], &j[k], &t->body[k], aio_now() + PATIENCE_MS);
        w[k] = __real_aio_spawn(joiner, &t->before[k]);
        rc = w[k] == NULL ? -ENOMEM : rc;
    }
    for (int k = 0; k < 2; k++)
        if (w[k] != NULL)
            aio_join(w[k], AIO_NEVER);
    for (int k = 0; k < 2; k++) {
        forget_stale_waiters(&j[k]);
        seen_init(&t->after[k], &j[k], &t->body[k], aio_now() + PATIENCE_MS);
        join_and_note(&t->after[k]);
        job_close(&j[k]);
    }
    return rc;
}

Test(job, a_failed_job_hands_over_its_error)
{
    /* Two jobs fail with different errors at the same moment. */
    struct failing t = { .body = { { .ms = 100, .value = -EIO }, { .ms = 100, .value = -EPIPE } } };
    static const int want[2] = { -EIO, -EPIPE };

    run(failing_main, &t);
    expect_join_done(&t.before[0]);
    for (int k = 0; k < 2; k++) {
        const struct join_seen *s[2] = { &t.before[k], &t.after[k] };
        for (int m = 0; m < 2; m++) {
            cr_assert_neq(s[m]->rc, want[k], "[error-result] job_join (%s the job finished) "
                          "returned %s, the error of the job's body; expected 0 with %s in "
                          "*result. The join worked: the job's error is its result, not the "
                          "join's.", m == 0 ? "joined before" : "joined after",
                          kit_errname(s[m]->rc), kit_errname(want[k]));
            cr_assert_eq(s[m]->rc, 0, "[join-return] job_join (%s the job finished) returned "
                         "%s; expected 0 (the job's body returned %s, which is its result).",
                         m == 0 ? "joined before" : "joined after", kit_errname(s[m]->rc),
                         kit_errname(want[k]));
            cr_assert_eq(s[m]->result, want[k], "[wrong-result] job_join gave %s; that job's "
                         "body returned %s (two jobs failed at the same time, with different "
                         "errors).", kit_errname(s[m]->result), kit_errname(want[k]));
        }
    }
    kit_expect_no_leaks("job_join");
}

/* ---- a bare job is a Future: someone else sets its result, once ----------------------- */

struct future {
    struct join_seen seen;
    struct kit_wait started; /* the joiner has entered job_join */
    int before_deadline;     /* job_finish came before the joiner's deadline */
    int first, second, result_after;
    int on_list, length; /* the joiner's nodes on the list, just before job_finish */
};

static int future_main(void *arg)
{
    struct future *t = arg;
    aio_task *waiter;
    struct job j;

    job_init(&j);
    seen_init(&t->seen, &j, NULL, aio_now() + PATIENCE_MS);
    waiter = __real_aio_spawn(joiner, &t->seen);
    if (waiter == NULL)
        return -ENOMEM;
    t->started.what = "the joining task to enter job_join";
    kit_wait_until(&t->started, t->seen.task != NULL, NEXT_TURN);
    t->before_deadline = aio_now() < t->seen.deadline;
    t->on_list = on_list(&j, t->seen.task, &t->length);
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
    kit_expect_waited(&t.started);
    kit_expect_premise(t.before_deadline, "the test meant to call job_finish() while the "
                       "joiner still waited, and its deadline had passed");
    kit_expect_done(t.first, "job_finish", "job.c");
    expect_join_done(&t.seen);
    cr_assert_eq(t.first, 0, "[finish-return] the first job_finish returned %s; expected 0.",
                 kit_errname(t.first));
    cr_assert_eq(t.second, -EALREADY, "[finish-twice] a second job_finish on a finished job "
                 "returned %s; expected -EALREADY. A job has one result: check j->done first.",
                 kit_errname(t.second));
    cr_assert_eq(t.result_after, 8, "[finish-twice] a second job_finish replaced the result "
                 "8 with %d; the first result must stand.", t.result_after);
    cr_assert_neq(t.on_list, 0, "[not-on-list] while a task waited in job_join on a bare "
                  "job, j->waiters did not hold the joining task (the list had %d %s): "
                  "job_finish() cannot wake a task it cannot find. Push your waiter before "
                  "you park.", t.length, kit_plural(t.length, "node", "nodes"));
    cr_assert_eq(t.seen.rc, 0, "[lost-wakeup] the task parked in job_join got %s instead "
                 "of the result set by job_finish() from another task.",
                 kit_errname(t.seen.rc));
    cr_assert_eq(t.seen.result, 8, "[wrong-result] job_join gave %d; job_finish set 8.",
                 t.seen.result);
    kit_expect_no_leaks("job_finish");
}
