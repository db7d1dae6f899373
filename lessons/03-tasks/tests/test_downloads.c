/* Lesson 03 tests, part one: what the server saw (requests in flight at once), which answer
 * landed where, and whether every task spawned was joined (directly, and in AIO_DEBUG mode). */
#include "downloads.h"
#include "kit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define URL_MAX 256
#define MAX_DOWNLOADS 16
#define BATCH_MS 5000      /* every batch here ends well inside this */
#define LOG_MAX 16384      /* debug output kept from a child run */
#define REFUSED_URL "http://127.0.0.1:1/refused" /* nothing listens on port 1 */

static const char *base;

/* One batch of downloads, and what happened while it ran. */
struct batch {
    size_t n;
    char url[MAX_DOWNLOADS][URL_MAX];
    struct download d[MAX_DOWNLOADS];
    int rc;                             /* download_concurrent()'s return value */
    int done_at_return[MAX_DOWNLOADS];  /* d[i].done the moment it returned */
    int no_client;                      /* aio_http_new() failed */
    struct kit_stats stats;             /* the server's counts after the batch */
};

static void setup(void)
{
    base = kit_server_start(NULL);
}

static void teardown(void)
{
    kit_server_stop();
}

/* Add a download of BASE + path. */
static void add_path(struct batch *b, const char *path)
{
    snprintf(b->url[b->n], URL_MAX, "%s%s", base, path);
    b->d[b->n].url = b->url[b->n];
    b->n++;
}

static void add_url(struct batch *b, const char *url)
{
    snprintf(b->url[b->n], URL_MAX, "%s", url);
    b->d[b->n].url = b->url[b->n];
    b->n++;
}

static void add_delays(struct batch *b, size_t n, int delay_ms)
{
    char path[64];

    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "/delay/%d?tag=%zu", delay_ms, b->n);
        add_path(b, path);
    }
}

static int all_done(const struct batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (!b->d[i].done)
            return 0;
    return 1;
}

/* The batch's main task: run download_concurrent() and note which downloads had finished. */
static int batch_main(void *arg)
{
    struct batch *b = arg;
    aio_http *c = aio_http_new();
    int64_t limit;

    if (c == NULL) {
        b->no_client = 1;
        return -ENOMEM;
    }
    b->rc = download_concurrent(c, b->d, b->n, aio_now() + BATCH_MS);
    for (size_t i = 0; i < b->n; i++)
        b->done_at_return[i] = b->d[i].done;
    /* Downloads left running by a wrong answer still use the client: let them end before
     * freeing it, so the test reports the mistake instead of crashing on it. */
    limit = aio_now() + BATCH_MS;
    while (b->rc != -ENOSYS && !all_done(b) && aio_now() < limit)
        aio_sleep(20);
    aio_http_free(c);
    return 0;
}

/* Run the batch on a fresh loop; the assertions come after the loop has ended. */
static void run_batch(struct batch *b)
{
    int rc;

    cr_assert_eq(kit_stats_reset(base), 0, "[server] the test server did not answer /reset");
    rc = aio_run(batch_main, b);
    cr_assert(!b->no_client, "[runtime] aio_http_new() failed; this is not your code.");
    cr_assert_eq(rc, 0, "[runtime] aio_run() returned %d (%s).", rc, strerror(-rc));
    cr_assert_neq(b->rc, -ENOSYS, "[not-done] download_concurrent still returns -ENOSYS: it "
                  "is the skeleton's stub. Start at TODO 1 in downloads.c (and `make hint-03` "
                  "if stuck).");
    cr_assert_eq(kit_stats_get(base, &b->stats), 0, "[server] the test server did not answer "
                 "/stats");
}

/* d[i] must hold the answer to url[i]: /delay bodies echo their query, "tag=i". */
static void expect_in_order(const struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        char want[32];
        const char *body = b->d[i].resp.body;
        const char *tag = body != NULL ? strstr(body, "tag=") : NULL;

        snprintf(want, sizeof want, "tag=%zu\"", i);
        cr_assert_eq(b->d[i].resp.status, 200, "[status] d[%zu].resp.status is %ld (rc %d), "
                     "expected 200 for %s. Did you spawn download_one with &d[i]?",
                     i, b->d[i].resp.status, b->d[i].rc, b->url[i]);
        cr_assert(tag != NULL && strncmp(tag, want, strlen(want)) == 0,
                  "[wrong-result] d[%zu] holds the answer to another request (its body is %s). "
                  "Each task must get its own download: aio_spawn(download_one, &d[i]).",
                  i, body != NULL ? body : "(null)");
    }
}

TestSuite(downloads, .init = setup, .fini = teardown, .timeout = 15);

Test(downloads, all_requests_in_flight_at_once)
{
    struct batch b = { 0 };

    add_delays(&b, 8, 300);
    run_batch(&b);
    cr_assert_eq(b.rc, 0, "[return-code] download_concurrent returned %d (%s); every download "
                 "should have succeeded.", b.rc, strerror(-b.rc));
    cr_assert_eq(b.stats.requests, 8, "[request-count] the server saw %ld requests; there "
                 "should be exactly 1 per download (8).", b.stats.requests);
    cr_assert_neq(b.stats.peak, 1, "[peak-1] the server saw 1 request in flight at a time; "
                  "download_concurrent should have all 8 in flight at once. Did you join each "
                  "task right after spawning it? That is `await` in a loop again: spawn them "
                  "all first, then join.");
    cr_assert_eq(b.stats.peak, 8, "[peak-low] the server saw at most %ld of 8 requests in "
                 "flight at once; spawn every task before you join any.", b.stats.peak);
    downloads_free(b.d, b.n);
}

Test(downloads, answers_land_in_request_order)
{
    struct batch b = { 0 };

    /* The first request finishes last: completion order is the reverse of request order. */
    add_path(&b, "/delay/400?tag=0");
    add_path(&b, "/delay/250?tag=1");
    add_path(&b, "/delay/100?tag=2");
    add_path(&b, "/delay/0?tag=3");
    run_batch(&b);
    cr_assert_eq(b.rc, 0, "[return-code] download_concurrent returned %d (%s); every download "
                 "should have succeeded.", b.rc, strerror(-b.rc));
    expect_in_order(&b);
    downloads_free(b.d, b.n);
}

Test(downloads, every_task_joined_after_an_error)
{
    struct batch b = { 0 };
    size_t running = 0;

    /* The first download fails at once; the others take a while. */
    add_url(&b, REFUSED_URL);
    add_delays(&b, 3, 300);
    run_batch(&b);
    for (size_t i = 0; i < b.n; i++)
        running += !b.done_at_return[i];
    cr_assert_eq(running, 0, "[never-joined] download_concurrent returned while %zu of %zu "
                 "downloads were still running. A task you spawn must be joined before you "
                 "return, on the error path too: keep the first error and go on joining the "
                 "rest.", running, b.n);
    cr_assert(b.d[0].rc < 0, "[first-error] d[0] (%s) should have failed, but its rc is %d.",
              b.url[0], b.d[0].rc);
    cr_assert_eq(b.rc, b.d[0].rc, "[first-error] download_concurrent returned %d; expected "
                 "the first error in request order, d[0].rc = %d.", b.rc, b.d[0].rc);
    for (size_t i = 1; i < b.n; i++)
        cr_assert_eq(b.d[i].resp.status, 200, "[error-isolation] d[%zu].resp.status is %ld, "
                     "expected 200: one failed download must not stop the others.",
                     i, b.d[i].resp.status);
    downloads_free(b.d, b.n);
}

Test(downloads, an_empty_batch_is_fine)
{
    struct batch b = { 0 };

    run_batch(&b);
    cr_assert_eq(b.rc, 0, "[empty-batch] download_concurrent(..., n = 0, ...) returned %d (%s); "
                 "nothing to do is not an error: return 0.", b.rc, strerror(-b.rc));
}

/* ---- debug mode: asyncio warns about a coroutine never awaited; aio about a task never
 * joined. Each run happens in a forked child with AIO_DEBUG=1 and stderr sent to a file. --- */

/* A task that is spawned and then forgotten: the calibration for debug mode. */
static int quick_task(void *arg)
{
    (void)arg;
    return aio_sleep(10);
}

static int forget_a_task(void *arg)
{
    (void)arg;
    return aio_spawn(quick_task, NULL) != NULL ? 0 : -ENOMEM;
}

/* The batch again, telling the parent through the exit status whether it was the stub. */
static int debug_batch_main(void *arg)
{
    struct batch *b = arg;

    batch_main(b);
    return b->rc == -ENOSYS ? -ENOSYS : 0;
}

/* Run fn(arg) with AIO_DEBUG=1 in a child; copy what it wrote to stderr into log. Returns the
 * child's exit status: 0, or 3 when fn returned -ENOSYS. */
static int run_in_debug_child(aio_fn fn, void *arg, char *log, size_t cap)
{
    FILE *f = tmpfile();
    size_t got;
    pid_t pid;
    int status;

    cr_assert_not_null(f, "[harness] tmpfile() failed: %s", strerror(errno));
    fflush(stderr);
    pid = fork();
    cr_assert_neq(pid, -1, "[harness] fork() failed: %s", strerror(errno));
    if (pid == 0) {
        setenv("AIO_DEBUG", "1", 1);
        dup2(fileno(f), STDERR_FILENO);
        int rc = aio_run(fn, arg);
        /* _exit, not exit: the server belongs to the parent, and its atexit handler would
         * stop it. */
        _exit(rc == -ENOSYS ? 3 : 0);
    }
    cr_assert_eq(waitpid(pid, &status, 0), pid, "[harness] waitpid() failed");
    rewind(f);
    got = fread(log, 1, cap - 1, f);
    log[got] = '\0';
    fclose(f);
    cr_assert(WIFEXITED(status), "[crash] the debug-mode run died from signal %d. What it "
              "printed:\n%s", WIFSIGNALED(status) ? WTERMSIG(status) : 0, log);
    return WEXITSTATUS(status);
}

Test(downloads, debug_mode_finds_no_task_left_unjoined)
{
    static char log[LOG_MAX];
    struct batch b = { 0 };

    run_in_debug_child(forget_a_task, NULL, log, sizeof log);
    cr_assert_not_null(strstr(log, "never joined"), "[harness] AIO_DEBUG=1 did not report a "
                       "task that was spawned and never joined, so this test cannot see that "
                       "mistake. The runtime printed:\n%s", log);

    add_url(&b, REFUSED_URL);
    add_delays(&b, 3, 200);
    cr_assert_neq(run_in_debug_child(debug_batch_main, &b, log, sizeof log), 3, "[not-done] "
                  "download_concurrent still returns -ENOSYS: it is the skeleton's stub. Start "
                  "at TODO 1 in downloads.c.");
    cr_assert_null(strstr(log, "never joined"), "[never-joined] with AIO_DEBUG=1 the runtime "
                   "reported tasks that finished but were never joined (asyncio's \"coroutine "
                   "was never awaited\"). download_concurrent must join every task it "
                   "spawned, also after one fails. The runtime printed:\n%s", log);
}
