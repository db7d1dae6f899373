/* bench_curl: the HTTP benchmarks done with libcurl and no runtime, as floors for what libcurl
 * and delayd allow on this machine; one key=value row a run. Two loops, as a libcurl user
 * would write each:
 *   curl_multi   curl_multi_perform() and curl_multi_poll(): libcurl polls every socket;
 *   curl_socket  (--api socket) curl_multi_socket_action() driven by an epoll loop of its
 *                own, told by libcurl's socket and timer callbacks what to wait for: the
 *                event API that a runtime like aio is built on. */
#include "kit.h"

#include <curl/curl.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum {
    URL_MAX = 512,              /* room for "http://127.0.0.1:PORT/delay/MS" with margin */
    REQUEST_TIMEOUT_MS = 30000, /* one GET that takes this long means the run is broken */
    POLL_MS = 1000,             /* longest wait in one poll; libcurl may ask for a shorter one */
    EVENTS_MAX = 256            /* epoll events taken a wait (curl_socket) */
};

/* What one run is asked to do and what it counted. */
struct run {
    CURLM *multi;
    char url[URL_MAX];
    long active;    /* easy handles added and not yet finished */
    long done;      /* requests answered 200 */
    long failed;    /* transport errors or other statuses */
    double stop_s;  /* keep-alive loops start no new request after this (kit_wall() time) */
    int keep_going; /* 1: re-add a finished handle until stop_s (keep-alive loop) */
    int epfd;       /* curl_socket: the epoll set libcurl's sockets are in, or -1 */
    double due_s;   /* curl_socket: when libcurl's timer expires (kit_wall()), or -1: none */
    int failed_ctl; /* curl_socket: an epoll_ctl() the socket callback could not make */
};



/* Throw the body away: the benchmarks count answers, not bytes. */
static size_t discard(char *data, size_t size, size_t count, void *user)
{
    (void)data;
    (void)user;
    return size * count;
}

/* A new easy handle for url, added to r->multi. 0, or -ENOMEM / -EIO. The multi handle
 * does not own it: finish_one() removes and cleans it up. */
static int add_request(struct run *r)
{
    CURL *easy = curl_easy_init();

    if (easy == NULL)
        return -ENOMEM;
    curl_easy_setopt(easy, CURLOPT_URL, r->url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)REQUEST_TIMEOUT_MS);
    /* The same proxy settings as aio's client (harness/aio/http.c): without them libcurl reads
     * five proxy variables from the environment for every request (2.6% of a keep-alive
     * request's instructions here), work the runtime's transfers do not do. */
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
    if (curl_multi_add_handle(r->multi, easy) != CURLM_OK) {
        curl_easy_cleanup(easy);
        return -EIO;
    }
    r->active++;
    return 0;
}

/* Account for one finished transfer; re-add the same handle (its connection goes back to the
 * multi's pool, so the next request reuses it) while a keep-alive loop still has time. */
static void finish_one(struct run *r, CURL *easy, CURLcode result)
{
    long status = 0;

    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (result == CURLE_OK && status == 200)
        r->done++;
    else
        r->failed++;
    curl_multi_remove_handle(r->multi, easy);
    if (r->keep_going && r->failed == 0 && kit_wall() < r->stop_s &&
        curl_multi_add_handle(r->multi, easy) == CURLM_OK)
        return;
    curl_easy_cleanup(easy);
    r->active--;
}

/* Account for every transfer libcurl says has finished. */
static void read_done(struct run *r)
{
    int queued = 0;
    CURLMsg *msg = NULL;
    while ((msg = curl_multi_info_read(r->multi, &queued)) != NULL) {
        if (msg->msg == CURLMSG_DONE)
            finish_one(r, msg->easy_handle, msg->data.result);
    }
}

/* curl_multi: drive r->multi until no transfer is active: perform, read what finished, wait.
 * 0 or -EIO. */
static int drive(struct run *r)
{
    while (r->active > 0) {
        int running = 0;

        if (curl_multi_perform(r->multi, &running) != CURLM_OK)
            return -EIO;
        read_done(r);
        if (r->active > 0 && curl_multi_poll(r->multi, NULL, 0, POLL_MS, NULL) != CURLM_OK)
            return -EIO;
    }
    return r->failed > 0 ? -EIO : 0;
}

/* curl_socket: CURLMOPT_SOCKETFUNCTION. A socket is added to the epoll set the first time
 * libcurl names it (marked with curl_multi_assign), changed after, deleted on REMOVE. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *user, void *sockp)
{
    (void)easy;
    struct run *r = user;
    struct epoll_event ev = { 0 };

    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL);  /* may be closed already: no error */
        return 0;
    }
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
    ev.data.fd = fd;
    if (epoll_ctl(r->epfd, sockp != NULL ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0) {
        r->failed_ctl = 1;
        return -1;
    }
    if (sockp == NULL)
        curl_multi_assign(r->multi, fd, r);
    return 0;
}

/* curl_socket: CURLMOPT_TIMERFUNCTION. -1 stops the timer. */
static int on_timer(CURLM *multi, long timeout_ms, void *user)
{
    (void)multi;
    struct run *r = user;
    r->due_s = timeout_ms < 0 ? -1 : kit_wall() + timeout_ms / 1e3;
    return 0;
}

/* curl_socket: wait in epoll until a socket is ready or libcurl's timer is due, hand each
 * event to curl_multi_socket_action(), then the timer when due; until no transfer is
 * active. 0 or -EIO. */
static int drive_socket(struct run *r)
{
    struct epoll_event evs[EVENTS_MAX];
    int running = 0;

    while (r->active > 0 && !r->failed_ctl) {
        int wait_ms = POLL_MS;
        if (r->due_s >= 0) {
            double left_ms = (r->due_s - kit_wall()) * 1e3;
            wait_ms = left_ms <= 0 ? 0 : left_ms < POLL_MS ? (int)left_ms + 1 : POLL_MS;
        }
        int n = epoll_wait(r->epfd, evs, EVENTS_MAX, wait_ms);
        if (n < 0 && errno != EINTR)
            return -EIO;
        for (int i = 0; i < n; i++) {
            int flags = ((evs[i].events & (EPOLLIN | EPOLLHUP)) ? CURL_CSELECT_IN : 0) |
                        ((evs[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                        ((evs[i].events & EPOLLERR) ? CURL_CSELECT_ERR : 0);
            if (curl_multi_socket_action(r->multi, evs[i].data.fd, flags, &running) != CURLM_OK)
                return -EIO;
        }
        if (r->due_s >= 0 && kit_wall() >= r->due_s) {
            r->due_s = -1;
            if (curl_multi_socket_action(r->multi, CURL_SOCKET_TIMEOUT, 0, &running) != CURLM_OK)
                return -EIO;
        }
        read_done(r);
    }
    return r->failed > 0 || r->failed_ctl ? -EIO : 0;
}

/* Start n requests, or as many as were added before an error, and drive them to the end. */
static int start_and_drive(struct run *r, long n)
{
    int rc = 0;

    for (long i = 0; i < n && rc == 0; i++)
        rc = add_request(r);
    int drc = r->epfd >= 0 ? drive_socket(r) : drive(r);
    return rc < 0 ? rc : drc;
}

/* Read "--key value" pairs into the URL, count, delay, conns and seconds. 0, or -EINVAL
 * after saying why. */
static int parse_options(int argc, char **argv, const char **base, const char **api, double *n,
                         double *delay_ms, double *conns, double *seconds)
{
    for (int i = 2; i + 1 < argc; i += 2) {
        char *end = NULL;
        double v = strtod(argv[i + 1], &end);
        double *slot = strcmp(argv[i], "--n") == 0         ? n
                       : strcmp(argv[i], "--delay") == 0   ? delay_ms
                       : strcmp(argv[i], "--conns") == 0   ? conns
                       : strcmp(argv[i], "--seconds") == 0 ? seconds
                                                           : NULL;
        if (strcmp(argv[i], "--url") == 0) {
            *base = argv[i + 1];
            continue;
        }
        if (strcmp(argv[i], "--api") == 0 &&
            (strcmp(argv[i + 1], "multi") == 0 || strcmp(argv[i + 1], "socket") == 0)) {
            *api = argv[i + 1];
            continue;
        }
        if (slot == NULL || end == argv[i + 1] || *end != '\0' || !(v > 0)) {
            fprintf(stderr, "bench_curl: bad option %s %s\n", argv[i], argv[i + 1]);
            return -EINVAL;
        }
        *slot = v;
    }
    return argc % 2 == 0 && *base != NULL ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
    struct run r = { .epfd = -1, .due_s = -1 };
    const char *base = NULL;
    const char *api = "multi";
    double n = 1000, delay_ms = 100, conns = 100, seconds = 3;
    int keepalive = argc > 1 && strcmp(argv[1], "http_keepalive_rps") == 0;
    int batch = argc > 1 && strcmp(argv[1], "http_1000x100ms") == 0;
    int rc = 0;

    if (!(keepalive || batch) ||
        parse_options(argc, argv, &base, &api, &n, &delay_ms, &conns, &seconds) < 0) {
        fprintf(stderr, "usage: bench_curl http_1000x100ms --url BASE [--n N] [--delay MS] "
                        "[--api multi|socket]\n"
                        "       bench_curl http_keepalive_rps --url BASE [--conns C] "
                        "[--seconds S] [--api multi|socket]\n");
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    r.multi = curl_multi_init();
    if (r.multi == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    if (strcmp(api, "socket") == 0) {
        r.epfd = epoll_create1(EPOLL_CLOEXEC);
        if (r.epfd < 0 ||
            curl_multi_setopt(r.multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
            curl_multi_setopt(r.multi, CURLMOPT_SOCKETDATA, &r) != CURLM_OK ||
            curl_multi_setopt(r.multi, CURLMOPT_TIMERFUNCTION, on_timer) != CURLM_OK ||
            curl_multi_setopt(r.multi, CURLMOPT_TIMERDATA, &r) != CURLM_OK) {
            rc = -EIO;
            goto out;
        }
    }
    const char *impl = r.epfd >= 0 ? "curl_socket" : "curl_multi";
    if (keepalive)
        snprintf(r.url, sizeof r.url, "%s/bytes/0", base);
    else
        snprintf(r.url, sizeof r.url, "%s/delay/%ld", base, (long)delay_ms);
    r.keep_going = keepalive;
    double c0 = kit_cpu();
    double t0 = kit_wall();
    r.stop_s = t0 + seconds;
    rc = start_and_drive(&r, keepalive ? (long)conns : (long)n);
    double elapsed = kit_wall() - t0;
    double cpu = kit_cpu() - c0;
    if (rc == 0 && keepalive)
        printf("benchmark=%s impl=%s value=%.6g unit=req/s loops=%ld requests=%ld "
               "elapsed_s=%.3f cpu_s=%.3f\n", argv[1], impl, (double)r.done / elapsed, (long)conns,
               r.done, elapsed, cpu);
    else if (rc == 0)
        printf("benchmark=%s impl=%s value=%.6g unit=ms requests=%ld delay_ms=%ld "
               "cpu_s=%.3f\n", argv[1], impl, elapsed * 1e3, r.done, (long)delay_ms, cpu);
out:
    /* On an early error some easy handles may still be in the multi; the process is about to
     * exit, so they are left to it rather than tracked for this one path. */
    if (r.multi != NULL)
        curl_multi_cleanup(r.multi);
    if (r.epfd >= 0)
        close(r.epfd);
    curl_global_cleanup();
    if (rc < 0)
        fprintf(stderr, "bench_curl: %s failed: %s (%ld answered 200, %ld failed)\n", argv[1],
                strerror(-rc), r.done, r.failed);
    return rc < 0 ? 1 : 0;
}
