/* Lesson 02 tests, shared helpers (see support.h). loop_run() runs in a forked child so that a
 * loop that never returns is caught by our own watchdog, with a diagnostic, instead of by
 * Criterion's timeout. */
#include "support.h"
#include "kit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


/* ---- counting poll() and epoll_wait() (the test binary links with -Wl,--wrap=...) -------- */

static long n_polls;

int __real_poll(struct pollfd *fds, nfds_t n, int timeout);
int __real_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout);

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
    n_polls++;
    return __real_poll(fds, n, timeout);
}

int __wrap_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout)
{
    n_polls++;
    return __real_epoll_wait(epfd, events, max, timeout);
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

/* In the child: run the loop, measure it, tidy up, report through shared memory, and leave
 * with _exit() so that nothing of the test process (stdio buffers, atexit handlers) runs
 * twice. */
static void child_run(struct loop *loop, struct run_report *shared)
{
    double wall = kit_wall();
    double cpu = kit_cpu();
    int rc;

    n_polls = 0;
    rc = loop_run(loop);
    shared->wall_s = kit_wall() - wall;
    shared->cpu_s = kit_cpu() - cpu;
    shared->polls = n_polls;
    shared->rc = rc;
    loop_close(loop);
    shared->finished = true;
    _exit(0);
}

/* Wait for pid at most limit_s seconds. Returns true with *status filled if it ended. */
static bool wait_until(pid_t pid, double limit_s, int *status)
{
    const struct timespec tick = { 0, 2 * 1000 * 1000 }; /* 2 ms between looks */
    double end = kit_wall() + limit_s;

    for (;;) {
        pid_t got = waitpid(pid, status, WNOHANG);

        if (got == pid)
            return true;
        if (got < 0 && errno != EINTR)
            return true; /* nothing to wait for: treat as ended */
        if (kit_wall() >= end)
            return false;
        nanosleep(&tick, NULL);
    }
}

void run_loop(struct loop *loop, double limit_s, struct run_report *out)
{
    struct run_report *shared = shared_alloc(sizeof *shared);
    int status = 0;
    pid_t pid;

    fflush(NULL); /* nothing buffered may be written twice */
    pid = fork();
    cr_assert_geq(pid, 0, "[setup] fork failed: %s", strerror(errno));
    if (pid == 0)
        child_run(loop, shared);
    *out = (struct run_report){ 0 };
    if (!wait_until(pid, limit_s, &status)) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        out->timed_out = true;
    }
    if (!out->timed_out && shared->finished)
        *out = *shared;
    out->status = status;
    shared_free(shared, sizeof *shared);
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

void expect_clean_return(const struct run_report *r, long ran, long expected, const char *what)
{
    char death[96];

    if (r->timed_out && ran < expected)
        cr_assert_fail("[stuck] %s: loop_run was still running after %.1f s, and only %ld "
                       "of %ld callbacks had run. A pending timer must bound poll's timeout, "
                       "and loop->now must be refreshed every pass so that the timer becomes "
                       "due.", what, RUN_LIMIT_S, ran, expected);
    if (r->timed_out)
        cr_assert_fail("[never-returns] %s: all %ld callbacks had run, but loop_run was still "
                       "running %.1f s later. When no timer is pending and no descriptor is "
                       "watched, loop_run must return 0 instead of calling poll() again.",
                       what, ran, RUN_LIMIT_S);
    if (!r->finished) {
        describe_death(r->status, death, sizeof death);
        cr_assert_fail("[crashed] %s: the process running loop_run %s before it returned. If "
                       "a sanitizer report is printed above, its first `loop.c` line is the "
                       "place.", what, death);
    }
    expect_done(r->rc, "loop_run", "loop_run (TODO 7) and the helpers it calls");
    cr_assert_eq(r->rc, 0, "[run-error] %s: loop_run returned %d (%s); expected 0 once nothing "
                 "is left to do.", what, r->rc, strerror(-r->rc));
}

/* ---- pipes and writers -------------------------------------------------------------------- */

void make_pipe(int fds[2])
{
    cr_assert_eq(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0, "[setup] pipe2 failed: %s",
                 strerror(errno));
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
    return pid;
}

void reap(int pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        continue;
}
