/* delayd against bad input and bad clients: it answers 4xx, forgets clients that leave, stops
 * cleanly with requests asleep, and rejects a bad command line with one line and exit 2. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define LONG_PATH (100 * 1024)   /* a request line far over MHD's 8 KiB per connection */
#define SLEEPERS 5               /* clients of each kind that vanish while suspended */
#define STOP_WAIT_S 10.0         /* how long a stopping server may take */

static const char *base;

/* .init: this test's private server with the default flags. */
static void start(void)
{
    base = server(NULL);
}

TestSuite(robust, .fini = kit_fini_leaks, .timeout = SUITE_TIMEOUT);

/* The server still answers a plain request. */
static void still_serving(const char *after)
{
    long status = get(base, "/delay/0", NULL);

    cr_assert_eq(status, 200, "[alive] after %s, GET /delay/0 answered %ld; the server should "
                 "keep serving.", after, status);
}

/* Send a raw request: the answer must be 4xx and the server must go on serving. */
static void expect_4xx(const char *what, const char *request, size_t len)
{
    int status = raw_exchange(base, request, len, 5000);

    cr_expect(status >= 400 && status < 500,
              "[malformed-%s] the server answered %d to %s; expected a 4xx status.", what,
              status, what);
    still_serving(what);
}

/* A request line without a single space: libmicrohttpd 0.9.75 closes such a connection at
 * once without a status line (it cannot tell what protocol this is); a 4xx would do too.
 * What must not happen is an answer other than 4xx, or a connection left hanging. */
static void expect_4xx_or_close(const char *what, const char *request, size_t len)
{
    int status = raw_exchange(base, request, len, 5000);

    cr_expect(status == 0 || (status >= 400 && status < 500),
              "[malformed-%s] the server %s to %s; expected a 4xx status or an immediate "
              "close.", what, status == RAW_SILENT ? "neither answered nor closed" : "answered",
              what);
    still_serving(what);
}

Test(robust, malformed_requests_get_4xx, .init = start)
{
    static const char garbage[] = "GARBAGE\r\n\r\n";
    static const char method[] = "BREW /delay/0 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    static const char bad_method[] = "G@T /delay/0 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    static const char no_version[] = "GARBAGE X\r\n\r\n";
    static const char bad_header[] = "GET /delay/0 HTTP/1.1\r\nHost: t\r\nno colon here\r\n\r\n";
    char *long_path = malloc(LONG_PATH + 64);
    long left;
    int len;

    expect_4xx_or_close("garbage", garbage, sizeof garbage - 1);
    expect_4xx("no-version", no_version, sizeof no_version - 1);
    expect_4xx("unknown-method", method, sizeof method - 1);
    expect_4xx("bad-method", bad_method, sizeof bad_method - 1);
    expect_4xx("bad-header", bad_header, sizeof bad_header - 1);
    cr_assert_not_null(long_path);
    len = sprintf(long_path, "GET /");
    memset(long_path + len, 'a', LONG_PATH);
    len += LONG_PATH;
    len += sprintf(long_path + len, " HTTP/1.1\r\nHost: t\r\n\r\n");
    expect_4xx("long-path", long_path, (size_t)len);
    free(long_path);
    /* A client can hold its whole answer a moment before the server's worker reports the
     * request complete, so in_flight is polled rather than read once. */
    left = wait_in_flight(base, 0, 10);
    cr_expect_eq(left, 0, "[flight-zero] in_flight is %ld after the bad requests", left);
}

/* Open a connection and send a request that will sleep; returns the fd. */
static int sleeper(const char *request)
{
    int fd = raw_connect(base);
    size_t len = strlen(request);

    cr_assert_geq(fd, 0, "[connect] cannot connect to %s", base);
    cr_assert_eq(send(fd, request, len, MSG_NOSIGNAL), (ssize_t)len, "[send] send failed");
    return fd;
}

Test(robust, vanished_clients_leave_nothing_in_flight, .init = start)
{
    static const char *requests[] = {
        "GET /delay/600000 HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /hang HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /drip?bytes=100&duration_ms=600000 HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /limited?delay_ms=600000 HTTP/1.1\r\nHost: t\r\n\r\n",
    };
    enum { KINDS = sizeof requests / sizeof requests[0] };
    int fds[KINDS * SLEEPERS];
    int half;
    long left;

    for (int i = 0; i < KINDS * SLEEPERS; i++)
        fds[i] = sleeper(requests[i % KINDS]);
    /* One more that leaves in the middle of its headers. */
    half = sleeper("GET /delay/0 HTTP/1.1\r\nHos");
    close(half);
    left = wait_in_flight(base, KINDS * SLEEPERS, 10);
    cr_assert_eq(left, KINDS * SLEEPERS, "[sleep-flight] %ld in flight; expected %d sleeping",
                 left, KINDS * SLEEPERS);
    for (int i = 0; i < KINDS * SLEEPERS; i++)
        close(fds[i]);
    /* Each of these would sleep for ten minutes or an hour: only noticing the hang-up brings
     * in_flight back to 0 within the wait below. */
    left = wait_in_flight(base, 0, 10);
    cr_expect_eq(left, 0,
                 "[vanish] %ld requests stayed in flight after their clients closed; a suspended "
                 "connection is not polled by MHD, so the server must watch for hang-ups itself.",
                 left);
    still_serving("clients vanished");
    /* Their /limited slots came back too. */
    cr_expect_eq(get(base, "/limited?delay_ms=0", NULL), 200,
                 "[limited-slots] /limited still refuses after its clients left");
}

/* Sleeps under a second are not watched for hang-ups (timers.c): a client that leaves one is
 * noticed when the sleep ends, and its request must still complete. */
Test(robust, clients_leaving_short_sleeps_complete, .init = start)
{
    int fds[SLEEPERS];
    long left;

    for (int i = 0; i < SLEEPERS; i++)
        fds[i] = sleeper("GET /delay/300 HTTP/1.1\r\nHost: t\r\n\r\n");
    for (int i = 0; i < SLEEPERS; i++)
        close(fds[i]);
    left = wait_in_flight(base, 0, 10);
    cr_expect_eq(left, 0,
                 "[vanish-short] %ld /delay/300 requests stayed in flight 10 s after their "
                 "clients closed; when a short sleep ends, the answer must go out (or fail) and "
                 "the request complete.",
                 left);
    still_serving("clients left short sleeps");
}

/* Run delayd with args; return its pid and write its stdout pipe's read end to *out. */
static pid_t spawn(const char *const *args, int *out, int *err)
{
    const char *bin = getenv("KIT_DELAYD") != NULL ? getenv("KIT_DELAYD") : "build/bin/delayd";
    const char *argv[16] = { bin };
    int o[2];
    int e[2];
    pid_t pid;
    int n = 1;

    for (; *args != NULL && n < 15; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    cr_assert(pipe(o) == 0 && pipe(e) == 0, "[pipe] %s", strerror(errno));
    pid = fork();
    cr_assert_geq(pid, 0, "[fork] %s", strerror(errno));
    if (pid == 0) {
        dup2(o[1], STDOUT_FILENO);
        dup2(e[1], STDERR_FILENO);
        close(o[0]);
        close(e[0]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(o[1]);
    close(e[1]);
    *out = o[0];
    *err = e[0];
    return pid;
}

/* Wait for pid to exit within seconds; returns its wait status, or -1 (it was killed). */
static int reap(pid_t pid, double seconds)
{
    double until = kit_wall() + seconds;
    int status;

    while (kit_wall() < until) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return status;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/* Everything readable on fd until EOF, NUL-terminated, in buf. */
static void slurp(int fd, char *buf, size_t size)
{
    size_t got = 0;
    ssize_t n;

    while (got < size - 1 && (n = read(fd, buf + got, size - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    close(fd);
}

Test(robust, sigterm_with_sleepers_exits_0)
{
    const char *args[] = { "--host", "127.0.0.1", "--port", "0", NULL };
    char banner[256] = "";
    char url[128];
    int out;
    int err;
    pid_t pid = spawn(args, &out, &err);
    int fds[4];
    int status;
    ssize_t n = 0;
    size_t got = 0;

    /* Read up to the end of the banner line only: the server keeps stdout open. */
    while (got < sizeof banner - 1 && (n = read(out, banner + got, 1)) == 1 && banner[got] != '\n')
        got++;
    banner[got] = '\0';
    cr_assert(strncmp(banner, "delayd listening on http://127.0.0.1:", 37) == 0,
              "[banner] the first line was '%s'; expected 'delayd listening on "
              "http://127.0.0.1:PORT'", banner);
    snprintf(url, sizeof url, "%s", strstr(banner, "http://"));
    base = url;
    fds[0] = sleeper("GET /hang HTTP/1.1\r\nHost: t\r\n\r\n");
    fds[1] = sleeper("GET /delay/600000 HTTP/1.1\r\nHost: t\r\n\r\n");
    fds[2] = sleeper("GET /drip?bytes=10&duration_ms=600000 HTTP/1.1\r\nHost: t\r\n\r\n");
    fds[3] = raw_connect(base);   /* an idle keep-alive client */
    cr_assert_eq(wait_in_flight(base, 3, 10), 3, "[sleep-flight] the sleepers are not in flight");
    kill(pid, SIGTERM);
    status = reap(pid, STOP_WAIT_S);
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    close(out);
    close(err);
    cr_expect(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "[shutdown] after SIGTERM with 3 requests asleep the server %s (status 0x%x); "
              "expected exit 0. Resume every suspended connection before MHD_stop_daemon().",
              status == -1 ? "did not exit in time" : "ended badly", (unsigned)status);
}

/* Run delayd with args; check its exit status, and that stderr is exactly one line. */
static void bad_flags(const char *const *args, const char *what)
{
    char text[1024];
    int out;
    int err;
    pid_t pid = spawn(args, &out, &err);
    int status;
    char *nl;

    slurp(err, text, sizeof text);
    close(out);
    status = reap(pid, STOP_WAIT_S);
    cr_expect(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 2,
              "[flags-exit] delayd %s exited with status 0x%x; expected exit code 2", what,
              (unsigned)status);
    nl = strchr(text, '\n');
    cr_expect(nl != NULL && nl[1] == '\0' && strncmp(text, "delayd: ", 8) == 0,
              "[flags-line] delayd %s printed '%s' on stderr; expected one line starting "
              "'delayd: '", what, text);
}

Test(robust, bad_flags_exit_2_with_one_line)
{
    const char *limit[] = { "--limit", "many", NULL };
    const char *rate[] = { "--flaky-rate", "1.5", NULL };
    const char *port[] = { "--port", "70000", NULL };
    const char *pages[] = { "--pages", "0", NULL };
    const char *threads[] = { "--threads", "", NULL };
    const char *unknown[] = { "--colour", "red", NULL };
    const char *missing[] = { "--seed", NULL };
    const char *extra[] = { "stray", NULL };
    const char *host[] = { "--host", "example.org", NULL };
    const char *deadline0[] = { "--request-timeout-ms", "0", NULL };
    const char *deadline_big[] = { "--request-timeout-ms", "3600001", NULL };
    const char *parent0[] = { "--parent", "0", NULL };
    const char *parent_word[] = { "--parent", "me", NULL };
    const char *help[] = { "--help", NULL };
    char text[4096];
    int out;
    int err;
    pid_t pid;
    int status;

    bad_flags(limit, "--limit many");
    bad_flags(rate, "--flaky-rate 1.5");
    bad_flags(port, "--port 70000");
    bad_flags(pages, "--pages 0");
    bad_flags(threads, "--threads ''");
    bad_flags(unknown, "--colour red");
    bad_flags(missing, "--seed (no value)");
    bad_flags(extra, "stray");
    bad_flags(host, "--host example.org");
    bad_flags(deadline0, "--request-timeout-ms 0");
    bad_flags(deadline_big, "--request-timeout-ms 3600001");
    bad_flags(parent0, "--parent 0");
    bad_flags(parent_word, "--parent me");

    pid = spawn(help, &out, &err);
    slurp(out, text, sizeof text);
    close(err);
    status = reap(pid, STOP_WAIT_S);
    cr_expect(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                  strstr(text, "usage: delayd") != NULL,
              "[flags-help] --help exited 0x%x and printed '%.80s'; expected exit 0 and usage",
              (unsigned)status, text);
}

/* --parent PID names the process that started delayd; a PID that is not our parent (it has
 * ended, or the caller got it wrong) stops the server at once, with one line and exit 1,
 * rather than leave it running unwatched. */
Test(robust, a_parent_that_is_not_ours_stops_the_server)
{
    char parent[32];
    const char *args[] = { "--parent", parent, NULL };
    char text[1024];
    int out;
    int err;
    pid_t pid;
    int status;

#if !defined(__linux__) || defined(KIT_PORTABLE)
    cr_skip("--parent is followed on Linux only (not in PORTABLE=1)");
#endif
    snprintf(parent, sizeof parent, "%ld", (long)getppid());   /* alive, but not its parent */
    pid = spawn(args, &out, &err);
    slurp(err, text, sizeof text);
    slurp(out, text + strlen(text), sizeof text - strlen(text));
    status = reap(pid, STOP_WAIT_S);
    cr_expect(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 1,
              "[parent-other] delayd --parent (not its parent) exited with status 0x%x; "
              "expected exit code 1 at once", (unsigned)status);
    cr_expect(strncmp(text, "delayd: --parent ", 17) == 0 && strchr(text, '\n') != NULL &&
                  strchr(text, '\n')[1] == '\0',
              "[parent-other] delayd printed '%s'; expected one line about --parent and no "
              "banner", text);
}
