/* Lesson 02 tests, shared helpers (see support.h). loop_run() runs in a forked child so that a
 * loop that never returns is caught by our own watchdog, with a diagnostic, instead of by
 * Criterion's timeout. */
#include "support.h"
#include "kit.h"
#include "kit_test.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


/* ---- counting poll(), ppoll() and epoll_wait() (the binary links with -Wl,--wrap=...) ---- */

static struct poll_log *plog; /* set in the child only: the parent's own waits do not count */

/* Milliseconds on CLOCK_MONOTONIC, as loop_base.c's clock_ms() counts them. */
static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Log a call before it is made (a poll() that never returns is still in the log); returns its
 * slot, or -1. */
static long log_call(int timeout)
{
    long k;

    if (plog == NULL)
        return -1;
    k = plog->calls++;
    plog->zero += timeout == 0;
    if (k >= MAX_POLLS)
        return -1;
    plog->at[k] = now_ms();
    plog->timeout[k] = timeout;
    plog->result[k] = 0;
    return k;
}

/* ... and what it returned, keeping errno for the caller. */
static int log_result(long k, int rc)
{
    int saved = errno;

    if (plog != NULL && rc < 0 && saved == EINTR)
        plog->eintr++;
    if (k >= 0) {
        plog->end[k] = now_ms();
        plog->result[k] = rc < 0 ? -saved : rc;
    }
    errno = saved;
    return rc;
}

int __real_poll(struct pollfd *fds, nfds_t n, int timeout);
int __real_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask);
int __real_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout);

long fail_polls; /* the next N calls of poll(), ppoll() or epoll_wait() fail with ENOMEM */

/* A failure on demand, logged like a real call. */
static int failed_call(long k)
{
    fail_polls--;
    errno = ENOMEM;
    return log_result(k, -1);
}

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
    long k = log_call(timeout);

    if (fail_polls > 0)
        return failed_call(k);
    return log_result(k, __real_poll(fds, n, timeout));
}

int __wrap_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask)
{
    int ms = t == NULL ? -1 : (int)(t->tv_sec > 2000000 ? 2000000000 : t->tv_sec * 1000 +
                                    (t->tv_nsec + 999999) / 1000000);
    long k = log_call(ms);

    if (fail_polls > 0)
        return failed_call(k);
    return log_result(k, __real_ppoll(fds, n, t, mask));
}

int __wrap_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout)
{
    long k = log_call(timeout);

    if (fail_polls > 0)
        return failed_call(k);
    return log_result(k, __real_epoll_wait(epfd, events, max, timeout));
}

/* ---- realloc() that fails on demand (out-of-memory tests) --------------------------------- */

long fail_reallocs; /* the next N calls fail */

void *__real_realloc(void *p, size_t size);
void *__wrap_realloc(void *p, size_t size);

void *__wrap_realloc(void *p, size_t size)
{
    if (fail_reallocs > 0) {
        fail_reallocs--;
        errno = ENOMEM;
        return NULL;
    }
    return __real_realloc(p, size);
}

/* ---- shared memory and records ------------------------------------------------------------ */

void *shared_alloc(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    cr_assert_neq(p, MAP_FAILED, "[setup] mmap of %zu shared bytes failed: %s", size,
                  strerror(errno));
    return p; /* mmap gives zeroed pages */
}

void shared_free(void *p, size_t size)
{
    if (p != NULL)
        munmap(p, size);
}

struct shm {
    void *p;
    size_t size;
};

static void shm_release(void *arg)
{
    struct shm *m = arg;

    shared_free(m->p, m->size);
}

void *shared_alloc_deferred(size_t size)
{
    struct shm *m = kit_alloc(sizeof *m);

    m->p = shared_alloc(size);
    m->size = size;
    kit_defer(shm_release, m);
    return m->p;
}

static void close_loop(void *loop)
{
    loop_close(loop);
}

void open_loop(struct loop *loop)
{
    cr_assert_eq(loop_init(loop), 0, "[setup] loop_init failed");
    kit_defer(close_loop, loop);
}

void record_event(struct record *rec, struct loop *loop, int who)
{
    /* In the child an assert would report from the wrong process; drop extras instead and
     * let the count tell the test (the test checks n against what it expected). */
    if (rec->n < MAX_EVENTS) {
        rec->who[rec->n] = who;
        rec->at[rec->n] = loop_now(loop);
    }
    rec->n++;
}

/* ---- the child and its watchdog ----------------------------------------------------------- */

/* The child's SIGUSR1 handler: it only counts, so that poll() returns -1 with EINTR. */
static void on_sigusr1(int sig)
{
    (void)sig;
    if (plog != NULL)
        plog->signals++;
}

/* ASan's count of bytes malloc'd and not yet freed (weak: absent without the sanitizer). */
size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

static size_t allocated_bytes(void)
{
    return __sanitizer_get_current_allocated_bytes != NULL
               ? __sanitizer_get_current_allocated_bytes() : 0;
}

/* In the child: run the loop, measure it, close it, check for leaks, report through shared
 * memory, and leave with _exit() so that nothing of the test process (stdio buffers, atexit
 * handlers, LeakSanitizer's exit-time check) runs twice.
 *
 * The leak check: LeakSanitizer in a forked child cannot suspend the thread its registry
 * knows (that is the parent's thread id), so it does not scan this thread's stack and
 * registers: alone, it can report memory that is in fact still pointed to ("Running thread
 * ... was not suspended. False leaks are possible."). So the verdict needs two witnesses:
 * ASan's count of bytes in use is higher after loop_close() than it was before loop_run(),
 * not counting the loop's arrays (the loop kept memory), and LeakSanitizer finds that memory unreachable. The count alone cannot be
 * wrong about the growth, and LeakSanitizer is asked only then, so a correct loop never sees
 * its report, false or not. */
static void child_run(struct loop *loop, struct run_report *shared)
{
    /* What the process holds apart from the loop's own arrays (exactly cap * size bytes
     * each, as loop_base.c allocates them), which loop_close() frees. */
    size_t before = allocated_bytes() - loop->heap_cap * sizeof *loop->heap -
                    loop->pfds_cap * (sizeof *loop->pfds + sizeof *loop->watches);
    double wall = kit_wall();
    double cpu = kit_cpu();
    int rc;

    shared->log.start = now_ms();
    rc = loop_run(loop);
    __atomic_store_n(&shared->returned, true, __ATOMIC_SEQ_CST);
    shared->wall_s = kit_wall() - wall;
    shared->cpu_s = kit_cpu() - cpu;
    shared->rc = rc;
    loop_close(loop);
    shared->leaked = allocated_bytes() > before && kit_leaked();
    shared->finished = true;
    _exit(0);
}

/* Wait for pid at most limit_s seconds, sending the signals asked for. Returns true with
 * *status filled if it ended. */
static bool wait_until(pid_t pid, double limit_s, const struct signals *sig,
                       const bool *returned, int *status)
{
    bool extended = false;
    const struct timespec tick = { 0, 2 * 1000 * 1000 }; /* 2 ms between looks */
    double start = kit_wall(), end = start + limit_s, prev = start, stalled = 0;
    long sent = 0;

    for (;;) {
        pid_t got = waitpid(pid, status, WNOHANG);
        double now = kit_wall();

        /* A look that came more than 50 ms after the one before means this process was not
         * running: on a crowded machine the child was most likely waiting for a core too.
         * That time does not count against the loop (up to 5 s in all), so that a verdict
         * of [stuck] or [never-returns] does not depend on the machine's load. */
        if (now - prev > 0.05 && stalled < 5.0) {
            stalled += now - prev;
            end += now - prev;
        }
        prev = now;

        if (got == pid)
            return true;
        if (got < 0 && errno != EINTR)
            return true; /* nothing to wait for: treat as ended */
        /* Once loop_run has returned, the limit is the leak check's: LeakSanitizer may take
         * a second or more on a crowded machine, and it is not the loop's time. */
        if (!extended && __atomic_load_n(returned, __ATOMIC_SEQ_CST)) {
            extended = true;
            end = now + 20.0;
        }
        if (now >= end)
            return false;
        if (sig != NULL && sent < sig->count &&
            now - start >= (sig->first_ms + sent * sig->every_ms) / 1000.0) {
            kill(pid, SIGUSR1);
            sent++;
        }
        nanosleep(&tick, NULL);
    }
}

void run_loop_signalled(struct loop *loop, double limit_s, const struct signals *sig,
                        struct run_report *out)
{
    struct run_report *shared = shared_alloc_deferred(sizeof *shared);
    struct sigaction sa = { .sa_handler = on_sigusr1 }; /* no SA_RESTART */
    int status = 0;
    pid_t pid;

    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0, "[setup] sigaction failed: %s",
                 strerror(errno));
    fflush(NULL); /* nothing buffered may be written twice */
    pid = fork();
    cr_assert_geq(pid, 0, "[setup] fork failed: %s", strerror(errno));
    if (pid == 0) {
        plog = &shared->log;
        child_run(loop, shared);
    }
    *out = (struct run_report){ 0 };
    if (!wait_until(pid, limit_s, sig, &shared->returned, &status)) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        out->timed_out = true;
    }
    if (!out->timed_out && shared->finished)
        *out = *shared;
    out->log = shared->log; /* kept even when the watchdog killed the child */
    out->polls = shared->log.calls;
    out->status = status;
}

void run_loop(struct loop *loop, double limit_s, struct run_report *out)
{
    run_loop_signalled(loop, limit_s, NULL, out);
}

const char *poll_timeouts(const struct run_report *r, char *buf, size_t len)
{
    long n = r->polls < 8 ? r->polls : 8;
    size_t used = 0;

    buf[0] = '\0';
    if (n == 0)
        return "none: poll() was never called";
    for (long k = 0; k < n && used < len; k++)
        used += (size_t)snprintf(buf + used, len - used, "%s%d", k ? ", " : "",
                                 r->log.timeout[k]);
    if (used < len)
        snprintf(buf + used, len - used, "%s ms", n < r->polls ? ", ..." : "");
    return buf;
}

void expect_no_oversleep(const struct run_report *r, uint64_t last, const char *what)
{
    long n = r->polls < MAX_POLLS ? r->polls : MAX_POLLS;
    char buf[120];

    for (long k = 0; k < n; k++) {
        uint64_t from = k == 0 ? r->log.start : r->log.end[k - 1];
        long most = from >= last ? 0 : (long)(last - from);
        int t = r->log.timeout[k];

        cr_assert(t >= 0 && t <= most + 1, "[oversleep] %s: the loop called poll() with a "
                  "timeout of %d ms when its last timer was due in at most %ld ms (timeouts: "
                  "%s). Sleep until the first deadline, in ms, and no longer: a timeout "
                  "rounded up (to seconds, say), or -1 while timers are pending, makes them "
                  "late.", what, t, most, poll_timeouts(r, buf, sizeof buf));
    }
}

void expect_sleeps(const struct run_report *r, long max_polls, const char *waited)
{
    char buf[120];

    if (r->polls <= max_polls)
        return;
    if (r->log.zero > max_polls / 2)
        cr_assert_fail("[busy-loop] while it waited %s, the loop called poll() %ld times, %ld "
                       "of them with a timeout of 0 (return at once), and used %.2f s of CPU in "
                       "%.2f s: it checks again and again instead of sleeping in poll(); "
                       "expected at most %ld %s. poll()'s timeout must be the time left until "
                       "the first deadline, or -1 with no timer pending.", waited, r->polls,
                       r->log.zero, r->cpu_s, r->wall_s, max_polls,
                       kit_plural(max_polls, "call", "calls"));
    cr_assert_fail("[idle-wakeups] while it waited %s, the loop woke up %ld times (poll() "
                   "timeouts: %s); expected at most %ld %s. Nothing was due in between: sleep "
                   "until the first deadline, or with -1 when no timer is pending, instead of "
                   "waking up every so often to look.", waited, r->polls,
                   poll_timeouts(r, buf, sizeof buf), max_polls,
                   kit_plural(max_polls, "wake-up", "wake-ups"));
}

/* ---- common verdicts ---------------------------------------------------------------------- */

void expect_done(long rc, const char *call, const char *todo)
{
    cr_assert_neq(rc, -ENOSYS, "[not-done] %s returned -ENOSYS, the skeleton's stub. Write %s in "
                  "loop.c (and `make hint-02` if stuck).", call, todo);
}

static void describe_death(int status, char *buf, size_t len)
{
    if (WIFSIGNALED(status))
        snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else if (WIFEXITED(status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else
        snprintf(buf, len, "ended with wait status %#x", (unsigned)status);
}

/* The timeout of the last poll() call the log kept, or a phrase when there was none. */
static const char *last_timeout(const struct run_report *r, char *buf, size_t len)
{
    long k = (r->polls < MAX_POLLS ? r->polls : MAX_POLLS) - 1;

    if (r->polls == 0)
        return "poll() was never called";
    if (r->polls > MAX_POLLS)
        snprintf(buf, len, "poll() was called %ld times", r->polls);
    else
        snprintf(buf, len, "its last poll() had a timeout of %d ms", r->log.timeout[k]);
    return buf;
}

void expect_clean_return(const struct run_report *r, long ran, long expected, const char *what)
{
    char death[96], last[64];

    if (r->timed_out && ran < expected && r->polls > 0 && r->polls <= MAX_POLLS &&
        r->log.timeout[r->polls - 1] < 0)
        cr_assert_fail("[stuck] %s: loop_run was still running after %.1f s, and only %ld of "
                       "%ld %s had run: its last poll() had no time limit (%d) although timers "
                       "were still pending. Either they are no longer in the heap (lost when "
                       "it grew, or in a sift), or the timeout was computed wrongly.", what,
                       RUN_LIMIT_S, ran, expected, kit_plural(expected, "callback", "callbacks"),
                       r->log.timeout[r->polls - 1]);
    if (r->timed_out && ran < expected)
        cr_assert_fail("[stuck] %s: loop_run was still running after %.1f s, and only %ld of "
                       "%ld %s had run (%s). A pending timer must bound poll()'s timeout "
                       "(never negative, never from a stale clock), and loop->now must be "
                       "refreshed every pass so that the timer becomes due.", what, RUN_LIMIT_S,
                       ran, expected, kit_plural(expected, "callback", "callbacks"),
                       last_timeout(r, last, sizeof last));
    if (r->timed_out)
        cr_assert_fail("[never-returns] %s: %s %ld %s had run, but loop_run was still "
                       "running %.1f s later. When no timer is pending and no descriptor is "
                       "watched, loop_run must return 0 instead of calling poll() again.",
                       what, ran == 1 ? "the" : "all", ran,
                       kit_plural(ran, "callback", "callbacks"), RUN_LIMIT_S);
    if (!r->finished) {
        describe_death(r->status, death, sizeof death);
        cr_assert_fail("[crashed] %s: the process running loop_run %s before it returned. If "
                       "a sanitizer report is printed above, its first `loop.c` line is the "
                       "place.", what, death);
    }
    expect_done(r->rc, "loop_run", "loop_run (TODO 7) and the helpers it calls");
    cr_assert_neq(r->rc, -EINTR, "[eintr-error] %s: loop_run returned -EINTR after a signal "
                  "interrupted poll() (%ld %s arrived). A signal is not an error: poll() "
                  "returns -1 with errno EINTR, and the loop must simply go round again.",
                  what, r->log.signals, kit_plural(r->log.signals, "signal", "signals"));
    cr_assert_eq(r->rc, 0, "[run-error] %s: loop_run returned %s; expected 0 once nothing is "
                 "left to do.", what, kit_errname(r->rc));
    cr_assert_not(r->leaked, "[memory-leak] %s: after loop_run returned and loop_close freed "
                  "the loop, the process that ran the loop still held memory that nothing "
                  "points to. LeakSanitizer's report, above in the full log, says where it was "
                  "allocated (its line \"Running thread ... was not suspended\" comes from the "
                  "test's fork: ignore it). Whatever loop_run or its helpers allocate, they "
                  "must free.", what);
}

/* ---- pipes and writers -------------------------------------------------------------------- */

/* arg points at the descriptor, which the test may have closed and set to -1 since. */
static void close_fd(void *arg)
{
    int *fd = arg;

    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void make_pipe(int fds[2])
{
    cr_assert_eq(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0, "[setup] pipe2 failed: %s",
                 strerror(errno));
    kit_defer(close_fd, &fds[0]);
    kit_defer(close_fd, &fds[1]);
}

static void reap_deferred(void *arg)
{
    reap((int)(intptr_t)arg);
}

int spawn_writer(int fd, long delay_ms, char byte)
{
    pid_t pid;

    fflush(NULL);
    pid = fork();
    cr_assert_geq(pid, 0, "[setup] fork failed: %s", strerror(errno));
    if (pid == 0) {
        struct timespec d = { delay_ms / 1000, (delay_ms % 1000) * 1000 * 1000 };

        while (nanosleep(&d, &d) != 0 && errno == EINTR)
            continue;
        _exit(write(fd, &byte, 1) == 1 ? 0 : 1);
    }
    kit_defer(reap_deferred, (void *)(intptr_t)pid);
    return pid;
}

void reap(int pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        continue;
}
