/* Lesson 12, part two (solution): K workers over the page list, which is the queue: pages
 * [next, n) wait to be taken. A worker with nothing to take sleeps in aio_park until a page is
 * queued; the one that finds the queue empty with nothing in flight ends the crawl and wakes
 * the others. */
#include "crawl.h"

#include <curl/curl.h>
#include <errno.h>

static void wake_one(struct crawl *c)
{
    if (c->nidle > 0)
        aio_unpark(c->idle[--c->nidle]);
}

/* Queue each link of page i not seen before, while the budget lasts. 0, or -ENOMEM. */
static int follow(struct crawl *c, size_t i, const struct aio_response *resp)
{
    struct links l = { 0 };
    int depth = c->pages[i].depth + 1;
    int rc = links_extract(c->pages[i].url, resp->body, resp->len, &l);

    for (size_t j = 0; rc >= 0 && j < l.n && c->n < c->max_pages; j++) {
        rc = seen_add(c, l.url[j]);   /* the check and the record, one step */
        if (rc == 1 && (rc = crawl_push(c, l.url[j], depth)) == 0)
            wake_one(c);
    }
    links_free(&l);
    return rc < 0 ? rc : 0;
}

/* Sleep until a page is queued, the crawl is over, or the deadline. 0, or the park's error. */
static int idle(struct crawl *c)
{
    aio_task *self = aio_current();

    c->idle[c->nidle++] = self;
    int rc = aio_park(c->deadline);
    for (size_t i = 0; i < c->nidle; i++)   /* still listed: not woken by a wake_one */
        if (c->idle[i] == self)
            c->idle[i] = c->idle[--c->nidle];
    return rc;
}

static int worker(void *arg)
{
    struct crawl *c = arg;

    while (!c->over) {
        if (c->next == c->n) {
            if (c->in_flight > 0) {
                int rc = idle(c);
                if (rc < 0)
                    return rc == -ETIMEDOUT ? 0 : rc;
                continue;
            }
            c->over = 1;   /* nothing queued, nothing in flight: nothing can come */
            while (c->nidle > 0)
                wake_one(c);
            break;
        }
        size_t i = c->next++;
        struct aio_response resp = { 0 };
        if (++c->in_flight > c->in_flight_peak)
            c->in_flight_peak = c->in_flight;
        int rc = aio_http_get(c->http, c->pages[i].url, &resp, c->deadline);
        c->pages[i].rc = rc;
        c->pages[i].status = rc == 0 ? resp.status : 0;
        c->fetched += rc == 0;
        if (rc == 0 && resp.status == 200 && c->pages[i].depth < c->max_depth)
            rc = follow(c, i, &resp);
        c->in_flight--;
        aio_response_free(&resp);
        if (rc == -ETIMEDOUT)
            return 0;
        if (rc == -ECANCELED || rc == -ENOMEM)
            return rc;
    }
    return 0;
}

int crawl_run(struct crawl *c)
{
    char *start = NULL;
    int rc;

    if (c->start == NULL || c->http == NULL || c->k < 1 || c->k > CRAWL_K_MAX ||
        c->max_pages < 1 || c->max_pages > CRAWL_PAGES_MAX || c->max_depth < 0)
        return -EINVAL;
    rc = link_resolve(NULL, c->start, &start);
    if (rc < 0)
        return rc;
    rc = seen_add(c, start);
    if (rc > 0)
        rc = crawl_push(c, start, 0);
    curl_free(start);
    if (rc < 0)
        return rc;
    c->next = 0;
    c->nidle = 0;
    c->over = 0;
    c->in_flight = 0;
    aio_group *g = aio_group_new();
    if (g == NULL)
        return -ENOMEM;
    for (size_t i = 0; rc == 0 && i < c->k; i++)
        if (aio_group_spawn(g, worker, c) == NULL)
            rc = -ENOMEM;
    if (rc < 0)
        aio_group_cancel(g);
    int r = aio_group_wait(g, AIO_NEVER);
    aio_group_free(g);
    if (rc < 0 || r < 0)
        return rc < 0 ? rc : r;
    return c->over ? 0 : -ETIMEDOUT;
}
