/* aio's own tests, part two: descriptors (wait_fd), the thread pool (to_thread), and a loop
 * that sleeps instead of spinning while nothing is ready. */
#include "aio.h"
#include "kit.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(io, .fini = kit_fini_leaks, .timeout = 20);

struct pipe_pair {
    int fd[2];
};

static void nonblocking_pipe(struct pipe_pair *p)
{
    cr_assert_eq(pipe2(p->fd, O_NONBLOCK | O_CLOEXEC), 0);
}

/* ---- wait_fd ----------------------------------------------------------------------------- */

struct reader {
    struct pipe_pair *p;
    int woke;                   /* what aio_wait_fd returned */
    int written_before_wake;    /* the writer had written when the reader woke */
    int written;
    char got;
};

static int read_when_ready(void *arg)
{
    struct reader *r = arg;
    r->woke = aio_wait_fd(r->p->fd[0], AIO_READ, aio_now() + 5000);
    r->written_before_wake = r->written;
    if (r->woke > 0 && read(r->p->fd[0], &r->got, 1) != 1)
        r->got = '?';
    return 0;
}

static int pipe_scenario(void *arg)
{
    struct reader *r = arg;
    aio_task *t = aio_spawn(read_when_ready, r);
    aio_sleep(30);
    r->written = 1;
    cr_assert_eq(write(r->p->fd[1], "x", 1), 1);
    return aio_join(t, AIO_NEVER);
}

Test(io, wait_fd_wakes_when_a_pipe_has_data)
{
    struct pipe_pair p;
    nonblocking_pipe(&p);
    struct reader r = {.p = &p};
    cr_assert_eq(aio_run(pipe_scenario, &r), 0);
    cr_assert_eq(r.woke, AIO_READ, "[wait-fd] aio_wait_fd returned %d, expected AIO_READ", r.woke);
    cr_assert_eq(r.written_before_wake, 1, "[wait-fd-early] the reader woke before anything was "
                 "written to the pipe");
    cr_assert_eq(r.got, 'x');
    close(p.fd[0]);
    close(p.fd[1]);
}

static int wait_fd_cases(void *arg)
{
    struct pipe_pair *p = arg;
    int r = aio_wait_fd(p->fd[1], AIO_WRITE, aio_now() + 1000);
    cr_expect_eq(r, AIO_WRITE, "[wait-fd-write] an empty pipe's write end is writable; got %d", r);
    r = aio_wait_fd(p->fd[0], AIO_READ, aio_now() + 20);
    cr_expect_eq(r, -ETIMEDOUT, "[wait-fd-deadline] an empty pipe read with a 20 ms deadline "
                 "returned %d, expected -ETIMEDOUT", r);
    r = aio_wait_fd(p->fd[0], 0, aio_now() + 20);
    cr_expect_eq(r, -EINVAL, "[wait-fd-events] no events asked for should be -EINVAL; got %d", r);
    return 0;
}

Test(io, wait_fd_write_deadline_and_bad_events)
{
    struct pipe_pair p;
    nonblocking_pipe(&p);
    cr_assert_eq(aio_run(wait_fd_cases, &p), 0);
    close(p.fd[0]);
    close(p.fd[1]);
}

struct fd_victim {
    int fd;
    int first, second, cleaned;
};

static int wait_fd_victim(void *arg)
{
    struct fd_victim *v = arg;
    v->first = aio_wait_fd(v->fd, AIO_READ, AIO_NEVER);
    v->second = aio_wait_fd(v->fd, AIO_READ, AIO_NEVER);
    v->cleaned = 1;
    return v->first;
}

static int cancel_wait_fd(void *arg)
{
    aio_task *t = aio_spawn(wait_fd_victim, arg);
    aio_sleep(10);
    aio_cancel(t);
    return aio_join(t, AIO_NEVER);
}

Test(io, cancel_at_wait_fd)
{
    struct pipe_pair p;
    nonblocking_pipe(&p);
    struct fd_victim v = {.fd = p.fd[0]};
    int r = aio_run(cancel_wait_fd, &v);
    cr_assert_eq(v.first, -ECANCELED, "[cancel-wait-fd] the wait_fd of a cancelled task "
                 "returned %d, expected -ECANCELED", v.first);
    cr_assert_eq(v.second, -ECANCELED, "[cancel-level-wait-fd] the next wait_fd after the "
                 "cancellation returned %d: cancellation must stay in force", v.second);
    cr_assert_eq(v.cleaned, 1);
    cr_assert_eq(r, -ECANCELED);
    close(p.fd[0]);
    close(p.fd[1]);
}

/* ---- to_thread --------------------------------------------------------------------------- */

static atomic_int running_now, running_peak, finished;

/* Blocking work: sleep for real (this is what must never run on the loop). */
static int blocking_sleep(void *arg)
{
    int now = atomic_fetch_add(&running_now, 1) + 1;
    int peak = atomic_load(&running_peak);
    while (now > peak && !atomic_compare_exchange_weak(&running_peak, &peak, now))
        continue;
    usleep((useconds_t)(intptr_t)arg * 1000);
    atomic_fetch_sub(&running_now, 1);
    atomic_fetch_add(&finished, 1);
    return 7;
}

struct ticker {
    int ticks;
    int stop;
};

static int tick(void *arg)
{
    struct ticker *k = arg;
    while (!k->stop) {
        aio_sleep(10);
        k->ticks++;
    }
    return 0;
}

static int thread_keeps_loop_going(void *arg)
{
    struct ticker *k = arg;
    aio_task *t = aio_spawn(tick, k);
    int r = aio_to_thread(blocking_sleep, (void *)300, AIO_NEVER);
    k->stop = 1;
    aio_join(t, AIO_NEVER);
    return r;
}

Test(io, to_thread_does_not_block_the_loop)
{
    struct ticker k = {0};
    int r = aio_run(thread_keeps_loop_going, &k);
    cr_assert_eq(r, 7, "[to-thread-result] aio_to_thread returned %d, expected fn's 7", r);
    /* 300 ms of blocking work, a tick every 10 ms: about 30 ticks; 5 is a wide margin. */
    cr_assert_geq(k.ticks, 5, "[to-thread-blocks] a ticker task ticked %d times while a thread "
                  "slept 300 ms; expected about 30. The work ran on the loop, not a thread.",
                  k.ticks);
}

static int offload(void *arg)
{
    return aio_to_thread(blocking_sleep, arg, AIO_NEVER);
}

static int eight_jobs(void *arg)
{
    (void)arg;
    aio_task *t[8];
    for (int i = 0; i < 8; i++)
        t[i] = aio_spawn(offload, (void *)100);
    int sum = 0;
    for (int i = 0; i < 8; i++)
        sum += aio_join(t[i], AIO_NEVER);
    return sum;
}

Test(io, the_pool_runs_four_jobs_at_once)
{
    cr_assert_eq(aio_run(eight_jobs, NULL), 8 * 7);
    cr_assert_eq(atomic_load(&running_peak), 4, "[pool-size] %d jobs ran at once at most; the "
                 "pool has 4 threads and 8 jobs were queued", atomic_load(&running_peak));
}

struct thread_victim {
    int first, second, finished_at_cancel;
};

static int to_thread_victim(void *arg)
{
    struct thread_victim *v = arg;
    v->first = aio_to_thread(blocking_sleep, (void *)200, AIO_NEVER);
    v->finished_at_cancel = atomic_load(&finished);
    v->second = aio_to_thread(blocking_sleep, (void *)200, AIO_NEVER);
    return v->first;
}

static int cancel_to_thread(void *arg)
{
    aio_task *t = aio_spawn(to_thread_victim, arg);
    aio_sleep(20);
    aio_cancel(t);
    return aio_join(t, AIO_NEVER);
}

Test(io, cancel_at_to_thread)
{
    struct thread_victim v = {0};
    int r = aio_run(cancel_to_thread, &v);
    cr_assert_eq(v.first, -ECANCELED, "[cancel-to-thread] to_thread in a cancelled task "
                 "returned %d, expected -ECANCELED", v.first);
    cr_assert_eq(v.finished_at_cancel, 0, "[cancel-to-thread-wait] to_thread returned only "
                 "after the thread's work had finished; a cancelled wait should return at once");
    cr_assert_eq(v.second, -ECANCELED, "[cancel-level-to-thread] the next to_thread after the "
                 "cancellation returned %d", v.second);
    cr_assert_eq(r, -ECANCELED);
    /* Both jobs ran, the second one handed over by a task cancelled already: once called,
     * fn runs exactly once, so -ECANCELED never leaves the caller guessing. */
    cr_assert_eq(atomic_load(&finished), 2, "[to-thread-abandoned] the abandoned work, and the "
                 "work handed over after the cancellation, should both run to their end before "
                 "aio_run returns (finished %d of 2)", atomic_load(&finished));
}

static int to_thread_deadline(void *arg)
{
    (void)arg;
    return aio_to_thread(blocking_sleep, (void *)200, aio_now() + 20);
}

Test(io, to_thread_deadline)
{
    int r = aio_run(to_thread_deadline, NULL);
    cr_assert_eq(r, -ETIMEDOUT, "[to-thread-deadline] a 20 ms deadline on 200 ms of work gave %d",
                 r);
}

/* ---- an idle loop sleeps ----------------------------------------------------------------- */

static int sleep_300(void *arg)
{
    (void)arg;
    return aio_sleep(300);
}

static int idle_waits(void *arg)
{
    struct pipe_pair *p = arg;
    aio_task *t = aio_spawn(sleep_300, NULL);
    int r = aio_wait_fd(p->fd[0], AIO_READ, aio_now() + 300);
    aio_join(t, AIO_NEVER);
    return r;
}

Test(io, an_idle_loop_does_not_spin)
{
    struct pipe_pair p;
    nonblocking_pipe(&p);
    double wall0 = kit_wall(), cpu0 = kit_cpu();
    int r = aio_run(idle_waits, &p);
    double wall = kit_wall() - wall0, cpu = kit_cpu() - cpu0;
    cr_assert_eq(r, -ETIMEDOUT);
    /* Waiting 300 ms on a timer and a pipe costs microseconds of CPU; a spinning loop costs
     * about the whole 300 ms. A quarter is a wide margin for a noisy machine. */
    cr_assert_lt(cpu, 0.25 * wall, "[busy-loop] the loop used %.0f ms of CPU in %.0f ms while "
                 "every task was waiting; it should sleep in the poller until the next timer",
                 cpu * 1e3, wall * 1e3);
    close(p.fd[0]);
    close(p.fd[1]);
}

/* ---- the poller's failures: EINTR is waited out, anything else stops the program --------- */

static atomic_int signals_caught;

static void count_signal(int sig)
{
    (void)sig;
    atomic_fetch_add(&signals_caught, 1);
}

struct storm {
    int slept;                  /* what aio_sleep(300) returned */
    int waited;                 /* what the pipe wait returned */
    double wall, cpu;
};

static int sleep_through_a_storm(void *arg)
{
    struct storm *s = arg;
    struct pipe_pair p;
    nonblocking_pipe(&p);
    double w0 = kit_wall(), c0 = kit_cpu();
    /* A watched descriptor too, so the loop waits in the poller with descriptors and a
     * timer, the usual case. */
    s->waited = aio_wait_fd(p.fd[0], AIO_READ, aio_now() + 150);
    s->slept = aio_sleep(150);
    s->wall = kit_wall() - w0;
    s->cpu = kit_cpu() - c0;
    close(p.fd[0]);
    close(p.fd[1]);
    return 0;
}

Test(io, a_signal_storm_neither_spins_nor_delays_a_deadline)
{
    struct sigaction sa = {.sa_handler = count_signal};     /* no SA_RESTART */
    cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval every_ms = {.it_interval = {0, 1000}, .it_value = {0, 1000}};
    cr_assert_eq(setitimer(ITIMER_REAL, &every_ms, NULL), 0);
    struct storm s = {0};
    int r = aio_run(sleep_through_a_storm, &s);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    int caught = atomic_load(&signals_caught);
    cr_assert_eq(r, 0);
    cr_assert_geq(caught, 30, "[storm-witness] only %d signals arrived in %.0f ms; the test "
                  "needs a storm to mean anything", caught, s.wall * 1e3);
    cr_assert_eq(s.waited, -ETIMEDOUT, "[storm-fd] a pipe wait with a 150 ms deadline returned "
                 "%d during a signal storm; expected -ETIMEDOUT (an interrupted wait is not an "
                 "event)", s.waited);
    cr_assert_eq(s.slept, 0, "[storm-sleep] aio_sleep(150) returned %d during a signal storm",
                 s.slept);
    cr_assert_geq(s.wall, 0.299, "[storm-early] two 150 ms waits ended after %.0f ms",
                  s.wall * 1e3);
    /* Each interrupted wait must wait again for what is left, counted from a fresh clock:
     * restarting the full wait after every signal would never end, and ignoring the
     * interruption would spin. Twice the theory is a wide margin. */
    cr_assert_lt(s.wall, 0.6, "[storm-late] two 150 ms waits took %.0f ms under %d signals: "
                 "an interrupted wait should go on with the time left, not start over",
                 s.wall * 1e3, caught);
    cr_assert_lt(s.cpu, 0.5 * s.wall, "[storm-spin] the loop used %.0f ms of CPU in %.0f ms "
                 "of waiting: it spun instead of waiting again after each signal", s.cpu * 1e3,
                 s.wall * 1e3);
}

/* The eventpoll descriptors open now, as a bit set over the first 1024 descriptors (the
 * test framework has one of its own). */
static void eventpoll_fds(unsigned char set[1024])
{
    memset(set, 0, 1024);
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        char path[300], target[64];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        int fd = atoi(e->d_name);
        if (n > 0 && fd < 1024) {
            target[n] = '\0';
            set[fd] = strcmp(target, "anon_inode:[eventpoll]") == 0;
        }
    }
    if (d != NULL)
        closedir(d);
}

static unsigned char epoll_before[1024];

/* Make the loop's next wait fail with EINVAL: on epoll, put a pipe where the loop's epoll
 * descriptor was (the one not open before aio_run()); on poll, lower RLIMIT_NOFILE under the
 * number of watched descriptors. */
static void break_the_poller(void)
{
    unsigned char now[1024];
    eventpoll_fds(now);
    int epfd = -1;
    for (int fd = 0; fd < 1024; fd++)
        if (now[fd] && !epoll_before[fd])
            epfd = fd;
    if (epfd >= 0) {
        int p[2];
        if (pipe(p) == 0)
            dup2(p[0], epfd);
    } else {
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_NOFILE, &none);
    }
}

static int wait_on_pipe(void *arg)
{
    struct pipe_pair *p = arg;
    return aio_wait_fd(p->fd[0], AIO_READ, aio_now() + 200);
}

static int wait_on_a_broken_poller(void *arg)
{
    aio_task *t = aio_spawn(wait_on_pipe, arg);
    aio_yield();                        /* t's watch is installed now */
    break_the_poller();
    int r = aio_join(t, AIO_NEVER);
    fprintf(stderr, "scenario: the wait returned %d\n", r);
    return 0;
}

Test(io, a_failing_poller_stops_the_program_with_a_message)
{
    struct pipe_pair p;
    nonblocking_pipe(&p);
    int out[2];
    cr_assert_eq(pipe(out), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(out[1], 2);
        close(out[0]);
        alarm(10);                      /* a spinning loop must not hang the test */
        eventpoll_fds(epoll_before);
        aio_run(wait_on_a_broken_poller, &p);
        _exit(3);
    }
    close(out[1]);
    char buf[2048];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = read(out[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(out[0]);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "[poller-silent] the poller "
              "failed with EINVAL; the runtime should report it and abort, but the process %s "
              "%d (SIGALRM is 14: it spun). stderr:\n%s",
              WIFSIGNALED(status) ? "died of signal" : "exited with",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), buf);
    cr_assert(strstr(buf, "aio: [poller-failed] epoll_wait() failed: Invalid argument") != NULL ||
              strstr(buf, "aio: [poller-failed] poll() failed: Invalid argument") != NULL,
              "[poller-message] no \"aio: [poller-failed] ...() failed: Invalid argument\" "
              "line; stderr was:\n%s", buf);
    cr_assert_null(strstr(buf, "scenario: the wait returned"), "[poller-went-on] the wait "
                   "returned after the poller failed:\n%s", buf);
    close(p.fd[0]);
    close(p.fd[1]);
}
