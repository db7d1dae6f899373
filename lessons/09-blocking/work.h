/* Lesson 09: blocking pitfalls. Each item of a batch waits for its body (a GET), computes
 * with it (a CPU-bound digest) and records the result (a write to a ledger whose library
 * blocks). Written the plain way (item_run_blocking), each step stops the whole loop while it
 * runs. Your part: give each step its right place: the GET an async wait (aio_http_get), the
 * blocking library call a thread of the pool (aio_to_thread), the CPU work a thread too but
 * never more at once than the cap, and all of it safe when the item is cancelled while its
 * work runs on a thread. */
#ifndef WORK_H
#define WORK_H

#include "aio.h"

#include <stddef.h>
#include <stdint.h>

/* The most items in one batch: the program's --n limit, the tests' largest. */
#define ITEMS_MAX 256

/* ---- the libraries (given, library.c): every call here blocks the thread that makes it ---- */

/* The body's digest: FNV-1a over buf[0..len), rounds + 1 times over, each round seeded with
 * the last: pure CPU, about rounds * len nanoseconds. Thread-safe. */
uint64_t digest(const char *buf, size_t len, unsigned rounds);

/* How many rounds make about ms milliseconds of CPU for a body of len bytes (measured on this
 * machine, in CPU time, once per call). */
unsigned digest_rounds_for(double ms, size_t len);

/* A ledger with a synchronous client library and no async form (think of a database driver
 * that only blocks): each write takes write_ms of blocking (a synchronous commit) before it
 * lands. Thread-safe. ids 0..ids-1. */
struct ledger;
struct ledger *ledger_new(size_t ids, long write_ms);
void ledger_free(struct ledger *lg);
/* Store digest under id: blocks write_ms, then 0; -ERANGE for an id out of range. Every write
 * lands: a second one of the same id is counted (ledger_get) and replaces the first. */
int ledger_write(struct ledger *lg, size_t id, uint64_t digest);
/* How many writes of id have landed (0: none), and the last one's digest into *out. */
int ledger_get(struct ledger *lg, size_t id, uint64_t *out);

/* A plain blocking GET with libcurl's easy interface (curl_easy_perform): 0 with the status,
 * a malloc'd NUL-terminated body (free it) and its length; or -EIO. */
int http_get_blocking(const char *url, long *status, char **body, size_t *len);

/* What the libraries count, for the program's row: calls made on the loop's thread (digests,
 * ledger writes and blocking GETs: every one of them stalled the loop), digests and ledger
 * writes running at once at most. library_reset() names the calling thread the loop's. */
struct library_counts {
    long on_loop;
    long digest_peak, write_peak;
    long digests, writes;
};
void library_reset(void);
void library_counts(struct library_counts *out);

/* ---- the batch (given, batch_base.c) -------------------------------------------------------- */

/* What every item of a batch shares. The caller's; it outlives the loop that runs the items
 * (a thread's work may outlive the task that handed it over, never the loop). */
struct batch {
    aio_http *http;          /* the client for every GET (aio_http_get) */
    aio_sem cpu;             /* permits for digests running at once */
    int cpu_max;             /* the cap: aio_sem_init(&cpu, cpu_max) */
    unsigned rounds;         /* the digest's cost: digest(body, len, rounds) */
    struct ledger *ledger;   /* where each item's digest is recorded */
};

/* A batch: its own HTTP client, the cap (1 or more), the digest's rounds, the caller's ledger.
 * 0, or -EINVAL (cpu_max < 1), -ENOMEM. batch_fini frees the client (after the loop). */
int batch_init(struct batch *b, int cpu_max, unsigned rounds, struct ledger *lg);
void batch_fini(struct batch *b);

enum item_outcome {
    ITEM_PENDING = 0,        /* not run yet, or still running */
    ITEM_DONE,               /* rc 0: answered, digested, recorded */
    ITEM_FAILED,             /* rc < 0 (not -ECANCELED): the GET or the write failed */
    ITEM_CANCELLED,          /* rc -ECANCELED */
};

/* One item. The caller owns it; it may free or reuse it as soon as the task that ran
 * item_run on it has been joined. */
struct item {
    struct batch *b;         /* in */
    const char *url;         /* in: borrowed, valid while the item runs */
    size_t id;               /* in: its key in the ledger */
    long status;             /* out: the answer's HTTP status, 0 when none came */
    size_t len;              /* out: the body's length */
    uint64_t digest;         /* out: digest(body, len, b->rounds) once computed, else 0 */
    int rc;                  /* out: 0, or how it failed */
    enum item_outcome outcome;
};

/* Make it ready: the inputs kept, every output 0, ITEM_PENDING. */
void item_prepare(struct item *it, struct batch *b, const char *url, size_t id);

/* The given program, for the modes "blocking" and "to_thread-all" (task bodies, arg a struct
 * item *): the three steps written plainly (http_get_blocking, digest, ledger_write) and run
 * on the loop's thread; and the same three handed to the pool whole in one aio_to_thread.
 * Neither is safe to cancel. */
int item_run_blocking(void *arg);
int item_run_threaded(void *arg);

/* ---- yours (offload.c) ---------------------------------------------------------------------- */

/* Record (id, digest) in b->ledger with ledger_write, run on a thread of the runtime's pool;
 * the task waits without blocking the loop. Returns ledger_write's result once the write has
 * landed (0, or its error).
 * -ECANCELED when the calling task is cancelled, -ETIMEDOUT at the deadline (absolute, or
 * AIO_NEVER): at once, and the write still runs to its end and lands (a thread cannot be
 * stopped halfway). -ENOMEM or -EAGAIN when the work could not be handed over: nothing is
 * written.
 * Whatever it returns, what the write's thread uses is its own: nothing of the caller's
 * (its locals, its arguments) is read or written once this has returned, and nothing is left
 * allocated once the write has ended. Call from inside a task. */
int record_offload(struct batch *b, size_t id, uint64_t digest, int64_t deadline);

/* Compute digest(body, len, b->rounds) on a thread of the runtime's pool, never on the loop's
 * thread, with at most b->cpu_max digests running at once for tasks that wait for them: a
 * permit of b->cpu taken (queueing, first come first served) before the work is handed over
 * and given back when this returns, on every path; a permit never taken is never given back.
 * Returns 0 with the digest in *out.
 * -ECANCELED when the calling task is cancelled, -ETIMEDOUT at the deadline, whether it was
 * queued for a permit or waiting for the work: at once, *out untouched. A digest already handed
 * to a thread runs on to its end; its result is thrown away. -ENOMEM or -EAGAIN when the work
 * could not be handed over.
 * body is borrowed for the call only: the caller may free it as soon as this returns,
 * whatever it returned. Neither body nor out is read or written once this has returned, and
 * nothing is left allocated once the digest has ended. Call from inside a task. */
int digest_offload(struct batch *b, const char *body, size_t len, uint64_t *out,
                   int64_t deadline);

/* ---- yours (item.c) ------------------------------------------------------------------------- */

/* A task body (arg: a struct item *, made ready with item_prepare): the item's three steps,
 * none of them on the loop's thread, no deadline of its own.
 * 1. GET it->url with it->b->http. A failure (-ECONNREFUSED, -EIO, ...) is ITEM_FAILED with
 *    that rc: nothing computed, nothing recorded. Any HTTP status is an answer: status and
 *    len are set.
 * 2. The body's digest, through digest_offload; it->digest once it is known.
 * 3. (it->id, that digest) recorded through record_offload: ITEM_DONE, rc 0; its error is
 *    ITEM_FAILED with that rc.
 * Cancelled at any of its waits: ITEM_CANCELLED, rc -ECANCELED, and the task returns
 * -ECANCELED at once (the work already on a thread runs on without it). On every way out the
 * body is freed, and once it has returned nothing writes the item any more. Returns it->rc. */
int item_run(void *arg);

#endif
