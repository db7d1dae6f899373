/* Lesson 09, part one: blocking work handed to the runtime's pool, safe to abandon. Your
 * file: fill in the TODOs. */
#include "work.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

int record_offload(struct batch *b, size_t id, uint64_t digest, int64_t deadline)
{
    /* TODO 1: asyncio's
     *     await asyncio.to_thread(ledger.write, id, digest)
     * for a library that only blocks. The contract (work.h): ledger_write runs on a thread of
     * the pool while the task waits; its result comes back. Cancelled or past the deadline,
     * the call returns at once, and the write still runs to its end and lands.
     * - Read aio.h's aio_to_thread closely: what fn is handed must stay valid until fn has
     *   returned, and that may be after this task has ended. Which codes mean fn runs, which
     *   mean it never will?
     * - Whatever it returns, nothing of the caller's is touched afterwards, and nothing is
     *   left allocated once the write is over, whichever side finishes last.
     * aio.h has what you need: aio_to_thread. <stdatomic.h> may help. */
    (void)b;
    (void)id;
    (void)digest;
    (void)deadline;
    return -ENOSYS;
}

int digest_offload(struct batch *b, const char *body, size_t len, uint64_t *out,
                   int64_t deadline)
{
    /* TODO 2: asyncio's
     *     async with cpu:                                  # a cap: more threads than cores
     *         return await asyncio.to_thread(digest, body) # win nothing
     * The contract (work.h): the digest is computed on a thread of the pool, never on the
     * loop's; at most b->cpu_max of them at once for the tasks that wait for them; a permit of
     * b->cpu taken before the work is handed over, given back on every path; 0 with *out.
     * Cancelled (while queued for a permit, or while the digest runs) or past the deadline:
     * at once, *out untouched.
     * - body is the caller's and only for the length of this call: the caller frees it as
     *   soon as you return, even when the digest is still running on its thread.
     * aio.h has what you need: aio_sem_acquire, aio_sem_release, aio_to_thread. */
    (void)b;
    (void)body;
    (void)len;
    (void)out;
    (void)deadline;
    return -ENOSYS;
}
