/* delayd: the types its source files share (configuration, one request's state, endpoints).
 * Nothing here is a public API; the server's interface is HTTP (see README.md). */
#ifndef DELAYD_H
#define DELAYD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <microhttpd.h>

/* What the command line sets; read-only once the server runs. */
struct delayd_config {
    const char *host;   /* numeric address to bind, IPv4 or IPv6 */
    unsigned port;      /* 0 lets the kernel pick a free port */
    long limit;         /* /limited answers 429 above this many in flight */
    double flaky_rate;  /* fraction of /flaky requests that fail, 0..1 */
    uint64_t seed;      /* seeds the /flaky sequence */
    long pages;         /* /page/0 .. /page/(pages-1) exist */
    unsigned threads;   /* MHD worker threads */
    long request_timeout_ms;   /* a request must arrive whole within this (timers.h) */
    long trace;         /* --trace: requests /trace keeps (0: off; trace.h) */
    long parent;        /* --parent: stop when this process ends (0: none; main.c) */
};

extern struct delayd_config delayd_cfg;

/* The endpoints, as counted in /stats "by_endpoint". EP_STATS and EP_RESET are never counted. */
enum endpoint {
    EP_DELAY,
    EP_STATUS,
    EP_HANG,
    EP_BYTES,
    EP_DRIP,
    EP_LIMITED,
    EP_FLAKY,
    EP_PAGE,
    EP_OTHER,      /* unknown paths (404) */
    EP_COUNTED,    /* how many endpoints /stats counts; the ones below are not */
    EP_STATS = EP_COUNTED,
    EP_RESET,
    EP_TRACE,
};

/* Where a request is in its life (see server.c, on_request). */
enum phase {
    PHASE_NEW,       /* the URI is known, the handler has not run yet */
    PHASE_HEADERS,   /* headers seen; waiting for the final handler call */
    PHASE_SLEEPING,  /* suspended, the waker owns the wake-up */
    PHASE_ANSWERED,  /* a response is queued */
};

/* Why the waker resumed a suspended connection. */
enum wake {
    WAKE_NONE,
    WAKE_DEADLINE,   /* its time came */
    WAKE_GONE,       /* the client closed its end of the socket */
    WAKE_SHUTDOWN,   /* the server is stopping */
};

struct request_watch;   /* timers.h: a connection's deadline for its next whole request */

#define TIMERS_NOT_QUEUED SIZE_MAX   /* heap_index of a request the waker does not hold */

/* One HTTP request, from MHD's URI callback until its completion callback, which frees it.
 * Only the MHD thread serving the connection touches it, except the waker fields, which the
 * waker thread owns while the connection is suspended. */
struct request {
    struct MHD_Connection *conn;
    int fd;                   /* the connection's socket, watched for hang-ups while asleep */
    struct request_watch *watch;   /* its connection's request deadline, or NULL */
    enum endpoint ep;
    enum phase phase;
    bool counted;             /* in the /stats counts (every endpoint but /stats and /reset) */
    bool holds_limited;       /* occupies a /limited slot until completion */
    unsigned status;          /* the answer chosen before sleeping (/limited, /flaky, /page) */
    long id;                  /* the number in the path: delay ms, page id, ... */
    uint64_t flaky_n;         /* this request's place in the /flaky sequence */
    long trace_slot;          /* its slot in the --trace record, or -1 */
    long page_delay_ms;       /* /page: its delay_ms, carried by its links (-1: none given) */
    bool page_mixed;          /* /page: style=mixed, links written in many forms */

    /* /drip: a slow body, paced from the content reader (see endpoints.c). */
    uint64_t drip_bytes;
    uint64_t drip_start_us;
    uint64_t drip_duration_us;

    /* Owned by the timer thread while the request sleeps (see timers.c). */
    uint64_t deadline_us;
    size_t heap_index;
    bool watched;             /* its socket is watched for a hang-up (timers.c) */
    size_t watch_index;       /* its place in the watched list (the poll() build) */
    struct request *next_due;
    _Atomic int wake;         /* enum wake; written by the waker, read after the resume */

    char query[];             /* the raw query string after '?', or "" */
};

/* Microseconds on the monotonic clock: the one time base of timers and drips. */
static inline uint64_t delayd_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#endif
