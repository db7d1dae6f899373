/* bench_curl: the HTTP benchmarks done with a plain curl_multi_poll() loop and no runtime,
 * as a floor for what libcurl and delayd allow on this machine; one key=value row a run. */
#include "kit.h"

#include <curl/curl.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

enum {
    URL_MAX = 512,              /* room for "http://127.0.0.1:PORT/delay/MS" with margin */
    REQUEST_TIMEOUT_MS = 30000, /* one GET that takes this long means the run is broken */
    POLL_MS = 1000              /* longest wait in curl_multi_poll(); libcurl may wake sooner */
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

/* Drive r->multi until no transfer is active: perform, read what finished, wait. 0 or -EIO. */
static int drive(struct run *r)
{
    while (r->active > 0) {
        int running = 0;
        int queued = 0;
        CURLMsg *msg = NULL;

        if (curl_multi_perform(r->multi, &running) != CURLM_OK)
            return -EIO;
        while ((msg = curl_multi_info_read(r->multi, &queued)) != NULL) {
            if (msg->msg == CURLMSG_DONE)
                finish_one(r, msg->easy_handle, msg->data.result);
        }
        if (r->active > 0 && curl_multi_poll(r->multi, NULL, 0, POLL_MS, NULL) != CURLM_OK)
            return -EIO;
    }
    return r->failed > 0 ? -EIO : 0;
}

/* Start n requests, or as many as were added before an error, and drive them to the end. */
static int start_and_drive(struct run *r, long n)
{
    int rc = 0;

    for (long i = 0; i < n && rc == 0; i++)
        rc = add_request(r);
    int drc = drive(r);
    return rc < 0 ? rc : drc;
}

/* Read "--key value" pairs into the URL, count, delay, conns and seconds. 0, or -EINVAL
 * after saying why. */
static int parse_options(int argc, char **argv, const char **base, double *n, double *delay_ms,
                         double *conns, double *seconds)
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
    struct run r = { 0 };
    const char *base = NULL;
    double n = 1000, delay_ms = 100, conns = 100, seconds = 3;
    int keepalive = argc > 1 && strcmp(argv[1], "http_keepalive_rps") == 0;
    int batch = argc > 1 && strcmp(argv[1], "http_1000x100ms") == 0;
    int rc = 0;

    if (!(keepalive || batch) ||
        parse_options(argc, argv, &base, &n, &delay_ms, &conns, &seconds) < 0) {
        fprintf(stderr, "usage: bench_curl http_1000x100ms --url BASE [--n N] [--delay MS]\n"
                        "       bench_curl http_keepalive_rps --url BASE [--conns C] "
                        "[--seconds S]\n");
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    r.multi = curl_multi_init();
    if (r.multi == NULL) {
        rc = -ENOMEM;
        goto out;
    }
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
        printf("benchmark=%s impl=curl_multi value=%.6g unit=req/s loops=%ld requests=%ld "
               "elapsed_s=%.3f cpu_s=%.3f\n", argv[1], (double)r.done / elapsed, (long)conns,
               r.done, elapsed, cpu);
    else if (rc == 0)
        printf("benchmark=%s impl=curl_multi value=%.6g unit=ms requests=%ld delay_ms=%ld "
               "cpu_s=%.3f\n", argv[1], elapsed * 1e3, r.done, (long)delay_ms, cpu);
out:
    /* On an early error some easy handles may still be in the multi; the process is about to
     * exit, so they are left to it rather than tracked for this one path. */
    if (r.multi != NULL)
        curl_multi_cleanup(r.multi);
    curl_global_cleanup();
    if (rc < 0)
        fprintf(stderr, "bench_curl: %s failed: %s (%ld answered 200, %ld failed)\n", argv[1],
                strerror(-rc), r.done, r.failed);
    return rc < 0 ? 1 : 0;
}
