/* Lesson 13 tests, part two: check_all against the kit's delayd. The test's reader hands out
 * each URL in a buffer of its exact size, freed at the next call (so a kept pointer is a
 * sanitizer report), and records, at every call, how many lines were read and written; it can
 * wait at a chosen line for evidence (a line written). The test's writer records every line
 * written (number, URL, result) and the most lines held at once. The witnesses: the lines
 * written, in order, each once, with their own results; the server's peak in flight and its
 * requests to /delay (repeated URLs fetched once); the GETs in flight counted on our side;
 * the reader never called while the window is full, and called at once while it has room;
 * the tasks alive at once (aio_counts); after the call, the runtime's counts (no task,
 * transfer or timer left); waits that poll, sleeps that block; leaks. */
#include "counted.h"
#include "urlcheck.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit_test.h"

#define REFUSED "http://127.0.0.1:1/refused"
#define MALFORMED "ht!tp:/ /not a url"

static const char *base;

static void setup(void)
{
    base = kit_server_start(NULL);
}

static void teardown(void)
{
    watching = 0;
    kit_cleanup();
    kit_server_stop();
}

TestSuite(check, .init = setup, .fini = teardown, .timeout = 30);

struct wline {
    size_t lineno;
    char *url;
    struct check_result res;
    size_t reads_then;         /* lines read when it was written */
};

/* One check_all run and what the test saw of it. */
struct crun {
    size_t n;                  /* lines the reader hands out */
    const char *const *urls;   /* path under base, or a full URL */
    size_t c, w;
    int64_t timeout_ms;
    int fail_at;               /* the reader returns read_error at this line (1-based), or 0 */
    int read_error;
    size_t hold_at;            /* the reader, asked for this line (1-based), first waits until
                                  the line before it is written */
    int hold_each;             /* ... and so for every later line (a person typing URLs) */
    size_t holds;              /* the waits made so far */
    int cancel;                /* cancel the caller once cancel_when holds */
    size_t cancel_reads, cancel_inflight, cancel_written;
    long cancel_answered;      /* ... and, after that scene, this many GETs have returned */
    long check_fail_at, spawn_fail_at;
    int group_fail;
    int bad;                   /* a bad-argument case: 1 NULL w, 2 NULL in, 3 NULL out, 4 NULL
                                  opts, 5 NULL http */
    /* what the reader saw */
    char *buf;                 /* the URL handed out last */
    size_t reads, reader_calls, reads_when_full, reads_after_end, reads_after_cancel;
    size_t held_peak;          /* lines read and not written, at most */
    size_t first_write_at_read; /* reads done when the first line was written */
    size_t written_at_last_read;
    int hold_met;
    double hold_waited;
    long tasks_peak;           /* aio_counts' tasks, at most, seen at reads and writes */
    int cancelled;
    /* what the writer saw */
    struct wline *lines;       /* n slots */
    size_t written, extra;
    /* after */
    int rc;
    struct window win;
    struct aio_counts after;
    double wall, starved;
    struct kit_stats stats;
    long delay_requests;
};

static struct crun *R;

static void sample_tasks(struct crun *r)
{
    struct aio_counts c;
    if (aio_counts(&c) == 0 && (long)c.tasks > r->tasks_peak)
        r->tasks_peak = (long)c.tasks;
}

static int test_next(void *ctx, const char **url, size_t *lineno)
{
    struct crun *r = ctx;

    r->reader_calls++;
    if (r->cancelled)
        r->reads_after_cancel++;
    if (r->reads == r->n) {
        r->reads_after_end += r->reader_calls > r->n + 1;
        return 0;
    }
    if (r->reads - r->written >= r->w)
        r->reads_when_full++;
    if (r->fail_at > 0 && r->reads + 1 == (size_t)r->fail_at)
        return r->read_error;
    if (r->hold_at > 0 && (r->reads + 1 == r->hold_at ||
                           (r->hold_each && r->reads + 1 > r->hold_at && r->hold_met))) {
        struct kit_wait w = { .what = "the line before to be written", .bound_s = 3 };
        kit_wait_until(&w, r->written >= r->reads || r->cancelled, __real_aio_sleep(1));
        /* every wait met (after one that was not, the reader waits no more) */
        r->hold_met = w.met && !r->cancelled && (r->holds++ == 0 || r->hold_met);
        r->hold_waited = w.waited_s;
        if (r->cancelled)
            return -ECANCELED;
    }
    free(r->buf);
    const char *u = r->urls[r->reads];
    r->buf = strncmp(u, "http", 4) == 0 || strncmp(u, "ht!", 3) == 0 ? strdup(u)
             : (asprintf(&r->buf, "%s%s", base, u) < 0 ? NULL : r->buf);
    cr_assert(r->buf != NULL);
    r->reads++;
    if (r->reads - r->written > r->held_peak)
        r->held_peak = r->reads - r->written;
    r->written_at_last_read = r->written;
    sample_tasks(r);
    *url = r->buf;
    *lineno = 2 * r->reads + 1;  /* line numbers with gaps: comments and blanks skipped */
    return 1;
}

static void test_line(void *ctx, size_t lineno, const char *url, const struct check_result *res)
{
    struct crun *r = ctx;

    if (r->written == 0)
        r->first_write_at_read = r->reads;
    if (r->written < r->n) {
        struct wline *l = &r->lines[r->written];
        l->lineno = lineno;
        l->url = strdup(url != NULL ? url : "(null)");
        l->res = *res;
        l->reads_then = r->reads;
    } else {
        r->extra++;
    }
    r->written++;
    sample_tasks(r);
}

static int caller(void *arg)
{
    struct crun *r = arg;
    struct reader in = { test_next, r };
    struct writer out = { test_line, r };
    struct check_opts o = { .concurrency = r->c, .timeout_ms = r->timeout_ms,
                            .http = r->bad == 5 ? NULL : aio_http_new() };

    double s0 = kit_starved_s(), t0 = kit_wall();
    r->rc = check_all(r->bad == 1 ? NULL : &r->win, r->bad == 2 ? NULL : &in,
                      r->bad == 3 ? NULL : &out, r->bad == 4 ? NULL : &o);
    r->wall = kit_wall() - t0;
    r->starved = kit_starved_s() - s0;
    aio_counts(&r->after);
    if (o.http != NULL)
        aio_http_free(o.http);
    return 0;
}

static int crun_main(void *arg)
{
    struct crun *r = arg;

    counted_reset();
    check_fail_at = r->check_fail_at;
    watching = 1;
    aio_task *t = __real_aio_spawn(caller, r);
    spawn_fail_at = r->spawn_fail_at;  /* counted from the caller's own spawns on */
    group_fail = r->group_fail;
    if (t != NULL && r->cancel) {
        struct kit_wait w = { .what = "the scene for the cancel" };
        kit_wait_until(&w, aio_done(t) || (r->reads >= r->cancel_reads &&
                                           inflight >= (long)r->cancel_inflight &&
                                           r->written >= r->cancel_written),
                       __real_aio_sleep(1));
        /* The answers the scene needs (lines done, held behind a /hang): a stall may keep
         * them out for a while, and a fixed pause would then cancel them too. Not the
         * premise: code that cannot get them while a line hangs is what the test rejects. */
        struct kit_wait a = { .what = "the GETs that answer to return", .bound_s = 3 };
        kit_wait_until(&a, aio_done(t) || nreq - inflight >= r->cancel_answered,
                       __real_aio_sleep(1));
        r->hold_met = w.met && !aio_done(t);
        /* a moment more: nothing else may happen while the scene holds */
        for (int i = 0; i < 20 && !aio_done(t); i++)
            __real_aio_sleep(2);
        r->cancelled = 1;
        aio_cancel(t);
    }
    if (t != NULL)
        aio_join(t, AIO_NEVER);
    watching = 0;
    return 0;
}

static void free_lines(void *arg)
{
    struct crun *r = arg;
    for (size_t i = 0; i < r->n && i < r->written; i++)
        free(r->lines[i].url);
    free(r->buf);
    r->buf = NULL;
    struct window *w = &r->win;
    while (w->ring != NULL && w->len > 0) {
        struct line *l = &w->ring[w->head];
        if (l->check != NULL)
            check_unref(w, l->check);
        w->head = (w->head + 1) % w->cap;
        w->len--;
    }
    window_free(w);
}

static void run(struct crun *r)
{
    R = r;
    r->lines = kit_alloc_array(r->n, sizeof *r->lines);
    cr_assert_eq(window_init(&r->win, r->w), 0, "[test-premise] window_init(%zu)", r->w);
    kit_defer(free_lines, r);
    cr_assert_eq(kit_stats_reset(base), 0, "[server] the test's delayd did not answer /reset.");
    int rc = aio_run(crun_main, r);
    cr_assert(rc != -EDEADLK, "[deadlock] the loop stopped with every task waiting and none "
              "left to wake the others (aio_run returned -EDEADLK), so check_all never "
              "returned. A task parked that nobody unparks: a worker still waiting for work "
              "once the input has ended, or check_all waiting for room no one makes?");
    cr_assert_eq(rc, 0, "[test-premise] aio_run returned %s", kit_errname(rc));
    kit_expect_done(r->rc, "check_all", "check.c");
    if (r->bad)
        return;
    cr_assert_eq(kit_stats_get(base, &r->stats), 0, "[server] no /stats from the test's delayd.");
    r->delay_requests = kit_stats_endpoint(base, "delay");
}

/* What every run must show, whatever its scene. */
static void expect_common(struct crun *r, const char *scene)
{
    cr_assert_eq(r->extra, 0, "[written-twice] %s: %zu lines were read and the writer was "
                 "called %zu times. Each line is written once.", scene, r->reads, r->written);
    for (size_t i = 0; i < r->written && i < r->n; i++) {
        cr_assert_eq(r->lines[i].lineno, 2 * i + 3,
                     "[write-order] %s: write %zu was line %zu; expected line %zu (the "
                     "reader's number for its line %zu). Lines are written in input order, "
                     "each once.", scene, i + 1, r->lines[i].lineno, 2 * i + 3, i + 1);
        const char *u = r->urls[i];
        char *want = strncmp(u, "http", 4) == 0 || strncmp(u, "ht!", 3) == 0
                         ? kit_sprintf("%s", u) : kit_sprintf("%s%s", base, u);
        cr_assert_str_eq(r->lines[i].url, want, "[write-url] %s: line %zu was written with "
                         "URL '%s'; it was read as '%s'.", scene, i + 1, r->lines[i].url, want);
    }
    cr_assert_eq(r->reads_when_full, 0, "[read-when-full] %s: the reader was called %zu %s "
                 "while the window already held W = %zu lines read and not written. Reading "
                 "waits for room: that is the back-pressure.", scene, r->reads_when_full,
                 kit_plural((long)r->reads_when_full, "time", "times"), r->w);
    cr_assert(r->held_peak <= r->w, "[window-overflow] %s: %zu lines were read and not "
              "written at once; the window holds W = %zu.", scene, r->held_peak, r->w);
    cr_assert(r->win.checks_peak <= (long)r->w, "[checks-pile-up] %s: %ld checks were alive "
              "at once with a window of %zu lines.", scene, r->win.checks_peak, r->w);
    /* A pool of C workers, or a task a check of the window joined as it is written: either
     * way bounded by C or W, never by the input. */
    long task_bound = (long)(r->c > r->w ? r->c : r->w) + 2;
    cr_assert(r->tasks_peak <= task_bound, "[tasks-pile-up] %s: %ld tasks were alive "
              "(spawned, not joined) at once with C = %zu and W = %zu: a task a URL, joined "
              "only at the end, grows with the input. Keep C workers, or join each task as it "
              "ends.", scene, r->tasks_peak, r->c, r->w);
    cr_assert(r->after.tasks <= 1 && r->after.operations == 0 && r->after.timers == 0,
              "[left-running] %s: as check_all returned, the runtime still held %zu %s, %zu "
              "%s in flight and %zu %s (the caller's own task is one of the tasks). Every "
              "task it starts must end before it returns.", scene, r->after.tasks,
              kit_plural((long)r->after.tasks, "task", "tasks"), r->after.operations,
              kit_plural((long)r->after.operations, "transfer", "transfers"), r->after.timers,
              kit_plural((long)r->after.timers, "timer", "timers"));
    cr_assert(r->win.len == 0 && r->win.checks_alive == 0, "[window-not-empty] %s: check_all "
              "returned with %zu lines still in the window and %ld checks alive; every line "
              "read is written before it returns.", scene, r->win.len, r->win.checks_alive);
    cr_assert_eq(polls, 0, "[polls] %s: aio_yield/aio_sleep were called %ld times; waiting "
                 "for room or for work is a park (aio_park) woken by whoever makes it, not a "
                 "poll.", scene, polls);
    cr_assert_eq(blocking_calls, 0, "[blocking-sleep] %s: sleep/usleep/nanosleep called %ld "
                 "times: they stop the whole loop.", scene, blocking_calls);
}

static void expect_line(struct crun *r, size_t i, int rc, long status, const char *scene)
{
    const struct check_result *x = &r->lines[i].res;
    cr_assert(i < r->written, "[line-missing] %s: line %zu was never written (%zu of %zu "
              "written).", scene, i + 1, r->written, r->n);
    cr_assert(x->rc == rc && x->status == status, "[wrong-result] %s: line %zu (%s) was "
              "written with rc %s, status %ld; expected rc %s, status %ld.", scene, i + 1,
              r->lines[i].url, kit_errname(x->rc), x->status, kit_errname(rc), status);
}

Test(check, results_of_every_kind_in_order)
{
    /* 7 lines, C = 3, W = 16, timeout 1000 ms: a slow one first (300 ms, well inside its
     * timeout), then every kind of answer. */
    static const char *const urls[] = { "/delay/300?tag=0", "/status/404", MALFORMED, REFUSED,
                                        "/hang?tag=4", "/status/503", "/delay/0?tag=6" };
    struct crun *r = kit_alloc(sizeof *r);
    *r = (struct crun){ .n = 7, .urls = urls, .c = 3, .w = 16, .timeout_ms = 1000 };

    run(r);
    cr_assert_eq(r->rc, 0, "[check-rc] check_all returned %s; expected 0 (every line "
                 "written; broken URLs are results, not errors).", kit_errname(r->rc));
    cr_assert_eq(r->written, 7, "[line-missing] %zu of 7 lines written.", r->written);
    expect_common(r, "7 URLs of every kind");
    expect_line(r, 0, 0, 200, "7 URLs of every kind");
    expect_line(r, 1, 0, 404, "7 URLs of every kind");
    expect_line(r, 2, -EINVAL, 0, "7 URLs of every kind");
    expect_line(r, 3, -ECONNREFUSED, 0, "7 URLs of every kind");
    expect_line(r, 4, -ETIMEDOUT, 0, "7 URLs of every kind");
    expect_line(r, 5, 0, 503, "7 URLs of every kind");
    expect_line(r, 6, 0, 200, "7 URLs of every kind");
    cr_assert(r->lines[0].res.ms >= 290, "[ms-short] line 1 (/delay/300) took %lld ms by its "
              "result; the GET cannot take less than 300. Is ms the GET's own time?",
              (long long)r->lines[0].res.ms);
    cr_assert(r->lines[4].res.ms >= 990, "[timeout-early] line 5 (/hang) timed out after %lld "
              "ms; its timeout is 1000 ms from its own start.", (long long)r->lines[4].res.ms);
    cr_assert(r->lines[4].res.ms - r->starved * 1000 < 2000, "[timeout-late] line 5 (/hang) "
              "timed out after %lld ms; its timeout is 1000 ms.", (long long)r->lines[4].res.ms);
    cr_assert(r->delay_requests == 2 && r->stats.peak == 3, "[server-counts] the server saw "
              "%ld /delay requests (expected 2) and at most %ld in flight (expected C = 3: "
              "seven lines, five of them reach it).", r->delay_requests, r->stats.peak);
    kit_expect_no_leaks("check_all");
}

/* n distinct /delay/D URLs. */
static const char *const *delays(size_t n, long d)
{
    const char **u = kit_alloc_array(n, sizeof *u);
    for (size_t i = 0; i < n; i++)
        u[i] = kit_sprintf("/delay/%ld?tag=%zu", d, i);
    return u;
}

Test(check, peak_is_c_exactly)
{
    /* 33 distinct URLs of 100 ms, C = 5, W = 64: five in flight at once, never six. */
    struct crun *r = kit_alloc(sizeof *r);
    *r = (struct crun){ .n = 33, .urls = delays(33, 100), .c = 5, .w = 64 };

    run(r);
    cr_assert_eq(r->rc, 0, "[check-rc] check_all returned %s; expected 0.", kit_errname(r->rc));
    expect_common(r, "33 URLs, C = 5");
    for (size_t i = 0; i < 33; i++)
        expect_line(r, i, 0, 200, "33 URLs, C = 5");
    cr_assert(inflight_peak <= 5 && r->stats.peak <= 5, "[over-c] %ld GETs were in flight at "
              "once (the server saw %ld); C = 5 is the most.", inflight_peak, r->stats.peak);
    cr_assert(r->stats.peak == 5, "[under-c] the server saw at most %ld %s in flight; with 33 "
              "URLs waiting and C = 5, five should be in flight at once.", r->stats.peak,
              kit_plural(r->stats.peak, "request", "requests"));
    cr_assert_eq(r->delay_requests, 33, "[fetch-count] the server saw %ld requests for 33 "
                 "distinct URLs.", r->delay_requests);
    double theory = 7 * 0.1;
    cr_assert(r->wall - r->starved < 4 * theory + 0.5, "[too-slow] 33 URLs of 100 ms, 5 at a "
              "time, took %.2f s; about %.1f s expected.", r->wall - r->starved, theory);
    kit_expect_no_leaks("check_all");
}

Test(check, window_smaller_than_c)
{
    /* W = 3 < C = 5: never more than three lines held, so never more than three in flight. */
    struct crun *r = kit_alloc(sizeof *r);
    *r = (struct crun){ .n = 13, .urls = delays(13, 100), .c = 5, .w = 3 };

    run(r);
    cr_assert_eq(r->rc, 0, "[check-rc] check_all returned %s; expected 0.", kit_errname(r->rc));
    expect_common(r, "13 URLs, C = 5, W = 3");
    for (size_t i = 0; i < 13; i++)
        expect_line(r, i, 0, 200, "13 URLs, C = 5, W = 3");
    cr_assert(r->stats.peak == 3, "[peak-w] the server saw at most %ld in flight; with a "
              "window of 3 lines (C = 5), 3 should be in flight at once.", r->stats.peak);
    cr_assert_eq(r->held_peak, 3, "[window-unused] at most %zu lines were held; a window of 3 "
                 "should fill.", r->held_peak);
    kit_expect_no_leaks("check_all");
}

Test(check, a_thousand_lines_in_a_small_window)
{
    /* 1000 distinct URLs (/delay/0 and a few /delay/5), C = 8, W = 13. */
    struct crun *r = kit_alloc(sizeof *r);
    const char **u = kit_alloc_array(1000, sizeof *u);
    for (size_t i = 0; i < 1000; i++)
        u[i] = kit_sprintf("/delay/%d?tag=%zu", i % 7 == 0 ? 5 : 0, i);
    *r = (struct crun){ .n = 1000, .urls = u, .c = 8, .w = 13 };

    run(r);
    cr_assert_eq(r->rc, 0, "[check-rc] check_all returned %s; expected 0.", kit_errname(r->rc));
    cr_assert_eq(r->written, 1000, "[line-missing] %zu of 1000 lines written.", r->written);
    expect_common(r, "1000 URLs, C = 8, W = 13");
    for (size_t i = 0; i < 1000; i++)
        expect_line(r, i, 0, 200, "1000 URLs, C = 8, W = 13");
    cr_assert_eq(r->held_peak, 13, "[window-unused] at most %zu lines were held at once; the "
                 "window of 13 should fill while the checks run.", r->held_peak);
    cr_assert_eq(r->delay_requests, 1000, "[fetch-count] the server saw %ld requests for 1000 "
                 "distinct URLs.", r->delay_requests);
    cr_assert(inflight_peak <= 8, "[over-c] %ld GETs in flight at once; C = 8.", inflight_peak);
    cr_assert(r->reads_after_end == 0, "[read-after-end] the reader said end, and was called "
              "%zu more times.", r->reads_after_end);
    kit_expect_no_leaks("check_all");
}

Test(check, repeated_urls_fetched_once)
{
    /* 33 lines of 7 distinct URLs, shuffled (KIT_SEED), W = 64 >= 33, C = 4. */
    uint32_t st = kit_seed();
    size_t order[33];
    kit_shuffle(order, 33, &st);
    const char **u = kit_alloc_array(33, sizeof *u);
    for (size_t i = 0; i < 33; i++)
        u[i] = kit_sprintf("/delay/%zu?tag=%zu", 40 + 20 * (order[i] % 7), order[i] % 7);
    struct crun *r = kit_alloc(sizeof *r);
    *r = (struct crun){ .n = 33, .urls = u, .c = 4, .w = 64 };

    run(r);
    cr_assert_eq(r->rc, 0, "[check-rc] check_all returned %s; expected 0.", kit_errname(r->rc));
    expect_common(r, "33 lines of 7 URLs");
    for (size_t i = 0; i < 33; i++)
        expect_line(r, i, 0, 200, "33 lines of 7 URLs");
    cr_assert_eq(r->delay_requests, 7, "[fetched-twice] 33 lines of 7 distinct URLs, all in "
                 "one window: the server saw %ld requests, expected 7 (seed %u). A repeated URL "
                 "shares the check of its earlier line.", r->delay_requests, kit_seed());
    cr_assert_eq(r->win.checks_made, 7, "[fetched-twice] %ld checks made for 7 distinct URLs.",
                 r->win.checks_made);
    cr_assert(r->stats.peak == 4, "[under-c] the server saw at most %ld in flight; 7 distinct "
              "URLs and C = 4: four at once (seed %u).", r->stats.peak, kit_seed());
    kit_expect_no_leaks("check_all");
}

Test(check, reads_ahead_without_waiting)
{
    /* C = 1, W = 7, 7 URLs of 150 ms: reading waits only for room, so all 7 are read before
     * the first check ends. */
    struct crun *r = kit_alloc(sizeof *r);
    *r = (struct crun){ .n = 7, .urls = delays(7, 150), .c = 1, .w = 7 };

    run(r);
    cr_assert_eq(r->rc, 0, "[check-rc] check_all returned %s; expected 0.", kit_errname(r->rc));
    expect_common(r, "7 URLs, C = 1, W = 7");
    cr_assert_eq(r->first_write_at_read, 7, "[read-waits] the first line was written when "
                 "only %zu of 7 lines had been read; with room for 7, reading never waits for "
                 "a check (C = 1 here). Does your reader wait for a free worker?",
                 r->first_write_at_read);
    cr_assert(r->stats.peak == 1 && r->delay_requests == 7, "[over-c] C = 1: the server saw "
              "%ld at once (expected 1), %ld requests (expected 7).", r->stats.peak,
              r->delay_requests);
    cr_assert(r->wall >= 1.0, "[too-fast] 7 URLs of 150 ms one at a time took %.2f s: less "
              "than 1.05 s is impossible.", r->wall);
    kit_expect_no_leaks("check_all");
}

Test(check, reads_again_as_soon_as_there_is_room)
{
    /* W = 2, C = 2. Line 1 is quick, line 2 slow: once line 1 is written there is room, and
     * line 3 must be read then, not once the window is empty. */
    static const char *const urls[] = { "/delay/0?tag=a", "/delay/400?tag=b", "/delay/0?tag=c",
                                        "/delay/0?tag=d", "/delay/0?tag=e" };
    struct crun *r = kit_alloc(sizeof *r);
    *r = (struct crun){ .n = 5, .urls = urls, .c = 2, .w = 2 };

    run(r);
    cr_assert_eq(r->rc, 0, "[check-rc] check_all returned %s; expected 0.", kit_errname(r->rc));
    expect_common(r, "5 URLs, W = 2, line 2 slow");
    for (size_t i = 0; i < 5; i++)
        expect_line(r, i, 0, 200, "5 URLs, W = 2, line 2 slow");
    cr_assert(r->lines[1].reads_then >= 3, "[read-waits-room] when line 2 (400 ms) was "
              "written only %zu lines had been read; line 1 left the window long before, and "
              "its room should have been used at once for line 3. Does the reader wait for the "
              "window to empty, or for something else than room?", r->lines[1].reads_then);
    kit_expect_no_leaks("check_all");
}

Test(check, writes_as_soon_as_known)
{
    /* Line 1 is quick; the reader, asked for line 2, waits for line 1 to be written. */
    static const char *const urls[] = { "/delay/0?tag=a", "/delay/0?tag=b", "/delay/50?tag=c" };
    struct crun *r = kit_alloc(sizeof *r);
    *r = (struct crun){ .n = 3, .urls = urls, .c = 2, .w = 4, .hold_at = 2 };

    run(r);
    cr_assert_eq(r->rc, 0, "[check-rc] check_all returned %s; expected 0.", kit_errname(r->rc));
    cr_assert(r->hold_met, "[write-late] line 1 (/delay/0) was not written within %.1f s, "
              "while the reader waited for line 2: a line is written as soon as it and every "
              "line before it are known, by the task that learnt it, not when the reader next "
              "returns.", r->hold_waited);
    expect_common(r, "3 URLs, the reader slow");
    for (size_t i = 0; i < 3; i++)
        expect_line(r, i, 0, 200, "3 URLs, the reader slow");
    kit_expect_no_leaks("check_all");
}

Test(check, an_idle_worker_is_woken_for_a_new_line)
{
    /* One worker, and a reader that gives each line only once the one before is written (as a
     * person typing URLs would): every line after the first comes while the worker is idle. */
    static const char *const urls[] = { "/delay/0?tag=a", "/delay/0?tag=b", "/delay/0?tag=c",
                                        "/delay/0?tag=d" };
    struct crun *r = kit_alloc(sizeof *r);
    *r = (struct crun){ .n = 4, .urls = urls, .c = 1, .w = 4, .hold_at = 2, .hold_each = 1 };

    run(r);
    cr_assert_eq(r->rc, 0, "[check-rc] check_all returned %s; expected 0.", kit_errname(r->rc));
    cr_assert(r->hold_met, "[idle-not-woken] a line read while every worker was idle was not "
              "written within %.1f s (the reader gave it, then waited for it): a new check "
              "wakes an idle worker, it does not wait for the reader's end.", r->hold_waited);
    expect_common(r, "4 URLs typed one at a time, C = 1");
    for (size_t i = 0; i < 4; i++)
        expect_line(r, i, 0, 200, "4 URLs typed one at a time, C = 1");
    kit_expect_no_leaks("check_all");
}

Test(check, input_order_not_finishing_order)
{
    /* 7 URLs, the slowest first: they finish in reverse, they are written in order. Each
     * takes 300 ms or more, so the last one reaches the server while all six others are still
     * in flight, through a stall of 300 ms between the first GET and the last. */
    const char **u = kit_alloc_array(7, sizeof *u);
    for (size_t i = 0; i < 7; i++)
        u[i] = kit_sprintf("/delay/%zu?tag=%zu", 300 + 60 * (6 - i), i);
    struct crun *r = kit_alloc(sizeof *r);
    *r = (struct crun){ .n = 7, .urls = u, .c = 7, .w = 7 };

    run(r);
    cr_assert_eq(r->rc, 0, "[check-rc] check_all returned %s; expected 0.", kit_errname(r->rc));
    expect_common(r, "7 URLs, slowest first");
    for (size_t i = 0; i < 7; i++) {
        expect_line(r, i, 0, 200, "7 URLs, slowest first");
        cr_assert(r->lines[i].res.ms >= (int64_t)(300 + 60 * (6 - i)) - 5, "[ms-short] line "
                  "%zu (/delay/%zu) has ms %lld.", i + 1, 300 + 60 * (6 - i),
                  (long long)r->lines[i].res.ms);
    }
    cr_assert(r->stats.peak == 7, "[under-c] the server saw at most %ld in flight; expected "
              "7.", r->stats.peak);
    kit_expect_no_leaks("check_all");
}

Test(check, timeout_counts_from_each_get)
{
    /* C = 1, timeout 200 ms, three /hang and an answer 400 ms too late (a margin no stall
     * crosses): each times out 200 ms after its own start. */
    static const char *const urls[] = { "/hang?tag=1", "/hang?tag=2", "/hang?tag=3",
                                        "/delay/600?tag=4" };
    struct crun *r = kit_alloc(sizeof *r);
    *r = (struct crun){ .n = 4, .urls = urls, .c = 1, .w = 8, .timeout_ms = 200 };

    run(r);
    cr_assert_eq(r->rc, 0, "[check-rc] check_all returned %s; expected 0.", kit_errname(r->rc));
    expect_common(r, "3 /hang and a /delay/600, C = 1, timeout 200 ms");
    for (size_t i = 0; i < 4; i++) {
        expect_line(r, i, -ETIMEDOUT, 0, i < 3 ? "3 /hang, C = 1, timeout 200 ms"
                                               : "a /delay/600 with a 200 ms timeout");
        long long ms = (long long)r->lines[i].res.ms;
        cr_assert(ms >= 190 && ms - r->starved * 1000 < 550, "[timeout-from-start] line %zu "
                  "(%s) timed out with ms %lld; each GET has 200 ms from its own start "
                  "(not from the moment its line was read, nor counting its wait for a "
                  "slot).", i + 1, i < 3 ? "/hang" : "/delay/600", ms);
    }
    cr_assert(r->wall >= 0.78, "[timeout-from-start] four GETs of 200 ms each, one at a time, "
              "were over in %.2f s: the deadlines did not start with each GET.", r->wall);
    kit_expect_no_leaks("check_all");
}

Test(check, no_timeout_when_zero)
{
    static const char *const urls[] = { "/delay/300?tag=1", "/delay/0?tag=2" };
    struct crun *r = kit_alloc(sizeof *r);
    *r = (struct crun){ .n = 2, .urls = urls, .c = 2, .w = 2, .timeout_ms = 0 };

    run(r);
    cr_assert_eq(r->rc, 0, "[check-rc] check_all returned %s; expected 0.", kit_errname(r->rc));
    expect_common(r, "timeout 0");
    expect_line(r, 0, 0, 200, "timeout 0 (none): /delay/300");
    expect_line(r, 1, 0, 200, "timeout 0 (none): /delay/0");
    static const char *const hang[] = { "/hang?tag=1" };
    r = kit_alloc(sizeof *r);
    *r = (struct crun){ .n = 1, .urls = hang, .c = 1, .w = 1, .timeout_ms = 1 };
    run(r);
    cr_assert_eq(r->rc, 0, "[check-rc] check_all returned %s; expected 0.", kit_errname(r->rc));
    expect_common(r, "timeout 1 ms");
    expect_line(r, 0, -ETIMEDOUT, 0, "timeout 1 ms: /hang");
    kit_expect_no_leaks("check_all");
}

Test(check, cancel_with_checks_in_flight)
{
    /* 33 /hang, C = 5, W = 13: once the window is full and five hang, cancel the caller. */
    const char **u = kit_alloc_array(33, sizeof *u);
    for (size_t i = 0; i < 33; i++)
        u[i] = kit_sprintf("/hang?tag=%zu", i);
    struct crun *r = kit_alloc(sizeof *r);
    *r = (struct crun){ .n = 33, .urls = u, .c = 5, .w = 13, .cancel = 1, .cancel_reads = 13,
                        .cancel_inflight = 5 };

    run(r);
    kit_expect_premise(r->hold_met, "13 lines read and 5 GETs in flight before the cancel");
    cr_assert_eq(r->rc, -ECANCELED, "[cancel-rc] check_all, cancelled, returned %s; expected "
                 "-ECANCELED.", kit_errname(r->rc));
    cr_assert_eq(r->reads_after_cancel, 0, "[read-after-cancel] the reader was called %zu "
                 "%s after the cancel; a cancelled run reads no more.", r->reads_after_cancel,
                 kit_plural((long)r->reads_after_cancel, "time", "times"));
    cr_assert_eq(r->written, 13, "[cancel-unwritten] cancelled with 13 lines read, %zu were "
                 "written; every line read is written once, as cancelled when its check did "
                 "not finish.", r->written);
    expect_common(r, "cancelled with 5 /hang in flight");
    for (size_t i = 0; i < 13; i++)
        expect_line(r, i, -ECANCELED, 0, "cancelled with 5 /hang in flight");
    cr_assert(r->stats.peak == 5 && nreq == 5, "[cancel-started-more] the server saw %ld at "
              "once and %ld GETs were made; the five in flight were cancelled and no other "
              "should have started.", r->stats.peak, nreq);
    kit_expect_no_leaks("check_all");
}

Test(check, cancel_keeps_what_is_known)
{
    /* Line 1 hangs; lines 2-7 are done but held behind it, and the reader has said end (W =
     * 8): check_all waits for its last checks when it is cancelled, once the five GETs that
     * answer have returned. Line 1 is cancelled, the others keep their own results. */
    static const char *const urls[] = { "/hang?tag=0", "/delay/0?tag=1", "/status/404",
                                        "/delay/0?tag=3", REFUSED, "/delay/0?tag=5",
                                        "/delay/0?tag=1" };
    struct crun *r = kit_alloc(sizeof *r);
    *r = (struct crun){ .n = 7, .urls = urls, .c = 3, .w = 8, .cancel = 1, .cancel_reads = 7,
                        .cancel_inflight = 1, .cancel_answered = 5 };

    run(r);
    kit_expect_premise(r->hold_met, "7 lines read, the /hang in flight before the cancel");
    cr_assert_eq(r->rc, -ECANCELED, "[cancel-rc] check_all, cancelled, returned %s; expected "
                 "-ECANCELED.", kit_errname(r->rc));
    cr_assert_eq(r->written, 7, "[cancel-unwritten] %zu of 7 lines written after the cancel.",
                 r->written);
    expect_common(r, "cancelled with one /hang at the head");
    expect_line(r, 0, -ECANCELED, 0, "cancelled: line 1 (/hang)");
    expect_line(r, 1, 0, 200, "cancelled: line 2 had its answer");
    expect_line(r, 2, 0, 404, "cancelled: line 3 had its answer");
    expect_line(r, 3, 0, 200, "cancelled: line 4 had its answer");
    expect_line(r, 4, -ECONNREFUSED, 0, "cancelled: line 5 had its answer");
    expect_line(r, 5, 0, 200, "cancelled: line 6 had its answer");
    expect_line(r, 6, 0, 200, "cancelled: line 7 (a repeat of line 2)");
    kit_expect_no_leaks("check_all");
}

Test(check, cancel_while_reading)
{
    /* The reader waits at line 3 for line 2 to be written; line 1 hangs, so it never is:
     * once line 2's GET has returned, the caller is cancelled inside the reader. */
    static const char *const urls[] = { "/hang?tag=0", "/delay/0?tag=1", "/delay/0?tag=2" };
    struct crun *r = kit_alloc(sizeof *r);
    *r = (struct crun){ .n = 3, .urls = urls, .c = 2, .w = 5, .hold_at = 3, .cancel = 1,
                        .cancel_reads = 2, .cancel_inflight = 1, .cancel_answered = 1 };

    run(r);
    cr_assert_eq(r->rc, -ECANCELED, "[cancel-rc] check_all, cancelled while its reader waited, "
                 "returned %s; expected -ECANCELED (the reader's).", kit_errname(r->rc));
    cr_assert_eq(r->written, 2, "[cancel-unwritten] %zu of the 2 lines read were written.",
                 r->written);
    expect_common(r, "cancelled while reading");
    expect_line(r, 0, -ECANCELED, 0, "cancelled while reading: line 1 (/hang)");
    expect_line(r, 1, 0, 200, "cancelled while reading: line 2 had its answer");
    kit_expect_no_leaks("check_all");
}

Test(check, reader_error_after_four_lines)
{
    struct crun *r = kit_alloc(sizeof *r);
    *r = (struct crun){ .n = 9, .urls = delays(9, 50), .c = 2, .w = 8, .fail_at = 5,
                        .read_error = -EIO };

    run(r);
    cr_assert_eq(r->rc, -EIO, "[reader-error] the reader failed with -EIO at line 5: "
                 "check_all returned %s; expected that error, once the lines read were "
                 "checked and written.", kit_errname(r->rc));
    cr_assert(r->reader_calls == 5 && r->written == 4, "[reader-error] after the reader's "
              "error: %zu reader calls (expected 5: no more after the error), %zu lines "
              "written (expected the 4 read).", r->reader_calls, r->written);
    expect_common(r, "a reader error at line 5");
    for (size_t i = 0; i < 4; i++)
        expect_line(r, i, 0, 200, "a reader error at line 5: the lines read are still checked");
    kit_expect_no_leaks("check_all");
}

Test(check, no_memory_for_a_check)
{
    /* check_new fails at the 4th URL: -ENOMEM, the three lines read written, nothing left. */
    struct crun *r = kit_alloc(sizeof *r);
    *r = (struct crun){ .n = 7, .urls = delays(7, 100), .c = 2, .w = 7, .check_fail_at = 4 };

    run(r);
    cr_assert_eq(r->rc, -ENOMEM, "[nomem] check_new failed at the 4th URL: check_all returned "
                 "%s; expected -ENOMEM.", kit_errname(r->rc));
    cr_assert(r->written == 3 && r->reads == 4, "[nomem] %zu lines read, %zu written; "
              "expected the 3 that made it into the window written, and no more reading.",
              r->reads, r->written);
    expect_common(r, "no memory at the 4th URL");
    for (size_t i = 0; i < 3; i++)
        expect_line(r, i, -ECANCELED, 0, "no memory at the 4th URL: the run ends as a cancel, "
                    "and lines 1-3 had not started");
    cr_assert_eq(r->stats.requests, 0, "[nomem] the server saw %ld requests; the run ends "
                 "as a cancel before any worker had its turn.", r->stats.requests);
    kit_expect_no_leaks("check_all");
}

Test(check, no_task_or_group)
{
    static const char *const urls[] = { "/delay/0?tag=1", "/delay/0?tag=2" };
    for (int k = 0; k < 2; k++) {
        struct crun *r = kit_alloc(sizeof *r);
        *r = (struct crun){ .n = 2, .urls = urls, .c = 4, .w = 4, .group_fail = k == 0,
                            .spawn_fail_at = k == 1 ? 3 : 0 };
        run(r);
        const char *what = k == 0 ? "aio_group_new failing" : "the 3rd spawn failing";
        cr_assert(r->rc == -ENOMEM && r->written == 0 && r->reader_calls == 0 && nreq == 0,
                  "[nomem] with %s, check_all returned %s after %zu reader calls, %zu lines "
                  "written and %ld GETs; expected -ENOMEM before reading anything.", what,
                  kit_errname(r->rc), r->reader_calls, r->written, nreq);
        expect_common(r, what);
    }
    kit_expect_no_leaks("check_all");
}

Test(check, empty_input)
{
    struct crun *r = kit_alloc(sizeof *r);
    *r = (struct crun){ .n = 0, .urls = NULL, .c = 3, .w = 5 };

    run(r);
    cr_assert_eq(r->rc, 0, "[check-rc] check_all of an empty input returned %s; expected 0.",
                 kit_errname(r->rc));
    cr_assert(r->written == 0 && r->reader_calls == 1 && r->stats.requests == 0,
              "[empty] an empty input: %zu written, %zu reader calls, %ld requests; expected "
              "0, 1, 0.", r->written, r->reader_calls, r->stats.requests);
    expect_common(r, "an empty input");
    kit_expect_no_leaks("check_all");
}

Test(check, bad_arguments)
{
    static const struct { int bad; size_t c; int64_t t; const char *what; } cases[] = {
        { 1, 2, 0, "a NULL window" }, { 2, 2, 0, "a NULL reader" }, { 3, 2, 0, "a NULL writer" },
        { 4, 2, 0, "NULL options" }, { 5, 2, 0, "a NULL http client" },
        { 0, 0, 0, "concurrency 0" }, { 0, CHECK_C_MAX + 1, 0, "concurrency CHECK_C_MAX + 1" },
        { 0, 2, -1, "a timeout of -1 ms" },
    };
    static const char *const urls[] = { "/delay/0" };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct crun *r = kit_alloc(sizeof *r);
        *r = (struct crun){ .n = 1, .urls = urls, .c = cases[k].c, .w = 2,
                            .timeout_ms = cases[k].t, .bad = cases[k].bad };
        run(r);
        cr_assert(r->rc == -EINVAL && r->reader_calls == 0 && r->written == 0 && spawn_calls == 0,
                  "[bad-args] check_all with %s returned %s after %zu reader calls and %ld "
                  "spawns; expected -EINVAL before anything.", cases[k].what,
                  kit_errname(r->rc), r->reader_calls, spawn_calls);
    }
    struct crun *r = kit_alloc(sizeof *r);
    *r = (struct crun){ .n = 1, .urls = urls, .c = CHECK_C_MAX, .w = 2 };
    run(r);
    cr_assert_eq(r->rc, 0, "[bad-args] concurrency CHECK_C_MAX is allowed: check_all returned "
                 "%s.", kit_errname(r->rc));
    expect_line(r, 0, 0, 200, "C = CHECK_C_MAX");
    kit_expect_no_leaks("check_all");
}
