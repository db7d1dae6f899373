/* Lesson 11, part one: a GET that tries again. Your file: fill in the TODOs. */
#include "retry.h"

#include <errno.h>

int retry_worth_it(int rc, long status)
{
    /* TODO 1: which outcomes can another try change? The contract (retry.h): a 5xx or a 429,
     * a timeout, a refused or broken connection, yes; any other answer and any other error,
     * no. Never waits. */
    (void)rc;
    (void)status;
    return -ENOSYS;
}

int fetch_retry(aio_http *c, const char *url, const struct retry_policy *p,
                struct aio_response *out, int64_t deadline)
{
    /* TODO 2: asyncio's
     *     for k in range(1, attempts + 1):
     *         try: r = await asyncio.wait_for(get(url), min(per_attempt, time left))
     *         ...  not worth another try: return it
     *         pause = random.uniform(0, min(cap, base * 2 ** (k - 1)))
     *         if there is no time for the pause and one more attempt: give up
     *         await asyncio.sleep(pause)
     * The contract (retry.h):
     * - Each attempt's own deadline is the sooner of the caller's and attempt_ms from now.
     * - One retry_draw(p->rng, ceiling) a pause, after attempt k: ceiling = min(cap,
     *   base * 2^(k-1)), with no overflow whatever k is; no draw the caller's deadline makes
     *   pointless, no pause that would reach it, and nothing at all once it has come.
     * - A series that stops returns what its last attempt got (0 and the answer, or the
     *   error); the answers before it are freed. A cancel returns -ECANCELED at once with
     *   nothing left behind. -EINVAL for bad arguments, with nothing sent.
     * - On every error *out is empty. */
    (void)c;
    (void)url;
    (void)p;
    (void)deadline;
    if (out != NULL)
        *out = (struct aio_response){ 0 };
    return -ENOSYS;
}
