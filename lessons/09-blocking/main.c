/* Lesson 09, given: the lesson program. A batch of N items on the kit's delayd, each one a GET
 * of BASE/delay/D?tag=i, a digest of its body (--work ms of CPU) and a write of that digest to
 * a ledger whose library blocks (--write ms), and prints one row (see harness/README.md):
 *   --mode blocking       the three steps written plainly: each one holds the loop
 *                         (item_run_blocking)
 *   --mode to_thread-all  the three steps handed to the pool whole (item_run_threaded): the
 *                         loop stays free, but 4 threads bound everything
 *   --mode mine           your item_run: the GET an async wait, the write on a thread, the
 *                         digests on threads, --k at once
 * Options beside the kit's (--url, --mode, --n, --delay): --work MS (a digest's CPU time,
 * default 10), --write MS (a ledger write's blocking time, default 10), --k K (digests at once,
 * default the machine's cores).
 * Beside the clocks, the row has the server's peak in flight, the loop's longest stall (a
 * heartbeat task asks to wake every 5 ms; stall_ms is the most it woke late), on_loop (library
 * calls made on the loop's thread: each one a stall), cpu_peak and write_peak (digests and
 * ledger writes running at once at most), ok (items done), and open (what was still held when
 * the loop ended: tasks, timers, descriptors, operations, permits not given back). */
#include "kit.h"
#include "work.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BODY_LEN 56          /* about the length of delayd's /delay answer: the digest's input */

struct program {
    const struct kit_options *o;
    struct item *items;
    int stop;                /* the heartbeat's stop flag */
    double stall;            /* its latest wake-up, in s */
    double wall, cpu;
};

static int heartbeat(void *arg)
{
    struct program *p = arg;
    while (!p->stop) {
        double t0 = kit_wall();
        if (aio_sleep(5) < 0)
            break;
        double late = kit_wall() - t0 - 0.005;
        if (late > p->stall)
            p->stall = late;
    }
    return 0;
}

static int program_main(void *arg)
{
    struct program *p = arg;
    size_t n = (size_t)p->o->n;
    aio_fn fn = strcmp(p->o->mode, "blocking") == 0        ? item_run_blocking
                : strcmp(p->o->mode, "to_thread-all") == 0 ? item_run_threaded
                                                           : item_run;
    aio_task *tasks[ITEMS_MAX];

    library_reset();
    aio_task *beat = aio_spawn(heartbeat, p);
    if (beat == NULL)
        return -ENOMEM;
    aio_yield();                     /* the heartbeat's first sleep is armed */
    p->wall = kit_wall();
    p->cpu = kit_cpu();
    for (size_t i = 0; i < n; i++)
        tasks[i] = aio_spawn(fn, &p->items[i]);
    for (size_t i = 0; i < n; i++)
        if (tasks[i] != NULL)
            aio_join(tasks[i], AIO_NEVER);
    p->wall = kit_wall() - p->wall;
    p->cpu = kit_cpu() - p->cpu;
    p->stop = 1;
    aio_join(beat, AIO_NEVER);
    return 0;
}

/* When the batch ends, in ms. blocking: one item after another, every step of each. to_thread-
 * all: four items at a time (the pool), their digests sharing the cores. mine: every GET at
 * once, then the digests k at a time (no more than the cores run at once), then the last
 * write. */
static double theory_ms(const char *mode, long n, long delay, long work, long write, long k,
                        long cores)
{
    if (strcmp(mode, "blocking") == 0)
        return (double)n * (double)(delay + work + write);
    if (strcmp(mode, "to_thread-all") == 0) {
        long rounds = (n + 3) / 4, at_once = n < 4 ? n : 4;
        double share = at_once > cores ? (double)at_once / (double)cores : 1.0;
        return (double)rounds * ((double)delay + (double)work * share + (double)write);
    }
    long lanes = k < cores ? k : cores;
    lanes = lanes < 1 ? 1 : lanes;
    return (double)delay + (double)((n + lanes - 1) / lanes) * (double)work + (double)write;
}

int main(int argc, char **argv)
{
    static const char *const modes[] = { "mine", "blocking", "to_thread-all", NULL };
    struct kit_options o = { .mode = "mine", .n = 16, .delay_ms = 50 };
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cores = cores < 1 ? 1 : cores;

    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0)
            printf("lesson 09: also --work MS (a digest's CPU time, default 10), --write MS (a "
                   "ledger write's blocking time, default 10), --k K (digests at once, default "
                   "the cores: %ld)\n", cores);
    long work_ms = kit_take_long(&argc, argv, "work", 0, 10000, 10);
    long write_ms = kit_take_long(&argc, argv, "write", 0, 600000, 10);
    long k = kit_take_long(&argc, argv, "k", 1, 64, cores);
    kit_parse_options(argc, argv, modes, 1, ITEMS_MAX, &o);

    size_t n = (size_t)o.n;
    char **urls = calloc(n, sizeof *urls);
    struct item *items = calloc(n, sizeof *items);
    struct ledger *lg = ledger_new(n, write_ms);
    struct batch b;
    struct program p = { .o = &o, .items = items };
    struct kit_stats stats = { 0 };
    struct aio_counts end = { 0 };
    struct library_counts lc = { 0 };
    char peak[32] = "unknown";
    int status = 1, batch_ok = 0;

    if (urls == NULL || items == NULL || lg == NULL)
        goto out;
    unsigned rounds = digest_rounds_for((double)work_ms, BODY_LEN);
    if (batch_init(&b, (int)k, rounds, lg) < 0)
        goto out;
    batch_ok = 1;
    for (size_t i = 0; i < n; i++) {
        if (asprintf(&urls[i], "%s/delay/%ld?tag=%zu", o.url, o.delay_ms, i) < 0) {
            urls[i] = NULL;
            goto out;
        }
        item_prepare(&items[i], &b, urls[i], i);
    }
    int kind = kit_server_kind(o.url);
    if (kind < 0)
        goto out;
    int rc = aio_run(program_main, &p);
    long ok = 0, enosys = 0;
    for (size_t i = 0; i < n; i++) {
        ok += items[i].outcome == ITEM_DONE;
        enosys += items[i].rc == -ENOSYS;
    }
    if (rc < 0 || enosys > 0) {
        fprintf(stderr, "mode %s failed: %s\n", o.mode, strerror(rc < 0 ? -rc : ENOSYS));
        goto out;
    }
    aio_counts_at_end(&end);
    library_counts(&lc);
    if (kind == KIT_SERVER_DELAYD && kit_stats_get(o.url, &stats) == 0)
        snprintf(peak, sizeof peak, "%ld", stats.peak);
    int missing = b.cpu_max - aio_sem_value(&b.cpu);
    size_t open = end.tasks + end.timers + end.descriptors + end.operations + (size_t)missing;
    printf("mode=%s n=%ld delay_ms=%ld work_ms=%ld write_ms=%ld k=%ld wall_s=%.4f cpu_s=%.4f "
           "server=%s peak=%s stall_ms=%.1f on_loop=%ld cpu_peak=%ld write_peak=%ld ok=%ld "
           "open=%zu theory_s=%.4f\n",
           o.mode, o.n, o.delay_ms, work_ms, write_ms, k, p.wall, p.cpu,
           kind == KIT_SERVER_DELAYD ? "delayd" : "other", peak, p.stall * 1000.0, lc.on_loop,
           lc.digest_peak, lc.write_peak, ok, open,
           theory_ms(o.mode, o.n, o.delay_ms, work_ms, write_ms, k, cores) / 1000.0);
    if (open > 0)
        fprintf(stderr, "at loop end: %zu tasks, %zu timers, %zu descriptors, %zu operations, "
                "%d permits not given back\n", end.tasks, end.timers, end.descriptors,
                end.operations, missing);
    status = 0;
out:
    if (batch_ok)
        batch_fini(&b);
    for (size_t i = 0; urls != NULL && i < n; i++)
        free(urls[i]);
    free(urls);
    free(items);
    ledger_free(lg);
    kit_options_free(&o);
    return status;
}
