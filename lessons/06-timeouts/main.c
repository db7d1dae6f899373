/* Lesson 06, given: the lesson program. Runs a batch of N fetches against the kit's delayd, a
 * share of them stuck (BASE/delay/HANG, far longer than the rest), the others
 * BASE/delay/D, and prints one row (see harness/README.md):
 *   --mode none   every fetch joined with no deadline (fetch_all_no_deadline): the batch lasts
 *                 as long as its slowest request
 *   --mode batch  your fetch_batch with the batch deadline (aio_wait_for underneath)
 *   --mode mine   the same batch on your part two, wf_wait_for (fetch_batch_mine)
 * Options beside the kit's (--url, --mode, --n, --delay): --hung PCT (0..100, default 25),
 * the share of stuck requests, spread over the batch; --deadline MS (default 500), the batch's
 * deadline from its start; --hang MS (default 2000), how long a stuck request takes.
 * The row has the server's peak in flight, the fetches answered (ok) and cut (cut), and what
 * the runtime still held open when the loop ended (open: tasks, timers, descriptors and
 * transfers, from aio_counts_at_end). theory_s: with no stuck request D; with some, HANG for
 * mode none and the deadline for the others. */
#include "fetch.h"
#include "kit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct program {
    const struct kit_options *o;
    long deadline_ms;
    struct fetch *f;
    int rc;            /* the batch function's return value */
    double wall, cpu;  /* what the batch cost, measured inside the loop */
};

static int program_main(void *arg)
{
    struct program *p = arg;
    const struct kit_options *o = p->o;
    size_t n = (size_t)o->n;
    aio_http *c = aio_http_new();

    if (c == NULL)
        return -ENOMEM;
    p->wall = kit_wall();
    p->cpu = kit_cpu();
    if (strcmp(o->mode, "none") == 0)
        p->rc = fetch_all_no_deadline(c, p->f, n);
    else if (strcmp(o->mode, "batch") == 0)
        p->rc = fetch_batch(c, p->f, n, aio_now() + p->deadline_ms);
    else
        p->rc = fetch_batch_mine(c, p->f, n, aio_now() + p->deadline_ms);
    p->wall = kit_wall() - p->wall;
    p->cpu = kit_cpu() - p->cpu;
    aio_http_free(c);
    return 0;
}

/* Is fetch i of n one of the `stuck` stuck ones? Spread evenly over the batch. */
static int is_stuck(long i, long n, long stuck)
{
    return (i + 1) * stuck / n > i * stuck / n;
}

int main(int argc, char **argv)
{
    static const char *const modes[] = { "batch", "none", "mine", NULL };
    struct kit_options o = { .mode = "batch", .n = 20, .delay_ms = 100 };

    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0)
            printf("lesson 06: also --hung PCT (share of stuck requests, default 25), "
                   "--deadline MS (the batch's, default 500), --hang MS (a stuck request's "
                   "time, default 2000)\n");
    long hung = kit_take_long(&argc, argv, "hung", 0, 100, 25);
    long deadline_ms = kit_take_long(&argc, argv, "deadline", 1, 600000, 500);
    long hang_ms = kit_take_long(&argc, argv, "hang", 0, 600000, 2000);
    kit_parse_options(argc, argv, modes, 1, FETCH_MAX, &o);

    long stuck = (o.n * hung + 50) / 100;
    char **urls = calloc((size_t)o.n, sizeof *urls);
    struct fetch *f = calloc((size_t)o.n, sizeof *f);
    struct program p = { .o = &o, .deadline_ms = deadline_ms, .f = f };
    struct kit_stats stats = { 0 };
    struct aio_counts end = { 0 };
    char peak[32] = "unknown";
    long ok = 0, cut = 0;
    int rc;
    int status = 1;

    if (urls == NULL || f == NULL)
        goto out;
    for (long i = 0; i < o.n; i++) {
        long ms = is_stuck(i, o.n, stuck) ? hang_ms : o.delay_ms;
        if (asprintf(&urls[i], "%s/delay/%ld?tag=%ld", o.url, ms, i) < 0) {
            urls[i] = NULL;
            goto out;
        }
        f[i].url = urls[i];
    }
    int kind = kit_server_kind(o.url);
    if (kind < 0)
        goto out;
    rc = aio_run(program_main, &p);
    if (rc < 0 || p.rc == -ENOSYS) {
        fprintf(stderr, "mode %s failed: %s\n", o.mode, strerror(rc < 0 ? -rc : -p.rc));
        goto out;
    }
    aio_counts_at_end(&end);
    if (kind == KIT_SERVER_DELAYD && kit_stats_get(o.url, &stats) == 0)
        snprintf(peak, sizeof peak, "%ld", stats.peak);
    for (long i = 0; i < o.n; i++) {
        ok += f[i].rc == 0 && f[i].resp.status == 200;
        cut += f[i].rc == -ETIMEDOUT;
    }
    double theory = (double)(stuck == 0 ? o.delay_ms
                             : strcmp(o.mode, "none") == 0 ? (hang_ms > o.delay_ms ? hang_ms
                                                                                    : o.delay_ms)
                             : (deadline_ms < hang_ms ? deadline_ms : hang_ms)) / 1000.0;
    printf("mode=%s n=%ld hung=%ld stuck=%ld delay_ms=%ld deadline_ms=%ld hang_ms=%ld "
           "wall_s=%.4f cpu_s=%.4f server=%s peak=%s ok=%ld cut=%ld open=%zu theory_s=%.4f\n",
           o.mode, o.n, hung, stuck, o.delay_ms, deadline_ms, hang_ms, p.wall, p.cpu,
           kind == KIT_SERVER_DELAYD ? "delayd" : "other", peak, ok, cut,
           end.tasks + end.timers + end.descriptors + end.operations, theory);
    if (end.tasks + end.timers + end.descriptors + end.operations > 0)
        fprintf(stderr, "at loop end: %zu tasks, %zu timers, %zu descriptors, %zu transfers "
                "still open\n", end.tasks, end.timers, end.descriptors, end.operations);
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
