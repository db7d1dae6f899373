/* Lesson 01: N downloads one after another, then all at once. Your file: fill in the TODOs. */
#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>

int fetch_sequential(const char *const *urls, size_t n, struct fetch_result *results)
{
    /* TODO 1: the blocking version, `[client.get(url) for url in urls]`, with libcurl's easy
     * interface. What it must do (fetch.h says it too):
     * - results[i] is urls[i]'s answer: its HTTP status, and its body collected by the given
     *   fetch_collect_body() (libcurl calls it for each chunk that arrives).
     * - One request at a time: the next one starts when the last has finished.
     * - A transfer that fails (nobody listening, an answer cut short, ...) leaves status 0 and
     *   body NULL, and the rest still run. A 404 is not a failure: it is an answer.
     * - Return 0 (or a negative errno when nothing could run at all). Clean up what you make. */
    (void)urls;
    (void)n;
    (void)results;
    return -ENOSYS;
}

int fetch_concurrent(const char *const *urls, size_t n, struct fetch_result *results)
{
    /* TODO 2: all at once, like `asyncio.gather(*(client.get(u) for u in urls))`, with
     * libcurl's multi interface (curl_multi_*). The same results as fetch_sequential, and:
     * - Every request in flight at the same time, however many there are.
     * - While no transfer has anything to do, the function sleeps until libcurl has work: no
     *   spinning, no fixed sleeps, no waking up on its own several times a second. A signal
     *   that interrupts the wait is not an error.
     * - results[i] stays urls[i]'s answer whatever order the transfers finish in, when the
     *   same URL is asked for twice, and when several finish at the same moment.
     * - It returns as soon as the last transfer has finished, with every easy handle taken out
     *   of the multi handle before it is cleaned up, and the multi handle cleaned up last.
     * The README's table maps each asyncio idea to the libcurl call that does it. */
    (void)urls;
    (void)n;
    (void)results;
    return -ENOSYS;
}
