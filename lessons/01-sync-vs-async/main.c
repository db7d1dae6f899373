/* Lesson 01, given: the lesson program. Runs one workload against the server and prints one
 * row (see harness/README.md): N requests of /delay/D, one after another or all at once. */
#include "fetch.h"
#include "kit.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define URL_MAX 256




/* Run the chosen fetch over n URLs; returns how many answered 200, or a negative errno. */
static long run(const struct kit_options *o, char **urls, struct fetch_result *results)
{
    int seq = strcmp(o->mode, "seq") == 0;
    int rc = seq ? fetch_sequential((const char *const *)urls, (size_t)o->n, results)
                 : fetch_concurrent((const char *const *)urls, (size_t)o->n, results);
    long ok = 0;

    if (rc < 0)
        return rc;
    for (long i = 0; i < o->n; i++)
        ok += results[i].status == 200;
    return ok;
}

int main(int argc, char **argv)
{
    static const char *const modes[] = { "conc", "seq", NULL };
    struct kit_options o = { .mode = "conc", .n = 10, .delay_ms = 200 };

    kit_parse_options(argc, argv, modes, 1, 100000, &o);
    char **urls = calloc((size_t)o.n, sizeof *urls);
    struct fetch_result *results = calloc((size_t)o.n, sizeof *results);
    struct kit_stats stats = { 0 };
    double wall, cpu, theory;
    long ok;
    int status = 1;

    if (urls == NULL || results == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        goto out;
    for (long i = 0; i < o.n; i++) {
        urls[i] = malloc(URL_MAX);
        if (urls[i] == NULL)
            goto out;
        snprintf(urls[i], URL_MAX, "%s/delay/%ld?tag=%ld", o.url, o.delay_ms, i);
    }
    if (kit_stats_reset(o.url) != 0) {
        fprintf(stderr, "cannot reach the server at %s\n", o.url);
        goto out;
    }
    wall = kit_wall();
    cpu = kit_cpu();
    ok = run(&o, urls, results);
    wall = kit_wall() - wall;
    cpu = kit_cpu() - cpu;
    if (ok < 0) {
        fprintf(stderr, "fetch_%s returned %s\n", strcmp(o.mode, "seq") == 0 ? "sequential"
                : "concurrent", strerror((int)-ok));
        goto out;
    }
    kit_stats_get(o.url, &stats);
    theory = (strcmp(o.mode, "seq") == 0 ? (double)o.n : 1.0) * (double)o.delay_ms / 1000.0;
    printf("mode=%s n=%ld delay_ms=%ld wall_s=%.4f cpu_s=%.4f peak=%ld ok=%ld theory_s=%.4f\n",
           o.mode, o.n, o.delay_ms, wall, cpu, stats.peak, ok, theory);
    if (ok != o.n)
        fprintf(stderr, "only %ld of %ld requests answered 200\n", ok, o.n);
    status = ok == o.n ? 0 : 1;
out:
    if (results != NULL)
        fetch_results_free(results, (size_t)o.n);
    for (long i = 0; urls != NULL && i < o.n; i++)
        free(urls[i]);
    free(urls);
    free(results);
    curl_global_cleanup();
    return status;
}
