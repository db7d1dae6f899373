/* Lesson 04, given: the lesson program. Asks N mirrors for one answer (mirror i is
 * BASE/delay/D_i?tag=i, D_i drawn once from i: between D and 2D ms, so adding mirrors keeps the
 * earlier ones as they were) and prints one row (see harness/README.md):
 *   --mode all    gather() with return_exceptions: wait for every mirror
 *   --mode first  first_completed(): the first useful answer, the rest cancelled
 *   --mode mine   first_completed_mine(): the same on your done_queue
 * wall_s is the time to the answer (to all of them for "all"); theory_s the smallest D_i for
 * first and mine, the largest for all. With delayd the row ends with the server's peak in
 * flight and, a moment after the answer, the requests it still serves (left: 0 when the
 * losers were cancelled). */
#include "gather.h"
#include "kit.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLACK_MS 10000 /* the batch's deadline: twice the delay plus this */

struct program {
    const struct kit_options *o;
    struct reply *r;
    int rc;            /* gather's 0 or error, or the winner's index */
    double wall, cpu;  /* what the batch cost, measured inside the loop */
};

/* The draw's seed. Any seed gives a uniform draw; this one was picked, among the first few
 * thousand, because its first N mirrors are close to the average case at every N of the chart
 * (the fastest of N uniform draws is expected at D + D/(N+1), the slowest at D + DN/(N+1)), so
 * the chart shows the rule rather than one lucky or unlucky mirror. */
#define DRAW_SEED 2779u

/* Mirror i's delay: D plus a fixed pseudo-random share of D (SplitMix64's mixer on i). */
static long mirror_delay(long i, long d)
{
    uint64_t z = (uint64_t)i * 0x9e3779b97f4a7c15u + DRAW_SEED;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    return d + (d > 0 ? (long)(z % (uint64_t)d) : 0);
}

static int program_main(void *arg)
{
    struct program *p = arg;
    const struct kit_options *o = p->o;
    size_t n = (size_t)o->n;
    aio_http *c = aio_http_new();

    if (c == NULL)
        return -ENOMEM;
    int64_t deadline = aio_now() + 2 * o->delay_ms + SLACK_MS;
    p->wall = kit_wall();
    p->cpu = kit_cpu();
    if (strcmp(o->mode, "all") == 0)
        p->rc = gather(c, p->r, n, GATHER_RETURN_ERRORS, deadline);
    else if (strcmp(o->mode, "first") == 0)
        p->rc = first_completed(c, p->r, n, deadline);
    else
        p->rc = first_completed_mine(c, p->r, n, deadline);
    p->wall = kit_wall() - p->wall;
    p->cpu = kit_cpu() - p->cpu;
    aio_http_free(c);
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const modes[] = { "first", "all", "mine", NULL };
    struct kit_options o = { .mode = "first", .n = 8, .delay_ms = 1000 };

    kit_parse_options(argc, argv, modes, 1, GATHER_MAX, &o);
    char **urls = calloc((size_t)o.n, sizeof *urls);
    struct reply *r = calloc((size_t)o.n, sizeof *r);
    struct program p = { .o = &o, .r = r };
    struct kit_stats stats = { 0 }, after = { 0 };
    char peak[32] = "unknown", left[32] = "unknown";
    long lo = -1, hi = -1, useful = 0;
    int status = 1;

    if (urls == NULL || r == NULL)
        goto out;
    for (long i = 0; i < o.n; i++) {
        long d = mirror_delay(i, o.delay_ms);
        lo = lo < 0 || d < lo ? d : lo;
        hi = d > hi ? d : hi;
        if (asprintf(&urls[i], "%s/delay/%ld?tag=%ld", o.url, d, i) < 0) {
            urls[i] = NULL;
            goto out;
        }
        r[i].url = urls[i];
    }
    int kind = kit_server_kind(o.url);
    if (kind < 0)
        goto out;
    int rc = aio_run(program_main, &p);
    if (rc < 0 || p.rc == -ENOSYS) {
        fprintf(stderr, "mode %s failed: %s\n", o.mode, strerror(rc < 0 ? -rc : -p.rc));
        goto out;
    }
    if (kind == KIT_SERVER_DELAYD && kit_stats_get(o.url, &stats) == 0) {
        snprintf(peak, sizeof peak, "%ld", stats.peak);
        /* The server notices a client gone within a few ms (sleeps of 1 s and more). */
        usleep(50 * 1000);
        if (kit_stats_get(o.url, &after) == 0)
            snprintf(left, sizeof left, "%ld", after.in_flight);
    }
    for (long i = 0; i < o.n; i++)
        useful += reply_useful(&r[i]);
    printf("mode=%s n=%ld delay_ms=%ld wall_s=%.4f cpu_s=%.4f peak=%s left=%s useful=%ld "
           "theory_s=%.4f\n", o.mode, o.n, o.delay_ms, p.wall, p.cpu, peak, left, useful,
           (double)(strcmp(o.mode, "all") == 0 ? hi : lo) / 1000.0);
    if (p.rc < 0)
        fprintf(stderr, "mode %s: %s\n", o.mode, strerror(-p.rc));
    status = 0;
out:
    if (r != NULL)
        replies_free(r, (size_t)o.n);
    for (long i = 0; urls != NULL && i < o.n; i++)
        free(urls[i]);
    free(r);
    free(urls);
    kit_options_free(&o);
    return status;
}
