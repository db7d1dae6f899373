/* Lesson 11 tests, part one: retry_worth_it and fetch_retry. The witnesses: every GET, draw and
 * sleep counted and put in order (lesson.mk's LDWRAP), each draw's ceiling and result, each
 * sleep's length, each GET's deadline; the server's own count of each endpoint; the generator's
 * state afterwards (a test replays it with retry_draw, so every pause is known in advance); the
 * runtime's counts the moment fetch_retry returns (no transfer, no timer left); what *out holds.
 * The server runs with --flaky-rate 0.5 --seed 7: the test recomputes which /flaky requests
 * fail from delayd's own rule. */
#include "counted.h"
#include "retry.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kit_test.h"

#define REFUSED "http://127.0.0.1:1/refused"
#define FLAKY_SEED 7
#define FLAKY_RATE 0.5
#define NEVER_ (-1)      /* deadline_in: AIO_NEVER */
#define PAST_ (-2)       /* deadline_in: 1 ms ago */
#define NOW_ (-3)        /* deadline_in: aio_now() itself */

static const char *base;

/* "3 GETs", "1 GET": a count and its noun that agree. */
static const char *count_of(long n, const char *one, const char *many)
{
    return kit_sprintf("%ld %s", n, kit_plural(n, one, many));
}
#define GETS(n) count_of((n), "GET", "GETs")
#define DRAWS(n) count_of((n), "draw", "draws")
#define PAUSES(n) count_of((n), "pause", "pauses")

static void setup(void)
{
    static const char *const args[] = { "--flaky-rate", "0.5", "--seed", "7", NULL };
    base = kit_server_start(args);
}

static void teardown(void)
{
    kit_cleanup();
    kit_server_stop();
}

TestSuite(retry, .init = setup, .fini = teardown, .timeout = 15);

/* ---- delayd's /flaky rule, recomputed ----------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

static int flaky_fails(uint64_t n)
{
    return (double)(mix(FLAKY_SEED ^ mix(n)) >> 11) * 0x1.0p-53 < FLAKY_RATE;
}

/* ---- one call of fetch_retry, from a task ------------------------------------------------ */

enum { CANCEL_NONE, CANCEL_IN_SLEEP, CANCEL_IN_GET };

struct run {
    const char *url;
    struct retry_policy pol;   /* pol.rng points at rng unless no_rng */
    uint32_t rng;
    int no_rng, no_policy, no_client, no_out;
    int64_t deadline_in;       /* ms from the call, or NEVER_, PAST_, NOW_ */
    int draw_to_deadline;      /* 1: every pause drawn ends exactly at the deadline */
    int cancel;
    /* what happened */
    int64_t deadline;          /* the absolute deadline given */
    int rc;
    struct aio_response out;
    struct aio_counts after;
    double wall, starved;
    int waited_ok;
};

static void free_out(void *arg)
{
    aio_response_free(arg);
}

static struct run *new_run(const char *url, int attempts, int64_t base_ms, int64_t cap_ms,
                           int64_t attempt_ms, uint32_t seed)
{
    struct run *r = kit_alloc(sizeof *r);
    r->url = url;
    r->pol = (struct retry_policy){ .attempts = attempts, .base_ms = base_ms,
                                    .cap_ms = cap_ms, .attempt_ms = attempt_ms };
    r->rng = seed != 0 ? seed : 1;
    r->deadline_in = NEVER_;
    r->rc = -12345;
    kit_defer(free_out, &r->out);
    return r;
}

static aio_http *client;

static int call_task(void *arg)
{
    struct run *r = arg;
    if (!r->no_rng)
        r->pol.rng = &r->rng;
    r->out = (struct aio_response){ .status = 777, .body = NULL, .len = 5 };
    int64_t now = aio_now();
    r->deadline = r->deadline_in == NEVER_ ? AIO_NEVER
                  : r->deadline_in == PAST_ ? now - 1
                  : r->deadline_in == NOW_  ? now
                                            : now + r->deadline_in;
    if (r->draw_to_deadline)
        draw_ends_at = r->deadline;
    double t0 = kit_wall(), s0 = kit_starved_s();
    r->rc = fetch_retry(r->no_client ? NULL : client, r->url, r->no_policy ? NULL : &r->pol,
                        r->no_out ? NULL : &r->out, r->deadline);
    r->wall = kit_wall() - t0;
    r->starved = kit_starved_s() - s0;
    aio_counts(&r->after);
    return 0;
}

struct batch {
    struct run **runs;
    size_t n;
};

static int batch_main(void *arg)
{
    struct batch *b = arg;
    aio_task *t[16];

    client = aio_http_new();
    if (client == NULL)
        return -ENOMEM;
    counted_reset();
    watching = 1;
    for (size_t i = 0; i < b->n; i++)
        t[i] = __real_aio_yield() == 0 ? aio_spawn(call_task, b->runs[i]) : NULL;
    struct run *r = b->runs[0];
    if (r->cancel != CANCEL_NONE && t[0] != NULL) {
        struct kit_wait w = { .what = r->cancel == CANCEL_IN_SLEEP ? "a pause to begin"
                                                                   : "a GET to begin" };
        if (r->cancel == CANCEL_IN_SLEEP)
            kit_wait_until(&w, sleeping > 0 || aio_done(t[0]), __real_aio_yield());
        else
            kit_wait_until(&w, gets_in_flight > 0 || aio_done(t[0]), __real_aio_yield());
        r->waited_ok = w.met && !aio_done(t[0]);
        if (r->waited_ok)
            for (int i = 0; i < 3; i++)   /* let the GET reach the server */
                __real_aio_sleep(1);
        aio_cancel(t[0]);
    }
    for (size_t i = 0; i < b->n; i++)
        if (t[i] != NULL)
            aio_join(t[i], AIO_NEVER);
    watching = 0;
    aio_http_free(client);
    client = NULL;
    return 0;
}

static void run_all(struct run **runs, size_t n)
{
    struct batch b = { runs, n };
    cr_assert_eq(aio_run(batch_main, &b), 0, "[harness] the test's loop failed");
    struct aio_counts end;
    cr_assert_eq(aio_counts_at_end(&end), 0, "[harness] no counts at the loop's end");
    cr_assert(end.tasks == 0 && end.timers == 0 && end.descriptors == 0 &&
              end.operations == 0, "[left-behind] at the loop's end: %zu tasks, %zu timers, "
              "%zu descriptors, %zu operations; expected none once every call has returned.",
              end.tasks, end.timers, end.descriptors, end.operations);
    cr_assert_eq(blocking_calls, 0, "[blocking-sleep] fetch_retry called sleep(), usleep() or "
                 "nanosleep() %ld %s: that stops the whole loop. A pause is aio_sleep().",
                 blocking_calls, kit_plural(blocking_calls, "time", "times"));
}

static void run_one(struct run *r)
{
    run_all(&r, 1);
    kit_expect_done(r->rc, "fetch_retry", "retry.c");
}

/* ---- the model: what a right fetch_retry does against a known series of outcomes ----------- */

struct model {
    long gets, draws;
    char events[4 * TRACK_MAX + 1];
    int64_t max[TRACK_MAX], got[TRACK_MAX];
    uint32_t rng;              /* the generator's state afterwards */
};

static int64_t ceiling(int64_t base_ms, int64_t cap_ms, int k)
{
    int64_t c = base_ms;
    for (int i = 1; i < k && c < cap_ms; i++)
        c *= 2;
    return c < cap_ms ? c : cap_ms;
}

/* fails(k) for attempt k = 1, 2, ...; no deadline. */
static void model_series(struct model *m, const struct retry_policy *p, uint32_t rng,
                         int (*fails)(long k, void *ctx), void *ctx)
{
    size_t e = strlen(m->events);
    m->rng = rng;
    for (int k = 1;; k++) {
        m->gets++;
        m->events[e++] = 'G';
        m->events[e++] = 'g';
        if (!fails(k, ctx) || k == p->attempts)
            break;
        int64_t c = ceiling(p->base_ms, p->cap_ms, k);
        if (m->draws < TRACK_MAX) {
            m->max[m->draws] = c;
            m->got[m->draws] = __real_retry_draw(&m->rng, c);
        }
        m->draws++;
        m->events[e++] = 'D';
        m->events[e++] = 'S';
        m->events[e++] = 's';
    }
    m->events[e] = '\0';
}

static int always(long k, void *ctx)
{
    (void)k;
    (void)ctx;
    return 1;
}

static int never(long k, void *ctx)
{
    (void)k;
    (void)ctx;
    return 0;
}

/* What the counters saw against the model: GETs, events in order, each ceiling, each draw,
 * each sleep, the generator's state. what names the scene. */
static void expect_series(const struct model *m, const struct run *r, const char *what)
{
    cr_assert_eq(gets, m->gets, "[attempts] %s: fetch_retry made %ld %s; expected %ld (the "
                 "policy allows %d). Events seen: %s, expected %s (G/g a GET began/ended, D a "
                 "draw, S/s a pause began/ended). %s", what, gets,
                 kit_plural(gets, "GET", "GETs"), m->gets, r->pol.attempts, events, m->events,
                 gets > m->gets ? "Do you retry what cannot change, or past the last attempt?"
                                : "Do you give up on something worth another try?");
    cr_assert_eq(draws, m->draws, "[draws] %s: %ld %s from the generator; expected %ld, one "
                 "before each retry. Events seen: %s, expected %s.", what, draws,
                 kit_plural(draws, "draw", "draws"), m->draws, events, m->events);
    for (long i = 0; i < m->draws && i < TRACK_MAX; i++) {
        cr_assert_eq(draw_max[i], m->max[i], "[ceiling] %s: pause %ld was drawn below %" PRId64
                     " ms; expected min(cap %" PRId64 ", base %" PRId64 " x 2^%ld) = %" PRId64
                     ". The ceiling doubles after each attempt, starting at base, and never "
                     "passes the cap.", what, i + 1, draw_max[i], r->pol.cap_ms,
                     r->pol.base_ms, i, m->max[i]);
        cr_assert_eq(draw_got[i], m->got[i], "[rng] %s: draw %ld gave %" PRId64 " ms; the "
                     "caller's generator should have given %" PRId64 ". Do you draw from "
                     "p->rng itself (not a copy), once a pause?", what, i + 1, draw_got[i],
                     m->got[i]);
    }
    cr_assert_eq(sleeps, m->draws, "[pauses] %s: %ld %s; expected %ld, one after each draw. "
                 "Events seen: %s, expected %s.", what, sleeps,
                 kit_plural(sleeps, "pause", "pauses"), m->draws, events, m->events);
    for (long i = 0; i < sleeps && i < TRACK_MAX; i++)
        cr_assert_eq(sleep_ms[i], draw_got[i], "[pause-length] %s: pause %ld lasted %" PRId64
                     " ms; the draw said %" PRId64 " ms. Sleep exactly what retry_draw gave.",
                     what, i + 1, sleep_ms[i], draw_got[i]);
    cr_assert_str_eq(events, m->events, "[order] %s: the calls came in the order %s; expected "
                     "%s (G/g a GET began/ended, D a draw, S/s a pause began/ended).", what,
                     events, m->events);
    cr_assert_eq(r->rng, m->rng, "[rng] %s: the caller's generator ended in state %" PRIu32
                 "; after %ld %s from it, it should be %" PRIu32 ". Draw from p->rng itself.",
                 what, r->rng, m->draws, kit_plural(m->draws, "draw", "draws"), m->rng);
}

static void expect_clean(const struct run *r, const char *what)
{
    cr_assert(r->after.timers == 0 && r->after.operations == 0, "[left-behind] %s: as "
              "fetch_retry returned, the loop still had %zu %s and %zu %s in flight; it "
              "should leave nothing behind.", what, r->after.timers,
              kit_plural((long)r->after.timers, "timer", "timers"), r->after.operations,
              kit_plural((long)r->after.operations, "transfer", "transfers"));
}

static void expect_empty(const struct run *r, const char *what)
{
    cr_assert(r->out.status == 0 && r->out.body == NULL && r->out.len == 0, "[out-not-empty] "
              "%s: fetch_retry returned %s with *out holding status %ld, body %s, len %zu; on "
              "an error *out must be empty (0, NULL, 0), whatever it held on entry.", what,
              kit_errname(r->rc), r->out.status, r->out.body ? "set" : "NULL", r->out.len);
}

static void expect_answer(const struct run *r, long status, const char *what)
{
    cr_assert_eq(r->rc, 0, "[result] %s: fetch_retry returned %s; expected 0 with the %ld "
                 "answer.", what, kit_errname(r->rc), status);
    cr_assert_eq(r->out.status, status, "[last-answer] %s: *out holds status %ld; expected "
                 "%ld, what the last attempt got.", what, r->out.status, status);
    cr_assert(r->out.body != NULL, "[last-answer] %s: *out has no body; expected the last "
              "answer's.", what);
}

/* ---- retry_worth_it ----------------------------------------------------------------------- */

Test(retry, worth_it)
{
    kit_expect_done(retry_worth_it(0, 200), "retry_worth_it", "retry.c");
    for (long s = 100; s <= 699; s++) {
        int want = s == 429 || (s >= 500 && s <= 599);
        cr_assert_eq(!!retry_worth_it(0, s), want, "[worth-it] retry_worth_it(0, %ld) said %s; "
                     "expected %s. Only 500..599 and 429 may change on another try.", s,
                     retry_worth_it(0, s) ? "yes" : "no", want ? "yes" : "no");
    }
    static const int yes[] = { -ETIMEDOUT, -ECONNREFUSED, -EIO };
    static const int no[] = { -EINVAL, -ECANCELED, -ENOMEM, -EAGAIN, -EPERM, -ECONNRESET };
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        for (long s = 0; s <= 600; s += 200)
            cr_assert(retry_worth_it(yes[i], s), "[worth-it] retry_worth_it(%s, %ld) said no; "
                      "a timeout, a refused or a broken connection is worth another try.",
                      kit_errname(yes[i]), s);
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        for (long s = 0; s <= 600; s += 100)
            cr_assert(!retry_worth_it(no[i], s), "[worth-it] retry_worth_it(%s, %ld) said yes; "
                      "only -ETIMEDOUT, -ECONNREFUSED and -EIO among the errors (and status is "
                      "read only when rc is 0).", kit_errname(no[i]), s);
    kit_expect_no_leaks("retry_worth_it");
}

/* ---- answers that end the series ----------------------------------------------------------- */

Test(retry, first_answer_kept)
{
    struct run *r = new_run(kit_sprintf("%s/delay/0?tag=first", base), 7, 5, 50, 0, 99);
    run_one(r);
    struct model m = { 0 };
    model_series(&m, &r->pol, 99, never, NULL);
    expect_answer(r, 200, "a 200 at once");
    cr_assert(strstr(r->out.body, "tag=first") != NULL, "[last-answer] the body is %s; "
              "expected the answer to %s.", r->out.body, r->url);
    expect_series(&m, r, "a 200 at once");
    cr_assert_eq(kit_stats_endpoint(base, "delay"), 1, "[server-requests] the server saw %s; "
                 "expected 1.", GETS(kit_stats_endpoint(base, "delay")));
    expect_clean(r, "a 200 at once");
    kit_expect_no_leaks("fetch_retry");
}

Test(retry, final_statuses_not_retried)
{
    static const long codes[] = { 200, 201, 204, 400, 401, 403, 404, 418, 451, 499 };
    const size_t n = sizeof codes / sizeof *codes;
    for (size_t i = 0; i < n; i++) {
        struct run *r = new_run(kit_sprintf("%s/status/%ld", base, codes[i]), 5, 1, 3, 0, 5);
        char *what = kit_sprintf("a %ld answer", codes[i]);
        run_one(r);
        struct model m = { 0 };
        model_series(&m, &r->pol, 5, never, NULL);
        cr_assert_eq(r->rc, 0, "[result] %s: fetch_retry returned %s; expected 0 with the "
                     "answer.", what, kit_errname(r->rc));
        cr_assert_eq(r->out.status, codes[i], "[last-answer] %s: *out holds status %ld.", what,
                     r->out.status);
        cr_assert_eq(gets, 1, "[retried-final] %s: fetch_retry made %s; expected 1. The "
                     "same request gets the same %ld: it is not worth another try.", what,
                     GETS(gets), codes[i]);
        expect_series(&m, r, what);
        expect_clean(r, what);
        aio_response_free(&r->out);
    }
    cr_assert_eq(kit_stats_endpoint(base, "status"), (long)n, "[server-requests] the server "
                 "saw %s of /status; expected %zu, one an answer.",
                 GETS(kit_stats_endpoint(base, "status")), n);
    kit_expect_no_leaks("fetch_retry");
}

Test(retry, retryable_statuses_retried)
{
    static const long codes[] = { 500, 502, 503, 599, 429 };
    const size_t n = sizeof codes / sizeof *codes;
    for (size_t i = 0; i < n; i++) {
        struct run *r = new_run(kit_sprintf("%s/status/%ld", base, codes[i]), 3, 2, 5, 0,
                                (uint32_t)(31 + i));
        char *what = kit_sprintf("a %ld, 3 attempts", codes[i]);
        run_one(r);
        struct model m = { 0 };
        model_series(&m, &r->pol, (uint32_t)(31 + i), always, NULL);
        expect_answer(r, codes[i], what);
        char *body = kit_sprintf("status %ld", codes[i]);
        cr_assert(strstr(r->out.body, body) != NULL, "[last-answer] %s: the body is '%s'; "
                  "expected the last answer's, '%s'.", what, r->out.body, body);
        expect_series(&m, r, what);
        expect_clean(r, what);
        aio_response_free(&r->out);
    }
    cr_assert_eq(kit_stats_endpoint(base, "status"), 3 * (long)n, "[server-requests] the "
                 "server saw %s of /status; expected %ld, 3 an answer.",
                 GETS(kit_stats_endpoint(base, "status")), 3 * (long)n);
    kit_expect_no_leaks("fetch_retry");
}

/* ---- the backoff ------------------------------------------------------------------------- */

Test(retry, ceilings_double_to_the_cap)
{
    static const struct { int attempts; int64_t base, cap; } cases[] = {
        { 9, 3, 50 }, { 4, 0, 100 }, { 3, 7, 5 }, { 6, 1, 13 }, { 2, 33, 33 }, { 1, 5, 5 },
        { 5, 3, 13 },
    };
    long total = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint32_t seed = kit_seed() + (uint32_t)i;
        struct run *r = new_run(kit_sprintf("%s/status/503", base), cases[i].attempts,
                                cases[i].base, cases[i].cap, 0, seed);
        char *what = kit_sprintf("%d attempts, base %" PRId64 " ms, cap %" PRId64 " ms "
                                 "(KIT_SEED=%u)", cases[i].attempts, cases[i].base,
                                 cases[i].cap, kit_seed());
        run_one(r);
        struct model m = { 0 };
        model_series(&m, &r->pol, seed != 0 ? seed : 1, always, NULL);
        expect_answer(r, 503, what);
        expect_series(&m, r, what);
        expect_clean(r, what);
        total += cases[i].attempts;
        aio_response_free(&r->out);
    }
    cr_assert_eq(kit_stats_endpoint(base, "status"), total, "[server-requests] the server saw "
                 "%s; expected %ld.", GETS(kit_stats_endpoint(base, "status")), total);
    kit_expect_no_leaks("fetch_retry");
}

Test(retry, hundred_attempts)
{
    struct run *r = new_run(kit_sprintf("%s/status/503", base), RETRY_ATTEMPTS_MAX, 1, 1, 0,
                            kit_seed());
    run_one(r);
    struct model m = { 0 };
    model_series(&m, &r->pol, kit_seed() ? kit_seed() : 1, always, NULL);
    expect_answer(r, 503, "100 attempts, base and cap 1 ms");
    expect_series(&m, r, "100 attempts, base and cap 1 ms");
    cr_assert_eq(kit_stats_endpoint(base, "status"), RETRY_ATTEMPTS_MAX, "[server-requests] "
                 "the server saw %s; expected %d.", GETS(kit_stats_endpoint(base, "status")),
                 RETRY_ATTEMPTS_MAX);
    expect_clean(r, "100 attempts");
    kit_expect_no_leaks("fetch_retry");
}

/* 13 calls in a row on one generator against /flaky, whose every answer the test knows. */
struct flaky_ctx {
    uint64_t next;   /* the server's next /flaky number */
};

static int flaky_next_fails(long k, void *arg)
{
    struct flaky_ctx *f = arg;
    (void)k;
    return flaky_fails(f->next++);
}

Test(retry, flaky_series)
{
    enum { CALLS = 13 };
    struct flaky_ctx f = { 1 };
    uint32_t rng = kit_seed() != 0 ? kit_seed() : 1;
    long total = 0, retried = 0;

    for (int i = 0; i < CALLS; i++) {
        struct run *r = new_run(kit_sprintf("%s/flaky", base), 4, 2, 9, 0, rng);
        char *what = kit_sprintf("call %d of 13 in a row on /flaky, each on the generator the "
                                 "one before left (KIT_SEED=%u)", i + 1, kit_seed());
        struct model m = { 0 };
        model_series(&m, &r->pol, rng, flaky_next_fails, &f);
        long want = flaky_fails(f.next - 1) ? 503 : 200;
        run_one(r);
        expect_answer(r, want, what);
        expect_series(&m, r, what);
        expect_clean(r, what);
        aio_response_free(&r->out);
        rng = r->rng;
        total += m.gets;
        retried += m.gets > 1;
    }
    kit_expect_premise(retried >= 3, "the seeded /flaky sequence should fail often enough");
    cr_assert_eq(kit_stats_endpoint(base, "flaky"), total, "[server-requests] the server saw "
                 "%s of /flaky over the 13 calls; expected %ld: a call stops at its first "
                 "200, or after 4 attempts.", GETS(kit_stats_endpoint(base, "flaky")), total);
    kit_expect_no_leaks("fetch_retry");
}

/* Seven callers at once on one shared generator: the draws, whoever makes them, come from it in
 * turn. */
Test(retry, shared_generator)
{
    enum { N = 7 };
    struct run *runs[N];
    uint32_t seed = kit_seed() != 0 ? kit_seed() : 1;
    struct run *owner = new_run(NULL, 3, 4, 9, 0, seed);
    for (int i = 0; i < N; i++) {
        runs[i] = new_run(kit_sprintf("%s/status/503", base), 3, 4, 9, 0, 1);
        runs[i]->no_rng = 1;
        runs[i]->pol.rng = &owner->rng;
    }
    run_all(runs, N);
    for (int i = 0; i < N; i++) {
        kit_expect_done(runs[i]->rc, "fetch_retry", "retry.c");
        expect_answer(runs[i], 503, "7 callers on one generator");
    }
    cr_assert_eq(gets, 3 * N, "[attempts] 7 callers of 3 attempts made %s; expected %d.",
                 GETS(gets), 3 * N);
    cr_assert_eq(draws, 2 * N, "[draws] 7 callers of 3 attempts made %s; expected %d.",
                 DRAWS(draws), 2 * N);
    uint32_t m = seed;
    for (long i = 0; i < draws; i++) {
        cr_assert(draw_max[i] == 4 || draw_max[i] == 8, "[ceiling] a pause was drawn below %"
                  PRId64 " ms; with base 4 and cap 9 only 4 and 8 are right.", draw_max[i]);
        int64_t want = __real_retry_draw(&m, draw_max[i]);
        cr_assert_eq(draw_got[i], want, "[rng] draw %ld of the shared generator gave %" PRId64
                     "; expected %" PRId64 ". Draw from p->rng itself, not a copy of it.",
                     i + 1, draw_got[i], want);
        cr_assert_eq(sleep_ms[i], draw_got[i], "[pause-length] pause %ld lasted %" PRId64
                     " ms; its draw said %" PRId64 ".", i + 1, sleep_ms[i], draw_got[i]);
    }
    cr_assert_eq(owner->rng, m, "[rng] the shared generator ended in state %" PRIu32 "; "
                 "expected %" PRIu32 " after 14 draws.", owner->rng, m);
    kit_expect_no_leaks("fetch_retry");
}

/* ---- errors -------------------------------------------------------------------------------- */

Test(retry, refused_is_retried)
{
    struct run *r = new_run(REFUSED, 3, 3, 7, 0, 13);
    run_one(r);
    struct model m = { 0 };
    model_series(&m, &r->pol, 13, always, NULL);
    cr_assert_eq(r->rc, -ECONNREFUSED, "[result] a refused connection, 3 attempts: "
                 "fetch_retry returned %s; expected -ECONNREFUSED, what the last attempt got.",
                 kit_errname(r->rc));
    expect_empty(r, "a refused connection");
    expect_series(&m, r, "a refused connection, 3 attempts");
    expect_clean(r, "a refused connection");
    kit_expect_no_leaks("fetch_retry");
}

Test(retry, malformed_url_not_retried)
{
    struct run *r = new_run("http://[::1", 5, 1, 3, 0, 3);
    run_one(r);
    cr_assert_eq(r->rc, -EINVAL, "[result] a malformed URL: fetch_retry returned %s; expected "
                 "-EINVAL.", kit_errname(r->rc));
    cr_assert(gets <= 1 && draws == 0 && sleeps == 0, "[retried-final] a malformed URL: %s, "
              "%s, %s; expected at most 1 GET and nothing else. A malformed URL stays "
              "malformed.", GETS(gets), DRAWS(draws), PAUSES(sleeps));
    expect_empty(r, "a malformed URL");
    expect_clean(r, "a malformed URL");
    kit_expect_no_leaks("fetch_retry");
}

Test(retry, bad_arguments)
{
    const char *url = kit_sprintf("%s/status/503", base);
    static const struct { int attempts; int64_t base, cap, att; const char *what; } bad[] = {
        { 0, 1, 1, 0, "attempts 0" },
        { RETRY_ATTEMPTS_MAX + 1, 1, 1, 0, "attempts RETRY_ATTEMPTS_MAX + 1" },
        { -3, 1, 1, 0, "attempts -3" },
        { 3, -1, 1, 0, "base_ms -1" },
        { 3, RETRY_MS_MAX + 1, RETRY_MS_MAX, 0, "base_ms RETRY_MS_MAX + 1" },
        { 3, 1, -1, 0, "cap_ms -1" },
        { 3, 1, RETRY_MS_MAX + 1, 0, "cap_ms RETRY_MS_MAX + 1" },
        { 3, 1, 1, -1, "attempt_ms -1" },
        { 3, 1, 1, RETRY_MS_MAX + 1, "attempt_ms RETRY_MS_MAX + 1" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad + 5; i++) {
        struct run *r;
        const char *what;
        if (i < sizeof bad / sizeof *bad) {
            r = new_run(url, bad[i].attempts, bad[i].base, bad[i].cap, bad[i].att, 1);
            what = bad[i].what;
        } else {
            r = new_run(url, 3, 1, 1, 0, 1);
            size_t k = i - sizeof bad / sizeof *bad;
            what = (const char *[]){ "p->rng NULL", "p NULL", "c NULL", "url NULL",
                                     "out NULL" }[k];
            r->no_rng = k == 0;
            r->no_policy = k == 1;
            r->no_client = k == 2;
            if (k == 3)
                r->url = NULL;
            r->no_out = k == 4;
        }
        run_one(r);
        cr_assert_eq(r->rc, -EINVAL, "[bad-argument] %s: fetch_retry returned %s; expected "
                     "-EINVAL.", what, kit_errname(r->rc));
        cr_assert(gets == 0 && draws == 0 && sleeps == 0, "[bad-argument] %s: %s, %s, %s; "
                  "expected none.", what, GETS(gets), DRAWS(draws), PAUSES(sleeps));
        if (!r->no_out)
            expect_empty(r, what);
    }
    /* The largest values are fine. */
    struct run *r = new_run(kit_sprintf("%s/status/200", base), RETRY_ATTEMPTS_MAX,
                            RETRY_MS_MAX, RETRY_MS_MAX, RETRY_MS_MAX, 1);
    run_one(r);
    expect_answer(r, 200, "every field at its largest");
    kit_expect_no_leaks("fetch_retry");
}

/* ---- time limits ----------------------------------------------------------------------------- */

Test(retry, attempt_timeout_retried)
{
    struct run *r = new_run(kit_sprintf("%s/hang", base), 3, 5, 11, 150, 21);
    run_one(r);
    struct model m = { 0 };
    model_series(&m, &r->pol, 21, always, NULL);
    cr_assert_eq(r->rc, -ETIMEDOUT, "[result] three attempts of 150 ms at /hang: fetch_retry "
                 "returned %s; expected -ETIMEDOUT.", kit_errname(r->rc));
    expect_empty(r, "three attempts at /hang");
    for (long i = 0; i < gets && i < 3; i++)
        cr_assert_eq(get_left[i], 150, "[attempt-deadline] GET %ld was given %" PRId64 " ms; "
                     "expected 150 (attempt_ms; the caller gave no deadline).", i + 1,
                     get_left[i]);
    expect_series(&m, r, "three attempts of 150 ms at /hang");
    cr_assert_geq(r->wall, 0.45, "[too-fast] three attempts of 150 ms took %.3f s.", r->wall);
    cr_assert_leq(r->wall - r->starved, 0.45 + 0.022 + 0.4, "[too-slow] three attempts of 150 "
                  "ms and two pauses under 11 ms took %.3f s (less %.3f s the machine was "
                  "busy).", r->wall, r->starved);
    expect_clean(r, "three attempts at /hang");
    kit_expect_no_leaks("fetch_retry");
}

Test(retry, attempts_of_one_ms)
{
    struct run *r = new_run(kit_sprintf("%s/hang", base), 3, 0, 0, 1, 3);
    r->deadline_in = 5000;
    run_one(r);
    cr_assert_eq(r->rc, -ETIMEDOUT, "[result] three attempts of 1 ms at /hang: fetch_retry "
                 "returned %s; expected -ETIMEDOUT.", kit_errname(r->rc));
    cr_assert_eq(gets, 3, "[attempts] three attempts of 1 ms at /hang: %s; expected 3.",
                 GETS(gets));
    for (long i = 0; i < 3; i++)
        cr_assert_eq(get_left[i], 1, "[attempt-deadline] GET %ld was given %" PRId64 " ms; "
                     "expected 1 (attempt_ms 1, sooner than the caller's 5 s).", i + 1,
                     get_left[i]);
    cr_assert(draws == 2 && sleeps == 2, "[pauses] %s and %s; expected 2 of each, of 0 ms.",
              DRAWS(draws), PAUSES(sleeps));
    expect_clean(r, "attempts of 1 ms");
    kit_expect_no_leaks("fetch_retry");
}

Test(retry, deadline_ends_the_attempt)
{
    struct run *r = new_run(kit_sprintf("%s/hang", base), 5, 1, 3, 0, 3);
    r->deadline_in = 120;
    run_one(r);
    cr_assert_eq(r->rc, -ETIMEDOUT, "[result] /hang with a deadline of 120 ms: fetch_retry "
                 "returned %s; expected -ETIMEDOUT.", kit_errname(r->rc));
    cr_assert_eq(gets, 1, "[after-deadline] /hang with a deadline 120 ms away: %s; "
                 "expected 1. Nothing starts once the deadline has come.", GETS(gets));
    cr_assert_eq(get_deadline[0], r->deadline, "[attempt-deadline] the GET was given a "
                 "deadline %" PRId64 " ms from the caller's; expected the caller's own (no "
                 "attempt_ms).", get_deadline[0] - r->deadline);
    cr_assert(draws == 0 && sleeps == 0, "[after-deadline] %s and %s after the deadline had "
              "come; expected none.", DRAWS(draws), PAUSES(sleeps));
    expect_empty(r, "/hang with a deadline");
    cr_assert_geq(r->wall, 0.115, "[too-fast] a deadline of 120 ms took %.3f s.", r->wall);
    cr_assert_leq(r->wall - r->starved, 0.42, "[too-slow] a deadline of 120 ms took %.3f s "
                  "(less %.3f s the machine was busy).", r->wall, r->starved);
    expect_clean(r, "/hang with a deadline");
    kit_expect_no_leaks("fetch_retry");
}

/* Attempts of 100 ms, pauses of 0 ms, the caller's deadline at 450 ms: 5 GETs, the last one
 * given the caller's deadline (50 ms), 1 more allowed that must not go out. A busy machine can
 * only make a GET end late and leave fewer of them. */
Test(retry, sooner_of_two_deadlines)
{
    struct run *r = new_run(kit_sprintf("%s/hang", base), 6, 0, 0, 100, 3);
    r->deadline_in = 450;
    run_one(r);
    cr_assert_eq(r->rc, -ETIMEDOUT, "[result] attempts of 100 ms, a deadline of 450 ms: "
                 "fetch_retry returned %s; expected -ETIMEDOUT.", kit_errname(r->rc));
    /* A single GET, given its own 100 ms, and the call over only at the deadline: the machine
     * held that GET past its end, and no time was left for another. */
    kit_expect_premise(gets != 1 || get_deadline[0] >= r->deadline || r->wall < 0.44,
                       "the machine was too busy for a second attempt to start before the "
                       "deadline");
    cr_assert(gets >= 2 && gets <= 5, "[attempts] attempts of 100 ms with pauses of 0 ms "
              "inside a deadline of 450 ms: %s; expected 5 (fewer on a very busy machine, "
              "never 1).", GETS(gets));
    cr_assert_eq(get_left[0], 100, "[attempt-deadline] GET 1 was given %" PRId64 " ms; "
                 "expected 100, the sooner of attempt_ms and the caller's 450.", get_left[0]);
    kit_expect_premise(gets == 5 || get_deadline[gets - 1] == r->deadline, "the machine was "
                       "too busy for the fifth attempt to start before the deadline");
    cr_assert_eq(get_deadline[gets - 1], r->deadline, "[attempt-deadline] the last GET's "
                 "deadline was %" PRId64 " ms from the caller's; expected the caller's itself, "
                 "which came sooner than attempt_ms.", get_deadline[gets - 1] - r->deadline);
    cr_assert_eq(draws, gets - 1, "[draws] %s and %s; expected one draw between two GETs "
                 "and none after the deadline.", GETS(gets), DRAWS(draws));
    cr_assert_eq(sleeps, gets - 1, "[pauses] %s and %s; expected one between two GETs.",
                 GETS(gets), PAUSES(sleeps));
    expect_clean(r, "attempts inside a deadline");
    kit_expect_no_leaks("fetch_retry");
}

/* A generator state whose first draw below max is above min. */
static uint32_t seed_drawing_above(int64_t max, int64_t min)
{
    for (uint32_t s = kit_seed() | 1;; s += 2) {
        uint32_t t = s;
        if (__real_retry_draw(&t, max) > min)
            return s;
    }
}

Test(retry, no_pause_past_the_deadline)
{
    uint32_t seed = seed_drawing_above(5000, 1000);
    struct run *r = new_run(kit_sprintf("%s/status/503", base), 5, 5000, 5000, 0, seed);
    r->deadline_in = 300;
    run_one(r);
    uint32_t m = seed;
    int64_t pause = __real_retry_draw(&m, 5000);
    kit_expect_premise(draws > 0 || r->wall < 0.28, "the first GET took the whole 300 ms, so "
                       "no pause was due");
    expect_answer(r, 503, "a 503 and a pause that would end past the deadline");
    cr_assert_eq(draws, 1, "[draws] %s; expected 1, the pause after the first 503.",
                 DRAWS(draws));
    cr_assert_eq(sleeps, 0, "[slept-past-deadline] the first pause drawn was %" PRId64 " ms "
                 "and the deadline was 300 ms away: fetch_retry paused %ld %s (%" PRId64
                 " ms first); expected none, and the 503 returned at once. A pause that would "
                 "reach the deadline leaves no time for another attempt.", pause, sleeps,
                 kit_plural(sleeps, "time", "times"), sleep_ms[0]);
    cr_assert_eq(gets, 1, "[after-deadline] %s; expected 1.", GETS(gets));
    cr_assert_leq(r->wall - r->starved, 0.2, "[slept-past-deadline] the call took %.3f s; "
                  "expected the 503 at once.", r->wall);
    expect_clean(r, "a pause past the deadline");
    kit_expect_no_leaks("fetch_retry");
}

/* The pause drawn ends exactly at the deadline (the draw is what the generator gives, made
 * equal to the time left): it would leave no time for another attempt either. */
Test(retry, no_pause_that_ends_at_the_deadline)
{
    struct run *r = new_run(kit_sprintf("%s/status/503", base), 5, 5000, 5000, 0, 7);
    r->deadline_in = 400;
    r->draw_to_deadline = 1;
    run_one(r);
    kit_expect_premise(draws > 0 || r->wall < 0.38, "the first GET took the whole 400 ms, so "
                       "no pause was due");
    cr_assert_eq(sleeps, 0, "[slept-past-deadline] the pause drawn (%" PRId64 " ms) would end "
                 "exactly at the deadline: fetch_retry paused %ld %s; expected none, and the "
                 "503 returned at once. A pause that reaches the deadline, even just, leaves no "
                 "time for another attempt.", draw_got[0], sleeps,
                 kit_plural(sleeps, "time", "times"));
    expect_answer(r, 503, "a 503 and a pause that would end at the deadline");
    cr_assert_eq(gets, 1, "[after-deadline] %s; expected 1.", GETS(gets));
    expect_clean(r, "a pause that ends at the deadline");
    kit_expect_no_leaks("fetch_retry");
}

Test(retry, deadline_already_past)
{
    for (int k = 0; k < 2; k++) {
        struct run *r = new_run(kit_sprintf("%s/status/200", base), 3, 1, 1, 0, 1);
        r->deadline_in = k == 0 ? PAST_ : NOW_;
        const char *what = k == 0 ? "a deadline 1 ms ago" : "a deadline of aio_now() itself";
        run_one(r);
        cr_assert_eq(r->rc, -ETIMEDOUT, "[result] %s: fetch_retry returned %s; expected "
                     "-ETIMEDOUT.", what, kit_errname(r->rc));
        cr_assert(gets == 0 && draws == 0 && sleeps == 0, "[after-deadline] %s: %s, %s, "
                  "%s; expected none: nothing starts at or after the deadline.", what,
                  GETS(gets), DRAWS(draws), PAUSES(sleeps));
        expect_empty(r, what);
    }
    cr_assert_eq(kit_stats_endpoint(base, "status"), 0, "[after-deadline] the server saw %s; "
                 "expected none.", GETS(kit_stats_endpoint(base, "status")));
    kit_expect_no_leaks("fetch_retry");
}

/* ---- cancellation ----------------------------------------------------------------------------- */

Test(retry, cancelled_in_a_pause)
{
    uint32_t seed = seed_drawing_above(5000, 2000);
    struct run *r = new_run(kit_sprintf("%s/status/503", base), 5, 5000, 5000, 0, seed);
    r->cancel = CANCEL_IN_SLEEP;
    run_one(r);
    kit_expect_premise(r->waited_ok, "fetch_retry never began its first pause");
    cr_assert_eq(r->rc, -ECANCELED, "[cancel] cancelled in a pause: fetch_retry returned %s; "
                 "expected -ECANCELED.", kit_errname(r->rc));
    expect_empty(r, "cancelled in a pause");
    cr_assert_eq(gets, 1, "[retry-after-cancel] cancelled in the first pause: %s; "
                 "expected 1. A cancel ends the series.", GETS(gets));
    cr_assert_eq(sleeps, 1, "[retry-after-cancel] %s; expected 1.", PAUSES(sleeps));
    cr_assert_leq(r->wall - r->starved, 1.0, "[cancel-slow] cancelled in a pause, fetch_retry "
                  "returned after %.3f s; expected at once.", r->wall);
    expect_clean(r, "cancelled in a pause");
    kit_expect_no_leaks("fetch_retry");
}

Test(retry, cancelled_in_a_get)
{
    struct run *r = new_run(kit_sprintf("%s/hang", base), 5, 1, 1, 0, 1);
    r->cancel = CANCEL_IN_GET;
    run_one(r);
    kit_expect_premise(r->waited_ok, "fetch_retry never began its GET");
    cr_assert_eq(r->rc, -ECANCELED, "[cancel] cancelled in a GET: fetch_retry returned %s; "
                 "expected -ECANCELED.", kit_errname(r->rc));
    expect_empty(r, "cancelled in a GET");
    cr_assert(gets == 1 && draws == 0 && sleeps == 0, "[retry-after-cancel] cancelled in the "
              "first GET: %ld %s, %ld %s, %ld %s; expected 1 GET and nothing after it. "
              "-ECANCELED is not worth another try.", gets, kit_plural(gets, "GET", "GETs"),
              draws, kit_plural(draws, "draw", "draws"), sleeps,
              kit_plural(sleeps, "pause", "pauses"));
    expect_clean(r, "cancelled in a GET");
    kit_expect_no_leaks("fetch_retry");
}
