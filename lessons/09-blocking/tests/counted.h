/* Lesson 09 tests: the calls the test binary counts (lesson.mk's LDWRAP). Every count is made
 * only while `watching` is set; the test's own steps call the __real_ versions. The counts are
 * atomic: the pool's threads make half of these calls. */
#ifndef LESSON09_COUNTED_H
#define LESSON09_COUNTED_H

#include "work.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define TRACK_MAX 64

int __real_aio_sleep(int64_t ms);
int __real_aio_yield(void);
int __real_aio_park(int64_t deadline);
uint64_t __real_digest(const char *buf, size_t len, unsigned rounds);

extern atomic_int watching;

/* Name the calling thread the loop's (the test's thread, before aio_run). */
void counted_reset(void);

/* Calls made ON THE LOOP'S THREAD: each one stalled every task. */
extern atomic_long loop_digests, loop_writes, loop_sleeps, loop_easy;
/* curl_easy_perform on any thread (the GET belongs on the loop as aio_http_get). */
extern atomic_long easy_performs;

/* Digests (the wrapped digest(), on pool threads): started, ended, running now and at most;
 * started with a body that had been freed when the digest came to read it; run with other
 * rounds than the batch's (expect_rounds); gate waits that gave up. */
extern atomic_long digests_started, digests_ended, digests_now, digests_peak, digest_body_freed,
    digest_bad_rounds, digest_gate_timeouts;
extern atomic_uint expect_rounds;

/* Ledger writes (the wrapped ledger_write): the same, and a log of (id, digest) in order. */
extern atomic_long writes_started, writes_ended, writes_now, writes_peak, write_gate_timeouts;
extern size_t nwrites;
extern size_t write_ids[TRACK_MAX];
extern uint64_t write_digests[TRACK_MAX];

/* Gates: while closed, a digest (a ledger write) on a pool thread waits there, until the test
 * opens it or GATE_S seconds pass. Open by default; counted_reset opens both. */
#define GATE_S 4.0
void gate_close(int which);
void gate_open(int which);
enum { GATE_DIGEST = 1, GATE_WRITE = 2 };

/* aio_to_thread: calls, calls whose arg pointed into the calling task's own stack, and when
 * to_thread_fail_at is k > 0 the k-th call returns -ENOMEM without queuing anything. */
extern long to_thread_calls, to_thread_stack_args, to_thread_fail_at;

/* malloc: when malloc_fail_next is set, the next malloc made on the loop's thread returns
 * NULL (and clears it); malloc_refused counts those. */
extern int malloc_fail_next;
extern long malloc_refused;

/* aio_http_get: calls, in flight now and at most. */
extern long http_gets, http_inflight, http_peak;

/* aio_sem_acquire and aio_sem_release: calls, acquires that succeeded, releases refused
 * (-EOVERFLOW). */
extern long sem_acquires, sem_acquired, sem_releases, sem_overflows;

/* aio_sleep, aio_yield, aio_park made by the code under test: waits that are not for
 * anything (a polling loop). */
extern long polls;

#endif
