/* Lesson 07, given: the lesson program. Asks one answer of N mirrors on the kit's delayd, the
 * first share of them slow (BASE/delay/SLOW), the others BASE/delay/D, and prints one row
 * (see harness/README.md):
 *   --mode none      only the first mirror, no hedge (hedged_none)
 *   --mode wait-all  a hedge every --hedge ms that never cancels: every mirror asked is waited
 *                    for to its end (hedged_wait_all)
 *   --mode mine      your hedged_get: the losers cancelled and waited for
 * Options beside the kit's (--url, --mode, --n, --delay): --slow PCT (0..100, default 50), the
 * share of slow mirrors, first in line; --slow-ms MS (default 1000); --hedge MS (default 50);
 * --k K (permits of the pool, default N); --deadline MS (default 10000).
 * The row has the server's peak in flight and requests (sent), the winner's index, the jobs
 * cancelled, and what was still held when the loop ended (open: the runtime's tasks, timers,
 * descriptors and transfers, jobs' connections, the pool's in_flight and permits not given
 * back). theory_s: when the winner answers (none: the first mirror's time; wait-all: the
 * slowest mirror it asked). */
#include "kit.h"
#include "pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct program {
    const struct kit_options *o;
    struct pool *pool;
    struct job *jobs;
    long hedge_ms, deadline_ms;
    int rc;            /* the hedged function's return value */
    double wall, cpu;  /* what it cost, measured inside the loop */
};

static int program_main(void *arg)
{
    struct program *p = arg;
    const struct kit_options *o = p->o;
    size_t n = (size_t)o->n;
    int64_t deadline = aio_now() + p->deadline_ms;

    p->wall = kit_wall();
    p->cpu = kit_cpu();
    if (strcmp(o->mode, "none") == 0)
        p->rc = hedged_none(p->jobs, n, deadline);
    else if (strcmp(o->mode, "wait-all") == 0)
        p->rc = hedged_wait_all(p->jobs, n, p->hedge_ms, deadline);
    else
        p->rc = hedged_get(p->jobs, n, p->hedge_ms, deadline);
    p->wall = kit_wall() - p->wall;
    p->cpu = kit_cpu() - p->cpu;
    return 0;
}

static long max_l(long a, long b)
{
    return a > b ? a : b;
}

/* When the call returns, in ms, for each mode (see the header comment): the winner's answer,
 * and for wait-all the slowest mirror it asked before that answer came. */
static long theory_ms(const char *mode, long n, long slow, long slow_ms, long delay, long hedge)
{
    if (strcmp(mode, "none") == 0)
        return slow > 0 ? slow_ms : delay;
    long win = slow >= n ? slow_ms : slow * hedge + delay;
    if (strcmp(mode, "mine") == 0)
        return win;
    long asked = hedge > 0 ? win / hedge + 1 : n;
    asked = asked < n ? asked : n;
    long slow_asked = slow < asked ? slow : asked;
    return max_l(slow_asked > 0 ? (slow_asked - 1) * hedge + slow_ms : 0,
                 asked > slow ? (asked - 1) * hedge + delay : 0);
}

int main(int argc, char **argv)
{
    static const char *const modes[] = { "mine", "none", "wait-all", NULL };
    struct kit_options o = { .mode = "mine", .n = 8, .delay_ms = 100 };

    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0)
            printf("lesson 07: also --slow PCT (share of slow mirrors, first in line, default "
                   "50), --slow-ms MS (a slow mirror's time, default 1000), --hedge MS (the "
                   "delay before asking the next mirror, default 50), --k K (the pool's "
                   "permits, default N), --deadline MS (default 10000)\n");
    long slow_pct = kit_take_long(&argc, argv, "slow", 0, 100, 50);
    long slow_ms = kit_take_long(&argc, argv, "slow-ms", 0, 600000, 1000);
    long hedge_ms = kit_take_long(&argc, argv, "hedge", 0, 600000, 50);
    long k = kit_take_long(&argc, argv, "k", 0, POOL_JOBS_MAX, 0);
    long deadline_ms = kit_take_long(&argc, argv, "deadline", 1, 600000, 10000);
    kit_parse_options(argc, argv, modes, 1, POOL_JOBS_MAX, &o);

    long slow = (o.n * slow_pct + 50) / 100;
    char **urls = calloc((size_t)o.n, sizeof *urls);
    struct job *jobs = calloc((size_t)o.n, sizeof *jobs);
    struct pool pool;
    struct program p = { .o = &o, .pool = &pool, .jobs = jobs, .hedge_ms = hedge_ms,
                         .deadline_ms = deadline_ms };
    struct kit_stats stats = { 0 };
    struct aio_counts end = { 0 };
    char peak[32] = "unknown", sent[32] = "unknown";
    int status = 1;

    int permits = k > 0 ? (int)k : (int)o.n;

    if (urls == NULL || jobs == NULL || pool_init(&pool, permits) < 0)
        goto out;
    for (long i = 0; i < o.n; i++) {
        if (asprintf(&urls[i], "%s/delay/%ld?tag=%ld", o.url, i < slow ? slow_ms : o.delay_ms,
                     i) < 0) {
            urls[i] = NULL;
            goto out;
        }
        jobs[i].url = urls[i];
        job_prepare(&jobs[i], &pool);
    }
    int kind = kit_server_kind(o.url);
    if (kind < 0)
        goto out;
    int rc = aio_run(program_main, &p);
    if (rc < 0 || p.rc == -ENOSYS) {
        fprintf(stderr, "mode %s failed: %s\n", o.mode, strerror(rc < 0 ? -rc : -p.rc));
        goto out;
    }
    aio_counts_at_end(&end);
    if (kind == KIT_SERVER_DELAYD && kit_stats_get(o.url, &stats) == 0) {
        snprintf(peak, sizeof peak, "%ld", stats.peak);
        snprintf(sent, sizeof sent, "%ld", stats.requests);
    }
    size_t conns = 0;
    for (long i = 0; i < o.n; i++)
        conns += jobs[i].conn != NULL;
    int missing = permits - aio_sem_value(&pool.permits);
    size_t open = end.tasks + end.timers + end.descriptors + end.operations + conns +
                  (size_t)pool.in_flight + (size_t)missing;
    printf("mode=%s n=%ld slow=%ld slow_ms=%ld delay_ms=%ld hedge_ms=%ld wall_s=%.4f "
           "cpu_s=%.4f server=%s peak=%s sent=%s winner=%d answered=%ld failed=%ld "
           "cancelled=%ld open=%zu theory_s=%.4f\n",
           o.mode, o.n, slow, slow_ms, o.delay_ms, hedge_ms, p.wall, p.cpu,
           kind == KIT_SERVER_DELAYD ? "delayd" : "other", peak, sent, p.rc, pool.answered,
           pool.failed, pool.cancelled, open,
           theory_ms(o.mode, o.n, slow, slow_ms, o.delay_ms, hedge_ms) / 1000.0);
    if (open > 0)
        fprintf(stderr, "at loop end: %zu tasks, %zu timers, %zu descriptors, %zu transfers, "
                "%zu connections, %d jobs in flight, %d permits not given back\n", end.tasks,
                end.timers, end.descriptors, end.operations, conns, pool.in_flight, missing);
    status = 0;
out:
    if (jobs != NULL)
        jobs_free(jobs, (size_t)o.n);
    for (long i = 0; urls != NULL && i < o.n; i++)
        free(urls[i]);
    free(jobs);
    free(urls);
    kit_options_free(&o);
    return status;
}
