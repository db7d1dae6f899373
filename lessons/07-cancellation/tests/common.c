/* Lesson 07 tests: the checks both test files share. */
#include "common.h"
#include "counted.h"
#include "kit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kit_test.h"

const char *base;

void setup(void)
{
    base = kit_server_start(NULL);
}

void teardown(void)
{
    kit_cleanup();
    kit_server_stop();
}

struct owned {
    struct job *j;
    size_t n;
};

/* Deferred with a copy of its own: a failed assertion leaves the test's frame before the
 * suite's clean-up runs. */
static void free_jobs(void *p)
{
    struct owned *o = p;
    jobs_free(o->j, o->n);
}

struct job *jobs_new(struct pool *p, const char *const *paths, size_t n)
{
    struct job *j = kit_alloc_array(n, sizeof *j);
    struct owned *o = kit_alloc(sizeof *o);

    o->j = j;
    o->n = n;
    kit_defer(free_jobs, o);
    for (size_t i = 0; i < n; i++) {
        j[i].url = kit_sprintf("%s%s%ctag=%zu", paths[i][0] == '/' ? base : "", paths[i],
                               strchr(paths[i], '?') ? '&' : '?', i);
        job_prepare(&j[i], p);
    }
    return j;
}

long requests_to(const char *url)
{
    long k = 0;
    for (size_t i = 0; i < nreq; i++)
        k += urls_seen[i] == url;
    return k;
}

static const char *outcome_name(enum job_outcome o)
{
    switch (o) {
    case JOB_PENDING:
        return "JOB_PENDING";
    case JOB_ANSWERED:
        return "JOB_ANSWERED";
    case JOB_FAILED:
        return "JOB_FAILED";
    case JOB_CANCELLED:
        return "JOB_CANCELLED";
    }
    return "an unknown outcome";
}

void expect_job(const struct job *j, size_t i, const char *path, enum job_outcome want,
                int want_rc, int result)
{
    char tag[32];

    switch (want) {
    case JOB_CANCELLED:
        cr_assert(j->outcome != JOB_FAILED, "[cancel-as-failure] job %zu (%s) was cancelled, "
                  "but reports JOB_FAILED (rc %s): a cancellation is not a failure; it is "
                  "JOB_CANCELLED with rc -ECANCELED.", i, path, kit_errname(j->rc));
        cr_assert(result == NOT_JOINED || result == -ECANCELED, "[cancel-swallowed] job %zu (%s) "
                  "was cancelled and its task returned %s, expected -ECANCELED: a cancelled "
                  "job cleans up and passes the cancellation upward; it does not turn it into "
                  "a result.", i, path, kit_errname(result));
        cr_assert(j->outcome == JOB_CANCELLED && j->rc == -ECANCELED, "[job-outcome] job %zu "
                  "(%s) was cancelled, but reports %s with rc %s, expected JOB_CANCELLED and "
                  "-ECANCELED.", i, path, outcome_name(j->outcome), kit_errname(j->rc));
        cr_assert(j->resp.status == 0 && j->resp.body == NULL, "[cancelled-response] job %zu "
                  "(%s) was cancelled but holds a response (status %ld): a cancelled job has "
                  "none.", i, path, j->resp.status);
        break;
    case JOB_ANSWERED:
        snprintf(tag, sizeof tag, "tag=%zu", i);
        cr_assert(j->outcome == JOB_ANSWERED && j->rc == 0, "[job-outcome] job %zu (%s) was "
                  "answered, but reports %s with rc %s, expected JOB_ANSWERED and 0.", i, path,
                  outcome_name(j->outcome), kit_errname(j->rc));
        cr_assert(result == NOT_JOINED || result == 0, "[job-result] job %zu (%s) was answered, "
                  "yet its task returned %s, expected 0.", i, path, kit_errname(result));
        cr_assert(j->resp.status >= 200 && j->resp.body != NULL &&
                      (j->resp.status != 200 || strstr(j->resp.body, tag) != NULL),
                  "[answer-lost] job %zu (%s) holds status %ld and body '%s', expected its own "
                  "answer (%s).", i, path, j->resp.status,
                  j->resp.body != NULL ? j->resp.body : "(none)", tag);
        break;
    case JOB_FAILED:
        cr_assert(j->outcome == JOB_FAILED && j->rc == want_rc, "[failure-rc] job %zu (%s) "
                  "failed with %s, but reports %s with rc %s, expected JOB_FAILED and %s.", i,
                  path, kit_errname(want_rc), outcome_name(j->outcome), kit_errname(j->rc),
                  kit_errname(want_rc));
        cr_assert(result == NOT_JOINED || result == want_rc, "[failure-rc] job %zu (%s) failed "
                  "with %s, yet its task returned %s.", i, path, kit_errname(want_rc),
                  kit_errname(result));
        cr_assert(j->resp.status == 0 && j->resp.body == NULL, "[failure-rc] job %zu (%s) "
                  "failed but holds a response (status %ld).", i, path, j->resp.status);
        break;
    case JOB_PENDING:
        cr_assert(tasks_for(j) == 0 && requests_to(j->url) == 0 && j->outcome == JOB_PENDING &&
                      j->rc == 0 && j->resp.status == 0,
                  "[started-after-win] job %zu (%s) should never have started, yet %ld %s "
                  "ran it, %ld %s sent, and it reports %s: once there is an answer (or an "
                  "error), no more jobs are started.", i, path, tasks_for(j),
                  kit_plural(tasks_for(j), "task", "tasks"), requests_to(j->url),
                  kit_plural(requests_to(j->url), "request was", "requests were"),
                  outcome_name(j->outcome));
        break;
    }
}

void expect_books(const struct pool *p, long answered, long failed, long cancelled)
{
    cr_assert(!(p->failed > failed && p->cancelled < cancelled),
              "[cancel-as-failure] the pool's books say %ld failed and %ld cancelled, expected "
              "%ld and %ld: a cancellation is counted in `cancelled`, not in `failed`.",
              p->failed, p->cancelled, failed, cancelled);
    cr_assert(p->answered == answered && p->failed == failed && p->cancelled == cancelled,
              "[books] the pool's books say %ld answered, %ld failed, %ld cancelled; expected "
              "%ld, %ld, %ld: each job that ran counts once, in the book of how it ended.",
              p->answered, p->failed, p->cancelled, answered, failed, cancelled);
}

/* The server's in_flight, waited for to reach 0 (a hang-up takes it a few ms to notice). */
static long server_in_flight_settled(void)
{
    struct kit_stats st = { .in_flight = -1 };
    for (int i = 0; i < 150; i++) {
        cr_assert_eq(kit_stats_get(base, &st), 0, "[server] could not read delayd's /stats");
        if (st.in_flight == 0)
            break;
        usleep(10000);
    }
    return st.in_flight;
}

void expect_released(const char *func, const struct pool *p, int max, const struct job *j,
                     size_t n)
{
    size_t conns = 0;
    for (size_t i = 0; i < n; i++)
        conns += j[i].conn != NULL;
    cr_assert(conns == 0 && http_open == 0, "[conn-leak] after %s, %zu %s still set and %ld "
              "%s opened with aio_http_new never freed: a job frees its connection on every "
              "way out, a cancellation included.", func, conns,
              kit_plural((long)conns, "job's conn is", "jobs' conn are"), http_open,
              kit_plural(http_open, "client", "clients"));
    cr_assert_eq(p->in_flight, 0, "[in-flight-count] after %s the pool's in_flight is %d, "
                 "expected 0: a job counts itself out on every way out, a cancellation "
                 "included.", func, p->in_flight);
    cr_assert(sem_overflows == 0 && sem_releases <= sem_acquired, "[double-release] %ld %s "
              "released for %ld taken (%ld refused as one too many): a job gives back only "
              "the permit it took, once; a job cancelled while queued took none.",
              sem_releases, kit_plural(sem_releases, "permit was", "permits were"),
              sem_acquired, sem_overflows);
    int value = aio_sem_value(&p->permits);
    cr_assert(value == max && sem_releases == sem_acquired, "[permit-leak] after %s the pool "
              "has %d of its %d permits (%ld taken, %ld given back): a job gives its permit "
              "back on every way out, a cancellation included.", func, value, max,
              sem_acquired, sem_releases);
    cr_assert_eq(polls + blocking_calls, 0, "[polling] %s called aio_sleep/aio_yield/aio_park "
                 "%ld times and blocked the thread %ld times: waiting is the runtime's job.",
                 func, polls, blocking_calls);
    long left = server_in_flight_settled();
    cr_assert_eq(left, 0, "[server-still-busy] the server still had %ld %s in flight after the "
                 "test's loop ended: a transfer that was never removed.", left,
                 kit_plural(left, "request", "requests"));
}

/* ---- waiting for what the test needs, uncounted --------------------------------------------- */

static aio_task *waiter;
static size_t want_nreq;

static void wake_on_request(size_t i)
{
    if (i + 1 >= want_nreq && waiter != NULL)
        aio_unpark(waiter);
}

static void wake_on_finish(void)
{
    if (waiter != NULL && tasks_running() == 0)
        aio_unpark(waiter);
}

int until_requests(size_t k, const int *stop)
{
    int64_t end = aio_now() + 5000;

    waiter = aio_current();
    want_nreq = k;
    on_request = wake_on_request;
    on_finish = wake_on_finish;
    while (nreq < k && (stop != NULL ? !*stop : tasks_running() > 0) &&
           __real_aio_park(end) != -ETIMEDOUT)
        ;
    on_request = NULL;
    on_finish = NULL;
    waiter = NULL;
    return nreq >= k ? 0 : -1;
}

void wake_waiter(void)
{
    if (waiter != NULL)
        aio_unpark(waiter);
}

int until_queued(const aio_sem *s, size_t k)
{
    for (int turn = 0; turn < 2000 && aio_sem_waiting(s) < k; turn++)
        __real_aio_yield();
    return aio_sem_waiting(s) >= k ? 0 : -1;
}

int __real_aio_join_any(aio_task *const *tasks, size_t n, int64_t deadline);

int until_finished(aio_task *t)
{
    return __real_aio_join_any(&t, 1, aio_now() + 5000) == 0 ? 0 : -1;
}
