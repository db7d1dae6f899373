/* Lesson 10 tests, part two: the fetch-once cache. The witnesses: the requests sent for each
 * url (aio_http_get is counted, with its url) and the server's own count and peak in flight;
 * each asker's return value and answer (its url's body: delayd's body names the query); the
 * cache's entries afterwards (users, state, locks), what the server still had in flight; the
 * polling calls counted (LDWRAP); leaks. The test waits for evidence (a request has started,
 * an asker has returned), never a fixed sleep. */
#include "cache.h"
#include "counted.h"
#include "kit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
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

TestSuite(cache, .init = setup, .fini = teardown, .timeout = 20);

#define ASKERS_MAX 200
#define URLS_MAX 40
#define NOT_RUN 77777
/* A port nothing listens on: a request there fails at once with -ECONNREFUSED. */
#define REFUSED "http://127.0.0.1:1/refused?u=9"

struct asker {
    struct cache *c;
    size_t u;                  /* which of the scene's urls */
    int64_t deadline;          /* absolute; set when spawned */
    int64_t after_ms;          /* the deadline, relative (0: 4 s, the test's guard) */
    int rc;
    struct cache_answer a;
    int done;
    int64_t began_at, done_at;
    aio_task *t;
};

struct scene {
    int (*steps)(struct scene *s);
    const char *paths[URLS_MAX];
    const char *urls[URLS_MAX];
    const char *query[URLS_MAX];  /* what the url's body holds: "query":"u=K" */
    size_t nurls;
    struct asker a[ASKERS_MAX];
    size_t n;
    aio_http *http;
    struct cache cache;
    int cache_live;
    struct kit_wait wait;
    long count[8];
};

static int ask(void *arg)
{
    struct asker *a = arg;
    struct scene *s = (struct scene *)((char *)a->c - offsetof(struct scene, cache));

    a->began_at = aio_now();
    a->rc = cache_get(a->c, s->urls[a->u], &a->a, a->deadline);
    a->done = 1;
    a->done_at = aio_now();
    return 0;
}

static void spawn(struct scene *s, size_t i, size_t u, int64_t after_ms)
{
    struct asker *a = &s->a[i];

    *a = (struct asker){ .c = &s->cache, .u = u, .after_ms = after_ms, .rc = NOT_RUN };
    a->deadline = aio_now() + (after_ms > 0 ? after_ms : 4000);
    a->t = __real_aio_spawn(ask, a);
    if (i + 1 > s->n)
        s->n = i + 1;
}

static void join_all(struct scene *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->a[i].t != NULL)
            __real_aio_join(s->a[i].t, AIO_NEVER);
        s->a[i].t = NULL;
    }
}

static int scene_main(void *arg)
{
    struct scene *s = arg;

    counted_reset();
    watching = 1;
    int rc = s->steps(s);
    join_all(s);
    watching = 0;
    return rc;
}

static void free_scene(void *arg)
{
    struct scene *s = arg;
    if (s->cache_live)
        cache_free(&s->cache);
    s->cache_live = 0;
    aio_http_free(s->http);
    s->http = NULL;
}

static struct scene *scene_new(int (*steps)(struct scene *), const char *const *paths,
                               size_t nurls)
{
    struct scene *s = kit_alloc(sizeof *s);

    cr_assert(base != NULL, "[server] the test's delayd did not start");
    s->steps = steps;
    s->nurls = nurls;
    for (size_t u = 0; u < nurls; u++) {
        s->paths[u] = paths[u];
        s->urls[u] = paths[u][0] == '/' ? kit_sprintf("%s%s", base, paths[u]) : paths[u];
        const char *q = strchr(paths[u], '?');
        s->query[u] = kit_sprintf("\"query\":\"%s\"", q != NULL ? q + 1 : "");
    }
    kit_defer(free_scene, s);
    return s;
}

static void run(struct scene *s)
{
    cr_assert_eq(kit_stats_reset(base), 0, "[server] could not reset delayd");
    s->http = aio_http_new();
    cr_assert(s->http != NULL, "[harness] aio_http_new failed");
    cache_init(&s->cache, s->http);
    s->cache_live = 1;
    int rc = aio_run(scene_main, s);
    cr_assert_eq(rc, 0, "[deadlock] the test's loop ended with %s: every task was waiting and "
                 "nothing could wake any of them.", kit_errname(rc));
    for (size_t i = 0; i < s->n; i++)
        kit_expect_done(s->a[i].rc, "cache_get", "cache.c");
    kit_expect_waited(&s->wait);
}

static long requests_for(const struct scene *s, size_t u)
{
    return requests_to(s->urls[u]);
}

/* An asker that waited until the test's own 4 s guard: nothing woke it, long after every
 * fetch had ended. */
static void expect_not_stuck(const struct scene *s, size_t i)
{
    const struct asker *a = &s->a[i];

    cr_assert(!(a->rc == -ETIMEDOUT && a->after_ms == 0 && a->done_at >= a->deadline),
              "[waiter-stuck] asker %zu of %s "
              "waited until the test's 4 s guard and got -ETIMEDOUT, though every fetch took "
              "far less. Does some way out of cache_get (an error, a cancel) leave without "
              "lock_release, so that the askers queued behind it are never handed the lock?",
              i, s->paths[a->u]);
}

/* Asker i got its url's answer: 0, status 200, the body of that very url. */
static void expect_answer(const struct scene *s, size_t i)
{
    const struct asker *a = &s->a[i];
    const char *path = s->paths[a->u];

    expect_not_stuck(s, i);
    cr_assert_eq(a->rc, 0, "[asker-failed] asker %zu of %s got %s; expected 0 and the answer.",
                 i, path, kit_errname(a->rc));
    cr_assert(a->a.status == 200 && a->a.body != NULL && strstr(a->a.body, s->query[a->u]) &&
                  a->a.len == strlen(a->a.body),
              "[answer-wrong] asker %zu of %s got status %ld, %zu bytes: '%s'; expected 200 "
              "and that url's own body (%s).", i, path, a->a.status, a->a.len,
              a->a.body != NULL ? a->a.body : "(none)", s->query[a->u]);
}

static void expect_error(const struct scene *s, size_t i, int want, const char *id,
                         const char *why)
{
    const struct asker *a = &s->a[i];

    if (want != -ETIMEDOUT)
        expect_not_stuck(s, i);
    cr_assert_eq(a->rc, want, "[%s] asker %zu of %s got %s; expected %s: %s", id, i,
                 s->paths[a->u], kit_errname(a->rc), kit_errname(want), why);
    cr_assert(a->a.status == 0 && a->a.body == NULL, "[answer-on-error] asker %zu of %s "
              "returned %s but its answer was written (status %ld): *out is written on "
              "success only.", i, s->paths[a->u], kit_errname(a->rc), a->a.status);
}

/* The most requests for url u in flight at once, as counted when each began (the clock, in
 * whole milliseconds, cannot order a request that ends and the next that starts in the same
 * millisecond: a cancelled fetch and its successor often do). */
static long overlap_for(const struct scene *s, size_t u)
{
    long most = 0;

    for (size_t i = 0; i < nreq && i < TRACK_MAX; i++)
        if (strcmp(urls_seen[i], s->urls[u]) == 0 && req_open_at_start[i] > most)
            most = req_open_at_start[i];
    return most;
}

static void expect_fetched_once(const struct scene *s, size_t u, const char *who)
{
    long k = requests_for(s, u);
    long together = overlap_for(s, u);

    cr_assert(k >= 1, "[never-fetched] %s: nothing was sent for %s.", who, s->paths[u]);
    cr_assert(k == 1 || together < 2, "[duplicate-fetch] %s: %ld requests were sent for %s, "
              "%ld of them in flight at once; expected 1. The askers that came while its "
              "fetch was on its way saw no answer yet and fetched too: the check and the "
              "fetch must be under one hold of the url's lock, the await included.", who, k,
              s->paths[u], together);
    cr_assert_eq(k, 1, "[refetch-after-wait] %s: %ld requests were sent for %s, one after "
                 "another; expected 1. Each asker fetched again when the lock came to it, "
                 "though the answer was in by then: what you saw before you waited is stale; "
                 "look at the entry again once the lock is yours.", who, k, s->paths[u]);
}

/* The server still had nothing in flight, waited for (a hang-up takes it a few ms). */
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

/* After every test: no asker inside an entry, no lock held or queued, no entry without an
 * answer, ready entries as expected, no polling, nothing in flight. */
static void expect_clean(struct scene *s, size_t ready)
{
    size_t users = 0, held = 0, queued = 0, empty = 0, failed = 0;

    for (struct cache_entry *e = s->cache.head; e != NULL; e = e->next) {
        users += (size_t)e->users;
        held += lock_holder(&e->lock) != NULL;
        queued += lock_waiting(&e->lock);
        empty += e->state == ENTRY_EMPTY;
        failed += e->state == ENTRY_FAILED;
    }
    held += lock_holder(&s->cache.global) != NULL;
    cr_assert(held == 0 && queued == 0, "[lock-left-held] after every asker had returned, %zu "
              "%s still held and %zu %s queued: on every way out cache_get gives back the "
              "lock it took.", held, kit_plural((long)held, "lock was", "locks were"), queued,
              kit_plural((long)queued, "task", "tasks"));
    cr_assert(users == 0 && empty == 0 && failed == 0, "[entry-left] after every asker had "
              "returned, the cache held %zu %s without an answer (%zu empty, %zu failed) and "
              "counted %zu %s still inside: every cache_join needs its cache_leave, on every "
              "way out.", empty + failed, kit_plural((long)(empty + failed), "entry",
              "entries"), empty, failed, users, kit_plural((long)users, "asker", "askers"));
    cr_assert_eq(cache_ready(&s->cache), ready, "[answer-not-kept] the cache holds %zu %s; "
                 "expected %zu, one a url answered 2xx.", cache_ready(&s->cache),
                 kit_plural((long)cache_ready(&s->cache), "answer", "answers"), ready);
    cr_assert(polls == 0 && blocking_calls == 0, "[polling] cache_get called aio_yield, "
              "aio_sleep or aio_sleep_until %ld %s and blocked the thread %ld %s: an asker "
              "waits for the fetcher in lock_acquire.", polls, kit_plural(polls, "time",
              "times"), blocking_calls, kit_plural(blocking_calls, "time", "times"));
    long left = server_in_flight_settled();
    cr_assert_eq(left, 0, "[server-still-busy] the server still had %ld %s in flight after the "
                 "test's loop ended: a transfer that was never removed.", left,
                 kit_plural(left, "request", "requests"));
}

static void finish(struct scene *s, size_t ready)
{
    expect_clean(s, ready);
    free_scene(s);
    kit_expect_no_leaks("cache_get");
}

/* ---- one url, many askers ----------------------------------------------------------------- */

static int steps_all_at_once(struct scene *s)
{
    for (size_t i = 0; i < (size_t)s->count[0]; i++)
        spawn(s, i, i % s->nurls, 0);
    return 0;
}

Test(cache, thirteen_askers_one_fetch)
{
    static const char *const paths[] = { "/delay/60?u=0" };
    struct scene *s = scene_new(steps_all_at_once, paths, 1);
    s->count[0] = 13;
    run(s);
    expect_fetched_once(s, 0, "13 askers of one url at once");
    for (size_t i = 0; i < 13; i++)
        expect_answer(s, i);
    long seen = kit_stats_endpoint(base, "delay");
    cr_assert_eq(seen, 1, "[duplicate-fetch] the server saw %ld requests for one url asked 13 "
                 "times; expected 1.", seen);
    finish(s, 1);
}

/* ---- many urls: one fetch each, all at once ----------------------------------------------- */

static uint32_t seed;

static int steps_shuffled(struct scene *s)
{
    size_t order[ASKERS_MAX];
    uint32_t state = seed;

    kit_shuffle(order, (size_t)s->count[0], &state);
    for (size_t i = 0; i < (size_t)s->count[0]; i++)
        spawn(s, order[i], order[i] % s->nurls, 0);
    if (s->count[1] > 0) {
        /* A second round, once the first is over: every answer is in. */
        join_all(s);
        s->count[2] = (long)nreq;
        s->count[3] = parks;
        for (size_t i = 0; i < (size_t)s->count[1]; i++)
            spawn(s, (size_t)s->count[0] + i, i % s->nurls, 0);
    }
    return 0;
}

static void expect_distinct_overlap(struct scene *s, size_t askers)
{
    char who[96];

    snprintf(who, sizeof who, "%zu askers of %zu urls, shuffled (seed %u)", askers, s->nurls,
             seed);
    struct kit_stats st = { 0 };
    cr_assert_eq(kit_stats_get(base, &st), 0, "[server] could not read delayd's /stats");
    /* The fetches start in one pass of the loop (counted as they start); the server sees them
     * together unless the machine stalls for a whole delay between two of them, so only a
     * server peak of 1 counts against the answer. */
    cr_assert(inflight_peak >= (long)s->nurls && st.peak > 1,
              "[fetch-serialized] %s: at most %ld of the %zu fetches were in flight at once "
              "(the server saw %ld); expected all %zu together. Askers of different urls must "
              "not wait for each other: is one lock held across every fetch?", who,
              inflight_peak, s->nurls, st.peak, s->nurls);
    for (size_t u = 0; u < s->nurls; u++)
        expect_fetched_once(s, u, who);
    for (size_t i = 0; i < askers; i++)
        expect_answer(s, i);
    cr_assert(st.requests == (long)s->nurls, "[duplicate-fetch] the server saw %ld requests "
              "for %zu urls; expected %zu.", st.requests, s->nurls, s->nurls);
    cr_assert(inflight_peak == (long)s->nurls && st.peak <= (long)s->nurls,
              "[duplicate-fetch] %s: %ld fetches were in flight at once (the server saw %ld) "
              "for %zu urls; expected at most one a url.", who, inflight_peak, st.peak,
              s->nurls);
}

Test(cache, thirty_three_askers_seven_urls)
{
    static const char *const paths[] = { "/delay/150?u=0", "/delay/150?u=1", "/delay/150?u=2",
                                         "/delay/150?u=3", "/delay/150?u=4", "/delay/150?u=5",
                                         "/delay/150?u=6" };
    seed = kit_seed();
    struct scene *s = scene_new(steps_shuffled, paths, 7);
    s->count[0] = 33;
    s->count[1] = 13;
    run(s);
    expect_distinct_overlap(s, 33);
    for (size_t i = 33; i < 46; i++)
        expect_answer(s, i);
    long later = (long)nreq - s->count[2];
    cr_assert(later == 0, "[refetch-cached] 13 askers came after every answer was in, and %ld "
              "more %s sent; expected none: an answer in the cache is given, not fetched "
              "again.", later, kit_plural(later, "request was", "requests were"));
    for (size_t i = 33; i < 46; i++) {
        const struct cache_entry *e = cache_find(&s->cache, s->urls[s->a[i].u]);
        cr_assert(e != NULL && s->a[i].a.body == e->body, "[answer-wrong] asker %zu (second "
                  "round) got a body that is not the cache's own: the answer is borrowed "
                  "from the entry (cache_answer_of).", i);
    }
    cr_assert_eq(parks, s->count[3], "[cached-waits] 13 askers of answers already in parked "
                 "%ld times; expected none: nobody holds those locks.", parks - s->count[3]);
    finish(s, 7);
}

Test(cache, two_hundred_askers_thirty_three_urls)
{
    static const char *paths[33];
    for (size_t u = 0; u < 33; u++)
        paths[u] = kit_sprintf("/delay/200?u=%zu", u);
    seed = kit_seed();
    struct scene *s = scene_new(steps_shuffled, paths, 33);
    s->count[0] = 200;
    run(s);
    expect_distinct_overlap(s, 200);
    finish(s, 33);
}

/* ---- failures --------------------------------------------------------------------------- */

/* Askers of a url that fails, beside askers of one that does not; then, once they have all
 * returned, two more askers of the failing url. */
static int steps_failure(struct scene *s)
{
    for (size_t i = 0; i < 8; i++)
        spawn(s, i, i % 2 == 0 || i == 7 ? 0 : 1, 0);
    join_all(s);
    s->count[0] = requests_for(s, 0);
    s->count[1] = (long)cache_size(&s->cache);
    spawn(s, 8, 0, 0);
    spawn(s, 9, 0, 0);
    return 0;
}

static void expect_failure_shared(struct scene *s, int want, const char *what)
{
    /* askers 0, 2, 4, 6, 7 asked for url 0 (failing), 1, 3, 5 for url 1 */
    static const size_t failing[] = { 0, 2, 4, 6, 7 };
    char why[200];

    snprintf(why, sizeof why, "%s fails every asker waiting on that fetch with its error.",
             what);
    cr_assert(s->count[0] >= 1, "[never-fetched] nothing was sent for %s.", s->paths[0]);
    cr_assert_eq(s->count[0], 1, "[failure-not-shared] 5 askers of %s at once sent %ld "
                 "requests; expected 1: %s The askers waiting on a failed fetch are told, they "
                 "do not each try again.", s->paths[0], s->count[0], why);
    for (size_t k = 0; k < 5; k++)
        expect_error(s, failing[k], want, "failure-rc", why);
    for (size_t i = 1; i < 6; i += 2)
        expect_answer(s, i);
    expect_fetched_once(s, 1, "3 askers of a good url beside a failing one");
    cr_assert_eq(s->count[1], 1, "[failure-cached] once every asker of the failed url had "
                 "returned, the cache held %ld %s; expected 1 (the good url's): a failure is "
                 "not kept.", s->count[1], kit_plural(s->count[1], "entry", "entries"));
    long again = requests_for(s, 0) - s->count[0];
    cr_assert(again == 1, "[failure-cached] after the failure, 2 new askers of %s sent %ld "
              "%s; expected 1: the next ask after a failure fetches again, once.",
              s->paths[0], again, kit_plural(again, "request", "requests"));
    expect_error(s, 8, want, "failure-rc", why);
    expect_error(s, 9, want, "failure-rc", why);
    finish(s, 1);
}

Test(cache, refused_is_shared_and_not_kept)
{
    static const char *const paths[] = { REFUSED, "/delay/30?u=1" };
    struct scene *s = scene_new(steps_failure, paths, 2);
    run(s);
    expect_failure_shared(s, -ECONNREFUSED, "a refused connection");
}

Test(cache, not_2xx_is_shared_and_not_kept)
{
    static const char *const paths[] = { "/status/503?u=0", "/delay/30?u=1" };
    struct scene *s = scene_new(steps_failure, paths, 2);
    run(s);
    expect_failure_shared(s, -EIO, "an answer that is not 2xx (-EIO)");
}

/* ---- no memory for an entry ------------------------------------------------------------- */

/* Asker 1 is the first of url 1: its entry cannot be had. Asker 2, of the same url, comes
 * next and makes it. */
static int steps_no_memory(struct scene *s)
{
    entry_fail_at = 2;
    spawn(s, 0, 0, 0);
    spawn(s, 1, 1, 0);
    spawn(s, 2, 1, 0);
    spawn(s, 3, 2, 0);
    return 0;
}

Test(cache, no_memory_for_an_entry)
{
    static const char *const paths[] = { "/delay/30?u=0", "/delay/30?u=1", "/delay/30?u=2" };
    struct scene *s = scene_new(steps_no_memory, paths, 3);
    run(s);
    expect_error(s, 1, -ENOMEM, "no-memory", "cache_join found no memory for its entry.");
    expect_answer(s, 0);
    expect_answer(s, 2);
    expect_answer(s, 3);
    for (size_t u = 0; u < 3; u++)
        expect_fetched_once(s, u, "an asker without memory for its entry, among 4");
    finish(s, 3);
}

/* ---- the fetcher gives up: cancelled, or its deadline -------------------------------------- */

static int cancel_fetcher;

static int steps_fetcher_gives_up(struct scene *s)
{
    spawn(s, 0, 0, cancel_fetcher ? 0 : 40);
    spawn(s, 1, 0, 0);
    spawn(s, 2, 0, 0);
    s->wait.what = "the first asker's request to start";
    kit_wait_until(&s->wait, nreq >= 1 || s->a[0].done, __real_aio_yield());
    s->count[0] = (long)nreq;
    if (cancel_fetcher)
        aio_cancel(s->a[0].t);
    return 0;
}

static void expect_handed_on(struct scene *s, int want, const char *how)
{
    char why[160];

    snprintf(why, sizeof why, "the asker %s is the one that fails.", how);
    expect_error(s, 0, want, "fetcher-rc", why);
    for (size_t i = 1; i < 3; i++)
        expect_not_stuck(s, i);
    for (size_t i = 1; i < 3; i++)
        cr_assert(s->a[i].rc != want, "[giving-up-shared] the asker fetching %s %s, and the "
                  "asker %zu waiting on it got %s too; expected 0: that is the fetcher's own "
                  "end, not the url's failure, so the next asker in line fetches instead.",
                  s->paths[0], how, i, kit_errname(s->a[i].rc));
    for (size_t i = 1; i < 3; i++)
        expect_answer(s, i);
    long k = requests_for(s, 0), together = overlap_for(s, 0);
    cr_assert(together < 2, "[duplicate-fetch] the fetcher %s and its 2 waiters sent %ld "
              "requests, %ld of them in flight at once; expected 2, one after the other: the "
              "first asker's, then the next asker's in its place.", how, k, together);
    cr_assert_eq(k, 2, "[refetch-after-wait] the fetcher %s and its 2 waiters sent %ld "
                 "requests, one after another; expected 2: the first asker's, then the next "
                 "asker's in its place, whose answer the last one finds in. Look at the entry "
                 "again once the lock is yours.", how, k);
    finish(s, 1);
}

Test(cache, fetcher_cancelled_hands_on)
{
    static const char *const paths[] = { "/delay/200?u=0" };
    struct scene *s = scene_new(steps_fetcher_gives_up, paths, 1);
    cancel_fetcher = 1;
    run(s);
    expect_handed_on(s, -ECANCELED, "was cancelled");
}

Test(cache, fetcher_deadline_hands_on)
{
    static const char *const paths[] = { "/delay/500?u=0" };
    struct scene *s = scene_new(steps_fetcher_gives_up, paths, 1);
    cancel_fetcher = 0;
    run(s);
    cr_assert(s->a[0].done_at >= s->a[0].deadline, "[fetcher-rc] the fetcher's deadline was "
              "40 ms away and it returned %lld ms before it.",
              (long long)(s->a[0].deadline - s->a[0].done_at));
    expect_handed_on(s, -ETIMEDOUT, "reached its deadline");
}

/* ---- waiters that give up ---------------------------------------------------------------- */

static int steps_waiters_give_up(struct scene *s)
{
    spawn(s, 0, 0, 0);
    spawn(s, 1, 0, 40);
    spawn(s, 2, 0, 0);
    spawn(s, 3, 0, 0);
    spawn(s, 4, 0, 40);        /* the same deadline as asker 1 */
    s->wait.what = "the first asker's request to start";
    kit_wait_until(&s->wait, nreq >= 1 || s->a[0].done, __real_aio_yield());
    aio_cancel(s->a[2].t);
    return 0;
}

Test(cache, waiters_time_out_and_are_cancelled)
{
    static const char *const paths[] = { "/delay/300?u=0" };
    struct scene *s = scene_new(steps_waiters_give_up, paths, 1);
    run(s);
    expect_error(s, 1, -ETIMEDOUT, "waiter-rc", "its deadline passed while it waited.");
    expect_error(s, 4, -ETIMEDOUT, "waiter-rc", "its deadline passed while it waited.");
    expect_error(s, 2, -ECANCELED, "waiter-rc", "it was cancelled while it waited.");
    for (size_t i = 1; i < 5; i += 3)
        cr_assert(s->a[i].done_at >= s->a[i].deadline && s->a[i].done_at <= req_end[0],
                  "[waiter-timeout] asker %zu, with a deadline 40 ms away, returned %lld ms "
                  "after it, %s the fetch it waited for had ended; expected at its deadline, "
                  "while the fetch went on.", i,
                  (long long)(s->a[i].done_at - s->a[i].deadline),
                  s->a[i].done_at < req_end[0] ? "before" : "after");
    expect_answer(s, 0);
    expect_answer(s, 3);
    expect_fetched_once(s, 0, "5 askers of one url, 3 of them giving up while they waited");
    finish(s, 1);
}
