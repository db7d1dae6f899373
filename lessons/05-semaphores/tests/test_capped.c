/* Lesson 05 tests, part one: fetch_capped against /limited. Evidence: the requests in flight
 * at once as the client made them (a wrapper around aio_http_get) and as the server saw them
 * (peak, 429s), which fetch was sent and how often, the permits held when each request
 * started, the semaphores set up, every task joined, the waits that are not waits (polling,
 * blocking sleeps), leaks, and the batch's time against ceil(n/k) x d with a wide ratio both
 * ways. A run that does not end is cancelled by a watchdog and named. */
#include "counted.h"
#include "fetch.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit_test.h"

#define WATCHDOG_MS 2500        /* past the batch's deadline: the run is stuck */
#define REFUSED_URL "http://127.0.0.1:1/refused"   /* nothing listens on port 1 */
#define BAD_URL "nosuch://127.0.0.1/unsupported"   /* curl refuses it: -EINVAL */
#define SLOW_RATIO 2.0          /* the batch may take this much of its theory time... */
#define SLOW_PAD_S 0.15         /* ... plus this */
#define FAST_RATIO 0.85         /* and never less than this of it */
#define MAX_POLLS 4             /* waits besides joins and parks a right answer may make */

static const char *base;

/* Every suite starts its own server: /limited's limit is part of the test. */
static void teardown(void)
{
    kit_cleanup();
    kit_server_stop();
}

static void start_limit(int limit)
{
    char arg[16];
    snprintf(arg, sizeof arg, "%d", limit);
    const char *args[] = { "--limit", arg, NULL };
    base = kit_server_start(args);
}

static void setup3(void) { start_limit(3); }
static void setup4(void) { start_limit(4); }
static void setup7(void) { start_limit(7); }
static void setup33(void) { start_limit(33); }

TestSuite(capped3, .init = setup3, .fini = teardown, .timeout = 15);
TestSuite(capped4, .init = setup4, .fini = teardown, .timeout = 15);
TestSuite(capped7, .init = setup7, .fini = teardown, .timeout = 15);
TestSuite(capped33, .init = setup33, .fini = teardown, .timeout = 15);

/* ---- a batch ------------------------------------------------------------------------------ */

struct batch {
    size_t n;
    int k;
    char **url;
    int *delay;             /* /limited's delay of each fetch, -1 for another URL */
    int64_t deadline_ms;
    struct fetch *f;
    aio_http *client;
    int rc;
    int returned;
    int stalled;            /* the watchdog had to cancel it */
    double wall_s;
    double busy_s;          /* of it, time the machine kept the test and server from a CPU */
    long fail_alloc_at;     /* > 0: fetch_capped's k-th allocation fails */
};

static struct batch *batch_new(size_t n, int k)
{
    struct batch *b = kit_alloc(sizeof *b);

    b->n = n;
    b->k = k;
    b->url = kit_alloc_array(n, sizeof *b->url);
    b->delay = kit_alloc_array(n, sizeof *b->delay);
    b->f = kit_alloc_array(n, sizeof *b->f);
    b->deadline_ms = 3000;
    b->rc = -12345;
    return b;
}

static void set_limited(struct batch *b, size_t i, int ms)
{
    b->url[i] = kit_sprintf("%s/limited?delay_ms=%d&tag=%zu", base, ms, i);
    b->delay[i] = ms;
}

static void set_url(struct batch *b, size_t i, const char *url)
{
    b->url[i] = kit_sprintf("%s", url);
    b->delay[i] = -1;
}

static void free_batch(void *arg)
{
    struct batch *b = arg;
    fetches_free(b->f, b->n);
}

static int runner(void *arg)
{
    struct batch *b = arg;
    double t0 = kit_wall(), busy0 = kit_starved_s();

    alloc_calls = 0;
    alloc_fail_task = b->fail_alloc_at > 0 ? aio_current() : NULL;
    alloc_fail_at = b->fail_alloc_at;
    b->rc = fetch_capped(b->client, b->f, b->n, b->k, aio_now() + b->deadline_ms);
    alloc_fail_task = NULL;
    b->wall_s = kit_wall() - t0;
    b->busy_s = kit_starved_s() - busy0;
    b->returned = 1;
    /* Said at once: its unjoined tasks run next, and may crash on memory it freed. */
    if (tasks_unjoined() > 0)
        fprintf(stderr, "[never-joined] fetch_capped returned %s with %zu of its %zu tasks "
                "never joined (a crash right after this line means they ran on memory "
                "fetch_capped had already freed).\n", kit_errname(b->rc), tasks_unjoined(),
                ntasks);
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
        b->f[i].url = b->url[i];
    watching = 1;
    t = __real_aio_spawn(runner, b);
    if (t == NULL) {
        watching = 0;
        aio_http_free(b->client);
        return -ENOMEM;
    }
    if (__real_aio_join(t, aio_now() + b->deadline_ms + WATCHDOG_MS) == -ETIMEDOUT) {
        /* Stuck: cancel it and every task it spawned, so that the test can say why. */
        b->stalled = 1;
        for (size_t i = 0; i < ntasks; i++)
            if (!tasks_joined[i] && !task_finished(i))
                aio_cancel(tasks_seen[i]);
        aio_cancel(t);
        __real_aio_join(t, AIO_NEVER);
    }
    watching = 0;
    /* Tasks it spawned and never joined: joined here so the loop can end. */
    for (size_t i = 0; i < ntasks; i++)
        if (!tasks_joined[i])
            __real_aio_join(tasks_seen[i], AIO_NEVER);
    aio_http_free(b->client);
    return 0;
}

static size_t unjoined_at_return;

static int run_batch(struct batch *b)
{
    counted_reset();
    kit_defer(free_batch, b);
    cr_assert_eq(kit_stats_reset(base), 0, "[server] could not reset the server's counts");
    int rc = aio_run(batch_main, b);
    cr_assert_eq(rc, 0, "[runtime] the test's own loop failed: %s", kit_errname(rc));
    unjoined_at_return = tasks_unjoined();
    return b->rc;
}

/* How many times fetch i was sent (its url pointer seen by aio_http_get). */
static int sent_count(const struct batch *b, size_t i)
{
    int c = 0;
    for (size_t r = 0; r < nreq; r++)
        c += urls_seen[r] == b->url[i];
    return c;
}

static long rounds(size_t n, int k)
{
    return ((long)n + k - 1) / k;
}

/* The witnesses every batch shares, in the order that names the first thing wrong. */
static void expect_capped(struct batch *b, double theory_s, const char *what)
{
    struct kit_stats st;
    size_t n = b->n;
    long want_peak = (long)n < b->k ? (long)n : b->k;

    kit_expect_done(b->rc, "fetch_capped", "capped.c");
    cr_assert(!b->stalled, "[stall] %s: fetch_capped had not returned %d ms after the batch's "
              "deadline; the test cancelled it. Does some wait ignore the deadline, or some "
              "path keep its permit?", what, WATCHDOG_MS);
    cr_assert_eq(unjoined_at_return, 0, "[never-joined] %s: fetch_capped returned with %zu of "
                 "its %zu tasks never joined. Join every task you spawn before you return.",
                 what, unjoined_at_return, ntasks);
    cr_assert(!(inflight_peak > b->k && sem_inits > 1), "[sem-per-task] %s: %ld requests were "
              "in flight at once with a cap of %d, and aio_sem_init() was called %ld times: a "
              "semaphore per task caps nothing. One semaphore for the whole batch, shared by "
              "every fetch.", what, inflight_peak, b->k, sem_inits);
    cr_assert(!(inflight_peak > b->k && unpermitted > 0), "[cap-on-spawn] %s: %ld requests "
              "were in flight at once with a cap of %d; %ld of them started while fewer "
              "permits were held than requests were in flight. The permit must be held around "
              "the request itself (fetch_one), not around aio_spawn().", what, inflight_peak,
              b->k, unpermitted);
    cr_assert(inflight_peak <= b->k, "[over-limit] %s: %ld requests were in flight at once; "
              "the cap was %d.", what, inflight_peak, b->k);
    cr_assert_eq(kit_stats_get(base, &st), 0, "[server] could not read the server's /stats");
    long got429 = kit_stats_status(base, 429);
    cr_assert_eq(got429, 0, "[got-429] %s: the server answered 429 Too Many Requests %ld %s "
                 "(its peak in flight was %ld, the cap %d).", what, got429,
                 kit_plural(got429, "time", "times"), st.peak, b->k);
    cr_assert(st.peak <= b->k, "[server-over-limit] %s: the server saw %ld requests in flight "
              "at once; the cap was %d.", what, st.peak, b->k);
    cr_assert(inflight_peak >= want_peak, "[peak-low] %s: at most %ld %s in flight at once; "
              "with a cap of %d and %zu fetches, %ld should have been. Does each fetch wait "
              "for more than a free slot?", what, inflight_peak,
              kit_plural(inflight_peak, "request was", "requests were"), b->k, n, want_peak);
    for (size_t i = 0; i < n; i++) {
        int sent = sent_count(b, i);
        cr_assert_eq(sent, 1, "[request-count] %s: fetch %zu (%s) was sent %d %s; expected "
                     "exactly once.", what, i, b->url[i], sent, kit_plural(sent, "time", "times"));
    }
    cr_assert_eq(nreq, n, "[request-count] %s: %zu requests made for %zu fetches.", what, nreq, n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(b->f[i].rc, 0, "[slot-rc] %s: f[%zu].rc is %s; expected 0.", what, i,
                     kit_errname(b->f[i].rc));
        cr_assert_eq(b->f[i].resp.status, 200, "[slot-status] %s: f[%zu] answered %ld; expected "
                     "200.", what, i, b->f[i].resp.status);
    }
    cr_assert_eq(b->rc, 0, "[return-code] %s: fetch_capped returned %s; every fetch succeeded.",
                 what, kit_errname(b->rc));
    cr_assert_eq(blocking_calls, 0, "[blocks-loop] %s: sleep(), usleep() or nanosleep() was "
                 "called %ld %s during the batch: each blocks the whole thread.", what,
                 blocking_calls, kit_plural(blocking_calls, "time", "times"));
    cr_assert(polls <= MAX_POLLS, "[poll-wait] %s: aio_yield(), aio_sleep() or "
              "aio_sleep_until() were called %ld times during the batch: waiting for a slot is "
              "the semaphore's job, not a loop that looks.", what, polls);
    cr_assert(b->wall_s - b->busy_s <= theory_s * SLOW_RATIO + SLOW_PAD_S, "[too-slow] %s took "
              "%.3f s (%.3f s once the time the busy machine kept it from a CPU is taken "
              "off); theory (ceil(n/k) x d) is %.3f s. Does a fetch wait for more than its own "
              "slot?", what, b->wall_s, b->wall_s - b->busy_s, theory_s);
    cr_assert(b->wall_s >= theory_s * FAST_RATIO, "[too-fast] %s took %.3f s; with at most %d "
              "in flight it cannot take less than about %.3f s.", what, b->wall_s, b->k,
              theory_s);
}

static void equal_batch(size_t n, int k, int ms)
{
    struct batch *b = batch_new(n, k);
    char what[96];

    for (size_t i = 0; i < n; i++)
        set_limited(b, i, ms);
    snprintf(what, sizeof what, "%zu fetches of %d ms with a cap of %d", n, ms, k);
    run_batch(b);
    expect_capped(b, (double)rounds(n, k) * ms / 1000.0, what);
    kit_expect_no_leaks("fetch_capped");
}

Test(capped4, thirteen_at_four)
{
    equal_batch(13, 4, 100);
}

Test(capped3, one_at_a_time)
{
    equal_batch(5, 1, 60);
}

Test(capped7, cap_above_n)
{
    /* 7 fetches, a cap of 33: all at once */
    equal_batch(7, 33, 100);
}

Test(capped33, largest_batch)
{
    equal_batch(FETCH_MAX, 33, 40);
}

Test(capped3, repeated_urls)
{
    /* the same URL 7 times, each its own fetch */
    struct batch *b = batch_new(7, 3);
    char *same = kit_sprintf("%s/limited?delay_ms=60", base);

    for (size_t i = 0; i < 7; i++) {
        b->url[i] = kit_sprintf("%s", same);
        b->delay[i] = 60;
    }
    run_batch(b);
    expect_capped(b, 3 * 0.060, "7 fetches of one same URL with a cap of 3");
    kit_expect_no_leaks("fetch_capped");
}

/* Uneven delays: a slot must start the next fetch as soon as it is free, not wait for the
 * slowest of a group. The schedule of a right answer (each fetch, in order, takes the first
 * slot to come free) is computed here, and a group-by-group one to be sure they differ. */
static double greedy_s(const int *ms, size_t n, int k)
{
    double slot[64] = { 0 };
    double end = 0;

    for (size_t i = 0; i < n; i++) {
        int best = 0;
        for (int s = 1; s < k; s++)
            if (slot[s] < slot[best])
                best = s;
        slot[best] += ms[i];
        if (slot[best] > end)
            end = slot[best];
    }
    return end / 1000.0;
}

static double grouped_s(const int *ms, size_t n, int k)
{
    double total = 0;

    for (size_t i = 0; i < n; i += (size_t)k) {
        int most = 0;
        for (size_t j = i; j < n && j < i + (size_t)k; j++)
            if (ms[j] > most)
                most = ms[j];
        total += most;
    }
    return total / 1000.0;
}

Test(capped3, uneven_delays)
{
    enum { N = 13, K = 3 };
    int ms[N];
    struct batch *b = batch_new(N, K);

    for (size_t i = 0; i < N; i++) {
        ms[i] = i % K == 0 ? 240 : 30;
        set_limited(b, i, ms[i]);
    }
    double greedy = greedy_s(ms, N, K), grouped = grouped_s(ms, N, K);
    cr_assert(grouped > 1.6 * greedy, "[harness] the uneven schedule does not tell groups apart");
    run_batch(b);
    kit_expect_done(b->rc, "fetch_capped", "capped.c");
    cr_assert(!b->stalled, "[stall] 13 fetches of 240 or 30 ms with a cap of 3: fetch_capped "
              "had not returned long after its deadline.");
    cr_assert(b->wall_s - b->busy_s <= greedy * 1.4 + 0.1, "[grouped] 13 fetches of 240 or 30 "
              "ms with a cap of 3 took %.3f s (the time the busy machine kept it from a CPU "
              "taken off); a slot that starts the next fetch as soon as it is free "
              "takes %.3f s, and batches of 3, each waiting for its slowest, %.3f s. Each "
              "fetch must wait for a free slot, not for a whole group.", b->wall_s - b->busy_s,
              greedy,
              grouped);
    expect_capped(b, greedy, "13 fetches of 240 or 30 ms with a cap of 3");
    kit_expect_no_leaks("fetch_capped");
}

/* ---- the error path ----------------------------------------------------------------------- */

Test(capped3, failures_release)
{
    /* 3 fetches fail (as many as the cap), scattered, with two different errors; 10 others
     * of 50 ms. */
    enum { N = 13, K = 3 };
    static const int failing[N] = { [2] = EINVAL, [5] = ECONNREFUSED, [6] = ECONNREFUSED };
    struct batch *b = batch_new(N, K);
    size_t good = 0, not_sent = 0, first_stuck = N;

    for (size_t i = 0; i < N; i++) {
        if (failing[i] == EINVAL)
            set_url(b, i, BAD_URL);
        else if (failing[i] != 0)
            set_url(b, i, REFUSED_URL);
        else
            set_limited(b, i, 50);
    }
    b->deadline_ms = 1000;   /* 0.2 s of work: room for a stall; a leaked permit waits it out */
    int rc = run_batch(b);
    kit_expect_done(rc, "fetch_capped", "capped.c");
    for (size_t i = 0; i < N; i++) {
        if (failing[i])
            continue;
        if (sent_count(b, i) == 0) {
            not_sent++;
            if (first_stuck == N)
                first_stuck = i;
        }
        good += b->f[i].rc == 0 && b->f[i].resp.status == 200;
    }
    cr_assert(!(b->stalled || not_sent > 0), "[permit-leak-error] f[2] (%s) failed with "
              "-EINVAL and f[5], f[6] (%s) with -ECONNREFUSED, and afterwards %zu %s never sent "
              "(the first f[%zu])%s: a fetch that fails must give its permit back. Is the "
              "release skipped when fetch_one returns an error?", BAD_URL, REFUSED_URL,
              not_sent, kit_plural((long)not_sent, "fetch was", "fetches were"), first_stuck,
              b->stalled ? " and fetch_capped never returned" : "");
    cr_assert_eq(unjoined_at_return, 0, "[never-joined] after failures, fetch_capped returned "
                 "with %zu tasks never joined.", unjoined_at_return);
    cr_assert(!(inflight_peak > K && sem_inits > 1), "[sem-per-task] with failures: %ld "
              "requests in flight at once, cap %d, and aio_sem_init() called %ld times.",
              inflight_peak, K, sem_inits);
    cr_assert(inflight_peak <= K, "[over-limit] with failures: %ld requests in flight at once, "
              "cap %d. Is a permit given back twice on the error path?", inflight_peak, K);
    for (size_t i = 0; i < N; i++)
        if (failing[i])
            cr_assert_eq(b->f[i].rc, -failing[i], "[slot-rc] f[%zu] (%s) has rc %s; expected "
                         "%s.", i, b->url[i], kit_errname(b->f[i].rc), kit_errname(-failing[i]));
    cr_assert_eq(good, N - 3, "[slot-status] %zu of the 10 good fetches answered 200.", good);
    cr_assert_eq(rc, -EINVAL, "[first-error] fetch_capped returned %s; expected the first "
                 "error in request order, f[2]'s -EINVAL (f[5] and f[6] failed with "
                 "-ECONNREFUSED).", kit_errname(rc));
    cr_assert_eq(kit_stats_status(base, 429), 0, "[got-429] with failures, the server answered "
                 "429.");
    cr_assert(b->wall_s - b->busy_s < 0.6, "[too-slow] with 3 quick failures, 10 fetches of 50 "
              "ms at 3 at a time took %.3f s (the time the busy machine kept it from a CPU "
              "taken off); about 0.2 s expected.", b->wall_s - b->busy_s);
    kit_expect_no_leaks("fetch_capped");
}

/* ---- deadlines ---------------------------------------------------------------------------- */

Test(capped3, deadline_before_a_slot)
{
    /* 7 fetches, 2 at a time, 700 ms for the batch: f[0..3] of 100 ms answer by 200 ms (500 ms
     * before the deadline, room for a slow or loaded machine), f[4] and f[5] of 1000 ms are
     * sent at about 200 ms and cut at 700 (they would end at 1200), f[6] never gets a slot
     * (the next one frees at 1200). */
    enum { N = 7, K = 2 };
    struct batch *b = batch_new(N, K);

    for (size_t i = 0; i < N; i++)
        set_limited(b, i, i < 4 ? 100 : 1000);
    b->deadline_ms = 700;
    int rc = run_batch(b);
    kit_expect_done(rc, "fetch_capped", "capped.c");
    cr_assert(!b->stalled, "[stall] a batch with a 700 ms deadline had not ended %d ms later",
              WATCHDOG_MS);
    cr_assert_eq(unjoined_at_return, 0, "[never-joined] at the deadline, fetch_capped returned "
                 "with %zu tasks never joined.", unjoined_at_return);
    cr_assert(inflight_peak <= K, "[over-limit] %ld requests in flight at once, cap %d.",
              inflight_peak, K);
    cr_assert_eq(sent_count(b, 6), 0, "[sent-after-deadline] f[6] could only have had a slot "
                 "after the batch's deadline (700 ms, slots free at 1200 ms), and it was sent "
                 "anyway. A fetch waits for its slot only until the deadline.");
    cr_assert_eq(b->f[6].rc, -ETIMEDOUT, "[deadline-rc] f[6] never got a slot before the "
                 "deadline; its rc is %s, expected -ETIMEDOUT.", kit_errname(b->f[6].rc));
    for (size_t i = 0; i < 4; i++)
        cr_assert(b->f[i].rc == 0 && b->f[i].resp.status == 200, "[slot-status] f[%zu] "
                  "(done by 200 ms, the deadline at 700) has rc %s and status %ld.", i,
                  kit_errname(b->f[i].rc), b->f[i].resp.status);
    for (size_t i = 4; i < 6; i++)
        cr_assert_eq(b->f[i].rc, -ETIMEDOUT, "[deadline-rc] f[%zu] (1000 ms, sent at about "
                     "200 ms) was still running at the deadline (700 ms); its rc is %s, "
                     "expected -ETIMEDOUT.", i, kit_errname(b->f[i].rc));
    cr_assert_eq(rc, -ETIMEDOUT, "[first-error] fetch_capped returned %s; expected f[4]'s "
                 "-ETIMEDOUT.", kit_errname(rc));
    cr_assert(b->wall_s - b->busy_s < 0.70 + 0.35, "[deadline-ignored] the batch's deadline was "
              "700 ms and fetch_capped returned after %.3f s (the time the busy machine kept it "
              "from a CPU taken off).", b->wall_s - b->busy_s);
    kit_expect_no_leaks("fetch_capped");
}

/* ---- edges -------------------------------------------------------------------------------- */

Test(capped3, empty_and_invalid)
{
    struct batch *b = batch_new(0, 3);
    int rc = run_batch(b);
    kit_expect_done(rc, "fetch_capped", "capped.c");
    cr_assert_eq(rc, 0, "[empty-batch] fetch_capped of 0 fetches returned %s; expected 0.",
                 kit_errname(rc));
    b = batch_new(3, 0);
    for (size_t i = 0; i < 3; i++)
        set_limited(b, i, 10);
    rc = run_batch(b);
    cr_assert_eq(rc, -EINVAL, "[bad-cap] fetch_capped with k = 0 returned %s; expected "
                 "-EINVAL.", kit_errname(rc));
    cr_assert_eq(nreq, 0, "[bad-cap] fetch_capped with k = 0 sent %zu requests.", nreq);
    kit_expect_no_leaks("fetch_capped");
}

Test(capped3, spawn_fails)
{
    struct batch *b = batch_new(9, 3);
    for (size_t i = 0; i < 9; i++)
        set_limited(b, i, 50);
    counted_reset();
    kit_defer(free_batch, b);
    cr_assert_eq(kit_stats_reset(base), 0, "[server] could not reset the server's counts");
    spawn_fail_at = 2;
    cr_assert_eq(aio_run(batch_main, b), 0, "[runtime] the test's own loop failed");
    kit_expect_done(b->rc, "fetch_capped", "capped.c");
    cr_assert(!b->stalled, "[stall] after a failed aio_spawn, fetch_capped never returned.");
    cr_assert_eq(tasks_unjoined(), 0, "[never-joined] the 2nd aio_spawn failed and "
                 "fetch_capped returned with %zu tasks never joined.", tasks_unjoined());
    cr_assert_eq(b->rc, -ENOMEM, "[spawn-failed] the 2nd aio_spawn failed and fetch_capped "
                 "returned %s; expected -ENOMEM.", kit_errname(b->rc));
    kit_expect_no_leaks("fetch_capped");
}

Test(capped3, allocation_fails)
{
    /* The 1st, 2nd, 3rd... allocation fetch_capped makes fails, one per run: each run must end
     * with -ENOMEM (or 0 when it needed fewer allocations, every fetch done), no task left,
     * nothing leaked. */
    for (long at = 1; at <= 4; at++) {
        struct batch *b = batch_new(3, 3);
        for (size_t i = 0; i < 3; i++)
            set_limited(b, i, 20);
        b->fail_alloc_at = at;
        int rc = run_batch(b);
        kit_expect_done(rc, "fetch_capped", "capped.c");
        cr_assert(!b->stalled, "[stall] when allocation %ld failed, fetch_capped never "
                  "returned.", at);
        cr_assert_eq(unjoined_at_return, 0, "[never-joined] when allocation %ld failed, "
                     "fetch_capped returned with %zu tasks never joined.", at,
                     unjoined_at_return);
        if (rc == 0) {
            for (size_t i = 0; i < 3; i++)
                cr_assert(b->f[i].rc == 0 && b->f[i].resp.status == 200, "[alloc-failed] "
                          "allocation %ld failed and fetch_capped returned 0, but f[%zu] has rc "
                          "%s and status %ld.", at, i, kit_errname(b->f[i].rc),
                          b->f[i].resp.status);
        } else {
            cr_assert_eq(rc, -ENOMEM, "[alloc-failed] allocation %ld failed and fetch_capped "
                         "returned %s; expected -ENOMEM.", at, kit_errname(rc));
        }
        kit_expect_no_leaks("fetch_capped (when an allocation fails)");
    }
}
