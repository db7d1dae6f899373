/* Lesson 05, given: the lesson program. Runs N fetches of BASE/limited?delay_ms=D&tag=i (the
 * kit's delayd answers 429 above its --limit in flight) on the aio runtime and prints one row
 * (see harness/README.md):
 *   --mode unbounded  all N at once (fetch_unbounded): the ban
 *   --mode sem        at most K in flight with aio_sem (your fetch_capped)
 *   --mode mine       at most K in flight with your struct sema (fetch_with_my_sem)
 *   --mode curl       all N handed to libcurl at once, capped by libcurl itself at K
 *                     connections (aio_http_set_max_connections)
 * --k K (default 5) is the cap; --urls FILE fetches those URLs instead. With delayd the row
 * ends with the server's peak in flight and how many 429s it sent (s429); with another server
 * both are "unknown". theory_s is ceil(N/K) x D for the capped modes, D for unbounded. */
#include "fetch.h"
#include "kit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_SLACK_MS 10000 /* the batch's deadline: its theory time plus this */
#define K_MAX 1000

struct program {
    const struct kit_options *o;
    long k;
    struct fetch *f;
    int rc;            /* the fetch function's return value */
    double wall, cpu;  /* what the batch cost, measured inside the loop */
};

static long rounds(long n, long k)
{
    return (n + k - 1) / k;
}

static int program_main(void *arg)
{
    struct program *p = arg;
    const struct kit_options *o = p->o;
    size_t n = (size_t)o->n;
    int64_t deadline;
    aio_http *c = aio_http_new();

    if (c == NULL)
        return -ENOMEM;
    p->wall = kit_wall();
    p->cpu = kit_cpu();
    deadline = aio_now() + rounds(o->n, p->k) * o->delay_ms + BATCH_SLACK_MS;
    if (strcmp(o->mode, "unbounded") == 0) {
        p->rc = fetch_unbounded(c, p->f, n, deadline);
    } else if (strcmp(o->mode, "sem") == 0) {
        p->rc = fetch_capped(c, p->f, n, (int)p->k, deadline);
    } else if (strcmp(o->mode, "mine") == 0) {
        p->rc = fetch_with_my_sem(c, p->f, n, (int)p->k, deadline);
    } else {
        /* libcurl's own cap: no semaphore, every transfer handed over at once. */
        p->rc = aio_http_set_max_connections(c, p->k);
        if (p->rc == 0)
            p->rc = fetch_unbounded(c, p->f, n, deadline);
    }
    p->wall = kit_wall() - p->wall;
    p->cpu = kit_cpu() - p->cpu;
    aio_http_free(c);
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const modes[] = { "sem", "unbounded", "mine", "curl", NULL };
    struct kit_options o = { .mode = "sem", .n = 13, .delay_ms = 100 };
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0)
            printf("lesson 05: also --k K, the cap in flight (1..%d, default 5)\n", K_MAX);
    long k = kit_take_long(&argc, argv, "k", 1, K_MAX, 5);

    kit_parse_options_urls(argc, argv, modes, 1, FETCH_MAX, &o);
    char **urls = calloc((size_t)o.n, sizeof *urls);
    struct fetch *f = calloc((size_t)o.n, sizeof *f);
    struct program p = { .o = &o, .k = k, .f = f };
    struct kit_stats stats = { 0 };
    int kind = KIT_SERVER_OTHER;
    char theory[32] = "unknown", peak[32] = "unknown", s429[32] = "unknown";
    long ok = 0, got429 = 0;
    int rc;
    int status = 1;

    if (urls == NULL || f == NULL)
        goto out;
    for (long i = 0; i < o.n; i++) {
        if (o.urls != NULL)
            urls[i] = strdup(o.urls[i]);
        else if (asprintf(&urls[i], "%s/limited?delay_ms=%ld&tag=%ld", o.url, o.delay_ms, i) < 0)
            urls[i] = NULL;
        if (urls[i] == NULL)
            goto out;
        f[i].url = urls[i];
    }
    if (o.urls == NULL) {
        kind = kit_server_kind(o.url);
        if (kind < 0)
            goto out;
    }
    rc = aio_run(program_main, &p);
    if (rc < 0 || p.rc == -ENOSYS) {
        fprintf(stderr, "mode %s failed: %s\n", o.mode, strerror(rc < 0 ? -rc : -p.rc));
        goto out;
    }
    if (kind == KIT_SERVER_DELAYD && kit_stats_get(o.url, &stats) == 0) {
        snprintf(peak, sizeof peak, "%ld", stats.peak);
        snprintf(s429, sizeof s429, "%ld", kit_stats_status(o.url, 429));
    }
    if (o.urls == NULL)
        snprintf(theory, sizeof theory, "%.4f",
                 (double)(strcmp(o.mode, "unbounded") == 0 ? 1 : rounds(o.n, k)) *
                     (double)o.delay_ms / 1000.0);
    for (long i = 0; i < o.n; i++) {
        ok += f[i].rc == 0 && f[i].resp.status == 200;
        got429 += f[i].rc == 0 && f[i].resp.status == 429;
    }
    printf("mode=%s n=%ld k=%ld delay_ms=%ld wall_s=%.4f cpu_s=%.4f server=%s peak=%s "
           "s429=%s ok=%ld theory_s=%s\n", o.mode, o.n, k, o.delay_ms, p.wall, p.cpu,
           kind == KIT_SERVER_DELAYD ? "delayd" : "other", peak, s429, ok, theory);
    if (got429 > 0)
        fprintf(stderr, "%ld of %ld fetches were refused with 429 Too Many Requests\n", got429,
                o.n);
    for (long i = 0; ok + got429 != o.n && i < o.n; i++) {
        if (f[i].rc < 0) {
            fprintf(stderr, "fetch %ld (%s) failed: %s\n", i, f[i].url, strerror(-f[i].rc));
            break;
        }
    }
    status = 0;
out:
    if (f != NULL)
        fetches_free(f, (size_t)o.n);
    for (long i = 0; urls != NULL && i < o.n; i++)
        free(urls[i]);
    free(f);
    free(urls);
    kit_options_free(&o);
    return status;
}
