/* Lesson 03, given: the lesson program. Runs N downloads of /delay/D on the aio runtime and
 * prints one row (see harness/README.md): awaited one after another, spawned as tasks and
 * joined, or run as jobs joined with your job_join(). */
#include "downloads.h"
#include "job.h"
#include "kit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define URL_MAX 256
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

    kit_parse_options(argc, argv, modes, 1, 10000, &o);
    char (*urls)[URL_MAX] = calloc((size_t)o.n, sizeof *urls);
    struct download *d = calloc((size_t)o.n, sizeof *d);
    struct program p = { .o = &o, .d = d };
    struct kit_stats stats = { 0 };
    double theory;
    long ok;
    int rc;
    int status = 1;

    if (urls == NULL || d == NULL)
        goto out;
    for (long i = 0; i < o.n; i++) {
        snprintf(urls[i], URL_MAX, "%s/delay/%ld?tag=%ld", o.url, o.delay_ms, i);
        d[i].url = urls[i];
    }
    if (kit_stats_reset(o.url) != 0) {
        fprintf(stderr, "cannot reach the server at %s\n", o.url);
        goto out;
    }
    rc = aio_run(program_main, &p);
    if (rc < 0 || p.rc == -ENOSYS) {
        fprintf(stderr, "mode %s failed: %s\n", o.mode, strerror(rc < 0 ? -rc : -p.rc));
        goto out;
    }
    kit_stats_get(o.url, &stats);
    ok = count_ok(d, o.n);
    theory = (strcmp(o.mode, "await") == 0 ? (double)o.n : 1.0) * (double)o.delay_ms / 1000.0;
    printf("mode=%s n=%ld delay_ms=%ld wall_s=%.4f cpu_s=%.4f peak=%ld ok=%ld theory_s=%.4f\n",
           o.mode, o.n, o.delay_ms, p.wall, p.cpu, stats.peak, ok, theory);
    if (ok != o.n)
        fprintf(stderr, "only %ld of %ld downloads answered 200 (first error: %s)\n", ok, o.n,
                p.rc < 0 ? strerror(-p.rc) : "none");
    status = ok == o.n ? 0 : 1;
out:
    if (d != NULL)
        downloads_free(d, (size_t)o.n);
    free(d);
    free(urls);
    return status;
}
