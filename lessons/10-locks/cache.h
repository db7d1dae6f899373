/* Lesson 10, part two: a cache in front of a slow server that fetches each URL once, however
 * many tasks ask for it at the same time. The race it must not lose: "not in the cache yet?
 * then fetch it" reads the cache before an await and writes it after, so two tasks that ask
 * for one URL both see it missing and both fetch. A lock for each URL, held across the fetch,
 * closes that gap; one lock for the whole cache would close it too, and fetch one URL at a
 * time. */
#ifndef CACHE_H
#define CACHE_H

#include "aio.h"
#include "lock.h"

#include <stddef.h>
#include <stdint.h>

enum entry_state {
    ENTRY_EMPTY = 0,           /* nothing fetched yet (or the last fetch gave up, see cache_get) */
    ENTRY_READY,               /* the answer is in: status, body, len */
    ENTRY_FAILED,              /* the fetch failed for every asker waiting on it: rc */
};

/* One URL in the cache. An entry exists while it holds an answer or while askers for its URL
 * are inside cache_get(); the cache owns it and its answer until cache_free(). */
struct cache_entry {
    char *url;                 /* the key: the cache's own copy */
    struct lock lock;          /* yours to use: e.g. held by the asker fetching url */
    int users;                 /* askers between cache_join() and cache_leave() for this url */
    enum entry_state state;
    int rc;                    /* ENTRY_FAILED: the error (negative errno) */
    long status;               /* ENTRY_READY: the answer, 200..299 */
    char *body;                /* ENTRY_READY: NUL-terminated, the cache's */
    size_t len;
    struct cache_entry *next;
};

/* The caller owns the struct: cache_init() sets it up, cache_free() releases what it holds.
 * Use a cache from one loop only. */
struct cache {
    aio_http *http;            /* borrowed: every fetch goes through this client */
    struct cache_entry *head;  /* the entries, newest first */
    struct lock global;        /* one lock for everything: only cache_get_global() uses it */
};

/* What an asker gets: borrowed from the cache, valid until cache_free(). */
struct cache_answer {
    long status;
    const char *body;
    size_t len;
};

/* ---- given (cache_base.c) ----------------------------------------------------------------- */

/* An empty cache whose fetches go through http (borrowed, not freed by cache_free). */
void cache_init(struct cache *c, aio_http *http);

/* Free every entry and its answer. Nobody may be inside cache_get() any more. */
void cache_free(struct cache *c);

/* The entry for url, or NULL. Never waits. */
struct cache_entry *cache_find(struct cache *c, const char *url);

/* Count the caller in as an asker of url: the entry for it (ENTRY_EMPTY and a free lock when
 * new), users one more. NULL (nothing changed) when memory runs out. Never waits. Every
 * successful cache_join() needs its cache_leave(), on every way out. */
struct cache_entry *cache_join(struct cache *c, const char *url);

/* Count the caller out (users one less). The last asker out of an entry that holds no answer
 * (ENTRY_EMPTY or ENTRY_FAILED) frees it: the next ask for its url starts afresh. e may be
 * gone when this returns. Never waits. */
void cache_leave(struct cache *c, struct cache_entry *e);

/* GET e->url through c->http with the deadline. A 2xx answer is stored in e (ENTRY_READY,
 * status, body, len) and 0 returned. Otherwise e is left as it was and the error returned:
 * aio_http_get()'s (-ETIMEDOUT, -ECANCELED, -ECONNREFUSED, ...), or -EIO for an answer that
 * is not 2xx. It waits (it is an await) and takes no lock. An answer that comes back for an
 * entry already ENTRY_READY (two fetches raced) is dropped and 0 returned. */
int cache_fetch(struct cache *c, struct cache_entry *e, int64_t deadline);

/* *out = e's answer (e must be ENTRY_READY). */
void cache_answer_of(const struct cache_entry *e, struct cache_answer *out);

/* Entries in the cache now, and how many of them are ENTRY_READY. */
size_t cache_size(const struct cache *c);
size_t cache_ready(const struct cache *c);

/* The program's other modes; both return as cache_get.
 * cache_get_nolock: check, then fetch, with no lock at all: the race this lesson is about.
 * cache_get_global: the whole of cache_get under c->global (your lock), the fetch included:
 * right, and one fetch at a time. */
int cache_get_nolock(struct cache *c, const char *url, struct cache_answer *out,
                     int64_t deadline);
int cache_get_global(struct cache *c, const char *url, struct cache_answer *out,
                     int64_t deadline);

/* ---- yours (cache.c) ---------------------------------------------------------------------- */

/* The answer to GET url, fetched at most once however many tasks ask for it at once.
 * - Returns 0 with *out filled (borrowed from the cache, see struct cache_answer) once the
 *   cache holds a 2xx answer for url: fetched by this call, or by another asker (earlier, or
 *   while this one waited). *out is written on success only.
 * - Exactly one fetch (cache_fetch) for a url while its answer is on its way: askers that
 *   come meanwhile wait for that fetch, and nobody fetches a url whose answer is in.
 * - Askers of DIFFERENT urls never wait for each other: their fetches overlap.
 * - A fetch that fails for the url's sake (any error but -ETIMEDOUT and -ECANCELED: a refused
 *   connection, -EIO for an answer that is not 2xx) fails every asker that was waiting on it
 *   with that same error, and is not cached: once they have all returned, the next ask for
 *   the url fetches it again.
 * - A fetch that ends because ITS asker's deadline passed (-ETIMEDOUT) or its asker was
 *   cancelled (-ECANCELED) fails that asker alone: the next asker in line (if any) fetches in
 *   its place, with its own deadline.
 * - The deadline (absolute) bounds this asker's whole call: -ETIMEDOUT when it passes while
 *   it waits or fetches; -ECANCELED when the calling task is cancelled; -ENOMEM.
 * - On every way out the caller is counted out of the entry it joined (nothing is left
 *   behind: an entry without an answer goes when its last asker does), and no lock it took is
 *   still held.
 * Call from inside a task. */
int cache_get(struct cache *c, const char *url, struct cache_answer *out, int64_t deadline);

#endif
