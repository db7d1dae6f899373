/* Lesson 09, given: the "libraries" the items use. Every call here blocks the thread that
 * makes it: a digest computes, a ledger write sleeps through its commit, a GET waits for its
 * answer inside curl_easy_perform. They count what they see for the program's row. */
#include "work.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_t loop_thread;
static atomic_int loop_known;
static atomic_long on_loop, digests_now, digest_peak, writes_now, write_peak, digests, writes;

static void note_thread(void)
{
    if (atomic_load(&loop_known) && pthread_equal(pthread_self(), loop_thread))
        atomic_fetch_add(&on_loop, 1);
}

static void peak_up(atomic_long *now, atomic_long *peak)
{
    long v = atomic_fetch_add(now, 1) + 1;
    long p = atomic_load(peak);
    while (v > p && !atomic_compare_exchange_weak(peak, &p, v))
        continue;
}

void library_reset(void)
{
    loop_thread = pthread_self();
    atomic_store(&loop_known, 1);
    atomic_store(&on_loop, 0);
    atomic_store(&digest_peak, 0);
    atomic_store(&write_peak, 0);
    atomic_store(&digests, 0);
    atomic_store(&writes, 0);
}

void library_counts(struct library_counts *out)
{
    out->on_loop = atomic_load(&on_loop);
    out->digest_peak = atomic_load(&digest_peak);
    out->write_peak = atomic_load(&write_peak);
    out->digests = atomic_load(&digests);
    out->writes = atomic_load(&writes);
}

/* ---- the digest ---------------------------------------------------------------------------- */

static uint64_t fnv(const char *buf, size_t len, unsigned rounds)
{
    uint64_t h = 14695981039346656037ULL;
    for (unsigned r = 0; r <= rounds; r++) {
        for (size_t i = 0; i < len; i++) {
            h ^= (unsigned char)buf[i];
            h *= 1099511628211ULL;
        }
        h ^= r;
    }
    return h;
}

uint64_t digest(const char *buf, size_t len, unsigned rounds)
{
    note_thread();
    peak_up(&digests_now, &digest_peak);
    uint64_t h = fnv(buf, len, rounds);
    atomic_fetch_sub(&digests_now, 1);
    atomic_fetch_add(&digests, 1);
    return h;
}

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

unsigned digest_rounds_for(double ms, size_t len)
{
    static const char probe[64] = "calibrating the digest on this machine, once per call...";
    unsigned rounds = 1024;
    double spent = 0;
    volatile uint64_t sink = 0;

    if (ms <= 0)
        return 0;
    /* Double the rounds until a run takes 20 ms of CPU, then scale to ms and to len. */
    for (;;) {
        double t0 = thread_cpu();
        sink += fnv(probe, sizeof probe, rounds);
        spent = thread_cpu() - t0;
        if (spent >= 0.02 || rounds >= (1u << 30))
            break;
        rounds *= 2;
    }
    (void)sink;
    double per_byte_round = spent / ((double)rounds * sizeof probe);
    double want = ms / 1000.0 / (per_byte_round * (double)(len > 0 ? len : 1));
    return want >= 4e9 ? 4000000000u : want < 1 ? 1 : (unsigned)want;
}

/* ---- the ledger ----------------------------------------------------------------------------- */

struct ledger {
    pthread_mutex_t mu;
    size_t ids;
    long write_ms;
    uint64_t *last;
    int *count;
};

struct ledger *ledger_new(size_t ids, long write_ms)
{
    struct ledger *lg = calloc(1, sizeof *lg);
    if (lg == NULL)
        return NULL;
    lg->last = calloc(ids ? ids : 1, sizeof *lg->last);
    lg->count = calloc(ids ? ids : 1, sizeof *lg->count);
    if (lg->last == NULL || lg->count == NULL) {
        ledger_free(lg);
        return NULL;
    }
    pthread_mutex_init(&lg->mu, NULL);
    lg->ids = ids;
    lg->write_ms = write_ms;
    return lg;
}

void ledger_free(struct ledger *lg)
{
    if (lg == NULL)
        return;
    if (lg->last != NULL && lg->count != NULL)
        pthread_mutex_destroy(&lg->mu);
    free(lg->last);
    free(lg->count);
    free(lg);
}

int ledger_write(struct ledger *lg, size_t id, uint64_t d)
{
    note_thread();
    if (id >= lg->ids)
        return -ERANGE;
    peak_up(&writes_now, &write_peak);
    usleep((useconds_t)(lg->write_ms * 1000));        /* the synchronous commit */
    pthread_mutex_lock(&lg->mu);
    lg->last[id] = d;
    lg->count[id]++;
    pthread_mutex_unlock(&lg->mu);
    atomic_fetch_sub(&writes_now, 1);
    atomic_fetch_add(&writes, 1);
    return 0;
}

int ledger_get(struct ledger *lg, size_t id, uint64_t *out)
{
    if (id >= lg->ids)
        return 0;
    pthread_mutex_lock(&lg->mu);
    int n = lg->count[id];
    if (out != NULL)
        *out = lg->last[id];
    pthread_mutex_unlock(&lg->mu);
    return n;
}

/* ---- a blocking GET --------------------------------------------------------------------------- */

struct buf {
    char *p;
    size_t len;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    size_t k = size * n;
    char *p = realloc(b->p, b->len + k + 1);
    if (p == NULL)
        return 0;
    memcpy(p + b->len, data, k);
    b->p = p;
    b->len += k;
    p[b->len] = '\0';
    return k;
}

int http_get_blocking(const char *url, long *status, char **body, size_t *len)
{
    struct buf b = { NULL, 0 };
    CURL *h = curl_easy_init();
    int rc = -EIO;

    note_thread();
    if (h == NULL)
        return -ENOMEM;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    if (curl_easy_perform(h) == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
        if (b.p == NULL)
            b.p = calloc(1, 1);
        if (b.p != NULL) {
            *body = b.p;
            *len = b.len;
            b.p = NULL;
            rc = 0;
        } else {
            rc = -ENOMEM;
        }
    }
    free(b.p);
    curl_easy_cleanup(h);
    return rc;
}
