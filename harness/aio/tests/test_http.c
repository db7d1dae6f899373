/* aio's own tests, part three: the HTTP client against a private delayd. The server's own
 * counts (peak in flight, connections accepted) are the evidence. */
#include "aio.h"
#include "kit.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <dirent.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *base;

static void start_server(void)
{
    base = kit_server_start(NULL);
}

static void stop_server(void)
{
    kit_server_stop();
}

TestSuite(http, .fini = kit_fini_leaks, .timeout = 30);

#define CONCURRENT 100

struct get {
    aio_http *client;
    char url[128];
    int64_t deadline;
    int rc;
    struct aio_response res;
};

static int do_get(void *arg)
{
    struct get *g = arg;
    g->rc = aio_http_get(g->client, g->url, &g->res, g->deadline);
    return g->rc;
}

static void get_init(struct get *g, aio_http *c, const char *path, int64_t deadline)
{
    memset(g, 0, sizeof *g);
    g->client = c;
    snprintf(g->url, sizeof g->url, "%s%s", base, path);
    g->deadline = deadline;
}

/* ---- concurrency and keep-alive ---------------------------------------------------------- */

static int hundred_gets(void *arg)
{
    (void)arg;
    aio_http *c = aio_http_new();
    struct get *g = calloc(CONCURRENT, sizeof *g);
    aio_task *t[CONCURRENT];
    for (int i = 0; i < CONCURRENT; i++) {
        get_init(&g[i], c, "/delay/300", aio_now() + 10000);
        t[i] = aio_spawn(do_get, &g[i]);
    }
    int ok = 0;
    for (int i = 0; i < CONCURRENT; i++) {
        aio_join(t[i], AIO_NEVER);
        ok += g[i].rc == 0 && g[i].res.status == 200;
        aio_response_free(&g[i].res);
    }
    free(g);
    aio_http_free(c);
    return ok;
}

Test(http, a_hundred_gets_are_in_flight_at_once)
{
    start_server();
    int ok = aio_run(hundred_gets, NULL);
    cr_assert_eq(ok, CONCURRENT, "[http-ok] %d of %d GETs returned 200", ok, CONCURRENT);
    struct kit_stats s;
    cr_assert_eq(kit_stats_get(base, &s), 0);
    cr_assert_eq(s.peak, CONCURRENT, "[http-peak] the server saw at most %ld requests in flight; "
                 "all %d tasks' GETs should be in flight at once. Is the loop running transfers "
                 "one after another?", s.peak, CONCURRENT);
}

/* The same with compact tasks (AIO_TASK_COMPACT), each keeping its response in its own frame
 * (the runtime fills it after the wait, from the task itself), mixed with normal ones. */
static int compact_get(void *arg)
{
    struct get *g = arg;
    struct aio_response res;
    int rc = aio_http_get(g->client, g->url, &res, g->deadline);
    g->rc = rc;
    if (rc == 0) {
        g->res = res;
        rc = res.status == 200 && res.len > 0 ? 0 : -EBADMSG;
    }
    return rc;
}

static int hundred_compact_gets(void *arg)
{
    (void)arg;
    aio_http *c = aio_http_new();
    struct get *g = calloc(CONCURRENT, sizeof *g);
    aio_task *t[CONCURRENT];
    for (int i = 0; i < CONCURRENT; i++) {
        get_init(&g[i], c, "/delay/300", aio_now() + 10000);
        t[i] = i % 4 == 0 ? aio_spawn(compact_get, &g[i])
                          : aio_spawn_opts(compact_get, &g[i], AIO_TASK_COMPACT);
    }
    int ok = 0;
    for (int i = 0; i < CONCURRENT; i++) {
        ok += aio_join(t[i], AIO_NEVER) == 0;
        aio_response_free(&g[i].res);
    }
    free(g);
    aio_http_free(c);
    return ok;
}

Test(http, compact_tasks_get_at_once)
{
    start_server();
    int ok = aio_run(hundred_compact_gets, NULL);
    cr_assert_eq(ok, CONCURRENT, "[compact-http] %d of %d GETs from compact tasks returned "
                 "200 with a body", ok, CONCURRENT);
    struct kit_stats s;
    cr_assert_eq(kit_stats_get(base, &s), 0);
    cr_assert_eq(s.peak, CONCURRENT, "[compact-http-peak] the server saw at most %ld requests "
                 "in flight; every compact task's GET should be in flight at once", s.peak);
}

#define SEQUENTIAL 20

static int sequential_gets(void *arg)
{
    (void)arg;
    aio_http *c = aio_http_new();
    int ok = 0;
    for (int i = 0; i < SEQUENTIAL; i++) {
        struct get g;
        get_init(&g, c, "/bytes/10", aio_now() + 5000);
        do_get(&g);
        ok += g.rc == 0 && g.res.status == 200 && g.res.len == 10;
        aio_response_free(&g.res);
    }
    aio_http_free(c);
    return ok;
}

Test(http, sequential_gets_reuse_the_connection)
{
    start_server();
    cr_assert_eq(aio_run(sequential_gets, NULL), SEQUENTIAL);
    struct kit_stats s;
    cr_assert_eq(kit_stats_get(base, &s), 0);
    cr_assert_eq(s.requests, SEQUENTIAL);
    cr_assert_leq(s.connections, 2, "[keep-alive] %ld connections for %d sequential GETs on one "
                  "client; finished connections should be kept and reused", s.connections,
                  SEQUENTIAL);
}

static int bodies_and_statuses(void *arg)
{
    (void)arg;
    aio_http *c = aio_http_new();
    struct get g;
    get_init(&g, c, "/bytes/100000", aio_now() + 5000);
    do_get(&g);
    cr_expect_eq(g.rc, 0);
    cr_expect_eq(g.res.len, 100000, "[http-body] /bytes/100000 gave a %zu-byte body", g.res.len);
    cr_expect(g.res.body != NULL && g.res.body[g.res.len] == '\0',
              "[http-body-nul] the body is not NUL-terminated");
    aio_response_free(&g.res);
    get_init(&g, c, "/status/404", aio_now() + 5000);
    do_get(&g);
    cr_expect_eq(g.rc, 0, "[http-status] a 404 answer is a response, not an error: rc %d", g.rc);
    cr_expect_eq(g.res.status, 404);
    cr_expect_not_null(g.res.body, "[http-body-empty] a response body is never NULL");
    aio_response_free(&g.res);
    aio_http_free(c);
    return 0;
}

Test(http, bodies_and_statuses)
{
    start_server();
    cr_assert_eq(aio_run(bodies_and_statuses, NULL), 0);
}

/* ---- failures: deadline, cancellation, bad URL, refused ---------------------------------- */

static int hang_with_deadline(void *arg)
{
    (void)arg;
    aio_http *c = aio_http_new();
    struct get g;
    get_init(&g, c, "/hang", aio_now() + 200);
    do_get(&g);
    cr_expect_null(g.res.body, "[http-error-out] *out must stay empty on error");
    aio_http_free(c);
    return g.rc;
}

Test(http, deadline_on_a_hung_request)
{
    start_server();
    int r = aio_run(hang_with_deadline, NULL);
    cr_assert_eq(r, -ETIMEDOUT, "[http-deadline] GET /hang with a 200 ms deadline returned %d, "
                 "expected -ETIMEDOUT", r);
}

struct cancelled_get {
    struct get g;
    int second;
};

static int get_twice(void *arg)
{
    struct cancelled_get *cg = arg;
    do_get(&cg->g);
    cg->second = aio_http_get(cg->g.client, cg->g.url, &cg->g.res, AIO_NEVER);
    return cg->g.rc;
}

static int cancel_a_get(void *arg)
{
    struct cancelled_get *cg = arg;
    aio_http *c = aio_http_new();
    get_init(&cg->g, c, "/delay/5000", AIO_NEVER);
    aio_task *t = aio_spawn(get_twice, cg);
    aio_sleep(100);
    aio_cancel(t);
    int r = aio_join(t, AIO_NEVER);
    aio_http_free(c);
    return r;
}

Test(http, cancel_during_a_get)
{
    start_server();
    struct cancelled_get cg;
    double w0 = kit_wall();
    int r = aio_run(cancel_a_get, &cg);
    double wall = kit_wall() - w0;
    cr_assert_eq(r, -ECANCELED, "[http-cancel] a GET in a cancelled task returned %d", r);
    cr_assert_eq(cg.second, -ECANCELED, "[http-cancel-level] the next GET after cancellation "
                 "returned %d", cg.second);
    cr_assert_lt(wall, 2.5, "[http-cancel-slow] the cancelled GET of /delay/5000 took %.1f s to "
                 "come back; cancellation should remove the transfer at once", wall);
}

/* A GET cancelled at once, while its connection is still being made, then the next GETs on
 * the same client: libcurl 7.88 closes that socket without the close callback, and the next
 * connection gets its number. */
struct early_cancel {
    struct get first, next[3];
};

static int cancel_while_connecting(void *arg)
{
    struct early_cancel *ec = arg;
    aio_http *c = aio_http_new();
    get_init(&ec->first, c, "/delay/100", AIO_NEVER);
    aio_task *t = aio_spawn(do_get, &ec->first);
    aio_yield();
    aio_cancel(t);
    aio_join(t, AIO_NEVER);
    for (int i = 0; i < 3; i++) {
        get_init(&ec->next[i], c, "/delay/10", aio_now() + 5000);
        do_get(&ec->next[i]);
        aio_response_free(&ec->next[i].res);
    }
    aio_http_free(c);
    return 0;
}

Test(http, cancel_while_connecting_then_get_again)
{
    start_server();
    struct early_cancel ec;
    int r = aio_run(cancel_while_connecting, &ec);
    cr_assert_eq(r, 0, "[http-early-cancel] the loop returned %d", r);
    cr_assert_eq(ec.first.rc, -ECANCELED, "[http-cancel] the GET cancelled while it connected "
                 "returned %d", ec.first.rc);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(ec.next[i].rc, 0, "[http-early-cancel] GET %d after a GET cancelled while "
                     "it connected, on the same client, returned %d, expected 0 (a socket "
                     "closed behind the loop's back, its number reused)", i + 1, ec.next[i].rc);
}

static int malformed(void *arg)
{
    (void)arg;
    aio_http *c = aio_http_new();
    struct aio_response res;
    int r1 = aio_http_get(c, "http://[::1", &res, aio_now() + 2000);
    int r2 = aio_http_get(c, "nosuchscheme://x/", &res, aio_now() + 2000);
    aio_http_free(c);
    cr_expect_eq(r1, -EINVAL, "[http-bad-url] \"http://[::1\" gave %d, expected -EINVAL", r1);
    cr_expect_eq(r2, -EINVAL, "[http-bad-url] an unknown scheme gave %d, expected -EINVAL", r2);
    return 0;
}

Test(http, malformed_url)
{
    start_server();
    cr_assert_eq(aio_run(malformed, NULL), 0);
}

/* A port on 127.0.0.1 that nobody listens on: bind one, note it, close it. */
static int closed_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

static int refused(void *arg)
{
    int port = *(int *)arg;
    aio_http *c = aio_http_new();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    struct aio_response res;
    int r = aio_http_get(c, url, &res, aio_now() + 5000);
    aio_http_free(c);
    return r;
}

Test(http, refused_port)
{
    start_server();
    int port = closed_port();
    int r = aio_run(refused, &port);
    cr_assert_eq(r, -ECONNREFUSED, "[http-refused] a GET to a closed port returned %d, expected "
                 "-ECONNREFUSED", r);
}

/* ---- one client across two loops ---------------------------------------------------------- */

static int one_get(void *arg)
{
    aio_http *c = arg;
    struct get g;
    get_init(&g, c, "/bytes/1", aio_now() + 5000);
    do_get(&g);
    aio_response_free(&g.res);
    return g.rc;
}

Test(http, a_client_outlives_its_loop)
{
    start_server();
    aio_http *c = aio_http_new();
    cr_assert_eq(aio_run(one_get, c), 0);
    cr_assert_eq(aio_run(one_get, c), 0, "[http-second-loop] a client made outside the loop "
                 "failed in a second aio_run");
    aio_http_free(c);
    stop_server();
}

/* ---- a task that only yields ------------------------------------------------------------- */

/* A transfer in curl's poll with no deadline has no timer and no watch in the loop: a task
 * that yields in a loop must still let the loop wait in curl's poll and drive it. */
struct yielding {
    struct get g;
    bool done, done_in_time;
    long yields;
};

static int get_and_mark(void *arg)
{
    struct yielding *y = arg;
    do_get(&y->g);
    y->done = true;
    return 0;
}

static int yield_while_getting(void *arg)
{
    struct yielding *y = arg;
    aio_http *c = aio_http_new();
    get_init(&y->g, c, "/bytes/3", AIO_NEVER);     /* no deadline: no timer either */
    aio_task *t = aio_spawn(get_and_mark, y);
    double t0 = kit_wall();
    while (!y->done && kit_wall() - t0 < 5) {
        aio_yield();
        y->yields++;
    }
    y->done_in_time = y->done;
    aio_cancel(t);
    aio_join(t, AIO_NEVER);
    aio_response_free(&y->g.res);
    aio_http_free(c);
    return 0;
}

Test(http, a_yielding_task_does_not_starve_a_transfer)
{
    start_server();
    struct yielding y = {0};
    cr_assert_eq(aio_run(yield_while_getting, &y), 0);
    cr_assert(y.done_in_time, "[http-starved] a GET of 3 bytes did not end in 5 s while another task "
              "yielded %ld times: the yielding task kept the loop from driving curl", y.yields);
    cr_assert_eq(y.g.rc, 0);
}

/* ---- idle connections: kept in the poller between requests ------------------------------- */

/* A connection curl closes (here: a request cut off by its deadline) leaves the poller
 * before its descriptor number can be handed to the next connection. */
static int hang_then_get(void *arg)
{
    (void)arg;
    aio_http *c = aio_http_new();
    int bad = 0;
    for (int i = 0; i < 10 && bad == 0; i++) {
        struct get g;
        get_init(&g, c, "/hang", aio_now() + 50);
        int r = do_get(&g);
        cr_expect_eq(r, -ETIMEDOUT, "[http-hang-round] round %d: GET /hang with a 50 ms "
                     "deadline returned %d, expected -ETIMEDOUT", i, r);
        get_init(&g, c, "/bytes/3", aio_now() + 5000);
        r = do_get(&g);
        if (r != 0 || g.res.status != 200 || g.res.body == NULL || strcmp(g.res.body, "abc") != 0)
            bad = i + 1;
        cr_expect_eq(bad, 0, "[http-after-close] round %d: GET /bytes/3 after a cut-off "
                     "request returned %d (status %ld), expected 0 and 'abc': a descriptor "
                     "number reused by a new connection still carried the old one's watch",
                     i, r, g.res.status);
        aio_response_free(&g.res);
    }
    aio_http_free(c);
    return bad;
}

Test(http, a_connection_closed_by_curl_leaves_the_poller)
{
    start_server();
    cr_assert_eq(aio_run(hang_then_get, NULL), 0);
    stop_server();
}

/* A one-shot HTTP server as a task: accept one connection, answer one request, close. */
static int answer_once_and_close(void *arg)
{
    int lfd = *(int *)arg;
    char buf[1024];
    int r = aio_wait_fd(lfd, AIO_READ, aio_now() + 5000);
    if (r < 0)
        return r;
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        return -errno;
    size_t got = 0;
    while (got < sizeof buf - 1 && (got < 4 || memcmp(buf + got - 4, "\r\n\r\n", 4) != 0)) {
        r = aio_wait_fd(fd, AIO_READ, aio_now() + 5000);
        ssize_t n = r < 0 ? -1 : read(fd, buf + got, sizeof buf - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    ssize_t w = write(fd, answer, sizeof answer - 1);
    close(fd);
    return w == (ssize_t)(sizeof answer - 1) ? 0 : -EIO;
}

struct idle_close {
    int lfd;
    int port;
    double cpu_s, wall_s;
};

/* One GET to the one-shot server; then, while its connection sits idle and closed by the
 * server, sleep and measure the CPU the loop uses. */
static int get_then_idle(void *arg)
{
    struct idle_close *ic = arg;
    aio_task *server = aio_spawn(answer_once_and_close, &ic->lfd);
    aio_http *c = aio_http_new();
    struct get g;
    memset(&g, 0, sizeof g);
    g.client = c;
    snprintf(g.url, sizeof g.url, "http://127.0.0.1:%d/", ic->port);
    g.deadline = aio_now() + 5000;
    int r = do_get(&g);
    aio_response_free(&g.res);
    int s = aio_join(server, AIO_NEVER);
    double c0 = kit_cpu(), w0 = kit_wall();
    aio_sleep(300);
    ic->cpu_s = kit_cpu() - c0;
    ic->wall_s = kit_wall() - w0;
    aio_http_free(c);
    return r < 0 ? r : s;
}

Test(http, an_idle_connection_the_server_closes_does_not_spin_the_loop)
{
    struct idle_close ic = {.lfd = socket(AF_INET, SOCK_STREAM, 0)};
    cr_assert_geq(ic.lfd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(ic.lfd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(ic.lfd, 4), 0);
    cr_assert_eq(getsockname(ic.lfd, (struct sockaddr *)&a, &len), 0);
    ic.port = ntohs(a.sin_port);
    cr_assert_eq(aio_run(get_then_idle, &ic), 0, "[http-idle-get] the GET to the one-shot "
                 "server failed");
    close(ic.lfd);
    cr_expect_lt(ic.cpu_s, 0.5 * ic.wall_s, "[http-idle-spin] the loop used %.3f s of CPU "
                 "during a %.3f s sleep: an idle keep-alive connection the server closed is "
                 "readable for ever, and its watch must go at its first event instead of "
                 "waking the loop again and again", ic.cpu_s, ic.wall_s);
}

/* ---- fast downloads leave room for timers and cancellation --------------------------------
 *
 * The evidence is a count, not a clock: how many bytes the program took in from its TCP
 * sockets (what the kernel received, minus what still waits in the socket) between two turns
 * of a task that yields in a loop, i.e. between two passes of the loop over its timers and
 * ready tasks. Left alone, libcurl reads 20 MB and more in one pass when a few downloads are
 * fast; the runtime bounds it (a quarter MiB per client per pass). */

#define FAIR_DOWNLOADS 4
#define FAIR_SIZE (32 * 1024 * 1024 - 7)        /* bytes per download */
#define FAIR_MAX_PER_PASS (2 * 1024 * 1024)     /* what a pass may take in, with margin */
#define FAIR_MAX_CANCEL (4 * 1024 * 1024)       /* between aio_cancel() and the join */
#define FAIR_REUSE_SIZE 300007                  /* the round after, on the same handles */

/* Bytes taken in so far by this process's TCP sockets, tracked per socket (by inode), so a
 * socket that closes does not make the next difference negative. */
struct intake {
    struct { ino_t ino; unsigned long long seen; } sock[64];
    int n;
    unsigned long long total;           /* everything taken in since the first call */
};

static void intake_update(struct intake *in)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
            continue;
        /* Data may arrive between the two calls; nothing reads the socket meanwhile (the
         * loop runs on this thread), so equal queue lengths before and after mean the
         * received count belongs with them. */
        struct tcp_info ti;
        int before = 0, after = -1, tries = 0;
        do {
            socklen_t len = sizeof ti;
            if (ioctl(fd, SIOCINQ, &before) != 0 ||
                getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
                ioctl(fd, SIOCINQ, &after) != 0)
                break;
        } while (before != after && ++tries < 1000);
        if (before != after)
            continue;
        cr_assert_geq(ti.tcpi_bytes_received, (unsigned long long)after, "[fair-harness] "
                      "socket %d: %d bytes queued but only %llu received", fd, after,
                      (unsigned long long)ti.tcpi_bytes_received);
        unsigned long long taken = ti.tcpi_bytes_received - (unsigned long long)after;
        int i = 0;
        while (i < in->n && in->sock[i].ino != st.st_ino)
            i++;
        if (i == in->n) {
            cr_assert_lt(in->n, 64, "[fair-harness] more sockets than the table holds");
            in->sock[in->n].ino = st.st_ino;
            in->sock[in->n].seen = 0;
            in->n++;
        }
        if (taken > in->sock[i].seen) {
            in->total += taken - in->sock[i].seen;
            in->sock[i].seen = taken;
        }
    }
    closedir(d);
}

struct fair {
    aio_http *client;
    struct get g[FAIR_DOWNLOADS + 1];   /* the last one is cancelled */
    struct get reuse[FAIR_DOWNLOADS + 1];
    struct intake in;
    volatile int stop;
    long passes;
    unsigned long long max_pass;        /* most bytes taken in between two passes */
    unsigned long long at_cancel, cancel_to_join;
    int cancelled_rc;
};

static int count_passes(void *arg)
{
    struct fair *f = arg;
    intake_update(&f->in);
    unsigned long long last = f->in.total;
    while (!f->stop) {
        aio_yield();
        intake_update(&f->in);
        if (f->in.total - last > f->max_pass)
            f->max_pass = f->in.total - last;
        last = f->in.total;
        f->passes++;
    }
    return 0;
}

static int fair_downloads(void *arg)
{
    struct fair *f = arg;
    f->client = aio_http_new();
    aio_task *t[FAIR_DOWNLOADS + 1];
    char path[64];
    snprintf(path, sizeof path, "/bytes/%d", FAIR_SIZE);
    for (int i = 0; i < FAIR_DOWNLOADS; i++) {
        get_init(&f->g[i], f->client, path, aio_now() + 60000);
        t[i] = aio_spawn(do_get, &f->g[i]);
    }
    get_init(&f->g[FAIR_DOWNLOADS], f->client, "/bytes/104857600", aio_now() + 60000);
    t[FAIR_DOWNLOADS] = aio_spawn(do_get, &f->g[FAIR_DOWNLOADS]);
    aio_task *counter = aio_spawn(count_passes, f);
    /* Cancel the big one once the downloads are well under way. */
    while (f->in.total < 8 * 1024 * 1024 && !aio_done(t[0]))
        aio_sleep(1);
    intake_update(&f->in);
    f->at_cancel = f->in.total;
    aio_cancel(t[FAIR_DOWNLOADS]);
    f->cancelled_rc = aio_join(t[FAIR_DOWNLOADS], AIO_NEVER);
    intake_update(&f->in);
    f->cancel_to_join = f->in.total - f->at_cancel;
    for (int i = 0; i < FAIR_DOWNLOADS; i++)
        aio_join(t[i], AIO_NEVER);
    f->stop = 1;
    aio_join(counter, AIO_NEVER);
    /* Every pooled handle again, the cancelled (probably paused) one included: none may
     * carry data kept back from its last transfer into the next. */
    snprintf(path, sizeof path, "/bytes/%d", FAIR_REUSE_SIZE);
    for (int i = 0; i <= FAIR_DOWNLOADS; i++) {
        get_init(&f->reuse[i], f->client, path, aio_now() + 30000);
        t[i] = aio_spawn(do_get, &f->reuse[i]);
    }
    for (int i = 0; i <= FAIR_DOWNLOADS; i++)
        aio_join(t[i], AIO_NEVER);
    aio_http_free(f->client);
    return 0;
}

Test(http, fast_downloads_leave_the_loop_turning)
{
    start_server();
    struct fair *f = calloc(1, sizeof *f);
    cr_assert_eq(aio_run(fair_downloads, f), 0);
    for (int i = 0; i < FAIR_DOWNLOADS; i++) {
        struct get *g = &f->g[i];
        cr_assert_eq(g->rc, 0, "[fair-get] download %d returned %d", i, g->rc);
        cr_assert_eq(g->res.status, 200);
        cr_assert_eq(g->res.len, (size_t)FAIR_SIZE, "[fair-len] download %d has %zu bytes, "
                     "expected %d: a transfer paused and resumed lost or repeated data", i,
                     g->res.len, FAIR_SIZE);
        size_t bad = 0;
        while (bad < g->res.len && g->res.body[bad] == (char)('a' + bad % 26))
            bad++;
        cr_assert_eq(bad, g->res.len, "[fair-body] download %d differs from the pattern at "
                     "byte %zu", i, bad);
        aio_response_free(&g->res);
    }
    for (int i = 0; i <= FAIR_DOWNLOADS; i++) {
        struct get *g = &f->reuse[i];
        cr_assert_eq(g->rc, 0, "[fair-reuse] GET %d after the downloads returned %d", i, g->rc);
        cr_assert_eq(g->res.len, (size_t)FAIR_REUSE_SIZE, "[fair-reuse-len] GET %d on a "
                     "reused handle has %zu bytes, expected %d: data from the handle's last "
                     "transfer (paused, then cancelled?) leaked into it", i, g->res.len,
                     FAIR_REUSE_SIZE);
        size_t bad = 0;
        while (bad < g->res.len && g->res.body[bad] == (char)('a' + bad % 26))
            bad++;
        cr_assert_eq(bad, g->res.len, "[fair-reuse-body] GET %d on a reused handle differs "
                     "from the pattern at byte %zu", i, bad);
        aio_response_free(&g->res);
    }
    cr_assert_eq(f->cancelled_rc, -ECANCELED, "[fair-cancel] the cancelled download returned %d",
                 f->cancelled_rc);
    cr_assert_geq(f->in.total, (unsigned long long)FAIR_DOWNLOADS * FAIR_SIZE,
                  "[fair-harness] the sockets took in %llu bytes, less than the %d downloads' "
                  "bodies: the count is broken", f->in.total, FAIR_DOWNLOADS);
    cr_assert_leq(f->max_pass, FAIR_MAX_PER_PASS, "[fair-pass] the program took in %llu bytes "
                  "between two passes of the loop (%ld passes in all); at most %d were "
                  "expected. libcurl read on and on inside one readiness event, while timers "
                  "and other tasks waited.", f->max_pass, f->passes, FAIR_MAX_PER_PASS);
    cr_assert_leq(f->cancel_to_join, FAIR_MAX_CANCEL, "[fair-cancel-slow] %llu bytes came in "
                  "between aio_cancel() and the join's return; the cancelled task should run "
                  "within a pass or two", f->cancel_to_join);
    free(f);
}

/* Defined (mark_poll_backend.c) only in the poll() build's binary. */
extern int aio_test_poll_backend __attribute__((weak));

/* ---- a failing libcurl call is reported and ends the transfers it strands ----------------- */

/* curl_multi_socket_action() and curl_multi_perform() as the runtime sees them (the binary is
 * linked with -Wl,--wrap for both): the real ones, counted, except that the call numbered
 * fail_at of either (counting from 1 after arming) returns CURLM_OUT_OF_MEMORY without doing
 * anything; failed_call names it. */
CURLMcode __real_curl_multi_socket_action(CURLM *m, curl_socket_t s, int ev, int *running);
CURLMcode __real_curl_multi_perform(CURLM *m, int *running);
CURLMcode __real_curl_multi_wait(CURLM *m, struct curl_waitfd *extra, unsigned n, int ms,
                                 int *ret);
static long socket_actions, performs, waits, drives, fail_at;
static bool fail_wait;                  /* fail the next curl_multi_wait() instead */
static const char *failed_call;

CURLMcode __wrap_curl_multi_wait(CURLM *m, struct curl_waitfd *extra, unsigned n, int ms,
                                 int *ret)
{
    waits++;
    if (fail_wait) {
        fail_wait = false;
        failed_call = "curl_multi_wait";
        return CURLM_OUT_OF_MEMORY;
    }
    return __real_curl_multi_wait(m, extra, n, ms, ret);
}

CURLMcode __wrap_curl_multi_socket_action(CURLM *m, curl_socket_t s, int ev, int *running)
{
    socket_actions++;
    if (fail_at > 0 && ++drives == fail_at) {
        failed_call = "curl_multi_socket_action";
        return CURLM_OUT_OF_MEMORY;
    }
    return __real_curl_multi_socket_action(m, s, ev, running);
}

CURLMcode __wrap_curl_multi_perform(CURLM *m, int *running)
{
    performs++;
    if (fail_at > 0 && ++drives == fail_at) {
        failed_call = "curl_multi_perform";
        return CURLM_OUT_OF_MEMORY;
    }
    return __real_curl_multi_perform(m, running);
}

struct multi_failure {
    bool wait;                  /* fail curl_multi_wait(), not the call that drives curl */
    struct get g[2];
    int after;                  /* a GET on the same client once the failure is over */
    long after_status;
};

static int gets_through_a_failure(void *arg)
{
    struct multi_failure *mf = arg;
    aio_http *c = aio_http_new();
    aio_task *t[2];
    for (int i = 0; i < 2; i++) {
        get_init(&mf->g[i], c, "/delay/300", aio_now() + 5000);
        t[i] = aio_spawn(do_get, &mf->g[i]);
    }
    aio_sleep(100);                     /* both requests are sent and waiting for answers */
    drives = waits = 0;
    if (mf->wait)
        fail_wait = true;               /* the next wait in curl's poll fails */
    else
        fail_at = 1;                    /* the next call that drives curl fails */
    for (int i = 0; i < 2; i++)
        aio_join(t[i], AIO_NEVER);
    fail_at = 0;
    fail_wait = false;
    struct get g;
    get_init(&g, c, "/bytes/5", aio_now() + 5000);
    mf->after = do_get(&g);
    mf->after_status = g.res.status;
    aio_response_free(&g.res);
    aio_http_free(c);
    return 0;
}

/* Run gets_through_a_failure (mf->wait says which call fails) with stderr captured in buf. */
static int run_through_a_failure(struct multi_failure *mf, char *buf, size_t size)
{
    int out[2];
    cr_assert_eq(pipe(out), 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(out[1], 2);
    close(out[1]);
    int r = aio_run(gets_through_a_failure, mf);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ssize_t n = read(out[0], buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(out[0]);
    return r;
}

/* The failed call ended both transfers with -ENOMEM at once, said so, and the client works on. */
static void expect_failure_handled(struct multi_failure *mf, const char *buf)
{
    for (int i = 0; i < 2; i++)
        cr_assert_eq(mf->g[i].rc, -ENOMEM, "[http-curl-fail] GET %d returned %d after "
                     "%s() failed with CURLM_OUT_OF_MEMORY; expected -ENOMEM at once, not a "
                     "wait for the deadline", i, mf->g[i].rc, failed_call);
    char want[256];
    snprintf(want, sizeof want, "aio: [http-curl-failed] %s() failed: Out of memory (CURLMcode "
             "3); ending the client's 2 transfers in flight with an error\n", failed_call);
    cr_assert_not_null(strstr(buf, want), "[http-curl-report] the failure was not reported on "
                       "stderr as expected (%s); stderr was:\n%s", want, buf);
    cr_assert_eq(mf->after, 0, "[http-after-failure] a GET on the same client after the failure "
                 "returned %d", mf->after);
    cr_assert_eq(mf->after_status, 200);
}

Test(http, a_failing_curl_call_ends_its_transfers_loudly)
{
    start_server();
    struct multi_failure mf = {.wait = false};
    char buf[4096];
    cr_assert_eq(run_through_a_failure(&mf, buf, sizeof buf), 0);
    cr_assert_not_null(failed_call, "[http-curl-unfailed] neither curl_multi_socket_action() "
                       "nor curl_multi_perform() was called while two transfers waited");
    expect_failure_handled(&mf, buf);
}

/* Only a client in curl's poll waits in curl_multi_wait(); on the socket interface none does,
 * and the two GETs simply answer. */
Test(http, a_failing_wait_in_curls_poll_ends_its_transfers_loudly)
{
    start_server();
    struct multi_failure mf = {.wait = true};
    char buf[4096];
    cr_assert_eq(run_through_a_failure(&mf, buf, sizeof buf), 0);
    const char *api = getenv("AIO_HTTP_API");
    if ((api != NULL && strcmp(api, "socket") == 0) || &aio_test_poll_backend != NULL) {
        cr_assert_eq(waits, 0, "[http-api-socket-wait] a client on the socket interface "
                     "called curl_multi_wait() %ld times", waits);
        for (int i = 0; i < 2; i++)
            cr_assert(mf.g[i].rc == 0 && mf.g[i].res.status == 200, "[http-socket-get] GET %d "
                      "returned %d (status %ld), expected 0 and 200", i, mf.g[i].rc,
                      mf.g[i].res.status);
        for (int i = 0; i < 2; i++)
            aio_response_free(&mf.g[i].res);
        return;
    }
    cr_assert_not_null(failed_call, "[http-curl-unfailed] curl_multi_wait() was not called "
                       "while two transfers waited");
    expect_failure_handled(&mf, buf);
}

/* ---- which of libcurl's interfaces drives a client ------------------------------------------ */

/* The first client of a loop on epoll waits in curl's poll (curl_multi_wait, then
 * curl_multi_perform); a second client of the same loop, the poll() backend and
 * AIO_HTTP_API=socket use the socket interface. Both must make progress together: while the
 * first client's request is in flight the loop sleeps in curl's poll, which must wake for the
 * second client's sockets (and any other descriptor the loop watches). */
#define SECOND_GETS 3


struct two_clients {
    aio_http *first, *second;
    struct get slow;                    /* on the first client */
    bool slow_done;
    int second_ok;                      /* /delay/20 answers to the second client */
    bool slow_done_when_second_ended;
    long first_drives[2], second_drives[2];     /* {socket actions, performs} */
    long idle_waits;                    /* curl_multi_wait() calls with nothing in flight */
};

static int slow_get(void *arg)
{
    struct two_clients *tc = arg;
    int r = do_get(&tc->slow);
    tc->slow_done = true;
    return r;
}

static int two_clients(void *arg)
{
    struct two_clients *tc = arg;
    tc->first = aio_http_new();
    tc->second = aio_http_new();
    /* The first client alone: which calls drive it. */
    socket_actions = performs = 0;
    struct get g;
    get_init(&g, tc->first, "/bytes/7", aio_now() + 5000);
    int r = do_get(&g);
    aio_response_free(&g.res);
    tc->first_drives[0] = socket_actions;
    tc->first_drives[1] = performs;
    if (r != 0)
        return r;
    waits = 0;
    aio_sleep(20);                      /* no transfer in flight: the loop's own poller */
    tc->idle_waits = waits;
    /* A long request on the first, short ones one after another on the second. */
    get_init(&tc->slow, tc->first, "/delay/3000", aio_now() + 10000);
    aio_task *t = aio_spawn(slow_get, tc);
    aio_sleep(50);
    socket_actions = performs = 0;
    for (int i = 0; i < SECOND_GETS; i++) {
        get_init(&g, tc->second, "/delay/20", aio_now() + 10000);
        tc->second_ok += do_get(&g) == 0 && g.res.status == 200;
        aio_response_free(&g.res);
    }
    tc->slow_done_when_second_ended = tc->slow_done;
    tc->second_drives[0] = socket_actions;
    tc->second_drives[1] = performs;
    r = aio_join(t, AIO_NEVER);
    aio_response_free(&tc->slow.res);
    aio_http_free(tc->second);
    aio_http_free(tc->first);
    return r;
}

Test(http, two_clients_of_one_loop_make_progress_together)
{
    start_server();
    struct two_clients tc = {0};
    cr_assert_eq(aio_run(two_clients, &tc), 0, "[two-clients-failed] a GET of the two clients "
                 "failed");
    const char *api = getenv("AIO_HTTP_API");
    bool socket_only = api != NULL && strcmp(api, "socket") == 0;
    if (&aio_test_poll_backend != NULL)
        socket_only = true;             /* poll() has no descriptor to put in curl's poll */
    if (socket_only)
        cr_assert(tc.first_drives[0] > 0 && tc.first_drives[1] == 0, "[http-api-socket] the "
                  "first client made %ld socket actions and %ld performs; with the socket "
                  "interface only socket actions were expected", tc.first_drives[0],
                  tc.first_drives[1]);
    else
        cr_assert(tc.first_drives[0] == 0 && tc.first_drives[1] > 0, "[http-api-poll] the "
                  "first client of a loop made %ld socket actions and %ld performs; it should "
                  "wait in curl's poll and drive curl with curl_multi_perform() only",
                  tc.first_drives[0], tc.first_drives[1]);
    cr_assert_eq(tc.idle_waits, 0, "[http-idle-poll] with no transfer in flight the loop "
                 "waited in curl's poll %ld times; only a client with transfers in flight "
                 "should take the loop's wait", tc.idle_waits);
    cr_assert(tc.second_drives[0] > 0, "[http-api-second] the second client's requests made "
              "no socket action: a second client of a loop uses the socket interface");
    cr_assert_eq(tc.second_ok, SECOND_GETS, "[two-clients-second] %d of the second client's %d "
                 "GETs answered 200", tc.second_ok, SECOND_GETS);
    cr_assert(!tc.slow_done_when_second_ended, "[two-clients-stalled] the second client's %d "
              "GETs of 20 ms ended only after the first client's 3 s one: while curl's poll "
              "waited for the first client, the second one's sockets went unheard",
              SECOND_GETS);
    cr_assert_eq(tc.slow.rc, 0);
    cr_assert_eq(tc.slow.res.status, 0);    /* freed above: only the status is left at 0 */
}
