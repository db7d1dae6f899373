/* delayd under load: many requests in flight at once, counted exactly, none costing a thread. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"

#define CROWD 1000           /* concurrent /delay/300 through curl */
#define HORDE 10000          /* concurrent raw connections sending /delay/1000 */
#define FD_SPARE 200         /* descriptors for curl, the pipe, Criterion */
#define PHASE_S 25.0         /* bound on each phase of the raw-socket test */
#define SPREAD_OK 0.2        /* s: a burst sent within this overlaps fully at /delay/300 */
#define BURST_ATTEMPTS 3     /* bursts tried before a busy machine is given up on */

static const char *base;

/* .init: this test's private server with the default flags. */
static void start(void)
{
    base = server(NULL);
}

TestSuite(load, .init = start, .fini = kit_fini_leaks, .timeout = SUITE_TIMEOUT);

/* Every one of the n statuses must be 200. */
static void check_all(const long *status, int n, const char *what)
{
    for (int i = 0; i < n; i++)
        cr_assert_eq(status[i], 200, "[load-status] %s: request %d got %ld; expected 200", what,
                     i, status[i]);
}

/* One burst of CROWD requests: every one answered 200, counted once, none left in flight.
 * Returns the server's peak and the seconds over which the requests were sent. */
static long crowd_burst(const char *const *urls, long *status, double *spread)
{
    struct kit_stats st;
    int answered = get_many(urls, CROWD, status, spread);

    cr_assert_eq(answered, CROWD, "[load-answered] %d of %d requests were answered", answered,
                 CROWD);
    check_all(status, CROWD, "/delay/300");
    cr_assert_eq(kit_stats_get(base, &st), 0, "[stats-get] /stats failed");
    cr_assert(st.requests == CROWD && st.connections == CROWD,
              "[load-count] requests=%ld connections=%ld; expected %d each", st.requests,
              st.connections, CROWD);
    cr_assert_leq(st.peak, CROWD,
                  "[peak-over] peak was %ld with only %d requests; a request is counted twice "
                  "or never leaves in_flight.", st.peak, CROWD);
    cr_assert_eq(wait_in_flight(base, 0, 10), 0, "[flight-zero] in_flight did not return to 0");
    return st.peak;
}

Test(load, peak_is_exact_under_1000_concurrent)
{
    static char urls_buf[CROWD][URL_MAX];
    static const char *urls[CROWD];
    static long status[CROWD];

    cr_assert_geq(raise_fd_limit(), CROWD + FD_SPARE, "[fd-limit] cannot open %d sockets", CROWD);
    for (int i = 0; i < CROWD; i++) {
        snprintf(urls_buf[i], URL_MAX, "%s/delay/300?tag=%d", base, i);
        urls[i] = urls_buf[i];
    }
    for (int attempt = 1; attempt <= BURST_ATTEMPTS; attempt++) {
        double spread;
        long peak;

        cr_assert_eq(kit_stats_reset(base), 0, "[reset] /reset failed");
        peak = crowd_burst(urls, status, &spread);
        fprintf(stderr, "delayd-figure: 1000 x /delay/300 sent over %.3f s, peak %ld\n", spread,
                peak);
        /* All sent well within 300 ms: the first still waits when the last arrives, so the
         * count must be exact. Otherwise the machine was too busy to tell; try again. */
        if (spread < SPREAD_OK) {
            cr_expect_eq(peak, CROWD,
                         "[peak-exact] peak was %ld with %d concurrent /delay/300 (all sent "
                         "within %.3f s); expected exactly %d. Is in_flight counted from the "
                         "first handler call to the completion callback, under one lock?",
                         peak, CROWD, spread, CROWD);
            return;
        }
    }
    cr_skip_test("[peak-busy] in %d tries the machine never sent the %d requests within %.1f s, "
                 "so they could not all overlap; peak exactness was not checked",
                 BURST_ATTEMPTS, CROWD, SPREAD_OK);
}

Test(load, forty_parallel_delays_overlap)
{
    enum { N = 40 };
    static char urls_buf[N][URL_MAX];
    const char *urls[N];
    long status[N];
    struct kit_stats st;
    double spread;
    double t0;
    double took;

    for (int i = 0; i < N; i++) {
        snprintf(urls_buf[i], URL_MAX, "%s/delay/500?tag=%d", base, i);
        urls[i] = urls_buf[i];
    }
    t0 = kit_wall();
    cr_assert_eq(get_many(urls, N, status, &spread), N,
                 "[load-answered] not all 40 were answered");
    took = kit_wall() - t0;
    check_all(status, N, "/delay/500");
    cr_assert_eq(kit_stats_get(base, &st), 0, "[stats-get] /stats failed");
    cr_log_info("40 parallel /delay/500: %.3f s (sequential would be 20 s)", took);
    fprintf(stderr, "delayd-figure: 40 parallel /delay/500 took %.3f s\n", took);
    if (spread < 0.4)
        cr_expect_eq(st.peak, N, "[peak-exact] peak was %ld with 40 parallel (sent within "
                     "%.3f s); expected 40", st.peak, spread);
    /* A ratio with a wide margin: overlapped waits take about one delay, not forty. */
    cr_expect_lt(took, N * 0.5 / 4,
                 "[overlap] 40 parallel /delay/500 took %.2f s, over a quarter of the 20 s a "
                 "sequential server needs. Does a waiting request block a worker thread?",
                 took);
}

/* ---- 10,000 raw connections --------------------------------------------------------- */

struct raw {
    int fd;
    int status;   /* 0 until the status line was read */
    char head[16];
    size_t got;
};

/* Start a non-blocking connect to the server; returns the fd or -1. */
static int start_connect(const struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Wait until every socket is writable (connected); returns how many connected. */
static int wait_connected(int ep, struct raw *c, int n)
{
    struct epoll_event events[512];
    double until = kit_wall() + PHASE_S;
    int done = 0;

    while (done < n && kit_wall() < until) {
        int k = epoll_wait(ep, events, 512, 1000);

        for (int i = 0; i < k; i++) {
            struct raw *r = events[i].data.ptr;
            struct epoll_event none = { .events = 0, .data.ptr = r };
            int err = 0;
            socklen_t len = sizeof err;

            getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len);
            epoll_ctl(ep, EPOLL_CTL_MOD, r->fd, &none);
            done += err == 0;
            if (err != 0)
                r->status = -1;
        }
    }
    (void)c;
    return done;
}

/* Read each answer's status line until the server closes; returns how many got one. */
static int read_answers(int ep, int n)
{
    struct epoll_event events[512];
    double until = kit_wall() + PHASE_S;
    int closed = 0;
    int answered = 0;

    while (closed < n && kit_wall() < until) {
        int k = epoll_wait(ep, events, 512, 1000);

        for (int i = 0; i < k; i++) {
            struct raw *r = events[i].data.ptr;
            char buf[1024];
            ssize_t got = recv(r->fd, buf, sizeof buf, 0);

            if (got < 0 && errno == EAGAIN)
                continue;
            if (got > 0 && r->got < sizeof r->head - 1) {
                size_t take = (size_t)got < sizeof r->head - 1 - r->got
                                  ? (size_t)got
                                  : sizeof r->head - 1 - r->got;

                memcpy(r->head + r->got, buf, take);
                r->got += take;
            }
            if (got > 0)
                continue;
            epoll_ctl(ep, EPOLL_CTL_DEL, r->fd, NULL);
            closed++;
            if (sscanf(r->head, "HTTP/1.1 %d", &r->status) == 1 && r->status == 200)
                answered++;
        }
    }
    return answered;
}

Test(load, holds_10000_connections)
{
    static struct raw c[HORDE];
    static const char req[] = "GET /delay/1000 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    struct sockaddr_in addr = { .sin_family = AF_INET };
    struct kit_stats st;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    long threads_idle = server_threads();
    long threads_busy;
    int connected;
    int sent = 0;
    int answered;

    cr_assert_geq(raise_fd_limit(), HORDE + FD_SPARE,
                  "[fd-limit] this process cannot open %d sockets (raise the hard limit)", HORDE);
    addr.sin_port = htons((uint16_t)atoi(strrchr(base, ':') + 1));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < HORDE; i++) {
        struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = &c[i] };

        c[i].fd = start_connect(&addr);
        cr_assert_geq(c[i].fd, 0, "[connect] socket %d could not start connecting: %s", i,
                      strerror(errno));
        epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
    }
    connected = wait_connected(ep, c, HORDE);
    cr_assert_eq(connected, HORDE, "[horde-connect] %d of %d connections were accepted",
                 connected, HORDE);

    /* All connections are open at once; now every one asks for a one-second wait. */
    for (int i = 0; i < HORDE; i++) {
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &c[i] };

        sent += send(c[i].fd, req, sizeof req - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof req - 1);
        epoll_ctl(ep, EPOLL_CTL_MOD, c[i].fd, &ev);
    }
    cr_assert_eq(sent, HORDE, "[horde-send] only %d requests could be sent", sent);
    threads_busy = server_threads();
    answered = read_answers(ep, HORDE);
    for (int i = 0; i < HORDE; i++)
        close(c[i].fd);
    close(ep);

    cr_assert_eq(answered, HORDE,
                 "[horde-answered] %d of %d concurrent /delay/1000 got 200. The server must "
                 "hold 10,000 connections: raise RLIMIT_NOFILE and MHD's connection limit.",
                 answered, HORDE);
    cr_assert_eq(kit_stats_get(base, &st), 0, "[stats-get] /stats failed");
    fprintf(stderr, "delayd-figure: 10000 raw connections: peak %ld, connections %ld\n", st.peak,
            st.connections);
    cr_expect_eq(st.connections, HORDE, "[horde-count] connections=%ld; expected %d",
                 st.connections, HORDE);
    /* Not exact: the server may take longer than the one-second wait to read 10,000 requests
     * on a busy machine. Half of them at once is far beyond any thread-per-request design. */
    cr_expect_geq(st.peak, HORDE / 2,
                  "[horde-peak] peak was %ld; most of the %d requests should have waited at once",
                  st.peak, HORDE);
    cr_expect(threads_idle > 0 && threads_busy == threads_idle,
              "[horde-threads] the server ran %ld threads idle and %ld with 10,000 requests "
              "waiting; a waiting request must cost no thread (suspend, do not sleep).",
              threads_idle, threads_busy);
    cr_expect_eq(wait_in_flight(base, 0, 10), 0, "[flight-zero] in_flight did not return to 0");
}
