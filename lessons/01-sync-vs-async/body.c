/* Lesson 01, given: collecting a response body, and freeing results. */
#include "fetch.h"

#include <stdlib.h>
#include <string.h>

size_t fetch_collect_body(char *data, size_t size, size_t nmemb, void *result)
{
    struct fetch_result *r = result;
    size_t n = size * nmemb;
    char *grown = realloc(r->body, r->len + n + 1);

    if (grown == NULL)
        return 0; /* libcurl then ends the transfer with CURLE_WRITE_ERROR */
    memcpy(grown + r->len, data, n);
    r->body = grown;
    r->len += n;
    r->body[r->len] = '\0';
    return n;
}

void fetch_results_free(struct fetch_result *results, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(results[i].body);
        results[i].body = NULL;
        results[i].len = 0;
        results[i].status = 0;
    }
}
