/* Lesson 09, given: the batch, an item's preparation, and the program written plainly: the
 * three steps of an item as blocking calls (mode "blocking"), and the same three handed to
 * the pool whole (mode "to_thread-all"). */
#include "work.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int batch_init(struct batch *b, int cpu_max, unsigned rounds, struct ledger *lg)
{
    memset(b, 0, sizeof *b);
    if (cpu_max < 1)
        return -EINVAL;
    b->http = aio_http_new();
    if (b->http == NULL)
        return -ENOMEM;
    b->cpu_max = cpu_max;
    b->rounds = rounds;
    b->ledger = lg;
    return aio_sem_init(&b->cpu, cpu_max);
}

void batch_fini(struct batch *b)
{
    aio_http_free(b->http);
    b->http = NULL;
}

void item_prepare(struct item *it, struct batch *b, const char *url, size_t id)
{
    memset(it, 0, sizeof *it);
    it->b = b;
    it->url = url;
    it->id = id;
    it->outcome = ITEM_PENDING;
}

/* The three steps, each one blocking the thread it runs on. */
static int three_steps(void *arg)
{
    struct item *it = arg;
    char *body = NULL;
    size_t len = 0;

    int rc = http_get_blocking(it->url, &it->status, &body, &len);   /* the wait */
    if (rc == 0) {
        it->len = len;
        it->digest = digest(body, len, it->b->rounds);                /* the CPU work */
        rc = ledger_write(it->b->ledger, it->id, it->digest);         /* the blocking library */
    }
    free(body);
    return rc;
}

static int finish(struct item *it, int rc)
{
    it->rc = rc;
    it->outcome = rc == 0 ? ITEM_DONE : rc == -ECANCELED ? ITEM_CANCELLED : ITEM_FAILED;
    return rc;
}

/* As asyncio's `async def item(): body = requests.get(url).text; ...`: a task in name, but
 * every step holds the loop's only thread until it is over. */
int item_run_blocking(void *arg)
{
    return finish(arg, three_steps(arg));
}

/* As `await asyncio.to_thread(item_sync, url)`: the loop stays free, but the pool's 4 threads
 * now bound how many GETs wait at once, and the digests run as many at once as there are
 * threads. Not safe to cancel: a cancelled task would return while its thread still writes
 * the item. */
int item_run_threaded(void *arg)
{
    return finish(arg, aio_to_thread(three_steps, arg, AIO_NEVER));
}
