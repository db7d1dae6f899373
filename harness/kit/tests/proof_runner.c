/* A small test binary for the kit's own tests of proof.c (test_kit.c, suite kit_proof): linked
 * like a lesson's tests (the proof's wraps, libkit), with two tests that pass and ask
 * LeakSanitizer. With KIT_PROOF_FORK_HANG=1 in a graded runner's environment, proof.c makes
 * every child the runner forks stop short of its start for good, as a copy blocked on a lock of
 * the sanitizer's allocator would: the runner's watchdog must end it and say so on the proof
 * channel. */
#include "kit_test.h"

#include <criterion/criterion.h>

Test(proof_runner, first)
{
    cr_assert(1);
    kit_expect_no_leaks("the first test");
}

Test(proof_runner, second)
{
    cr_assert(1);
    kit_expect_no_leaks("the second test");
}

/* ---- the worker factory (proof.c, "A test's process without an exec") ----------------------
 * Run by test_kit.c with --filter, KIT_WORKER_FROM=factory or exec saying how the runner was
 * told to start its workers, SIGUSR2 ignored and SIGWINCH blocked in the runner's start-up. A
 * worker must start as an exec of the binary would have started it, whichever way it came. */
#include <criterion/hooks.h>
#if defined(__linux__)
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <dirent.h>
#include <unistd.h>

/* Whether the process pid runs as "boxfort-worker" (BoxFort's name for a worker, and the
 * factory's): an argument of its command line (under qemu-user, another process's command line
 * is qemu's, the program's own arguments after its own). */
static int runs_as_worker(pid_t pid)
{
    char path[64], cmd[4096];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, cmd, sizeof cmd - 1) : -1;
    if (fd >= 0)
        close(fd);
    cmd[n > 0 ? n : 0] = '\0';
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(cmd + i) + 1)
        if (strcmp(cmd + i, "boxfort-worker") == 0)
            return 1;
    return 0;
}

/* In the runner, after each test: SIGUSR1 ignored, SIGUSR2 (ignored from the runner's start)
 * back to its default. A worker started later must see both as they now are in the runner,
 * which the factory, started at the first test, did not: it must take them from the relay.
 * (Criterion runs a suite's tests in the order of their names: this one comes last.) */
ReportHook(POST_TEST)(CR_UNUSED struct criterion_test_stats *stats)
{
    if (getenv("KIT_WORKER_FROM") != NULL) {
        signal(SIGUSR1, SIG_IGN);
        signal(SIGUSR2, SIG_DFL);
    }
    /* proof_envchange: the runner's environment changes after its first test. */
    if (getenv("KIT_WORKER_FROM") != NULL && strcmp(getenv("KIT_WORKER_FROM"), "envchange") == 0)
        setenv("KIT_FACTORY_ENV_PROBE", "changed", 1);
}

Test(proof_worker, starts_as_an_exec_would)
{
    const char *from = getenv("KIT_WORKER_FROM"), *map = getenv("BXFI_MAP");
    struct sigaction sa;
    sigset_t mask;
    cr_assert(from != NULL, "[test-setup] KIT_WORKER_FROM is not set");
    cr_assert(map != NULL && strncmp(map, "/bxfi_", 6) == 0, "[worker-env] BXFI_MAP is %s, not "
              "the name of this worker's test", map ? map : "unset");
    cr_assert(getenv("KIT_ZYGOTE_FD") == NULL, "[worker-env] the factory's own variable reached "
              "a worker");
    cr_assert_eq(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1, "[worker-dumpable] a worker is not "
                 "dumpable, as an exec'd one is");
    cr_assert_eq(getsid(0), getpid(), "[worker-session] a worker leads a session of its own");
    cr_assert(sigaction(SIGUSR1, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN, "[worker-signals] "
              "SIGUSR1, ignored by the runner after its first test, is not ignored in a worker");
    cr_assert(sigaction(SIGUSR2, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL, "[worker-signals] "
              "SIGUSR2, ignored when the runner started and set back to its default after its "
              "first test, is not at its default in a worker");
    cr_assert(sigaction(SIGCHLD, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL, "[worker-signals] "
              "SIGCHLD is not at its default in a worker");
    cr_assert(sigprocmask(SIG_BLOCK, NULL, &mask) == 0 && sigismember(&mask, SIGWINCH) == 1 &&
              sigismember(&mask, SIGCHLD) == 0, "[worker-signals] a worker's signal mask is not "
              "the runner's (SIGWINCH blocked, SIGCHLD not)");
    /* Descriptors: their numbers and kinds, for test_kit.c to compare with an exec'd
     * worker's (stdio, nanomsg's, BoxFort's shared memory; never the factory's socket or
     * signalfd, or the proof channel). */
    char fds[1024] = "";
    size_t k = 0;
    DIR *d = opendir("/proc/self/fd");
    cr_assert(d != NULL, "[test-setup] /proc/self/fd: %s", strerror(errno));
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char path[300], to[300] = "";
        long fd = strtol(e->d_name, NULL, 10);
        if (e->d_name[0] == '.' || fd == dirfd(d))
            continue;
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        (void)!readlink(path, to, sizeof to - 1);
        to[strcspn(to, "[")] = '\0';            /* socket:[123] -> socket: */
        if (to[0] == '/' && strchr(to + 1, '/') != NULL)
            strchr(to + 1, '/')[1] = '\0';      /* /dev/shm/bxf_arena_123 -> /dev/ */
        /* The shared memory's numbers are the runner's, which differ from run to run. */
        if (fd < 10)
            k += (size_t)snprintf(fds + k, k < sizeof fds ? sizeof fds - k : 0, " %ld=%s", fd, to);
        else
            k += (size_t)snprintf(fds + k, k < sizeof fds ? sizeof fds - k : 0, " N=%s", to);
    }
    closedir(d);
    printf("[worker-fds]%s\n", fds);
    fflush(stdout);
    if (strcmp(from, "factory") == 0)
        cr_assert(runs_as_worker(getppid()), "[worker-from] KIT_WORKER_FROM=factory, but this "
                  "worker's parent is not the factory: it was exec'd");
    else
        cr_assert(!runs_as_worker(getppid()), "[worker-from] KIT_WORKER_FROM=exec, but this "
                  "worker's parent runs as a worker: the factory was used");
    kit_expect_no_leaks("the worker's state");
}

/* How a worker ended reaches Criterion as it happened: through the relay when a factory made
 * the worker. */
Test(proof_worker, an_exit_status_arrives, .exit_code = 7)
{
    exit(7);
}

Test(proof_worker, a_signal_arrives, .signal = SIGTERM)
{
    raise(SIGTERM);
}

/* Criterion's time limit (a SIGPROF to the worker) ends it: reported "Timed out". */
Test(proof_worker, a_time_limit_arrives, .timeout = 1)
{
    sleep(30);
}

/* The runner's environment changed after the factory started (a library may read it as the
 * program starts, before main, which the factory did with the old one): the next worker is
 * exec'd, and sees the new environment. */
Test(proof_envchange, a_first_from_the_factory)
{
    cr_assert(runs_as_worker(getppid()), "[worker-from] the first worker did not come from the "
              "factory");
    cr_assert(getenv("KIT_FACTORY_ENV_PROBE") == NULL, "[test-setup] the probe is set already");
}

Test(proof_envchange, b_execd_after_a_change)
{
    const char *probe = getenv("KIT_FACTORY_ENV_PROBE");
    cr_assert(probe != NULL && strcmp(probe, "changed") == 0, "[worker-env] a worker started "
              "after the runner changed its environment does not see the change");
    cr_assert(!runs_as_worker(getppid()), "[worker-from] a worker started after the runner "
              "changed its environment came from the factory, which started with the old one");
    kit_expect_no_leaks("after a change of environment");
}

/* A process a test makes beside its own (clone(CLONE_PARENT): a child of the factory, or of the
 * runner) and leaves running is killed when the test's process ends, by the factory's sweep or
 * the runner's; the next test finds it gone. */
static void clone_note_path(char *path, size_t size)
{
    const char *dir = getenv("KIT_PROOF_DIR");
    snprintf(path, size, "%s/clone-pid", dir != NULL ? dir : "/tmp");
}

Test(proof_clone, a_leaves_a_process_beside_it)
{
    char path[512];
    long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0)
        for (;;)
            syscall(SYS_ppoll, NULL, 0, NULL, NULL, 0);   /* system calls only: a raw clone */
    cr_assert(pid > 0, "[test-setup] clone: %s", strerror(errno));
    clone_note_path(path, sizeof path);
    FILE *f = fopen(path, "w");
    cr_assert(f != NULL, "[test-setup] %s: %s", path, strerror(errno));
    fprintf(f, "%ld\n", pid);
    fclose(f);
    kit_expect_no_leaks("a process left beside the test");
}

Test(proof_clone, b_finds_it_gone)
{
    char path[512], stat_path[64], line[512];
    long pid = 0;
    clone_note_path(path, sizeof path);
    FILE *f = fopen(path, "r");
    cr_assert(f != NULL && fscanf(f, "%ld", &pid) == 1 && pid > 0, "[test-setup] no pid in %s",
              path);
    fclose(f);
    snprintf(stat_path, sizeof stat_path, "/proc/%ld/stat", pid);
    int alive = 1;
    for (int i = 0; i < 250 && alive; i++) {
        FILE *st = fopen(stat_path, "r");
        alive = st != NULL && fgets(line, sizeof line, st) != NULL && strstr(line, ") Z ") == NULL;
        if (st != NULL)
            fclose(st);
        if (alive)
            usleep(20000);
    }
    cr_assert(!alive, "[clone-left] the process the test before left beside its own (pid %ld, "
              "made with clone(CLONE_PARENT)) still runs 5 s after that test ended", pid);
    kit_expect_no_leaks("the process left beside the test before");
}

/* The factory killed by a test (its parent): that test's worker goes with it, the run goes
 * on, and the next worker is exec'd (run alone, --jobs=1, in name order). */
Test(proof_factory, a_kills_its_factory, .signal = SIGKILL)
{
    if (!runs_as_worker(getppid()))
        raise(SIGKILL);   /* exec'd: nothing to kill but itself, as the factory's death would */
    kill(getppid(), SIGKILL);
    pause();
}

Test(proof_factory, b_starts_without_it)
{
    cr_assert(!runs_as_worker(getppid()), "[factory-gone] a worker started after its factory "
              "was killed still claims a factory for its parent");
    kit_expect_no_leaks("after the factory");
}
#endif
