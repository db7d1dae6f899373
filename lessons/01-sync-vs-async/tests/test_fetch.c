/* Lesson 01 tests: what the server saw (requests in flight at once), the order of results,
 * CPU time against wall time, and libcurl handles counted as they are made and cleaned up. */
#include "fetch.h"
#include "kit.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define URL_MAX 256
#define MAX_URLS 16
#define SPIN_CALLS 1000 /* curl_multi_perform calls that mean "never slept" (a sleeping loop makes ~20) */

/* ---- counting libcurl calls (the test binary is linked with -Wl,--wrap=...) ----------- */

static long n_easy_init, n_easy_cleanup, n_multi_add, n_multi_remove, n_perform, n_poll;

CURL *__real_curl_easy_init(void);
void __real_curl_easy_cleanup(CURL *h);
CURLMcode __real_curl_multi_add_handle(CURLM *m, CURL *h);
CURLMcode __real_curl_multi_remove_handle(CURLM *m, CURL *h);
CURLMcode __real_curl_multi_perform(CURLM *m, int *running);
CURLMcode __real_curl_multi_poll(CURLM *m, struct curl_waitfd *fds, unsigned n, int ms, int *ret);
CURLMcode __real_curl_multi_wait(CURLM *m, struct curl_waitfd *fds, unsigned n, int ms, int *ret);

CURL *__wrap_curl_easy_init(void)
{
    CURL *h = __real_curl_easy_init();
    n_easy_init += h != NULL;
    return h;
}

void __wrap_curl_easy_cleanup(CURL *h)
{
    n_easy_cleanup += h != NULL;
    __real_curl_easy_cleanup(h);
}

CURLMcode __wrap_curl_multi_add_handle(CURLM *m, CURL *h)
{
    n_multi_add++;
    return __real_curl_multi_add_handle(m, h);
}

CURLMcode __wrap_curl_multi_remove_handle(CURLM *m, CURL *h)
{
    n_multi_remove++;
    return __real_curl_multi_remove_handle(m, h);
}

CURLMcode __wrap_curl_multi_perform(CURLM *m, int *running)
{
    n_perform++;
    return __real_curl_multi_perform(m, running);
}

CURLMcode __wrap_curl_multi_poll(CURLM *m, struct curl_waitfd *fds, unsigned n, int ms, int *ret)
{
    n_poll++;
    return __real_curl_multi_poll(m, fds, n, ms, ret);
}

CURLMcode __wrap_curl_multi_wait(CURLM *m, struct curl_waitfd *fds, unsigned n, int ms, int *ret)
{
    n_poll++;
    return __real_curl_multi_wait(m, fds, n, ms, ret);
}

/* ---- one workload: URLs, results, and what the run cost -------------------------------- */

struct run;
static const char *base;
static struct run *current; /* freed by teardown, even when an assertion ended the test early */

struct run {
    size_t n;
    char url[MAX_URLS][URL_MAX];
    const char *urls[MAX_URLS];
    struct fetch_result results[MAX_URLS];
    int rc;
    double wall, cpu;
    struct kit_stats stats;
    long easy_made, easy_freed, added, removed, performs, polls;
    int fds_before, fds_after;
};

static void setup(void)
{
    base = kit_server_start(NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void finish(void);

static void teardown(void)
{
    finish();
    curl_global_cleanup();
    kit_server_stop();
}

/* Add a URL, "%s" standing for the server's base. */
static void add_url(struct run *r, const char *path)
{
    snprintf(r->url[r->n], URL_MAX, "%s%s", base, path);
    r->urls[r->n] = r->url[r->n];
    r->n++;
}

static void add_delays(struct run *r, size_t n, int delay_ms)
{
    char path[64];

    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "/delay/%d?tag=%zu", delay_ms, i);
        add_url(r, path);
    }
}

/* Run fetch_sequential or fetch_concurrent over r's URLs, recording the evidence. */
static void run_fetch(struct run *r, int concurrent)
{
    const char *name = concurrent ? "fetch_concurrent" : "fetch_sequential";

    current = r;
    cr_assert_eq(kit_stats_reset(base), 0, "[server] the test server did not answer /reset");
    n_easy_init = n_easy_cleanup = n_multi_add = n_multi_remove = n_perform = n_poll = 0;
    r->fds_before = kit_open_fds();
    r->wall = kit_wall();
    r->cpu = kit_cpu();
    r->rc = concurrent ? fetch_concurrent(r->urls, r->n, r->results)
                       : fetch_sequential(r->urls, r->n, r->results);
    r->wall = kit_wall() - r->wall;
    r->cpu = kit_cpu() - r->cpu;
    r->fds_after = kit_open_fds();
    r->easy_made = n_easy_init;
    r->easy_freed = n_easy_cleanup;
    r->added = n_multi_add;
    r->removed = n_multi_remove;
    r->performs = n_perform;
    r->polls = n_poll;
    cr_assert_neq(r->rc, -ENOSYS, "[not-done] %s still returns -ENOSYS: it is the skeleton's "
                  "stub. Start at its TODO in fetch.c (and `make hint-01` if stuck).", name);
    cr_assert_eq(r->rc, 0, "[return-code] %s returned %d (%s); it should return 0 when the "
                 "fetch ran, even if some requests failed.", name, r->rc, strerror(-r->rc));
    cr_assert_eq(kit_stats_get(base, &r->stats), 0, "[server] the test server did not answer "
                 "/stats");
}

/* results[i] must be the answer to urls[i]: /delay bodies echo their query, "tag=i". */
static void expect_in_order(struct run *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++) {
        char want[32];
        const char *body = r->results[i].body;
        const char *tag = body != NULL ? strstr(body, "tag=") : NULL;

        snprintf(want, sizeof want, "tag=%zu\"", i);
        cr_assert_eq(r->results[i].status, 200, "[status] %s: results[%zu].status is %ld, "
                     "expected 200 for %s. Read it with curl_easy_getinfo("
                     "CURLINFO_RESPONSE_CODE) after the transfer is done.",
                     name, i, r->results[i].status, r->urls[i]);
        cr_assert_not_null(body, "[body] %s: results[%zu].body is NULL; pass &results[i] as "
                           "CURLOPT_WRITEDATA with fetch_collect_body as the write function.",
                           name, i);
        cr_assert(tag != NULL && strncmp(tag, want, strlen(want)) == 0,
                  "[completion-order] %s: results[%zu] holds the answer to another request "
                  "(its body is %s). results[i] must be urls[i]'s answer whatever order they "
                  "finish in, as asyncio.gather keeps its arguments' order: write each body "
                  "straight into results[i].", name, i, body);
    }
}

/* Every handle the function made, it cleaned up; every descriptor it opened, it closed. */
static void expect_tidy(struct run *r, const char *name)
{
    cr_assert_eq(r->added, r->removed, "[handle-leak] %s added %ld easy handles to the multi "
                 "handle but removed %ld. Call curl_multi_remove_handle() for each one before "
                 "curl_easy_cleanup().", name, r->added, r->removed);
    cr_assert_eq(r->easy_made, r->easy_freed, "[handle-leak] %s made %ld easy handles but "
                 "cleaned up %ld. Each curl_easy_init() needs its curl_easy_cleanup(), or every "
                 "call leaks memory and a connection.", name, r->easy_made, r->easy_freed);
    cr_assert_eq(r->fds_after, r->fds_before, "[fd-leak] %s left %d descriptors open (before: "
                 "%d, after: %d). Connections live as long as their handles: clean them all up.",
                 name, r->fds_after - r->fds_before, r->fds_before, r->fds_after);
}

/* Free the results of the test's run, if any. */
static void finish(void)
{
    if (current != NULL)
        fetch_results_free(current->results, current->n);
    current = NULL;
}

/* The end of a test: results freed, then nothing else may be left allocated. */
static void expect_no_leaks(const char *name)
{
    finish();
    cr_assert(!kit_leaked(), "[memory-leak] %s leaked memory: LeakSanitizer's report in the full "
              "log says where it was allocated. Whatever your code mallocs or curl_*_init()s, "
              "it must free or clean up before returning.", name);
}

/* One request that cannot connect between two that work: the failed one must end with status 0
 * and the others must still be answered. first_delay_ms is how long the first one takes. */
static void expect_failure_isolated(int concurrent, int first_delay_ms)
{
    const char *name = concurrent ? "fetch_concurrent" : "fetch_sequential";
    struct run r = { 0 };
    char path[64];

    snprintf(path, sizeof path, "/delay/%d?tag=0", first_delay_ms);
    add_url(&r, path);
    snprintf(r.url[1], URL_MAX, "http://127.0.0.1:1/refused"); /* nothing listens on port 1 */
    r.urls[1] = r.url[1];
    r.n = 2;
    add_url(&r, "/status/404");
    run_fetch(&r, concurrent);
    cr_assert_eq(r.results[1].status, 0, "[failed-status] %s: results[1] (a refused connection) "
                 "has status %ld; a transfer that failed must leave status 0.", name,
                 r.results[1].status);
    for (size_t i = 0; i < 3; i += 2) {
        long want = i == 0 ? 200 : 404;

        cr_assert_eq(r.results[i].status, want, "[error-isolation] %s: results[%zu].status is "
                     "%ld, expected %ld: one failed transfer must not stop the others.", name, i,
                     r.results[i].status, want);
    }
    expect_no_leaks(name);
}

TestSuite(sequential, .init = setup, .fini = teardown, .timeout = 20);
TestSuite(concurrent, .init = setup, .fini = teardown, .timeout = 20);

/* ---- fetch_sequential ------------------------------------------------------------------ */

Test(sequential, results_come_back_in_request_order)
{
    struct run r = { 0 };

    add_delays(&r, 4, 50);
    run_fetch(&r, 0);
    expect_in_order(&r, "fetch_sequential");
    expect_no_leaks("fetch_sequential");
}

Test(sequential, one_request_in_flight_at_a_time)
{
    struct run r = { 0 };

    add_delays(&r, 5, 100);
    run_fetch(&r, 0);
    cr_assert_eq(r.stats.requests, 5, "[request-count] the server saw %ld requests; "
                 "fetch_sequential should send exactly 1 per URL (5).", r.stats.requests);
    cr_assert_eq(r.stats.peak, 1, "[overlap] the server saw %ld requests in flight at once; "
                 "a sequential fetch has exactly 1. Use curl_easy_perform(), which returns only "
                 "when its transfer is done.", r.stats.peak);
    expect_no_leaks("fetch_sequential");
}

Test(sequential, a_failed_request_does_not_stop_the_rest)
{
    expect_failure_isolated(0, 10);
}

Test(sequential, cleans_up_every_handle)
{
    struct run r = { 0 };

    add_delays(&r, 3, 10);
    run_fetch(&r, 0);
    expect_tidy(&r, "fetch_sequential");
    expect_no_leaks("fetch_sequential");
}

/* ---- fetch_concurrent ------------------------------------------------------------------ */

Test(concurrent, all_requests_in_flight_at_once)
{
    struct run r = { 0 };

    add_delays(&r, 8, 300);
    run_fetch(&r, 1);
    cr_assert_eq(r.stats.requests, 8, "[request-count] the server saw %ld requests; "
                 "fetch_concurrent should send exactly 1 per URL (8).", r.stats.requests);
    cr_assert_neq(r.stats.peak, 1, "[peak-1] the server saw 1 request in flight at a time; "
                  "fetch_concurrent should have all 8 in flight at once. Did you wait for each "
                  "transfer to finish before adding the next handle?");
    cr_assert_eq(r.stats.peak, 8, "[peak-low] the server saw at most %ld of 8 requests in "
                 "flight at once; add every easy handle to the multi handle before waiting.",
                 r.stats.peak);
    expect_no_leaks("fetch_concurrent");
}

Test(concurrent, results_come_back_in_request_order)
{
    struct run r = { 0 };

    /* The first request finishes last: completion order is the reverse of request order. */
    add_url(&r, "/delay/400?tag=0");
    add_url(&r, "/delay/250?tag=1");
    add_url(&r, "/delay/100?tag=2");
    add_url(&r, "/delay/0?tag=3");
    run_fetch(&r, 1);
    expect_in_order(&r, "fetch_concurrent");
    expect_no_leaks("fetch_concurrent");
}

Test(concurrent, sleeps_while_waiting)
{
    struct run r = { 0 };

    add_delays(&r, 4, 600);
    run_fetch(&r, 1);
    /* Two witnesses. A loop that sleeps in curl_multi_poll wakes a few dozen times for four
     * transfers; one that never sleeps calls curl_multi_perform tens of thousands of times.
     * And a spinning loop burns CPU for the whole wait, whatever waiting call it skipped; a
     * sleeping one uses a few ms. Half the wall time leaves room for a slow, shared machine. */
    cr_assert(r.performs < SPIN_CALLS && r.cpu < 0.5 * r.wall, "[busy-loop] fetch_concurrent "
              "called curl_multi_perform %ld times and used %.2f s of CPU in %.2f s of waiting "
              "(curl_multi_poll was called %ld times): it spins instead of sleeping. Call "
              "curl_multi_poll() between calls to curl_multi_perform() while transfers are "
              "running.", r.performs, r.cpu, r.wall, r.polls);
    expect_no_leaks("fetch_concurrent");
}

Test(concurrent, a_failed_request_does_not_stop_the_rest)
{
    /* The refused connection fails at once, long before the 200 ms request is answered. */
    expect_failure_isolated(1, 200);
}

Test(concurrent, cleans_up_every_handle)
{
    struct run r = { 0 };

    add_delays(&r, 6, 50);
    run_fetch(&r, 1);
    expect_tidy(&r, "fetch_concurrent");
    expect_no_leaks("fetch_concurrent");
}
