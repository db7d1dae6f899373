/* Lesson 11, part one (solution): a GET that tries again, with capped exponential backoff and
 * full jitter, inside the caller's deadline. */
#include "retry.h"

#include <errno.h>
#include <stddef.h>

int retry_worth_it(int rc, long status)
{
    if (rc == 0)
        return status == 429 || (status >= 500 && status <= 599);
    return rc == -ETIMEDOUT || rc == -ECONNREFUSED || rc == -EIO;
}

/* min(cap, base * 2^(k-1)) for attempt k >= 1, without overflow: doubling stops at the cap. */
static int64_t ceiling(const struct retry_policy *p, int k)
{
    int64_t c = p->base_ms;

    for (int i = 1; i < k && c < p->cap_ms; i++)
        c *= 2;
    return c < p->cap_ms ? c : p->cap_ms;
}

static int policy_ok(const struct retry_policy *p)
{
    return p->rng != NULL && p->attempts >= 1 && p->attempts <= RETRY_ATTEMPTS_MAX &&
           p->base_ms >= 0 && p->base_ms <= RETRY_MS_MAX && p->cap_ms >= 0 &&
           p->cap_ms <= RETRY_MS_MAX && p->attempt_ms >= 0 && p->attempt_ms <= RETRY_MS_MAX;
}

static int reached(int64_t t, int64_t deadline)
{
    return deadline != AIO_NEVER && t >= deadline;
}

int fetch_retry(aio_http *c, const char *url, const struct retry_policy *p,
                struct aio_response *out, int64_t deadline)
{
    if (out != NULL)
        *out = (struct aio_response){ 0 };
    if (c == NULL || url == NULL || p == NULL || out == NULL || !policy_ok(p))
        return -EINVAL;
    if (reached(aio_now(), deadline))
        return -ETIMEDOUT;
    for (int k = 1;; k++) {
        int64_t d = deadline;
        if (p->attempt_ms > 0 && (d == AIO_NEVER || aio_now() + p->attempt_ms < d))
            d = aio_now() + p->attempt_ms;
        int rc = aio_http_get(c, url, out, d);
        if (!retry_worth_it(rc, out->status) || k == p->attempts || reached(aio_now(), deadline))
            return rc;
        int64_t pause = retry_draw(p->rng, ceiling(p, k));
        if (reached(aio_now() + pause, deadline))
            return rc;
        aio_response_free(out);
        rc = aio_sleep(pause);
        if (rc < 0)
            return rc;
    }
}
