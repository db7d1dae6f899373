/* bench_epoll: the HTTP benchmarks with no library at all (non-blocking sockets, epoll and a
 * hand-written HTTP/1.1 GET), as the floor that delayd and this machine's kernel allow. It
 * reads only what delayd sends (a status line, Content-Length, a short body): not a client. */
#include "kit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
    HEAD_MAX = 2048,  /* delayd's response headers are ~130 bytes */
    REQ_MAX = 256,    /* "GET /delay/MS HTTP/1.1" and a Host line */
    EVENTS = 256,     /* readiness reports taken per epoll_wait() */
    WAIT_MS = 5000    /* no event for this long means the run is stuck */
};

/* One connection and the response being read on it. */
struct conn {
    int fd;
    int sent;           /* the request went out; now reading */
    size_t head_len;    /* bytes of headers read so far, into head[] */
    long body_left;     /* body bytes still to read, -1 before the headers are complete */
    char head[HEAD_MAX];
};

/* What one run is asked to do and what it counted. */
struct run {
    int ep;
    struct sockaddr_in addr;
    char req[REQ_MAX];
    int req_len;
    long open;       /* connections not yet closed */
    long done;       /* responses 200 read whole */
    double stop_s;   /* keep-alive: no new request after this; 0: one request a connection */
};



/* Open a non-blocking connection to r->addr and watch it for writability (connected).
 * 0 or a negative errno; on success r owns c->fd. */
static int conn_open(struct run *r, struct conn *c)
{
    int one = 1;

    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -errno;
    /* libcurl sets TCP_NODELAY too; without it small requests wait for delayed ACKs. */
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&r->addr, sizeof r->addr) < 0 && errno != EINPROGRESS)
        goto fail;
    struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
    if (epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        goto fail;
    r->open++;
    return 0;
fail:;
    int err = -errno;
    close(c->fd);
    return err;
}

/* Send the request on c and wait for its answer. 0 or a negative errno. */
static int conn_send(struct run *r, struct conn *c)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

    /* A request this small always fits in an empty socket buffer: one write. */
    if (write(c->fd, r->req, (size_t)r->req_len) != r->req_len)
        return errno != 0 ? -errno : -EIO;
    c->head_len = 0;
    c->body_left = -1;
    if (!c->sent && epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        return -errno;
    c->sent = 1;
    return 0;
}

/* Once the headers are whole, check the status and learn the body length. 1 when the headers
 * are complete, 0 when more is needed, -EPROTO for anything but a 200 with a length. */
static int parse_head(struct conn *c)
{
    char *end = memmem(c->head, c->head_len, "\r\n\r\n", 4);

    if (end == NULL)
        return c->head_len == sizeof c->head ? -EPROTO : 0;
    *end = '\0';
    if (strncmp(c->head, "HTTP/1.1 200 ", 13) != 0)
        return -EPROTO;
    char *cl = strcasestr(c->head, "\r\nContent-Length:");
    if (cl == NULL)
        return -EPROTO;
    size_t extra = c->head_len - (size_t)(end + 4 - c->head); /* body bytes already read */
    c->body_left = strtol(cl + 17, NULL, 10) - (long)extra;
    return 1;
}

/* Read what arrived on c. 1 when a whole response has been read, 0 for "not yet", or a
 * negative errno (the server closed early, or a malformed answer). */
static int conn_read(struct conn *c)
{
    char sink[4096];

    for (;;) {
        char *to = c->body_left < 0 ? c->head + c->head_len : sink;
        size_t room = c->body_left < 0 ? sizeof c->head - c->head_len : sizeof sink;
        ssize_t n = read(c->fd, to, room);
        if (n < 0)
            return errno == EAGAIN ? 0 : -errno;
        if (n == 0)
            return -ECONNRESET;
        if (c->body_left < 0) {
            c->head_len += (size_t)n;
            int rc = parse_head(c);
            if (rc <= 0)
                return rc;
        } else {
            c->body_left -= n;
        }
        if (c->body_left <= 0)
            return c->body_left == 0 ? 1 : -EPROTO;
    }
}

/* Close c and stop counting it. */
static void conn_close(struct run *r, struct conn *c)
{
    close(c->fd);
    c->fd = -1;
    r->open--;
}

/* Handle one readiness report for c (errors and hang-ups show up in the read). 0 or a
 * negative errno. */
static int on_ready(struct run *r, struct conn *c)
{
    if (!c->sent) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        return err != 0 ? -err : conn_send(r, c);
    }
    int rc = conn_read(c);
    if (rc <= 0)
        return rc;
    r->done++;
    if (r->stop_s > 0 && kit_wall() < r->stop_s)
        return conn_send(r, c);
    conn_close(r, c);
    return 0;
}

/* Open n connections and serve their readiness until all are closed. 0 or a negative errno. */
static int run_all(struct run *r, struct conn *conns, long n)
{
    struct epoll_event evs[EVENTS];

    for (long i = 0; i < n; i++) {
        int rc = conn_open(r, &conns[i]);
        if (rc < 0)
            return rc;
    }
    while (r->open > 0) {
        int k = epoll_wait(r->ep, evs, EVENTS, WAIT_MS);
        if (k < 0 && errno != EINTR)
            return -errno;
        if (k == 0)
            return -ETIMEDOUT;
        for (int i = 0; i < k; i++) {
            int rc = on_ready(r, evs[i].data.ptr);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* Read "--key value" pairs (as bench_curl does). 0, or -EINVAL. */
static int parse_options(int argc, char **argv, const char **base, double v[4])
{
    static const char *const keys[4] = { "--n", "--delay", "--conns", "--seconds" };

    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--url") == 0) {
            *base = argv[i + 1];
            continue;
        }
        int k = 0;
        while (k < 4 && strcmp(argv[i], keys[k]) != 0)
            k++;
        char *end = NULL;
        double x = k < 4 ? strtod(argv[i + 1], &end) : 0;
        if (k == 4 || end == argv[i + 1] || *end != '\0' || !(x > 0))
            return -EINVAL;
        v[k] = x;
    }
    return argc % 2 == 0 && *base != NULL ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
    struct run r = { .ep = -1 };
    const char *base = NULL;
    double v[4] = { 1000, 100, 100, 3 };   /* n, delay ms, conns, seconds */
    int keepalive = argc > 1 && strcmp(argv[1], "http_keepalive_rps") == 0;
    int batch = argc > 1 && strcmp(argv[1], "http_1000x100ms") == 0;
    unsigned port = 0;
    struct conn *conns = NULL;
    int rc = -ENOMEM;

    if (!(keepalive || batch) || parse_options(argc, argv, &base, v) < 0 ||
        sscanf(base, "http://127.0.0.1:%u", &port) != 1 || port == 0 || port > 65535) {
        fprintf(stderr, "usage: bench_epoll http_1000x100ms --url http://127.0.0.1:PORT "
                        "[--n N] [--delay MS]\n"
                        "       bench_epoll http_keepalive_rps --url http://127.0.0.1:PORT "
                        "[--conns C] [--seconds S]\n");
        return 2;
    }
    long n = keepalive ? (long)v[2] : (long)v[0];
    r.addr.sin_family = AF_INET;
    r.addr.sin_port = htons((uint16_t)port);
    r.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char path[64];
    if (keepalive)
        snprintf(path, sizeof path, "/bytes/0");
    else
        snprintf(path, sizeof path, "/delay/%ld", (long)v[1]);
    r.req_len = snprintf(r.req, sizeof r.req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    conns = calloc((size_t)n, sizeof *conns);
    r.ep = epoll_create1(EPOLL_CLOEXEC);
    if (conns == NULL || r.ep < 0)
        goto out;
    double c0 = kit_cpu();
    double t0 = kit_wall();
    r.stop_s = keepalive ? t0 + v[3] : 0;
    rc = run_all(&r, conns, n);
    double elapsed = kit_wall() - t0;
    if (rc == 0 && keepalive)
        printf("benchmark=%s impl=epoll_raw value=%.6g unit=req/s loops=%ld requests=%ld "
               "elapsed_s=%.3f cpu_s=%.3f\n", argv[1], (double)r.done / elapsed, n, r.done,
               elapsed, kit_cpu() - c0);
    else if (rc == 0)
        printf("benchmark=%s impl=epoll_raw value=%.6g unit=ms requests=%ld delay_ms=%ld "
               "cpu_s=%.3f\n", argv[1], elapsed * 1e3, r.done, (long)v[1], kit_cpu() - c0);
out:
    /* Connections still open after an error are closed by the exit; this is a probe. */
    if (r.ep >= 0)
        close(r.ep);
    free(conns);
    if (rc < 0)
        fprintf(stderr, "bench_epoll: %s failed: %s (%ld answered 200)\n", argv[1],
                strerror(-rc), r.done);
    return rc < 0 ? 1 : 0;
}
