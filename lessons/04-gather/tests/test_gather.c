/* Lesson 04 tests, part one: gather() and first_completed() against delayd. Evidence: which
 * answer landed in which reply (delayd echoes each request's tag), the order the requests
 * finished in (a wrapper around aio_http_get), the requests in flight at once as the client
 * made them and as the server saw them, the requests still running when the call returned,
 * the losers' transfers leaving the server (its in_flight and its 200s), every task joined,
 * waits that are not waits (polling, blocking sleeps), leaks, and time against theory with a
 * wide ratio both ways. Delays are shuffled from the seed, so the answers come back in an
 * order other than the one asked; the seed is in every message that depends on it. */
#include "counted.h"
#include "gather.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit_test.h"

#define WATCHDOG_MS 1000        /* past the batch's deadline (and the time the busy machine
                                 * kept the test from a CPU): the run is stuck */
#define REFUSED_URL "http://127.0.0.1:1/refused"   /* nothing listens on port 1 */
#define BAD_URL "nosuch://127.0.0.1/unsupported"   /* curl refuses it: -EINVAL */
#define LOSER_MS 1100           /* a loser's delay: long enough for delayd to see it go (over 1 s) */
#define SLOW_RATIO 2.0          /* a call may take this much of its theory time... */
#define SLOW_PAD_S 0.15         /* ... plus this */
#define FAST_RATIO 0.85         /* and never less than this of it */
#define MAX_POLLS 4             /* waits besides joins and parks a right answer may make */

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

TestSuite(gather, .init = setup, .fini = teardown, .timeout = 15);
TestSuite(first, .init = setup, .fini = teardown, .timeout = 15);
TestSuite(mine, .init = setup, .fini = teardown, .timeout = 15);

/* ---- a batch ------------------------------------------------------------------------------ */

enum call { CALL_GATHER, CALL_FIRST, CALL_MINE };

struct batch {
    enum call call;
    enum gather_policy policy;
    size_t n;
    char **url;
    int *delay;             /* /delay's delay of each request, -1 for another URL */
    int *tag;               /* the tag of each /delay URL (repeats share one), -1 otherwise */
    int64_t deadline_ms;
    struct reply *r;
    aio_http *client;
    int rc;
    int returned;
    int stalled;            /* the watchdog had to cancel it */
    double wall_s;
    double busy_s;          /* of it, time the machine kept the test and server from a CPU */
    long inflight_at_return; /* requests still running when the call returned */
    size_t unjoined_at_return;
    long server_left;       /* the server's in_flight once it settled after the call */
    int64_t started_at;     /* aio_now() as the call began */
    long fail_spawn_at, fail_alloc_at;
    int cancel_in_flight;   /* 1: the test cancels the caller's task once all n are in flight */
    struct kit_wait in_flight; /* that wait: every request in flight (or the call returned) */
};

static struct batch *batch_new(enum call call, size_t n)
{
    struct batch *b = kit_alloc(sizeof *b);

    b->call = call;
    b->policy = GATHER_RETURN_ERRORS;
    b->n = n;
    b->url = kit_alloc_array(n, sizeof *b->url);
    b->delay = kit_alloc_array(n, sizeof *b->delay);
    b->tag = kit_alloc_array(n, sizeof *b->tag);
    b->r = kit_alloc_array(n, sizeof *b->r);
    b->deadline_ms = 2500;
    b->rc = -12345;
    return b;
}

static void set_delay(struct batch *b, size_t i, int ms)
{
    b->url[i] = kit_sprintf("%s/delay/%d?tag=%zu", base, ms, i);
    b->delay[i] = ms;
    b->tag[i] = (int)i;
}

static void set_url(struct batch *b, size_t i, const char *url)
{
    b->url[i] = kit_sprintf("%s", url);
    b->delay[i] = -1;
    b->tag[i] = -1;
}

/* Request j repeats request i's URL (a copy of the string: a separate pointer). */
static void set_repeat(struct batch *b, size_t j, size_t i)
{
    b->url[j] = kit_sprintf("%s", b->url[i]);
    b->delay[j] = b->delay[i];
    b->tag[j] = b->tag[i];
}

/* Delays lo, lo+step, ... given to the first n requests in a shuffled order. */
static void shuffled_delays(struct batch *b, size_t n, int lo, int step, uint32_t *rng)
{
    size_t *order = kit_alloc_array(n, sizeof *order);
    kit_shuffle(order, n, rng);
    for (size_t i = 0; i < n; i++)
        set_delay(b, i, lo + step * (int)order[i]);
}

static void free_batch(void *arg)
{
    struct batch *b = arg;
    replies_free(b->r, b->n);
}

static int runner(void *arg)
{
    struct batch *b = arg;
    double t0 = kit_wall(), busy0 = kit_starved_s();

    b->started_at = aio_now();
    spawn_calls = 0;
    spawn_fail_at = b->fail_spawn_at;
    alloc_calls = 0;
    alloc_fail_task = b->fail_alloc_at > 0 ? aio_current() : NULL;
    alloc_fail_at = b->fail_alloc_at;
    if (b->call == CALL_GATHER)
        b->rc = gather(b->client, b->r, b->n, b->policy, aio_now() + b->deadline_ms);
    else if (b->call == CALL_FIRST)
        b->rc = first_completed(b->client, b->r, b->n, aio_now() + b->deadline_ms);
    else
        b->rc = first_completed_mine(b->client, b->r, b->n, aio_now() + b->deadline_ms);
    alloc_fail_task = NULL;
    spawn_fail_at = 0;
    b->wall_s = kit_wall() - t0;
    b->busy_s = kit_starved_s() - busy0;
    b->returned = 1;
    b->inflight_at_return = inflight;
    b->unjoined_at_return = tasks_unjoined();
    return 0;
}

static int batch_main(void *arg)
{
    struct batch *b = arg;
    aio_task *t;

    b->client = aio_http_new();
    if (b->client == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < b->n; i++)
        b->r[i].url = b->url[i];
    watching = 1;
    t = __real_aio_spawn(runner, b);
    if (t == NULL) {
        watching = 0;
        aio_http_free(b->client);
        return -ENOMEM;
    }
    if (b->cancel_in_flight) {
        b->in_flight.what = "every request to be in flight";
        kit_wait_until(&b->in_flight, inflight >= (long)b->n || b->returned,
                       __real_aio_sleep(1));
        aio_cancel(t);
    }
    if (join_watched(t, b->deadline_ms + WATCHDOG_MS) == -ETIMEDOUT) {
        /* Stuck: cancel it and every task it spawned, so that the test can say why. */
        b->stalled = 1;
        for (size_t i = 0; i < ntasks; i++)
            if (!tasks_joined[i] && !task_finished(i))
                aio_cancel(tasks_seen[i]);
        aio_cancel(t);
        __real_aio_join(t, AIO_NEVER);
    }
    watching = 0;
    /* What the server still serves, once it had the time to notice the clients gone (it
     * notices a hang-up on sleeps of 1 s and more within milliseconds). Read before the
     * client is freed: freeing it closes every connection it holds. The wait may last until
     * just before a loser, sent after the call began, could end by itself (a busy machine
     * slows the server's notice, never the verdict), and at least 0.5 s. */
    struct kit_stats st = { .in_flight = -1 };
    int64_t settle_by = b->started_at + LOSER_MS - 50;
    struct kit_wait settled = { .what = "the server to settle",
                                .bound_s = settle_by - aio_now() > 500
                                               ? (double)(settle_by - aio_now()) / 1000.0 : 0.5 };
    kit_wait_until(&settled,
                   kit_stats_get(base, &st) == 0 && st.in_flight == b->inflight_at_return,
                   __real_aio_sleep(10));
    b->server_left = st.in_flight;
    /* Tasks it left running: cancelled and joined here so the loop can end. */
    for (size_t i = 0; i < ntasks; i++)
        if (!tasks_joined[i] && !task_finished(i))
            aio_cancel(tasks_seen[i]);
    for (size_t i = 0; i < ntasks; i++)
        if (!tasks_joined[i])
            __real_aio_join(tasks_seen[i], AIO_NEVER);
    aio_http_free(b->client);
    return 0;
}

static int run_batch(struct batch *b)
{
    counted_reset();
    kit_defer(free_batch, b);
    cr_assert_eq(kit_stats_reset(base), 0, "[server] could not reset the server's counts");
    int rc = aio_run(batch_main, b);
    cr_assert_eq(rc, 0, "[runtime] the test's own loop failed: %s", kit_errname(rc));
    return b->rc;
}

/* How many times request i was sent (its url pointer seen by aio_http_get). */
static int sent_count(const struct batch *b, size_t i)
{
    int c = 0;
    for (size_t k = 0; k < nreq; k++)
        c += urls_seen[k] == b->url[i];
    return c;
}

/* The tag delayd echoed in reply i's body, or -1. */
static int body_tag(const struct reply *r)
{
    const char *p = r->resp.body != NULL ? strstr(r->resp.body, "\"query\":\"tag=") : NULL;
    return p != NULL ? atoi(p + strlen("\"query\":\"tag=")) : -1;
}

static const char *fname(const struct batch *b)
{
    return b->call == CALL_GATHER ? "gather"
           : b->call == CALL_FIRST ? "first_completed"
                                   : "first_completed_mine (on your done_queue)";
}

/* What every call shares: it returned, ended and joined everything, never polled. */
static void expect_ended(struct batch *b, const char *what)
{
    cr_assert(!b->stalled, "[stall] %s: %s had not returned %d ms after the batch's deadline "
              "(not counting the time the busy machine kept the test from a CPU); the test "
              "cancelled it. Does some wait ignore the deadline?", what, fname(b),
              WATCHDOG_MS);
    cr_assert_eq(b->inflight_at_return, 0, "[outlived] %s: %s returned while %ld %s still in "
                 "flight. Every request must have ended (answered, failed or cancelled and "
                 "joined) before the call returns.", what, fname(b), b->inflight_at_return,
                 kit_plural(b->inflight_at_return, "request was", "requests were"));
    cr_assert_eq(b->unjoined_at_return, 0, "[never-joined] %s: %s returned with %zu of its %zu "
                 "tasks never joined. Join every task you spawn before you return.", what,
                 fname(b), b->unjoined_at_return, ntasks);
    cr_assert_eq(blocking_calls, 0, "[blocking-sleep] %s: %s called sleep/usleep/nanosleep %ld "
                 "%s: that stops every task. Wait with the runtime instead.", what, fname(b),
                 blocking_calls, kit_plural(blocking_calls, "time", "times"));
    cr_assert_leq(polls, MAX_POLLS, "[polling] %s: %s called aio_sleep/aio_yield %ld times: "
                  "it polls. Wait for the tasks themselves (aio_group_wait, aio_join_any).",
                  what, fname(b), polls);
}

/* Each request i with a delay was sent once, and reply i holds its answer. */
static void expect_answer(struct batch *b, size_t i, const char *what, unsigned seed)
{
    struct reply *r = &b->r[i];

    cr_assert_eq(r->url, b->url[i], "[url-changed] %s: reply %zu's url was changed; the "
                 "replies' urls are inputs, each reply stays where it was.", what, i);
    cr_assert_eq(r->rc, 0, "[reply-error] %s: reply %zu (%s) has rc %s; expected its answer, "
                 "200 after %d ms (seed %u).", what, i, b->url[i], kit_errname(r->rc),
                 b->delay[i], seed);
    cr_assert_eq(r->resp.status, 200, "[reply-status] %s: reply %zu has status %ld; expected "
                 "200 (seed %u).", what, i, r->resp.status, seed);
    int tag = body_tag(r);
    cr_assert_eq(tag, b->tag[i], "[completion-order] %s: reply %zu holds the answer for tag=%d, "
                 "expected tag=%d. Each reply must keep the answer to its own URL: results in "
                 "submission order, whatever order they finished in (seed %u).", what, i, tag,
                 b->tag[i], seed);
    cr_assert(r->done, "[reply-not-done] %s: reply %zu has an answer but done is 0: was it "
              "fetched with reply_fetch()?", what, i);
}

static void expect_sent_once(struct batch *b, const char *what)
{
    for (size_t i = 0; i < b->n; i++) {
        int c = sent_count(b, i);
        cr_assert_eq(c, 1, "[sent-count] %s: request %zu (%s) was sent %d times; each reply is "
                     "fetched exactly once (repeated URLs too).", what, i, b->url[i], c);
    }
}

static void expect_all_at_once(struct batch *b, const char *what)
{
    struct kit_stats st;
    long want = 0;
    int shortest_ms = -1;
    for (size_t i = 0; i < b->n; i++) {
        if (b->delay[i] < 0)
            continue;
        want++;
        if (shortest_ms < 0 || b->delay[i] < shortest_ms)
            shortest_ms = b->delay[i];
    }
    cr_assert_eq(kit_stats_get(base, &st), 0, "[server] could not read the server's /stats");
    kit_expect_not_starved(b->busy_s, (long)b->n, inflight_peak, shortest_ms / 1000.0,
                           "the requests in flight at once");
    kit_expect_not_starved(b->busy_s, want, st.peak, shortest_ms / 1000.0,
                           "the server's peak in flight");
    cr_assert_eq(inflight_peak, (long)b->n, "[not-concurrent] %s: at most %ld of the %zu "
                 "requests were in flight at once; %s asks them all at once.", what,
                 inflight_peak, b->n, fname(b));
    cr_assert_eq(st.peak, want, "[not-concurrent] %s: the server saw at most %ld requests at "
                 "once; expected all %ld of them at once.", what, st.peak, want);
}

static void expect_time(struct batch *b, double theory_s, const char *what, unsigned seed)
{
    cr_assert_geq(b->wall_s, FAST_RATIO * theory_s, "[too-soon] %s: %s returned after %.3f s; "
                  "the answers it must wait for take %.3f s (seed %u).", what, fname(b),
                  b->wall_s, theory_s, seed);
    cr_assert_leq(b->wall_s - b->busy_s, SLOW_RATIO * theory_s + SLOW_PAD_S,
                  "[slow] %s: %s took %.3f s (less the time the busy machine kept it from a CPU); "
                  "expected about %.3f s. Does it wait for something it need not, or one "
                  "request after another (seed %u)?", what, fname(b), b->wall_s, theory_s, seed);
}

static int max_delay(const struct batch *b)
{
    int m = 0;
    for (size_t i = 0; i < b->n; i++)
        m = b->delay[i] > m ? b->delay[i] : m;
    return m;
}

/* The answers came back in an order other than the one asked (the test's own premise). */
static void expect_shuffled_finish(const char *what, unsigned seed)
{
    int inorder = 1;
    for (size_t k = 1; k < nreq; k++)
        inorder &= req_end[k] >= req_end[k - 1];
    cr_assert(!inorder || nreq < 3, "[test-setup] %s: the requests finished in the order they "
              "were sent, so this run cannot tell the orders apart; run again (seed %u).", what,
              seed);
}

/* ---- gather --------------------------------------------------------------------------------- */

static void gather_in_order(size_t n, enum gather_policy policy, int step, const char *what)
{
    unsigned seed = kit_seed();
    uint32_t rng = seed;
    struct batch *b = batch_new(CALL_GATHER, n);

    b->policy = policy;
    shuffled_delays(b, n, 100, step, &rng);
    /* Two requests repeat earlier URLs: same delay, same tag, same answer. */
    set_repeat(b, n - 2, 3);
    set_repeat(b, n - 1, 0);
    int rc = run_batch(b);
    kit_expect_done(rc, "gather", "gather.c");
    expect_ended(b, what);
    cr_assert_eq(rc, 0, "[gather-rc] %s: gather returned %s; every request succeeded, so 0 "
                 "(seed %u).", what, kit_errname(rc), seed);
    expect_sent_once(b, what);
    for (size_t i = 0; i < n; i++)
        expect_answer(b, i, what, seed);
    expect_all_at_once(b, what);
    expect_time(b, max_delay(b) / 1000.0, what, seed);
    expect_shuffled_finish(what, seed);
    kit_expect_no_leaks("gather");
}

Test(gather, thirteen_in_submission_order)
{
    gather_in_order(13, GATHER_RETURN_ERRORS, 10, "13 requests, shuffled delays, return_errors");
}

Test(gather, thirty_three_first_error_policy_without_errors)
{
    gather_in_order(33, GATHER_FIRST_ERROR, 4, "33 requests, shuffled delays, first_error");
}

Test(gather, the_largest_batch)
{
    gather_in_order(GATHER_MAX, GATHER_RETURN_ERRORS, 2, "64 requests, return_errors");
}

Test(gather, return_errors_keeps_every_result)
{
    const char *what = "13 requests, three of them failing, return_errors";
    unsigned seed = kit_seed();
    uint32_t rng = seed;
    struct batch *b = batch_new(CALL_GATHER, 13);

    shuffled_delays(b, 13, 40, 15, &rng);
    set_url(b, 2, REFUSED_URL);
    set_url(b, 6, BAD_URL);
    b->url[9] = kit_sprintf("%s/status/503", base);
    b->delay[9] = -1;
    b->tag[9] = -1;
    int rc = run_batch(b);
    kit_expect_done(rc, "gather", "gather.c");
    expect_ended(b, what);
    for (size_t i = 0; i < b->n; i++)
        cr_assert_neq(b->r[i].rc, -ECANCELED, "[dropped-results] %s: reply %zu was cancelled "
                      "(rc -ECANCELED). With GATHER_RETURN_ERRORS a failure cancels nothing: "
                      "every request runs to its end and keeps its own result (seed %u).",
                      what, i, seed);
    cr_assert_eq(rc, 0, "[return-errors-rc] %s: gather returned %s; with GATHER_RETURN_ERRORS "
                 "the errors stay in the replies and gather returns 0.", what,
                 kit_errname(rc));
    cr_assert_eq(b->r[2].rc, -ECONNREFUSED, "[error-lost] %s: reply 2 (nobody listens) has rc "
                 "%s; expected -ECONNREFUSED, its own error.", what, kit_errname(b->r[2].rc));
    cr_assert_eq(b->r[6].rc, -EINVAL, "[error-lost] %s: reply 6 (a malformed URL) has rc %s; "
                 "expected -EINVAL, its own error.", what, kit_errname(b->r[6].rc));
    cr_assert(b->r[9].rc == 0 && b->r[9].resp.status == 503, "[status-is-an-answer] %s: reply 9 "
              "(/status/503) has rc %s and status %ld; a status is an answer: rc 0, 503.",
              what, kit_errname(b->r[9].rc), b->r[9].resp.status);
    expect_sent_once(b, what);
    for (size_t i = 0; i < b->n; i++)
        if (b->delay[i] >= 0)
            expect_answer(b, i, what, seed);
    expect_time(b, max_delay(b) / 1000.0, what, seed);
    kit_expect_no_leaks("gather");
}

static void first_error_cancels(size_t n, size_t bad, const char *url, int want,
                                const char *what)
{
    unsigned seed = kit_seed();
    struct batch *b = batch_new(CALL_GATHER, n);

    b->policy = GATHER_FIRST_ERROR;
    for (size_t i = 0; i < n; i++)
        set_delay(b, i, LOSER_MS + (int)i);
    set_url(b, bad, url);
    int rc = run_batch(b);
    kit_expect_done(rc, "gather", "gather.c");
    expect_ended(b, what);
    cr_assert_eq(rc, want, "[first-error] %s: gather returned %s; with GATHER_FIRST_ERROR it "
                 "returns the first request's error, %s.", what, kit_errname(rc),
                 kit_errname(want));
    cr_assert_eq(b->r[bad].rc, want, "[error-lost] %s: the failing reply %zu has rc %s; "
                 "expected %s.", what, bad, kit_errname(b->r[bad].rc), kit_errname(want));
    for (size_t i = 0; i < n; i++) {
        if (i == bad)
            continue;
        cr_assert_eq(b->r[i].rc, -ECANCELED, "[not-cancelled] %s: reply %zu has rc %s (status "
                     "%ld); the first error must cancel every request still in flight, and a "
                     "cancelled reply says -ECANCELED.", what, i, kit_errname(b->r[i].rc),
                     b->r[i].resp.status);
    }
    cr_assert_lt(b->wall_s - b->busy_s, LOSER_MS / 2000.0,
                 "[not-cancelled] %s: gather took %.3f s; the "
                 "error came at once, and the others take %d ms unless cancelled.", what,
                 b->wall_s, LOSER_MS);
    cr_assert_eq(b->server_left, 0, "[losers-running] %s: after gather returned the server "
                 "still served %ld requests; a cancelled request's transfer is removed and the "
                 "server sees it go.", what, b->server_left);
    cr_assert_eq(kit_stats_status(base, 200), 0, "[losers-running] %s: the server answered %ld "
                 "requests with 200: they were not cancelled.", what,
                 kit_stats_status(base, 200));
    expect_sent_once(b, what);
    kit_expect_no_leaks("gather");
    (void)seed;
}

Test(gather, first_error_cancels_the_rest)
{
    first_error_cancels(13, 7, REFUSED_URL, -ECONNREFUSED,
                        "13 requests of 1.1 s, request 7 refused, first_error");
}

Test(gather, first_error_at_the_end_of_a_batch_of_seven)
{
    first_error_cancels(7, 6, BAD_URL, -EINVAL, "7 requests of 1.1 s, the last malformed, "
                        "first_error");
}

Test(gather, the_deadline_passes)
{
    const char *what = "5 requests that never answer and 2 of 10 ms, deadline 400 ms";
    struct batch *b = batch_new(CALL_GATHER, 7);

    for (size_t i = 0; i < 7; i++) {
        b->url[i] = kit_sprintf("%s/hang?tag=%zu", base, i);
        b->delay[i] = b->tag[i] = -1;
    }
    set_delay(b, 1, 10);
    set_delay(b, 4, 10);
    b->deadline_ms = 400;   /* 390 ms after the answers are due */
    int rc = run_batch(b);
    kit_expect_done(rc, "gather", "gather.c");
    expect_ended(b, what);
    cr_assert_eq(rc, 0, "[return-errors-rc] %s: gather returned %s; with GATHER_RETURN_ERRORS "
                 "the errors stay in the replies and gather returns 0.", what, kit_errname(rc));
    for (size_t i = 0; i < 7; i++) {
        if (i == 1 || i == 4)
            expect_answer(b, i, what, 0);
        else
            cr_assert_eq(b->r[i].rc, -ETIMEDOUT, "[deadline] %s: reply %zu (/hang) has rc %s; "
                         "each request has the batch's deadline and ends -ETIMEDOUT there.",
                         what, i, kit_errname(b->r[i].rc));
    }
    expect_time(b, 0.400, what, 0);
    cr_assert_eq(b->server_left, 0, "[losers-running] %s: the server still served %ld requests "
                 "after gather returned.", what, b->server_left);
    kit_expect_no_leaks("gather");
}

Test(gather, empty_batch)
{
    struct batch *b = batch_new(CALL_GATHER, 0);
    int rc = run_batch(b);
    kit_expect_done(rc, "gather", "gather.c");
    expect_ended(b, "an empty batch");
    cr_assert_eq(rc, 0, "[empty] an empty batch: gather returned %s, expected 0.",
                 kit_errname(rc));
    cr_assert_eq(nreq, 0, "[empty] an empty batch sent %zu requests.", nreq);
    kit_expect_no_leaks("gather");
}

Test(gather, unknown_policy)
{
    struct batch *b = batch_new(CALL_GATHER, 3);
    for (size_t i = 0; i < 3; i++)
        set_delay(b, i, 10);
    b->policy = (enum gather_policy)7;
    int rc = run_batch(b);
    kit_expect_done(rc, "gather", "gather.c");
    expect_ended(b, "an unknown policy");
    cr_assert_eq(rc, -EINVAL, "[bad-policy] gather with policy 7 returned %s; expected -EINVAL.",
                 kit_errname(rc));
    cr_assert_eq(nreq, 0, "[bad-policy] gather with an unknown policy sent %zu requests; it "
                 "must send nothing.", nreq);
    kit_expect_no_leaks("gather");
}

Test(gather, a_task_that_cannot_be_had)
{
    for (long at = 1; at <= 4; at++) {
        struct batch *b = batch_new(CALL_GATHER, 5);
        for (size_t i = 0; i < 5; i++)
            set_delay(b, i, LOSER_MS);
        b->fail_spawn_at = at;
        int rc = run_batch(b);
        kit_expect_done(rc, "gather", "gather.c");
        expect_ended(b, "spawn failing");
        cr_assert_eq(rc, -ENOMEM, "[no-memory] gather returned %s when the %ld-th aio_spawn "
                     "failed; expected -ENOMEM.", kit_errname(rc), at);
        cr_assert_eq(spawn_calls, at, "[spawn-after-failure] gather called aio_spawn %ld times "
                     "when the %ld-th call failed: once a task cannot be had, start no more.",
                     spawn_calls, at);
        cr_assert_lt(b->wall_s - b->busy_s, LOSER_MS / 2000.0,
                     "[no-memory] gather took %.3f s after a "
                     "failed spawn: the requests already started should be cancelled.",
                     b->wall_s);
        kit_expect_no_leaks("gather");
    }
}

Test(gather, memory_that_cannot_be_had)
{
    for (long at = 1; at <= 4; at++) {
        struct batch *b = batch_new(CALL_GATHER, 5);
        for (size_t i = 0; i < 5; i++)
            set_delay(b, i, 20);
        b->fail_alloc_at = at;
        int rc = run_batch(b);
        kit_expect_done(rc, "gather", "gather.c");
        expect_ended(b, "an allocation failing");
        cr_assert(rc == -ENOMEM || rc == 0, "[no-memory] gather returned %s when allocation %ld "
                  "of its task failed; expected -ENOMEM (or 0, if it did not need that one).",
                  kit_errname(rc), at);
        for (size_t i = 0; rc == 0 && i < 5; i++)
            expect_answer(b, i, "an allocation failing", 0);
        kit_expect_no_leaks("gather");
    }
}

/* ---- first_completed -------------------------------------------------------------------------- */

/* first_completed_mine is given: its -ENOSYS comes from part two's stubs. */
static void expect_call_done(const struct batch *b, int rc)
{
    if (b->call == CALL_MINE)
        kit_expect_done(rc, "first_completed_mine (given) on your dq_body/dq_next/dq_close",
                        "done_queue.c");
    else
        kit_expect_done(rc, "first_completed", "gather.c");
}

static void expect_losers_gone(struct batch *b, size_t winner, const char *what)
{
    for (size_t i = 0; i < b->n; i++) {
        if (i == winner || b->delay[i] < LOSER_MS)
            continue;
        cr_assert_eq(b->r[i].rc, -ECANCELED, "[losers-running] %s: loser %zu has rc %s (status "
                     "%ld); once the answer is in, every request still in flight is cancelled "
                     "(rc -ECANCELED) and ended.", what, i, kit_errname(b->r[i].rc),
                     b->r[i].resp.status);
    }
    cr_assert_lt(b->wall_s - b->busy_s, LOSER_MS / 2000.0,
                 "[losers-running] %s: %s took %.3f s; the first "
                 "answer came much sooner. Did it wait for the losers to finish instead of "
                 "cancelling them?", what, fname(b), b->wall_s);
    cr_assert_eq(b->server_left, 0, "[losers-running] %s: after %s returned the server still "
                 "served %ld requests; cancelled transfers are removed, and the server sees "
                 "them go.", what, fname(b), b->server_left);
}

static void first_wins(enum call call, size_t n, int win_ms, const char *what)
{
    unsigned seed = kit_seed();
    uint32_t rng = seed;
    struct batch *b = batch_new(call, n);
    size_t w = kit_rand(&rng) % n;

    for (size_t i = 0; i < n; i++)
        set_delay(b, i, LOSER_MS + (int)(kit_rand(&rng) % 300));
    set_delay(b, w, win_ms);
    /* A loser repeats another loser's URL. */
    set_repeat(b, (w + 2) % n, (w + 1) % n);
    int rc = run_batch(b);
    expect_call_done(b, rc);
    expect_ended(b, what);
    cr_assert_eq(rc, (int)w, "[wrong-winner] %s: %s returned %s; mirror %zu "
                 "answered first, after %d ms (seed %u).", what, fname(b), kit_errname(rc), w, win_ms,
                 seed);
    expect_answer(b, w, what, seed);
    expect_losers_gone(b, w, what);
    expect_all_at_once(b, what);
    expect_sent_once(b, what);
    cr_assert_eq(kit_stats_status(base, 200), 1, "[losers-running] %s: the server answered %ld "
                 "requests with 200; only the winner should have been answered.", what,
                 kit_stats_status(base, 200));
    expect_time(b, win_ms / 1000.0, what, seed);
    kit_expect_no_leaks("first_completed");
}

Test(first, the_fastest_of_thirteen_wins)
{
    first_wins(CALL_FIRST, 13, 100, "13 mirrors, one of 100 ms, the others 1.1 to 1.4 s");
}

Test(first, the_fastest_of_thirty_three_wins)
{
    first_wins(CALL_FIRST, 33, 150, "33 mirrors, one of 150 ms, the others 1.1 to 1.4 s");
}

Test(first, failures_are_not_answers)
{
    const char *what = "7 mirrors: two 503s, one refused, one malformed, one of 150 ms";
    struct batch *b = batch_new(CALL_FIRST, 7);

    b->url[0] = kit_sprintf("%s/status/503", base);
    b->delay[0] = b->tag[0] = -1;
    set_url(b, 1, REFUSED_URL);
    set_delay(b, 2, LOSER_MS);
    b->url[3] = kit_sprintf("%s/status/503", base);
    b->delay[3] = b->tag[3] = -1;
    set_url(b, 4, BAD_URL);
    set_delay(b, 5, 150);
    set_delay(b, 6, LOSER_MS + 200);
    int rc = run_batch(b);
    kit_expect_done(rc, "first_completed", "gather.c");
    expect_ended(b, what);
    cr_assert_eq(rc, 5, "[failed-winner] %s: first_completed returned %s; mirror 5 gave the "
                 "first useful answer (rc 0 and status 200). A mirror that failed, or answered "
                 "with another status, is not the answer: wait on for the others.", what,
                 kit_errname(rc));
    expect_answer(b, 5, what, 0);
    cr_assert(b->r[0].rc == 0 && b->r[0].resp.status == 503 && b->r[3].rc == 0 &&
              b->r[3].resp.status == 503, "[failure-overwritten] %s: the 503 mirrors have rc "
              "%s/%s and status %ld/%ld; a failed mirror keeps its own result (rc 0, 503).",
              what, kit_errname(b->r[0].rc), kit_errname(b->r[3].rc), b->r[0].resp.status,
              b->r[3].resp.status);
    cr_assert(b->r[1].rc == -ECONNREFUSED && b->r[4].rc == -EINVAL, "[failure-overwritten] %s: "
              "the refused and malformed mirrors have rc %s and %s; expected -ECONNREFUSED and "
              "-EINVAL, their own errors.", what, kit_errname(b->r[1].rc),
              kit_errname(b->r[4].rc));
    expect_losers_gone(b, 5, what);
    expect_sent_once(b, what);
    expect_time(b, 0.150, what, 0);
    kit_expect_no_leaks("first_completed");
}

Test(first, every_mirror_fails)
{
    const char *what = "3 mirrors that all fail";
    struct batch *b = batch_new(CALL_FIRST, 3);

    b->url[0] = kit_sprintf("%s/status/503", base);
    b->delay[0] = b->tag[0] = -1;
    set_url(b, 1, REFUSED_URL);
    b->url[2] = kit_sprintf("%s/status/404", base);
    b->delay[2] = b->tag[2] = -1;
    int rc = run_batch(b);
    kit_expect_done(rc, "first_completed", "gather.c");
    expect_ended(b, what);
    cr_assert_eq(rc, -EIO, "[no-answer] %s: first_completed returned %s; with no useful answer "
                 "and the deadline far, it returns -EIO.", what, kit_errname(rc));
    cr_assert(b->r[0].resp.status == 503 && b->r[1].rc == -ECONNREFUSED &&
              b->r[2].resp.status == 404, "[failure-overwritten] %s: the replies are %s/%ld, "
              "%s, %s/%ld; each keeps its own result (503, -ECONNREFUSED, 404).", what,
              kit_errname(b->r[0].rc), b->r[0].resp.status, kit_errname(b->r[1].rc),
              kit_errname(b->r[2].rc), b->r[2].resp.status);
    expect_sent_once(b, what);
    kit_expect_no_leaks("first_completed");
}

static void deadline_case(size_t n, size_t hung, const char *what)
{
    struct batch *b = batch_new(CALL_FIRST, n);

    for (size_t i = 0; i < n; i++) {
        if (i == hung || hung >= n)
            b->url[i] = kit_sprintf("%s/hang?tag=%zu", base, i);
        else if (i % 2 == 0)
            b->url[i] = kit_sprintf("%s/status/503", base);
        else
            b->url[i] = kit_sprintf("%s", REFUSED_URL);
        b->delay[i] = b->tag[i] = -1;
    }
    b->deadline_ms = 150;
    int rc = run_batch(b);
    kit_expect_done(rc, "first_completed", "gather.c");
    expect_ended(b, what);
    cr_assert_eq(rc, -ETIMEDOUT, "[deadline] %s: first_completed returned %s; no useful answer "
                 "came before the deadline, so -ETIMEDOUT (-EIO is for mirrors that all "
                 "answered, and failed).", what, kit_errname(rc));
    expect_time(b, 0.150, what, 0);
    cr_assert_eq(b->server_left, 0, "[losers-running] %s: the server still served %ld requests "
                 "after first_completed returned.", what, b->server_left);
    kit_expect_no_leaks("first_completed");
}

Test(first, the_deadline_passes)
{
    deadline_case(5, 5, "5 mirrors that never answer, deadline 150 ms");
    deadline_case(3, 0, "3 mirrors: the first never answers, a 503 and a refused one, deadline "
                  "150 ms");
    deadline_case(4, 3, "4 mirrors: a 503, a refused one, a 503, and the last never answers, "
                  "deadline 150 ms");
}

Test(first, one_mirror_and_the_last_of_two)
{
    const char *what = "1 mirror of 30 ms";
    struct batch *b = batch_new(CALL_FIRST, 1);
    set_delay(b, 0, 30);
    int rc = run_batch(b);
    kit_expect_done(rc, "first_completed", "gather.c");
    expect_ended(b, what);
    cr_assert_eq(rc, 0, "[wrong-winner] %s: first_completed returned %s; the only mirror "
                 "answered, so 0.", what, kit_errname(rc));
    expect_answer(b, 0, what, 0);
    expect_sent_once(b, what);
    kit_expect_no_leaks("first_completed");

    what = "2 mirrors: a 503, then one of 30 ms";
    b = batch_new(CALL_FIRST, 2);
    b->url[0] = kit_sprintf("%s/status/503", base);
    b->delay[0] = b->tag[0] = -1;
    set_delay(b, 1, 30);
    rc = run_batch(b);
    expect_ended(b, what);
    cr_assert_eq(rc, 1, "[wrong-winner] %s: first_completed returned %s; mirror 1 gave the only "
                 "useful answer.", what, kit_errname(rc));
    expect_answer(b, 1, what, 0);
    cr_assert(b->r[0].rc == 0 && b->r[0].resp.status == 503, "[failure-overwritten] %s: the 503 "
              "mirror has rc %s and status %ld.", what, kit_errname(b->r[0].rc),
              b->r[0].resp.status);
    kit_expect_no_leaks("first_completed");
}

Test(first, a_cancelled_caller)
{
    const char *what = "5 mirrors of 1.1 s, the caller cancelled while all 5 are in flight";
    struct batch *b = batch_new(CALL_FIRST, 5);
    for (size_t i = 0; i < 5; i++)
        set_delay(b, i, LOSER_MS);
    b->cancel_in_flight = 1;
    int rc = run_batch(b);
    kit_expect_done(rc, "first_completed", "gather.c");
    expect_ended(b, what);
    cr_assert(b->in_flight.met, "[not-concurrent] %s: at most %ld of the 5 requests were in "
              "flight at once in %.1f s (the test cancels the caller once all are); "
              "first_completed asks them all at once.", what, inflight_peak,
              b->in_flight.waited_s);
    cr_assert_eq(rc, -ECANCELED, "[cancel] %s: first_completed returned %s; a cancelled caller "
                 "returns -ECANCELED (after ending every request).", what, kit_errname(rc));
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(b->r[i].rc, -ECANCELED, "[not-cancelled] %s: reply %zu has rc %s; every "
                     "request is cancelled with its caller.", what, i, kit_errname(b->r[i].rc));
    cr_assert_lt(b->wall_s - b->busy_s, LOSER_MS / 2000.0,
                 "[not-cancelled] %s: first_completed took %.3f s.",
                 what, b->wall_s);
    cr_assert_eq(b->server_left, 0, "[losers-running] %s: the server still served %ld requests "
                 "after first_completed returned.", what, b->server_left);
    kit_expect_no_leaks("first_completed");
}

Test(first, no_mirrors)
{
    struct batch *b = batch_new(CALL_FIRST, 0);
    int rc = run_batch(b);
    kit_expect_done(rc, "first_completed", "gather.c");
    expect_ended(b, "no mirrors");
    cr_assert_eq(rc, -EINVAL, "[no-mirrors] first_completed of 0 mirrors returned %s; expected "
                 "-EINVAL.", kit_errname(rc));
    kit_expect_no_leaks("first_completed");
}

Test(first, out_of_memory)
{
    for (long at = 1; at <= 3; at++) {
        struct batch *b = batch_new(CALL_FIRST, 4);
        for (size_t i = 0; i < 4; i++)
            set_delay(b, i, LOSER_MS);
        b->fail_spawn_at = at;
        int rc = run_batch(b);
        kit_expect_done(rc, "first_completed", "gather.c");
        expect_ended(b, "spawn failing");
        cr_assert_eq(rc, -ENOMEM, "[no-memory] first_completed returned %s when the %ld-th "
                     "aio_spawn failed; expected -ENOMEM.", kit_errname(rc), at);
        cr_assert_eq(spawn_calls, at, "[spawn-after-failure] first_completed called aio_spawn "
                     "%ld times when the %ld-th call failed: once a task cannot be had, start no "
                     "more.", spawn_calls, at);
        cr_assert_lt(b->wall_s - b->busy_s, LOSER_MS / 2000.0,
                     "[no-memory] first_completed took %.3f s "
                     "after a failed spawn: the requests already started should be cancelled.",
                     b->wall_s);
        kit_expect_no_leaks("first_completed");
    }
    struct batch *b = batch_new(CALL_FIRST, 4);
    for (size_t i = 0; i < 4; i++)
        set_delay(b, i, 10);
    b->fail_alloc_at = 1;
    int rc = run_batch(b);
    kit_expect_done(rc, "first_completed", "gather.c");
    expect_ended(b, "malloc failing");
    cr_assert(rc == -ENOMEM || rc >= 0, "[no-memory] first_completed returned %s when its first "
              "allocation failed; expected -ENOMEM (or the answer, if it needed none).",
              kit_errname(rc));
    kit_expect_no_leaks("first_completed");
}

/* ---- the same on part two's done queue ------------------------------------------------------- */

Test(mine, the_fastest_of_thirteen_wins)
{
    first_wins(CALL_MINE, 13, 100, "13 mirrors, one of 100 ms, the others 1.1 to 1.4 s");
}

Test(mine, failures_are_not_answers)
{
    const char *what = "5 mirrors: a 503, one refused, one of 120 ms, two of 1.1 s";
    struct batch *b = batch_new(CALL_MINE, 5);

    b->url[0] = kit_sprintf("%s/status/503", base);
    b->delay[0] = b->tag[0] = -1;
    set_url(b, 1, REFUSED_URL);
    set_delay(b, 2, LOSER_MS);
    set_delay(b, 3, 120);
    set_delay(b, 4, LOSER_MS + 100);
    int rc = run_batch(b);
    expect_call_done(b, rc);
    expect_ended(b, what);
    cr_assert_eq(rc, 3, "[wrong-winner] %s: first_completed_mine returned %s; mirror 3 gave the "
                 "first useful answer. Does dq_next hand out the tasks in the order they "
                 "finished?", what, kit_errname(rc));
    expect_answer(b, 3, what, 0);
    expect_losers_gone(b, 3, what);
    expect_time(b, 0.120, what, 0);
    kit_expect_no_leaks("first_completed_mine");
}
