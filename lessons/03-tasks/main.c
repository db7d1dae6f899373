/* Lesson 03, given: the lesson program. Runs N downloads on the aio runtime and prints one
 * row (see harness/README.md): awaited one after another, spawned as tasks and joined, or run
 * as jobs joined with your job_join(). The downloads are BASE/delay/D?tag=i against delayd,
 * BASE itself n times against any other server, or the URLs of --urls FILE (repeated in order
 * up to --n). Any HTTP server will do: with the kit's delayd
 * the row ends `server=delayd peak=N` (the most requests it had in flight at once); with any
 * other server, or with --urls, `server=other peak=unknown`. */
#include "downloads.h"
#include "job.h"
#include "kit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_SLACK_MS 10000 /* the batch's deadline: its theory time plus this */


/* What the main task needs, and what it reports back. */
struct program {
    const struct kit_options *o;
    struct download *d;
    int rc;            /* the download function's return value */
    double wall, cpu;  /* what the batch cost, measured inside the loop */
};




/* The downloads as jobs: start one job per download, then join each with job_join(). */
static int download_as_jobs(aio_http *c, struct download *d, size_t n, int64_t deadline)
{
    struct job *jobs = calloc(n, sizeof *jobs);
    size_t started = 0;
    int first_error = 0;

    if (jobs == NULL)
        return -ENOMEM;
    for (; started < n; started++) {
        download_prepare(&d[started], c, deadline);
        if (job_start(&jobs[started], download_one, &d[started]) < 0) {
            first_error = -ENOMEM;
            break;
        }
    }
    for (size_t i = 0; i < started; i++) {
        int result = 0;
        int rc = job_join(&jobs[i], AIO_NEVER, &result);
        if (rc == 0)
            rc = result;
        if (rc < 0 && first_error == 0)
            first_error = rc;
        job_close(&jobs[i]);
    }
    free(jobs);
    return first_error;
}

/* The main task: one client, one batch, timed from inside the loop. */
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
    deadline = aio_now() + o->n * o->delay_ms + BATCH_SLACK_MS;
    if (strcmp(o->mode, "await") == 0)
        p->rc = download_sequential(c, p->d, n, deadline);
    else if (strcmp(o->mode, "tasks") == 0)
        p->rc = download_concurrent(c, p->d, n, deadline);
    else
        p->rc = download_as_jobs(c, p->d, n, deadline);
    p->wall = kit_wall() - p->wall;
    p->cpu = kit_cpu() - p->cpu;
    aio_http_free(c);
    return 0;
}

static long count_ok(const struct download *d, long n)
{
    long ok = 0;

    for (long i = 0; i < n; i++)
        ok += d[i].rc == 0 && d[i].resp.status == 200;
    return ok;
}

int main(int argc, char **argv)
{
    static const char *const modes[] = { "tasks", "await", "jobs", NULL };
    struct kit_options o = { .mode = "tasks", .n = 10, .delay_ms = 100 };

    kit_parse_options_urls(argc, argv, modes, 1, DOWNLOADS_MAX, &o);
    char **urls = calloc((size_t)o.n, sizeof *urls);
    struct download *d = calloc((size_t)o.n, sizeof *d);
    struct program p = { .o = &o, .d = d };
    struct kit_stats stats = { 0 };
    int kind = KIT_SERVER_OTHER;
    char theory[32] = "unknown";
    char peak[32] = "unknown";
    long ok;
    int rc;
    int status = 1;

    if (urls == NULL || d == NULL)
        goto out;
    /* Only delayd can say how many requests it had in flight (its counts are reset here); a
     * list of URLs may point anywhere, so its peak is not known. */
    if (o.urls == NULL) {
        kind = kit_server_kind(o.url);
        if (kind < 0)
            goto out;
    }
    /* Against delayd, /delay/MS tagged with the download's number; against any other server,
     * the URL itself, n times. */
    for (long i = 0; i < o.n; i++) {
        if (o.urls != NULL)
            urls[i] = strdup(o.urls[i]);
        else if (kind != KIT_SERVER_DELAYD)
            urls[i] = strdup(o.url);
        else if (asprintf(&urls[i], "%s/delay/%ld?tag=%ld", o.url, o.delay_ms, i) < 0)
            urls[i] = NULL;
        if (urls[i] == NULL)
            goto out;
        d[i].url = urls[i];
    }
    rc = aio_run(program_main, &p);
    if (rc < 0 || p.rc == -ENOSYS) {
        fprintf(stderr, "mode %s failed: %s\n", o.mode, strerror(rc < 0 ? -rc : -p.rc));
        goto out;
    }
    if (kind == KIT_SERVER_DELAYD && kit_stats_get(o.url, &stats) == 0)
        snprintf(peak, sizeof peak, "%ld", stats.peak);
    if (kind == KIT_SERVER_DELAYD)
        snprintf(theory, sizeof theory, "%.4f",
                 (strcmp(o.mode, "await") == 0 ? (double)o.n : 1.0) * (double)o.delay_ms /
                     1000.0);
    ok = count_ok(d, o.n);
    printf("mode=%s n=%ld delay_ms=%ld wall_s=%.4f cpu_s=%.4f server=%s peak=%s ok=%ld "
           "theory_s=%s\n", o.mode, o.n, o.delay_ms, p.wall, p.cpu,
           kind == KIT_SERVER_DELAYD ? "delayd" : "other", peak, ok, theory);
    for (long i = 0; ok != o.n && i < o.n; i++) {
        if (d[i].rc == 0 && d[i].resp.status == 200)
            continue;
        if (d[i].rc < 0)
            fprintf(stderr, "only %ld of %ld downloads answered 200; the first that did not, "
                    "%s, failed: %s\n", ok, o.n, d[i].url, strerror(-d[i].rc));
        else
            fprintf(stderr, "only %ld of %ld downloads answered 200; the first that did not, "
                    "%s, answered %ld\n", ok, o.n, d[i].url, d[i].resp.status);
        break;
    }
    status = ok == o.n ? 0 : 1;
out:
    if (d != NULL)
        downloads_free(d, (size_t)o.n);
    for (long i = 0; urls != NULL && i < o.n; i++)
        free(urls[i]);
    free(d);
    free(urls);
    kit_options_free(&o);
    return status;
}
