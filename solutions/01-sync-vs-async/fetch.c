/* Lesson 01, reference solution: N downloads one after another, then all at once. */
#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>

#define WAIT_MS 1000 /* longest single wait in curl_multi_poll; it returns early on activity */

/* Point an easy handle at url, writing the answer into *result. */
static void aim(CURL *easy, const char *url, struct fetch_result *result)
{
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, fetch_collect_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, result);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, result);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
}

/* Record how a finished transfer ended: its status, or 0 and no body if it failed. */
static void settle(CURL *easy, CURLcode outcome, struct fetch_result *result)
{
    if (outcome == CURLE_OK) {
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &result->status);
        return;
    }
    fetch_results_free(result, 1);
}

int fetch_sequential(const char *const *urls, size_t n, struct fetch_result *results)
{
    /* One handle for every request: libcurl keeps its connection open between them. */
    CURL *easy = curl_easy_init();

    if (easy == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        aim(easy, urls[i], &results[i]);
        settle(easy, curl_easy_perform(easy), &results[i]);
    }
    curl_easy_cleanup(easy);
    return 0;
}

/* Drain the multi handle's messages: settle each finished transfer. */
static void settle_finished(CURLM *multi)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
        struct fetch_result *result;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&result);
        settle(msg->easy_handle, msg->data.result, result);
    }
}

int fetch_concurrent(const char *const *urls, size_t n, struct fetch_result *results)
{
    CURLM *multi = curl_multi_init();
    CURL **easy = calloc(n, sizeof *easy);
    int running = 1;
    int rc = 0;

    if (multi == NULL || easy == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    /* 1. One easy handle per URL, all added before any waiting: every request is in flight. */
    for (size_t i = 0; i < n; i++) {
        easy[i] = curl_easy_init();
        if (easy[i] == NULL) {
            rc = -ENOMEM;
            goto out;
        }
        aim(easy[i], urls[i], &results[i]);
        curl_multi_add_handle(multi, easy[i]);
    }
    /* 2. Drive the transfers; sleep in curl_multi_poll until a socket or timer needs us. */
    while (running > 0) {
        if (curl_multi_perform(multi, &running) != CURLM_OK) {
            rc = -EIO;
            goto out;
        }
        settle_finished(multi);
        if (running > 0)
            curl_multi_poll(multi, NULL, 0, WAIT_MS, NULL);
    }
out:
    /* 3. Tear down in reverse: each handle leaves the multi handle before it is cleaned up. */
    for (size_t i = 0; easy != NULL && i < n && easy[i] != NULL; i++) {
        curl_multi_remove_handle(multi, easy[i]);
        curl_easy_cleanup(easy[i]);
    }
    free(easy);
    curl_multi_cleanup(multi);
    return rc;
}
