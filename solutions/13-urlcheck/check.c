/* Lesson 13, part two: the checker. The reference solution: C workers take the checks the
 * reader starts, oldest first; the reader waits for room, the workers for work. */
#include "urlcheck.h"

#include <errno.h>
#include <stdlib.h>

struct run {
    struct window *w;
    const struct writer *out;
    const struct check_opts *o;
    struct check *todo, *todo_tail; /* checks no worker has taken yet, oldest first */
    aio_task **idle;                /* workers parked for work */
    size_t nidle;
    aio_task *reader;               /* check_all, parked for room, or NULL */
    int eof;                        /* 1 once nothing more will be read */
};

static int worker(void *arg)
{
    struct run *r = arg;

    for (;;) {
        struct check *c = r->todo;
        if (c == NULL) {
            if (r->eof)
                return 0;
            r->idle[r->nidle++] = aio_current();
            int rc = aio_park(AIO_NEVER);
            if (rc < 0)
                return rc;      /* cancelled: nobody wakes an idle worker after a cancel */
            continue;
        }
        r->todo = c->next;
        int64_t t0 = aio_now();
        struct aio_response resp = { 0 };
        int rc = aio_http_get(r->o->http, c->url, &resp,
                              r->o->timeout_ms > 0 ? t0 + r->o->timeout_ms : AIO_NEVER);
        c->res.rc = rc;
        c->res.status = resp.status;
        c->res.ms = aio_now() - t0;
        aio_response_free(&resp);
        c->done = 1;
        window_flush(r->w, r->out);           /* c may be freed from here on */
        if (r->reader != NULL)
            aio_unpark(r->reader);              /* there may be room now: it looks again */
        if (rc == -ECANCELED)
            return -ECANCELED;
    }
}

static void wake_idle(struct run *r, size_t k)
{
    while (k-- > 0 && r->nidle > 0)
        aio_unpark(r->idle[--r->nidle]);
}

int check_all(struct window *w, const struct reader *in, const struct writer *out,
              const struct check_opts *o)
{
    if (w == NULL || in == NULL || out == NULL || o == NULL || o->http == NULL ||
        o->concurrency < 1 || o->concurrency > CHECK_C_MAX || o->timeout_ms < 0)
        return -EINVAL;
    struct run r = { .w = w, .out = out, .o = o };
    r.idle = calloc(o->concurrency, sizeof *r.idle);
    aio_group *g = aio_group_new();
    int rc = r.idle == NULL || g == NULL ? -ENOMEM : 0;
    for (size_t i = 0; rc == 0 && i < o->concurrency; i++)
        if (aio_group_spawn(g, worker, &r) == NULL)
            rc = -ENOMEM;
    while (rc == 0) {
        if (w->len == w->cap) {
            r.reader = aio_current();
            rc = aio_park(AIO_NEVER);
            r.reader = NULL;
            continue;
        }
        const char *url;
        size_t lineno;
        int got = in->next(in->ctx, &url, &lineno);
        if (got <= 0) {
            rc = got;
            break;
        }
        struct check *fresh;
        rc = window_add(w, url, lineno, &fresh);
        if (fresh != NULL) {
            if (r.todo == NULL)
                r.todo = fresh;
            else
                r.todo_tail->next = fresh;
            r.todo_tail = fresh;
            wake_idle(&r, 1);
        }
    }
    r.eof = 1;
    if (rc == -ECANCELED || rc == -ENOMEM) {
        if (g != NULL)
            aio_group_cancel(g);
    } else {
        wake_idle(&r, o->concurrency);
    }
    if (g != NULL) {
        int wr = aio_group_wait(g, AIO_NEVER);
        if (rc == 0 && wr < 0)
            rc = wr;
        aio_group_free(g);
    }
    /* What no worker took was never started: cancelled. */
    for (struct check *c = r.todo; c != NULL; c = c->next) {
        c->res = (struct check_result){ .rc = -ECANCELED };
        c->done = 1;
    }
    window_flush(w, out);
    free(r.idle);
    return rc;
}
