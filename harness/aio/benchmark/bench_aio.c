/* bench_aio: one measurement of the aio runtime per run, printed as one key=value row.
 * run.sh repeats each run and sets it beside bench_asyncio.py doing the same work. */
#include "aio.h"
#include "kit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

enum {
    URL_MAX = 512,             /* room for "http://127.0.0.1:PORT/delay/MS" with margin */
    REQUEST_TIMEOUT_MS = 30000 /* one GET that takes this long means the run is broken */
};

/* What one run is asked to do (from the command line) and what it measured. */
struct bench {
    const char *name; /* benchmark name, as in the CSV */
    long n;           /* rounds, tasks or requests, depending on the benchmark */
    long delay_ms;    /* sleep or server delay */
    long conns;       /* concurrent keep-alive loops (http_keepalive_rps) */
    double seconds;   /* how long the keep-alive loops run */
    const char *base; /* server base URL, "http://127.0.0.1:PORT" */
    double value;     /* the result, in the unit of the benchmark's table row */
    char extra[256];  /* more key=value pairs for the row (evidence, not the result) */
};



/* Join every non-NULL task in tasks[0..n) and return the first error other than
 * -ECANCELED (which a cancelled task is expected to hand back), or 0. */
static int join_all(aio_task **tasks, long n)
{
    int first = 0;

    for (long i = 0; i < n; i++) {
        if (tasks[i] == NULL)
            continue;
        int rc = aio_join(tasks[i], AIO_NEVER);
        tasks[i] = NULL;
        if (rc < 0 && rc != -ECANCELED && first == 0)
            first = rc;
    }
    return first;
}

/* Cancel and join every non-NULL task in tasks[0..n): the way out when spawning the rest
 * failed, and how parked tasks are ended. Returns err, the caller's own result, unchanged. */
static int cancel_all(aio_task **tasks, long n, int err)
{
    for (long i = 0; i < n; i++) {
        if (tasks[i] != NULL)
            aio_cancel(tasks[i]);
    }
    join_all(tasks, n);
    return err;
}

/* The *_compact rows run the same code with AIO_TASK_COMPACT tasks (0: normal tasks, spawned
 * with plain aio_spawn so the normal rows measure exactly what they always did). */
static unsigned spawn_flags;

static aio_task *spawn_task(aio_fn fn, void *arg)
{
    return spawn_flags != 0 ? aio_spawn_opts(fn, arg, spawn_flags) : aio_spawn(fn, arg);
}

/* ---- yield_roundtrip: two tasks ping-pong through the ready queue ---------------------- */

/* Yield *rounds times. With exactly two such tasks ready, every yield hands the loop to the
 * other one, so each aio_yield() is one "suspend me, resume the other" round trip. */
static int yielder(void *arg)
{
    const long *rounds = arg;

    for (long i = 0; i < *rounds; i++) {
        int rc = aio_yield();
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Run two yielders and report ns per yield: the total time over 2 * n yields. */
static int bench_yield(void *arg)
{
    struct bench *b = arg;
    aio_task *t[2] = { NULL, NULL };
    long warm = b->n / 10 < 1000 ? b->n / 10 : 1000;

    /* Warm up once so first-use costs (stack pages, queue growth) stay out of the figure. */
    for (int pass = 0; pass < 2; pass++) {
        long *rounds = pass == 0 ? &warm : &b->n;
        double t0 = kit_wall();
        for (int i = 0; i < 2; i++) {
            t[i] = spawn_task(yielder, rounds);
            if (t[i] == NULL)
                return cancel_all(t, 2, -errno);
        }
        int rc = join_all(t, 2);
        if (rc < 0)
            return rc;
        b->value = (kit_wall() - t0) * 1e9 / (2.0 * (double)*rounds);
    }
    snprintf(b->extra, sizeof b->extra, "tasks=2 yields=%ld", 2 * b->n);
    return 0;
}

/* ---- spawn_join: create a task that returns at once, wait for it ---------------------- */

/* The cheapest possible task body. */
static int noop(void *arg)
{
    (void)arg;
    return 0;
}

/* Spawn and join rounds tasks one after another. */
static int spawn_join_rounds(long rounds)
{
    for (long i = 0; i < rounds; i++) {
        /* aio_spawn itself in the normal row: not even the flag test of spawn_task(). */
        aio_task *t = spawn_flags != 0 ? aio_spawn_opts(noop, NULL, spawn_flags)
                                       : aio_spawn(noop, NULL);
        if (t == NULL)
            return -errno;
        int rc = aio_join(t, AIO_NEVER);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Report ns per spawn + join, after a short warm-up. */
static int bench_spawn_join(void *arg)
{
    struct bench *b = arg;
    int rc = spawn_join_rounds(b->n / 10 < 1000 ? b->n / 10 : 1000);

    if (rc < 0)
        return rc;
    double t0 = kit_wall();
    rc = spawn_join_rounds(b->n);
    if (rc < 0)
        return rc;
    b->value = (kit_wall() - t0) * 1e9 / (double)b->n;
    snprintf(b->extra, sizeof b->extra, "rounds=%ld", b->n);
    return 0;
}

/* ---- sem_handoff: two tasks pass one permit back and forth -------------------------------- */

struct handoff {
    aio_sem sem;
    long rounds;
};

/* Take the only permit, let the other task queue for it, give it back: every release hands the
 * permit straight to the task waiting in aio_sem_acquire(). */
static int permit_passer(void *arg)
{
    struct handoff *h = arg;

    for (long i = 0; i < h->rounds; i++) {
        int rc = aio_sem_acquire(&h->sem, AIO_NEVER);
        if (rc < 0)
            return rc;
        rc = aio_yield();
        aio_sem_release(&h->sem);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ns per hand-over: an acquire that waits, the release that wakes it, and the switch. */
static int bench_sem_handoff(void *arg)
{
    struct bench *b = arg;
    struct handoff h;
    aio_task *t[2] = { NULL, NULL };

    for (int pass = 0; pass < 2; pass++) {
        h.rounds = pass == 0 ? (b->n / 10 < 1000 ? b->n / 10 : 1000) : b->n;
        aio_sem_init(&h.sem, 1);
        double t0 = kit_wall();
        for (int i = 0; i < 2; i++) {
            t[i] = aio_spawn(permit_passer, &h);
            if (t[i] == NULL)
                return cancel_all(t, 2, -errno);
        }
        int rc = join_all(t, 2);
        if (rc < 0)
            return rc;
        b->value = (kit_wall() - t0) * 1e9 / (2.0 * (double)h.rounds);
    }
    snprintf(b->extra, sizeof b->extra, "tasks=2 handoffs=%ld", 2 * b->n);
    return 0;
}

/* ---- group_gather: a task group of 1000 children that return at once ------------------- */

static int noop_child(void *arg)
{
    (void)arg;
    return 0;
}

/* Spawn `children` tasks into a new group and wait for them all. */
static int group_rounds(long children)
{
    for (long done = 0; done < children; done += 1000) {
        aio_group *g = aio_group_new();
        if (g == NULL)
            return -ENOMEM;
        int rc = 0;
        for (long i = 0; i < 1000 && rc == 0; i++)
            if (aio_group_spawn(g, noop_child, NULL) == NULL)
                rc = -errno;
        int w = aio_group_wait(g, AIO_NEVER);
        aio_group_free(g);
        if (rc < 0 || w < 0)
            return rc < 0 ? rc : w;
    }
    return 0;
}

/* ns per child: its spawn, its run, the group's bookkeeping and the join, 1000 at a time. */
static int bench_group_gather(void *arg)
{
    struct bench *b = arg;
    int rc = group_rounds(b->n / 10 < 10000 ? b->n / 10 : 10000);   /* warm-up */

    if (rc < 0)
        return rc;
    double t0 = kit_wall();
    rc = group_rounds(b->n);
    if (rc < 0)
        return rc;
    b->value = (kit_wall() - t0) * 1e9 / (double)((b->n + 999) / 1000 * 1000);
    snprintf(b->extra, sizeof b->extra, "children=%ld per_group=1000", (b->n + 999) / 1000 * 1000);
    return 0;
}

/* ---- sleep_10k_100ms: many tasks sleeping at once -------------------------------------- */

/* Sleep *ms milliseconds. */
static int sleeper(void *arg)
{
    const long *ms = arg;

    return aio_sleep(*ms);
}

/* Spawn n sleepers, join them all, and put the wall time in *ms. 0 or a negative errno. */
static int sleep_round(struct bench *b, aio_task **tasks, double *ms)
{
    double t0 = kit_wall();

    for (long i = 0; i < b->n; i++) {
        tasks[i] = spawn_task(sleeper, &b->delay_ms);
        if (tasks[i] == NULL)
            return cancel_all(tasks, i, -errno);
    }
    int rc = join_all(tasks, b->n);
    *ms = (kit_wall() - t0) * 1e3;
    return rc;
}

/* Report ms of wall time from the first spawn to the last join of n sleepers, measured on
 * the second round. The first round is reported too, as cold_ms: its spawns each map and
 * touch a fresh stack, which on some machines costs more than the whole sleep. */
static int bench_sleep(void *arg)
{
    struct bench *b = arg;
    aio_task **tasks = calloc((size_t)b->n, sizeof *tasks);
    double cold = 0;
    int rc = -ENOMEM;

    if (tasks == NULL)
        return rc;
    rc = sleep_round(b, tasks, &cold);
    if (rc == 0)
        rc = sleep_round(b, tasks, &b->value);
    free(tasks);
    snprintf(b->extra, sizeof b->extra, "tasks=%ld sleep_ms=%ld cold_ms=%.3f", b->n, b->delay_ms,
             cold);
    return rc;
}

/* ---- tasks_100k_rss: memory held by parked tasks --------------------------------------- */

/* One field of /proc/self/status ("VmHWM:", "VmRSS:") in KiB, or -1 if it cannot be read. */
static long status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, key, strlen(key)) == 0) {
            kib = strtol(line + strlen(key), NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

/* Count itself as started, then park until cancelled; hands -ECANCELED back, as it should. */
static int parker(void *arg)
{
    long *started = arg;

    (*started)++;
    return aio_park(AIO_NEVER);
}

/* Report the peak RSS (VmHWM) in MiB once n tasks are all parked at the same time. */
static int bench_rss(void *arg)
{
    struct bench *b = arg;
    aio_task **tasks = calloc((size_t)b->n, sizeof *tasks);
    long started = 0;
    long base_kib = status_kib("VmHWM:");
    int rc = 0;

    if (tasks == NULL)
        return -ENOMEM;
    for (long i = 0; i < b->n; i++) {
        tasks[i] = spawn_task(parker, &started);
        if (tasks[i] == NULL) {
            rc = cancel_all(tasks, i, -errno);
            goto out;
        }
    }
    /* A spawned task starts on a later loop turn; a few yields let every one reach its park. */
    for (int turn = 0; turn < 10 && started < b->n; turn++)
        aio_yield();
    long hwm_kib = status_kib("VmHWM:");
    if (started < b->n || hwm_kib < 0) {
        fprintf(stderr, "bench_aio: only %ld of %ld tasks started, or VmHWM unreadable\n",
                started, b->n);
        rc = cancel_all(tasks, b->n, -EAGAIN);
        goto out;
    }
    rc = cancel_all(tasks, b->n, 0);
    b->value = (double)hwm_kib / 1024.0;
    snprintf(b->extra, sizeof b->extra, "tasks=%ld base_mib=%.1f per_task_kib=%.2f", b->n,
             (double)base_kib / 1024.0, (double)(hwm_kib - base_kib) / (double)b->n);
out:
    free(tasks);
    return rc;
}

/* ---- http_1000x100ms: many GETs in flight at once -------------------------------------- */

/* What the GET tasks share; each reads it, none owns it. */
struct http_job {
    aio_http *client;
    char url[URL_MAX];
    int64_t stop_ms; /* keep-alive loops start no new request after this (aio_now() time) */
    long done;       /* requests answered 200 */
};

/* GET job->url once; -EPROTO for any status but 200. */
static int get_once(struct http_job *job)
{
    struct aio_response resp = { 0 };
    int rc = aio_http_get(job->client, job->url, &resp, aio_now() + REQUEST_TIMEOUT_MS);

    if (rc < 0)
        return rc;
    if (resp.status != 200)
        rc = -EPROTO;
    else
        job->done++;
    aio_response_free(&resp);
    return rc;
}

/* A task body: one GET. */
static int getter(void *arg)
{
    return get_once(arg);
}

/* Report ms from the first spawn until all n GETs of /delay/MS have been answered. */
static int bench_http_batch(void *arg)
{
    struct bench *b = arg;
    struct http_job job = { .client = aio_http_new() };
    aio_task **tasks = calloc((size_t)b->n, sizeof *tasks);
    int rc = -ENOMEM;

    if (job.client == NULL || tasks == NULL)
        goto out;
    snprintf(job.url, sizeof job.url, "%s/delay/%ld", b->base, b->delay_ms);
    double c0 = kit_cpu();
    double t0 = kit_wall();
    for (long i = 0; i < b->n; i++) {
        tasks[i] = spawn_task(getter, &job);
        if (tasks[i] == NULL) {
            rc = cancel_all(tasks, i, -errno);
            goto out;
        }
    }
    rc = join_all(tasks, b->n);
    b->value = (kit_wall() - t0) * 1e3;
    snprintf(b->extra, sizeof b->extra, "requests=%ld ok=%ld delay_ms=%ld cpu_s=%.3f", b->n,
             job.done, b->delay_ms, kit_cpu() - c0);
out:
    free(tasks);
    if (job.client != NULL)
        aio_http_free(job.client);
    return rc;
}

/* ---- http_keepalive_rps: request loops over one client --------------------------------- */

/* A task body: GET job->url again and again until job->stop_ms. */
static int get_loop(void *arg)
{
    struct http_job *job = arg;

    while (aio_now() < job->stop_ms) {
        int rc = get_once(job);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Report requests per second of b->conns loops sharing one client for about b->seconds. */
static int bench_http_keepalive(void *arg)
{
    struct bench *b = arg;
    struct http_job job = { .client = aio_http_new() };
    aio_task **tasks = calloc((size_t)b->conns, sizeof *tasks);
    int rc = -ENOMEM;

    if (job.client == NULL || tasks == NULL)
        goto out;
    snprintf(job.url, sizeof job.url, "%s/bytes/0", b->base);
    job.stop_ms = aio_now() + (int64_t)(b->seconds * 1e3);
    double c0 = kit_cpu();
    double t0 = kit_wall();
    for (long i = 0; i < b->conns; i++) {
        tasks[i] = aio_spawn(get_loop, &job);
        if (tasks[i] == NULL) {
            rc = cancel_all(tasks, i, -errno);
            goto out;
        }
    }
    rc = join_all(tasks, b->conns);
    double elapsed = kit_wall() - t0;
    b->value = (double)job.done / elapsed;
    snprintf(b->extra, sizeof b->extra, "loops=%ld requests=%ld elapsed_s=%.3f cpu_s=%.3f",
             b->conns, job.done, elapsed, kit_cpu() - c0);
out:
    free(tasks);
    if (job.client != NULL)
        aio_http_free(job.client);
    return rc;
}

/* ---- wait_for_ready (lesson 06): spawn, then aio_wait_for with a deadline ------------------ */

/* Spawn a task that returns at once and wait for it with aio_wait_for() and a deadline 1 s
 * away, rounds times: the spawn, the armed and disarmed deadline, the join. */
static int wait_for_rounds(long rounds)
{
    for (long i = 0; i < rounds; i++) {
        /* aio_spawn itself in the normal row: not even the flag test of spawn_task(). */
        aio_task *t = spawn_flags != 0 ? aio_spawn_opts(noop, NULL, spawn_flags)
                                       : aio_spawn(noop, NULL);
        if (t == NULL)
            return -errno;
        int rc = aio_wait_for(t, aio_now() + 1000);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int bench_wait_for_ready(void *arg)
{
    struct bench *b = arg;
    int rc = wait_for_rounds(b->n / 10 < 1000 ? b->n / 10 : 1000);

    if (rc < 0)
        return rc;
    double t0 = kit_wall();
    rc = wait_for_rounds(b->n);
    if (rc < 0)
        return rc;
    b->value = (kit_wall() - t0) * 1e9 / (double)b->n;
    snprintf(b->extra, sizeof b->extra, "rounds=%ld", b->n);
    return 0;
}

/* ---- the command line ------------------------------------------------------------------ */

/* One benchmark this program knows. */
struct entry {
    const char *name;
    aio_fn fn;
    const char *unit;
};

static const struct entry ENTRIES[] = {
    { "yield_roundtrip", bench_yield, "ns" },
    { "spawn_join", bench_spawn_join, "ns" },
    { "sem_handoff", bench_sem_handoff, "ns" },
    { "group_gather", bench_group_gather, "ns" },
    { "sleep_10k_100ms", bench_sleep, "ms" },
    { "tasks_100k_rss", bench_rss, "MiB" },
    { "tasks_100k_rss_compact", bench_rss, "MiB" },         /* AIO_TASK_COMPACT tasks */
    { "yield_roundtrip_compact", bench_yield, "ns" },
    { "spawn_join_compact", bench_spawn_join, "ns" },
    { "sleep_10k_100ms_compact", bench_sleep, "ms" },
    { "http_1000x100ms", bench_http_batch, "ms" },
    { "http_1000x100ms_compact", bench_http_batch, "ms" },  /* AIO_TASK_COMPACT getters */
    { "http_keepalive_rps", bench_http_keepalive, "req/s" },
    { "wait_for_ready", bench_wait_for_ready, "ns" },
};

/* Parse a positive number from text into *out; -EINVAL if it is not one. */
static int parse_positive(const char *text, double *out)
{
    char *end = NULL;

    errno = 0;
    *out = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(*out > 0))
        return -EINVAL;
    return 0;
}

/* Fill b from "--key value" pairs; -EINVAL (after saying why) on anything unknown. */
static int parse_options(int argc, char **argv, struct bench *b)
{
    for (int i = 2; i < argc; i += 2) {
        double v = 0;
        const char *key = argv[i];
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_aio: %s needs a value\n", key);
            return -EINVAL;
        }
        if (strcmp(key, "--url") == 0) {
            b->base = argv[i + 1];
            continue;
        }
        if (parse_positive(argv[i + 1], &v) < 0) {
            fprintf(stderr, "bench_aio: %s wants a positive number, not '%s'\n", key, argv[i + 1]);
            return -EINVAL;
        }
        if (strcmp(key, "--n") == 0)
            b->n = (long)v;
        else if (strcmp(key, "--delay") == 0)
            b->delay_ms = (long)v;
        else if (strcmp(key, "--conns") == 0)
            b->conns = (long)v;
        else if (strcmp(key, "--seconds") == 0)
            b->seconds = v;
        else {
            fprintf(stderr, "bench_aio: unknown option %s\n", key);
            return -EINVAL;
        }
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_aio BENCHMARK [--n N] [--delay MS] [--conns C] "
                    "[--seconds S] [--url http://127.0.0.1:PORT]\nbenchmarks:");
    for (size_t i = 0; i < sizeof ENTRIES / sizeof ENTRIES[0]; i++)
        fprintf(stderr, " %s", ENTRIES[i].name);
    fprintf(stderr, "\n");
}

int main(int argc, char **argv)
{
    struct bench b = { .n = 1000, .delay_ms = 100, .conns = 100, .seconds = 3.0 };
    const struct entry *e = NULL;

    for (size_t i = 0; argc > 1 && i < sizeof ENTRIES / sizeof ENTRIES[0]; i++) {
        if (strcmp(argv[1], ENTRIES[i].name) == 0)
            e = &ENTRIES[i];
    }
    if (e == NULL || parse_options(argc, argv, &b) < 0) {
        usage();
        return 2;
    }
    if (strncmp(e->name, "http_", 5) == 0 && b.base == NULL) {
        fprintf(stderr, "bench_aio: %s needs --url (the delayd base URL)\n", e->name);
        return 2;
    }
    b.name = e->name;
    size_t len = strlen(e->name);
    if (len > 8 && strcmp(e->name + len - 8, "_compact") == 0)
        spawn_flags = AIO_TASK_COMPACT;
    int rc = aio_run(e->fn, &b);
    if (rc < 0) {
        fprintf(stderr, "bench_aio: %s failed: %s\n", e->name, strerror(-rc));
        return 1;
    }
    printf("benchmark=%s impl=aio value=%.6g unit=%s %s\n", e->name, b.value, e->unit, b.extra);
    return 0;
}
