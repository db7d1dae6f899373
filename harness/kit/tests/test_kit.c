/* kit's own tests: the test helpers of kit_test.h and the lesson programs' options. */
#include "kit_test.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__) && !defined(KIT_PORTABLE)
#include <sys/prctl.h>
#endif
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Every test ends with the leak check the lessons' tests end with, after its clean-ups; the one
 * that leaks a block on purpose (to see the check find it) is in a suite of its own. */
static void fini(void)
{
    kit_cleanup();
    kit_fini_leaks();
}

static void fini_unchecked(void)
{
    kit_cleanup();
}

TestSuite(kit_test, .fini = fini, .timeout = 20);
TestSuite(kit_leak_check, .fini = fini_unchecked, .timeout = 20);
TestSuite(kit_options, .fini = fini, .timeout = 20);
TestSuite(kit_server, .fini = fini, .timeout = 20);

/* ---- clean-ups ------------------------------------------------------------------------- */

static char order[16];
static size_t n_order;

static void note(void *arg)
{
    order[n_order++] = *(const char *)arg;
}

Test(kit_test, deferred_clean_ups_run_last_first_and_once)
{
    static const char a = 'a', b = 'b', c = 'c';

    kit_defer(note, (void *)&a);
    kit_defer(note, (void *)&b);
    kit_defer(note, (void *)&c);
    kit_cleanup();
    kit_cleanup();
    cr_assert_eq(n_order, 3, "[kit-defer] %zu clean-ups ran, expected 3 (each once)", n_order);
    cr_assert(memcmp(order, "cba", 3) == 0, "[kit-defer] ran in order %.3s, expected cba", order);
    kit_expect_no_leaks("kit_cleanup");
}

Test(kit_test, allocations_are_zeroed_and_freed)
{
    long *v = kit_alloc_array(7, sizeof *v);
    char *s = kit_sprintf("%s-%d", "tag", 42);
    void *empty = kit_alloc_array(0, 8);

    for (int i = 0; i < 7; i++)
        cr_assert_eq(v[i], 0, "[kit-alloc] element %d is %ld, expected 0", i, v[i]);
    cr_assert_str_eq(s, "tag-42");
    cr_assert_not_null(empty, "[kit-alloc] an empty array must still be a block");
    kit_expect_no_leaks("kit_alloc");
}

/* A block of exactly the size asked: one element past the end is an ASan report (it is in the
 * log of every run of these tests, expected: the test passes when ASan stops the process). */
Test(kit_test, one_past_the_end_is_caught, .exit_code = 1)
{
    volatile int *v = kit_alloc_array(3, sizeof *v);
    v[3] = 1;
}

/* The kit's sanitizer defaults turn off the check at a test process's exit, never the one a
 * test asks for: a block no pointer reaches is found, and once it is freed nothing is. */
static void *volatile kept;
int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static __attribute__((noinline)) void lose_a_block(void)
{
    kept = malloc(33);
    kept = NULL; /* the only pointer to the block is gone */
}

Test(kit_leak_check, a_leak_is_found_when_a_test_asks)
{
    void *p = malloc(33);

    cr_assert_not_null(p);
    kept = p;
    p = NULL;
    cr_assert(!kit_leaked(), "[kit-leak] a block still pointed to was reported as leaked");
    free(kept);
    if (__lsan_do_recoverable_leak_check == NULL)
        return;   /* built without LeakSanitizer (the arm64 build under qemu): nothing to find */
    lose_a_block();
    cr_assert(kit_leaked(), "[kit-leak] an unreachable block of 33 bytes was not reported: "
              "is LeakSanitizer off in the kit's defaults (__asan_default_options)?");
}

Test(kit_test, words)
{
    cr_assert_str_eq(kit_errname(-ETIMEDOUT), "-ETIMEDOUT");
    cr_assert_str_eq(kit_errname(ENOENT), "ENOENT");
    cr_assert_str_eq(kit_errname(0), "0");
    cr_assert_str_eq(kit_errname(-99999), "-99999");
    cr_assert_str_eq(kit_plural(1, "request", "requests"), "request");
    cr_assert_str_eq(kit_plural(0, "request", "requests"), "requests");
    cr_assert_str_eq(kit_plural(2, "request", "requests"), "requests");
    {
        static const struct { long n; const char *want; } ord[] = {
            { 1, "1st" }, { 2, "2nd" }, { 3, "3rd" }, { 4, "4th" }, { 10, "10th" },
            { 11, "11th" }, { 12, "12th" }, { 13, "13th" }, { 21, "21st" }, { 22, "22nd" },
            { 33, "33rd" }, { 111, "111th" }, { 112, "112th" }, { 101, "101st" }, { 0, "0th" },
        };
        for (size_t i = 0; i < sizeof ord / sizeof ord[0]; i++)
            cr_assert_str_eq(kit_ordinal(ord[i].n), ord[i].want, "[kit-ordinal] %ld", ord[i].n);
    }
}

Test(kit_test, seeded_shuffles_repeat_and_permute)
{
    size_t a[33], b[33], seen[33] = { 0 };
    uint32_t s1 = 1234, s2 = 1234;
    int moved = 0;

    kit_shuffle(a, 33, &s1);
    kit_shuffle(b, 33, &s2);
    for (size_t i = 0; i < 33; i++) {
        cr_assert_eq(a[i], b[i], "[kit-seed] the same seed gave two different orders");
        cr_assert_lt(a[i], 33);
        seen[a[i]]++;
        moved += a[i] != i;
    }
    for (size_t i = 0; i < 33; i++)
        cr_assert_eq(seen[i], 1, "[kit-seed] index %zu appears %zu times", i, seen[i]);
    cr_assert_gt(moved, 0, "[kit-seed] the shuffle left every index in place");
}

/* kit_wait_until: it stops at the first step where the condition holds, and at its bound
 * when it never does; kit_expect_waited passes a met wait and one that never ran. */
Test(kit_test, a_wait_ends_on_evidence_or_at_its_bound)
{
    struct kit_wait w = { .what = "a counter to reach 3" };
    struct kit_wait never = { .what = "nothing", .bound_s = 0.05 };
    struct kit_wait unused = { .what = "a wait that did not run" };
    int counter = 0;

    kit_wait_until(&w, counter >= 3, counter++);
    cr_assert(w.tried && w.met && w.steps == 3 && counter == 3, "met %d after %ld steps "
              "(counter %d)", w.met, w.steps, counter);
    kit_expect_waited(&w);
    kit_expect_waited(&unused);
    kit_wait_until(&never, 0, (void)0);
    cr_assert(never.tried && !never.met && never.waited_s >= 0.05 && never.waited_s < 1.0,
              "a wait bound at 0.05 s: met %d after %.3f s", never.met, never.waited_s);
    kit_expect_premise(w.met, "a premise that holds");
}

Test(kit_test, seed_comes_from_the_environment)
{
    setenv("KIT_SEED", "987", 1);
    cr_assert_eq(kit_seed(), 987u);
    cr_assert_eq(kit_seed(), 987u, "[kit-seed] the seed must stay the same within a run");
}

/* ---- the programs' options --------------------------------------------------------------- */

static const char *const modes[] = { "seq", "conc", NULL };

static char *urls_file(const char *text)
{
    char *path = kit_sprintf("/tmp/kit-urls-%d.txt", (int)getpid());
    FILE *f = fopen(path, "w");

    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

Test(kit_options, trailing_slash_and_defaults)
{
    char *argv[] = { "prog", "--url", "http://127.0.0.1:9/", "--mode", "seq", NULL };
    struct kit_options o = { .mode = "conc", .n = 10, .delay_ms = 200 };

    optind = 1;
    kit_parse_options(5, argv, modes, 1, 100, &o);
    cr_assert_str_eq(o.url, "http://127.0.0.1:9");
    cr_assert_str_eq(o.mode, "seq");
    cr_assert_eq(o.n, 10);
    cr_assert_eq(o.delay_ms, 200);
    cr_assert_null(o.urls);
}

Test(kit_options, a_urls_file_is_read_and_repeated)
{
    char *path = urls_file("# a comment\n  http://a/1  \n\nhttp://b/2\r\nhttp://c/3\n");
    char *argv[] = { "prog", "--urls", path, "--n", "7", NULL };
    struct kit_options o = { .mode = "conc", .n = 10, .delay_ms = 200 };
    const char *want[] = { "http://a/1", "http://b/2", "http://c/3" };

    optind = 1;
    kit_parse_options_urls(5, argv, modes, 1, 100, &o);
    cr_assert_eq(o.n, 7);
    for (int i = 0; i < 7; i++)
        cr_assert_str_eq(o.urls[i], want[i % 3], "[kit-urls] urls[%d] is %s", i, o.urls[i]);
    kit_options_free(&o);
    unlink(path);
    kit_expect_no_leaks("kit_parse_options_urls");
}

Test(kit_options, a_urls_file_alone_sets_n)
{
    char *path = urls_file("http://a/1\nhttp://b/2\n");
    char *argv[] = { "prog", "--urls", path, NULL };
    struct kit_options o = { .mode = "conc", .n = 10, .delay_ms = 200 };

    optind = 1;
    kit_parse_options_urls(3, argv, modes, 1, 100, &o);
    cr_assert_eq(o.n, 2);
    kit_options_free(&o);
    unlink(path);
    kit_expect_no_leaks("kit_parse_options_urls");
}

/* The calls run in a child: the parser with the options of these tests, a lesson's --k. */
static void run_parser(int argc, char **argv)
{
    struct kit_options o = { .mode = "conc", .n = 10, .delay_ms = 200 };

    optind = 1;
    kit_parse_options_urls(argc, argv, modes, 1, 100, &o);
}

static void run_take_k(int argc, char **argv)
{
    kit_take_long(&argc, argv, "k", 1, 1000, 5);
}

/* Run fn in a child; return its exit status (42 when fn returned) and what it printed on
 * stdout and stderr. */
static int in_child(void (*fn)(int, char **), char **argv, int argc, char *out, size_t cap)
{
    int fds[2], status;
    pid_t pid;
    size_t len = 0;
    ssize_t got;

    cr_assert_eq(pipe(fds), 0);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        fn(argc, argv);
        _exit(42);
    }
    close(fds[1]);
    while (len < cap - 1 && (got = read(fds[0], out + len, cap - 1 - len)) > 0)
        len += (size_t)got;
    out[len] = '\0';
    close(fds[0]);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(kit_options, help_answers_and_bad_options_refuse)
{
    char out[4096];
    char *help[] = { "prog", "--help", NULL };
    char *bad[] = { "prog", "--url", "http://x", "--n", "0", NULL };
    char *missing[] = { "prog", "--mode", "seq", NULL };
    char *nofile[] = { "prog", "--urls", "/nonexistent/urls.txt", NULL };

    cr_assert_eq(in_child(run_parser, help, 2, out, sizeof out), 0, "[kit-help] --help must exit 0");
    cr_assert(strstr(out, "--urls FILE") != NULL && strstr(out, "--mode") != NULL,
              "[kit-help] --help printed: %s", out);
    cr_assert_eq(in_child(run_parser, bad, 5, out, sizeof out), 2, "[kit-usage] --n 0 must exit 2");
    cr_assert(strstr(out, "--n must be a whole number from 1 to 100") != NULL, "%s", out);
    cr_assert_eq(in_child(run_parser, missing, 3, out, sizeof out), 2);
    cr_assert(strstr(out, "--url (or --urls) is required") != NULL, "%s", out);
    cr_assert_eq(in_child(run_parser, nofile, 3, out, sizeof out), 2);
    cr_assert(strstr(out, "/nonexistent/urls.txt") != NULL, "%s", out);
}

Test(kit_options, a_lesson_option_is_taken_out_and_checked)
{
    char *argv[] = { "prog", "--slow", "7", "--url", "http://x", "--slow-ms=900", "--slow=8",
                     "--n", "3", NULL };
    int argc = 9;

    cr_assert_eq(kit_take_long(&argc, argv, "slow", 0, 100, 50), 8,
                 "[kit-take] --slow 7 then --slow=8: the last one wins");
    cr_assert_eq(argc, 6, "[kit-take] two --slow options taken out of 9 arguments leave 6, not %d", argc);
    cr_assert_str_eq(argv[3], "--slow-ms=900", "[kit-take] --slow took --slow-ms or moved it");
    cr_assert_null(argv[6], "[kit-take] argv must stay NULL-terminated");
    cr_assert_eq(kit_take_long(&argc, argv, "slow-ms", 0, 600000, 1000), 900);
    cr_assert_eq(kit_take_long(&argc, argv, "hedge", 0, 600000, 50), 50, "[kit-take] absent: the default");
    cr_assert_eq(argc, 5);
    cr_assert(strcmp(argv[1], "--url") == 0 && strcmp(argv[3], "--n") == 0 && strcmp(argv[4], "3") == 0,
              "[kit-take] the other options must stay, in order");
}

Test(kit_options, a_bad_lesson_option_refuses)
{
    char out[512];
    char *zero[] = { "prog", "--k", "0", NULL };
    char *word[] = { "prog", "--k=five", NULL };
    char *empty[] = { "prog", "--k=", NULL };

    cr_assert_eq(in_child(run_take_k, zero, 3, out, sizeof out), 2, "[kit-take] --k 0 below 1 must exit 2");
    cr_assert(strstr(out, "--k: expected an integer 1..1000, got '0'") != NULL, "%s", out);
    cr_assert_eq(in_child(run_take_k, word, 2, out, sizeof out), 2, "[kit-take] --k=five must exit 2");
    cr_assert(strstr(out, "got 'five'") != NULL, "%s", out);
    cr_assert_eq(in_child(run_take_k, empty, 2, out, sizeof out), 2, "[kit-take] --k= must exit 2");
}

/* Three busy processes on one CPU: this one gets about a third of it, and the time it waited
 * for the CPU is what kit_starved_s() counts. */
Test(kit_test, time_kept_from_a_cpu_is_counted)
{
    cpu_set_t one;
    double before = kit_starved_s(), idle;

    CPU_ZERO(&one);
    CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
    cr_assert_eq(sched_setaffinity(0, sizeof one, &one), 0, "[harness] cannot pin the test to a CPU");
    idle = kit_starved_s();
    cr_assert_geq(idle, before, "[kit-starved] the count went down: %.6f then %.6f", before, idle);
    pid_t spinners[2];
    for (int i = 0; i < 2; i++) {
        spinners[i] = fork();
        cr_assert_geq(spinners[i], 0);
        if (spinners[i] == 0) {
            double t0 = kit_wall();
            while (kit_wall() - t0 < 0.6)
                ;
            _exit(0);
        }
    }
    double t0 = kit_wall();
    while (kit_wall() - t0 < 0.6)
        ;
    double busy = kit_starved_s() - idle;
    for (int i = 0; i < 2; i++)
        waitpid(spinners[i], NULL, 0);
    cr_assert(busy > 0.1, "[kit-starved] sharing one CPU with two spinners for 0.6 s, the test "
              "waited %.3f s for it by the count; about 0.4 s expected", busy);
    cr_assert(busy < 2.0, "[kit-starved] %.3f s of waiting counted in 0.6 s: not seconds?", busy);
}

static void *spin_half_a_second(void *arg)
{
    double t0 = kit_wall();

    (void)arg;
    while (kit_wall() - t0 < 0.5)
        ;
    return NULL;
}

/* Two threads of this process spin on one CPU, waiting for it half the time, while the test's
 * own thread sleeps: nothing is counted, so code under test cannot hide a slow answer behind
 * threads that are always ready. */
Test(kit_test, other_threads_waiting_are_not_counted)
{
    cpu_set_t one;
    pthread_t t[2];

    CPU_ZERO(&one);
    CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
    cr_assert_eq(sched_setaffinity(0, sizeof one, &one), 0, "[harness] cannot pin the test to a CPU");
    double before = kit_starved_s();
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, spin_half_a_second, NULL), 0);
    struct timespec nap = { .tv_sec = 0, .tv_nsec = 600 * 1000 * 1000 };
    nanosleep(&nap, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    double counted = kit_starved_s() - before;
    cr_assert(counted < 0.15, "[kit-starved] two spinning threads waited for the CPU while the "
              "test's thread slept, and %.3f s was counted: only the calling thread's waits count",
              counted);
}

/* ---- telling delayd from another server -------------------------------------------------- */

/* A server that is not delayd: it answers every request 404, and counts what it was sent. */
struct plain {
    int fd;
    int port;
    int requests;
    char first[8][64];
};

static void *serve_plain(void *arg)
{
    struct plain *p = arg;
    int c;

    while ((c = accept(p->fd, NULL, NULL)) >= 0) {
        char buf[2048];
        ssize_t got = read(c, buf, sizeof buf - 1);
        static const char reply[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                                    "Connection: close\r\n\r\n";

        if (got > 0) {
            buf[got] = '\0';
            if (p->requests < 8)
                snprintf(p->first[p->requests], sizeof p->first[0], "%.*s",
                         (int)strcspn(buf, "\r\n"), buf);
            p->requests++;
            if (write(c, reply, sizeof reply - 1) < 0)
                perror("write");
        }
        close(c);
    }
    return NULL;
}

Test(kit_server, another_server_is_only_asked_for_stats)
{
    struct plain *p = kit_alloc(sizeof *p);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    pthread_t t;

    p->fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_eq(bind(p->fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(p->fd, 8), 0);
    getsockname(p->fd, (struct sockaddr *)&a, &len);
    pthread_create(&t, NULL, serve_plain, p);
    cr_assert_eq(kit_server_kind(kit_sprintf("http://127.0.0.1:%d", ntohs(a.sin_port))),
                 KIT_SERVER_OTHER);
    shutdown(p->fd, SHUT_RDWR);
    close(p->fd);
    pthread_join(t, NULL);
    cr_assert_eq(p->requests, 1, "[kit-server] another server was sent %d requests", p->requests);
    cr_assert(strncmp(p->first[0], "GET /stats ", 11) == 0, "[kit-server] it was sent '%s'",
              p->first[0]);
}

Test(kit_server, delayd_is_recognised_and_reset)
{
    const char *base = kit_server_start(NULL);
    struct kit_stats st;

    cr_assert_eq(kit_get(kit_sprintf("%s/delay/0", base), NULL, NULL, NULL), 0);
    cr_assert_eq(kit_server_kind(base), KIT_SERVER_DELAYD);
    cr_assert_eq(kit_stats_get(base, &st), 0);
    cr_assert_eq(st.requests, 0, "[kit-server] delayd's counts were not reset (%ld requests)",
                 st.requests);
    kit_server_stop();
}

Test(kit_server, nothing_listening_is_unreachable)
{
    cr_assert_eq(kit_server_kind("http://127.0.0.1:1"), -1);
}

/* A test process that crashes never calls kit_server_stop(): its server must stop anyway, or
 * a class's crashing submissions would leave hundreds of servers running. This process adopts
 * its orphans (a subreaper), so the server, once its starter is killed, becomes our child and
 * its end can be waited for and checked. */
Test(kit_server, a_killed_test_process_takes_its_server_with_it)
{
#if defined(__linux__) && !defined(KIT_PORTABLE)
    double until;
    int reaped = 0;
    int server_status = -1;
    pid_t starter;
    int status;

    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        /* qemu-user (make check-arm64) does not pass this request on to the kernel. */
        if (errno == EINVAL)
            cr_skip("this system cannot make a process adopt orphans (PR_SET_CHILD_SUBREAPER)");
        cr_assert_fail("[kit-server] prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
    }
    starter = fork();
    cr_assert_geq(starter, 0, "[kit-server] fork: %s", strerror(errno));
    if (starter == 0) {
        kit_server_start(NULL);   /* returns once the server answers */
        raise(SIGKILL);
    }
    /* Two ends to see: the starter's (killed) and the server's (SIGTERM, then a clean exit). */
    until = kit_wall() + 10;
    while (reaped < 2 && kit_wall() < until) {
        pid_t pid = waitpid(-1, &status, WNOHANG);

        if (pid > 0 && pid != starter) {
            server_status = status;
            reaped++;
        } else if (pid == starter) {
            cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                      "[kit-server] the starter ended with status 0x%x", (unsigned)status);
            reaped++;
        } else if (pid < 0) {
            break;
        } else {
            usleep(10000);
        }
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    cr_assert_eq(reaped, 2, "[kit-server-orphan] 10 s after its test process was killed, its "
                 "server was still running; the server must be started with --parent.");
    cr_assert(WIFEXITED(server_status) && WEXITSTATUS(server_status) == 0,
              "[kit-server-orphan] the orphaned server ended with status 0x%x; it should get "
              "SIGTERM and exit 0", (unsigned)server_status);
#else
    cr_skip("a server that outlives a crashed test is stopped on Linux only (not in PORTABLE=1)");
#endif
}

/* The kit shows Criterion only the program and libcriterion when it looks for its sections
 * (kit.c); every other caller of dl_iterate_phdr, the sanitizers' leak scan among them, must
 * still see every module, or LeakSanitizer would miss pointers held in a library's globals. */
#if defined(__linux__) && !defined(KIT_PORTABLE)
#include <link.h>

struct modules_seen {
    int count;
    int libc;
    int curl;
};

static int count_module(struct dl_phdr_info *info, size_t size, void *data)
{
    struct modules_seen *seen = data;

    (void)size;
    seen->count++;
    seen->libc += info->dlpi_name != NULL && strstr(info->dlpi_name, "/libc.so") != NULL;
    seen->curl += info->dlpi_name != NULL && strstr(info->dlpi_name, "/libcurl") != NULL;
    return 0;
}
#endif

Test(kit_test, every_module_is_listed_outside_criterion)
{
#if defined(__linux__) && !defined(KIT_PORTABLE)
    struct modules_seen seen = { 0, 0, 0 };

    dl_iterate_phdr(count_module, &seen);
    cr_assert(seen.count >= 10 && seen.libc == 1 && seen.curl == 1,
              "[kit-modules] dl_iterate_phdr called from a test listed %d modules (libc %d, "
              "libcurl %d); every loaded module must be listed to any caller but Criterion",
              seen.count, seen.libc, seen.curl);
#else
    cr_skip("Linux only");
#endif
}

/* ---- the grader's proof (proof.c) ----------------------------------------------------------- */

#if defined(__linux__)
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>

TestSuite(kit_proof, .fini = fini, .timeout = 60);

extern char **environ;

struct proof_run {
    int status;        /* the runner's wait status, or -1 when it had to be killed */
    char proofs[4096]; /* what it wrote on the proof channel */
    char log[16384];   /* its stdout and stderr */
    const char *nonce;
};

static void slurp(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;
    buf[n > 0 ? n : 0] = '\0';
    if (fd >= 0)
        close(fd);
}

/* Runs the proof's runner (build/kit/proof-runner, beside this program) as the grader does:
 * KIT_PROOF_DIR holding a nonce, the proof channel on descriptor 3. */
static void run_proof_runner(struct proof_run *r, const char *filter, const char *const *extra)
{
    char exe[4096], runner[4200], dir[] = "/tmp/kit-proof.XXXXXX", path[4300];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    cr_assert(n > 0, "[test-setup] readlink /proc/self/exe: %s", strerror(errno));
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    snprintf(runner, sizeof runner, "%s/proof-runner", exe);
    cr_assert(mkdtemp(dir) != NULL, "[test-setup] mkdtemp: %s", strerror(errno));
    r->nonce = "kit-test-nonce-4242";
    snprintf(path, sizeof path, "%s/nonce", dir);
    FILE *f = fopen(path, "w");
    cr_assert(f != NULL, "[test-setup] %s: %s", path, strerror(errno));
    fprintf(f, "%s\n", r->nonce);
    fclose(f);
    snprintf(path, sizeof path, "%s/proofs", dir);
    int proofs = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    snprintf(path, sizeof path, "%s/log", dir);
    int log = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_assert(proofs >= 0 && log >= 0, "[test-setup] the proof runner's files: %s", strerror(errno));

    char *env[64], dir_env[64], filter_arg[128];
    char *argv[] = { runner, "--jobs=1", filter_arg, NULL };
    size_t k = 0;
    snprintf(filter_arg, sizeof filter_arg, "--filter=%s", filter);
    snprintf(dir_env, sizeof dir_env, "KIT_PROOF_DIR=%s", dir);
    env[k++] = dir_env;
    env[k++] = "KIT_PROOF_FD=3";
    env[k++] = "KIT_PROOF_SPAWN_MS=2000";
    for (size_t i = 0; extra != NULL && extra[i] != NULL && k < 16; i++)
        env[k++] = (char *)extra[i];
    /* The factory turned off for the whole run (check-arm64.sh: qemu-user) stays off. */
    if (getenv("KIT_ZYGOTE") != NULL && strcmp(getenv("KIT_ZYGOTE"), "0") == 0)
        env[k++] = "KIT_ZYGOTE=0";
    for (char **e = environ; *e != NULL && k < 63; e++)
        if (strncmp(*e, "KIT_", 4) != 0 && strncmp(*e, "BXFI_", 5) != 0 &&
            strncmp(*e, "CRITERION_", 10) != 0)
            env[k++] = *e;
    env[k] = NULL;

    /* The runner starts with SIGUSR2 ignored and SIGWINCH blocked, which an exec'd worker
     * inherits and a worker from the factory must take on (proof_runner.c, proof_worker). */
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t mask;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, proofs, 3);
    posix_spawn_file_actions_adddup2(&fa, log, 1);
    posix_spawn_file_actions_adddup2(&fa, log, 2);
    posix_spawnattr_init(&attr);
    sigemptyset(&mask);
    sigaddset(&mask, SIGWINCH);
    posix_spawnattr_setsigmask(&attr, &mask);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    pid_t pid;
    void (*usr2)(int) = signal(SIGUSR2, SIG_IGN);
    int rc = posix_spawn(&pid, runner, &fa, &attr, argv, env);
    signal(SIGUSR2, usr2);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    close(proofs);
    close(log);
    cr_assert_eq(rc, 0, "[test-setup] %s did not start: %s (is it built?)", runner, strerror(rc));

    /* 40 s: the watchdog needs 2; a runner still going then is the hang this guards against. */
    double until = kit_wall() + 40;
    r->status = -1;
    while (kit_wall() < until) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            r->status = st;
            break;
        }
        usleep(20000);
    }
    if (r->status == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    snprintf(path, sizeof path, "%s/proofs", dir);
    slurp(path, r->proofs, sizeof r->proofs);
    snprintf(path, sizeof path, "%s/log", dir);
    slurp(path, r->log, sizeof r->log);
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0, "[test-setup] could not remove %s", dir);
}

static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return 1;
    return 0;
}

/* The control: both tests prove their end, the runner its own, and no spawn is called stuck. */
Test(kit_proof, a_runner_whose_forks_start_proves_every_test)
{
    struct proof_run r;
    char want[128];
    run_proof_runner(&r, "proof_runner/*", NULL);
    cr_assert(r.status != -1, "[proof-runner-hung] the proof runner had not ended after 40 s; "
              "its log: %s", r.log);
    cr_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "[proof-runner] the proof "
              "runner ended with status 0x%x; its log: %s", (unsigned)r.status, r.log);
    const char *lines[] = { "test proof_runner::first failed=0",
                            "test proof_runner::second failed=0", "runner-end" };
    for (size_t i = 0; i < 3; i++) {
        snprintf(want, sizeof want, "kit-proof %s %s", r.nonce, lines[i]);
        cr_assert(has_line(r.proofs, want), "[proof-missing] no \"%s\" on the proof channel; it "
                  "held: %s", want, r.proofs);
    }
    cr_assert(strstr(r.proofs, "spawn-stuck") == NULL && strstr(r.log, "runner-fork-stuck") ==
              NULL, "[spawn-stuck-false] a spawn that started was called stuck: %s%s", r.proofs,
              r.log);
    kit_expect_no_leaks("the proof runner's test");
}

/* A forked copy that never reaches its exec (here a pthread_atfork handler that sleeps, as a
 * copy blocked on a lock of the sanitizer's allocator does) must not hang the runner: the
 * watchdog ends it, writes spawn-stuck for the grader, and the runner stops. */
Test(kit_proof, a_fork_that_never_starts_is_ended_and_reported)
{
    struct proof_run r;
    char want[128];
    const char *hang[] = { "KIT_PROOF_FORK_HANG=1", NULL };
    run_proof_runner(&r, "proof_runner/*", hang);
    cr_assert(r.status != -1, "[spawn-stuck-hung] a forked copy that never started hung the "
              "runner for 40 s; the watchdog should end it after 2 s. Log: %s", r.log);
    snprintf(want, sizeof want, "kit-proof %s spawn-stuck", r.nonce);
    cr_assert(has_line(r.proofs, want), "[spawn-stuck-unsaid] the runner ended (status 0x%x) "
              "without \"%s\" on the proof channel, which held: %s", (unsigned)r.status, want,
              r.proofs);
    cr_assert(strstr(r.log, "[runner-fork-stuck]") != NULL, "[spawn-stuck-unsaid] the runner's "
              "log does not say [runner-fork-stuck]: %s", r.log);
    cr_assert(strstr(r.proofs, " test proof_runner::") == NULL, "[spawn-stuck] a test proved "
              "its end although no worker started: %s", r.proofs);
    kit_expect_no_leaks("the proof runner's test");
}
/* The worker factory (proof.c): a worker it makes starts as an exec'd one would (the runner's
 * ignored signals and mask, dumpable, a session of its own, the same descriptors), its end
 * reaches Criterion as it happened (an exit status, a signal, Criterion's time limit), and its
 * test proves its end. With KIT_ZYGOTE=0 the workers are exec'd, and the same tests pass. */
static void expect_worker_run(struct proof_run *r, const char *from, const char *const *extra)
{
    char want[160];
    run_proof_runner(r, "proof_worker/*", extra);
    cr_assert(r->status != -1, "[proof-runner-hung] the runner (workers: %s) had not ended "
              "after 40 s; its log: %s", from, r->log);
    cr_assert(strstr(r->log, "Tested: 4 | Passing: 3 | Failing: 1 | Crashing: 0") != NULL,
              "[worker-%s] the runner's synthesis is not 4 tested, 3 passing, 1 failing (the time "
              "limit); its log: %s", from, r->log);
    cr_assert(strstr(r->log, "a_time_limit_arrives: Timed out") != NULL, "[worker-%s] the test "
              "past its time limit is not reported \"Timed out\"; the log: %s", from, r->log);
    snprintf(want, sizeof want, "kit-proof %s test proof_worker::starts_as_an_exec_would "
             "failed=0", r->nonce);
    cr_assert(has_line(r->proofs, want), "[proof-missing] (workers: %s) no \"%s\" on the proof "
              "channel; it held: %s", from, want, r->proofs);
}

/* The line "[worker-fds] ..." a worker printed (its descriptors), cut at its end. */
static const char *fds_line(char *log)
{
    char *p = strstr(log, "[worker-fds]");
    if (p != NULL)
        p[strcspn(p, "\n")] = '\0';
    return p != NULL ? p : "(none)";
}

Test(kit_proof, a_worker_from_the_factory_starts_as_an_exec_would)
{
    static struct proof_run exec, factory;
    const char *exec_env[] = { "KIT_WORKER_FROM=exec", "KIT_ZYGOTE=0", NULL };
    const char *factory_env[] = { "KIT_WORKER_FROM=factory", NULL };
    expect_worker_run(&exec, "exec", exec_env);
    expect_worker_run(&factory, "factory", factory_env);
    const char *a = fds_line(exec.log), *b = fds_line(factory.log);
    cr_assert_str_eq(a, b, "[worker-fds] a worker from the factory holds other descriptors than "
                     "an exec'd one: %s, against %s", b, a);
    kit_expect_no_leaks("the factory's workers");
}

/* A run of the proof runner's tests FILTER that must end with status 0, its two tests passed;
 * ID and WHAT name the case in the messages. */
static void expect_two_passed(const char *filter, const char *const *extra, const char *id,
                              const char *what)
{
    struct proof_run r;
    run_proof_runner(&r, filter, extra);
    cr_assert(r.status != -1 && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
              "[%s] %s, the runner ended with status 0x%x (-1: hung); its log: %s", id, what,
              (unsigned)r.status, r.log);
    cr_assert(strstr(r.log, "Tested: 2 | Passing: 2 | Failing: 0 | Crashing: 0") != NULL,
              "[%s] %s, not both tests passed; the log: %s", id, what, r.log);
}

Test(kit_proof, a_changed_environment_is_execd)
{
    const char *extra[] = { "KIT_WORKER_FROM=envchange", NULL };
    expect_two_passed("proof_envchange/*", extra, "factory-env",
                      "with its environment changed after the first test");
    kit_expect_no_leaks("the changed environment");
}

Test(kit_proof, a_process_left_beside_a_test_is_killed)
{
    const char *exec_env[] = { "KIT_ZYGOTE=0", NULL };
    expect_two_passed("proof_clone/*", NULL, "clone-left",
                      "with a test's clone(CLONE_PARENT) left running (workers from the factory)");
    expect_two_passed("proof_clone/*", exec_env, "clone-left",
                      "with a test's clone(CLONE_PARENT) left running (exec'd workers)");
    kit_expect_no_leaks("the process left beside a test");
}

Test(kit_proof, a_killed_factory_leaves_the_run_going)
{
    expect_two_passed("proof_factory/*", NULL, "factory-killed",
                      "with its factory killed by a test");
    kit_expect_no_leaks("the killed factory");
}
#endif
