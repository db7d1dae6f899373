/* Lesson 11 tests, part two: breaker_fetch, one breaker shared by the test's tasks. The
 * witnesses: each call's result and what *out holds, the breaker's state and failure count
 * after each call, GETs counted (lesson.mk's LDWRAP) and the server's own count of each
 * endpoint, the order in which calls return, and no wait of any kind in a refused call. Time
 * appears only where a cool-down must be waited out, and every verdict that depends on the
 * clock first checks that the scene held (kit_expect_premise). */
#include "counted.h"
#include "breaker.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kit_test.h"

#define REFUSED "http://127.0.0.1:1/refused"
#define LOG_MAX 128

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

TestSuite(breaker, .init = setup, .fini = teardown, .timeout = 15);

static const char *state_name(int s)
{
    return s == BREAKER_CLOSED ? "closed" : s == BREAKER_OPEN ? "open"
           : s == BREAKER_HALF_OPEN ? "half-open" : "not a state";
}

/* One call and what it left. */
struct entry {
    const char *what;
    int rc;
    long status;
    int out_empty;        /* on an error: *out empty */
    int state, failures;  /* the breaker's, right after */
    long gets;            /* GETs counted during the call */
    long waits;           /* sleeps, yields and parks counted during the call */
    long order;           /* the return's number among the scene's returns */
    int crowded;          /* other calls were under way meanwhile (gets is theirs too) */
};

struct scene {
    struct breaker b;
    aio_http *http;
    struct entry log[LOG_MAX];
    int n;
    long returns;
    long started, inside;
    int64_t t_open;       /* aio_now() when the test saw it open */
    int premise;          /* 1 unless the scene's timing failed */
    const char *premise_what;
    aio_task *helper;
    int helper_rc;
};

static struct scene *S;

static void unpremise(const char *what)
{
    if (S->premise) {
        S->premise = 0;
        S->premise_what = what;
    }
}

/* breaker_fetch of base+path (or a full URL), deadline ms from now (0: none). */
static struct entry *call(const char *what, const char *path, int64_t deadline_ms)
{
    struct entry *e = &S->log[S->n < LOG_MAX - 1 ? S->n++ : S->n];
    const char *url = strncmp(path, "http", 4) == 0 ? path : kit_sprintf("%s%s", base, path);
    struct aio_response out = { .status = 777, .body = NULL, .len = 5 };
    long g0 = gets, w0 = sleeps + yields + parks;

    e->what = what;
    long s0 = S->started++;
    int alone = S->inside++ == 0;
    e->rc = breaker_fetch(&S->b, S->http, url, &out,
                          deadline_ms > 0 ? aio_now() + deadline_ms : AIO_NEVER);
    e->status = e->rc == 0 ? out.status : 0;
    e->out_empty = out.status == 0 && out.body == NULL && out.len == 0;
    e->state = S->b.state;
    e->failures = S->b.failures;
    e->gets = gets - g0;
    e->waits = sleeps + yields + parks - w0;
    e->order = ++S->returns;
    e->crowded = !alone || S->started != s0 + 1;
    S->inside--;
    aio_response_free(&out);
    return e;
}

static void settle_ms(int64_t ms)
{
    __real_aio_sleep(ms);
}

static int run_scene(aio_fn fn, int threshold, int64_t cooldown)
{
    S = kit_alloc(sizeof *S);
    S->premise = 1;
    cr_assert_eq(breaker_init(&S->b, threshold, cooldown), 0, "[harness] breaker_init");
    counted_reset();
    watching = 1;
    int rc = aio_run(fn, S);
    watching = 0;
    cr_assert_eq(rc, 0, "[harness] the test's loop failed: %s", kit_errname(rc));
    cr_assert_eq(blocking_calls, 0, "[blocking-sleep] breaker_fetch called sleep(), usleep() "
                 "or nanosleep(): that stops the whole loop.");
    struct aio_counts end;
    cr_assert_eq(aio_counts_at_end(&end), 0, "[harness] no counts at the loop's end");
    cr_assert(end.tasks == 0 && end.timers == 0 && end.operations == 0, "[left-behind] at the "
              "loop's end: %zu tasks, %zu timers, %zu operations; expected none.", end.tasks,
              end.timers, end.operations);
    for (int i = 0; i < S->n; i++)
        kit_expect_done(S->log[i].rc, "breaker_fetch", "breaker.c");
    return 0;
}

static int http_open(void)
{
    S->http = aio_http_new();
    return S->http != NULL ? 0 : -ENOMEM;
}

static void http_close(void)
{
    aio_http_free(S->http);
    S->http = NULL;
}

static void expect_answer(const struct entry *e, long status)
{
    cr_assert_eq(e->rc, 0, "[result] %s: breaker_fetch returned %s; expected 0 with the %ld "
                 "answer%s.", e->what, kit_errname(e->rc), status,
                 e->rc == -EAGAIN ? ": the breaker should have let it through" : "");
    cr_assert_eq(e->status, status, "[result] %s: status %ld; expected %ld.", e->what,
                 e->status, status);
    cr_assert(e->crowded || e->gets == 1, "[result] %s: %ld %s in one call; expected 1.",
              e->what, e->gets, kit_plural(e->gets, "GET", "GETs"));
}

static void expect_refused(const struct entry *e)
{
    cr_assert_eq(e->rc, -EAGAIN, "[not-refused] %s: breaker_fetch returned %s (status %ld); "
                 "expected -EAGAIN at once, without touching the network.", e->what,
                 kit_errname(e->rc), e->status);
    cr_assert_eq(e->gets, 0, "[refused-sent] %s: -EAGAIN, but the call made %ld GET: a refusal "
                 "sends nothing.", e->what, e->gets);
    cr_assert_eq(e->waits, 0, "[refused-waited] %s: -EAGAIN after %ld %s; a refusal is at "
                 "once.", e->what, e->waits, kit_plural(e->waits, "wait", "waits"));
    cr_assert(e->out_empty, "[out-not-empty] %s: -EAGAIN with *out not empty; on every error "
              "*out is (0, NULL, 0), whatever it held on entry.", e->what);
}

static void expect_state(const struct entry *e, int state, int failures)
{
    cr_assert_eq(e->state, state, "[state] after %s the breaker was %s; expected %s.",
                 e->what, state_name(e->state), state_name(state));
    cr_assert_eq(e->failures, failures, "[failure-count] after %s failures was %d; expected "
                 "%d.", e->what, e->failures, failures);
}

static void expect_server(const char *endpoint, long want, const char *why)
{
    long got = kit_stats_endpoint(base, endpoint);
    cr_assert_eq(got, want, "[server-requests] the server saw %ld %s of /%s; expected %ld: %s",
                 got, kit_plural(got, "GET", "GETs"), endpoint, want, why);
}

/* ---- closed: counting failures in a row ---------------------------------------------------- */

static int opens_main(void *arg)
{
    (void)arg;
    if (http_open() < 0)
        return -ENOMEM;
    for (int i = 0; i < 20; i++)
        call(kit_sprintf("call %d of 20 to /status/503 (threshold 7)", i + 1), "/status/503",
             0);
    http_close();
    return 0;
}

Test(breaker, opens_at_the_threshold)
{
    run_scene(opens_main, 7, 10000);
    for (int i = 0; i < 7; i++) {
        expect_answer(&S->log[i], 503);
        expect_state(&S->log[i], i < 6 ? BREAKER_CLOSED : BREAKER_OPEN, i < 6 ? i + 1 : 0);
    }
    for (int i = 7; i < 20; i++) {
        expect_refused(&S->log[i]);
        expect_state(&S->log[i], BREAKER_OPEN, 0);
    }
    expect_server("status", 7, "the 7th failure in a row opens the breaker, and nothing goes "
                  "out during its 10 s cool-down.");
    kit_expect_no_leaks("breaker_fetch");
}

static const struct { const char *path; int64_t deadline_ms; int fails; long status; int rc; }
    mixed[] = {
        { "/status/503", 0, 1, 503, 0 },
        { "/status/429", 0, 1, 429, 0 },
        { "/status/200", 0, 0, 200, 0 },
        { REFUSED, 0, 1, 0, -ECONNREFUSED },
        { "/hang", 60, 1, 0, -ETIMEDOUT },
        { "/status/404", 0, 0, 404, 0 },
        { "/status/599", 0, 1, 599, 0 },
        { "/status/500", 0, 1, 500, 0 },
        { "/status/499", 0, 0, 499, 0 },
        { "/status/502", 0, 1, 502, 0 },
        { "/status/501", 0, 1, 501, 0 },
        { "/status/503", 0, 1, 503, 0 },   /* the third in a row: opens */
        { "/status/200", 0, 0, 0, -EAGAIN },
    };
#define NMIXED (sizeof mixed / sizeof *mixed)

static int mixed_main(void *arg)
{
    (void)arg;
    if (http_open() < 0)
        return -ENOMEM;
    for (size_t i = 0; i < NMIXED; i++)
        call(kit_sprintf("call %zu, %s (threshold 3)", i + 1, mixed[i].path), mixed[i].path,
             mixed[i].deadline_ms);
    http_close();
    return 0;
}

Test(breaker, failures_in_a_row)
{
    run_scene(mixed_main, 3, 10000);
    int count = 0;
    for (size_t i = 0; i < NMIXED; i++) {
        struct entry *e = &S->log[i];
        if (mixed[i].rc == -EAGAIN) {
            expect_refused(e);
            continue;
        }
        cr_assert_eq(e->rc, mixed[i].rc, "[result] %s: breaker_fetch returned %s; expected "
                     "%s, what the GET got.", e->what, kit_errname(e->rc),
                     kit_errname(mixed[i].rc));
        cr_assert_eq(e->status, mixed[i].status, "[result] %s: status %ld; expected %ld.",
                     e->what, e->status, mixed[i].status);
        if (e->rc < 0)
            cr_assert(e->out_empty, "[out-not-empty] %s: %s with *out not empty.", e->what,
                      kit_errname(e->rc));
        count = mixed[i].fails ? count + 1 : 0;
        if (count == 3) {
            expect_state(e, BREAKER_OPEN, 0);
        } else {
            cr_assert_eq(e->state, BREAKER_CLOSED, "[state] after %s the breaker was %s; "
                         "expected closed: %d %s in a row, below the threshold of 3.%s",
                         e->what, state_name(e->state), count,
                         kit_plural(count, "failure", "failures"),
                         mixed[i].fails ? "" : " A success (2xx, 3xx, 4xx but 429) sets the "
                         "count back to 0.");
            cr_assert_eq(e->failures, count, "[failure-count] after %s failures was %d; "
                         "expected %d. Failures: 5xx, 429, timeouts, refused or broken "
                         "connections; any other answer is a success and sets it to 0.",
                         e->what, e->failures, count);
        }
    }
    expect_server("status", 10, "every call but the refused one went out.");
    kit_expect_no_leaks("breaker_fetch");
}

/* A malformed URL and a cancelled call are neither success nor failure. */
static int cancelled_get(void *arg)
{
    (void)arg;
    call("a call to /hang, cancelled", "/hang", 0);
    return 0;
}

static int neither_main(void *arg)
{
    (void)arg;
    if (http_open() < 0)
        return -ENOMEM;
    call("a 503 (threshold 2)", "/status/503", 0);
    call("a malformed URL", "http://[::1", 0);
    aio_task *t = aio_spawn(cancelled_get, NULL);
    struct kit_wait w = { .what = "the cancelled call's GET to begin" };
    kit_wait_until(&w, gets_in_flight > 0 || aio_done(t), __real_aio_yield());
    if (!w.met)
        unpremise("the GET to /hang never began");
    settle_ms(5);
    aio_cancel(t);
    aio_join(t, AIO_NEVER);
    call("a 503 after them", "/status/503", 0);
    call("a call once open", "/status/200", 0);
    http_close();
    return 0;
}

Test(breaker, neither_success_nor_failure)
{
    run_scene(neither_main, 2, 10000);
    kit_expect_premise(S->premise, S->premise_what);
    expect_answer(&S->log[0], 503);
    expect_state(&S->log[0], BREAKER_CLOSED, 1);
    cr_assert_eq(S->log[1].rc, -EINVAL, "[result] a malformed URL: %s; expected -EINVAL.",
                 kit_errname(S->log[1].rc));
    cr_assert(S->log[1].out_empty, "[out-not-empty] a malformed URL: *out not empty.");
    cr_assert_eq(S->log[1].failures, 1, "[neither-counted] after a 503 and a malformed URL, "
                 "failures was %d (breaker %s); expected 1: a malformed URL says nothing about "
                 "the server, success or failure.", S->log[1].failures,
                 state_name(S->log[1].state));
    cr_assert_eq(S->log[2].rc, -ECANCELED, "[result] the cancelled call returned %s; expected "
                 "-ECANCELED.", kit_errname(S->log[2].rc));
    cr_assert(S->log[2].state == BREAKER_CLOSED && S->log[2].failures == 1, "[neither-counted] "
              "after a cancelled call, the breaker was %s with failures %d; expected closed "
              "with 1: a cancel says nothing about the server.", state_name(S->log[2].state),
              S->log[2].failures);
    expect_answer(&S->log[3], 503);
    expect_state(&S->log[3], BREAKER_OPEN, 0);
    expect_refused(&S->log[4]);
    kit_expect_no_leaks("breaker_fetch");
}

/* ---- open, half-open --------------------------------------------------------------------- */

enum { PROBERS = 13 };

static int prober(void *arg)
{
    (void)arg;
    call("one of 13 calls at once, the cool-down over", "/delay/150?tag=probe", 0);
    return 0;
}

static int again(void *arg)
{
    (void)arg;
    call("one of 13 calls at once, the breaker closed again", "/delay/20?tag=after", 0);
    return 0;
}

static int gang(aio_fn fn)
{
    aio_task *t[PROBERS];
    for (int i = 0; i < PROBERS; i++)
        t[i] = aio_spawn(fn, NULL);
    for (int i = 0; i < PROBERS; i++)
        if (t[i] != NULL)
            aio_join(t[i], AIO_NEVER);
    return 0;
}

static int probe_main(void *arg)
{
    (void)arg;
    if (http_open() < 0)
        return -ENOMEM;
    for (int i = 0; i < 3; i++)
        call("a 503 (threshold 3, cool-down 100 ms)", "/status/503", 0);
    S->t_open = aio_now();
    call("a call right after it opened", "/status/200", 0);
    if (aio_now() - S->t_open >= 100)
        unpremise("the call right after the breaker opened came after its cool-down");
    settle_ms(115);
    gang(prober);
    gang(again);
    http_close();
    return 0;
}

Test(breaker, one_probe)
{
    run_scene(probe_main, 3, 100);
    kit_expect_premise(S->premise, S->premise_what);
    expect_state(&S->log[2], BREAKER_OPEN, 0);
    expect_refused(&S->log[3]);
    int went = 0, refused = 0;
    long probe_order = 0, last_refusal = 0;
    for (int i = 4; i < 4 + PROBERS; i++) {
        struct entry *e = &S->log[i];
        if (e->rc == -EAGAIN) {
            expect_refused(e);
            cr_assert(e->state == BREAKER_HALF_OPEN, "[state] a call refused while the probe "
                      "was out saw the breaker %s; expected half-open.", state_name(e->state));
            refused++;
            last_refusal = e->order;
        } else {
            expect_answer(e, 200);
            went++;
            probe_order = e->order;
        }
    }
    cr_assert_eq(went, 1, "[probes] 13 calls at once once the cool-down was over: %d went out "
                 "and %d were refused; expected exactly 1 probe, the 12 others -EAGAIN. %s",
                 went, refused, went > 1 ? "Only one call may be the probe: the first one marks "
                 "it, before its GET." : "The first call after the cool-down is the probe.");
    cr_assert_lt(last_refusal, probe_order, "[refusal-waited] a refused call returned after "
                 "the probe's answer; the others fail at once while the probe is out.");
    struct entry *probe = NULL;
    for (int i = 4; i < 4 + PROBERS; i++)
        if (S->log[i].rc == 0)
            probe = &S->log[i];
    expect_state(probe, BREAKER_CLOSED, 0);
    for (int i = 4 + PROBERS; i < 4 + 2 * PROBERS; i++) {
        expect_answer(&S->log[i], 200);
        expect_state(&S->log[i], BREAKER_CLOSED, 0);
    }
    expect_server("delay", 1 + PROBERS, "one probe, then all 13 once it closed.");
    expect_server("status", 3, "three failures, then nothing during the cool-down.");
    kit_expect_no_leaks("breaker_fetch");
}

static int reopen_main(void *arg)
{
    (void)arg;
    if (http_open() < 0)
        return -ENOMEM;
    call("a 503 (threshold 2, cool-down 150 ms)", "/status/503", 0);
    call("a second 503", "/status/503", 0);
    settle_ms(160);
    call("the probe, a 503", "/status/503", 0);
    int64_t t = aio_now();
    call("a call right after the probe failed", "/status/200", 0);
    if (aio_now() - t >= 150)
        unpremise("the call after the failed probe came after a whole cool-down");
    settle_ms(160);
    call("the next probe, a 200", "/status/200", 0);
    call("a call once closed", "/status/200", 0);
    http_close();
    return 0;
}

Test(breaker, failed_probe_reopens)
{
    run_scene(reopen_main, 2, 150);
    kit_expect_premise(S->premise, S->premise_what);
    expect_state(&S->log[1], BREAKER_OPEN, 0);
    expect_answer(&S->log[2], 503);
    expect_state(&S->log[2], BREAKER_OPEN, 0);
    cr_assert_eq(S->log[3].rc, -EAGAIN, "[cooldown-not-restarted] a call right after the "
                 "probe failed returned %s (status %ld); expected -EAGAIN: a failed probe opens "
                 "the breaker for a whole new cool-down, from that moment.",
                 kit_errname(S->log[3].rc), S->log[3].status);
    expect_refused(&S->log[3]);
    expect_answer(&S->log[4], 200);
    expect_state(&S->log[4], BREAKER_CLOSED, 0);
    expect_answer(&S->log[5], 200);
    expect_server("status", 5, "two failures, a failed probe, a second probe, one call.");
    kit_expect_no_leaks("breaker_fetch");
}

static int cooldown_main(void *arg)
{
    (void)arg;
    if (http_open() < 0)
        return -ENOMEM;
    int64_t t0 = aio_now();
    call("a 503 (threshold 3, cool-down 250 ms)", "/status/503", 0);
    settle_ms(100);
    call("a 503, 100 ms later", "/status/503", 0);
    settle_ms(100);
    call("a 503, 200 ms later: opens", "/status/503", 0);
    S->t_open = aio_now();
    settle_ms(130);
    call("a call 330 ms after the first failure, 130 ms after it opened", "/status/200", 0);
    if (aio_now() - S->t_open >= 250 || aio_now() - t0 < 250)
        unpremise("the call meant for the middle of the cool-down came too late");
    int64_t wait = S->t_open + 260 - aio_now();
    settle_ms(wait > 0 ? wait : 0);
    call("a call 260 ms after it opened", "/status/200", 0);
    http_close();
    return 0;
}

Test(breaker, cooldown_from_the_opening)
{
    run_scene(cooldown_main, 3, 250);
    kit_expect_premise(S->premise, S->premise_what);
    expect_state(&S->log[2], BREAKER_OPEN, 0);
    cr_assert_eq(S->log[3].rc, -EAGAIN, "[cooldown-early] %s returned %s; expected -EAGAIN: "
                 "the cool-down counts from the moment the breaker opened, not from the first "
                 "failure.", S->log[3].what, kit_errname(S->log[3].rc));
    expect_refused(&S->log[3]);
    expect_answer(&S->log[4], 200);
    expect_state(&S->log[4], BREAKER_CLOSED, 0);
    kit_expect_no_leaks("breaker_fetch");
}

static int zero_main(void *arg)
{
    (void)arg;
    if (http_open() < 0)
        return -ENOMEM;
    call("a 503 (threshold 1, cool-down 0 ms): opens", "/status/503", 0);
    call("a call at once after it: the probe", "/status/200", 0);
    call("a call after the probe", "/status/200", 0);
    http_close();
    return 0;
}

Test(breaker, cooldown_zero)
{
    run_scene(zero_main, 1, 0);
    expect_state(&S->log[0], BREAKER_OPEN, 0);
    cr_assert_eq(S->log[1].rc, 0, "[cooldown-early] with a cool-down of 0 ms, the call right "
                 "after the breaker opened returned %s; expected it to go out as the probe: the "
                 "breaker refuses only while aio_now() < opened + cooldown_ms.",
                 kit_errname(S->log[1].rc));
    expect_answer(&S->log[1], 200);
    expect_state(&S->log[1], BREAKER_CLOSED, 0);
    expect_answer(&S->log[2], 200);
    kit_expect_no_leaks("breaker_fetch");
}

/* A call that began while closed comes back while the probe is out: the probe is still out. */
static int slow_closed(void *arg)
{
    (void)arg;
    call("a slow 200 that began while closed", "/delay/300?tag=old", 0);
    return 0;
}

static int slow_probe(void *arg)
{
    (void)arg;
    call("the probe, a slow 200", "/delay/600?tag=probe", 0);
    return 0;
}

static int stale_in_half_open_main(void *arg)
{
    (void)arg;
    if (http_open() < 0)
        return -ENOMEM;
    aio_task *a = aio_spawn(slow_closed, NULL);
    struct kit_wait w = { .what = "the slow call's GET to begin" };
    kit_wait_until(&w, gets_in_flight > 0 || aio_done(a), __real_aio_yield());
    call("a 503 (threshold 1, cool-down 50 ms): opens", "/status/503", 0);
    settle_ms(60);
    aio_task *p = aio_spawn(slow_probe, NULL);
    struct kit_wait w2 = { .what = "the probe's GET to begin" };
    kit_wait_until(&w2, gets_in_flight > 1 || aio_done(p), __real_aio_yield());
    if (aio_done(a) || !w.met || !w2.met)
        unpremise("the slow call ended before the probe went out");
    aio_join(a, AIO_NEVER);
    if (aio_done(p))
        unpremise("the probe ended before the slow call came back");
    call("a call after the slow one came back, the probe still out", "/status/200", 0);
    aio_join(p, AIO_NEVER);
    http_close();
    return 0;
}

Test(breaker, stale_return_keeps_the_probe)
{
    run_scene(stale_in_half_open_main, 1, 50);
    kit_expect_premise(S->premise, S->premise_what);
    /* log: 0 the slow call, 1 the 503, 2 the probe, 3 the call after */
    expect_state(&S->log[1], BREAKER_OPEN, 0);
    expect_answer(&S->log[0], 200);
    cr_assert_eq(S->log[0].state, BREAKER_HALF_OPEN, "[stale-success] a 200 that began before "
                 "the breaker opened came back while the probe was out, and left the breaker "
                 "%s; expected still half-open.", state_name(S->log[0].state));
    cr_assert_eq(S->log[3].rc, -EAGAIN, "[second-probe] a call made while the probe was still "
                 "out, after an older call had come back, returned %s; expected -EAGAIN: the "
                 "probe is out until the probe itself returns, whoever else comes back.",
                 kit_errname(S->log[3].rc));
    expect_refused(&S->log[3]);
    expect_answer(&S->log[2], 200);
    expect_state(&S->log[2], BREAKER_CLOSED, 0);
    expect_server("delay", 2, "the slow call and the probe.");
    kit_expect_no_leaks("breaker_fetch");
}

/* ---- the state changed while a call was out ----------------------------------------------- */

static int slow_call(void *arg)
{
    (void)arg;
    call("a slow 200 that began while closed", "/delay/300", 0);
    return 0;
}

static int stale_success_main(void *arg)
{
    (void)arg;
    if (http_open() < 0)
        return -ENOMEM;
    aio_task *t = aio_spawn(slow_call, NULL);
    struct kit_wait w = { .what = "the slow call's GET to begin" };
    kit_wait_until(&w, gets_in_flight > 0 || aio_done(t), __real_aio_yield());
    for (int i = 0; i < 3; i++)
        call("a 503 while the slow call is out (threshold 3)", "/status/503", 0);
    if (aio_done(t))
        unpremise("the slow call ended before the breaker opened");
    aio_join(t, AIO_NEVER);
    call("a call once the slow 200 is back", "/status/200", 0);
    http_close();
    return 0;
}

Test(breaker, stale_success_does_not_close)
{
    run_scene(stale_success_main, 3, 10000);
    kit_expect_premise(S->premise, S->premise_what);
    expect_state(&S->log[3], BREAKER_OPEN, 0);
    struct entry *slow = &S->log[0];
    expect_answer(slow, 200);
    cr_assert_eq(slow->state, BREAKER_OPEN, "[stale-success] a 200 that began before the "
                 "breaker opened came back while it was open, and the breaker was %s after it; "
                 "expected still open. Only the state a call began in may judge it.",
                 state_name(slow->state));
    expect_refused(&S->log[4]);
    expect_server("status", 3, "three failures, then nothing.");
    kit_expect_no_leaks("breaker_fetch");
}

static int hanging_call(void *arg)
{
    (void)arg;
    call("a /hang of 400 ms that began while closed", "/hang", 400);
    return 0;
}

static int stale_failure_main(void *arg)
{
    (void)arg;
    if (http_open() < 0)
        return -ENOMEM;
    aio_task *t = aio_spawn(hanging_call, NULL);
    struct kit_wait w = { .what = "the hanging call's GET to begin" };
    kit_wait_until(&w, gets_in_flight > 0 || aio_done(t), __real_aio_yield());
    call("a 503 (threshold 2, cool-down 50 ms)", "/status/503", 0);
    call("a second 503: opens", "/status/503", 0);
    settle_ms(60);
    call("the probe, a 200: closes", "/status/200", 0);
    if (aio_done(t))
        unpremise("the hanging call ended before the probe closed the breaker");
    aio_join(t, AIO_NEVER);
    call("a 503 once the old timeout is back", "/status/503", 0);
    call("a 200 after it", "/status/200", 0);
    http_close();
    return 0;
}

Test(breaker, stale_failure_does_not_count)
{
    run_scene(stale_failure_main, 2, 50);
    kit_expect_premise(S->premise, S->premise_what);
    expect_state(&S->log[2], BREAKER_OPEN, 0);
    expect_answer(&S->log[3], 200);
    expect_state(&S->log[3], BREAKER_CLOSED, 0);
    struct entry *old = &S->log[0];
    cr_assert_eq(old->rc, -ETIMEDOUT, "[result] the /hang call returned %s; expected "
                 "-ETIMEDOUT.", kit_errname(old->rc));
    cr_assert(old->state == BREAKER_CLOSED && old->failures == 0, "[stale-failure] a timeout "
              "that began before the breaker opened came back after the probe had closed it, "
              "and left it %s with failures %d; expected closed with 0. Only the state a call "
              "began in may judge it.", state_name(old->state), old->failures);
    expect_answer(&S->log[4], 503);
    expect_state(&S->log[4], BREAKER_CLOSED, 1);
    expect_answer(&S->log[5], 200);
    kit_expect_no_leaks("breaker_fetch");
}

static int probe_cancelled(void *arg)
{
    (void)arg;
    call("the probe, to /hang, cancelled", "/hang", 0);
    return 0;
}

static int cancel_probe_main(void *arg)
{
    (void)arg;
    if (http_open() < 0)
        return -ENOMEM;
    call("a 503 (threshold 1, cool-down 50 ms)", "/status/503", 0);
    settle_ms(60);
    aio_task *t = aio_spawn(probe_cancelled, NULL);
    struct kit_wait w = { .what = "the probe's GET to begin" };
    kit_wait_until(&w, gets_in_flight > 0 || aio_done(t), __real_aio_yield());
    if (!w.met)
        unpremise("the probe's GET never began");
    call("a call while the probe is out", "/status/200", 0);
    aio_cancel(t);
    aio_join(t, AIO_NEVER);
    call("a call after the probe was cancelled", "/status/200", 0);
    call("a call once closed", "/status/200", 0);
    http_close();
    return 0;
}

Test(breaker, cancelled_probe_hands_on)
{
    run_scene(cancel_probe_main, 1, 50);
    kit_expect_premise(S->premise, S->premise_what);
    expect_state(&S->log[0], BREAKER_OPEN, 0);
    expect_refused(&S->log[2]);
    struct entry *p = &S->log[1];
    cr_assert_eq(p->rc, -ECANCELED, "[result] the cancelled probe returned %s; expected "
                 "-ECANCELED.", kit_errname(p->rc));
    cr_assert(p->out_empty, "[out-not-empty] the cancelled probe left *out not empty.");
    cr_assert_neq(p->state, BREAKER_CLOSED, "[cancel-judged] a cancelled probe closed the "
                  "breaker; a cancel says nothing about the server.");
    cr_assert_eq(S->log[3].rc, 0, "[probe-stuck] after the probe was cancelled, the next call "
                 "returned %s; expected it to go out as the new probe (0 with a 200). A probe "
                 "that ends without a verdict must hand its turn on, or the breaker stays "
                 "half-open for ever.", kit_errname(S->log[3].rc));
    expect_answer(&S->log[3], 200);
    expect_state(&S->log[3], BREAKER_CLOSED, 0);
    expect_answer(&S->log[4], 200);
    kit_expect_no_leaks("breaker_fetch");
}

/* ---- many at once while closed --------------------------------------------------------------- */

enum { MANY = 33 };

static int many_one(void *arg)
{
    (void)arg;
    call("one of 33 failures at once", "/status/503", 0);
    return 0;
}

static int many_main(void *arg)
{
    (void)arg;
    aio_task *t[MANY];
    if (http_open() < 0)
        return -ENOMEM;
    for (int i = 0; i < MANY; i++)
        t[i] = aio_spawn(many_one, NULL);
    for (int i = 0; i < MANY; i++)
        if (t[i] != NULL)
            aio_join(t[i], AIO_NEVER);
    call("a call after the 33", "/status/200", 0);
    http_close();
    return 0;
}

Test(breaker, many_at_once)
{
    static const int thresholds[] = { 5, 33, 34 };
    for (int k = 0; k < 3; k++) {
        if (k > 0)
            kit_stats_reset(base);
        run_scene(many_main, thresholds[k], 10000);
        int th = thresholds[k];
        /* The 33 end in an order the server and the scheduler choose: each is judged by its
         * place among the returns (order), not by when it began. */
        for (int i = 0; i < MANY; i++) {
            const struct entry *e = &S->log[i];
            int r = (int)e->order;
            expect_answer(e, 503);
            cr_assert(r >= 1 && r <= MANY, "[test-premise] a call's return number was %d, "
                      "outside 1..%d: the test's own count failed.", r, MANY);
            cr_assert_eq(e->state, r < th ? BREAKER_CLOSED : BREAKER_OPEN, "[state] of 33 "
                         "failures at once (threshold %d), the %s to return left the breaker "
                         "%s; expected %s: %s.", th, kit_ordinal(r), state_name(e->state),
                         state_name(r < th ? BREAKER_CLOSED : BREAKER_OPEN),
                         r < th ? "fewer failures than the threshold have returned" :
                         r == th ? "it is the threshold-th failure in a row" :
                         "it opened at an earlier return, and a call that began before that "
                         "changes nothing");
            cr_assert_eq(e->failures, r < th ? r : 0, "[failure-count] of 33 failures at "
                         "once (threshold %d), the %s to return left failures at %d; expected "
                         "%d: each failure returning while closed counts one more, whatever "
                         "else is in flight, and an open breaker keeps 0.", th, kit_ordinal(r),
                         e->failures, r < th ? r : 0);
        }
        struct entry *last = &S->log[MANY];
        if (th <= MANY) {
            cr_assert_eq(S->b.state == BREAKER_OPEN || last->rc == -EAGAIN, 1, "[state] 33 "
                         "failures at once with a threshold of %d left the breaker %s; "
                         "expected open.", th, state_name(S->b.state));
            expect_refused(last);
            expect_state(last, BREAKER_OPEN, 0);
        } else {
            expect_answer(last, 200);
            expect_state(last, BREAKER_CLOSED, 0);
        }
        char *why = kit_sprintf("the 33 began while the breaker was closed (threshold %d)%s.",
                                th, th > MANY ? ", and the call after them too" : "");
        expect_server("status", MANY + (th > MANY), why);
    }
    kit_expect_no_leaks("breaker_fetch");
}

/* ---- arguments ------------------------------------------------------------------------------- */

static int bad_main(void *arg)
{
    (void)arg;
    struct aio_response out = { .status = 777, .len = 5 };
    if (http_open() < 0)
        return -ENOMEM;
    const char *url = kit_sprintf("%s/status/200", base);
    S->log[0].rc = breaker_fetch(NULL, S->http, url, &out, AIO_NEVER);
    S->log[0].out_empty = out.status == 0 && out.body == NULL && out.len == 0;
    out = (struct aio_response){ .status = 777, .len = 5 };
    S->log[1].rc = breaker_fetch(&S->b, NULL, url, &out, AIO_NEVER);
    S->log[1].out_empty = out.status == 0 && out.body == NULL && out.len == 0;
    out = (struct aio_response){ .status = 777, .len = 5 };
    S->log[2].rc = breaker_fetch(&S->b, S->http, NULL, &out, AIO_NEVER);
    S->log[2].out_empty = out.status == 0 && out.body == NULL && out.len == 0;
    S->log[3].rc = breaker_fetch(&S->b, S->http, url, NULL, AIO_NEVER);
    S->log[3].out_empty = 1;
    S->n = 4;
    http_close();
    return 0;
}

Test(breaker, bad_arguments)
{
    static const char *what[] = { "b NULL", "c NULL", "url NULL", "out NULL" };
    run_scene(bad_main, 1, 100);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(S->log[i].rc, -EINVAL, "[bad-argument] %s: breaker_fetch returned %s; "
                     "expected -EINVAL.", what[i], kit_errname(S->log[i].rc));
        cr_assert(S->log[i].out_empty, "[out-not-empty] %s: *out not empty.", what[i]);
    }
    cr_assert_eq(gets, 0, "[bad-argument] %ld %s; expected none.", gets,
                 kit_plural(gets, "GET", "GETs"));
    cr_assert(S->b.state == BREAKER_CLOSED && S->b.failures == 0, "[bad-argument] the breaker "
              "changed: %s with failures %d.", state_name(S->b.state), S->b.failures);
    kit_expect_no_leaks("breaker_fetch");
}
