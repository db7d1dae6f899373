/* Lesson 01: N downloads one after another, then all at once. Your file: fill in the TODOs. */
#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>

int fetch_sequential(const char *const *urls, size_t n, struct fetch_result *results)
{
    /* TODO 1: the asyncio-free version, `for url in urls: requests.get(url)`.
     * - One easy handle (curl_easy_init) can serve every request; reusing it keeps the
     *   connection open between requests.
     * - For each i: set CURLOPT_URL to urls[i], CURLOPT_WRITEFUNCTION to fetch_collect_body
     *   and CURLOPT_WRITEDATA to &results[i]; run curl_easy_perform(); if it returned
     *   CURLE_OK, read the status with curl_easy_getinfo(..., CURLINFO_RESPONSE_CODE, ...).
     *   If it failed, leave status 0 (fetch_results_free(&results[i], 1) clears a partial
     *   body) and go on to the next URL.
     * - curl_easy_cleanup() the handle, return 0. */
    (void)urls;
    (void)n;
    (void)results;
    return -ENOSYS;
}

int fetch_concurrent(const char *const *urls, size_t n, struct fetch_result *results)
{
    /* TODO 2: all at once, like asyncio.gather(*(get(u) for u in urls)).
     * - curl_multi_init(); then one easy handle per URL, set up as above, plus
     *   CURLOPT_PRIVATE = &results[i] so you can find the result of a finished handle.
     *   curl_multi_add_handle() each one. Add them all before waiting on any.
     * - Loop while transfers are running: curl_multi_perform(multi, &running), then, while
     *   any run, curl_multi_poll(multi, NULL, 0, 1000, NULL) to sleep until there is work.
     *   A loop without the poll still works, and burns a whole core doing it.
     * - Read finished transfers with curl_multi_info_read(): for each CURLMSG_DONE, find its
     *   result (CURLINFO_PRIVATE) and record the status, as in TODO 1. results[i] must stay
     *   urls[i]'s answer, whatever order the transfers finish in.
     * - Tear down: curl_multi_remove_handle() then curl_easy_cleanup() for every easy
     *   handle, then curl_multi_cleanup(). */
    (void)urls;
    (void)n;
    (void)results;
    return -ENOSYS;
}
