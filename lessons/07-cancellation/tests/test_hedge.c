/* Lesson 07 tests, part two: hedged_get over mirrors that answer fast, slowly, badly or never.
 * The witnesses: the index returned, each job's outcome (the winner answered, the losers that
 * were running cancelled, the jobs never started untouched, nothing sent for them), when each
 * job's request started against the hedge delay, the runtime's counts and the test's own count
 * of tasks still running or not joined the moment hedged_get returns (a loser cancelled but
 * not waited for is still running then), the pool's books, permits and connections, and the
 * server: peak in flight, and nothing left in flight afterwards. */
#include "common.h"
#include "counted.h"
#include "kit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kit_test.h"

TestSuite(hedge, .init = setup, .fini = teardown, .timeout = 20);

struct hrun {
    size_t n;
    const char *const *paths;
    int max;                   /* the pool's permits */
    int64_t hedge_ms;
    int64_t deadline_ms;       /* from the call's start */
    long spawn_fail_at;
    size_t cancel_at;          /* > 0: the caller is cancelled when this many requests started */
    int never;                 /* 1: the deadline is AIO_NEVER */
    int64_t hog_ms;            /* > 0: a task holds the loop this long, busy, from the start */
    size_t hog_saw;            /* mirrors already started when the hog began to hold the loop */
    struct pool pool;
    struct job *j;
    int rc;
    int64_t start, elapsed;
    int64_t net;     /* elapsed, less the time the busy machine kept the test and server
                      * from a CPU: the upper bounds use it */
    struct aio_counts after;
    size_t running, unjoined;
    const char *harness;
    int cancel_missed;         /* the call ended before cancel_at requests were sent */
    size_t started_at_cancel;  /* jobs spawned when the caller was cancelled */
    int done;                  /* hedged_get has returned */
};

static int call(void *arg)
{
    struct hrun *h = arg;

    h->start = aio_now();
    double busy = kit_starved_s();
    h->rc = hedged_get(h->j, h->n, h->hedge_ms, h->never ? AIO_NEVER
                                                         : h->start + h->deadline_ms);
    h->elapsed = aio_now() - h->start;
    h->net = h->elapsed - (int64_t)((kit_starved_s() - busy) * 1000);
    aio_counts(&h->after);
    h->running = tasks_running();
    h->unjoined = tasks_unjoined();
    h->done = 1;
    wake_waiter();
    return 0;
}

/* A task that holds the loop, busy, for hog_ms: every timer due meanwhile fires late. */
static int hog(void *arg)
{
    struct hrun *h = arg;
    double until = kit_wall() + (double)h->hog_ms / 1000.0;

    h->hog_saw = ntasks;

    while (kit_wall() < until)
        ;
    return 0;
}

static int hrun_main(void *arg)
{
    struct hrun *h = arg;
    aio_task *hogger = NULL;

    counted_reset();
    spawn_fail_at = h->spawn_fail_at;
    watching = 1;
    if (h->hog_ms > 0 && (hogger = __real_aio_spawn(hog, h)) == NULL)
        h->harness = "could not spawn the task that holds the loop";
    if (h->cancel_at == 0) {
        call(h);
    } else {
        /* hedged_get in a task of its own (not counted), cancelled from here. */
        aio_task *caller = __real_aio_spawn(call, h);
        if (caller == NULL) {
            h->harness = "could not spawn the caller";
        } else {
            if (until_requests(h->cancel_at, &h->done) < 0)
                h->cancel_missed = 1;
            h->started_at_cancel = ntasks;
            __real_aio_cancel(caller);
            __real_aio_join(caller, AIO_NEVER);
            h->after.tasks -= h->after.tasks > 0;     /* the caller itself, not joined yet */
        }
    }
    watching = 0;
    if (hogger != NULL) {
        h->after.tasks -= h->after.tasks > 0;     /* the hog, not joined yet */
        __real_aio_join(hogger, AIO_NEVER);
    }
    reap();
    return 0;
}

static void run_hedge(struct hrun *h)
{
    cr_assert_eq(pool_init(&h->pool, h->max), 0, "[harness] pool_init failed");
    h->j = jobs_new(&h->pool, h->paths, h->n);
    int rc = aio_run(hrun_main, h);
    cr_assert_eq(rc, 0, "[deadlock] the test's loop ended with %s: every task was waiting and "
                 "nothing could wake any of them.", kit_errname(rc));
    kit_expect_done(h->rc, "hedged_get", "hedge.c");
    for (size_t i = 0; i < h->n; i++)
        kit_expect_done(h->j[i].rc, "job_run", "job.c");
    cr_assert(h->harness == NULL, "[harness] %s", h->harness ? h->harness : "");
}

/* Nothing of the call left the moment it returned, and everything given back after. */
static void expect_ended(const struct hrun *h)
{
    cr_assert(h->running == 0 && h->after.operations == 0, "[not-waited] when hedged_get "
              "returned, %zu %s still running and %zu %s still in flight: a cancelled job "
              "ends a little later, after its clean-up; wait for it (join it) before you "
              "return.", h->running, kit_plural((long)h->running, "job was", "jobs were"),
              h->after.operations, kit_plural((long)h->after.operations, "transfer was",
                                               "transfers were"));
    cr_assert(h->unjoined == 0 && h->after.tasks == 0, "[unjoined] hedged_get returned with "
              "%zu finished %s never joined (the runtime counts %zu tasks not joined): every "
              "task spawned is joined before it returns.", h->unjoined,
              kit_plural((long)h->unjoined, "task", "tasks"), h->after.tasks);
    cr_assert_eq(h->after.timers + h->after.descriptors, 0, "[left-open] when hedged_get "
                 "returned, the runtime still had %zu timers armed and %zu descriptors "
                 "watched.", h->after.timers, h->after.descriptors);
    long waits_max = 2 * (long)h->n + 4;
    cr_assert_leq(join_anys, waits_max, "[spinning] hedged_get called aio_join_any %ld times "
                  "for %zu mirrors: each of its waits should end with a job's end or a hedge "
                  "time, not return at once again and again (a deadline already past?).",
                  join_anys, h->n);
    expect_released("hedged_get", &h->pool, h->max, h->j, h->n);
}

/* Each job started sent its request exactly once, from exactly one task. */
static void expect_started_once(const struct hrun *h, size_t upto)
{
    for (size_t i = 0; i < upto; i++) {
        long tasks = tasks_for(&h->j[i]), sent = requests_to(h->j[i].url);
        cr_assert(tasks == 1 && sent == 1, "[start-count] job %zu (%s) ran in %ld %s and sent "
                  "%ld %s, expected 1 and 1: each job is started once.", i, h->paths[i], tasks,
                  kit_plural(tasks, "task", "tasks"), sent,
                  kit_plural(sent, "request", "requests"));
    }
}

/* Milliseconds of the call the busy machine kept the test and server from a CPU. */
static int64_t starved_ms(const struct hrun *h)
{
    return h->elapsed - h->net;
}

/* Job k was started no sooner than k hedge delays after the call (the hedge is a delay, not
 * all at once), and not much later (a loser is not waited for before the next starts): within
 * 250 ms, plus the time the busy machine kept the test from a CPU (each hedge time is counted
 * from the last start, so a stall pushes every later one back). */
static void expect_hedged_starts(const struct hrun *h, size_t upto)
{
    for (size_t k = 0; k < upto; k++) {
        int64_t due = (int64_t)k * h->hedge_ms, when = spawned_at(&h->j[k]);
        cr_assert(when >= 0 || h->net < due + 250, "[hedge-late] job %zu was never started, "
                  "though hedged_get ran %lld ms, past its hedge time (%lld ms = %zu x %lld): "
                  "the next mirror is asked when the hedge delay passes, without waiting for "
                  "the ones already asked to end.", k, (long long)h->elapsed, (long long)due, k,
                  (long long)h->hedge_ms);
        cr_assert_geq(when, 0, "[start-count] job %zu was never started", k);
        int64_t at = when - h->start;
        cr_assert_geq(at, due, "[hedge-early] job %zu started %lld ms after the call, before "
                      "its hedge delay (%lld ms = %zu x %lld): the next mirror is asked only "
                      "when hedge_ms have passed without an answer.", k, (long long)at,
                      (long long)due, k, (long long)h->hedge_ms);
        cr_assert_lt(at, due + 250 + starved_ms(h), "[hedge-late] job %zu started %lld ms "
                     "after the call, expected at %lld ms (%zu x %lld): the next mirror is "
                     "asked when the hedge delay passes, without waiting for the ones already "
                     "asked to end.",
                     k, (long long)at, (long long)due, k, (long long)h->hedge_ms);
    }
}

/* ---- a winner ------------------------------------------------------------------------------ */

/* Job 2 is asked at 800 ms and answers at 1400 ms, 200 ms after job 3 is asked (1200 ms) and
 * 200 ms before job 4 would be (1600 ms); the slow mirrors would answer at 3000 ms and on. */
Test(hedge, the_first_fast_mirror_wins)
{
    static const char *const paths[7] = { "/delay/3000", "/delay/3000", "/delay/600",
                                           "/delay/3000", "/delay/10", "/delay/10",
                                           "/delay/10" };
    struct hrun h = { .n = 7, .paths = paths, .max = 7, .hedge_ms = 400, .deadline_ms = 6000 };
    run_hedge(&h);
    /* Only a stall of 200 ms or more, from job 3's hedge time to job 2's answer, could leave
     * job 3 unasked or have job 4 asked; the scene is then not the one meant. */
    kit_expect_premise(spawned_at(&h.j[2]) < 0 || spawned_at(&h.j[3]) >= 0 ||
                           starved_ms(&h) < 150,
                       "job 2's answer was to come 200 ms after job 3 was asked, and the busy "
                       "machine kept the test from a CPU past job 3's hedge time");
    kit_expect_premise(h.rc != 2 || spawned_at(&h.j[4]) < 0 || starved_ms(&h) < 150,
                       "job 2's answer was to come 200 ms before job 4's hedge time, and the "
                       "busy machine kept the test from a CPU until after it");
    expect_hedged_starts(&h, 4);
    cr_assert_eq(h.rc, 2, "[winner] hedged_get returned %s, expected 2: job 2 (/delay/600, "
                 "asked at 800 ms) is the first good answer, at 1400 ms.", kit_errname(h.rc));
    expect_ended(&h);
    expect_started_once(&h, 4);
    expect_job(&h.j[2], 2, paths[2], JOB_ANSWERED, 0, NOT_JOINED);
    for (size_t i = 0; i < 4; i++)
        if (i != 2)
            expect_job(&h.j[i], i, paths[i], JOB_CANCELLED, 0, NOT_JOINED);
    for (size_t i = 4; i < 7; i++)
        expect_job(&h.j[i], i, paths[i], JOB_PENDING, 0, NOT_JOINED);
    expect_books(&h.pool, 1, 0, 3);
    cr_assert(h.elapsed >= 1400 && h.net < 1400 + 300, "[winner-late] hedged_get returned "
              "after %lld ms; the answer came at 1400 ms (the slow mirrors would take 3000): "
              "return as soon as the losers have ended, not when they would have answered.",
              (long long)h.elapsed);
    kit_expect_no_leaks("hedged_get");
}

Test(hedge, a_failed_mirror_makes_way_at_once)
{
    static const char *const paths[5] = { REFUSED, "/status/503", "/delay/30", "/delay/2000",
                                           "/delay/10" };
    struct hrun h = { .n = 5, .paths = paths, .max = 5, .hedge_ms = 1000, .never = 1 };
    run_hedge(&h);
    cr_assert(h.rc == 2 && h.net < 700, "[hedge-after-failure] hedged_get returned %s "
              "after %lld ms, expected 2 within a few ms: when every mirror asked has ended "
              "without a good answer (job 0 refused, job 1 a 503), the next is asked at once, "
              "not after the hedge delay (1000 ms).", kit_errname(h.rc), (long long)h.elapsed);
    expect_ended(&h);
    expect_started_once(&h, 3);
    expect_job(&h.j[0], 0, paths[0], JOB_FAILED, -ECONNREFUSED, NOT_JOINED);
    expect_job(&h.j[1], 1, paths[1], JOB_ANSWERED, 0, NOT_JOINED);
    cr_assert_eq(h.j[1].resp.status, 503, "[answer-lost] job 1 holds status %ld, expected its "
                 "503: a loser that ended keeps what it got", h.j[1].resp.status);
    expect_job(&h.j[2], 2, paths[2], JOB_ANSWERED, 0, NOT_JOINED);
    expect_job(&h.j[3], 3, paths[3], JOB_PENDING, 0, NOT_JOINED);
    expect_job(&h.j[4], 4, paths[4], JOB_PENDING, 0, NOT_JOINED);
    expect_books(&h.pool, 2, 1, 0);
    kit_expect_no_leaks("hedged_get");
}

Test(hedge, no_mirror_answers_well)
{
    static const char *const paths[4] = { REFUSED, "/status/500", "/status/404", REFUSED };
    struct hrun h = { .n = 4, .paths = paths, .max = 2, .hedge_ms = 600, .never = 1 };
    run_hedge(&h);
    cr_assert_eq(h.rc, -EIO, "[no-winner] every mirror failed or answered badly (refused, "
                 "500, 404, refused); hedged_get returned %s, expected -EIO.",
                 kit_errname(h.rc));
    cr_assert_lt(h.net, 500, "[hedge-after-failure] hedged_get took %lld ms with every "
                 "mirror failing at once: the next is asked as soon as the last one failed.",
                 (long long)h.elapsed);
    expect_ended(&h);
    expect_started_once(&h, 4);
    expect_job(&h.j[0], 0, paths[0], JOB_FAILED, -ECONNREFUSED, NOT_JOINED);
    expect_job(&h.j[1], 1, paths[1], JOB_ANSWERED, 0, NOT_JOINED);
    expect_job(&h.j[2], 2, paths[2], JOB_ANSWERED, 0, NOT_JOINED);
    expect_job(&h.j[3], 3, paths[3], JOB_FAILED, -ECONNREFUSED, NOT_JOINED);
    expect_books(&h.pool, 2, 2, 0);
    kit_expect_no_leaks("hedged_get");
}

/* Thirty-three mirrors of one path asked at once (hedge 0), eight permits: eight answer in
 * the same moment, and the twenty-five queued for a permit are cancelled there. */
Test(hedge, thirty_three_at_once_with_eight_permits)
{
    const char **paths = kit_alloc_array(33, sizeof *paths);
    for (size_t i = 0; i < 33; i++)
        paths[i] = "/delay/50";
    struct hrun h = { .n = 33, .paths = paths, .max = 8, .hedge_ms = 0, .deadline_ms = 5000 };
    run_hedge(&h);
    cr_assert(h.rc >= 0 && h.rc < 8, "[winner] hedged_get returned %s, expected one of jobs 0 "
              "to 7 (the eight that got a permit).", kit_errname(h.rc));
    expect_ended(&h);
    long answered = 0;
    for (size_t i = 0; i < 33; i++) {
        long sent = requests_to(h.j[i].url);
        cr_assert_eq(tasks_for(&h.j[i]), 1, "[start-count] job %zu ran in %ld tasks; with a "
                     "hedge of 0 every mirror is asked at once", i, tasks_for(&h.j[i]));
        cr_assert(sent == (i < 8) || (i >= 8 && sent == 0) || (i >= 8 && sent == 1 &&
                  h.j[i].outcome == JOB_CANCELLED),
                  "[start-count] job %zu sent %ld requests: each job sends at most one, and "
                  "the 8 first in line send theirs at once.", i, sent);
        if (h.j[i].outcome == JOB_ANSWERED && i < 8) {
            expect_job(&h.j[i], i, paths[i], JOB_ANSWERED, 0, NOT_JOINED);
            answered++;
        } else {
            expect_job(&h.j[i], i, paths[i], JOB_CANCELLED, 0, NOT_JOINED);
        }
    }
    cr_assert(job_good(&h.j[h.rc]), "[winner] job %d was returned but has no good answer",
              h.rc);
    struct kit_stats st = { 0 };
    cr_assert_eq(kit_stats_get(base, &st), 0, "[server] could not read delayd's /stats");
    cr_assert(st.peak <= 8, "[over-cap] the server saw %ld requests at once with 8 permits",
              st.peak);
    expect_books(&h.pool, answered, 0, 33 - answered);
    cr_assert_lt(h.net, 50 + 300, "[winner-late] hedged_get returned after %lld ms, the "
                 "answers in at 50 ms", (long long)h.elapsed);
    kit_expect_no_leaks("hedged_get");
}

/* One mirror, and the most a call may hold, asked at once. */
Test(hedge, one_mirror_and_the_most_mirrors)
{
    static const char *const one[1] = { "/delay/10" };
    const char **many = kit_alloc_array(POOL_JOBS_MAX, sizeof *many);
    for (size_t i = 0; i < POOL_JOBS_MAX; i++)
        many[i] = i + 1 < POOL_JOBS_MAX ? "/hang" : "/delay/20";

    struct hrun h1 = { .n = 1, .paths = one, .max = 1, .hedge_ms = 10, .deadline_ms = 5000 };
    run_hedge(&h1);
    cr_assert_eq(h1.rc, 0, "[winner] one mirror (/delay/10): hedged_get returned %s, expected "
                 "0", kit_errname(h1.rc));
    expect_ended(&h1);
    expect_job(&h1.j[0], 0, one[0], JOB_ANSWERED, 0, NOT_JOINED);
    expect_books(&h1.pool, 1, 0, 0);

    struct hrun h = { .n = POOL_JOBS_MAX, .paths = many, .max = POOL_JOBS_MAX, .hedge_ms = 0,
                      .deadline_ms = 5000 };
    run_hedge(&h);
    cr_assert_eq(h.rc, POOL_JOBS_MAX - 1, "[winner] %d mirrors asked at once, only the last "
                 "one answering: hedged_get returned %s, expected %d", POOL_JOBS_MAX,
                 kit_errname(h.rc), POOL_JOBS_MAX - 1);
    expect_ended(&h);
    expect_started_once(&h, POOL_JOBS_MAX);
    for (size_t i = 0; i + 1 < POOL_JOBS_MAX; i++)
        expect_job(&h.j[i], i, many[i], JOB_CANCELLED, 0, NOT_JOINED);
    expect_books(&h.pool, 1, 0, POOL_JOBS_MAX - 1);
    kit_expect_no_leaks("hedged_get");
}

/* ---- no winner: the deadline, the caller cancelled, a spawn that fails --------------------- */

Test(hedge, the_deadline_cancels_every_mirror_asked)
{
    const char **paths = kit_alloc_array(13, sizeof *paths);
    for (size_t i = 0; i < 13; i++)
        paths[i] = "/hang";
    struct hrun h = { .n = 13, .paths = paths, .max = 13, .hedge_ms = 200,
                      .deadline_ms = 900 };
    run_hedge(&h);
    cr_assert_eq(h.rc, -ETIMEDOUT, "[deadline-rc] no mirror answered by the deadline; "
                 "hedged_get returned %s, expected -ETIMEDOUT", kit_errname(h.rc));
    cr_assert(h.elapsed >= 900 && h.net < 900 + 450, "[deadline-late] hedged_get returned "
              "after %lld ms, its deadline at 900 ms.", (long long)h.elapsed);
    expect_ended(&h);
    size_t started = ntasks;
    /* Each hedge time counts from the last start: 4 are asked when a stall pushed the fifth
     * past the deadline (100 ms or more), 3 only after one of 300 ms or more. */
    kit_expect_premise(started != 3 || starved_ms(&h) < 200, "the fourth mirror was due at "
                       "600 ms, 300 ms before the deadline, and the busy machine kept the test "
                       "from a CPU long enough to push it past");
    cr_assert(started >= 4 && started <= 5, "[hedge-late] %zu mirrors were asked in 900 ms "
              "with a hedge of 200 ms, expected 5 (at 0, 200, 400, 600, 800 ms).", started);
    for (size_t i = 0; i < ntasks; i++)
        cr_assert_lt(spawn_at[i], h.start + 900, "[start-after-deadline] a mirror was started "
                     "%lld ms after the call, at or past its deadline (900 ms).",
                     (long long)(spawn_at[i] - h.start));
    for (size_t i = 0; i < started; i++)
        cr_assert(tasks_for(&h.j[i]) == 1 && requests_to(h.j[i].url) <= 1, "[start-count] job "
                  "%zu ran in %ld tasks and sent %ld requests, expected 1 and at most 1", i,
                  tasks_for(&h.j[i]), requests_to(h.j[i].url));
    expect_hedged_starts(&h, started);
    for (size_t i = 0; i < 13; i++)
        expect_job(&h.j[i], i, paths[i], i < started ? JOB_CANCELLED : JOB_PENDING, 0,
                   NOT_JOINED);
    expect_books(&h.pool, 0, 0, (long)started);
    kit_expect_no_leaks("hedged_get");
}

/* The deadline falls exactly on the third mirror's hedge time: that mirror is not asked. */
Test(hedge, a_hedge_time_equal_to_the_deadline)
{
    static const char *const paths[4] = { "/hang", "/hang", "/hang", "/delay/10" };
    struct hrun h = { .n = 4, .paths = paths, .max = 4, .hedge_ms = 60, .deadline_ms = 120 };
    run_hedge(&h);
    cr_assert_eq(h.rc, -ETIMEDOUT, "[deadline-rc] hedged_get returned %s, expected -ETIMEDOUT",
                 kit_errname(h.rc));
    for (size_t i = 0; i < ntasks; i++)
        cr_assert_lt(spawn_at[i], h.start + 120, "[start-after-deadline] a mirror was started "
                     "%lld ms after the call, at or past its deadline (120 ms): a hedge time "
                     "that falls on the deadline starts nothing.",
                     (long long)(spawn_at[i] - h.start));
    cr_assert(ntasks >= 1 && ntasks <= 2, "[hedge-late] %zu mirrors were started before a "
              "deadline of 120 ms with a hedge of 60 ms, expected 2 (1 on a slow machine)",
              ntasks);
    expect_ended(&h);
    for (size_t i = 0; i < 4; i++)
        expect_job(&h.j[i], i, paths[i], i < ntasks ? JOB_CANCELLED : JOB_PENDING, 0,
                   NOT_JOINED);
    expect_books(&h.pool, 0, 0, (long)ntasks);
    kit_expect_no_leaks("hedged_get");
}

/* The deadline already past when the call starts: nothing is started, -ETIMEDOUT. */
Test(hedge, a_deadline_already_past_starts_nothing)
{
    static const char *const paths[2] = { "/delay/10", "/delay/10" };
    const int64_t deadlines[2] = { 0, -5 };

    for (int k = 0; k < 2; k++) {
        struct hrun h = { .n = 2, .paths = paths, .max = 2, .hedge_ms = 10,
                          .deadline_ms = deadlines[k] };
        run_hedge(&h);
        cr_assert(h.rc == -ETIMEDOUT && spawn_calls == 0, "[start-after-deadline] with the "
                  "deadline %s, hedged_get returned %s after %ld spawns, expected -ETIMEDOUT "
                  "and none: a mirror is never started at or after the deadline.",
                  k == 0 ? "equal to aio_now()" : "5 ms past", kit_errname(h.rc), spawn_calls);
        expect_ended(&h);
    }
    kit_expect_no_leaks("hedged_get");
}

/* The deadline comes long before the next hedge time: the call ends at the deadline. */
Test(hedge, a_deadline_before_the_next_hedge_time)
{
    static const char *const paths[3] = { "/hang", "/hang", "/delay/10" };
    struct hrun h = { .n = 3, .paths = paths, .max = 3, .hedge_ms = 1000, .deadline_ms = 150 };
    run_hedge(&h);
    cr_assert_eq(h.rc, -ETIMEDOUT, "[deadline-rc] hedged_get returned %s, expected -ETIMEDOUT",
                 kit_errname(h.rc));
    cr_assert(h.elapsed >= 150 && h.net < 150 + 450, "[deadline-late] hedged_get returned "
              "after %lld ms, its deadline at 150 ms and the next hedge time at 1000 ms: wait "
              "until the sooner of the two.", (long long)h.elapsed);
    expect_ended(&h);
    expect_job(&h.j[0], 0, paths[0], JOB_CANCELLED, 0, NOT_JOINED);
    expect_job(&h.j[1], 1, paths[1], JOB_PENDING, 0, NOT_JOINED);
    expect_books(&h.pool, 0, 0, 1);
    kit_expect_no_leaks("hedged_get");
}

/* Another task holds the loop, busy, for 250 ms from the start: the hedge time (50 ms) and the
 * deadline (100 ms) both pass meanwhile. When the call runs again, its deadline is past: it
 * starts nothing more, however late its timer came. */
Test(hedge, a_loop_that_runs_late_starts_nothing_after_the_deadline)
{
    static const char *const paths[3] = { "/hang", "/delay/10", "/delay/10" };
    struct hrun h = { .n = 3, .paths = paths, .max = 3, .hedge_ms = 50, .deadline_ms = 100,
                      .hog_ms = 250 };
    run_hedge(&h);
    /* The hog is spawned before the call and starts at its first wait, after the first
     * mirror. A machine busy enough to keep the whole test from a CPU past the hedge time
     * can let the hedge timer come first: then a second mirror is rightly started before the
     * deadline, and this scene did not happen. */
    kit_expect_premise(h.hog_saw <= 1 || spawn_at[1] < h.start + h.hedge_ms,
                       "the task meant to hold the loop from the first mirror on began only "
                       "after the hedge time, when a second mirror had been started");
    for (size_t i = 0; i < ntasks; i++)
        cr_assert_lt(spawn_at[i], h.start + 100, "[start-after-deadline] a mirror was started "
                     "%lld ms after the call, at or past its deadline (100 ms; the loop was "
                     "held until 250 ms): look at the deadline before each start, not only "
                     "when you choose how long to wait.", (long long)(spawn_at[i] - h.start));
    cr_assert_eq(h.rc, -ETIMEDOUT, "[deadline-rc] hedged_get returned %s, expected -ETIMEDOUT",
                 kit_errname(h.rc));
    expect_ended(&h);
    expect_job(&h.j[0], 0, paths[0], JOB_CANCELLED, 0, NOT_JOINED);
    expect_books(&h.pool, 0, 0, 1);
    kit_expect_no_leaks("hedged_get");
}

Test(hedge, a_cancelled_caller_ends_every_mirror_first)
{
    static const char *const paths[5] = { "/hang", "/hang", "/hang", "/hang", "/hang" };
    struct hrun h = { .n = 5, .paths = paths, .max = 5, .hedge_ms = 60, .deadline_ms = 8000,
                      .cancel_at = 3 };
    run_hedge(&h);
    cr_assert(!h.cancel_missed, "[not-sent] hedged_get returned %s after %zu requests, before "
              "the third mirror was asked (5 mirrors of /hang, a hedge of 60 ms): with no "
              "answer it asks the next mirror at every hedge delay.", kit_errname(h.rc), nreq);
    cr_assert_eq(h.rc, -ECANCELED, "[caller-cancel-rc] the task calling hedged_get was "
                 "cancelled; it returned %s, expected -ECANCELED.", kit_errname(h.rc));
    cr_assert(h.running == 0 && h.unjoined == 0 && h.after.tasks == 0 &&
                  h.after.operations == 0,
              "[caller-cancel-left] hedged_get, its caller cancelled, returned with %zu %s "
              "still running, %zu not joined, %zu %s in flight: a cancelled caller still "
              "cancels its jobs and waits for them to end.", h.running,
              kit_plural((long)h.running, "job", "jobs"), h.unjoined, h.after.operations,
              kit_plural((long)h.after.operations, "transfer", "transfers"));
    expect_ended(&h);
    size_t started = h.started_at_cancel;
    cr_assert_eq(ntasks, started, "[caller-cancel-left] %zu mirrors were started, %zu of them "
                 "before the caller was cancelled: nothing more starts once it is.", ntasks,
                 started);
    for (size_t i = 0; i < 5; i++)
        expect_job(&h.j[i], i, paths[i], i < started ? JOB_CANCELLED : JOB_PENDING, 0,
                   NOT_JOINED);
    expect_books(&h.pool, 0, 0, (long)started);
    kit_expect_no_leaks("hedged_get");
}

Test(hedge, a_spawn_that_fails)
{
    static const char *const paths[5] = { "/hang", "/hang", "/delay/10", "/delay/10",
                                           "/delay/10" };
    struct hrun h = { .n = 5, .paths = paths, .max = 5, .hedge_ms = 20, .deadline_ms = 8000,
                      .spawn_fail_at = 3 };
    run_hedge(&h);
    cr_assert_eq(h.rc, -ENOMEM, "[spawn-fail] with the 3rd aio_spawn failing, hedged_get "
                 "returned %s, expected -ENOMEM", kit_errname(h.rc));
    cr_assert_lt(h.net, 1000, "[spawn-fail] hedged_get returned after %lld ms: with a "
                 "spawn failed it cancels the jobs running at once.", (long long)h.elapsed);
    expect_ended(&h);
    expect_job(&h.j[0], 0, paths[0], JOB_CANCELLED, 0, NOT_JOINED);
    expect_job(&h.j[1], 1, paths[1], JOB_CANCELLED, 0, NOT_JOINED);
    for (size_t i = 2; i < 5; i++)
        expect_job(&h.j[i], i, paths[i], JOB_PENDING, 0, NOT_JOINED);
    cr_assert_eq(spawn_calls, 3, "[spawn-fail] %ld spawns were tried, expected 3: after one "
                 "fails, no more", spawn_calls);
    expect_books(&h.pool, 0, 0, 2);
    kit_expect_no_leaks("hedged_get");
}

Test(hedge, bad_arguments_start_nothing)
{
    static const char *const paths[1] = { "/delay/10" };
    const int64_t hedges[3] = { 10, -1, 10 };
    const size_t ns[3] = { 0, 1, POOL_JOBS_MAX + 1 };
    const char **big = kit_alloc_array(POOL_JOBS_MAX + 1, sizeof *big);
    for (size_t i = 0; i < POOL_JOBS_MAX + 1; i++)
        big[i] = "/delay/10";

    for (int k = 0; k < 3; k++) {
        struct hrun h = { .n = ns[k], .paths = k == 2 ? big : paths, .max = 1,
                          .hedge_ms = hedges[k], .deadline_ms = 1000 };
        run_hedge(&h);
        cr_assert(h.rc == -EINVAL && spawn_calls == 0, "[bad-args] n %zu, hedge_ms %lld: "
                  "hedged_get returned %s after %ld spawns, expected -EINVAL and none.", ns[k],
                  (long long)hedges[k], kit_errname(h.rc), spawn_calls);
    }
    kit_expect_no_leaks("hedged_get");
}
