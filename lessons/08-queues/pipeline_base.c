/* Lesson 08, given: items and their books, the default process, and the program's other two
 * modes: the same pipeline on a queue made of two of the runtime's semaphores (slots free,
 * items ready), shut down with a poison pill per consumer. */
#include "pipeline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct item *item_new(struct pipeline *p, size_t index)
{
    struct item *it = calloc(1, sizeof *it);

    if (it == NULL)
        return NULL;
    it->index = index;
    p->made++;
    if (++p->alive > p->alive_peak)
        p->alive_peak = p->alive;
    return it;
}

void item_free(struct pipeline *p, struct item *it)
{
    if (it == NULL)
        return;
    aio_response_free(&it->resp);
    free(it);
    p->freed++;
    p->alive--;
}

int pipeline_work(struct pipeline *p, struct item *it)
{
    if (p->work_ms > 0 && aio_sleep(p->work_ms) < 0)
        return -ECANCELED;
    struct result *r = &p->results[it->index];
    r->times++;
    r->rc = it->rc;
    r->status = it->resp.status;
    r->len = it->resp.len;
    r->seq = ++p->processed;
    return 0;
}

/* ---- the bounded buffer of two semaphores (the classic one) -------------------------------- */

struct squeue {
    aio_sem slots, ready;      /* free slots; items in the ring */
    void **ring;
    size_t cap, head, len;
};

static int sq_put(struct squeue *s, void *item)
{
    int rc = aio_sem_acquire(&s->slots, AIO_NEVER);
    if (rc < 0)
        return rc;
    s->ring[(s->head + s->len++) % s->cap] = item;
    aio_sem_release(&s->ready);
    return 0;
}

static int sq_get(struct squeue *s, void **out)
{
    int rc = aio_sem_acquire(&s->ready, AIO_NEVER);
    if (rc < 0)
        return rc;
    *out = s->ring[s->head];
    s->head = (s->head + 1) % s->cap;
    s->len--;
    aio_sem_release(&s->slots);
    return 0;
}

struct pills {
    struct pipeline *p;
    struct squeue sq;
};

static char pill;              /* the poison pill: an address no item has */

static int pills_producer(void *arg)
{
    struct pills *x = arg;
    struct pipeline *p = x->p;

    while (p->next < p->n) {
        struct item *it = item_new(p, p->next++);
        if (it == NULL)
            return -ENOMEM;
        it->rc = aio_http_get(p->http, p->urls[it->index], &it->resp, AIO_NEVER);
        int rc = it->rc == -ECANCELED ? -ECANCELED : sq_put(&x->sq, it);
        if (rc < 0) {
            item_free(p, it);
            return rc;
        }
    }
    return 0;
}

static int pills_consumer(void *arg)
{
    struct pills *x = arg;
    void *v;

    for (;;) {
        int rc = sq_get(&x->sq, &v);
        if (rc < 0)
            return rc;
        if (v == &pill)
            return 0;
        rc = x->p->process(x->p, v);
        item_free(x->p, v);
        if (rc < 0)
            return rc;
    }
}

int pipeline_pills(struct pipeline *p, int unbounded)
{
    size_t np = p->producers, nc = p->consumers;
    struct pills x = { .p = p };
    aio_task *t[2 * PIPE_TASKS_MAX];
    int rc = 0;

    if (p->n > PIPE_N_MAX || np < 1 || np > PIPE_TASKS_MAX || nc < 1 || nc > PIPE_TASKS_MAX ||
        p->qsize < 1 || p->qsize > QUEUE_CAP_MAX)
        return -EINVAL;
    x.sq.cap = unbounded ? p->n + nc : p->qsize;
    x.sq.ring = calloc(x.sq.cap, sizeof *x.sq.ring);
    if (x.sq.ring == NULL)
        return -ENOMEM;
    aio_sem_init(&x.sq.slots, (int)x.sq.cap);
    /* Items ready: at most cap, none yet (a bounded semaphore of cap, every permit taken). */
    aio_sem_init(&x.sq.ready, (int)x.sq.cap);
    while (aio_sem_try_acquire(&x.sq.ready) == 0)
        ;
    p->next = 0;
    size_t started = 0;
    for (; started < nc + np; started++)
        if ((t[started] = aio_spawn(started < nc ? pills_consumer : pills_producer, &x)) == NULL)
            break;
    if (started < nc + np) {
        rc = -ENOMEM;
        for (size_t i = 0; i < started; i++)
            aio_cancel(t[i]);
    }
    /* The producers first; then one pill per consumer, behind every item. */
    for (size_t i = nc; i < started; i++) {
        int r = aio_join(t[i], AIO_NEVER);
        rc = rc < 0 ? rc : r;
    }
    for (size_t i = 0; i < nc && i < started; i++)
        if (rc < 0 || sq_put(&x.sq, &pill) < 0)
            aio_cancel(t[i]);
    for (size_t i = 0; i < nc && i < started; i++) {
        int r = aio_join(t[i], AIO_NEVER);
        rc = rc < 0 ? rc : r;
    }
    for (; x.sq.len > 0; x.sq.len--, x.sq.head = (x.sq.head + 1) % x.sq.cap)
        if (x.sq.ring[x.sq.head] != &pill)
            item_free(p, x.sq.ring[x.sq.head]);
    free(x.sq.ring);
    return rc;
}
