/* Lesson 10, given: the cache's entries (find, join, leave, fetch) and the program's two other
 * modes, without a lock and under one lock for everything. */
#include "cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void cache_init(struct cache *c, aio_http *http)
{
    c->http = http;
    c->head = NULL;
    lock_init(&c->global);
}

static void entry_free(struct cache_entry *e)
{
    free(e->body);
    free(e->url);
    free(e);
}

void cache_free(struct cache *c)
{
    while (c->head != NULL) {
        struct cache_entry *e = c->head;
        c->head = e->next;
        entry_free(e);
    }
}

struct cache_entry *cache_find(struct cache *c, const char *url)
{
    for (struct cache_entry *e = c->head; e != NULL; e = e->next)
        if (strcmp(e->url, url) == 0)
            return e;
    return NULL;
}

struct cache_entry *cache_join(struct cache *c, const char *url)
{
    struct cache_entry *e = cache_find(c, url);

    if (e == NULL) {
        e = calloc(1, sizeof *e);
        if (e == NULL)
            return NULL;
        e->url = strdup(url);
        if (e->url == NULL) {
            free(e);
            return NULL;
        }
        lock_init(&e->lock);
        e->next = c->head;
        c->head = e;
    }
    e->users++;
    return e;
}

void cache_leave(struct cache *c, struct cache_entry *e)
{
    if (--e->users > 0 || e->state == ENTRY_READY)
        return;
    for (struct cache_entry **p = &c->head; *p != NULL; p = &(*p)->next) {
        if (*p == e) {
            *p = e->next;
            entry_free(e);
            return;
        }
    }
}

int cache_fetch(struct cache *c, struct cache_entry *e, int64_t deadline)
{
    struct aio_response r = { 0 };
    int rc = aio_http_get(c->http, e->url, &r, deadline);

    if (rc < 0)
        return rc;
    if (r.status < 200 || r.status > 299) {
        aio_response_free(&r);
        return -EIO;
    }
    if (e->state == ENTRY_READY) {
        aio_response_free(&r);
        return 0;
    }
    e->state = ENTRY_READY;
    e->status = r.status;
    e->body = r.body;
    e->len = r.len;
    return 0;
}

void cache_answer_of(const struct cache_entry *e, struct cache_answer *out)
{
    out->status = e->status;
    out->body = e->body;
    out->len = e->len;
}

size_t cache_size(const struct cache *c)
{
    size_t n = 0;

    for (const struct cache_entry *e = c->head; e != NULL; e = e->next)
        n++;
    return n;
}

size_t cache_ready(const struct cache *c)
{
    size_t n = 0;

    for (const struct cache_entry *e = c->head; e != NULL; e = e->next)
        n += e->state == ENTRY_READY;
    return n;
}

int cache_get_nolock(struct cache *c, const char *url, struct cache_answer *out,
                     int64_t deadline)
{
    struct cache_entry *e = cache_join(c, url);
    int rc = 0;

    if (e == NULL)
        return -ENOMEM;
    /* Checked before the await, written after it: every asker that comes while the first
     * fetch is on its way sees ENTRY_EMPTY too, and fetches again. */
    if (e->state != ENTRY_READY)
        rc = cache_fetch(c, e, deadline);
    if (rc == 0)
        cache_answer_of(e, out);
    cache_leave(c, e);
    return rc;
}

int cache_get_global(struct cache *c, const char *url, struct cache_answer *out,
                     int64_t deadline)
{
    int rc = lock_acquire(&c->global, deadline);

    if (rc < 0)
        return rc;
    struct cache_entry *e = cache_join(c, url);
    if (e == NULL) {
        lock_release(&c->global);
        return -ENOMEM;
    }
    /* Right, and slow: the lock is held across the fetch, so an asker of another url waits
     * for this one's answer before its own fetch can start. */
    if (e->state != ENTRY_READY)
        rc = cache_fetch(c, e, deadline);
    if (rc == 0)
        cache_answer_of(e, out);
    cache_leave(c, e);
    lock_release(&c->global);
    return rc;
}
