/* Lesson 13, the capstone: urlcheck, a URL checker. It reads URLs one a line, checks each with
 * a GET under its own timeout, at most C checks in flight, and writes one result a line IN
 * INPUT ORDER, each as soon as every earlier line is known. The lines read and not yet written
 * sit in a window of W slots: reading waits while the window is full (back-pressure), so a
 * list of a million URLs never holds more than W of them. A URL repeated while an earlier line
 * of it is still in the window shares that line's check: it is fetched once.
 *
 * Part one (window.c): the window, without I/O. Part two (check.c): check_all, the checker. */
#ifndef URLCHECK_H
#define URLCHECK_H

#include "aio.h"

#include <stddef.h>
#include <stdint.h>

/* The largest window and the most checks in flight check_all takes. */
#define WINDOW_MAX 65536
#define CHECK_C_MAX 1024

/* What one check found. */
struct check_result {
    int rc;          /* aio_http_get's: 0 (an answer came: see status), -ETIMEDOUT, -ECONNREFUSED,
                        -EINVAL (malformed URL), -EIO, or -ECANCELED (cancelled, or never
                        started because the run was cancelled) */
    long status;     /* the answer's HTTP status; 0 when none came */
    int64_t ms;      /* how long the GET took, from its start (not its wait for a free slot) */
};

/* One distinct URL and its check, shared by every line of the window that carries it. */
struct check {
    char *url;                 /* the check's own copy of the URL (check_new made it) */
    int refs;                  /* lines in the window pointing at it */
    int done;                  /* 1 once res is final */
    struct check_result res;
    int started;               /* free for your design: e.g. 1 once a worker took it */
    struct check *next;        /* free for your design: e.g. the list of checks not started */
};

/* One line of input in the window. */
struct line {
    size_t lineno;             /* its line number in the input (the reader's) */
    struct check *check;       /* its check (shared with the other lines of the same URL) */
};

/* The window: the lines read and not yet written, oldest first, in a ring of cap slots. */
struct window {
    struct line *ring;         /* the lines are ring[head], ring[head+1], ... (mod cap) */
    size_t cap, head, len;
    /* the books, kept by check_new and check_unref: checks made (= URLs fetched or to be),
       alive now and at most at once */
    long checks_made, checks_alive, checks_peak;
};

/* Where the URLs come from. next() gives the next URL: 1 with *url (valid only until the next
 * call: copy it) and *lineno (its line number, increasing), 0 at the end of the input, or a
 * negative errno. Blank lines and comments are skipped already. It may wait (reading a pipe):
 * call it from a task; a cancelled caller gets -ECANCELED. */
struct reader {
    int (*next)(void *ctx, const char **url, size_t *lineno);
    void *ctx;
};

/* Where the results go: one call a line, in input order. Never waits, never fails (the given
 * writers deal with their own errors). */
struct writer {
    void (*line)(void *ctx, size_t lineno, const char *url, const struct check_result *r);
    void *ctx;
};

struct check_opts {
    size_t concurrency;        /* C: at most this many GETs in flight, 1..CHECK_C_MAX */
    int64_t timeout_ms;        /* each GET's own timeout, from its start; 0: none (< 0: EINVAL) */
    aio_http *http;            /* the client every check uses */
};

/* ---- given (urlcheck_base.c) ------------------------------------------------------------ */

/* An empty window of cap slots (1..WINDOW_MAX): 0, -EINVAL, -ENOMEM. window_free releases the
 * ring; the window must be empty. */
int window_init(struct window *w, size_t cap);
void window_free(struct window *w);

/* A new check of url (copied), refs 0, not done, not started; the books count it. NULL when
 * memory runs out. check_unref drops one ref and frees the check at 0 (the books count it). */
struct check *check_new(struct window *w, const char *url);
void check_unref(struct window *w, struct check *c);

/* 1 when a result is fine: an answer with status 100..399. */
int check_fine(const struct check_result *r);

/* ---- yours, part one (window.c) --------------------------------------------------------- */

/* Add the line (url, lineno) at the window's tail.
 * - If a line in the window has the same URL (strcmp), the new line shares its check (one ref
 *   more) and *fresh is NULL: nothing new to fetch. Otherwise a new check (check_new) with the
 *   line's ref, and *fresh is that check: the caller must start it.
 * - 0; -ENOSPC when the window is full, -ENOMEM when no check can be had: then nothing changed
 *   and *fresh is NULL. Never waits. */
int window_add(struct window *w, const char *url, size_t lineno, struct check **fresh);

/* Write the lines at the head whose check is done, oldest first, one out->line call each, and
 * take each off the window (check_unref its check); stop at the first line not done. Returns
 * how many lines it wrote (0 when the head is not done or the window is empty). Every line is
 * written once, in input order, and the window never holds a written line. Never waits. */
size_t window_flush(struct window *w, const struct writer *out);

/* ---- yours, part two (check.c) ---------------------------------------------------------- */

/* Check every URL of in, writing one result a line to out, in input order.
 * - w is empty on entry (window_init) and on return, whatever the return; its cap is W.
 * - Reading waits only for room in the window: while the window has room, the next line is
 *   read at once (no waiting for checks, for a free slot, or for anything else), and while it
 *   is full the reader is not called. Lines read and not written never exceed W.
 * - A line is written as soon as it and every line before it are done (not at the end, not
 *   once the reader next returns): the result of line 1 is out while line 2 is still read.
 * - At most o->concurrency GETs in flight at once, and that many when there is that much work
 *   in the window; each distinct URL of the window is fetched once (window_add).
 * - Each GET: aio_http_get(o->http, url, &resp, deadline) with a deadline o->timeout_ms after
 *   its own start (AIO_NEVER for 0); res = { rc, status, ms (how long that GET took) }.
 * - Returns 0 once the reader said end and every line is written. -EINVAL (nothing read) for a
 *   NULL argument, a concurrency out of 1..CHECK_C_MAX or a negative timeout. A reader error:
 *   no more reading, the lines read are still checked and written, then that error. -ENOMEM:
 *   as -ECANCELED below, then -ENOMEM.
 * - Cancelled (the calling task, e.g. by Ctrl-C): no more reading; the GETs in flight are
 *   cancelled; every line read and not yet written is written, in order, those whose check
 *   did not finish with rc -ECANCELED; nothing of the run is left (tasks, transfers, timers);
 *   then -ECANCELED.
 * - Every task it starts has ended before it returns. Call from a task; never polls. */
int check_all(struct window *w, const struct reader *in, const struct writer *out,
              const struct check_opts *o);

#endif
