/* Lesson 11, part two (solution): a circuit breaker shared by many tasks. Every change of
 * state counts the epoch up; a call remembers the epoch it began in, and its outcome counts
 * only if the breaker is still in that epoch when it ends. */
#include "breaker.h"
#include "retry.h"

#include <errno.h>
#include <stddef.h>

static void change(struct breaker *b, int state)
{
    b->state = state;
    b->failures = 0;
    b->epoch++;
    if (state == BREAKER_OPEN)
        b->opened_at = aio_now();
}

int breaker_fetch(struct breaker *b, aio_http *c, const char *url, struct aio_response *out,
                  int64_t deadline)
{
    if (out != NULL)
        *out = (struct aio_response){ 0 };
    if (b == NULL || c == NULL || url == NULL || out == NULL)
        return -EINVAL;
    int probe = 0;
    if (b->state == BREAKER_OPEN) {
        if (aio_now() < b->opened_at + b->cooldown_ms)
            return -EAGAIN;
        change(b, BREAKER_HALF_OPEN);
    }
    if (b->state == BREAKER_HALF_OPEN) {
        if (b->probing)
            return -EAGAIN;
        b->probing = probe = 1;
    }
    unsigned long epoch = b->epoch;
    int rc = aio_http_get(c, url, out, deadline);
    if (probe)
        b->probing = 0;
    if (b->epoch != epoch || (rc < 0 && !retry_worth_it(rc, 0)))
        return rc;   /* stale, or neither success nor failure */
    if (!retry_worth_it(rc, out->status)) {
        if (b->state == BREAKER_HALF_OPEN)
            change(b, BREAKER_CLOSED);
        b->failures = 0;
    } else if (b->state == BREAKER_HALF_OPEN || ++b->failures >= b->threshold) {
        change(b, BREAKER_OPEN);
    }
    return rc;
}
