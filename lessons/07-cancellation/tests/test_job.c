/* Lesson 07 tests, part one: job_run, cancelled at each of its waits and not. The witnesses:
 * each job's outcome, rc, response and its task's return value; the pool's books, in_flight
 * and permits afterwards; clients opened and freed (aio_http_new and aio_http_free are
 * counted), permits taken and given back (aio_sem_acquire and aio_sem_release are counted),
 * the requests sent, the server's peak and what it still had in flight. The test cancels a
 * job when its request has started or while it queues for a permit, seen through the counted
 * calls, never after a fixed sleep. */
#include "common.h"
#include "counted.h"
#include "kit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kit_test.h"

TestSuite(job, .init = setup, .fini = teardown, .timeout = 20);

#define JOBS_MAX 16

/* One run of a scene inside a loop: the pool, the jobs and what the scene saw. */
struct run {
    int max;                          /* the pool's permits */
    size_t n;
    const char *const *paths;
    int (*scene)(struct run *r);      /* the test's own steps, inside the loop */
    struct pool pool;
    struct job *j;
    aio_task *t[JOBS_MAX];
    int result[JOBS_MAX];             /* each task's return value, or NOT_JOINED */
    const char *problem;              /* set when the scene could not make its conditions */
    int cancel_rc[4];                 /* what the scene's aio_cancel calls returned */
    long http_fail_at;                /* the k-th aio_http_new fails */
};

static int run_main(void *arg)
{
    struct run *r = arg;

    counted_reset();
    http_fail_at = r->http_fail_at;
    watching = 1;
    for (size_t i = 0; i < JOBS_MAX; i++)
        r->result[i] = NOT_JOINED;
    int rc = r->scene(r);
    watching = 0;
    reap();
    return rc;
}

static void run_scene(struct run *r)
{
    cr_assert_eq(pool_init(&r->pool, r->max), 0, "[harness] pool_init failed");
    r->j = jobs_new(&r->pool, r->paths, r->n);
    int rc = aio_run(run_main, r);
    cr_assert_eq(rc, 0, "[deadlock] the test's loop ended with %s: every task was waiting and "
                 "nothing could wake any of them.", kit_errname(rc));
    for (size_t i = 0; i < r->n; i++)
        kit_expect_done(r->result[i] == NOT_JOINED ? 0 : r->result[i], "job_run", "job.c");
    cr_assert(r->problem == NULL, "%s", r->problem ? r->problem : "");
}

static void spawn(struct run *r, size_t i)
{
    r->t[i] = aio_spawn(job_run, &r->j[i]);
}

static void join(struct run *r, size_t i)
{
    if (r->t[i] != NULL)
        r->result[i] = aio_join(r->t[i], AIO_NEVER);
    r->t[i] = NULL;
}

/* ---- answers and failures ---------------------------------------------------------------- */

static int scene_all_to_the_end(struct run *r)
{
    for (size_t i = 0; i < r->n; i++)
        spawn(r, i);
    for (size_t i = 0; i < r->n; i++)
        join(r, i);
    return 0;
}

Test(job, answers_give_everything_back)
{
    static const char *const paths[3] = { "/delay/20", "/status/404", "/delay/0" };
    struct run r = { .max = 2, .n = 3, .paths = paths, .scene = scene_all_to_the_end };
    run_scene(&r);
    for (size_t i = 0; i < 3; i++)
        expect_job(&r.j[i], i, paths[i], JOB_ANSWERED, 0, r.result[i]);
    cr_assert_eq(r.j[1].resp.status, 404, "[answer-lost] job 1 (/status/404) holds status %ld",
                 r.j[1].resp.status);
    expect_released("job_run", &r.pool, 2, r.j, 3);
    expect_books(&r.pool, 3, 0, 0);
    cr_assert(http_news == 3 && http_frees == 3, "[conn-count] 3 jobs opened %ld and freed %ld "
              "clients: one connection of its own a job, opened and freed once.", http_news,
              http_frees);
    cr_assert(http_open_peak <= 2, "[conn-before-permit] %ld connections were open at once with "
              "2 permits: a job opens its connection only once it holds a permit.",
              http_open_peak);
    kit_expect_no_leaks("job_run");
}

Test(job, a_failure_is_a_failure)
{
    static const char *const paths[2] = { REFUSED, "/delay/10" };
    struct run r = { .max = 1, .n = 2, .paths = paths, .scene = scene_all_to_the_end };
    run_scene(&r);
    expect_job(&r.j[0], 0, paths[0], JOB_FAILED, -ECONNREFUSED, r.result[0]);
    expect_job(&r.j[1], 1, paths[1], JOB_ANSWERED, 0, r.result[1]);
    expect_released("job_run", &r.pool, 1, r.j, 2);
    expect_books(&r.pool, 1, 1, 0);
    kit_expect_no_leaks("job_run");
}

Test(job, no_connection_to_be_had)
{
    static const char *const paths[2] = { "/delay/10", "/delay/10" };
    struct run r = { .max = 1, .n = 2, .paths = paths, .scene = scene_all_to_the_end,
                     .http_fail_at = 1 };
    run_scene(&r);
    expect_job(&r.j[0], 0, paths[0], JOB_FAILED, -ENOMEM, r.result[0]);
    expect_job(&r.j[1], 1, paths[1], JOB_ANSWERED, 0, r.result[1]);
    cr_assert_eq(requests_to(r.j[0].url), 0, "[failure-rc] job 0 had no connection, yet sent "
                 "%ld requests", requests_to(r.j[0].url));
    expect_released("job_run", &r.pool, 1, r.j, 2);
    expect_books(&r.pool, 1, 1, 0);
    kit_expect_no_leaks("job_run");
}

/* ---- cancelled ---------------------------------------------------------------------------- */

/* Job 0 (/hang) is cancelled once its request has started. */
static int scene_cancel_in_transfer(struct run *r)
{
    spawn(r, 0);
    if (until_requests(1, NULL) < 0) {
        join(r, 0);
        return 0;
    }
    r->cancel_rc[0] = aio_cancel(r->t[0]);
    join(r, 0);
    return 0;
}

Test(job, cancelled_during_its_transfer)
{
    static const char *const paths[1] = { "/hang" };
    struct run r = { .max = 3, .n = 1, .paths = paths, .scene = scene_cancel_in_transfer };
    run_scene(&r);
    cr_assert_eq(nreq, 1, "[not-sent] job 0 (/hang) never sent its request (%zu sent)", nreq);
    expect_job(&r.j[0], 0, paths[0], JOB_CANCELLED, 0, r.result[0]);
    expect_released("job_run", &r.pool, 3, r.j, 1);
    expect_books(&r.pool, 0, 0, 1);
    cr_assert(http_news == 1 && http_frees == 1, "[conn-count] the job opened %ld and freed %ld "
              "clients, expected 1 and 1", http_news, http_frees);
    kit_expect_no_leaks("job_run");
}

/* One permit: job 0 (/hang) holds it, job 1 queues and is cancelled there; job 2, spawned
 * after, must still queue (nothing was given back that was not taken), and gets the permit
 * once job 0 is cancelled. */
static int scene_cancel_queued(struct run *r)
{
    spawn(r, 0);
    spawn(r, 1);
    if (until_requests(1, NULL) < 0 || until_queued(&r->pool.permits, 1) < 0) {
        r->problem = "[not-queued] with one permit, held by job 0 (/hang, its request "
                     "sent), job 1 never queued for it in aio_sem_acquire: a job takes a "
                     "permit before anything else, and waits in the queue for one.";
        for (size_t i = 0; i < 2; i++)
            if (!aio_done(r->t[i]))
                aio_cancel(r->t[i]);
        join(r, 0);
        join(r, 1);
        return 0;
    }
    r->cancel_rc[0] = aio_cancel(r->t[1]);
    join(r, 1);
    spawn(r, 2);
    /* Job 2 either queues (right) or, handed a permit that job 1 never had, sends at once. */
    int64_t end = aio_now() + 5000;
    while (aio_sem_waiting(&r->pool.permits) == 0 && nreq < 2 && !aio_done(r->t[2]) &&
           aio_now() < end)
        __real_aio_yield();
    r->cancel_rc[1] = aio_cancel(r->t[0]);
    join(r, 0);
    join(r, 2);
    return 0;
}

Test(job, cancelled_while_queued_for_a_permit)
{
    static const char *const paths[3] = { "/hang", "/delay/10", "/delay/10" };
    struct run r = { .max = 1, .n = 3, .paths = paths, .scene = scene_cancel_queued };
    run_scene(&r);
    cr_assert_eq(requests_to(r.j[1].url), 0, "[sent-while-cancelled] job 1, cancelled while "
                 "it queued for a permit, sent %ld requests: a cancelled job goes no further.",
                 requests_to(r.j[1].url));
    expect_job(&r.j[1], 1, paths[1], JOB_CANCELLED, 0, r.result[1]);
    cr_assert(inflight_peak <= 1, "[over-cap] %ld requests were in flight at once with a pool "
              "of 1 permit: job 1, cancelled while it queued, gave back a permit it never "
              "took, and job 2 got it while job 0 still held the only one.", inflight_peak);
    expect_job(&r.j[0], 0, paths[0], JOB_CANCELLED, 0, r.result[0]);
    expect_job(&r.j[2], 2, paths[2], JOB_ANSWERED, 0, r.result[2]);
    expect_released("job_run", &r.pool, 1, r.j, 3);
    expect_books(&r.pool, 1, 0, 2);
    cr_assert(http_news == 2 && http_frees == 2, "[conn-before-permit] 3 jobs, one of them "
              "cancelled while it queued, opened %ld clients (expected 2): a job opens its "
              "connection only once it holds a permit.", http_news);
    kit_expect_no_leaks("job_run");
}

/* Cancelled before it ever ran: its first wait, the permit's, says so at once. */
static int scene_cancel_at_once(struct run *r)
{
    spawn(r, 0);
    r->cancel_rc[0] = aio_cancel(r->t[0]);
    join(r, 0);
    return 0;
}

Test(job, cancelled_before_it_ran)
{
    static const char *const paths[1] = { "/delay/10" };
    struct run r = { .max = 2, .n = 1, .paths = paths, .scene = scene_cancel_at_once };
    run_scene(&r);
    cr_assert(nreq == 0 && http_news == 0, "[sent-while-cancelled] a job cancelled before it "
              "ran sent %zu requests and opened %ld clients: its first wait (the permit's) "
              "returns -ECANCELED, and it goes no further.", nreq, http_news);
    expect_job(&r.j[0], 0, paths[0], JOB_CANCELLED, 0, r.result[0]);
    expect_released("job_run", &r.pool, 2, r.j, 1);
    expect_books(&r.pool, 0, 0, 1);
    kit_expect_no_leaks("job_run");
}

/* Job 0 (/hang) cancelled twice; job 1 cancelled after its answer was in (its task had
 * ended): neither changes how they ended. */
static int scene_cancel_twice(struct run *r)
{
    spawn(r, 0);
    spawn(r, 1);
    if (until_requests(2, NULL) < 0 || until_finished(r->t[1]) < 0) {
        join(r, 0);
        join(r, 1);
        return 0;
    }
    r->cancel_rc[0] = aio_cancel(r->t[0]);
    r->cancel_rc[1] = aio_cancel(r->t[0]);
    r->cancel_rc[2] = aio_cancel(r->t[1]);
    join(r, 0);
    join(r, 1);
    return 0;
}

Test(job, a_second_cancel_and_a_cancel_after_the_end)
{
    static const char *const paths[2] = { "/hang", "/delay/10" };
    struct run r = { .max = 2, .n = 2, .paths = paths, .scene = scene_cancel_twice };
    run_scene(&r);
    expect_job(&r.j[0], 0, paths[0], JOB_CANCELLED, 0, r.result[0]);
    expect_job(&r.j[1], 1, paths[1], JOB_ANSWERED, 0, r.result[1]);
    expect_released("job_run", &r.pool, 2, r.j, 2);
    expect_books(&r.pool, 1, 0, 1);
    kit_expect_no_leaks("job_run");
}

/* Thirteen jobs, four permits, four of them hung in odd places, the others sharing one path:
 * the hung ones are cancelled once every other job has its answer. */
static int scene_thirteen(struct run *r)
{
    for (size_t i = 0; i < r->n; i++)
        spawn(r, i);
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->paths[i], "/hang") != 0)
            join(r, i);
    if (until_requests(r->n, NULL) < 0)
        r->problem = "[not-sent] 13 jobs on 4 permits: not every job sent its request (the "
                     "hung ones hold 4 permits at most, and every other job ends).";
    for (size_t i = 0; i < r->n; i++)
        if (r->t[i] != NULL)
            aio_cancel(r->t[i]);
    for (size_t i = 0; i < r->n; i++)
        join(r, i);
    return 0;
}

Test(job, thirteen_jobs_four_permits)
{
    static const char *const paths[13] = { "/delay/30", "/hang", "/delay/30", "/delay/10",
                                           "/delay/30", "/hang", "/delay/30", "/delay/0",
                                           "/hang", "/delay/30", "/delay/30", "/delay/10",
                                           "/hang" };
    struct run r = { .max = 4, .n = 13, .paths = paths, .scene = scene_thirteen };
    run_scene(&r);
    for (size_t i = 0; i < 13; i++) {
        int hung = strcmp(paths[i], "/hang") == 0;
        cr_assert_eq(requests_to(r.j[i].url), 1, "[not-sent] job %zu (%s) sent %ld requests, "
                     "expected 1", i, paths[i], requests_to(r.j[i].url));
        expect_job(&r.j[i], i, paths[i], hung ? JOB_CANCELLED : JOB_ANSWERED, 0, r.result[i]);
    }
    struct kit_stats st = { 0 };
    cr_assert_eq(kit_stats_get(base, &st), 0, "[server] could not read delayd's /stats");
    cr_assert(st.peak <= 4 && inflight_peak <= 4, "[over-cap] the server saw %ld requests in "
              "flight at once (%ld by the test's count) with 4 permits.", st.peak,
              inflight_peak);
    cr_assert(http_open_peak <= 4, "[conn-before-permit] %ld connections were open at once with "
              "4 permits: a job opens its connection only once it holds a permit.",
              http_open_peak);
    expect_released("job_run", &r.pool, 4, r.j, 13);
    expect_books(&r.pool, 9, 0, 4);
    cr_assert(http_news == 13 && http_frees == 13, "[conn-count] 13 jobs opened %ld and freed "
              "%ld clients, expected 13 and 13", http_news, http_frees);
    kit_expect_no_leaks("job_run");
}
