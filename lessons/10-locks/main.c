/* Lesson 10, given: the lesson program. N askers, all at once, each asking the cache for one
 * url on the kit's delayd (BASE/delay/D?key=K); a share of them (--repeat PCT) ask for a url
 * another asker asks for too, so only DISTINCT urls exist. Prints one row (harness/README.md):
 *   --mode nolock   cache_get_nolock: check, then fetch, no lock (every repeat fetches again)
 *   --mode global   cache_get_global: one lock for the whole cache, held across each fetch
 *   --mode mine     your cache_get: one lock a url
 * Options beside the kit's (--url, --mode, --n, --delay): --repeat PCT (0..100, default 75),
 * --deadline MS (each asker's, default 10000).
 * The row: distinct urls; the server's peak in flight and requests (what it saw: DISTINCT
 * when each url is fetched once); askers answered with their own url's body (ok), failed,
 * answered with another url's body (wrong); what was still held when the loop ended (open:
 * the runtime's tasks, timers, descriptors and transfers, entries without an answer, locks
 * held). theory_s: one delay when the fetches overlap, DISTINCT delays one after another
 * under the global lock. */
#include "cache.h"
#include "kit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ASKERS_MAX 1024

struct asker {
    struct program *p;
    const char *url;
    const char *key;             /* "key=K&", which the body of url holds */
    int rc;
    struct cache_answer a;
};

struct program {
    const struct kit_options *o;
    struct cache *cache;
    struct asker *askers;
    long deadline_ms;
    int64_t deadline;
    int rc;            /* 0, or the first error of the program itself */
    double wall, cpu;  /* what it cost, measured inside the loop */
};

static int ask(void *arg)
{
    struct asker *a = arg;
    struct program *p = a->p;
    const char *mode = p->o->mode;

    if (strcmp(mode, "nolock") == 0)
        a->rc = cache_get_nolock(p->cache, a->url, &a->a, p->deadline);
    else if (strcmp(mode, "global") == 0)
        a->rc = cache_get_global(p->cache, a->url, &a->a, p->deadline);
    else
        a->rc = cache_get(p->cache, a->url, &a->a, p->deadline);
    return a->rc;
}

static int program_main(void *arg)
{
    struct program *p = arg;
    size_t n = (size_t)p->o->n;
    aio_task **t = calloc(n, sizeof *t);

    if (t == NULL)
        return p->rc = -ENOMEM;
    p->deadline = aio_now() + p->deadline_ms;
    p->wall = kit_wall();
    p->cpu = kit_cpu();
    for (size_t i = 0; i < n; i++) {
        t[i] = aio_spawn(ask, &p->askers[i]);
        if (t[i] == NULL) {
            p->askers[i].rc = p->rc = -ENOMEM;
            break;
        }
    }
    for (size_t i = 0; i < n && t[i] != NULL; i++)
        aio_join(t[i], AIO_NEVER);
    p->wall = kit_wall() - p->wall;
    p->cpu = kit_cpu() - p->cpu;
    free(t);
    return 0;
}

static size_t locks_held(const struct cache *c)
{
    size_t n = lock_holder(&c->global) != NULL;

    for (const struct cache_entry *e = c->head; e != NULL; e = e->next)
        n += lock_holder(&e->lock) != NULL;
    return n;
}

int main(int argc, char **argv)
{
    static const char *const modes[] = { "mine", "nolock", "global", NULL };
    struct kit_options o = { .mode = "mine", .n = 16, .delay_ms = 100 };

    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0)
            printf("lesson 10: also --repeat PCT (the share of askers asking for a url "
                   "another asker asks for too, default 75), --deadline MS (each asker's, "
                   "default 10000)\n");
    long repeat = kit_take_long(&argc, argv, "repeat", 0, 100, 75);
    long deadline_ms = kit_take_long(&argc, argv, "deadline", 1, 600000, 10000);
    kit_parse_options(argc, argv, modes, 1, ASKERS_MAX, &o);

    /* DISTINCT urls for N askers: asker i asks for url i % DISTINCT. */
    long distinct = o.n - (o.n * repeat + 50) / 100;
    if (distinct < 1)
        distinct = 1;
    char **urls = calloc((size_t)distinct, sizeof *urls);
    char **keys = calloc((size_t)distinct, sizeof *keys);
    struct asker *askers = calloc((size_t)o.n, sizeof *askers);
    aio_http *http = NULL;
    struct cache cache;
    int cache_ready_to_free = 0;
    struct program p = { .o = &o, .cache = &cache, .askers = askers,
                         .deadline_ms = deadline_ms };
    struct kit_stats stats = { 0 };
    struct aio_counts end = { 0 };
    char peak[32] = "unknown", requests[32] = "unknown";
    int status = 1;

    if (urls == NULL || keys == NULL || askers == NULL)
        goto out;
    for (long i = 0; i < distinct; i++) {
        if (asprintf(&urls[i], "%s/delay/%ld?key=%ld&", o.url, o.delay_ms, i) < 0 ||
            asprintf(&keys[i], "key=%ld&", i) < 0)
            goto out;
    }
    for (long i = 0; i < o.n; i++)
        askers[i] = (struct asker){ .p = &p, .url = urls[i % distinct],
                                    .key = keys[i % distinct] };
    int kind = kit_server_kind(o.url);
    if (kind < 0)
        goto out;
    http = aio_http_new();
    if (http == NULL)
        goto out;
    cache_init(&cache, http);
    cache_ready_to_free = 1;
    int rc = aio_run(program_main, &p);
    int stub = 0;
    for (long i = 0; i < o.n; i++)
        stub |= askers[i].rc == -ENOSYS;
    if (rc < 0 || p.rc < 0 || stub) {
        fprintf(stderr, "mode %s failed: %s\n", o.mode,
                strerror(stub ? ENOSYS : rc < 0 ? -rc : -p.rc));
        goto out;
    }
    aio_counts_at_end(&end);
    if (kind == KIT_SERVER_DELAYD && kit_stats_get(o.url, &stats) == 0) {
        snprintf(peak, sizeof peak, "%ld", stats.peak);
        snprintf(requests, sizeof requests, "%ld", stats.requests);
    }
    long ok = 0, failed = 0, wrong = 0;
    for (long i = 0; i < o.n; i++) {
        if (askers[i].rc < 0)
            failed++;
        else if (askers[i].a.body != NULL && strstr(askers[i].a.body, askers[i].key) != NULL)
            ok++;
        else
            wrong++;
    }
    size_t held = locks_held(&cache);
    size_t empty = cache_size(&cache) - cache_ready(&cache);
    size_t open = end.tasks + end.timers + end.descriptors + end.operations + empty + held;
    long theory_ms = strcmp(o.mode, "global") == 0 ? distinct * o.delay_ms : o.delay_ms;
    printf("mode=%s n=%ld repeat=%ld distinct=%ld delay_ms=%ld wall_s=%.4f cpu_s=%.4f "
           "server=%s peak=%s requests=%s ok=%ld failed=%ld wrong=%ld open=%zu "
           "theory_s=%.4f\n",
           o.mode, o.n, repeat, distinct, o.delay_ms, p.wall, p.cpu,
           kind == KIT_SERVER_DELAYD ? "delayd" : "other", peak, requests, ok, failed, wrong,
           open, theory_ms / 1000.0);
    if (open > 0)
        fprintf(stderr, "at loop end: %zu tasks, %zu timers, %zu descriptors, %zu transfers, "
                "%zu entries without an answer, %zu locks held\n", end.tasks, end.timers,
                end.descriptors, end.operations, empty, held);
    status = 0;
out:
    if (cache_ready_to_free)
        cache_free(&cache);
    aio_http_free(http);
    for (long i = 0; i < distinct && urls != NULL; i++)
        free(urls[i]);
    for (long i = 0; i < distinct && keys != NULL; i++)
        free(keys[i]);
    free(urls);
    free(keys);
    free(askers);
    kit_options_free(&o);
    return status;
}
