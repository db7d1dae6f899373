/* Lesson 07 tests: what both test files check after a run (common.c). */
#ifndef LESSON07_COMMON_H
#define LESSON07_COMMON_H

#include "pool.h"

#include <stddef.h>

/* The private delayd's base URL, set by setup(). */
extern const char *base;
void setup(void);
void teardown(void);

/* A port nothing listens on: a request there fails at once with -ECONNREFUSED. */
#define REFUSED "http://127.0.0.1:1/refused"

/* A job's task's return value, before it was joined. */
#define NOT_JOINED 77777

/* jobs[0..n) for pool p: urls made from paths under base (a full URL is kept as it is), each
 * with its own tag, made ready with job_prepare. The array is exactly n long; the responses
 * are released at kit_cleanup(). */
struct job *jobs_new(struct pool *p, const char *const *paths, size_t n);

/* Requests sent with url (the job's own pointer). */
long requests_to(const char *url);

/* What each job must show: outcome, rc (for JOB_FAILED), and its task's return value (result,
 * or NOT_JOINED when the test did not join it itself). */
void expect_job(const struct job *j, size_t i, const char *path, enum job_outcome want,
                int want_rc, int result);

/* The pool's books against the counts expected. */
void expect_books(const struct pool *p, long answered, long failed, long cancelled);

/* Everything given back: no connection open (j[0..n) and the counted clients), in_flight 0,
 * every permit back (max), no release without its acquire, no polling or blocking, nothing
 * left in flight on the server. func names the code under test. */
void expect_released(const char *func, const struct pool *p, int max, const struct job *j,
                     size_t n);

/* Inside the test's loop, uncounted. until_requests: park until k requests have started (0),
 * or give up (-1) after 5 s, when every task tracked has ended (stop NULL), or once *stop is
 * set (wake_waiter() then wakes it). until_queued: yield until k tasks queue on s (0), or -1
 * after 2000 turns. until_finished: wait until t has finished (0), or -1 after 5 s. */
int until_requests(size_t k, const int *stop);
void wake_waiter(void);
int until_queued(const aio_sem *s, size_t k);
int until_finished(aio_task *t);
#endif
