/* Lesson 12 tests, part two: crawl_run against delayd's page graph, whose links depend only on
 * a page's id and --pages N (page_links(), linked from delayd's content.c), so the test knows
 * every page's links. The pages are the mixed ones: each link written in another form, beside
 * links to leave alone. Witnesses: the pages the crawl lists (URL, depth, rc, status), checked
 * against the graph (a real parent one level up for each, every link of a page above the depth
 * limit followed, none below it); the server's /stats (its peak in flight, the /page requests)
 * and its --trace (each path fetched once, nothing fetched that the crawl does not list);
 * aio_http_get counted (in flight at once, after a cancel); polls and blocking sleeps; spawns
 * (refused on demand); the runtime's counts as crawl_run returns; leaks. */
#include "counted.h"
#include "crawl.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kit_test.h"
#include "../../../harness/delayd/content.h"

static const char *base;

static void teardown(void)
{
    kit_cleanup();
    kit_server_stop();
}

TestSuite(crawl, .fini = teardown, .timeout = 30);

/* A private delayd with --pages n, tracing. */
static void server(long n)
{
    char *pages = kit_sprintf("%ld", n);
    base = kit_server_start((const char *const[]){ "--pages", pages, "--trace", "20000", NULL });
}

/* One crawl and what the test saw of it. */
struct crun {
    long npages, start_id, delay_ms;
    size_t k, budget;
    int depth;
    long deadline_ms;          /* 0: none */
    const char *start;         /* when set, the start URL as given; else page start_id */
    int cancel_at_k;           /* cancel the caller once k fetches are in flight */
    long spawn_fail_at, push_fail_at, links_push_fail_at, group_new_fail_at;
    int no_http;
    struct crawl c;
    int rc;
    struct aio_counts after;
    double wall, starved;
    int cancel_met;
    int cancel_ended_first;    /* the crawl returned before k fetches were in flight */
    long peak_before_cancel;   /* the most fetches in flight before the cancel */
    double t_cancel, t_return, starved_at_cancel;   /* the cancel and the return, kit_wall() */
    long page_reqs;            /* the server's /page requests, read by expect_clean */
};

/* A page's rc for a message: CRAWL_QUEUED by its name, errors by theirs. */
static const char *rcname(int rc)
{
    return rc == CRAWL_QUEUED ? "CRAWL_QUEUED" : kit_errname(rc);
}

static void free_crawl(void *c)
{
    crawl_free(c);
}

static int caller(void *arg)
{
    struct crun *r = arg;
    double s0 = kit_starved_s(), t0 = kit_wall();

    r->c.deadline = r->deadline_ms > 0 ? aio_now() + r->deadline_ms : AIO_NEVER;
    r->rc = crawl_run(&r->c);
    r->t_return = kit_wall();
    r->wall = r->t_return - t0;
    r->starved = kit_starved_s() - s0;
    aio_counts(&r->after);
    return 0;
}

static int crun_main(void *arg)
{
    struct crun *r = arg;

    r->c.http = r->no_http ? NULL : aio_http_new();
    counted_reset();
    spawn_fail_at = r->spawn_fail_at;
    group_new_fail_at = r->group_new_fail_at;
    push_fail_at = r->push_fail_at;
    links_push_fail_at = r->links_push_fail_at;
    watching = 1;
    aio_task *t = __real_aio_spawn(caller, r);
    if (t != NULL && r->cancel_at_k) {
        struct kit_wait w = { .what = "K fetches in flight" };
        kit_wait_until(&w, aio_done(t) || inflight == (long)r->k, __real_aio_sleep(1));
        r->cancel_met = w.met && !aio_done(t);
        r->cancel_ended_first = aio_done(t);
        r->peak_before_cancel = inflight_peak;
        r->t_cancel = kit_wall();
        r->starved_at_cancel = kit_starved_s();
        cancelled = 1;
        aio_cancel(t);
    }
    if (t != NULL)
        aio_join(t, AIO_NEVER);
    watching = 0;
    if (r->c.http != NULL)
        aio_http_free(r->c.http);
    r->c.http = NULL;
    return 0;
}

static char *page_url(const struct crun *r, long id)
{
    return kit_sprintf("%s/page/%ld?delay_ms=%ld&style=mixed", base, id, r->delay_ms);
}

static void run_crawl(struct crun *r)
{
    r->c = (struct crawl){ .start = r->start ? r->start : page_url(r, r->start_id),
                           .k = r->k, .max_depth = r->depth, .max_pages = r->budget };
    kit_defer(free_crawl, &r->c);
    /* crawl_run's own fields: whatever they held before, it sets them. */
    r->c.next = 3;
    r->c.nidle = 2;
    r->c.over = 1;
    r->c.in_flight = 5;
    cr_assert_eq(kit_stats_reset(base), 0, "[server] could not reset delayd's counts");
    int rc = aio_run(crun_main, r);
    cr_assert_eq(rc, 0, "[deadlock] the test's loop ended with %s: every task was waiting and "
                 "nothing could wake any of them (an idle worker nobody wakes?).",
                 kit_errname(rc));
    kit_expect_done(r->rc, "crawl_run", "crawl.c");
}

/* The page id of a URL the crawl listed, or -1 when it is not exactly one of the graph's. */
static long id_of(const struct crun *r, const char *url)
{
    const char *p = url != NULL ? strstr(url, "/page/") : NULL;
    if (p == NULL)
        return -1;
    long id = strtol(p + 6, NULL, 10);
    if (id < 0 || id >= r->npages || strcmp(url, page_url(r, id)) != 0)
        return -1;
    return id;
}

/* Breadth-first depths from the start over the graph (-1: unreachable). */
static int *bfs(const struct crun *r, long *order, long *norder)
{
    int *d = kit_alloc_array((size_t)r->npages, sizeof *d);
    long head = 0, tail = 0, links[PAGE_LINKS_MAX];

    for (long i = 0; i < r->npages; i++)
        d[i] = -1;
    d[r->start_id] = 0;
    order[tail++] = r->start_id;
    while (head < tail) {
        long id = order[head++];
        if (d[id] >= r->depth)
            continue;
        int n = page_links(id, r->npages, links);
        for (int i = 0; i < n; i++)
            if (d[links[i]] < 0) {
                d[links[i]] = d[id] + 1;
                order[tail++] = links[i];
            }
    }
    *norder = tail;
    return d;
}

static int links_to(const struct crun *r, long from, long to)
{
    long links[PAGE_LINKS_MAX];
    int n = page_links(from, r->npages, links);
    for (int i = 0; i < n; i++)
        if (links[i] == to)
            return 1;
    return 0;
}

/* How many times the server's trace shows each page id fetched; other paths in *others. */
static long *traced(const struct crun *r, long *others, long *lines)
{
    long *times = kit_alloc_array((size_t)r->npages, sizeof *times);
    char *body = NULL, *save = NULL;
    long status = 0;

    cr_assert(kit_get(kit_sprintf("%s/trace", base), &status, &body, NULL) == 0 &&
              status == 200, "[server] could not read delayd's /trace");
    *others = *lines = 0;
    for (char *line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char path[512];
        if (line[0] == '#' || sscanf(line, "%*s %*s %*s %*s %511s", path) != 1)
            continue;
        ++*lines;
        long id = -1;
        if (strncmp(path, "/page/", 6) == 0 && strchr(path, '?') != NULL) {
            char *want = kit_sprintf("/page/%ld?delay_ms=%ld&style=mixed",
                                     strtol(path + 6, NULL, 10), r->delay_ms);
            id = strcmp(path, want) == 0 ? strtol(path + 6, NULL, 10) : -1;
        }
        if (id >= 0 && id < r->npages)
            times[id]++;
        else
            ++*others;
    }
    free(body);
    return times;
}

/* What holds after every crawl that got going, however it ended. */
static void expect_clean(struct crun *r)
{
    struct crawl *c = &r->c;

    cr_assert(r->after.tasks <= 1 && r->after.operations == 0, "[unjoined] when crawl_run "
              "returned, %zu of its tasks were not joined and %zu %s still in flight: every "
              "worker has ended, and been joined, before it returns.",
              r->after.tasks > 0 ? r->after.tasks - 1 : 0, r->after.operations,
              kit_plural((long)r->after.operations, "transfer was", "transfers were"));
    cr_assert(polls == 0 && blocking_calls == 0, "[polling] the crawl called aio_yield or "
              "aio_sleep %ld %s and blocked the thread %ld %s: an idle worker sleeps in "
              "aio_park until a page is queued or the crawl is over.", polls,
              kit_plural(polls, "time", "times"), blocking_calls,
              kit_plural(blocking_calls, "time", "times"));
    struct kit_stats st = { 0 };
    cr_assert_eq(kit_stats_get(base, &st), 0, "[server] could not read delayd's /stats");
    cr_assert(inflight_peak <= (long)r->k && st.peak <= (long)r->k, "[over-k] %ld fetches were "
              "in flight at once (the server saw %ld) with K = %zu workers: never more than K.",
              inflight_peak, st.peak, r->k);
    cr_assert(c->n <= r->budget, "[over-budget] the crawl queued %zu pages with a budget of "
              "%zu: a link found once the budget is spent is left out.", c->n, r->budget);
    long fetched = 0, tried = 0;
    for (size_t i = 0; i < c->n; i++) {
        fetched += c->pages[i].rc == 0;
        tried += c->pages[i].rc != CRAWL_QUEUED;
        cr_assert(c->pages[i].rc == 0 ? c->pages[i].status == 200 : c->pages[i].status == 0,
                  "[page-status] page %zu (%s) has rc %s and status %ld: status is the "
                  "answer's when rc is 0, else 0.", i, c->pages[i].url,
                  kit_errname(c->pages[i].rc), c->pages[i].status);
    }
    cr_assert(c->fetched == fetched, "[fetched-books] c->fetched is %ld; %ld pages have rc 0.",
              c->fetched, fetched);
    cr_assert(tried == gets, "[fetch-count] aio_http_get was called %ld %s; %ld pages say "
              "their fetch was tried (rc no longer CRAWL_QUEUED): each page fetched once, "
              "and its rc kept.", gets, kit_plural(gets, "time", "times"), tried);
    cr_assert(c->in_flight_peak == inflight_peak, "[k-books] c->in_flight_peak is %ld; the "
              "test counted %ld fetches in flight at most.", c->in_flight_peak, inflight_peak);
    /* Every page listed once, each a page of the graph, at a depth a real link gives it. */
    char *listed = kit_alloc((size_t)r->npages);
    for (size_t i = 0; i < c->n; i++) {
        long id = id_of(r, c->pages[i].url);
        cr_assert(id >= 0, "[page-url] page %zu is \"%s\": every page listed is one of the "
                  "graph's, spelled as link_resolve spells it (%s for page 3). Links to "
                  "another host, mailto: and the like are not followed.", i, c->pages[i].url,
                  page_url(r, 3));
        cr_assert(!listed[id], "[page-twice] page %ld (%s) is listed twice: the seen-set "
                  "is checked and updated with no wait in between, so each URL is queued "
                  "once.", id, c->pages[i].url);
        listed[id] = 1;
        cr_assert(c->pages[i].depth <= r->depth, "[too-deep] page %ld was queued at depth "
                  "%d with a depth limit of %d: links are followed from pages of depth < D "
                  "only.", id, c->pages[i].depth, r->depth);
        int parent = i == 0 && id == r->start_id && c->pages[i].depth == 0;
        for (size_t j = 0; j < i && !parent; j++)
            parent = c->pages[j].depth == c->pages[i].depth - 1 &&
                     links_to(r, id_of(r, c->pages[j].url), id);
        cr_assert(parent, "[bad-depth] page %ld (listed %zu) has depth %d, but no page listed "
                  "before it at depth %d links to it: a page's depth is its finder's + 1, the "
                  "start's is 0, and pages are listed in the order they were queued.", id, i,
                  c->pages[i].depth, c->pages[i].depth - 1);
    }
    /* The server: each page fetched once, nothing else fetched. */
    long others = 0, lines = 0, *times = traced(r, &others, &lines);
    for (long id = 0; id < r->npages; id++)
        cr_assert(times[id] <= 1, "[fetched-twice] the server was asked for page %ld %ld "
                  "times: each page is fetched once (its links may name it in several forms "
                  "and many pages may link to it).", id, times[id]);
    cr_assert(others == 0, "[followed-elsewhere] the server was asked for %ld %s that no page "
              "lists (another host of the same server, a link in a comment, ...): only <a "
              "href> links on the start's origin are followed.", others,
              kit_plural(others, "path", "paths"));
    long page_reqs = kit_stats_endpoint(base, "page");
    /* A fetch begun as the crawl is cancelled may end before it reaches the server. */
    cr_assert(page_reqs <= gets && lines == page_reqs, "[fetch-count] the server saw %ld /page "
              "requests (%ld traced); the crawl called aio_http_get %ld times.", page_reqs,
              lines, gets);
    r->page_reqs = page_reqs;
    for (long id = 0; id < r->npages; id++)
        cr_assert(!times[id] || listed[id], "[followed-elsewhere] page %ld was fetched but is "
                  "not listed.", id);
}

/* What holds after a crawl that ran to its end: every page fetched, every link of a page
 * above the depth limit followed. */
static void expect_complete(struct crun *r)
{
    struct crawl *c = &r->c;

    cr_assert_eq(r->rc, 0, "[crawl-rc] crawl_run returned %s; expected 0.", kit_errname(r->rc));
    expect_clean(r);
    cr_assert(r->page_reqs == gets, "[fetch-count] the server saw %ld /page requests; the "
              "crawl called aio_http_get %ld times: each page is fetched once, with no fetch "
              "begun in vain.", r->page_reqs, gets);
    char *listed = kit_alloc((size_t)r->npages);
    for (size_t i = 0; i < c->n; i++)
        listed[id_of(r, c->pages[i].url)] = 1;
    for (size_t i = 0; i < c->n; i++)
        cr_assert(c->pages[i].rc == 0, "[not-fetched] page %zu (%s) has rc %s after a crawl "
                  "that returned 0: the crawl is over only when no page is queued and none is "
                  "in flight.", i, c->pages[i].url, rcname(c->pages[i].rc));
    if (c->n < r->budget)
        for (size_t i = 0; i < c->n; i++) {
            long links[PAGE_LINKS_MAX], id = id_of(r, c->pages[i].url);
            int n = c->pages[i].depth < r->depth ? page_links(id, r->npages, links) : 0;
            for (int j = 0; j < n; j++)
                cr_assert(listed[links[j]], "[missed-link] page %ld (depth %d, limit %d) links "
                          "to page %ld, which the crawl never queued: every link of a page of "
                          "depth < D is followed (%zu pages listed).", id, c->pages[i].depth,
                          r->depth, links[j], c->n);
        }
}

Test(crawl, all_33_pages)
{
    server(33);
    struct crun r = { .npages = 33, .k = 7, .depth = 1000, .budget = 1000, .delay_ms = 10 };
    run_crawl(&r);
    expect_complete(&r);
    cr_assert_eq(r.c.n, 33, "[missed-pages] the crawl listed %zu of the 33 pages, all of them "
                 "reachable from page 0.", r.c.n);
    kit_expect_no_leaks("crawl_run");
}

/* The smallest sites: one page that links nowhere, and two pages that link only to each other
 * (each link the last, and the only, one of its page). */
static void smallest_site(long npages)
{
    server(npages);
    struct crun *r = kit_alloc(sizeof *r);
    *r = (struct crun){ .npages = npages, .start_id = npages - 1, .k = 3, .depth = 1000,
                        .budget = 1000 };
    run_crawl(r);
    expect_complete(r);
    cr_assert_eq((long)r->c.n, npages, "[missed-pages] a site of %ld %s, each reachable from "
                 "the start: the crawl listed %zu.", npages, kit_plural(npages, "page", "pages"),
                 r->c.n);
    kit_expect_no_leaks("crawl_run");
}

Test(crawl, a_page_that_links_nowhere)
{
    smallest_site(1);
}

Test(crawl, two_pages_that_link_to_each_other)
{
    smallest_site(2);
}

Test(crawl, one_worker_is_breadth_first)
{
    server(257);
    struct crun r = { .npages = 257, .start_id = 5, .k = 1, .depth = 3, .budget = 1000 };
    run_crawl(&r);
    expect_complete(&r);
    long *order = kit_alloc_array(257, sizeof *order), norder = 0;
    int *d = bfs(&r, order, &norder);
    cr_assert_eq((long)r.c.n, norder, "[missed-pages] with K = 1 and depth 3 the crawl listed "
                 "%zu pages; %ld pages lie within 3 links of page 5.", r.c.n, norder);
    for (long i = 0; i < norder; i++) {
        long id = id_of(&r, r.c.pages[i].url);
        cr_assert(id == order[i] && r.c.pages[i].depth == d[id], "[not-fifo] with one worker, "
                  "page %ld of the list is page %ld at depth %d; breadth first it is page %ld "
                  "at depth %d: pages are taken in the order they were queued, and a page's "
                  "links in the order the page lists them.", i, id, r.c.pages[i].depth,
                  order[i], d[order[i]]);
    }
    kit_expect_no_leaks("crawl_run");
}

Test(crawl, depth_two_of_257_pages)
{
    server(257);
    struct crun r = { .npages = 257, .start_id = 100, .k = 7, .depth = 2, .budget = 1000,
                      .delay_ms = 20 };
    run_crawl(&r);
    expect_complete(&r);
    long *order = kit_alloc_array(257, sizeof *order), norder = 0;
    bfs(&r, order, &norder);
    cr_assert(r.c.n >= 10 && (long)r.c.n <= norder, "[missed-pages] the crawl listed %zu "
              "pages; within 2 links of page 100 lie %ld.", r.c.n, norder);
    kit_expect_no_leaks("crawl_run");
}

Test(crawl, k_fetches_at_once)
{
    server(257);
    struct crun r = { .npages = 257, .k = 7, .depth = 1000, .budget = 60, .delay_ms = 60 };
    run_crawl(&r);
    expect_complete(&r);
    cr_assert(inflight_peak == 7, "[peak-k] at most %ld %s in flight at once with K = 7 and "
              "dozens of pages queued: whenever K pages wait, K workers fetch. Are idle workers "
              "woken when pages are queued, one for each page?", inflight_peak,
              kit_plural(inflight_peak, "fetch was", "fetches were"));
    struct kit_stats st = { 0 };
    cr_assert_eq(kit_stats_get(base, &st), 0, "[server] could not read delayd's /stats");
    kit_expect_premise(st.peak == 7, "the server to see the 7 fetches in flight at once");
    kit_expect_no_leaks("crawl_run");
}

Test(crawl, first_links_together)
{
    server(257);
    struct crun r = { .npages = 257, .start_id = 41, .k = 7, .depth = 1, .budget = 1000,
                      .delay_ms = 50 };
    run_crawl(&r);
    expect_complete(&r);
    long links[PAGE_LINKS_MAX];
    int n = page_links(41, 257, links);
    cr_assert(r.c.n == (size_t)n + 1 && inflight_peak == n, "[wake-each] the start page links "
              "to %d pages and K = 7: they were fetched %ld at most at once (%zu pages "
              "listed). Each page queued wakes an idle worker, so all %d are fetched together.",
              n, inflight_peak, r.c.n, n);
    kit_expect_no_leaks("crawl_run");
}

Test(crawl, budget_of_1000_pages)
{
    server(1000);
    struct crun r = { .npages = 1000, .start_id = 999, .k = 13, .depth = 1000, .budget = 257 };
    run_crawl(&r);
    expect_complete(&r);
    cr_assert(r.c.n == 257 && gets == 257, "[budget] the crawl listed %zu pages and fetched "
              "%ld with a budget of 257 in a graph of 1000: exactly the budget, no page more, "
              "none less.", r.c.n, gets);
    kit_expect_no_leaks("crawl_run");
}

Test(crawl, all_1000_pages)
{
    server(1000);
    struct crun r = { .npages = 1000, .start_id = 0, .k = 7, .depth = 100000,
                      .budget = 1000 };
    run_crawl(&r);
    expect_complete(&r);
    cr_assert(r.c.n == 1000, "[missed-pages] the crawl listed %zu of the 1000 pages, all "
              "reachable from page 0 and within the budget.", r.c.n);
    kit_expect_no_leaks("crawl_run");
}

Test(crawl, depth_zero_and_a_budget_of_one)
{
    server(33);
    struct crun r = { .npages = 33, .k = 7, .depth = 0, .budget = 1000 };
    run_crawl(&r);
    expect_complete(&r);
    cr_assert(r.c.n == 1 && extracts == 0, "[depth-zero] with depth 0 the crawl listed %zu "
              "pages and read the links of %ld: only the start page, its links unread.",
              r.c.n, extracts);
    struct crun r2 = { .npages = 33, .start_id = 32, .k = 7, .depth = 5, .budget = 1 };
    run_crawl(&r2);
    expect_complete(&r2);
    cr_assert(r2.c.n == 1 && gets == 1, "[budget] with a budget of 1 the crawl listed %zu "
              "pages and fetched %ld: the start page alone.", r2.c.n, gets);
    kit_expect_no_leaks("crawl_run");
}

Test(crawl, start_spelled_otherwise)
{
    server(33);
    struct crun r = { .npages = 33, .k = 7, .depth = 1000, .budget = 1000, .delay_ms = 0 };
    r.start = kit_sprintf("%s/page/x/../0?delay_ms=0&style=mixed#top", base);
    run_crawl(&r);
    expect_complete(&r);
    cr_assert(r.c.n == 33 && strcmp(r.c.pages[0].url, page_url(&r, 0)) == 0, "[start-form] "
              "from \"%s\" the crawl listed %zu pages, the first \"%s\": the start is listed "
              "in link_resolve's form (%s), so the links back to it find it seen.", r.start,
              r.c.n, r.c.n ? r.c.pages[0].url : "(none)", page_url(&r, 0));
    kit_expect_no_leaks("crawl_run");
}

Test(crawl, pages_that_fail)
{
    server(33);
    struct crun r = { .npages = 33, .k = 7, .depth = 3, .budget = 100 };
    r.start = kit_sprintf("%s/status/404", base);
    run_crawl(&r);
    cr_assert(r.rc == 0 && r.c.n == 1 && r.c.pages[0].rc == 0 && r.c.pages[0].status == 404 &&
              extracts == 0, "[failed-page] a start page answering 404: crawl_run returned "
              "%s, listed %zu pages (rc %s, status %ld) and read %ld pages' links; expected 0, "
              "one page with rc 0 and status 404, no links read.", kit_errname(r.rc), r.c.n,
              r.c.n ? rcname(r.c.pages[0].rc) : "-", r.c.n ? r.c.pages[0].status : 0,
              extracts);
    struct crun r2 = { .npages = 33, .k = 7, .depth = 3, .budget = 100,
                       .start = "http://127.0.0.1:1/page/0" };
    run_crawl(&r2);
    cr_assert(r2.rc == 0 && r2.c.n == 1 && r2.c.pages[0].rc < 0 && r2.c.fetched == 0,
              "[failed-page] a start page nobody answers: crawl_run returned %s and listed "
              "%zu pages (rc %s); expected 0, one page with its fetch's error.",
              kit_errname(r2.rc), r2.c.n, r2.c.n ? rcname(r2.c.pages[0].rc) : "-");
    cr_assert(r2.after.tasks <= 1 && r2.after.operations == 0, "[unjoined] workers left "
              "behind after a failed start page.");
    kit_expect_no_leaks("crawl_run");
}

Test(crawl, deadline_returns_what_was_found)
{
    server(257);
    struct crun r = { .npages = 257, .k = 7, .depth = 1000, .budget = 1000, .delay_ms = 200,
                      .deadline_ms = 300 };
    run_crawl(&r);
    double late = r.wall - r.starved - 0.3;
    cr_assert(r.wall >= 0.29 && late < 0.3, "[deadline-late] crawl_run returned after %.3f s "
              "(%.3f s of it the machine kept the test from a CPU) with a deadline of 0.3 s: "
              "at the deadline the fetches under way end, idle workers wake, and it returns.",
              r.wall, r.starved);
    cr_assert(r.rc == -ETIMEDOUT, "[deadline-rc] crawl_run returned %s at its deadline, "
              "with pages still queued; expected -ETIMEDOUT.", kit_errname(r.rc));
    expect_clean(&r);
    kit_expect_premise(r.c.fetched == 1, "the start page fetched (200 ms) before the 300 ms "
                       "deadline, its links not yet");
    long cut = 0, queued = 0;
    for (size_t i = 1; i < r.c.n; i++) {
        cut += r.c.pages[i].rc < 0;
        queued += r.c.pages[i].rc == CRAWL_QUEUED;
    }
    cr_assert(r.c.n >= 4 && cut == (long)r.c.n - 1 - queued && cut >= 3 && cut <= 7,
              "[deadline-pages] at the deadline the crawl listed %zu pages: %ld cut (rc < 0), "
              "%ld still queued. The start page's 3 to 5 links were being fetched: each keeps "
              "its page with a negative rc, and what was found stays listed.", r.c.n, cut,
              queued);
    struct kit_wait w = { .what = "the server's requests to end" };
    struct kit_stats st = { 0 };
    kit_wait_until(&w, kit_stats_get(base, &st) == 0 && st.in_flight == 0, usleep(1000));
    cr_assert(w.met, "[left-running] %ld requests were still in flight at the server a while "
              "after crawl_run returned: at the deadline every fetch ends.", st.in_flight);
    kit_expect_no_leaks("crawl_run");
}

Test(crawl, caller_cancelled)
{
    server(257);
    struct crun r = { .npages = 257, .k = 7, .depth = 1000, .budget = 1000, .delay_ms = 300,
                      .cancel_at_k = 1 };
    run_crawl(&r);
    /* 257 pages of 300 ms, depth unlimited: a crawl that ends, or never has 7 fetches in
     * flight, before the wait's bound is the code's doing, as k_fetches_at_once says too. */
    cr_assert(!r.cancel_ended_first, "[ended-early] crawl_run returned (%s) before 7 fetches "
              "were ever in flight, with 257 pages of 300 ms to find: it may end only when "
              "nothing is queued and nothing is in flight.", kit_errname(r.rc));
    cr_assert(r.cancel_met || r.peak_before_cancel == 7, "[peak-k] the crawl never had more "
              "than %ld %s in flight with K = 7 and dozens of pages queued, so the test could "
              "not cancel it with 7 under way: whenever K pages wait, K workers fetch.",
              r.peak_before_cancel, kit_plural(r.peak_before_cancel, "fetch", "fetches"));
    kit_expect_premise(r.cancel_met, "the crawl to have 7 fetches in flight before it ended");
    cr_assert(r.rc == -ECANCELED, "[cancel-rc] crawl_run returned %s when its caller was "
              "cancelled; expected -ECANCELED.", kit_errname(r.rc));
    /* A worker already running in the pass of the cancel may begin one more fetch before the
     * cancel reaches it; that fetch is cut at once, as are those in flight (pages of 300 ms). */
    double took = r.t_return - r.t_cancel - (kit_starved_s() - r.starved_at_cancel);
    cr_assert(gets_after_cancel <= (long)r.k && took < 0.2, "[fetch-after-cancel] after the "
              "caller was cancelled, %ld %s begun and crawl_run returned %.3f s later (pages "
              "take 0.3 s): a cancelled crawl cuts its fetches and begins no more.",
              gets_after_cancel, kit_plural(gets_after_cancel, "fetch was", "fetches were"),
              took);
    expect_clean(&r);
    kit_expect_no_leaks("crawl_run");
}

Test(crawl, bad_arguments)
{
    server(33);
    struct crun base_run = { .npages = 33, .k = 7, .depth = 2, .budget = 100 };
    struct { const char *what; size_t k, budget; int depth, no_http; const char *start; } bad[] = {
        { "K = 0", 0, 100, 2, 0, NULL },         { "K = 65", 65, 100, 2, 0, NULL },
        { "a budget of 0", 7, 0, 2, 0, NULL },   { "a budget of 100001", 7, 100001, 2, 0, NULL },
        { "depth -1", 7, 100, -1, 0, NULL },     { "no client", 7, 100, 2, 1, NULL },
        { "a mailto: start", 7, 100, 2, 0, "mailto:x@example.com" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct crun *r = kit_alloc(sizeof *r);   /* kit_cleanup frees its pages */
        *r = base_run;
        r->k = bad[i].k;
        r->budget = bad[i].budget;
        r->depth = bad[i].depth;
        r->no_http = bad[i].no_http;
        r->start = bad[i].start;
        run_crawl(r);
        cr_assert(r->rc == -EINVAL && gets == 0 && spawn_calls == 0, "[bad-args] crawl_run "
                  "with %s returned %s, fetched %ld and spawned %ld; expected -EINVAL, "
                  "nothing fetched or spawned.", bad[i].what, kit_errname(r->rc), gets,
                  spawn_calls);
    }
    kit_expect_no_leaks("crawl_run");
}

Test(crawl, spawn_refused)
{
    server(33);
    struct crun r = { .npages = 33, .k = 7, .depth = 3, .budget = 100, .spawn_fail_at = 4 };
    run_crawl(&r);
    cr_assert(r.rc == -ENOMEM, "[enomem] the 4th worker could not be spawned and crawl_run "
              "returned %s; expected -ENOMEM.", kit_errname(r.rc));
    long sent = kit_stats_endpoint(base, "page");
    cr_assert(sent == 0, "[fetch-after-failure] the server saw %ld page %s after a worker "
              "could not be spawned: the workers already started are cancelled before they "
              "fetch.", sent, kit_plural(sent, "request", "requests"));
    cr_assert(r.after.tasks <= 1 && r.after.operations == 0, "[unjoined] %zu workers not "
              "joined when crawl_run returned -ENOMEM.", r.after.tasks ? r.after.tasks - 1 : 0);
    kit_expect_no_leaks("crawl_run");
}

/* A group refused (aio_group_new, when the crawl uses one; aio_spawn and aio_join are a design
 * as good): -ENOMEM, and nothing fetched or left running. */
Test(crawl, group_refused)
{
    server(33);
    struct crun r = { .npages = 33, .k = 7, .depth = 3, .budget = 100, .group_new_fail_at = 1 };
    run_crawl(&r);
    if (group_new_calls == 0) {
        kit_expect_no_leaks("crawl_run");
        return;   /* no group in this design: nothing to refuse */
    }
    long sent = kit_stats_endpoint(base, "page");
    cr_assert(r.rc == -ENOMEM && gets == 0 && sent == 0, "[enomem] aio_group_new gave NULL "
              "(out of memory) and crawl_run returned %s after %ld %s; expected -ENOMEM, "
              "nothing fetched.", kit_errname(r.rc), gets, kit_plural(gets, "fetch", "fetches"));
    cr_assert(r.after.tasks <= 1 && r.after.operations == 0, "[unjoined] %zu tasks not joined "
              "when crawl_run returned -ENOMEM.", r.after.tasks ? r.after.tasks - 1 : 0);
    kit_expect_no_leaks("crawl_run");
}

Test(crawl, largest_k_and_budget)
{
    server(33);
    struct crun r = { .npages = 33, .start_id = 16, .k = CRAWL_K_MAX, .depth = 1000,
                      .budget = CRAWL_PAGES_MAX, .delay_ms = 5 };
    run_crawl(&r);
    expect_complete(&r);
    cr_assert_eq(r.c.n, 33, "[missed-pages] with K = %d and a budget of %d the crawl listed "
                 "%zu of the 33 pages.", CRAWL_K_MAX, CRAWL_PAGES_MAX, r.c.n);
    kit_expect_no_leaks("crawl_run");
}

Test(crawl, out_of_memory)
{
    server(33);
    struct crun r = { .npages = 33, .k = 7, .depth = 1000, .budget = 1000, .push_fail_at = 1 };
    run_crawl(&r);
    cr_assert(r.rc == -ENOMEM && gets == 0 && spawn_calls == 0, "[crawl-enomem] the start "
              "page could not be queued (crawl_push gave -ENOMEM): crawl_run returned %s, "
              "fetched %ld pages and spawned %ld tasks; expected -ENOMEM, nothing fetched or "
              "spawned.", kit_errname(r.rc), gets, spawn_calls);
    struct crun r2 = { .npages = 33, .k = 7, .depth = 1000, .budget = 1000,
                       .links_push_fail_at = 9 };
    run_crawl(&r2);
    cr_assert(r2.rc == -ENOMEM, "[crawl-enomem] a page's links could not be read "
              "(links_extract gave -ENOMEM) and crawl_run returned %s; expected -ENOMEM.",
              kit_errname(r2.rc));
    cr_assert(r2.after.tasks <= 1 && r2.after.operations == 0, "[unjoined] %zu workers not "
              "joined when crawl_run returned -ENOMEM.", r2.after.tasks ? r2.after.tasks - 1 : 0);
    kit_expect_no_leaks("crawl_run");
}
