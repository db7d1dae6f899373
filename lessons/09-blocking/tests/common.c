/* Lesson 09 tests: the checks both test files share. */
#include "common.h"
#include "counted.h"
#include "kit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kit_test.h"

const char *base;
static const char *scene_problem;

/* A sanitizer report ends the test's process at once; say what it most likely means here. */
static void on_sanitizer_death(void)
{
    fprintf(stderr, "[freed-under-thread] AddressSanitizer stopped the test (its report above "
            "says what and where). Here that is most often a thread's work outliving what it "
            "works on: a cancelled or timed-out call returns at once while its thread still "
            "runs, so whatever the thread reads or writes must stay alive until the last of "
            "the two is done with it, and be freed once, by that one.\n");
}

void setup(void)
{
    kit_on_asan_death(on_sanitizer_death);
    base = kit_server_start(NULL);
}

void teardown(void)
{
    gate_open(GATE_DIGEST | GATE_WRITE);
    atomic_store(&watching, 0);
    kit_cleanup();
    kit_server_stop();
}

static void free_ledger(void *p)
{
    ledger_free(p);
}

static void fini_batch(void *p)
{
    batch_fini(p);
}

static int scene_main(void *arg)
{
    struct scene *s = arg;
    int rc = s->steps(s);
    gate_open(GATE_DIGEST | GATE_WRITE);
    /* Work abandoned on a thread is still an operation of the loop until the loop has taken
     * it back: wait for that, so that what is left at the end is really left. */
    struct aio_counts c = { 0 };
    struct kit_wait w = { .what = "the threads' work to come back" };
    kit_wait_until(&w, aio_counts(&c) == 0 && c.operations == 0, __real_aio_sleep(1));
    return rc;
}

void run_scene(struct scene *s)
{
    s->lg = ledger_new(s->ids, s->write_ms);
    cr_assert(s->lg != NULL, "[harness] ledger_new failed");
    kit_defer(free_ledger, s->lg);
    cr_assert_eq(batch_init(&s->b, s->cap, s->rounds, s->lg), 0, "[harness] batch_init failed");
    kit_defer(fini_batch, &s->b);
    counted_reset();
    to_thread_fail_at = s->fail_at;
    atomic_store(&expect_rounds, s->rounds);

    int saved = -1, fd = -1;
    if (s->debug) {
        char path[] = "/tmp/lesson09-debug-XXXXXX";
        fd = mkstemp(path);
        cr_assert(fd >= 0, "[harness] no temporary file for debug mode's report");
        unlink(path);
        fflush(stderr);
        saved = dup(2);
        dup2(fd, 2);
        setenv("AIO_DEBUG", "1", 1);
    }
    atomic_store(&watching, 1);
    s->loop_rc = aio_run(scene_main, s);
    atomic_store(&watching, 0);
    if (s->debug) {
        fflush(stderr);
        unsetenv("AIO_DEBUG");
        dup2(saved, 2);
        close(saved);
        ssize_t k = pread(fd, s->report, sizeof s->report - 1, 0);
        s->report[k > 0 ? k : 0] = '\0';
        close(fd);
    }
    cr_assert_eq(s->loop_rc, 0, "[deadlock] the test's loop ended with %s: every task was "
                 "waiting and nothing could wake any of them.", kit_errname(s->loop_rc));
    scene_problem = s->problem;
}

int until_count(atomic_long *v, long k)
{
    struct kit_wait w = { .what = "a count" };
    kit_wait_until(&w, atomic_load(v) >= k, __real_aio_sleep(1));
    return w.met;
}

int until_started(atomic_long *v, long k, aio_task *t)
{
    struct kit_wait w = { .what = "work to start" };
    kit_wait_until(&w, atomic_load(v) >= k || aio_done(t), __real_aio_sleep(1));
    return atomic_load(v) >= k;
}

int until_done(aio_task *t)
{
    struct kit_wait w = { .what = "a task's end" };
    kit_wait_until(&w, aio_done(t), __real_aio_sleep(1));
    return w.met;
}

void expect_off_the_loop(const char *func)
{
    cr_assert(scene_problem == NULL, "%s", scene_problem ? scene_problem : "");
    long d = atomic_load(&loop_digests), wr = atomic_load(&loop_writes);
    long sl = atomic_load(&loop_sleeps), ez = atomic_load(&loop_easy);

    cr_assert_eq(d, 0, "[cpu-on-loop] %s ran %ld %s on the loop's own thread: while a digest "
                 "computes there, no other task runs, no timer fires, no answer is read. CPU "
                 "work goes to a thread of the pool (aio_to_thread).", func, d,
                 kit_plural(d, "digest", "digests"));
    cr_assert_eq(wr, 0, "[write-on-loop] %s called ledger_write %ld %s on the loop's own thread: "
                 "it blocks for its whole commit, and every task waits with it. A library "
                 "that only blocks goes to a thread of the pool (aio_to_thread).", func, wr,
                 kit_plural(wr, "time", "times"));
    cr_assert_eq(sl, 0, "[sleep-on-loop] sleep, usleep or nanosleep was called %ld %s on the "
                 "loop's own thread while %s ran: that stops every task, not only the caller. "
                 "A task waits with the runtime's calls.", sl, kit_plural(sl, "time", "times"),
                 func);
    cr_assert_eq(ez, 0, "[blocking-get] curl_easy_perform ran %ld %s on the loop's own thread "
                 "while %s ran: a blocking GET holds every task until its answer is in. The "
                 "GET has an async form: aio_http_get.", ez, kit_plural(ez, "time", "times"),
                 func);
    cr_assert_eq(to_thread_stack_args, 0, "[stack-job] %s handed aio_to_thread a pointer into "
                 "its own task's stack (a local), %ld %s. Cancelled or past its deadline, the "
                 "task returns at once and its stack is reused while the thread still works "
                 "on that memory: what a thread works on must live on the heap until the last "
                 "of the two is done with it.", func, to_thread_stack_args,
                 kit_plural(to_thread_stack_args, "time", "times"));
    long freed = atomic_load(&digest_body_freed);
    cr_assert_eq(freed, 0, "[borrowed-body] a digest on a thread came to read a body that had "
                 "already been freed (%ld %s): the caller frees its body as soon as %s returns, "
                 "and a digest abandoned by a cancelled task still runs after that. The thread "
                 "needs a copy of its own.", freed, kit_plural(freed, "time", "times"), func);
    long bad = atomic_load(&digest_bad_rounds);
    cr_assert_eq(bad, 0, "[job-garbage] %ld %s ran with another number of rounds than the "
                 "batch's %u: the thread read its job from memory that had been reused.",
                 bad, kit_plural(bad, "digest", "digests"), atomic_load(&expect_rounds));
    cr_assert_eq(polls, 0, "[polling] %s called aio_sleep, aio_yield or aio_park %ld %s: "
                 "nothing here needs a sleep or a poll; aio_to_thread and aio_http_get wait "
                 "for exactly what they wait for.", func, polls, kit_plural(polls, "time", "times"));
}

void expect_released(const char *func, struct scene *s)
{
    long dt = atomic_load(&digest_gate_timeouts), wt = atomic_load(&write_gate_timeouts);
    cr_assert(dt == 0 && wt == 0, "[waited-for-thread] the test could not open its gate for "
              "%.0f s (%ld digests, %ld writes waited there): the loop was held. Did %s wait "
              "for the thread's work with a blocking call (a join, a lock, a spin) instead of "
              "aio_to_thread?", GATE_S, dt, wt, func);
    cr_assert(sem_overflows == 0 && sem_releases <= sem_acquired, "[double-release] %ld %s "
              "released for %ld taken (%ld refused as one too many): %s gives back only the "
              "permit it took, once; one never taken (cancelled while queued) is never given "
              "back.", sem_releases, kit_plural(sem_releases, "permit was", "permits were"),
              sem_acquired, sem_overflows, func);
    int value = aio_sem_value(&s->b.cpu);
    cr_assert(value == s->cap && sem_releases == sem_acquired, "[permit-leak] after %s the "
              "batch has %d of its %d permits (%ld taken, %ld given back): a permit goes back "
              "on every way out, a cancellation, a deadline and a refusal included.", func,
              value, s->cap, sem_acquired, sem_releases);
    struct aio_counts c = { 0 };
    cr_assert_eq(aio_counts_at_end(&c), 0, "[harness] no loop ended");
    cr_assert(c.tasks + c.timers + c.descriptors + c.operations == 0, "[left-open] when the "
              "test's loop ended, %zu tasks, %zu timers, %zu descriptors and %zu operations "
              "were still open after %s.", c.tasks, c.timers, c.descriptors, c.operations, func);
    long started = atomic_load(&digests_started), ended = atomic_load(&digests_ended);
    long ws = atomic_load(&writes_started), we = atomic_load(&writes_ended);
    cr_assert(started == ended && ws == we, "[harness] %ld digests started and %ld ended, %ld "
              "writes started and %ld ended, by the loop's end", started, ended, ws, we);
}

void expect_write(const struct scene *s, size_t id, uint64_t d, int times, const char *why)
{
    uint64_t got = 0;
    int n = ledger_get(s->lg, id, &got);
    if (times == 0) {
        cr_assert_eq(n, 0, "[recorded-anyway] id %zu was written to the ledger %d %s; it "
                     "should not be: %s.", id, n, kit_plural(n, "time", "times"), why);
        return;
    }
    cr_assert_eq(n, times, "[write-lost] id %zu was written to the ledger %d %s, expected %d: "
                 "a write handed to a thread runs to its end and lands, once, even when its "
                 "task stops waiting for it.", id, n, kit_plural(n, "time", "times"), times);
    cr_assert_eq(got, d, "[wrong-digest] id %zu holds digest %016llx in the ledger, expected "
                 "%016llx.", id, (unsigned long long)got, (unsigned long long)d);
}

void expect_ledger(const struct scene *s, const uint64_t *digests, size_t n)
{
    for (size_t i = 0; i < n; i++)
        expect_write(s, i, digests[i], 1, "");
    long ws = atomic_load(&writes_started);
    cr_assert_eq(ws, (long)n, "[write-count] %ld ledger writes for %zu ids, expected one each.",
                 ws, n);
}
