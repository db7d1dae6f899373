/* delayd: the kit's local HTTP test server. main() reads the flags, raises the descriptor
 * limit, starts the timers and the daemon, and waits for SIGINT or SIGTERM to stop cleanly. */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#if defined(__linux__) && !defined(KIT_PORTABLE)
#include <sys/prctl.h>
#endif

#include "content.h"
#include "delayd.h"
#include "flags.h"
#include "trace.h"
#include "server.h"
#include "timers.h"

struct delayd_config delayd_cfg = {
    .host = "127.0.0.1",
    .port = 0,
    .limit = 5,
    .flaky_rate = 0.3,
    .seed = 1,
    .pages = 100,
    .threads = 1,
    .request_timeout_ms = 10000,
};

/* 10,000 clients need 10,000 descriptors; the soft limit is often 1024, the hard one higher.
 * Failing is not fatal: we serve fewer connections. */
static void raise_fd_limit(void)
{
    struct rlimit lim;

    if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == lim.rlim_max)
        return;
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
        perror("delayd: setrlimit(RLIMIT_NOFILE)");
}

/* Each connection mallocs its 8 KiB memory pool and frees it at close. With glibc's defaults
 * the worker threads' arenas give freed memory back to the kernel and take it again at the
 * next burst of connections: an mprotect() and fresh-page faults for every few requests.
 * A fixed, high trim threshold keeps the memory of the busiest moment instead. */
static void keep_freed_memory(void)
{
    mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
    mallopt(M_TOP_PAD, 16 * 1024 * 1024);
}

/* --parent PID: the kernel sends us SIGTERM when the thread that started us ends, so a test
 * process that crashes or is killed takes its server with it. The parent may already have
 * gone before the request was made; then its PID is no longer our parent's and we stop at
 * once. Returns 0 to go on, -1 to stop. Linux only: elsewhere (and in a PORTABLE=1 build) the
 * flag changes nothing. */
static int follow_parent(long parent)
{
#if defined(__linux__) && !defined(KIT_PORTABLE)
    if (parent <= 0)
        return 0;
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) {
        perror("delayd: prctl(PR_SET_PDEATHSIG)");
        return 0;
    }
    if ((long)getppid() != parent) {
        fprintf(stderr, "delayd: --parent %ld is not the process that started delayd "
                        "(it may have ended); stopping\n", parent);
        return -1;
    }
#else
    (void)parent;
#endif
    return 0;
}

/* Block the stop signals in every thread (threads inherit the mask), so that only sigwait()
 * in main() receives them; ignore SIGPIPE, a client that left is no reason to die. */
static void take_signals(sigset_t *stop)
{
    sigemptyset(stop);
    sigaddset(stop, SIGINT);
    sigaddset(stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, stop, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
    sigset_t stop;
    unsigned port;
    int sig;
    int rc;

    rc = flags_parse(argc, argv, &delayd_cfg);
    if (rc != 0)
        return rc > 0 ? 0 : FLAGS_EXIT_USAGE;
    if (follow_parent(delayd_cfg.parent) != 0)
        return 1;
    raise_fd_limit();
    keep_freed_memory();
    take_signals(&stop);
    content_init();
    if (trace_init(delayd_cfg.trace) != 0) {
        fprintf(stderr, "delayd: --trace %ld: no memory for that many requests\n", delayd_cfg.trace);
        return 1;
    }

    rc = timers_start();
    if (rc != 0) {
        fprintf(stderr, "delayd: cannot start the timer thread: %s\n", strerror(-rc));
        return 1;
    }
    if (server_start(&port) != 0) {
        timers_stop();
        return 1;
    }
    /* The kit reads this line to learn the port: print it only once we accept connections. */
    printf("delayd listening on http://%s%s%s:%u\n", strchr(delayd_cfg.host, ':') ? "[" : "",
           delayd_cfg.host, strchr(delayd_cfg.host, ':') ? "]" : "", port);
    fflush(stdout);

    sigwait(&stop, &sig);
    server_stop();
    return 0;
}
