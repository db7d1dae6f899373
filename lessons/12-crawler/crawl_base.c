/* Lesson 12, given: the seen-set (a hash set of URL strings), the page list, and the
 * program's baseline mode, one fetch at a time. */
#include "crawl.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a: a plain, well-spread hash of a string. */
static size_t hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325u;

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3u;
    return (size_t)h;
}

static char **slot_of(char **slots, size_t cap, const char *url)
{
    size_t i = hash(url) & (cap - 1);

    while (slots[i] != NULL && strcmp(slots[i], url) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

int seen_has(const struct crawl *c, const char *url)
{
    return c->seen.cap > 0 && *slot_of(c->seen.slot, c->seen.cap, url) != NULL;
}

int seen_add(struct crawl *c, const char *url)
{
    struct seen *s = &c->seen;

    if (seen_has(c, url))
        return 0;
    if (2 * (s->n + 1) > s->cap) {   /* keep it at most half full */
        size_t cap = s->cap ? 2 * s->cap : 64;
        char **slots = calloc(cap, sizeof *slots);
        if (slots == NULL)
            return -ENOMEM;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i] != NULL)
                *slot_of(slots, cap, s->slot[i]) = s->slot[i];
        free(s->slot);
        s->slot = slots;
        s->cap = cap;
    }
    char *copy = strdup(url);
    if (copy == NULL)
        return -ENOMEM;
    *slot_of(s->slot, s->cap, url) = copy;
    s->n++;
    return 1;
}

int crawl_push(struct crawl *c, const char *url, int depth)
{
    char *copy = strdup(url);

    if (copy == NULL)
        return -ENOMEM;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        struct page *p = realloc(c->pages, cap * sizeof *p);
        if (p == NULL) {
            free(copy);
            return -ENOMEM;
        }
        c->pages = p;
        c->cap = cap;
    }
    c->pages[c->n++] = (struct page){ .url = copy, .depth = depth, .rc = CRAWL_QUEUED };
    return 0;
}

void crawl_free(struct crawl *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->pages[i].url);
    free(c->pages);
    c->pages = NULL;
    c->n = c->cap = 0;
    for (size_t i = 0; i < c->seen.cap; i++)
        free(c->seen.slot[i]);
    free(c->seen.slot);
    c->seen = (struct seen){ 0 };
}

/* Queue url at depth unless seen or over budget: 1 queued, 0 not, or -ENOMEM. */
static int seq_queue(struct crawl *c, const char *url, int depth)
{
    if (c->n >= c->max_pages || seen_has(c, url))
        return 0;
    int rc = seen_add(c, url);
    return rc <= 0 ? rc : crawl_push(c, url, depth) < 0 ? -ENOMEM : 1;
}

int crawl_seq(struct crawl *c)
{
    char *start = NULL;
    int rc;

    if (c->start == NULL || c->http == NULL || c->max_pages < 1 ||
        c->max_pages > CRAWL_PAGES_MAX || c->max_depth < 0)
        return -EINVAL;
    rc = link_resolve(NULL, c->start, &start);
    if (rc < 0)
        return rc;
    rc = seq_queue(c, start, 0);
    curl_free(start);
    for (c->next = 0; rc >= 0 && c->next < c->n; c->next++) {
        struct page *p = &c->pages[c->next];
        struct aio_response resp = { 0 };

        c->in_flight_peak = c->in_flight = 1;
        p->rc = aio_http_get(c->http, p->url, &resp, c->deadline);
        c->in_flight = 0;
        p->status = p->rc == 0 ? resp.status : 0;
        c->fetched += p->rc == 0;
        if (p->rc == -ETIMEDOUT || p->rc == -ECANCELED)
            rc = p->rc;
        struct links l = { 0 };
        if (rc >= 0 && p->rc == 0 && resp.status == 200 && p->depth < c->max_depth &&
            links_extract(c->pages[c->next].url, resp.body, resp.len, &l) < 0)
            rc = -ENOMEM;
        int depth = c->pages[c->next].depth + 1;   /* pages may move as the list grows */
        for (size_t i = 0; rc >= 0 && i < l.n; i++)
            if (seq_queue(c, l.url[i], depth) < 0)
                rc = -ENOMEM;
        links_free(&l);
        aio_response_free(&resp);
    }
    return rc < 0 ? rc : 0;
}
