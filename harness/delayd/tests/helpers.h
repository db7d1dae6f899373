/* Helpers shared by delayd's tests: raw sockets, many GETs at once, waiting on /stats. */
#ifndef DELAYD_TEST_HELPERS_H
#define DELAYD_TEST_HELPERS_H

#include <stddef.h>

#include "kit.h"

#define URL_MAX 512

/* One .timeout for every suite in this binary. With suites of different timeouts and
 * --jobs=2, Criterion 2.4.1's runner process leaked a 48-byte block (inside
 * criterion_run_all_tests, in no test), which fails the run under ASan's leak check. */
#define SUITE_TIMEOUT 60

/* Start this test's private delayd (kit_server_start) with extra flags (NULL-terminated, or
 * NULL) and return its base URL. */
const char *server(const char *const *extra_args);

/* Raise this process's RLIMIT_NOFILE soft limit to its hard limit; returns the new limit. */
long raise_fd_limit(void);

/* A blocking TCP connection to the server at base, or -1. The caller closes it. */
int raw_connect(const char *base);

#define RAW_SILENT (-2)   /* raw_exchange(): no answer and no close before the timeout */

/* Send request (len bytes) on a fresh connection and read the answer until the server closes
 * or timeout_ms passes without data. Returns the status code of the first response line, 0
 * when the server closed without answering, RAW_SILENT when it neither answered nor closed,
 * -1 on a local error. */
int raw_exchange(const char *base, const char *request, size_t len, int timeout_ms);

/* Send request (len bytes) on a fresh connection and read everything until the server closes
 * or timeout_ms passes without data, into a malloc'd, NUL-terminated *out of *out_len bytes.
 * Returns 1 when the server closed, 0 when it went silent, -1 on a local error. */
int raw_response(const char *base, const char *request, size_t len, int timeout_ms, char **out,
                 size_t *out_len);

/* GET base+path, returning the status (or -1) and, if body is not NULL, a malloc'd body. */
long get(const char *base, const char *path, char **body);

/* GET n URLs at once with curl's multi interface, one fresh connection each (never reused),
 * and fill status[i] (0 for a transfer that failed). If spread is not NULL, it receives the
 * seconds between the first and the last request sent. Returns how many transfers got a
 * response, or -1 if the multi handle could not be set up. */
int get_many(const char *const *urls, int n, long *status, double *spread);

/* Poll /stats until in_flight equals want or timeout_s passes; returns the last in_flight
 * seen (-1 if /stats could not be read). */
long wait_in_flight(const char *base, long want, double timeout_s);

/* Threads of this process's delayd child (found through /proc/self/task/TID/children), or
 * -1 when it cannot be found. */
long server_threads(void);

#endif
