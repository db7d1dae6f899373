/* Lesson 01: the two functions you write, and the result they fill in. */
#ifndef FETCH_H
#define FETCH_H

#include <stddef.h>

/* What one GET brought back. */
struct fetch_result {
    long status; /* the HTTP status, or 0 when the transfer failed (refused, bad URL, ...) */
    char *body;  /* the response body, NUL-terminated, malloc'd (NULL when status is 0) */
    size_t len;  /* body length, not counting the NUL */
};

/* Fetch urls[0..n-1] one after another with libcurl's easy interface: the next request starts
 * only when the last one has finished. results[i] receives urls[i]'s answer (results[] arrives
 * zeroed). A failed transfer (no connection, an answer cut short) gets status 0 and body NULL
 * and does not stop the others; an HTTP error such as 404 is an answer, not a failure. Returns
 * 0, or a negative errno when the fetch could not run at all (out of memory). Everything it
 * creates, it cleans up. The caller frees the bodies with fetch_results_free(). */
int fetch_sequential(const char *const *urls, size_t n, struct fetch_result *results);

/* The same, with every request in flight at once (libcurl's multi interface), however many.
 * While nothing is ready it sleeps until libcurl has work (no spinning, no fixed sleeps, no
 * periodic wake-ups; a signal during the wait is not an error), and it returns when the last
 * transfer has finished. results[i] is still urls[i]'s answer, whatever order the transfers
 * finish in, even when a URL appears twice. Easy handles leave the multi handle before they are
 * cleaned up; the multi handle is cleaned up last. */
int fetch_concurrent(const char *const *urls, size_t n, struct fetch_result *results);

/* Given (body.c): the write callback that appends a chunk to a struct fetch_result. Pass the
 * result as CURLOPT_WRITEDATA. */
size_t fetch_collect_body(char *data, size_t size, size_t nmemb, void *result);

/* Given (body.c): free the bodies of results[0..n-1] and zero them. */
void fetch_results_free(struct fetch_result *results, size_t n);

#endif
