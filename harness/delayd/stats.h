/* delayd's counters behind /stats and /reset: exact under the thread pool (one mutex). */
#ifndef DELAYD_STATS_H
#define DELAYD_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "delayd.h"

/* Per-connection note, kept in MHD's socket context: lets a connection that only ever asks for
 * /stats or /reset stay out of the "connections" count. Owned by the connection callbacks. */
struct conn_note {
    uint64_t epoch;   /* the /reset generation in which it was accepted */
    bool counted;     /* currently included in "connections" */
    bool served;      /* has carried a counted request */
};

/* A TCP connection was accepted: counts it and fills note (which may be NULL). */
void stats_connection_opened(struct conn_note *note);
/* A request on this connection: counted ones keep it counted; /stats or /reset as its first
 * request takes it back out of the count. note may be NULL (then nothing changes). */
void stats_connection_used(struct conn_note *note, bool counted_request);

/* A counted request reached its first handler call: requests, in_flight, peak, by_endpoint. */
void stats_request_started(enum endpoint ep);
/* A counted request completed (answered or abandoned): in_flight goes down. */
void stats_request_completed(void);
/* A counted request's response was queued with this status. */
void stats_response_queued(unsigned status);

/* Enter /limited: returns how many /limited requests are in flight, this one included. */
long stats_limited_enter(void);
void stats_limited_leave(void);

/* The 1-based place of a new /flaky request in the sequence since start or /reset. */
uint64_t stats_flaky_next(void);

/* Zero the totals, start a new connection epoch, set peak to in_flight, restart /flaky. */
void stats_reset(void);

/* The /stats document as a NUL-terminated JSON string; the caller frees it. NULL if out of
 * memory. */
char *stats_json(void);

#endif
