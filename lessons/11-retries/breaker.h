/* Lesson 11, part two: a circuit breaker, shared by every task that talks to one server.
 * Retries help a server that fails now and then; against a server that is down they multiply
 * its load by the attempts. A breaker counts failures in a row; at F of them it opens, and for
 * a cool-down every call fails at once without touching the network. Then one call, and only
 * one, is let through to see whether the server is back (half-open): its success closes the
 * breaker, its failure opens it for another cool-down. */
#ifndef BREAKER_H
#define BREAKER_H

#include "aio.h"

#include <stdint.h>

#define BREAKER_THRESHOLD_MAX 1000

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

/* The caller owns the struct (one per server, shared by its tasks; one loop only). */
struct breaker {
    /* set by breaker_init, read only */
    int threshold;          /* F: failures in a row that open it, 1..BREAKER_THRESHOLD_MAX */
    int64_t cooldown_ms;    /* how long it stays open, 0..86400000 */
    /* kept by breaker_fetch; the tests read state and failures */
    int state;              /* enum breaker_state */
    int failures;           /* failures in a row counted while closed (0 once it opens) */
    /* free for your design (breaker_init zeroes them) */
    int64_t opened_at;      /* e.g. aio_now() when it last opened */
    int probing;            /* e.g. 1 while the half-open call is in flight */
    unsigned long epoch;    /* e.g. counted up at each change of state */
};

/* ---- given (breaker_base.c) ----------------------------------------------------------- */

/* Closed, no failures: 0, or -EINVAL (b NULL, threshold or cooldown out of range). */
int breaker_init(struct breaker *b, int threshold, int64_t cooldown_ms);

/* ---- yours (breaker.c) ------------------------------------------------------------------ */

/* One GET of url through the breaker b: aio_http_get(c, url, out, deadline), or a refusal.
 * - A failure is an outcome retry_worth_it() calls worth another try (5xx, 429, -ETIMEDOUT,
 *   -ECONNREFUSED, -EIO); a success is any other answer (rc 0: 2xx, 3xx, 4xx but 429). Other
 *   errors (-ECANCELED, -EINVAL, -ENOMEM) are neither: they change nothing.
 * - Closed: the GET goes out. A success sets failures to 0; a failure counts one more, and the
 *   threshold-th failure in a row opens the breaker (failures 0), its cool-down counted from
 *   that moment (aio_now()).
 * - Open, before the cool-down is over (aio_now() < opened + cooldown_ms): -EAGAIN at once,
 *   nothing sent, no wait.
 * - Open, the cool-down over: this call is the probe and the breaker is half-open until it
 *   ends. Meanwhile every other call gets -EAGAIN at once: never two probes. The probe's
 *   success closes the breaker (failures 0); its failure opens it again, for a new cool-down
 *   from that moment; a probe that ends as neither (cancelled) gives its turn back: the next
 *   call is the probe.
 * - Only the state a call began in may judge it: a call whose GET began before the breaker last
 *   changed state (opened, went half-open, closed) returns its outcome to its caller but
 *   changes nothing (a slow success that began before the breaker opened does not close it; a
 *   failure that began before it closed does not count).
 * - Returns what aio_http_get returned (0 with *out filled, any status, or its error), or
 *   -EAGAIN (refused), -EINVAL (b, c, url or out NULL: nothing sent). On every error *out is
 *   left empty (status 0, body NULL, len 0), whatever it held on entry.
 * Call from a task; it waits only in the GET. */
int breaker_fetch(struct breaker *b, aio_http *c, const char *url, struct aio_response *out,
                  int64_t deadline);

#endif
