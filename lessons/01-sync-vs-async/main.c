/* Lesson 01, given: the lesson program. Runs one workload against the server and prints one
 * row (see harness/README.md): N requests, one after another or all at once. Against the kit's
 * delayd they are /delay/D, and the row has the server's peak in flight; against any other
 * server (--url URL fetches that URL N times, --urls FILE fetches the file's URLs) it says
 * server=other peak=unknown. */
#include "fetch.h"
#include "kit.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The URLs to fetch: --urls FILE's list as it is, or, against delayd, N times /delay/MS with a
 * tag each, or, against any other server, N times the --url itself (a page or a file there).
 * NULL when out of memory. */
static char **make_urls(const struct kit_options *o, int delayd)
{
    char **urls = calloc((size_t)o->n, sizeof *urls);

    for (long i = 0; urls != NULL && i < o->n; i++) {
        int len;

        if (o->urls != NULL)
            len = asprintf(&urls[i], "%s", o->urls[i]);
        else if (delayd)
            len = asprintf(&urls[i], "%s/delay/%ld?tag=%ld", o->url, o->delay_ms, i);
        else
            len = asprintf(&urls[i], "%s", o->url);
        if (len < 0) {
            for (long j = 0; j < i; j++)
                free(urls[j]);
            free(urls);
            return NULL;
        }
    }
    return urls;
}

int main(int argc, char **argv)
{
    static const char *const modes[] = { "conc", "seq", NULL };
    struct kit_options o = { .mode = "conc", .n = 10, .delay_ms = 200 };
    struct fetch_result *results = NULL;
    struct kit_stats stats = { 0 };
    char **urls = NULL;
    char peak[32] = "unknown", theory[32] = "unknown", delay[32] = "unknown";
    double wall, cpu;
    int kind = KIT_SERVER_OTHER, status = 1;
    long ok;

    kit_parse_options_urls(argc, argv, modes, 1, 100000, &o);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        goto out;
    /* Only the bundled server can say how many requests it had in flight, and only its
     * /delay/MS lets the program know what the wait should cost. A list of URLs may name any
     * server, so with --urls the program asks nobody's /stats. */
    if (o.urls == NULL) {
        kind = kit_server_kind(o.url);
        if (kind < 0)
            goto out;
    }
    urls = make_urls(&o, kind == KIT_SERVER_DELAYD);
    results = calloc((size_t)o.n, sizeof *results);
    if (urls == NULL || results == NULL) {
        fprintf(stderr, "out of memory for %ld requests\n", o.n);
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
    if (kind == KIT_SERVER_DELAYD) {
        if (kit_stats_get(o.url, &stats) == 0)
            snprintf(peak, sizeof peak, "%ld", stats.peak);
        snprintf(delay, sizeof delay, "%ld", o.delay_ms);
        snprintf(theory, sizeof theory, "%.4f", (strcmp(o.mode, "seq") == 0 ? (double)o.n : 1.0)
                 * (double)o.delay_ms / 1000.0);
    }
    printf("mode=%s n=%ld delay_ms=%s wall_s=%.4f cpu_s=%.4f server=%s peak=%s ok=%ld "
           "theory_s=%s\n", o.mode, o.n, delay, wall, cpu,
           kind == KIT_SERVER_DELAYD ? "delayd" : "other", peak, ok, theory);
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
    kit_options_free(&o);
    curl_global_cleanup();
    return status;
}
