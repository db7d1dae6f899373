/* Lesson 12, part two: the crawler. From one start page it fetches every page it can reach by
 * following links, each page once, at most K fetches at a time, as deep as it is allowed and
 * no more pages than its budget, until nothing is left or a deadline comes. It is a pool of K
 * worker tasks over a queue that grows while it is consumed: each page fetched may add pages
 * to the queue. The hard part is the end: an empty queue does not mean the crawl is over while
 * another worker's page may still bring new links; it is over when the queue is empty AND no
 * page is being fetched. */
#ifndef CRAWL_H
#define CRAWL_H

#include "aio.h"
#include "links.h"

#include <stddef.h>
#include <stdint.h>

#define CRAWL_K_MAX 64            /* the most workers */
#define CRAWL_PAGES_MAX 100000    /* the largest page budget */
#define CRAWL_QUEUED 1            /* a page's rc until its fetch has ended */

/* One page the crawl found. */
struct page {
    char *url;        /* its URL in link_resolve's form (the set's key); owned by the crawl */
    int depth;        /* 0 for the start page, 1 for the pages it links to, ... */
    int rc;           /* CRAWL_QUEUED until its fetch ended, then aio_http_get's result */
    long status;      /* the HTTP status when rc is 0, else 0 */
};

/* The seen-set: every URL the crawl has queued, by its exact string (given, crawl_base.c). */
struct seen {
    char **slot;      /* open addressing; NULL is free */
    size_t cap, n;
};

struct crawl {
    /* in: set by the caller, read only by you */
    const char *start;       /* the start URL (any spelling link_resolve accepts) */
    aio_http *http;          /* the client every fetch uses */
    size_t k;                /* K: workers, and so fetches in flight at most, 1..CRAWL_K_MAX */
    int max_depth;           /* D >= 0: links are followed from pages of depth < D only */
    size_t max_pages;        /* the budget: at most this many pages queued, 1..CRAWL_PAGES_MAX */
    int64_t deadline;        /* absolute (aio_now() + ms), or AIO_NEVER */
    /* out: the pages found, in the order they were queued; pages[0] is the start */
    struct page *pages;
    size_t n, cap;
    long fetched;            /* pages whose fetch ended with rc 0 */
    long in_flight, in_flight_peak;   /* fetches under way now (from 0) and at most: yours */
    /* given state (crawl_base.c) */
    struct seen seen;
    /* yours: whatever your workers share, set by crawl_run whatever they held before */
    size_t next;             /* pages[next..n) are queued, not yet taken */
    aio_task *idle[CRAWL_K_MAX];   /* workers asleep, waiting for work */
    size_t nidle;
    int over;                /* the crawl has ended: idle workers go home */
};

/* ---- given (crawl_base.c) ------------------------------------------------------------ */

/* Record url in c->seen. 1 when it was new (now recorded), 0 when it was there already,
 * -ENOMEM (not recorded). One step: it never waits. */
int seen_add(struct crawl *c, const char *url);

/* Whether url is in c->seen. */
int seen_has(const struct crawl *c, const char *url);

/* Append a page (a copy of url) at this depth to c->pages: rc CRAWL_QUEUED, status 0. It
 * does not look at the seen-set or the budget. 0, or -ENOMEM. */
int crawl_push(struct crawl *c, const char *url, int depth);

/* Free the pages and the seen-set; c->pages NULL, c->n 0 again. Safe to call twice. */
void crawl_free(struct crawl *c);

/* The program's baseline mode: the same crawl, one fetch at a time (a loop over the queue,
 * no tasks). Returns as crawl_run. */
int crawl_seq(struct crawl *c);

/* ---- yours (crawl.c) ---------------------------------------------------------------- */

/* Crawl from c->start with c->k worker tasks.
 * - The start URL, in link_resolve(NULL, start) form, is page 0 at depth 0. A page of depth
 *   d < max_depth that answered 200 has its links read (links_extract against its own URL)
 *   and each one not seen before is queued at depth d + 1; a page of depth max_depth has
 *   none followed. Pages are taken from the queue in the order they were queued.
 * - Every URL is queued and fetched at most once: the seen-set is checked and updated
 *   with no wait in between (seen_add does both), so two workers never queue one URL.
 * - The budget: at most max_pages pages are ever queued (and so fetched); a link found once
 *   the budget is spent is left out, and so is every later one.
 * - At most k fetches in flight at once (c->in_flight, c->in_flight_peak kept up to date),
 *   and k at once whenever k pages are queued: an idle worker sleeps (never polls) and is woken
 *   when a page is queued.
 * - The end: when no page is queued and none is being fetched, every worker ends and the call
 *   returns 0. c->pages lists each page queued, with its depth, rc and status; c->fetched
 *   counts the rc 0 ones. A page that did not answer 200 is kept, its links unread.
 * - At c->deadline the crawl stops: fetches under way end (their page's rc is negative, the
 *   deadline's -ETIMEDOUT or a cancel's -ECANCELED), queued pages keep CRAWL_QUEUED, and it
 *   returns -ETIMEDOUT with what was found so far; nothing of it keeps running.
 * - -EINVAL (nothing fetched) when start is NULL or not an http(s) URL, http is NULL, k or
 *   max_pages is out of range or max_depth < 0. -ENOMEM when a task, the set or a page cannot
 *   be had (when a worker cannot be spawned, those started are cancelled before they fetch
 *   anything). -ECANCELED when the calling task is cancelled. On every return every worker has
 *   ended and been joined; c->pages stays the caller's to crawl_free.
 * Call from inside a task; never polls, never blocks the thread. */
int crawl_run(struct crawl *c);

#endif
