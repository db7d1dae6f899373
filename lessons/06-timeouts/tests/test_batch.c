/* Lesson 06 tests, part one: fetch_batch and fetch_retry against a private delayd. The
 * witnesses: what each fetch holds (answer intact, or cut and empty), the runtime's own counts
 * right after the call returns (tasks, transfers, timers), every task joined, the requests the
 * test binary saw start and end (aio_http_get is counted) and when, against the deadline, and
 * the server's counts (peak in flight, requests to /hang, nothing left in flight). */
#include "counted.h"
#include "fetch.h"
#include "kit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kit_test.h"

static const char *base;

static void setup(void)
{
    base = kit_server_start(NULL);
}

static void teardown(void)
{
    kit_cleanup();
    kit_server_stop();
}

TestSuite(batch, .init = setup, .fini = teardown, .timeout = 20);
TestSuite(retry, .init = setup, .fini = teardown, .timeout = 20);

/* ---- one call of the function under test, and what was seen ------------------------------ */

struct seen {
    const char *func;          /* "fetch_batch" or "fetch_retry" */
    size_t n;
    const char **paths;        /* n paths under base */
    int64_t deadline_ms;       /* the deadline, from the call's start (may be negative) */
    int tries;                 /* fetch_retry */
    int64_t try_ms;
    long spawn_fail_at;
    long alloc_fail_at;        /* the k-th allocation of the calling task fails */
    struct fetch *f;           /* kit_alloc_array(n): exactly the size of the batch */
    int rc;
    int64_t start, deadline, elapsed;
    int64_t net;     /* elapsed, less the time the busy machine kept the test and server
                      * from a CPU: the upper bounds use it */
    struct aio_counts after;
    size_t unjoined, running;
    long polls, blocking;
};

struct owned {
    struct fetch *f;
    size_t n;
};

/* Deferred with a copy of its own: a failed assertion leaves the test's frame before the
 * suite's clean-up runs. */
static void free_fetches(void *p)
{
    struct owned *o = p;
    fetches_free(o->f, o->n);
}

static int call_main(void *arg)
{
    struct seen *s = arg;
    aio_http *c = aio_http_new();

    if (c == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < s->n; i++)
        s->f[i].url = kit_sprintf("%s%s%ctag=%zu", s->paths[i][0] == '/' ? base : "",
                                  s->paths[i], strchr(s->paths[i], '?') ? '&' : '?', i);
    counted_reset();
    spawn_fail_at = s->spawn_fail_at;
    if (s->alloc_fail_at > 0) {
        alloc_fail_task = aio_current();
        alloc_fail_at = s->alloc_fail_at;
    }
    watching = 1;
    s->start = aio_now();
    double busy = kit_starved_s();
    s->deadline = s->start + s->deadline_ms;
    if (strcmp(s->func, "fetch_batch") == 0) {
        s->rc = fetch_batch(c, s->f, s->n, s->deadline);
    } else {
        fetch_prepare(&s->f[0], c);
        s->rc = fetch_retry(c, &s->f[0], s->tries, s->try_ms, s->deadline);
    }
    alloc_fail_task = NULL;
    s->elapsed = aio_now() - s->start;
    s->net = s->elapsed - (int64_t)((kit_starved_s() - busy) * 1000);
    aio_counts(&s->after);
    s->unjoined = tasks_unjoined();
    s->running = tasks_running();
    s->polls = polls;
    s->blocking = blocking_calls;
    watching = 0;
    reap();
    aio_http_free(c);
    return 0;
}

static void run_call(struct seen *s)
{
    struct owned *o = kit_alloc(sizeof *o);
    s->f = kit_alloc_array(s->n, sizeof *s->f);
    o->f = s->f;
    o->n = s->n;
    kit_defer(free_fetches, o);
    int rc = aio_run(call_main, s);
    cr_assert_eq(rc, 0, "[deadlock] the test's loop ended with %s: every task was waiting and "
                 "nothing could wake any of them.", kit_errname(rc));
    kit_expect_done(s->rc, s->func, "batch.c");
}

/* Requests of the call that went to url (the pointer fetch_prepare's caller set). */
static long requests_to(const char *url)
{
    long k = 0;
    for (size_t i = 0; i < nreq; i++)
        k += urls_seen[i] == url;
    return k;
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

/* Nothing of the call is left: checked right after it returned, before any clean-up. */
static void expect_nothing_left(const struct seen *s)
{
    cr_assert(s->running == 0 && s->after.tasks == 0 && s->after.operations == 0,
              "[left-running] when %s returned, %zu %s still running and %zu %s still in "
              "flight (the runtime's counts: %zu tasks not joined, %zu transfers); at the "
              "deadline a fetch must be cut, not just no longer waited for. Did you stop "
              "waiting without cancelling the task (and waiting for it to end)?", s->func,
              s->running, kit_plural((long)s->running, "task was", "tasks were"),
              s->after.operations, kit_plural((long)s->after.operations, "transfer was",
                                               "transfers were"),
              s->after.tasks, s->after.operations);
    cr_assert_eq(s->unjoined, 0, "[unjoined] %s returned with %zu finished %s never joined: "
                 "every task spawned is joined before the function returns.", s->func,
                 s->unjoined, kit_plural((long)s->unjoined, "task", "tasks"));
    cr_assert_eq(s->after.timers + s->after.descriptors, 0, "[left-open] when %s returned, "
                 "the runtime still had %zu timers armed and %zu descriptors watched: a wait "
                 "of the call that is still under way?", s->func, s->after.timers,
                 s->after.descriptors);
    cr_assert_eq(s->polls + s->blocking, 0, "[polling] %s called aio_sleep/aio_yield %ld "
                 "times and blocked the thread %ld times: waiting is the runtime's job "
                 "(aio_wait_for, a deadline).", s->func, s->polls, s->blocking);
    long left = server_in_flight_settled();
    cr_assert_eq(left, 0, "[server-still-busy] the server still had %ld %s in flight after the "
                 "test's loop ended: a transfer that was never removed.", left,
                 kit_plural(left, "request", "requests"));
}

/* ---- fetch_batch ----------------------------------------------------------------------- */

/* Check every fetch: those whose path is /hang were cut, the others answered intact. */
static void expect_batch(const struct seen *s, int expect_rc)
{
    size_t hung = 0;

    expect_nothing_left(s);
    for (size_t i = 0; i < s->n; i++) {
        const struct fetch *f = &s->f[i];
        long sent = requests_to(f->url);
        cr_assert_eq(sent, 1, "[fetch-count] fetch %zu (%s) was sent %ld times; every fetch "
                     "goes out exactly once (repeated URLs too).", i, s->paths[i], sent);
        if (strcmp(s->paths[i], "/hang") == 0) {
            hung++;
            cr_assert_eq(f->rc, -ETIMEDOUT, "[cut-rc] fetch %zu (%s, never answered) has rc "
                         "%s, expected -ETIMEDOUT: a fetch cut at the batch's deadline says "
                         "so.", i, s->paths[i], kit_errname(f->rc));
            cr_assert(f->resp.status == 0 && f->resp.body == NULL, "[cut-response] fetch %zu "
                      "was cut but holds a response (status %ld): a cut fetch has none.", i,
                      f->resp.status);
        } else {
            char tag[32];
            snprintf(tag, sizeof tag, "tag=%zu\"", i);
            cr_assert_eq(f->rc, 0, "[result-lost] fetch %zu (%s) was answered before the "
                         "deadline but has rc %s: what finished in time must be kept.", i,
                         s->paths[i], kit_errname(f->rc));
            cr_assert(f->resp.status == 200 && f->resp.body != NULL &&
                          strstr(f->resp.body, tag) != NULL,
                      "[result-lost] fetch %zu (%s) holds status %ld and body '%s', expected "
                      "200 and its own body (%s): each answer stays in its own fetch.", i,
                      s->paths[i], f->resp.status, f->resp.body ? f->resp.body : "(none)", tag);
        }
    }
    cr_assert_eq(s->rc, expect_rc, "[batch-rc] fetch_batch returned %s, expected %s (the first "
                 "error in request order; -ETIMEDOUT when a fetch was cut).",
                 kit_errname(s->rc), kit_errname(expect_rc));
    cr_assert_eq(inflight_peak, (long)s->n, "[not-concurrent] at most %ld of the %zu requests "
                 "were in flight at once; the batch sends them all together.", inflight_peak,
                 s->n);
    if (hung > 0) {
        cr_assert_geq(s->elapsed, s->deadline_ms, "[batch-early] fetch_batch returned after "
                      "%lld ms, before its deadline (%lld ms): the fetches still running had "
                      "until then.", (long long)s->elapsed, (long long)s->deadline_ms);
        cr_assert_lt(s->net, s->deadline_ms * 5 / 2, "[batch-overrun] fetch_batch returned "
                     "after %lld ms with its deadline at %lld ms (%zu hung requests): the batch "
                     "must be over by its one deadline. Did each wait get a fresh allowance?",
                     (long long)s->elapsed, (long long)s->deadline_ms, hung);
    } else {
        cr_assert_lt(s->net, s->deadline_ms, "[batch-slow] every request was answered in "
                     "time, yet fetch_batch returned only after %lld ms, at its deadline "
                     "(%lld ms): it should return as soon as all are in.",
                     (long long)s->elapsed, (long long)s->deadline_ms);
    }
}

Test(batch, all_answered_in_time)
{
    static const char *paths[13] = { "/delay/30", "/delay/10", "/delay/60", "/delay/10",
                                     "/delay/0", "/delay/45", "/delay/10", "/delay/30",
                                     "/delay/60", "/delay/5", "/delay/10", "/delay/20",
                                     "/delay/60" };
    struct seen s = { .func = "fetch_batch", .n = 13, .paths = paths, .deadline_ms = 3000 };
    run_call(&s);
    expect_batch(&s, 0);
    kit_expect_no_leaks("fetch_batch");
}

Test(batch, hung_requests_are_cut_at_the_deadline)
{
    static const char *paths[7] = { "/delay/20", "/hang", "/delay/50", "/hang", "/delay/20",
                                    "/delay/0", "/hang" };
    struct seen s = { .func = "fetch_batch", .n = 7, .paths = paths, .deadline_ms = 500 };
    run_call(&s);
    expect_batch(&s, -ETIMEDOUT);
    kit_expect_no_leaks("fetch_batch");
}

Test(batch, thirty_three_with_the_first_hung)
{
    const char **paths = kit_alloc_array(33, sizeof *paths);
    for (size_t i = 0; i < 33; i++)
        paths[i] = i % 5 == 0 ? "/hang" : (i % 2 ? "/delay/40" : "/delay/40");
    struct seen s = { .func = "fetch_batch", .n = 33, .paths = paths, .deadline_ms = 500 };
    run_call(&s);
    expect_batch(&s, -ETIMEDOUT);
    kit_expect_no_leaks("fetch_batch");
}

Test(batch, an_empty_batch)
{
    struct seen s = { .func = "fetch_batch", .n = 0, .deadline_ms = 1000 };
    run_call(&s);
    cr_assert_eq(s.rc, 0, "[batch-rc] an empty batch returned %s, expected 0",
                 kit_errname(s.rc));
    cr_assert_eq(spawn_calls + (long)nreq, 0, "[fetch-count] an empty batch spawned %ld tasks "
                 "and sent %zu requests", spawn_calls, nreq);
    expect_nothing_left(&s);
    kit_expect_no_leaks("fetch_batch");
}

Test(batch, an_error_before_a_cut)
{
    static const char *paths[5] = { "/delay/10", "/status/503", "/hang", "/delay/0",
                                     "/hang" };
    struct seen s = { .func = "fetch_batch", .n = 5, .paths = paths, .deadline_ms = 500 };
    run_call(&s);
    expect_nothing_left(&s);
    cr_assert_eq(s.f[1].rc, 0, "[result-lost] a 503 answer is an answer: rc %s",
                 kit_errname(s.f[1].rc));
    cr_assert_eq(s.f[1].resp.status, 503, "[result-lost] fetch 1 holds status %ld, expected 503",
                 s.f[1].resp.status);
    cr_assert_eq(s.rc, -ETIMEDOUT, "[batch-rc] fetch_batch returned %s, expected -ETIMEDOUT",
                 kit_errname(s.rc));
    kit_expect_no_leaks("fetch_batch");
}

/* A body that trickles: the answer starts at once, and its last byte would come long after
 * the deadline. Only a deadline on the whole transfer ends it; a short drip ends in time. */
Test(batch, a_dripping_body_is_cut_too)
{
    static const char *paths[5] = { "/delay/10", "/drip?bytes=10&duration_ms=3000",
                                    "/drip?bytes=4&duration_ms=60", "/delay/40",
                                    "/drip?bytes=13&duration_ms=2600" };
    struct seen s = { .func = "fetch_batch", .n = 5, .paths = paths, .deadline_ms = 500 };
    run_call(&s);
    expect_nothing_left(&s);
    static const size_t dripping[2] = { 1, 4 };
    for (size_t d = 0; d < 2; d++) {
        size_t k = dripping[d];
        cr_assert(s.f[k].rc == -ETIMEDOUT && s.f[k].resp.status == 0 && s.f[k].resp.body == NULL,
                  "[cut-rc] fetch %zu (%s, its body still dripping at the deadline) has rc %s "
                  "and status %ld, expected -ETIMEDOUT and no response: an answer that has "
                  "begun is not an answer until it is whole.", k, paths[k],
                  kit_errname(s.f[k].rc), s.f[k].resp.status);
    }
    cr_assert(s.f[2].rc == 0 && s.f[2].resp.status == 200 && s.f[2].resp.len == 4 &&
                  strcmp(s.f[2].resp.body, "****") == 0,
              "[result-lost] fetch 2 (a drip of 4 bytes over 60 ms) has rc %s, status %ld, "
              "%zu bytes: expected 0, 200 and \"****\"", kit_errname(s.f[2].rc),
              s.f[2].resp.status, s.f[2].resp.len);
    cr_assert(s.f[0].rc == 0 && s.f[3].rc == 0 && s.f[0].resp.status == 200 &&
                  s.f[3].resp.status == 200,
              "[result-lost] fetches 0 and 3 (/delay/10, /delay/40) have rc %s and %s",
              kit_errname(s.f[0].rc), kit_errname(s.f[3].rc));
    cr_assert_eq(s.rc, -ETIMEDOUT, "[batch-rc] fetch_batch returned %s, expected -ETIMEDOUT",
                 kit_errname(s.rc));
    cr_assert(s.elapsed >= 500 && s.net < 1000, "[batch-overrun] fetch_batch returned after "
              "%lld ms, its deadline at 500 ms", (long long)s.elapsed);
    kit_expect_no_leaks("fetch_batch");
}

#define REFUSED "http://127.0.0.1:1/refused"

/* A hung fetch first and a refused one after it, then the other way round: the first error in
 * request order, whichever ends first. */
Test(batch, errors_in_request_order)
{
    static const char *paths[4] = { "/delay/30", "/hang", REFUSED, "/delay/10" };
    struct seen s = { .func = "fetch_batch", .n = 4, .paths = paths, .deadline_ms = 500 };
    run_call(&s);
    expect_nothing_left(&s);
    cr_assert(s.f[1].rc == -ETIMEDOUT && s.f[2].rc == -ECONNREFUSED,
              "[cut-rc] fetch 1 (/hang) has rc %s and fetch 2 (a refused port) %s, expected "
              "-ETIMEDOUT and -ECONNREFUSED", kit_errname(s.f[1].rc), kit_errname(s.f[2].rc));
    cr_assert(s.f[0].rc == 0 && s.f[3].rc == 0 && s.f[0].resp.status == 200 &&
                  s.f[3].resp.status == 200,
              "[result-lost] fetches 0 and 3 were answered in time: rc %s and %s",
              kit_errname(s.f[0].rc), kit_errname(s.f[3].rc));
    cr_assert_eq(s.rc, -ETIMEDOUT, "[batch-rc] fetch 1 was cut (-ETIMEDOUT) and fetch 2 refused "
                 "(-ECONNREFUSED, known long before); fetch_batch returned %s, expected the "
                 "first error in request order, -ETIMEDOUT.", kit_errname(s.rc));
    kit_expect_no_leaks("fetch_batch");
}

Test(batch, a_refused_fetch_before_a_hung_one)
{
    static const char *paths[3] = { REFUSED, "/hang", "/delay/10" };
    struct seen s = { .func = "fetch_batch", .n = 3, .paths = paths, .deadline_ms = 500 };
    run_call(&s);
    expect_nothing_left(&s);
    cr_assert_eq(s.rc, -ECONNREFUSED, "[batch-rc] fetch 0 was refused and fetch 1 cut later; "
                 "fetch_batch returned %s, expected the first error in request order, "
                 "-ECONNREFUSED.", kit_errname(s.rc));
    cr_assert_eq(s.f[1].rc, -ETIMEDOUT, "[cut-rc] fetch 1 (/hang) has rc %s",
                 kit_errname(s.f[1].rc));
    kit_expect_no_leaks("fetch_batch");
}

Test(batch, a_spawn_that_fails)
{
    static const char *paths[7] = { "/delay/10", "/hang", "/delay/10", "/hang", "/delay/10",
                                    "/delay/10", "/delay/10" };
    struct seen s = { .func = "fetch_batch", .n = 7, .paths = paths, .deadline_ms = 5000,
                      .spawn_fail_at = 4 };
    run_call(&s);
    cr_assert_eq(s.rc, -ENOMEM, "[spawn-fail] with the 4th aio_spawn failing, fetch_batch "
                 "returned %s, expected -ENOMEM", kit_errname(s.rc));
    cr_assert_lt(s.net, 2500, "[spawn-fail] with a spawn failed, fetch_batch still waited "
                 "%lld ms for the fetches already started (one never ends): cancel them at "
                 "once.", (long long)s.elapsed);
    for (size_t i = 3; i < 7; i++)
        cr_assert_eq(s.f[i].rc, -ECANCELED, "[spawn-fail] fetch %zu, never sent, has rc %s, "
                     "expected -ECANCELED", i, kit_errname(s.f[i].rc));
    expect_nothing_left(&s);
    kit_expect_no_leaks("fetch_batch");
}

/* Its first allocation fails: -ENOMEM with nothing sent, or, for an answer that allocates
 * nothing there, the batch as usual. */
Test(batch, an_allocation_that_fails)
{
    static const char *paths[3] = { "/delay/10", "/hang", "/delay/10" };
    struct seen s = { .func = "fetch_batch", .n = 3, .paths = paths, .deadline_ms = 200,
                      .alloc_fail_at = 1 };
    run_call(&s);
    expect_nothing_left(&s);
    if (s.rc == -ENOMEM) {
        cr_assert_eq(nreq, 0, "[alloc-fail] fetch_batch returned -ENOMEM after sending %zu "
                     "requests", nreq);
    } else {
        cr_assert_eq(s.rc, -ETIMEDOUT, "[alloc-fail] with its first allocation failed, "
                     "fetch_batch returned %s: -ENOMEM, or the batch's own result "
                     "(-ETIMEDOUT) if that allocation was not its own", kit_errname(s.rc));
    }
    kit_expect_no_leaks("fetch_batch");
}

/* ---- fetch_retry ----------------------------------------------------------------------- */

static void expect_tries_in_deadline(const struct seen *s)
{
    for (size_t i = 0; i < nreq; i++) {
        cr_assert_lt(req_start[i], s->deadline, "[try-after-deadline] try %zu started %lld ms "
                     "after the start, at or past the deadline (%lld ms): the deadline is "
                     "absolute and does not move when you retry.", i + 1,
                     (long long)(req_start[i] - s->start), (long long)s->deadline_ms);
    }
    cr_assert_leq(s->net, s->deadline_ms + 250, "[deadline-overrun] fetch_retry returned "
                  "after %lld ms, its deadline at %lld ms: a try started before the deadline "
                  "must not run past it (cut it at the sooner of its own allowance and the "
                  "deadline).", (long long)s->elapsed, (long long)s->deadline_ms);
}

static const char *one_hang[1] = { "/hang" };

/* Tries of 100 ms, the deadline at 450 ms: 5 tries (the last one cut at the deadline, 50 ms
 * in), 3 more allowed that must not go out. A busy machine can only make a try end late and
 * leave fewer of them; 2 are left unless the first one comes back after the deadline. */
Test(retry, hung_tries_share_one_deadline)
{
    struct seen s = { .func = "fetch_retry", .n = 1, .paths = one_hang, .deadline_ms = 450,
                      .tries = 8, .try_ms = 100 };
    run_call(&s);
    expect_tries_in_deadline(&s);
    cr_assert_eq(s.rc, -ETIMEDOUT, "[retry-rc] every try of /hang was cut, yet fetch_retry "
                 "returned %s, expected -ETIMEDOUT", kit_errname(s.rc));
    cr_assert_eq(s.f[0].rc, s.rc, "[retry-rc] f->rc is %s, the return value %s",
                 kit_errname(s.f[0].rc), kit_errname(s.rc));
    /* One try only, given its own 100 ms, and back only at the deadline: the machine held it
     * past its end, and no time was left for a second. */
    kit_expect_premise(nreq != 1 || req_deadline[0] >= s.deadline || req_end[0] < s.deadline,
                       "the first try, given 100 ms, came back only at the deadline (450 ms): "
                       "no time was left to try again");
    cr_assert(nreq >= 2 && nreq <= 5, "[retry-count] %zu tries of 100 ms fit in a deadline of "
              "450 ms, expected 5 (fewer on a slow machine, never 1)", nreq);
    cr_assert_geq(s.elapsed, 450, "[retry-early] fetch_retry gave up after %lld ms, before the "
                  "deadline (450 ms), with tries left", (long long)s.elapsed);
    expect_nothing_left(&s);
    kit_expect_no_leaks("fetch_retry");
}

Test(retry, a_try_is_cut_at_the_deadline)
{
    struct seen s = { .func = "fetch_retry", .n = 1, .paths = one_hang, .deadline_ms = 150,
                      .tries = 3, .try_ms = 600 };
    run_call(&s);
    expect_tries_in_deadline(&s);
    cr_assert_eq(s.rc, -ETIMEDOUT, "[retry-rc] fetch_retry returned %s, expected -ETIMEDOUT",
                 kit_errname(s.rc));
    cr_assert_eq(nreq, 1, "[retry-count] %zu tries were sent, expected 1", nreq);
    expect_nothing_left(&s);
    kit_expect_no_leaks("fetch_retry");
}

Test(retry, a_deadline_already_past_sends_nothing)
{
    struct seen s = { .func = "fetch_retry", .n = 1, .paths = one_hang, .deadline_ms = -5,
                      .tries = 3, .try_ms = 100 };
    run_call(&s);
    cr_assert_eq(s.rc, -ETIMEDOUT, "[retry-rc] with the deadline already past, fetch_retry "
                 "returned %s, expected -ETIMEDOUT", kit_errname(s.rc));
    cr_assert_eq(nreq, 0, "[try-after-deadline] with the deadline already past, %zu tries "
                 "were sent", nreq);
    expect_nothing_left(&s);
    kit_expect_no_leaks("fetch_retry");
}

Test(retry, a_deadline_of_now_sends_nothing)
{
    struct seen s = { .func = "fetch_retry", .n = 1, .paths = one_hang, .deadline_ms = 0,
                      .tries = 3, .try_ms = 100 };
    run_call(&s);
    cr_assert_eq(s.rc, -ETIMEDOUT, "[retry-rc] with the deadline now, fetch_retry returned %s, "
                 "expected -ETIMEDOUT", kit_errname(s.rc));
    cr_assert_eq(nreq, 0, "[try-after-deadline] with the deadline equal to aio_now(), %zu "
                 "tries were sent: a try at the deadline is already too late", nreq);
    expect_nothing_left(&s);
    kit_expect_no_leaks("fetch_retry");
}

Test(retry, one_try_of_one_millisecond)
{
    struct seen s = { .func = "fetch_retry", .n = 1, .paths = one_hang, .deadline_ms = 100,
                      .tries = 1, .try_ms = 1 };
    run_call(&s);
    cr_assert_eq(nreq, 1, "[retry-count] tries 1 and try_ms 1 are valid: %zu tries sent, "
                 "expected 1", nreq);
    cr_assert_eq(s.rc, -ETIMEDOUT, "[retry-rc] one try of 1 ms of /hang: fetch_retry returned "
                 "%s, expected -ETIMEDOUT", kit_errname(s.rc));
    expect_nothing_left(&s);
    kit_expect_no_leaks("fetch_retry");
}

/* Which statuses are retried: 500 and 599 are, 499 is not. */
Test(retry, the_edges_of_five_hundred)
{
    static const char *p500[1] = { "/status/500" };
    static const char *p599[1] = { "/status/599" };
    static const char *p499[1] = { "/status/499" };
    const char **paths[3] = { p500, p599, p499 };
    long want_tries[3] = { 2, 2, 1 };
    long want_status[3] = { 500, 599, 499 };

    for (int k = 0; k < 3; k++) {
        struct seen s = { .func = "fetch_retry", .n = 1, .paths = paths[k],
                          .deadline_ms = 3000, .tries = 2, .try_ms = 1000 };
        run_call(&s);
        cr_assert_eq((long)nreq, want_tries[k], "[retry-count] %s with 2 tries allowed: %zu "
                     "sent, expected %ld (5xx is 500 to 599: retried; anything else: an "
                     "answer)", paths[k][0], nreq, want_tries[k]);
        cr_assert(s.rc == 0 && s.f[0].resp.status == want_status[k], "[retry-answer] %s: "
                  "fetch_retry returned %s with status %ld", paths[k][0], kit_errname(s.rc),
                  s.f[0].resp.status);
        expect_nothing_left(&s);
    }
    kit_expect_no_leaks("fetch_retry");
}

Test(retry, answered_at_once)
{
    static const char *paths[1] = { "/delay/20" };
    struct seen s = { .func = "fetch_retry", .n = 1, .paths = paths, .deadline_ms = 3000,
                      .tries = 4, .try_ms = 1000 };
    run_call(&s);
    cr_assert_eq(s.rc, 0, "[retry-rc] fetch_retry of /delay/20 returned %s", kit_errname(s.rc));
    cr_assert_eq(nreq, 1, "[retry-count] an answer at the first try, yet %zu tries", nreq);
    cr_assert(s.f[0].resp.status == 200 && s.f[0].resp.body != NULL &&
                  strstr(s.f[0].resp.body, "tag=0") != NULL,
              "[retry-answer] f->resp holds status %ld, expected 200 and the body",
              s.f[0].resp.status);
    cr_assert_eq(s.f[0].done, 1, "[retry-rc] f->done is %d, expected 1", s.f[0].done);
    expect_nothing_left(&s);
    kit_expect_no_leaks("fetch_retry");
}

Test(retry, five_hundreds_are_retried_until_the_tries_run_out)
{
    static const char *paths[1] = { "/status/503" };
    struct seen s = { .func = "fetch_retry", .n = 1, .paths = paths, .deadline_ms = 3000,
                      .tries = 3, .try_ms = 1000 };
    run_call(&s);
    cr_assert_eq(nreq, 3, "[retry-count] /status/503 three tries allowed: %zu sent", nreq);
    cr_assert_eq(s.rc, 0, "[retry-rc] tries used up on 503 answers: fetch_retry returned %s, "
                 "expected 0 with the last answer", kit_errname(s.rc));
    cr_assert_eq(s.f[0].resp.status, 503, "[retry-answer] f->resp holds status %ld, expected "
                 "the last 503", s.f[0].resp.status);
    expect_nothing_left(&s);
    kit_expect_no_leaks("fetch_retry");
}

Test(retry, a_client_error_is_not_retried)
{
    static const char *paths[1] = { "/status/404" };
    struct seen s = { .func = "fetch_retry", .n = 1, .paths = paths, .deadline_ms = 3000,
                      .tries = 5, .try_ms = 1000 };
    run_call(&s);
    cr_assert_eq(nreq, 1, "[retry-count] a 404 is an answer, not a failure: %zu tries sent",
                 nreq);
    cr_assert(s.rc == 0 && s.f[0].resp.status == 404, "[retry-answer] fetch_retry returned "
              "%s with status %ld, expected 0 and 404", kit_errname(s.rc), s.f[0].resp.status);
    expect_nothing_left(&s);
    kit_expect_no_leaks("fetch_retry");
}

Test(retry, bad_arguments_send_nothing)
{
    struct seen s = { .func = "fetch_retry", .n = 1, .paths = one_hang, .deadline_ms = 1000,
                      .tries = 0, .try_ms = 100 };
    run_call(&s);
    cr_assert_eq(s.rc, -EINVAL, "[retry-args] tries 0 gave %s, expected -EINVAL",
                 kit_errname(s.rc));
    cr_assert_eq(nreq, 0, "[retry-args] tries 0 sent %zu requests", nreq);
    s.tries = 2;
    s.try_ms = 0;
    run_call(&s);
    cr_assert_eq(s.rc, -EINVAL, "[retry-args] try_ms 0 gave %s, expected -EINVAL",
                 kit_errname(s.rc));
    cr_assert_eq(nreq, 0, "[retry-args] try_ms 0 sent %zu requests", nreq);
    kit_expect_no_leaks("fetch_retry");
}
