/* Lesson 09 tests: counted wrappers for the calls listed in lesson.mk's LDWRAP. */
#include "counted.h"
#include "kit.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

atomic_int watching;
static pthread_t loop_thread;

atomic_long loop_digests, loop_writes, loop_sleeps, loop_easy, easy_performs;
atomic_long digests_started, digests_ended, digests_now, digests_peak, digest_body_freed,
    digest_bad_rounds, digest_gate_timeouts;
atomic_uint expect_rounds;
atomic_long writes_started, writes_ended, writes_now, writes_peak, write_gate_timeouts;
size_t nwrites;
size_t write_ids[TRACK_MAX];
uint64_t write_digests[TRACK_MAX];
long to_thread_calls, to_thread_stack_args, to_thread_fail_at;
long http_gets, http_inflight, http_peak;
long sem_acquires, sem_acquired, sem_releases, sem_overflows;
long polls;
int malloc_fail_next;
long malloc_refused;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int closed;                      /* GATE_DIGEST | GATE_WRITE */

void counted_reset(void)
{
    loop_thread = pthread_self();
    atomic_store(&loop_digests, 0);
    atomic_store(&loop_writes, 0);
    atomic_store(&loop_sleeps, 0);
    atomic_store(&loop_easy, 0);
    atomic_store(&easy_performs, 0);
    atomic_store(&digests_started, 0);
    atomic_store(&digests_ended, 0);
    atomic_store(&digests_now, 0);
    atomic_store(&digests_peak, 0);
    atomic_store(&digest_body_freed, 0);
    atomic_store(&digest_bad_rounds, 0);
    atomic_store(&digest_gate_timeouts, 0);
    atomic_store(&expect_rounds, 0);
    atomic_store(&writes_started, 0);
    atomic_store(&writes_ended, 0);
    atomic_store(&writes_now, 0);
    atomic_store(&writes_peak, 0);
    atomic_store(&write_gate_timeouts, 0);
    pthread_mutex_lock(&mu);
    nwrites = 0;
    closed = 0;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    to_thread_calls = to_thread_stack_args = to_thread_fail_at = 0;
    http_gets = http_inflight = http_peak = 0;
    sem_acquires = sem_acquired = sem_releases = sem_overflows = 0;
    polls = 0;
    malloc_fail_next = 0;
    malloc_refused = 0;
}

static int on_loop(void)
{
    return atomic_load(&watching) && pthread_equal(pthread_self(), loop_thread);
}

static void peak_up(atomic_long *now, atomic_long *peak)
{
    long v = atomic_fetch_add(now, 1) + 1;
    long p = atomic_load(peak);
    while (v > p && !atomic_compare_exchange_weak(peak, &p, v))
        continue;
}

void gate_close(int which)
{
    pthread_mutex_lock(&mu);
    closed |= which;
    pthread_mutex_unlock(&mu);
}

void gate_open(int which)
{
    pthread_mutex_lock(&mu);
    closed &= ~which;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* Wait while the gate is closed: 0, or -1 when GATE_S passed first. */
static int gate_pass(int which)
{
    struct timespec until;
    int rc = 0;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)GATE_S;
    pthread_mutex_lock(&mu);
    while ((closed & which) && rc == 0)
        if (pthread_cond_timedwait(&cv, &mu, &until) != 0)
            rc = -1;
    pthread_mutex_unlock(&mu);
    return rc;
}

/* Is any of buf[0..len) freed (or otherwise off limits) memory? */
static int poisoned(const char *buf, size_t len)
{
#ifdef __SANITIZE_ADDRESS__
    return len > 0 && __asan_region_is_poisoned((void *)buf, len) != NULL;
#else
    (void)buf;
    (void)len;
    return 0;
#endif
}

/* ---- the libraries --------------------------------------------------------------------- */

uint64_t __wrap_digest(const char *buf, size_t len, unsigned rounds);
uint64_t __wrap_digest(const char *buf, size_t len, unsigned rounds)
{
    if (!atomic_load(&watching))
        return __real_digest(buf, len, rounds);
    if (on_loop()) {
        atomic_fetch_add(&loop_digests, 1);
        return __real_digest(buf, len, rounds);
    }
    atomic_fetch_add(&digests_started, 1);
    peak_up(&digests_now, &digests_peak);
    if (gate_pass(GATE_DIGEST) < 0)
        atomic_fetch_add(&digest_gate_timeouts, 1);
    uint64_t h = 0;
    unsigned want = atomic_load(&expect_rounds);
    if (poisoned(buf, len))
        atomic_fetch_add(&digest_body_freed, 1);        /* reading it would be a use after free */
    else if (want != 0 && rounds != want)
        atomic_fetch_add(&digest_bad_rounds, 1);        /* garbage: not worth the CPU */
    else
        h = __real_digest(buf, len, rounds);
    atomic_fetch_sub(&digests_now, 1);
    atomic_fetch_add(&digests_ended, 1);
    return h;
}

int __real_ledger_write(struct ledger *lg, size_t id, uint64_t d);
int __wrap_ledger_write(struct ledger *lg, size_t id, uint64_t d);
int __wrap_ledger_write(struct ledger *lg, size_t id, uint64_t d)
{
    if (!atomic_load(&watching))
        return __real_ledger_write(lg, id, d);
    if (on_loop())
        atomic_fetch_add(&loop_writes, 1);
    atomic_fetch_add(&writes_started, 1);
    peak_up(&writes_now, &writes_peak);
    if (!on_loop() && gate_pass(GATE_WRITE) < 0)
        atomic_fetch_add(&write_gate_timeouts, 1);
    pthread_mutex_lock(&mu);
    if (nwrites < TRACK_MAX) {
        write_ids[nwrites] = id;
        write_digests[nwrites] = d;
        nwrites++;
    }
    pthread_mutex_unlock(&mu);
    int rc = __real_ledger_write(lg, id, d);
    atomic_fetch_sub(&writes_now, 1);
    atomic_fetch_add(&writes_ended, 1);
    return rc;
}

CURLcode __real_curl_easy_perform(CURL *h);
CURLcode __wrap_curl_easy_perform(CURL *h);
CURLcode __wrap_curl_easy_perform(CURL *h)
{
    if (atomic_load(&watching)) {
        atomic_fetch_add(&easy_performs, 1);
        if (on_loop())
            atomic_fetch_add(&loop_easy, 1);
    }
    return __real_curl_easy_perform(h);
}

unsigned __real_sleep(unsigned s);
int __real_usleep(useconds_t us);
int __real_nanosleep(const struct timespec *req, struct timespec *rem);
unsigned __wrap_sleep(unsigned s);
int __wrap_usleep(useconds_t us);
int __wrap_nanosleep(const struct timespec *req, struct timespec *rem);

unsigned __wrap_sleep(unsigned s)
{
    if (on_loop())
        atomic_fetch_add(&loop_sleeps, 1);
    return __real_sleep(s);
}

int __wrap_usleep(useconds_t us)
{
    if (on_loop())
        atomic_fetch_add(&loop_sleeps, 1);
    return __real_usleep(us);
}

int __wrap_nanosleep(const struct timespec *req, struct timespec *rem)
{
    if (on_loop())
        atomic_fetch_add(&loop_sleeps, 1);
    return __real_nanosleep(req, rem);
}

void *__real_malloc(size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_malloc(size_t size)
{
    if (malloc_fail_next && on_loop()) {
        malloc_fail_next = 0;
        malloc_refused++;
        return NULL;
    }
    return __real_malloc(size);
}

/* ---- the runtime ------------------------------------------------------------------------- */

int __real_aio_to_thread(aio_fn fn, void *arg, int64_t deadline);
int __wrap_aio_to_thread(aio_fn fn, void *arg, int64_t deadline);
int __wrap_aio_to_thread(aio_fn fn, void *arg, int64_t deadline)
{
    char probe = 0;

    if (!atomic_load(&watching) || !on_loop())
        return __real_aio_to_thread(fn, arg, deadline);
    to_thread_calls++;
    /* A task's stack is 256 KiB in this build; the heap lies far from every stack. */
    long gap = (long)((char *)arg - &probe);
    if (arg != NULL && gap > -(1L << 20) && gap < (1L << 20))
        to_thread_stack_args++;
    if (to_thread_fail_at > 0 && to_thread_calls == to_thread_fail_at)
        return -ENOMEM;
    return __real_aio_to_thread(fn, arg, deadline);
}

int __real_aio_http_get(aio_http *c, const char *url, struct aio_response *out,
                        int64_t deadline);
int __wrap_aio_http_get(aio_http *c, const char *url, struct aio_response *out,
                        int64_t deadline);
int __wrap_aio_http_get(aio_http *c, const char *url, struct aio_response *out,
                        int64_t deadline)
{
    if (!atomic_load(&watching))
        return __real_aio_http_get(c, url, out, deadline);
    http_gets++;
    if (++http_inflight > http_peak)
        http_peak = http_inflight;
    int rc = __real_aio_http_get(c, url, out, deadline);
    http_inflight--;
    return rc;
}

int __real_aio_sem_acquire(aio_sem *s, int64_t deadline);
int __wrap_aio_sem_acquire(aio_sem *s, int64_t deadline);
int __wrap_aio_sem_acquire(aio_sem *s, int64_t deadline)
{
    int rc = __real_aio_sem_acquire(s, deadline);
    int w = atomic_load(&watching);

    sem_acquires += w;
    sem_acquired += w && rc == 0;
    return rc;
}

int __real_aio_sem_release(aio_sem *s);
int __wrap_aio_sem_release(aio_sem *s);
int __wrap_aio_sem_release(aio_sem *s)
{
    int rc = __real_aio_sem_release(s);
    int w = atomic_load(&watching);

    sem_releases += w;
    sem_overflows += w && rc == -EOVERFLOW;
    return rc;
}

int __wrap_aio_sleep(int64_t ms);
int __wrap_aio_sleep(int64_t ms)
{
    polls += atomic_load(&watching);
    return __real_aio_sleep(ms);
}

int __wrap_aio_yield(void);
int __wrap_aio_yield(void)
{
    polls += atomic_load(&watching);
    return __real_aio_yield();
}

int __wrap_aio_park(int64_t deadline);
int __wrap_aio_park(int64_t deadline)
{
    polls += atomic_load(&watching);
    return __real_aio_park(deadline);
}
