/* proof.c: the end-of-test proof `make grade` trusts a test's verdict by
 * (harness/course/GRADING.md).
 *
 * Every lesson's test binary is linked with -Wl,--wrap= for criterion_internal_test_setup,
 * criterion_internal_test_teardown and criterion_send_assert (harness/lesson/lesson.mk).
 * Outside grading the wrappers only pass the calls on, so `make lesson-NN test` behaves as
 * before. The grader sets KIT_PROOF_DIR (a private folder holding `nonce`, a secret drawn for
 * this run) and KIT_PROOF_FD (a descriptor on a file outside the sandbox). Then:
 *
 * - the runner (Criterion's parent process; it never runs the student's code, since the grader
 *   rejects exercise objects with constructors, IFUNCs or symbols that interpose a library)
 *   makes itself non-dumpable (no sibling can open its memory or descriptors through /proc),
 *   reads the secret, deletes its file, and serves it on a unix socket: once to each process
 *   its own fork() made (SO_PEERCRED, and the parent in /proc), i.e. to each test's worker,
 *   which asks in its constructor, before any test code runs, or to the runner's worker
 *   factory (below), whose children, the workers, start with it; the student's code in a
 *   worker, or in a process it starts (clone(CLONE_PARENT) included), is refused;
 * - when a test's teardown returns (its .init, body and .fini done, after a failed assertion
 *   too), its worker sends "proof SECRET test SUITE::TEST failed=K" (K the failed assertions it
 *   sent) to the runner, which checks the secret and writes "kit-proof NONCE test SUITE::TEST
 *   failed=K" on KIT_PROOF_FD, a descriptor only the runner holds (BoxFort closes it in
 *   workers); when the runner ends, "kit-proof NONCE runner-end".
 *
 * A test whose process ends early (exit(0) in the exercise, which Criterion reports as a pass)
 * never sends its line; a report written by anything else lacks the secret or the channel.
 *
 * In every run, graded or not, the runner starts its tests' processes through a worker factory
 * (a process that stops before main, where every worker is the same, and forks one for each
 * test) instead of an exec of the binary for each: "A test's process without an exec" below.
 *
 * The runner also keeps the run going: it kills and reaps children it did not fork (waitid),
 * kills what a test left behind when the test ends (proof_sweep), and ends a worker that stays
 * stopped once its test has begun ("begin SUITE::TEST" from the test's setup; the runner then
 * writes "kit-proof NONCE stopped SUITE::TEST", proof_watchdog), or a fork of its own that
 * never reached its exec ("kit-proof NONCE spawn-stuck", proof_check_spawns; the grader runs
 * the lesson again). Its threads do not allocate while a fork can happen: the sanitizer's
 * allocator is not fork-safe. */
/* Linux only, as the grader is (bubblewrap, SO_PEERCRED, /proc): elsewhere this file is empty
 * and the tests, which need -Wl,--wrap, are not built (harness/lesson/lesson.mk says so). */
#ifdef __linux__
#include <criterion/criterion.h>
#include <criterion/event.h>
#include <criterion/hooks.h>

#include <dirent.h>
#include <poll.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <pthread.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "kit.h"

#define PROOF_MAX 64

/* The secret is kept masked, so it is not in memory as written. */
static unsigned char proof_secret[PROOF_MAX], proof_pad[PROOF_MAX];
static size_t proof_len;
static int proof_fd = -1;
static long proof_failed;

static void proof_die(const char *what)
{
    fprintf(stderr, "[proof-setup] the grader's proof channel is broken (%s: %s)\n", what,
            strerror(errno));
    _exit(3);
}

static void proof_keep(const char *s, size_t n)
{
    if (n > PROOF_MAX)
        n = PROOF_MAX;
    if (getrandom(proof_pad, n, 0) != (ssize_t)n)
        proof_die("getrandom");
    for (size_t i = 0; i < n; i++)
        proof_secret[i] = (unsigned char)s[i] ^ proof_pad[i];
    proof_len = n;
}

static void proof_write(const char *what)
{
    char line[512];
    size_t k = 0;
    const char *head = "kit-proof ";

    if (proof_fd < 0)
        return;   /* not the runner of a graded run */
    memcpy(line, head, strlen(head));
    k = strlen(head);
    for (size_t i = 0; i < proof_len; i++)
        line[k++] = (char)(proof_secret[i] ^ proof_pad[i]);
    int r = snprintf(line + k, sizeof line - k, " %s\n", what);
    if (r > 0 && (size_t)r < sizeof line - k)
        (void)!write(proof_fd, line, k + (size_t)r);
    memset(line, 0, sizeof line);
}

static int proof_sock = -1;
static char proof_path[108];

/* The runner's children it has not served yet: the pids its own fork() returned (BoxFort forks
 * and execs each worker). A process the student's code makes with clone(CLONE_PARENT) is a
 * child of the runner too, but not one it forked, so it is never served. */
static pid_t proof_forked[8192];
static long proof_forked_ms[8192];     /* when fork() returned it (CLOCK_MONOTONIC, ms) */
static size_t proof_nforked;
static pthread_mutex_t proof_lock = PTHREAD_MUTEX_INITIALIZER;
static int proof_runner;

/* The worker factory (below, "A test's process without an exec"): in the runner, whether to
 * use one, its pid (0 not started yet, -1 none), the runner's own pid, libc's execve(). */
static int zyg_on;
static volatile pid_t zyg_pid;
static pid_t zyg_runner;
static int (*zyg_execve)(const char *, char *const[], char *const[]);
static void zyg_start(void);

static long proof_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Take pid out of the children not served yet; whether it was there. Called with proof_lock. */
static int proof_unfork(pid_t pid)
{
    for (size_t i = 0; i < proof_nforked; i++)
        if (proof_forked[i] == pid) {
            proof_nforked--;
            proof_forked[i] = proof_forked[proof_nforked];
            proof_forked_ms[i] = proof_forked_ms[proof_nforked];
            return 1;
        }
    return 0;
}

static int proof_served(pid_t pid)
{
    int found;
    pthread_mutex_lock(&proof_lock);
    found = proof_unfork(pid);
    pthread_mutex_unlock(&proof_lock);
    return !found;
}

/* Every child the runner's fork() made, served or not (BoxFort's workers), for waitid() below;
 * past the table's end (more workers than any lesson has tests) nothing counts as a stranger. */
static pid_t proof_kids[8192];
static size_t proof_nkids;

/* A child the runner made (a worker's fork, the worker factory): to be served once, and no
 * stranger. Called with proof_lock held. */
static void proof_note_child(pid_t pid)
{
    if (proof_nforked < sizeof proof_forked / sizeof proof_forked[0]) {
        proof_forked_ms[proof_nforked] = proof_now_ms();
        proof_forked[proof_nforked++] = pid;
    }
    if (proof_nkids < sizeof proof_kids / sizeof proof_kids[0])
        proof_kids[proof_nkids++] = pid;
    else
        proof_nkids = SIZE_MAX;
}

/* fork() for the whole test binary (it comes before libc's and the sanitizer's, whose fork this
 * calls): in the runner of a graded run, it notes each child. The lock is held across the call,
 * so the runner's other threads (waitid() below) never see a child it made before it is noted;
 * the child, a copy of this thread, lets go of its copy. */
pid_t fork(void)
{
    static pid_t (*next)(void);
    pid_t pid;
    if (next == NULL)
        next = (pid_t (*)(void))dlsym(RTLD_NEXT, "fork");
    if (zyg_on && zyg_pid == 0 && getpid() == zyg_runner)
        zyg_start();   /* BoxFort's first fork: the runner's test processes are about to start */
    if (!proof_runner)
        return next();
    pthread_mutex_lock(&proof_lock);
    pid = next();
    if (pid > 0)
        proof_note_child(pid);
    pthread_mutex_unlock(&proof_lock);
    return pid;
}

static int proof_stranger(pid_t pid)
{
    int known = 0;
    pthread_mutex_lock(&proof_lock);
    if (proof_nkids == SIZE_MAX)
        known = 1;
    for (size_t i = 0; !known && i < proof_nkids; i++)
        known = proof_kids[i] == pid;
    pthread_mutex_unlock(&proof_lock);
    return !known;
}

/* The workers whose test has begun (each says "begin SUITE::TEST" from its test's setup, after
 * BoxFort's own start-up stops): a process stopped from then on (SIGSTOP, raise(SIGSTOP)) was
 * stopped by the code under test, and Criterion's time limit cannot end it, so the lesson would
 * wait for the grader's limit. The runner's watchdog ends a worker stopped for PROOF_STOP_MS:
 * "kit-proof NONCE stopped SUITE::TEST" on the proof channel, and the grader says why. */
#define PROOF_STOP_MS 1000
#define PROOF_WATCH_MS 100
static struct proof_watch {
    pid_t pid;
    int stopped_ms;                     /* how long it has been seen stopped, 0: running */
    char test[256];
} proof_watched[64];
static size_t proof_nwatched;

/* Forget pid's entry (its worker ended). Called with proof_lock held. */
static void proof_unwatch(pid_t pid)
{
    for (size_t i = 0; i < proof_nwatched; i++)
        if (proof_watched[i].pid == pid) {
            proof_watched[i] = proof_watched[--proof_nwatched];
            return;
        }
}

/* The part of /proc/PID/stat from the command's closing parenthesis on (") S PPID ..."), read
 * into buf; NULL when pid is gone. */
static const char *proof_stat(pid_t pid, char *buf, size_t size)
{
    char path[64], *p;
    int fd;
    ssize_t n;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    n = read(fd, buf, size - 1);
    close(fd);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    p = strrchr(buf, ')');
    return p != NULL && strlen(p) >= 4 ? p : NULL;
}

/* The state letter of pid ('R', 'S', 'T' stopped...), or 0. */
static char proof_state_of(pid_t pid)
{
    char buf[512];
    const char *p = proof_stat(pid, buf, sizeof buf);
    return p != NULL ? p[2] : 0;
}

static pid_t proof_parent_of(pid_t pid);

/* A line on the runner's stderr (the lesson's log), without stdio: no thread the kit adds to the
 * runner allocates memory (proof_sweep says why). */
static void proof_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void proof_say(const char *fmt, ...)
{
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        (void)!write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* The runner's own command line, to know a forked copy of it that has not reached its exec. */
static char proof_cmdline[256];
static ssize_t proof_cmdline_len = -1;

static ssize_t proof_read_cmdline(pid_t pid, char *buf, size_t size)
{
    char path[64];
    ssize_t n;
    int fd;
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, size);
    close(fd);
    return n;
}

/* A worker BoxFort has forked but that has not reached its exec in PROOF_SPAWN_MS: the code
 * between the two is BoxFort's own and takes milliseconds, unless the fork copied a lock of
 * AddressSanitizer's allocator that another thread of the runner held (gcc 12's is not
 * fork-safe), and the copy now waits on it for ever while the runner waits on the copy. The
 * watchdog ends it; BoxFort then reports the failed spawn, the runner stops, and the grader,
 * told by "kit-proof NONCE spawn-stuck", runs the lesson again: no fault of the code under test. */
#define PROOF_SPAWN_MS 10000
static long proof_spawn_ms = PROOF_SPAWN_MS;   /* KIT_PROOF_SPAWN_MS and KIT_PROOF_FORK_HANG
                                                  * (below): the kit's own tests */
static void proof_hang(void)
{
    for (;;)
        pause();
}

/* Whether pid is a test's relay (zyg_relay): a fork of the runner past its exec's call. */
static int proof_is_relay(pid_t pid)
{
    char path[64], name[32];
    ssize_t n;
    int fd;
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, name, sizeof name - 1);
    close(fd);
    return n == 10 && memcmp(name, "kit-relay\n", 10) == 0;
}

static void proof_check_spawns(long now)
{
    for (size_t i = 0; i < proof_nforked; i++) {
        char cmd[sizeof proof_cmdline], state;
        pid_t pid = proof_forked[i];
        if (now - proof_forked_ms[i] < proof_spawn_ms || proof_cmdline_len <= 0)
            continue;
        state = proof_state_of(pid);
        if (state == 0 || state == 'T' || state == 'Z' || proof_parent_of(pid) != getpid() ||
            proof_is_relay(pid) ||
            proof_read_cmdline(pid, cmd, sizeof cmd) != proof_cmdline_len ||
            memcmp(cmd, proof_cmdline, (size_t)proof_cmdline_len) != 0)
            continue;
        /* Said first, on the proof channel and in the log: once the copy is dead, BoxFort's
         * thread reports the failed spawn and Criterion aborts the runner, this thread with
         * it. */
        proof_write("spawn-stuck");
        proof_say("kit: [runner-fork-stuck] a test process the runner forked was still short of "
                  "its start after %ld ms (a lock of the sanitizer's allocator copied by fork); "
                  "the runner ends it, and the grader runs the lesson again\n", proof_spawn_ms);
        kill(pid, SIGKILL);
        proof_unfork(pid);
        return;
    }
}

/* The worker factory stopped (a test sent its parent SIGSTOP): the tests it made can no longer
 * be seen to end, and no new one can start, so the run would wait for its time limit. Stopped
 * for PROOF_STOP_MS, it is killed: its workers go with it, the runner's relays report them
 * killed, and the next tests are exec'd. */
static void proof_check_factory(void)
{
    static int stopped_ms;
    pid_t z = zyg_pid;
    if (z <= 0 || proof_state_of(z) != 'T') {
        stopped_ms = 0;
        return;
    }
    stopped_ms += PROOF_WATCH_MS;
    if (stopped_ms == PROOF_STOP_MS) {
        kill(z, SIGKILL);
        proof_say("kit: [factory-stopped] the process that starts the tests stayed stopped "
                  "(SIGSTOP, from a test) for %d ms; the runner ended it, with the tests it had "
                  "started\n", PROOF_STOP_MS);
    }
}

static void *proof_watchdog(void *arg)
{
    struct timespec tick = { .tv_nsec = PROOF_WATCH_MS * 1000000L };
    (void)arg;
    for (;;) {
        nanosleep(&tick, NULL);
        pthread_mutex_lock(&proof_lock);
        for (size_t i = 0; i < proof_nwatched; i++) {
            struct proof_watch *w = &proof_watched[i];
            if (proof_state_of(w->pid) != 'T') {
                w->stopped_ms = 0;
                continue;
            }
            w->stopped_ms += PROOF_WATCH_MS;
            if (w->stopped_ms == PROOF_STOP_MS) {
                char what[300];
                snprintf(what, sizeof what, "stopped %s", w->test);
                proof_write(what);
                kill(w->pid, SIGKILL);
                proof_say("kit: [test-stopped] %s: its process stayed stopped (SIGSTOP) for %d "
                          "ms; the runner ended it\n", w->test, PROOF_STOP_MS);
            }
        }
        proof_check_spawns(proof_now_ms());
        proof_check_factory();
        pthread_mutex_unlock(&proof_lock);
    }
    return NULL;
}

/* Calls fn(NUMBER, ctx) for each entry of the directory dir (/proc, /proc/self/fd) named by a
 * number, until fn returns nonzero; returns that, or 0, or -1 when dir cannot be read. It reads
 * with getdents64 into a buffer on the stack, not opendir(), and allocates nothing: its callers
 * run beside a fork of the runner, or in one (proof_sweep says why that matters). */
static int proof_each_number(const char *dir, int (*fn)(long, void *), void *ctx)
{
    char buf[8192];
    ssize_t n;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
    if (fd < 0)
        return -1;
    while (rc == 0 && (n = getdents64(fd, buf, sizeof buf)) > 0)
        for (ssize_t off = 0; rc == 0 && off < n;) {
            const struct dirent64 *e = (const struct dirent64 *)(buf + off);
            char *end;
            long v = strtol(e->d_name, &end, 10);
            off += e->d_reclen;
            if (e->d_name[0] != '.' && *end == '\0')
                rc = fn(v, ctx);
        }
    close(fd);
    return rc;
}

static int proof_sweep_one(long pid, void *self)
{
    if (pid > 1 && pid != *(pid_t *)self && proof_parent_of((pid_t)pid) == *(pid_t *)self &&
        proof_stranger((pid_t)pid))
        kill((pid_t)pid, SIGKILL);
    return 0;
}

/* In the runner of a graded run, which adopts the orphans of its workers' processes
 * (PR_SET_CHILD_SUBREAPER, below): kill every child it did not fork. Such a child is a process
 * the student's code left behind when its test ended (a daemon, a spinning loop), or made a child
 * of the runner on purpose (clone(CLONE_PARENT)); the kit's own test servers end with the test
 * process that started them (delayd --parent). Called at the end of each test's worker, so a
 * process left behind costs the machine the length of a test, not of the whole run. */
static void proof_sweep(void)
{
    /* Without allocating (proof_each_number): this runs in BoxFort's thread while the runner's
     * main thread forks the next worker, and AddressSanitizer's allocator (gcc 12) is not
     * fork-safe. A fork while this thread holds one of its locks leaves the child, which
     * allocates the same sizes before its exec (BoxFort's fdopendir), blocked for ever, and the
     * runner waiting on it: a whole lesson hung in `make grade`. No thread of the runner the kit
     * adds allocates memory. */
    pid_t self = getpid();
    proof_each_number("/proc", proof_sweep_one, &self);
}

/* ---- A test's process without an exec: the worker factory ----------------------------------
 *
 * BoxFort starts each test in a fresh exec of the test binary: a fork of the runner that
 * executes the binary again, "boxfort-worker", with BXFI_MAP naming the test in shared memory.
 * That exec is most of what a test costs here: the loader maps and relocates 45 libraries
 * (libcurl's, Criterion's), AddressSanitizer starts, every library's constructors run: 40 ms of
 * CPU and 1,750 page faults before the test's first line, for each of a student's 341 tests.
 *
 * So the runner starts one such process of its own, the factory, exactly as BoxFort would
 * start a worker (the same binary, argv and environment, BXFI_MAP set, so BoxFort's start-up
 * takes the worker's path), which waits in this file's constructor, after the libraries' own
 * and before main: up to there every worker is the same. When BoxFort's fork of the runner then calls execve() to become a
 * worker, the kit's execve() below hands the factory what that exec would have carried: the
 * environment, the descriptors that survive an exec (numbers kept), the ignored signals and
 * the signal mask. The factory forks; its child takes these on, returns from the constructors,
 * and BoxFort's own code carries on in it as in an exec'd worker: it reads the test from the
 * shared memory named by BXFI_MAP, tells the runner its pid, and runs the test. BoxFort's fork
 * stays behind as the test's relay: BoxFort waits on it, so it ends as the test's process ended
 * (the same exit status, or killed by the same signal), and a relay that is killed takes the
 * test's process with it.
 *
 * The factory only ever runs the kit's and the libraries' start-up code (an exercise has no
 * constructor: the grader refuses one), is not dumpable (a test cannot open its memory), and
 * in a graded run asks the runner for the proof's secret as any worker would, so its children
 * start with it, as an exec'd worker has it before any test code runs. Whatever goes wrong
 * (the factory gone, a descriptor too many, an environment that changed since it started),
 * execve() falls back to the real exec. KIT_ZYGOTE=0 turns the factory off. */
/* close_range() and posix_spawn_file_actions_addclosefrom_np(): glibc 2.34. */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#define ZYG_FACTORY 1
#endif
#define ZYG_MAX_FDS 64
#define ZYG_ENV_MAX 65536
#define ZYG_MAX_ENV 2048
#define ZYG_MAX_LIVE 64

struct zyg_req {
    int nfds;                   /* descriptors sent */
    int target[ZYG_MAX_FDS];    /* the number each has in the relay */
    sigset_t mask;              /* the relay's signal mask */
    unsigned long long ignored; /* bit s-1: signal s ignored */
    size_t envlen;              /* bytes of environment that follow: NUL-terminated strings */
};

static char zyg_env[ZYG_ENV_MAX];        /* the relay's environment to send; a worker's, parsed */
static struct sockaddr_un zyg_addr;      /* the factory's socket: an abstract name */
static socklen_t zyg_addrlen;

/* In the runner, on BoxFort's first fork: start the factory (posix_spawn: no fork of the
 * runner, no fork handlers), its only descriptors stdin, stdout, stderr and its listening
 * socket (3). BoxFort closes every descriptor but the test's in its fork before the exec, so
 * the relays reach the factory by the socket's name, which only the runner knows (the factory
 * checks that each caller is a child of the runner). */
static void zyg_start(void)
#ifndef ZYG_FACTORY
{
    zyg_pid = -1;
}
#else
{
    static char *env[ZYG_MAX_ENV + 3];
    static char map[] = "BXFI_MAP=/kit-worker-factory", fdvar[] = "KIT_ZYGOTE_FD=3";
    char *argv[] = { "boxfort-worker", NULL };
    posix_spawn_file_actions_t fa;
    unsigned long long r = 0;
    int ls, k = 0;
    pid_t pid = -1;
    /* The binary by its name, as BoxFort executes it: a worker's command name is the file's. */
    char exe[PATH_MAX];
    ssize_t exe_len = readlink("/proc/self/exe", exe, sizeof exe - 1);

    zyg_pid = -1;
    if (exe_len > 0 && (size_t)exe_len < sizeof exe)
        exe[exe_len] = '\0';
    for (size_t i = 0; environ[i] != NULL; i++) {
        if (k == ZYG_MAX_ENV)
            return;
        env[k++] = environ[i];
    }
    env[k++] = map;
    env[k++] = fdvar;
    env[k] = NULL;
    if (getrandom(&r, sizeof r, 0) != sizeof r)
        return;
    zyg_addr.sun_family = AF_UNIX;
    k = snprintf(zyg_addr.sun_path + 1, sizeof zyg_addr.sun_path - 1, "kit-worker-factory-%d-%llx",
                 (int)getpid(), r);
    zyg_addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)k);
    ls = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (ls < 0)
        return;
    if (bind(ls, (struct sockaddr *)&zyg_addr, zyg_addrlen) != 0 || listen(ls, 64) != 0 ||
        posix_spawn_file_actions_init(&fa) != 0) {
        close(ls);
        return;
    }
    if (posix_spawn_file_actions_adddup2(&fa, ls, 3) == 0 &&
        posix_spawn_file_actions_addclosefrom_np(&fa, 4) == 0) {
        if (proof_runner)
            pthread_mutex_lock(&proof_lock);
        if (exe_len <= 0 || (size_t)exe_len >= sizeof exe ||
            posix_spawn(&pid, exe, &fa, NULL, argv, env) != 0)
            pid = -1;
        /* In a graded run the factory asks for the secret, as a worker does: the runner notes
         * it as its own child before its proof thread can hear the question. */
        if (proof_runner && pid > 0)
            proof_note_child(pid);
        if (proof_runner)
            pthread_mutex_unlock(&proof_lock);
    }
    posix_spawn_file_actions_destroy(&fa);
    close(ls);
    if (pid > 0)
        zyg_pid = pid;
}
#endif

/* The descriptors an exec keeps (no FD_CLOEXEC; the directory's own has it), into the request:
 * each is sent as itself and kept under its number. 1 when there are too many. */
static int zyg_note_fd(long fd, void *ctx)
{
    struct zyg_req *req = ctx;
    int flags = fcntl((int)fd, F_GETFD);
    if (flags < 0 || (flags & FD_CLOEXEC))
        return 0;
    if (req->nfds == ZYG_MAX_FDS)
        return 1;
    req->target[req->nfds++] = (int)fd;
    return 0;
}

/* In BoxFort's fork of the runner, at its execve(): have the factory start the worker and
 * relay its end. Returns only when the real exec is to be done instead. Nothing here
 * allocates: this process is a fork of a runner with several threads. */
static void zyg_relay(char *const envp[])
{
    static struct zyg_req req;
    int c, kind = 0, status;
    char cbuf[CMSG_SPACE(sizeof req.target)];
    size_t len = 0;
    ssize_t n;

    memset(&req, 0, sizeof req);
    if (proof_each_number("/proc/self/fd", zyg_note_fd, &req) != 0)
        return;   /* unreadable, or more descriptors than a request carries */
    if (req.nfds == 0)
        return;
    for (size_t i = 0; envp[i] != NULL; i++) {
        size_t l = strlen(envp[i]) + 1;
        if (len + l > sizeof zyg_env)
            return;
        memcpy(zyg_env + len, envp[i], l);
        len += l;
    }
    req.envlen = len;
    sigprocmask(SIG_BLOCK, NULL, &req.mask);
    for (int s = 1; s <= 64; s++) {
        struct sigaction sa;
        if (sigaction(s, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
            req.ignored |= 1ULL << (s - 1);
    }
    c = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (c < 0)
        return;
    if (connect(c, (struct sockaddr *)&zyg_addr, zyg_addrlen) != 0) {
        close(c);
        return;
    }
    struct iovec iov[2] = { { &req, sizeof req }, { zyg_env, len } };
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2, .msg_control = cbuf,
                          .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)req.nfds) };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)req.nfds);
    memcpy(CMSG_DATA(cm), req.target, sizeof(int) * (size_t)req.nfds);
    n = sendmsg(c, &msg, MSG_NOSIGNAL);
    if (n == (ssize_t)(sizeof req + len))
        while ((n = read(c, &kind, sizeof kind)) < 0 && errno == EINTR)
            ;
    if (n != sizeof kind || kind != 1) {
        close(c);
        return;   /* the factory did not start it: the real exec */
    }
    /* Past the point where a fork of the runner can stick (proof_check_spawns). */
    prctl(PR_SET_NAME, "kit-relay", 0, 0, 0);
    while ((n = read(c, &status, sizeof status)) < 0 && errno == EINTR)
        ;
    if (n != sizeof status)
        status = SIGKILL;   /* the factory is gone, and its children with it */
    if (WIFEXITED(status))
        _exit(WEXITSTATUS(status));
    struct rlimit none = { 0, 0 };
    sigset_t one;
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
    /* The signal back to its default with the system call itself: the sanitizer's sigaction()
     * keeps its own handler for the signals it reports (SIGSEGV...). All zero is SIG_DFL, no
     * flags, an empty mask, whatever the architecture's layout of the kernel's structure. */
    unsigned long dfl[4] = { 0, 0, 0, 0 };
    setrlimit(RLIMIT_CORE, &none);
    syscall(SYS_rt_sigaction, sig, dfl, NULL, sizeof(sigset_t) > 8 ? 8 : sizeof(sigset_t));
    sigemptyset(&one);
    sigaddset(&one, sig);
    sigprocmask(SIG_UNBLOCK, &one, NULL);
    kill(getpid(), sig);
    _exit(128 + sig);
}

/* execve() for the whole test binary (before libc's): BoxFort's exec of a worker, in a fork of
 * the runner, goes to the factory when there is one. */
int execve(const char *path, char *const argv[], char *const envp[])
{
    if (zyg_pid > 0 && argv[0] != NULL && argv[1] == NULL &&
        strcmp(argv[0], "boxfort-worker") == 0 && getppid() == zyg_runner)
        zyg_relay(envp);
    if (zyg_execve == NULL)
        zyg_execve = (int (*)(const char *, char *const[], char *const[]))dlsym(RTLD_NEXT,
                                                                                "execve");
    return zyg_execve(path, argv, envp);
}

#ifdef ZYG_FACTORY
static char *zyg_envv[ZYG_MAX_ENV + 1];   /* a worker's environment, parsed */

/* Whether environment a (the factory's) and the block of NUL-terminated strings (a relay's)
 * hold the same variables, leaving out BoxFort's two and the factory's own. */
static int zyg_env_same(char *const *a, const char *blob, size_t len)
{
    size_t na = 0, nb = 0;
    for (size_t i = 0; a[i] != NULL; i++) {
        if (strncmp(a[i], "BXFI_MAP=", 9) == 0 || strncmp(a[i], "GMON_OUT_PREFIX=", 16) == 0 ||
            strncmp(a[i], "KIT_ZYGOTE_FD=", 14) == 0)
            continue;
        na++;
        int found = 0;
        for (size_t off = 0; off < len && !found; off += strlen(blob + off) + 1)
            found = strcmp(blob + off, a[i]) == 0;
        if (!found)
            return 0;
    }
    for (size_t off = 0; off < len; off += strlen(blob + off) + 1)
        if (strncmp(blob + off, "BXFI_MAP=", 9) != 0 &&
            strncmp(blob + off, "GMON_OUT_PREFIX=", 16) != 0)
            nb++;
    return na == nb;
}

/* In the factory's child: take on what the relay's exec would have carried, then return to
 * the constructors, a worker. */
static void zyg_become(const struct zyg_req *req, const int *fds, pid_t factory)
{
    int top = 3, tmp[ZYG_MAX_FDS];
    size_t k = 0;

    for (int i = 0; i < req->nfds; i++)
        if (req->target[i] >= top)
            top = req->target[i] + 1;
    for (int i = 0; i < req->nfds; i++)
        if ((tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, top)) < 0)
            _exit(127);
    close_range(0, (unsigned)top - 1, 0);
    for (int i = 0; i < req->nfds; i++)
        if (dup2(tmp[i], req->target[i]) < 0)
            _exit(127);
    close_range((unsigned)top, ~0U, 0);

    for (size_t off = 0; off < req->envlen && k < ZYG_MAX_ENV; off += strlen(zyg_env + off) + 1)
        zyg_envv[k++] = zyg_env + off;
    zyg_envv[k] = NULL;
    environ = zyg_envv;

    for (int s = 1; s <= 64; s++) {
        struct sigaction sa;
        if (s == SIGKILL || s == SIGSTOP || sigaction(s, NULL, &sa) != 0)
            continue;
        if (req->ignored & (1ULL << (s - 1)))
            signal(s, SIG_IGN);
        else if (sa.sa_handler == SIG_IGN)
            signal(s, SIG_DFL);
    }
    setsid();
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != factory)
        _exit(127);
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);   /* as after an exec */
    sigprocmask(SIG_SETMASK, &req->mask, NULL);
}

struct zyg_live {
    pid_t pid;
    int conn;
};

struct zyg_sweep_ctx {
    pid_t self;
    const struct zyg_live *live;
    size_t nlive;
};

static int zyg_sweep_one(long pid, void *ctx)
{
    const struct zyg_sweep_ctx *z = ctx;
    if (pid <= 1 || pid == z->self || proof_parent_of((pid_t)pid) != z->self)
        return 0;
    for (size_t i = 0; i < z->nlive; i++)
        if (z->live[i].pid == pid)
            return 0;
    kill((pid_t)pid, SIGKILL);
    return 0;
}

/* The factory: serve the relays on the listening socket ls for as long as the runner lives.
 * Returns only in a child, which is then a test's worker. */
static void zyg_serve(int ls)
{
    static struct zyg_req req;
    static struct zyg_live live[ZYG_MAX_LIVE];
    size_t nlive = 0;
    pid_t self = getpid(), runner = getppid();
    sigset_t chld;
    int sfd;

    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != runner || runner == 1)
        _exit(0);
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0)
        _exit(0);
    for (;;) {
        struct pollfd pf[2 + ZYG_MAX_LIVE];
        size_t np = 2;
        pf[0] = (struct pollfd){ .fd = ls, .events = POLLIN };
        pf[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
        for (size_t i = 0; i < nlive; i++)
            if (live[i].conn >= 0)
                pf[np++] = (struct pollfd){ .fd = live[i].conn, .events = 0 };
        if (poll(pf, np, -1) < 0)
            continue;
        if (pf[1].revents) {
            struct signalfd_siginfo si;
            int st;
            pid_t w;
            while (read(sfd, &si, sizeof si) > 0)
                ;
            int ended = 0;
            while ((w = waitpid(-1, &st, WNOHANG)) > 0)
                for (size_t i = 0; i < nlive; i++)
                    if (live[i].pid == w) {
                        if (live[i].conn >= 0) {
                            (void)!send(live[i].conn, &st, sizeof st, MSG_NOSIGNAL);
                            close(live[i].conn);
                        }
                        live[i] = live[--nlive];
                        ended = 1;
                        break;
                    }
            /* As the runner does (proof_sweep): a child of the factory that is not a worker was
             * made by a test (clone(CLONE_PARENT)); it ends when a worker does. */
            if (ended) {
                struct zyg_sweep_ctx z = { self, live, nlive };
                proof_each_number("/proc", zyg_sweep_one, &z);
            }
        }
        /* A relay gone (BoxFort killed it, or the runner ended): its worker goes too. */
        for (size_t i = 2; i < np; i++)
            if (pf[i].revents & (POLLHUP | POLLERR))
                for (size_t j = 0; j < nlive; j++)
                    if (live[j].conn == pf[i].fd) {
                        kill(live[j].pid, SIGKILL);
                        close(live[j].conn);
                        live[j].conn = -1;
                    }
        if (!(pf[0].revents & POLLIN))
            continue;

        int fds[ZYG_MAX_FDS], nfd = 0, kind = 0, c;
        char cbuf[CMSG_SPACE(sizeof fds)];
        struct iovec iov[2] = { { &req, sizeof req }, { zyg_env, sizeof zyg_env } };
        struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2, .msg_control = cbuf,
                              .msg_controllen = sizeof cbuf };
        struct timeval tv = { .tv_sec = 2 };
        struct ucred cred;
        socklen_t cl = sizeof cred;
        ssize_t n = -1;

        c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        /* Only a child of the runner (a fork BoxFort made) is served. */
        if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0 &&
            proof_parent_of(cred.pid) == runner) {
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            n = recvmsg(c, &msg, MSG_CMSG_CLOEXEC);
        }
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); n > 0 && cm != NULL;
             cm = CMSG_NXTHDR(&msg, cm))
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
                nfd = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                memcpy(fds, CMSG_DATA(cm), sizeof(int) * (size_t)nfd);
            }
        if (n < (ssize_t)sizeof req || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
            req.nfds != nfd || nfd < 1 || req.envlen != (size_t)n - sizeof req ||
            req.envlen == 0 || zyg_env[req.envlen - 1] != '\0' ||
            !zyg_env_same(environ, zyg_env, req.envlen) || nlive == ZYG_MAX_LIVE) {
            (void)!send(c, &kind, sizeof kind, MSG_NOSIGNAL);
            close(c);
        } else {
            pid_t w = fork();
            if (w == 0) {
                zyg_become(&req, fds, self);
                return;
            }
            kind = w > 0;
            (void)!send(c, &kind, sizeof kind, MSG_NOSIGNAL);
            if (w > 0) {
                live[nlive].pid = w;
                live[nlive++].conn = c;
            } else {
                close(c);
            }
        }
        for (int i = 0; i < nfd; i++)
            close(fds[i]);
    }
}
#endif

/* waitid() for the whole test binary (before the sanitizer's and libc's, which it calls).
 * BoxFort's thread in the runner asks for any child's end or stop with WNOWAIT, then reaps only
 * the workers it made: a child of the runner it did not make (the student's code can make one,
 * clone(CLONE_PARENT), and the runner adopts orphans) is reported again at once, for ever, and
 * the runner spins a core until the run ends (32 s of CPU for lesson 01's tests, measured). In
 * the runner of a graded run, such a stranger is killed and reaped here, and the wait goes on;
 * when a worker ends, the strangers still running are killed (proof_sweep). */
int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
    static int (*next)(idtype_t, id_t, siginfo_t *, int);
    if (next == NULL)
        next = (int (*)(idtype_t, id_t, siginfo_t *, int))dlsym(RTLD_NEXT, "waitid");
    for (;;) {
        int rc = next(idtype, id, info, options), saved = errno;
        /* The worker factory ended (it lives as long as the runner, unless killed): BoxFort
         * must not see a child it did not make, and the next workers are exec'd again. */
        if (rc == 0 && info != NULL && zyg_pid > 0 && info->si_pid == zyg_pid &&
            (options & WNOWAIT) && (info->si_code == CLD_EXITED || info->si_code == CLD_KILLED ||
                                    info->si_code == CLD_DUMPED)) {
            while (waitpid(zyg_pid, NULL, 0) < 0 && errno == EINTR)
                ;
            zyg_pid = -1;
            errno = saved;
            continue;
        }
        if (rc != 0 || !proof_runner || idtype != P_ALL || !(options & WNOWAIT) ||
            info == NULL || info->si_pid <= 0)
            return rc;
        if (!proof_stranger(info->si_pid)) {
            if (info->si_code == CLD_EXITED || info->si_code == CLD_KILLED ||
                info->si_code == CLD_DUMPED) {
                pthread_mutex_lock(&proof_lock);
                proof_unwatch(info->si_pid);
                proof_unfork(info->si_pid);
                pthread_mutex_unlock(&proof_lock);
                proof_sweep();
            }
            errno = saved;
            return rc;
        }
        pid_t stranger = info->si_pid;
        kill(stranger, SIGKILL);
        while (waitpid(stranger, NULL, 0) < 0 && errno == EINTR)
            ;
        errno = saved;
    }
}

static pid_t proof_parent_of(pid_t pid)
{
    char buf[512];
    const char *p = proof_stat(pid, buf, sizeof buf);
    return p != NULL ? (pid_t)strtol(p + 4, NULL, 10) : -1;   /* ") S PPID ..." */
}

static int proof_secret_is(const char *s, size_t n)
{
    unsigned char d = (unsigned char)(n != proof_len);
    for (size_t i = 0; i < n && i < proof_len; i++)
        d |= (unsigned char)s[i] ^ proof_secret[i] ^ proof_pad[i];
    return d == 0;
}

/* The runner's side: "get" (the secret, once per child) or "proof SECRET WHAT". */
static void proof_answer(int c)
{
    char req[600], out[600];
    struct ucred cred;
    socklen_t len = sizeof cred;
    struct timeval tv = { .tv_sec = 2 };
    size_t k = 0;
    ssize_t n;

    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (k < sizeof req - 1 && (n = read(c, req + k, sizeof req - 1 - k)) > 0) {
        k += (size_t)n;
        if (memchr(req, '\n', k))
            break;
    }
    req[k] = '\0';
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return;
    if (strcmp(req, "get\n") == 0) {
        if (proof_parent_of(cred.pid) == getpid() && !proof_served(cred.pid)) {
            char buf[PROOF_MAX];
            for (size_t i = 0; i < proof_len; i++)
                buf[i] = (char)(proof_secret[i] ^ proof_pad[i]);
            (void)!write(c, buf, proof_len);
            memset(buf, 0, sizeof buf);
        }
    } else if (strncmp(req, "begin ", 6) == 0) {
        char *nl = strchr(req, '\n');
        if (nl != NULL && nl[1] == '\0' && nl - req - 6 < 256 &&
            ((proof_parent_of(cred.pid) == getpid() && !proof_stranger(cred.pid)) ||
             (zyg_pid > 0 && proof_parent_of(cred.pid) == zyg_pid))) {
            pthread_mutex_lock(&proof_lock);
            proof_unwatch(cred.pid);
            if (proof_nwatched < sizeof proof_watched / sizeof proof_watched[0]) {
                struct proof_watch *w = &proof_watched[proof_nwatched++];
                w->pid = cred.pid;
                w->stopped_ms = 0;
                memcpy(w->test, req + 6, (size_t)(nl - req - 6));
                w->test[nl - req - 6] = '\0';
            }
            pthread_mutex_unlock(&proof_lock);
            (void)!write(c, "ok", 2);
        }
    } else if (strncmp(req, "proof ", 6) == 0) {
        char *secret = req + 6, *what = strchr(secret, ' '), *nl = strchr(req, '\n');
        if (what && nl && proof_secret_is(secret, (size_t)(what - secret)) &&
            strchr(what, '\n') == nl && nl[1] == '\0') {
            int m = snprintf(out, sizeof out, "%s", what + 1);
            if (m > 0 && (size_t)m < sizeof out) {
                out[m - 1] = '\0';
                proof_write(out);
                (void)!write(c, "ok", 2);
            }
        }
    }
    memset(req, 0, sizeof req);
}

static void *proof_serve(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept4(proof_sock, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL;
        }
        proof_answer(c);
        close(c);
    }
}

/* A worker's side: one request, the answer in buf (up to size bytes). */
static ssize_t proof_ask(const char *req, size_t len, char *buf, size_t size)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ssize_t n = -1;
    memcpy(addr.sun_path, proof_path, sizeof proof_path);
    if (c >= 0 && connect(c, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        write(c, req, len) == (ssize_t)len)
        n = read(c, buf, size);
    if (c >= 0)
        close(c);
    return n;
}

static void proof_init(void)
{
    const char *dir = getenv("KIT_PROOF_DIR"), *fd = getenv("KIT_PROOF_FD");
    char buf[PROOF_MAX], path[256];
    ssize_t n;

    if (dir == NULL || fd == NULL)
        return;
    snprintf(proof_path, sizeof proof_path, "%s/sock", dir);
    if (getenv("BXFI_MAP") == NULL) {
        /* The runner: the secret leaves its file for this process's memory only. */
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        pthread_t t;
        int in;
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        /* Orphans of the workers' processes become the runner's children, for proof_sweep. */
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        proof_runner = 1;
        proof_cmdline_len = proof_read_cmdline(getpid(), proof_cmdline, sizeof proof_cmdline);
        if (getenv("KIT_PROOF_SPAWN_MS") != NULL && atol(getenv("KIT_PROOF_SPAWN_MS")) > 0)
            proof_spawn_ms = atol(getenv("KIT_PROOF_SPAWN_MS"));
        /* The kit's own tests (test_kit.c, grade-selftest.sh): every fork of the runner stops
         * short of its start, as a copy blocked on a lock of the allocator would. */
        if (getenv("KIT_PROOF_FORK_HANG") != NULL)
            pthread_atfork(NULL, NULL, proof_hang);
        snprintf(path, sizeof path, "%s/nonce", dir);
        in = open(path, O_RDONLY | O_CLOEXEC);
        if (in < 0)
            return;   /* a second runner (--list, a run by hand): no proofs */
        n = read(in, buf, sizeof buf);
        close(in);
        if (unlink(path) != 0)
            proof_die("unlink");
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
            n--;
        if (n <= 0)
            proof_die("read");
        proof_keep(buf, (size_t)n);
        proof_fd = atoi(fd);
        memcpy(addr.sun_path, proof_path, sizeof proof_path);
        proof_sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (proof_sock < 0 || bind(proof_sock, (struct sockaddr *)&addr, sizeof addr) != 0 ||
            listen(proof_sock, 64) != 0)
            proof_die("socket");
        if (pthread_create(&t, NULL, proof_serve, NULL) != 0)
            proof_die("thread");
        pthread_detach(t);
        if (pthread_create(&t, NULL, proof_watchdog, NULL) != 0)
            proof_die("thread");
        pthread_detach(t);
    } else {
        /* A worker: ask the runner, before any test code runs. */
        n = proof_ask("get\n", 4, buf, sizeof buf);
        if (n <= 0)
            proof_die("the runner gave no secret");
        proof_keep(buf, (size_t)n);
        proof_fd = -2;   /* proofs go through the runner */
    }
    memset(buf, 0, sizeof buf);
}

__attribute__((constructor)) static void kit_proof_init(void)
{
    const char *off = getenv("KIT_ZYGOTE"), *zfd = getenv("KIT_ZYGOTE_FD");
    zyg_execve = (int (*)(const char *, char *const[], char *const[]))dlsym(RTLD_NEXT, "execve");
    proof_init();
    if (getenv("BXFI_MAP") == NULL) {
        zyg_runner = getpid();
        zyg_on = off == NULL || strcmp(off, "0") != 0;
    }
#ifdef ZYG_FACTORY
    else if (zfd != NULL && strcmp(zfd, "3") == 0) {
        zyg_serve(3);   /* the factory; returns in each of its children, a test's worker */
    }
#else
    (void)zfd;
#endif
}

/* weak: a binary linked without the wraps (the kit's own tests) never calls it */
void __real_criterion_send_assert(struct criterion_assert_stats *stats) __attribute__((weak));
void __wrap_criterion_send_assert(struct criterion_assert_stats *stats);
void __wrap_criterion_send_assert(struct criterion_assert_stats *stats)
{
    if (!stats->passed)
        proof_failed++;
    __real_criterion_send_assert(stats);
}

/* weak: a binary linked without the wraps (the kit's own tests) never calls it */
void __real_criterion_internal_test_setup(void) __attribute__((weak));
void __wrap_criterion_internal_test_setup(void);
void __wrap_criterion_internal_test_setup(void)
{
    proof_failed = 0;
    if (proof_fd == -2) {
        char req[300], ack[8];
        int r = snprintf(req, sizeof req, "begin %s::%s\n", criterion_current_test->category,
                         criterion_current_test->name);
        if (r > 0 && (size_t)r < sizeof req)
            proof_ask(req, (size_t)r, ack, sizeof ack);
    }
    __real_criterion_internal_test_setup();
}

/* weak: a binary linked without the wraps (the kit's own tests) never calls it */
void __real_criterion_internal_test_teardown(void) __attribute__((weak));
void __wrap_criterion_internal_test_teardown(void);
void __wrap_criterion_internal_test_teardown(void)
{
    char what[400];

    char req[600], ack[8];
    size_t k;

    __real_criterion_internal_test_teardown();
    /* make check's guard (it sets KIT_REQUIRE_LEAK_CHECK for the solutions' runs): a test that
     * passed without asking LeakSanitizer could not have seen a leak. Criterion has judged the
     * test when its teardown runs, so, like kit_fini_leaks, this stops the process, and make
     * check counts the teardown that crashed. The fault is the test's: a student never sees
     * this, since their runs and the grader's do not set the variable. */
    if (proof_failed == 0 && kit_leak_checks() == 0 && getenv("KIT_REQUIRE_LEAK_CHECK") != NULL) {
        fprintf(stderr, "[test-without-leak-check] %s::%s passed without asking LeakSanitizer "
                "(kit_expect_no_leaks() at its end, or its suite's .fini = kit_fini_leaks): a "
                "fault of the test, which could not have seen a leak\n",
                criterion_current_test->category, criterion_current_test->name);
        abort();
    }
    if (proof_fd != -2)
        return;
    snprintf(what, sizeof what, "test %s::%s failed=%ld", criterion_current_test->category,
             criterion_current_test->name, proof_failed);
    memcpy(req, "proof ", 6);
    k = 6;
    for (size_t i = 0; i < proof_len; i++)
        req[k++] = (char)(proof_secret[i] ^ proof_pad[i]);
    int r = snprintf(req + k, sizeof req - k, " %s\n", what);
    if (r > 0 && (size_t)r < sizeof req - k)
        proof_ask(req, k + (size_t)r, ack, sizeof ack);
    memset(req, 0, sizeof req);
}

ReportHook(POST_ALL)(CR_UNUSED struct criterion_global_stats *stats)
{
    proof_write("runner-end");
}
#endif /* __linux__ */
