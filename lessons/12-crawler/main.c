/* Lesson 12, given: the lesson program. A crawl of the kit's delayd from
 * BASE/page/0?delay_ms=D&style=mixed (every page answers after D ms and writes its links in
 * many forms; the graph has --pages pages, 100 by default), or from BASE itself on another
 * server, and one row (see harness/README.md):
 *   --mode seq    one fetch at a time, a plain loop over the queue (crawl_seq, given)
 *   --mode mine   your crawl_run: K workers over the growing queue
 * Options beside the kit's (--url, --mode, --n: the page budget, --delay): --k K (workers,
 * default 8), --depth D (links followed from pages of depth < D, default 100), --deadline MS
 * (stop after MS, 0 for none, the default).
 * The row has the server's peak in flight and the /page requests it saw (sent), the pages
 * queued (pages) and fetched (fetched: answered, any status), the crawl's own peak of fetches
 * in flight (k_peak) and its levels (the deepest page's depth + 1). theory_s: each level takes
 * one delay at least, and so does each round of K fetches. */
#include "crawl.h"
#include "kit.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct program {
    const struct kit_options *o;
    struct crawl *c;
    long deadline_ms;
    int rc;
    double wall, cpu;
};

static int program_main(void *arg)
{
    struct program *x = arg;

    x->c->http = aio_http_new();
    if (x->c->http == NULL) {
        x->rc = -ENOMEM;
        return 0;
    }
    x->wall = kit_wall();
    x->cpu = kit_cpu();
    x->c->deadline = x->deadline_ms > 0 ? aio_now() + x->deadline_ms : AIO_NEVER;
    if (strcmp(x->o->mode, "mine") == 0)
        x->rc = crawl_run(x->c);
    else
        x->rc = crawl_seq(x->c);
    x->wall = kit_wall() - x->wall;
    x->cpu = kit_cpu() - x->cpu;
    aio_http_free(x->c->http);
    x->c->http = NULL;
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const modes[] = { "mine", "seq", NULL };
    struct kit_options o = { .mode = "mine", .n = 100, .delay_ms = 20 };

    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0)
            printf("lesson 12: --n is the page budget; also --k K (workers, default 8), "
                   "--depth D (follow links from pages of depth < D, default 100), --deadline "
                   "MS (stop after MS, default 0: none)\n");
    long k = kit_take_long(&argc, argv, "k", 1, CRAWL_K_MAX, 8);
    long depth = kit_take_long(&argc, argv, "depth", 0, 1000000, 100);
    long deadline = kit_take_long(&argc, argv, "deadline", 0, 3600000, 0);
    kit_parse_options(argc, argv, modes, 1, CRAWL_PAGES_MAX, &o);
    if (strcmp(o.mode, "seq") == 0)
        k = 1;

    struct crawl c = { .k = (size_t)k, .max_depth = (int)depth, .max_pages = (size_t)o.n };
    struct program x = { .o = &o, .c = &c, .deadline_ms = deadline };
    char peak[32] = "unknown", sent[32] = "unknown", *start = NULL;
    int status = 1;

    int kind = kit_server_kind(o.url);
    if (kind < 0)
        goto out;
    if (kind == KIT_SERVER_DELAYD &&
        asprintf(&start, "%s/page/0?delay_ms=%ld&style=mixed", o.url, o.delay_ms) < 0)
        start = NULL;
    c.start = kind == KIT_SERVER_DELAYD ? start : o.url;
    if (c.start == NULL)
        goto out;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = aio_run(program_main, &x);
    if (rc < 0 || (x.rc < 0 && x.rc != -ETIMEDOUT)) {
        fprintf(stderr, "mode %s failed: %s\n", o.mode, strerror(rc < 0 ? -rc : -x.rc));
        goto out;
    }
    if (kind == KIT_SERVER_DELAYD) {
        struct kit_stats st;
        if (kit_stats_get(o.url, &st) == 0)
            snprintf(peak, sizeof peak, "%ld", st.peak);
        long pages = kit_stats_endpoint(o.url, "page");
        if (pages >= 0)
            snprintf(sent, sizeof sent, "%ld", pages);
    }
    int deepest = -1;
    long per_level[64] = { 0 }, levels_ms = 0;
    for (size_t i = 0; i < c.n; i++) {
        deepest = c.pages[i].depth > deepest ? c.pages[i].depth : deepest;
        per_level[c.pages[i].depth < 63 ? c.pages[i].depth : 63]++;
    }
    for (int d = 0; d <= deepest && d < 64; d++)
        levels_ms += o.delay_ms;
    long rounds_ms = ((long)c.n + k - 1) / k * o.delay_ms;
    printf("mode=%s n=%ld k=%ld depth=%ld delay_ms=%ld deadline_ms=%ld wall_s=%.4f cpu_s=%.4f "
           "server=%s peak=%s sent=%s pages=%zu fetched=%ld k_peak=%ld levels=%d "
           "theory_s=%.4f\n",
           o.mode, o.n, k, depth, o.delay_ms, deadline, x.wall, x.cpu,
           kind == KIT_SERVER_DELAYD ? "delayd" : "other", peak, sent, c.n, c.fetched,
           c.in_flight_peak, deepest + 1,
           (levels_ms > rounds_ms ? levels_ms : rounds_ms) / 1000.0);
    if (x.rc == -ETIMEDOUT)
        fprintf(stderr, "the deadline of %ld ms stopped the crawl: %ld of %zu pages fetched\n",
                deadline, c.fetched, c.n);
    status = 0;
out:
    crawl_free(&c);
    free(start);
    kit_options_free(&o);
    return status;
}
