/* Lesson 07 tests: the calls the test binary counts (lesson.mk's LDWRAP), shared by both test
 * files. Test code that must not be counted calls the __real_ versions. */
#ifndef LESSON07_COUNTED_H
#define LESSON07_COUNTED_H

#include "aio.h"

#include <stddef.h>

#define TRACK_MAX 512          /* requests and tasks tracked in one test */

int __real_aio_yield(void);
int __real_aio_park(int64_t deadline);
aio_task *__real_aio_spawn(aio_fn fn, void *arg);
int __real_aio_join(aio_task *t, int64_t deadline);
int __real_aio_cancel(aio_task *t);

/* Everything below counts only while `watching` is set. */
extern int watching;

/* Waits that are not joins (what a polling loop calls), sleeps blocking the thread, cancels
 * (and those of a task that had already finished), joins given a deadline other than
 * AIO_NEVER, waits for any of several tasks. */
extern long polls, blocking_calls, cancels, cancels_of_finished, timed_joins, join_anys;

/* aio_spawn: when spawn_fail_at is k > 0, the k-th call fails (NULL, errno ENOMEM). Every task
 * spawned, whether its body has returned, and whether it was joined. */
extern long spawn_calls, spawn_fail_at;
extern size_t ntasks;
/* When each tracked task was spawned (aio_now()), in spawn order. */
extern int64_t spawn_at[TRACK_MAX];
size_t tasks_unjoined(void);
size_t tasks_running(void);     /* spawned and not finished */
/* The task that ran job j's job_run (NULL if none did), and how many tasks ran it. */
aio_task *task_of(const void *job);
long tasks_for(const void *job);
/* When the first task that ran job was spawned, or -1. */
int64_t spawned_at(const void *job);
/* Cancel every tracked task still running and join every one not joined (uncounted): the
 * clean-up after a wrong answer, so the test's loop can end. */
void reap(void);

/* aio_http_get: each request's url, its start and end on aio_now()'s clock and rc; requests
 * in flight now and at most. on_request, when set, is called as each request starts. */
extern size_t nreq;
extern long inflight, inflight_peak;
extern const char *urls_seen[TRACK_MAX];
extern int64_t req_start[TRACK_MAX], req_end[TRACK_MAX];
extern int req_rc[TRACK_MAX];
extern void (*on_request)(size_t i);
/* on_finish, when set, is called as each tracked task's body returns. */
extern void (*on_finish)(void);

/* aio_http_new and aio_http_free: clients opened, freed (non-NULL), open now and at most; how
 * many opened while their task was already cancelled does not matter. aio_http_new fails
 * (NULL) on its http_fail_at-th call when that is > 0. */
extern long http_news, http_frees, http_open, http_open_peak, http_fail_at;

/* aio_sem_acquire and aio_sem_release: calls, acquires that succeeded, releases that were
 * refused (-EOVERFLOW: more releases than acquires). */
extern long sem_acquires, sem_acquired, sem_releases, sem_overflows;

void counted_reset(void);

#endif
