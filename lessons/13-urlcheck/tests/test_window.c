/* Lesson 13 tests, part one: window_add and window_flush, without any I/O. The test marks
 * checks done itself and records every line the window writes; the witnesses are the lines
 * written (number, URL, result, order, how many), the checks made and alive (the books of
 * check_new and check_unref), each check's refs, and fresh. Every URL is handed over in a
 * buffer of its exact size, freed right after the call, so keeping the reader's pointer
 * instead of a copy is a sanitizer report. */
#include "counted.h"
#include "urlcheck.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit_test.h"

static void teardown(void)
{
    watching = 0;
    kit_cleanup();
}

/* Same .timeout as the other suite: Criterion 2.4.1 leaks with --jobs=2 when they differ. */
TestSuite(window, .fini = teardown, .timeout = 30);

#define WMAX 64

struct seen {
    size_t n;
    size_t lineno[WMAX];
    char url[WMAX][64];
    struct check_result res[WMAX];
};

static void record(void *ctx, size_t lineno, const char *url, const struct check_result *r)
{
    struct seen *s = ctx;
    if (s->n < WMAX) {
        s->lineno[s->n] = lineno;
        snprintf(s->url[s->n], sizeof s->url[s->n], "%s", url);
        s->res[s->n] = *r;
    }
    s->n++;
}

static void free_window(void *arg)
{
    struct window *w = arg;
    /* What the student's code left in the window (a failed assertion): drop it. */
    while (w->ring != NULL && w->len > 0) {
        struct line *l = &w->ring[w->head];
        if (l->check != NULL)
            check_unref(w, l->check);
        w->head = (w->head + 1) % w->cap;
        w->len--;
    }
    window_free(w);
}

static struct window *new_window(size_t cap)
{
    struct window *w = kit_alloc(sizeof *w);
    cr_assert_eq(window_init(w, cap), 0, "[test-premise] window_init(%zu) failed", cap);
    kit_defer(free_window, w);
    return w;
}

/* window_add with url in a buffer of its exact size, freed after the call. */
static int add(struct window *w, const char *url, size_t lineno, struct check **fresh)
{
    char *copy = strdup(url);
    cr_assert(copy != NULL);
    watching = 1;
    int rc = window_add(w, copy, lineno, fresh);
    watching = 0;
    memset(copy, 'X', strlen(copy));
    free(copy);
    kit_expect_done(rc, "window_add", "window.c");
    return rc;
}

static void finish(struct check *c, int rc, long status, int64_t ms)
{
    c->res = (struct check_result){ .rc = rc, .status = status, .ms = ms };
    c->done = 1;
}

static size_t flush(struct window *w, struct seen *s)
{
    struct writer out = { record, s };
    return window_flush(w, &out);
}

static void expect_line(const struct seen *s, size_t k, size_t lineno, const char *url, int rc,
                        long status)
{
    cr_assert(k < s->n, "[flush-missing] the window wrote %zu %s; line %zu (%s) should have "
              "been written %s. Does window_flush stop too early?", s->n,
              kit_plural((long)s->n, "line", "lines"), lineno, url,
              k == 0 ? "first" : "by now");
    cr_assert(s->lineno[k] == lineno && strcmp(s->url[k], url) == 0,
              "[flush-order] write %zu was line %zu (%s); it should be line %zu (%s): lines "
              "leave the window in the order they came in, each once.", k + 1, s->lineno[k],
              s->url[k], lineno, url);
    cr_assert(s->res[k].rc == rc && s->res[k].status == status,
              "[flush-result] line %zu (%s) was written with rc %s, status %ld; its check "
              "finished with rc %s, status %ld. Does each line carry its own check's result?",
              lineno, url, kit_errname(s->res[k].rc), s->res[k].status, kit_errname(rc), status);
}

Test(window, adds_in_order_and_refuses_when_full)
{
    struct window *w = new_window(7);
    struct seen *s = kit_alloc(sizeof *s);
    struct check *fresh[8] = { 0 };
    char url[64];

    for (size_t i = 0; i < 7; i++) {
        snprintf(url, sizeof url, "http://h/%zu", i);
        int rc = add(w, url, 10 + 3 * i, &fresh[i]);
        cr_assert_eq(rc, 0, "[add-failed] window_add of line %zu into a window of 7 holding %zu "
                     "returned %s; expected 0.", i + 1, i, kit_errname(rc));
        cr_assert(fresh[i] != NULL && strcmp(fresh[i]->url, url) == 0 && fresh[i]->refs == 1,
                  "[add-fresh] a URL not in the window yet needs a check of its own, handed "
                  "back in *fresh with its URL copied and one ref; line %zu got %s.", i + 1,
                  fresh[i] == NULL ? "NULL" : "a check of another URL or refs other than 1");
        cr_assert(fresh[i]->url != url, "[add-copy] the check keeps the caller's buffer.");
    }
    cr_assert_eq(w->checks_made, 7, "[add-checks] 7 distinct URLs should make 7 checks; "
                 "check_new was called %ld times.", w->checks_made);
    cr_assert_eq(w->len, 7, "[add-len] the window holds %zu lines after 7 adds; expected 7.",
                 w->len);
    fresh[7] = (struct check *)1;
    int rc = add(w, "http://h/more", 99, &fresh[7]);
    cr_assert(rc == -ENOSPC && fresh[7] == NULL && w->len == 7 && w->checks_made == 7,
              "[add-full] window_add into a full window returned %s (fresh %s, %zu lines, %ld "
              "checks); expected -ENOSPC, fresh NULL and nothing changed.", kit_errname(rc),
              fresh[7] == NULL ? "NULL" : "set", w->len, w->checks_made);
    /* Nothing done: nothing leaves. Line 3 done: still nothing (line 1 is not). */
    cr_assert_eq(flush(w, s), 0, "[flush-early] window_flush wrote a line whose check is "
                 "not done.");
    finish(fresh[2], 0, 404, 5);
    cr_assert(flush(w, s) == 0 && s->n == 0, "[flush-overtakes] window_flush wrote line 3 "
              "(done) while line 1 was not done; lines leave in input order only.");
    finish(fresh[0], -ETIMEDOUT, 0, 7);
    size_t k = flush(w, s);
    cr_assert(k == 1 && s->n == 1, "[flush-count] with line 1 done and line 2 not, "
              "window_flush wrote %zu %s (returned %zu); expected 1.", s->n,
              kit_plural((long)s->n, "line", "lines"), k);
    expect_line(s, 0, 10, "http://h/0", -ETIMEDOUT, 0);
    finish(fresh[1], 0, 200, 9);
    k = flush(w, s);
    cr_assert(k == 2 && s->n == 3, "[flush-count] with lines 2 and 3 done, window_flush "
              "wrote %zu (returned %zu); expected 2: it goes on while the head is done.",
              s->n - 1, k);
    expect_line(s, 1, 13, "http://h/1", 0, 200);
    expect_line(s, 2, 16, "http://h/2", 0, 404);
    cr_assert_eq(w->len, 4, "[flush-len] 3 lines written of 7: the window should hold 4; it "
                 "holds %zu.", w->len);
    cr_assert_eq(w->checks_alive, 4, "[flush-unref] 3 lines written and their checks no "
                 "longer used: 4 checks should be alive, %ld are. Does window_flush "
                 "check_unref each line it writes?", w->checks_alive);
    /* The ring wraps: three more lines, one of them a URL still in the window. */
    struct check *more[3];
    add(w, "http://h/7", 40, &more[0]);
    add(w, "http://h/5", 41, &more[1]);
    add(w, "http://h/8", 42, &more[2]);
    cr_assert(more[0] != NULL && more[1] == NULL && more[2] != NULL && fresh[5]->refs == 2,
              "[add-share] after the ring wrapped, line 41 repeats the URL of line 6, still in "
              "the window: it should share that check (fresh NULL, refs 2); got fresh %s, refs "
              "%d.", more[1] == NULL ? "NULL" : "a new check", fresh[5]->refs);
    rc = add(w, "http://h/9", 43, &fresh[7]);
    cr_assert_eq(rc, -ENOSPC, "[add-full] the window of 7 holds 7 lines after wrapping; "
                 "window_add returned %s, expected -ENOSPC.", kit_errname(rc));
    for (size_t i = 3; i < 7; i++)
        finish(fresh[i], 0, 200 + (long)i, (int64_t)i);
    finish(more[0], -ECONNREFUSED, 0, 1);
    finish(more[2], -EINVAL, 0, 0);
    k = flush(w, s);
    cr_assert(k == 7 && s->n == 10 && w->len == 0, "[flush-count] every line done: "
              "window_flush should write the 7 left (returned %zu, wrote %zu, %zu left).", k,
              s->n - 3, w->len);
    for (size_t i = 3; i < 7; i++) {
        snprintf(url, sizeof url, "http://h/%zu", i);
        expect_line(s, i, 10 + 3 * i, url, 0, 200 + (long)i);
    }
    expect_line(s, 7, 40, "http://h/7", -ECONNREFUSED, 0);
    expect_line(s, 8, 41, "http://h/5", 0, 205);
    expect_line(s, 9, 42, "http://h/8", -EINVAL, 0);
    cr_assert(w->checks_alive == 0 && w->checks_made == 9, "[flush-unref] every line written: "
              "no check should be alive (%ld are), 9 made (%ld).", w->checks_alive,
              w->checks_made);
    cr_assert_eq(flush(w, s), 0, "[flush-empty] window_flush of an empty window wrote a line.");
    kit_expect_no_leaks("window_add and window_flush");
}

Test(window, repeats_share_one_check)
{
    /* Lines A B A A C B A (7), cap 13: 3 checks; the lines of A point at one check. */
    static const char *const urls[] = { "http://a/x", "http://b/x", "http://a/x", "http://a/x",
                                        "http://c/x", "http://b/x", "http://a/x" };
    static const int owner[] = { 0, 1, 0, 0, 4, 1, 0 };
    struct window *w = new_window(13);
    struct seen *s = kit_alloc(sizeof *s);
    struct check *fresh[7];

    for (size_t i = 0; i < 7; i++) {
        int rc = add(w, urls[i], i + 1, &fresh[i]);
        cr_assert_eq(rc, 0, "[add-failed] window_add of line %zu returned %s; expected 0.",
                     i + 1, kit_errname(rc));
        int first = owner[i] == (int)i;
        cr_assert(first ? fresh[i] != NULL : fresh[i] == NULL,
                  "[add-share] line %zu (%s) %s; %s", i + 1, urls[i],
                  fresh[i] != NULL ? "got a check of its own" : "got no check of its own",
                  first ? "its URL is new to the window: it needs a fresh check."
                        : "its URL is in the window already: it shares that check, and "
                          "nothing new is fetched (*fresh NULL).");
    }
    cr_assert(w->checks_made == 3 && fresh[0]->refs == 4 && fresh[1]->refs == 2 &&
              fresh[4]->refs == 1, "[add-refs] 7 lines of 3 URLs: 3 checks (made %ld), refs "
              "4, 2, 1 (got %d, %d, %d): each line sharing a check counts one ref.",
              w->checks_made, fresh[0]->refs, fresh[1]->refs, fresh[4]->refs);
    /* B and C done: nothing leaves (A at the head). */
    finish(fresh[1], 0, 503, 3);
    finish(fresh[4], 0, 204, 4);
    cr_assert_eq(flush(w, s), 0, "[flush-overtakes] window_flush wrote a line while line 1 "
                 "was not done.");
    /* One more line of B, done already: it waits its turn behind A. */
    struct check *late;
    add(w, "http://b/x", 8, &late);
    cr_assert(late == NULL && fresh[1]->refs == 3, "[add-share] a URL whose check is done "
              "but still in the window shares it too (nothing to fetch); line 8 got %s.",
              late == NULL ? "no check but refs wrong" : "a check of its own");
    finish(fresh[0], 0, 200, 2);
    size_t k = flush(w, s);
    cr_assert_eq(k, 8, "[flush-count] every line done: window_flush should write all 8; it "
                 "returned %zu.", k);
    for (size_t i = 0; i < 7; i++)
        expect_line(s, i, i + 1, urls[i], 0, owner[i] == 0 ? 200 : owner[i] == 1 ? 503 : 204);
    expect_line(s, 7, 8, "http://b/x", 0, 503);
    cr_assert(w->checks_alive == 0 && w->len == 0, "[flush-unref] every line written: %ld "
              "checks still alive (expected 0): a shared check is freed with its last line.",
              w->checks_alive);
    kit_expect_no_leaks("window_add and window_flush");
}

Test(window, wraps_around_when_searching)
{
    /* cap 5: five lines, three leave, three more come (the ring wraps); the repeat of a URL
     * in the last slot of the ring and of one past the wrap must both be found. */
    struct window *w = new_window(5);
    struct seen *s = kit_alloc(sizeof *s);
    struct check *f[5], *g[3], *h;
    char url[32];

    for (size_t i = 0; i < 5; i++) {
        snprintf(url, sizeof url, "http://w/%zu", i);
        add(w, url, i + 1, &f[i]);
        cr_assert(f[i] != NULL, "[add-fresh] line %zu needs a check of its own.", i + 1);
    }
    for (size_t i = 0; i < 3; i++)
        finish(f[i], 0, 200, 1);
    cr_assert_eq(flush(w, s), 3, "[flush-count] lines 1-3 done: window_flush should write 3.");
    add(w, "http://w/5", 6, &g[0]);
    add(w, "http://w/4", 7, &g[1]);      /* repeats line 5, in the ring's last slot */
    add(w, "http://w/5", 8, &g[2]);      /* repeats line 6, past the wrap */
    cr_assert(g[0] != NULL && g[1] == NULL && g[2] == NULL && f[4]->refs == 2 &&
              g[0]->refs == 2, "[add-share-wrap] after the ring wrapped, lines 7 and 8 repeat "
              "URLs still in the window (lines 5 and 6) and should share their checks: got "
              "%s and %s. Does the search walk the ring from head, modulo cap?",
              g[1] == NULL ? "shared" : "a new check", g[2] == NULL ? "shared" : "a new check");
    h = (struct check *)1;
    cr_assert(add(w, "http://w/0", 9, &h) == -ENOSPC && h == NULL, "[add-full] the wrapped "
              "window of 5 is full; window_add should return -ENOSPC with fresh NULL.");
    finish(f[3], 0, 301, 1);
    finish(f[4], 0, 302, 1);
    finish(g[0], 0, 303, 1);
    cr_assert_eq(flush(w, s), 5, "[flush-count] every line done: window_flush should write "
                 "the 5 left, across the wrap.");
    expect_line(s, 3, 4, "http://w/3", 0, 301);
    expect_line(s, 4, 5, "http://w/4", 0, 302);
    expect_line(s, 5, 6, "http://w/5", 0, 303);
    expect_line(s, 6, 7, "http://w/4", 0, 302);
    expect_line(s, 7, 8, "http://w/5", 0, 303);
    cr_assert_eq(w->checks_alive, 0, "[flush-unref] %ld checks alive after every line was "
                 "written; expected 0.", w->checks_alive);
    kit_expect_no_leaks("window_add and window_flush");
}

Test(window, no_memory_changes_nothing)
{
    struct window *w = new_window(7);
    struct check *f[3];

    add(w, "http://m/0", 1, &f[0]);
    add(w, "http://m/1", 2, &f[1]);
    counted_reset();
    check_fail_at = 1;
    f[2] = (struct check *)1;
    int rc = add(w, "http://m/2", 3, &f[2]);
    cr_assert(rc == -ENOMEM && f[2] == NULL && w->len == 2,
              "[add-nomem] check_new returned NULL: window_add returned %s with fresh %s and "
              "%zu lines; expected -ENOMEM, fresh NULL and the window unchanged (2 lines).",
              kit_errname(rc), f[2] == NULL ? "NULL" : "set", w->len);
    /* A repeat needs no check_new: it still works. */
    check_fail_at = 2;
    rc = add(w, "http://m/0", 4, &f[2]);
    cr_assert(rc == 0 && f[2] == NULL && f[0]->refs == 2, "[add-share] a repeat of line 1 "
              "should share its check (no check_new): got %s.", kit_errname(rc));
    kit_expect_no_leaks("window_add");
}
