/* Lesson 08, given: the lesson program. N URLs on the kit's delayd (BASE/delay/D?tag=i),
 * fetched by P producers and processed by C consumers (each item takes --work ms), through a
 * queue, and one row (see harness/README.md):
 *   --mode unbounded  a queue with room for every URL (a put never waits), a poison pill per
 *                     consumer (pipeline_pills)
 *   --mode bounded    a queue of Q slots made of two semaphores, poison pills (pipeline_pills)
 *   --mode mine       your pipeline_run on your queue of Q slots, closed at the end
 * Options beside the kit's (--url, --mode, --n, --delay): --producers P (default 4),
 * --consumers C (default 2), --q Q (default 4), --work MS (default 20).
 * The row has the server's peak in flight and requests (sent), the items processed, failed
 * (a fetch that did not answer 200) and held: the most items alive at once, fetched and not
 * yet freed. theory_s: the slower end of the pipe sets the pace, plus one item through the
 * other end. */
#include "kit.h"
#include "pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct program {
    const struct kit_options *o;
    struct pipeline *p;
    int rc;
    double wall, cpu;
};

static int program_main(void *arg)
{
    struct program *x = arg;

    x->p->http = aio_http_new();
    if (x->p->http == NULL) {
        x->rc = -ENOMEM;
        return 0;
    }
    x->wall = kit_wall();
    x->cpu = kit_cpu();
    if (strcmp(x->o->mode, "mine") == 0)
        x->rc = pipeline_run(x->p);
    else
        x->rc = pipeline_pills(x->p, strcmp(x->o->mode, "unbounded") == 0);
    x->wall = kit_wall() - x->wall;
    x->cpu = kit_cpu() - x->cpu;
    aio_http_free(x->p->http);
    x->p->http = NULL;
    return 0;
}

/* The pace of the slower end (rounds of P fetches, or of C items' work), and one round of
 * the other end to fill or empty the pipe. In ms. */
static long theory_ms(long n, long delay, long work, long producers, long consumers)
{
    long fetch = (n + producers - 1) / producers * delay + work;
    long drain = delay + (n + consumers - 1) / consumers * work;
    return fetch > drain ? fetch : drain;
}

int main(int argc, char **argv)
{
    static const char *const modes[] = { "mine", "unbounded", "bounded", NULL };
    struct kit_options o = { .mode = "mine", .n = 32, .delay_ms = 20 };

    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0)
            printf("lesson 08: also --producers P (tasks that fetch, default 4), --consumers C "
                   "(tasks that process, default 2), --q Q (the queue's slots, default 4), "
                   "--work MS (a consumer's work on each item, default 20)\n");
    long np = kit_take_long(&argc, argv, "producers", 1, PIPE_TASKS_MAX, 4);
    long nc = kit_take_long(&argc, argv, "consumers", 1, PIPE_TASKS_MAX, 2);
    long qsize = kit_take_long(&argc, argv, "q", 1, QUEUE_CAP_MAX, 4);
    long work = kit_take_long(&argc, argv, "work", 0, 600000, 20);
    kit_parse_options(argc, argv, modes, 1, PIPE_N_MAX, &o);

    char **urls = calloc((size_t)o.n, sizeof *urls);
    struct result *results = calloc((size_t)o.n, sizeof *results);
    struct pipeline p = { .n = (size_t)o.n, .producers = (size_t)np, .consumers = (size_t)nc,
                          .qsize = (size_t)qsize, .work_ms = work, .process = pipeline_work,
                          .results = results };
    struct program x = { .o = &o, .p = &p };
    struct kit_stats stats = { 0 };
    char peak[32] = "unknown", sent[32] = "unknown";
    int status = 1;

    if (urls == NULL || results == NULL)
        goto out;
    for (long i = 0; i < o.n; i++)
        if (asprintf(&urls[i], "%s/delay/%ld?tag=%ld", o.url, o.delay_ms, i) < 0) {
            urls[i] = NULL;
            goto out;
        }
    p.urls = (const char *const *)urls;
    int kind = kit_server_kind(o.url);
    if (kind < 0)
        goto out;
    int rc = aio_run(program_main, &x);
    if (rc < 0 || x.rc < 0) {
        fprintf(stderr, "mode %s failed: %s\n", o.mode, strerror(rc < 0 ? -rc : -x.rc));
        goto out;
    }
    if (kind == KIT_SERVER_DELAYD && kit_stats_get(o.url, &stats) == 0) {
        snprintf(peak, sizeof peak, "%ld", stats.peak);
        snprintf(sent, sizeof sent, "%ld", stats.requests);
    }
    long failed = 0, twice = 0;
    for (long i = 0; i < o.n; i++) {
        failed += results[i].status != 200;
        twice += results[i].times > 1;
    }
    printf("mode=%s n=%ld delay_ms=%ld work_ms=%ld producers=%ld consumers=%ld q=%ld "
           "wall_s=%.4f cpu_s=%.4f server=%s peak=%s sent=%s processed=%ld failed=%ld "
           "held=%ld theory_s=%.4f\n",
           o.mode, o.n, o.delay_ms, work, np, nc, qsize, x.wall, x.cpu,
           kind == KIT_SERVER_DELAYD ? "delayd" : "other", peak, sent, p.processed, failed,
           p.alive_peak, theory_ms(o.n, o.delay_ms, work, np, nc) / 1000.0);
    if (failed > 0 || twice > 0 || p.alive != 0)
        fprintf(stderr, "%ld of %ld URLs not answered 200, %ld processed more than once, %ld "
                "items never freed\n", failed, o.n, twice, p.alive);
    status = 0;
out:
    for (long i = 0; urls != NULL && i < o.n; i++)
        free(urls[i]);
    free(urls);
    free(results);
    kit_options_free(&o);
    return status;
}
