/* aio's own tests, part one: timers and sleep, spawn and join, park, yield, cancellation
 * at the task-only wait points, and the loop's own refusals (nested run, deadlock). */
#include "aio.h"
#include "kit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(tasks, .fini = kit_fini_leaks, .timeout = 20);

#define MAX_EVENTS 64

/* A log of small integers written by tasks in the order things happened. */
static int events[MAX_EVENTS];
static int nevents;

static void note(int v)
{
    if (nevents < MAX_EVENTS)
        events[nevents++] = v;
}

/* ---- timers and sleep -------------------------------------------------------------------- */

static int sleep_then_note(void *arg)
{
    int ms = (int)(intptr_t)arg;
    int r = aio_sleep(ms);
    note(ms);
    return r;
}

static int spawn_sleepers(void *arg)
{
    (void)arg;
    static const int ms[] = {50, 10, 40, 20, 30};
    aio_task *t[5];
    for (int i = 0; i < 5; i++)
        t[i] = aio_spawn(sleep_then_note, (void *)(intptr_t)ms[i]);
    for (int i = 0; i < 5; i++)
        cr_expect_eq(aio_join(t[i], AIO_NEVER), 0, "[sleep-result] a plain sleep returned nonzero");
    return 0;
}

Test(tasks, sleepers_wake_in_deadline_order)
{
    cr_assert_eq(aio_run(spawn_sleepers, NULL), 0);
    cr_assert_eq(nevents, 5, "[timer-count] %d of 5 sleepers woke; each should wake once", nevents);
    for (int i = 0; i < 5; i++)
        cr_expect_eq(events[i], 10 * (i + 1),
                     "[timer-order] wake-up %d was the %d ms sleeper, expected the %d ms one: "
                     "timers must fire in deadline order, not spawn order", i, events[i],
                     10 * (i + 1));
}

#define SLEEPERS 5000

struct sleeper {
    int64_t deadline;
    int64_t woke;
};
static struct sleeper sleepers[SLEEPERS];
static int wake_order[SLEEPERS];
static int nwoken;

static int sleep_until_deadline(void *arg)
{
    struct sleeper *s = arg;
    int r = aio_sleep_until(s->deadline);
    s->woke = aio_now();
    wake_order[nwoken++] = (int)(s - sleepers);
    return r;
}

static int many_sleepers(void *arg)
{
    (void)arg;
    aio_task **t = calloc(SLEEPERS, sizeof *t);
    int64_t start = aio_now();
    for (int i = 0; i < SLEEPERS; i++) {
        sleepers[i].deadline = start + 1 + (i * 7919) % 150;   /* scattered, 1..150 ms */
        t[i] = aio_spawn(sleep_until_deadline, &sleepers[i]);
        cr_assert_not_null(t[i], "[spawn-null] aio_spawn failed at task %d", i);
    }
    int bad = 0;
    for (int i = 0; i < SLEEPERS; i++)
        bad += aio_join(t[i], AIO_NEVER) != 0;
    free(t);
    return bad;
}

Test(tasks, thousands_of_sleepers)
{
    cr_assert_eq(aio_run(many_sleepers, NULL), 0, "[sleep-result] some sleeps did not return 0");
    cr_assert_eq(nwoken, SLEEPERS, "[timer-count] %d of %d sleepers woke", nwoken, SLEEPERS);
    for (int i = 0; i < SLEEPERS; i++)
        cr_assert_geq(sleepers[i].woke, sleepers[i].deadline,
                      "[sleep-early] sleeper %d woke at %lld, before its deadline %lld", i,
                      (long long)sleepers[i].woke, (long long)sleepers[i].deadline);
    for (int i = 1; i < SLEEPERS; i++)
        cr_assert_leq(sleepers[wake_order[i - 1]].deadline, sleepers[wake_order[i]].deadline,
                      "[timer-order] a sleeper with a later deadline woke before one with an "
                      "earlier deadline (positions %d and %d)", i - 1, i);
}

/* ---- spawn and join ---------------------------------------------------------------------- */

static int times_three(void *arg)
{
    return 3 * (int)(intptr_t)arg;
}

static int spawn_and_join_many(void *arg)
{
    (void)arg;
    aio_task *t[100];
    for (int i = 0; i < 100; i++)
        t[i] = aio_spawn(times_three, (void *)(intptr_t)i);
    for (int i = 0; i < 100; i++) {
        int r = aio_join(t[i], AIO_NEVER);
        cr_expect_eq(r, 3 * i, "[join-result] task %d's join gave %d, expected %d", i, r, 3 * i);
    }
    return 77;
}

Test(tasks, join_hands_over_each_result)
{
    int r = aio_run(spawn_and_join_many, NULL);
    cr_assert_eq(r, 77, "[run-result] aio_run returned %d, expected the first task's 77", r);
}

static int join_finished(void *arg)
{
    (void)arg;
    aio_task *t = aio_spawn(times_three, (void *)14);
    cr_assert_eq(aio_done(t), 0, "[done-early] a task that has not run yet says it is done");
    aio_sleep(20);
    cr_assert_neq(aio_done(t), 0, "[done-late] a task that returned 20 ms ago is not done");
    return aio_join(t, AIO_NEVER);
}

Test(tasks, join_of_a_finished_task)
{
    int r = aio_run(join_finished, NULL);
    cr_assert_eq(r, 42, "[join-done] joining a finished task gave %d, expected its result 42", r);
}

static int join_with_deadline(void *arg)
{
    (void)arg;
    aio_task *t = aio_spawn(sleep_then_note, (void *)300);
    int r = aio_join(t, aio_now() + 20);
    cr_expect_eq(r, -ETIMEDOUT, "[join-deadline] a join with a 20 ms deadline on a 300 ms task "
                 "returned %d, expected -ETIMEDOUT", r);
    cr_expect_eq(aio_done(t), 0, "[join-deadline] the task finished although it sleeps 300 ms");
    cr_expect_eq(nevents, 0, "[join-deadline] the task ran to its end before the deadline");
    return aio_join(t, AIO_NEVER);
}

Test(tasks, join_deadline_leaves_the_task_running)
{
    int r = aio_run(join_with_deadline, NULL);
    cr_assert_eq(r, 0, "[join-again] the second join gave %d, expected the task's result 0", r);
    cr_assert_eq(nevents, 1, "[join-again] the task did not run to its end after the timeout");
}

static int join_self(void *arg)
{
    (void)arg;
    return aio_join(aio_current(), AIO_NEVER);
}

Test(tasks, join_of_itself_is_refused)
{
    cr_assert_eq(aio_run(join_self, NULL), -EDEADLK,
                 "[join-self] a task joining itself must get -EDEADLK, not hang");
}

/* ---- park and unpark --------------------------------------------------------------------- */

static int park_once(void *arg)
{
    (void)arg;
    return aio_park(AIO_NEVER) == 0 ? 5 : -1;
}

static int park_and_unpark(void *arg)
{
    (void)arg;
    aio_task *p = aio_spawn(park_once, NULL);
    aio_yield();                                    /* let it park */
    aio_unpark(p);
    int r1 = aio_join(p, AIO_NEVER);
    cr_expect_eq(r1, 5, "[unpark] the parked task's park did not return 0 when unparked");
    int r2 = aio_park(aio_now() + 10);
    cr_expect_eq(r2, -ETIMEDOUT, "[park-deadline] a park with a 10 ms deadline returned %d", r2);
    /* A sleeping task is not parked: unpark must leave its sleep alone. */
    aio_task *s = aio_spawn(sleep_then_note, (void *)40);
    aio_yield();
    aio_unpark(s);
    aio_sleep(10);
    cr_expect_eq(nevents, 0, "[unpark-sleeper] aio_unpark woke a task that was sleeping, not "
                 "parked");
    return aio_join(s, AIO_NEVER);
}

Test(tasks, park_unpark_and_deadline)
{
    cr_assert_eq(aio_run(park_and_unpark, NULL), 0);
    cr_assert_eq(nevents, 1);
}

/* ---- yield: round-robin ------------------------------------------------------------------ */

static int yield_loop(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < 4; i++) {
        note(id);
        aio_yield();
    }
    return 0;
}

static int three_yielders(void *arg)
{
    (void)arg;
    aio_task *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = aio_spawn(yield_loop, (void *)(intptr_t)i);
    for (int i = 0; i < 3; i++)
        aio_join(t[i], AIO_NEVER);
    return 0;
}

Test(tasks, yield_is_round_robin)
{
    cr_assert_eq(aio_run(three_yielders, NULL), 0);
    cr_assert_eq(nevents, 12);
    for (int i = 0; i < 12; i++)
        cr_assert_eq(events[i], i % 3, "[yield-order] step %d ran task %d, expected %d: each "
                     "yield should let every other ready task run once, in turn", i, events[i],
                     i % 3);
}

/* With no timer and no descriptor a yielding task starts the next batch itself, without
 * going back to the scheduler; a timer armed meanwhile must still fire. */
static int set_flag_after_sleep(void *arg)
{
    int *flag = arg;
    int r = aio_sleep(20);
    *flag = 1;
    return r;
}

static int yield_until_flag(void *arg)
{
    (void)arg;
    int flag = 0;
    long yields = 0;
    /* Spawned after a few lone yields, so the sleeper's timer appears mid-run. */
    for (int i = 0; i < 100; i++)
        cr_assert_eq(aio_yield(), 0, "[yield-alone] a lone task's yield returned nonzero");
    aio_task *t = aio_spawn(set_flag_after_sleep, &flag);
    cr_assert_not_null(t);
    while (!flag && yields < 20000000L) {
        aio_yield();
        yields++;
    }
    cr_expect_eq(flag, 1, "[yield-starves-timer] a task yielded %ld times and a 20 ms sleep "
                 "never ended: the loop's timer phase must run between batches of yields",
                 yields);
    return aio_join(t, AIO_NEVER);
}

Test(tasks, yielding_does_not_starve_timers)
{
    cr_assert_eq(aio_run(yield_until_flag, NULL), 0);
}

/* ---- cancellation: every wait point, level-triggered, cleanup ran ------------------------ */

enum wait_point { W_PARK, W_SLEEP, W_JOIN, W_YIELD };

struct victim {
    enum wait_point where;
    int first, second;          /* what the first and the next wait returned */
    int cleaned;                /* the cleanup code after the wait ran */
    aio_task *child;            /* for W_JOIN */
};

static int wait_at(struct victim *v)
{
    switch (v->where) {
    case W_PARK:
        return aio_park(AIO_NEVER);
    case W_SLEEP:
        return aio_sleep(10000);
    case W_JOIN:
        return aio_join(v->child, AIO_NEVER);
    case W_YIELD:
        return aio_yield();
    }
    return -EINVAL;
}

static int victim_body(void *arg)
{
    struct victim *v = arg;
    v->first = wait_at(v);
    if (v->first == -ECANCELED)
        v->second = wait_at(v);
    v->cleaned = 1;
    return v->first;
}

static int cancel_scenario(void *arg)
{
    struct victim *v = arg;
    if (v->where == W_JOIN)
        v->child = aio_spawn(sleep_then_note, (void *)10000);
    aio_task *t = aio_spawn(victim_body, v);
    if (v->where != W_YIELD)
        aio_yield();                    /* let the victim reach its wait */
    cr_assert_eq(aio_cancel(t), 0, "[cancel-rc] aio_cancel of a waiting task did not return 0");
    int r = aio_join(t, AIO_NEVER);
    if (v->child != NULL) {
        aio_cancel(v->child);
        aio_join(v->child, AIO_NEVER);
    }
    return r;
}

static void check_cancel_at(enum wait_point where, const char *name)
{
    struct victim v = {.where = where};
    int r = aio_run(cancel_scenario, &v);
    cr_assert_eq(v.first, -ECANCELED, "[cancel-%s] the %s wait of a cancelled task returned %d, "
                 "expected -ECANCELED", name, name, v.first);
    cr_assert_eq(v.second, -ECANCELED, "[cancel-level-%s] the next %s wait after the "
                 "cancellation returned %d: cancellation must stay in force (level-triggered)",
                 name, name, v.second);
    cr_assert_eq(v.cleaned, 1, "[cancel-cleanup] the cancelled task's cleanup did not run");
    cr_assert_eq(r, -ECANCELED, "[cancel-join] joining the cancelled task gave %d", r);
}

Test(tasks, cancel_at_park) { check_cancel_at(W_PARK, "park"); }
Test(tasks, cancel_at_sleep) { check_cancel_at(W_SLEEP, "sleep"); }
Test(tasks, cancel_at_join) { check_cancel_at(W_JOIN, "join"); }
Test(tasks, cancel_at_yield) { check_cancel_at(W_YIELD, "yield"); }

static int cancel_before_start(void *arg)
{
    struct victim *v = arg;
    aio_task *t = aio_spawn(victim_body, v);
    aio_cancel(t);                      /* it has not run yet */
    return aio_join(t, AIO_NEVER);
}

Test(tasks, cancel_before_the_task_starts)
{
    struct victim v = {.where = W_SLEEP};
    int r = aio_run(cancel_before_start, &v);
    cr_assert_eq(v.cleaned, 1, "[cancel-unstarted] a task cancelled before it started never "
                 "ran; it should still run and see -ECANCELED at its first wait");
    cr_assert_eq(r, -ECANCELED);
}

static int cancel_finished(void *arg)
{
    (void)arg;
    aio_task *t = aio_spawn(times_three, (void *)1);
    aio_sleep(5);
    int r = aio_cancel(t);
    aio_join(t, AIO_NEVER);
    return r;
}

Test(tasks, cancel_of_a_finished_task)
{
    cr_assert_eq(aio_run(cancel_finished, NULL), -EALREADY,
                 "[cancel-done] cancelling a finished task should give -EALREADY");
}

/* A cancelled parent may still reap a child it cancelled: that join is its cleanup. */
static int parent_body(void *arg)
{
    int *reaped = arg;
    aio_task *child = aio_spawn(sleep_then_note, (void *)10000);
    int r = aio_sleep(10000);
    aio_cancel(child);
    *reaped = aio_join(child, AIO_NEVER);
    return r;
}

static int cancel_parent(void *arg)
{
    aio_task *p = aio_spawn(parent_body, arg);
    aio_yield();
    aio_cancel(p);
    return aio_join(p, AIO_NEVER);
}

Test(tasks, cancelled_parent_reaps_its_cancelled_child)
{
    int reaped = 1;
    cr_assert_eq(aio_run(cancel_parent, &reaped), -ECANCELED);
    cr_assert_eq(reaped, -ECANCELED, "[cancel-reap] the cancelled parent's join of its "
                 "cancelled child returned %d, expected the child's own -ECANCELED", reaped);
}

/* ---- the loop's refusals, current task, names -------------------------------------------- */

static int nested_run(void *arg)
{
    (void)arg;
    return aio_run(times_three, (void *)1);
}

Test(tasks, run_inside_a_running_loop_is_refused)
{
    cr_assert_eq(aio_run(nested_run, NULL), -EBUSY,
                 "[nested-run] aio_run() inside a running loop must return -EBUSY");
}

static int park_forever(void *arg)
{
    (void)arg;
    return aio_park(AIO_NEVER);
}

Test(tasks, deadlock_ends_the_loop)
{
    cr_assert_eq(aio_run(park_forever, NULL), -EDEADLK,
                 "[deadlock] a loop whose only task parks forever must stop with -EDEADLK");
}

static int check_current(void *arg)
{
    aio_task **seen = arg;
    *seen = aio_current();
    return 0;
}

static int current_and_names(void *arg)
{
    (void)arg;
    aio_task *seen = NULL;
    aio_task *t = aio_spawn(check_current, &seen);
    aio_set_name(t, "a name longer than the forty bytes a task keeps for its name");
    aio_join(t, AIO_NEVER);
    cr_assert_eq(seen, t, "[current] aio_current() inside a task is not that task's handle");
    return 0;
}

Test(tasks, current_is_the_running_task)
{
    cr_assert_null(aio_current(), "[current-outside] aio_current() outside a loop is not NULL");
    cr_assert_eq(aio_run(current_and_names, NULL), 0);
    cr_assert_eq(aio_spawn(times_three, NULL), NULL, "[spawn-outside] spawn with no loop");
}

/* ---- stacks: many live tasks, reuse, the guard page -------------------------------------- */

#define LIVE 20000

static int park_then_return(void *arg)
{
    aio_park(AIO_NEVER);
    return (int)(intptr_t)arg;
}

static int many_live_tasks(void *arg)
{
    (void)arg;
    aio_task **t = calloc(LIVE, sizeof *t);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < LIVE; i++) {
            t[i] = aio_spawn(park_then_return, (void *)(intptr_t)i);
            cr_assert_not_null(t[i], "[stack-alloc] spawn %d of %d live tasks failed", i, LIVE);
        }
        aio_yield();                    /* every task parks */
        for (int i = 0; i < LIVE; i++)
            aio_unpark(t[i]);
        for (int i = 0; i < LIVE; i++)
            cr_assert_eq(aio_join(t[i], AIO_NEVER), i, "[stack-mixup] task %d's result", i);
    }
    free(t);
    return 0;
}

/* 40,000 stacks mapped and guarded under ASan: 3 s alone, so the tasks suite's 20 s wall-clock
 * guard was reached on a machine loaded twenty-fold. This test's guard is CPU time instead,
 * which a busy machine does not use up: a loop that spins is stopped (SIGXCPU) after 60 s of
 * it, and a loop with every task parked for good ends aio_run with an error. (A wider .timeout
 * would not do: a Criterion timer still pending when the runner ends leaks 48 bytes, which
 * LeakSanitizer reports as the whole binary's failure.) */
TestSuite(many_tasks, .fini = kit_fini_leaks);
Test(many_tasks, twenty_thousand_live_tasks_twice)
{
    struct rlimit cpu = {60, 60};
    cr_assert_eq(setrlimit(RLIMIT_CPU, &cpu), 0);
    /* More tasks than get guard pages (vm.max_map_count / 4), run twice to reuse stacks. */
    cr_assert_eq(aio_run(many_live_tasks, NULL), 0);
}

static int recurse(int depth)
{
    volatile char pad[1024];
    pad[0] = (char)depth;
    return depth > 0 ? recurse(depth - 1) + pad[0] : pad[0];
}

static int overflow_body(void *arg)
{
    (void)arg;
    return recurse(100000);             /* 100 MB of frames on a small stack */
}

Test(tasks, stack_overflow_hits_the_guard_page)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);               /* the sanitizer's report is expected: keep it quiet */
        aio_run(overflow_body, NULL);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    cr_assert(!(WIFEXITED(status) && WEXITSTATUS(status) == 0),
              "[stack-guard] a task that recursed far past its stack ran on as if nothing "
              "happened; the guard page below each stack should have stopped it");
}
