/* aio: asyncio's ideas in C. An event loop, tasks with their own stacks, deadlines,
 * cancellation, a thread pool for blocking work and an HTTP client on libcurl. */
#ifndef AIO_H
#define AIO_H

#include <stddef.h>
#include <stdint.h>

/* Errors: every function here that can fail returns a negative errno value (-ETIMEDOUT,
 * -ECANCELED, -ENOMEM, ...), and 0 or a count on success; the two that return a pointer
 * (aio_spawn, aio_http_new) return NULL and set errno instead. A call that returns an error
 * did nothing that needs undoing, and no callback of it will fire. A call that waits returns
 * -EPERM when made outside a task. This is the one place the convention is stated; the
 * comments below only list which codes a call can return.
 *
 * Misuse that would corrupt the runtime if it went on is not an error code: a task joined
 * twice (or any call on a joined task), a task handle used from another loop's thread, the
 * first task joined by another. The program stops (abort) after one line on stderr,
 * "aio: [id] what happened", or "aio debug: [id] ..." in debug mode.
 *
 * Deadlines: every call that can wait takes an absolute deadline in milliseconds on the
 * monotonic clock of aio_now(), or AIO_NEVER. Build one with aio_now() + ms. A wait that
 * reaches its deadline returns -ETIMEDOUT.
 *
 * Cancellation: aio_cancel(t) marks t cancelled. From then on every wait inside t returns
 * -ECANCELED at once (level-triggered: again at each later wait), and t is expected to clean
 * up and return -ECANCELED upward. That is C's form of re-raising CancelledError. */

#define AIO_NEVER ((int64_t)-1)

/* Debug mode: run with AIO_DEBUG=1 in the environment (asyncio.run(debug=True)). Reports go
 * to stderr, one line each, starting "aio debug: ", for example
 *   aio debug: task 'download 3' held the loop for 230 ms (no wait in between)
 *   aio debug: task 'download 3' finished but was never joined
 *   aio debug: aio_run() called inside a running loop
 *   aio debug: at loop end: 2 tasks, 1 timer, 0 descriptors, 0 operations still open
 *   aio debug: [loop-held] the loop's own I/O callbacks held it for 150 ms (no task ran ...)
 *   aio debug: [unpark-not-parked] aio_unpark() of task 'w', which is finished, did nothing...
 *   aio debug: [wait-outside-task] aio_sleep() was called outside a task ...
 * A task with no name is shown as its number and function address: task #7 (fn 0x4011a0).
 * Debug mode also reuses a joined task's slot as late as it can, so that a stale handle is
 * caught as one instead of naming a newer task. */

typedef struct aio_task aio_task;

/* A task's body. Its return value (0 or a negative errno) is what aio_join() hands back. */
typedef int (*aio_fn)(void *arg);

/* ---- the loop ------------------------------------------------------------------------- */

/* asyncio.run(main()): start a loop, run fn(arg) as the first task, keep running until that
 * task returns and every task spawned is finished, then close the loop. Returns fn's result,
 * or -EBUSY when called from inside a running loop (debug mode names it). */
int aio_run(aio_fn fn, void *arg);

/* Milliseconds on the monotonic clock, read once per loop iteration (cheap). */
int64_t aio_now(void);

/* ---- tasks ---------------------------------------------------------------------------- */

/* asyncio.create_task(): schedule fn(arg) to start on a later loop turn. Returns NULL and
 * sets errno when no stack can be had. The caller owns the handle until aio_join(). */
aio_task *aio_spawn(aio_fn fn, void *arg);

/* aio_spawn() with options: flags is 0 (the same as aio_spawn) or AIO_TASK_COMPACT. NULL with
 * errno EINVAL for an unknown flag, and as aio_spawn otherwise.
 *
 * AIO_TASK_COMPACT: for very many tasks that mostly wait. A compact task has no stack of its
 * own: it runs on a stack the loop shares between all compact tasks, and when it waits and
 * another compact task needs that stack, the part it used is copied to the heap (and copied
 * back before it runs again). A waiting compact task so costs about its struct and the bytes
 * its frames used, well under a KiB for shallow ones, against at least a 4 KiB page for a
 * normal task; the price is a copy each time compact tasks take turns on the stack.
 * THE RULE: while a compact task waits, its local variables are not where their addresses
 * say. Never hand a pointer to a compact task's local to another task, to aio_to_thread()'s
 * fn, to a callback, or to anything that reads or writes it while the compact task waits:
 * put such data in the heap, a static, or the spawner's struct. (The runtime's own calls are
 * safe: they keep what others reach of a waiting compact task on the heap.) A compact task
 * may use up to the loop's stack size (AIO_STACK_SIZE) at once; a guard page below the
 * shared stack stops an overflow. */
enum { AIO_TASK_COMPACT = 1 };
aio_task *aio_spawn_opts(aio_fn fn, void *arg, unsigned flags);

/* await task: wait until t finishes, then free it and return its result. -ETIMEDOUT at the
 * deadline (t keeps running and must still be joined), -ECANCELED if the caller is cancelled,
 * -EDEADLK for the caller itself, -EBUSY if another task is joining t. Each task is joined
 * exactly once: a second join stops the program; debug mode reports a task never joined. */
int aio_join(aio_task *t, int64_t deadline);

/* Has t finished? Never waits. */
int aio_done(const aio_task *t);

/* task.cancel(): see the cancellation note above. Returns 0, or -EALREADY if t finished. */
int aio_cancel(aio_task *t);

/* The running task, or NULL outside a task. */
aio_task *aio_current(void);

/* Give t a name for debug reports ("download 3"); the string is copied. */
void aio_set_name(aio_task *t, const char *name);

/* await asyncio.sleep(ms / 1000). 0, or -ECANCELED. */
int aio_sleep(int64_t ms);

/* Sleep until an absolute deadline. 0 when reached, or -ECANCELED. */
int aio_sleep_until(int64_t deadline);

/* await asyncio.sleep(0): let every other ready task run once. 0, or -ECANCELED. */
int aio_yield(void);

/* ---- building blocks for primitives (join, semaphores, queues are built on these) ------ */

/* Suspend the running task until aio_unpark() names it, the deadline passes (-ETIMEDOUT) or
 * it is cancelled (-ECANCELED). Returns 0 when unparked. */
int aio_park(int64_t deadline);

/* Make a parked task ready again. Unparking a task that is not parked does nothing (debug
 * mode names the call, unless the task was woken from its park and has not run yet). */
void aio_unpark(aio_task *t);

/* ---- descriptors ---------------------------------------------------------------------- */

enum { AIO_READ = 1, AIO_WRITE = 2 };

/* Wait until fd is ready for AIO_READ and/or AIO_WRITE. Returns the ready events (> 0),
 * -ETIMEDOUT or -ECANCELED. fd must be non-blocking. */
int aio_wait_fd(int fd, int events, int64_t deadline);

/* ---- blocking work -------------------------------------------------------------------- */

/* asyncio.to_thread(): run fn(arg) on the runtime's small thread pool (4 threads, first come
 * first served) and wait for its result without blocking the loop. Returns fn's result, or:
 * -ETIMEDOUT at the deadline and -ECANCELED when the caller is cancelled (at once, also when
 * it was cancelled before the call): fn(arg) still runs, exactly once, to its end; a thread
 * cannot be stopped halfway. arg must stay valid until fn has returned, which may be after
 * the caller's task has ended: whatever fn touches then is no longer the caller's to free.
 * -ENOMEM or -EAGAIN (no thread could be had), -EPERM (outside a task): fn never runs. */
int aio_to_thread(aio_fn fn, void *arg, int64_t deadline);

/* ---- HTTP (libcurl's multi socket interface, driven by the loop) ----------------------- */

typedef struct aio_http aio_http;

struct aio_response {
    long status;   /* HTTP status, 0 when no response came */
    char *body;    /* NUL-terminated, malloc'd; release with aio_response_free() */
    size_t len;    /* body length without the NUL */
};

/* One client shares connections between its requests (keep-alive). Use it from one loop. */
aio_http *aio_http_new(void);
void aio_http_free(aio_http *c);

/* GET url; the task waits without blocking the loop. 0 with *out filled (any status), or
 * -ETIMEDOUT, -ECANCELED (the transfer is removed), -EINVAL (malformed URL), -ECONNREFUSED,
 * -EIO (other transport errors). On error *out is left empty. */
int aio_http_get(aio_http *c, const char *url, struct aio_response *out, int64_t deadline);
void aio_response_free(struct aio_response *r);

/* libcurl's own cap (CURLMOPT_MAX_TOTAL_CONNECTIONS): at most max connections of c open at
 * once, 0 for no cap (the default). With HTTP/1.1 that is also the most requests of c in
 * flight: the others wait inside libcurl, each on its own deadline, for a connection to come
 * free. It caps this client's transfers only; aio_sem caps any stretch of code. 0, or -EINVAL
 * (max < 0), -EIO (libcurl refused). */
int aio_http_set_max_connections(aio_http *c, long max);

/* ---- semaphores (sem.c) ----------------------------------------------------------------- */

/* asyncio.BoundedSemaphore(permits): at most `permits` holders at once; the others wait in a
 * queue, first come, first served. Typical use caps work in flight (requests to one server):
 *   aio_sem_acquire(&s, deadline) == 0  ->  do the request  ->  aio_sem_release(&s)
 * on every path after a successful acquire, errors included. The struct is the caller's
 * (static, on a stack, inside another struct); nothing in it is allocated, so there is no
 * destroy. Waiters' queue nodes live in their own stack frames. Use one semaphore from one
 * loop only. The fields are private: read them through the calls below. */
struct aio_sem_waiter;
typedef struct aio_sem {
    int permits;                        /* free permits now */
    int max;                            /* the number given to aio_sem_init() */
    struct aio_sem_waiter *head, *tail; /* tasks waiting in aio_sem_acquire(), oldest first */
    size_t waiting;                     /* how many */
} aio_sem;

/* asyncio.BoundedSemaphore(permits). 0, or -EINVAL when permits < 0. */
int aio_sem_init(aio_sem *s, int permits);

/* await sem.acquire(): take a permit, waiting until one is free. A free permit is taken at
 * once when nobody is queued (even when the deadline has passed); otherwise the task queues
 * behind the earlier waiters: permits are handed out in the order the waits began, and a
 * task arriving later never takes one ahead of a queued waiter. Returns 0 holding a permit,
 * or -ETIMEDOUT at the deadline, -ECANCELED if the caller is cancelled (also when it is
 * cancelled on entry, a free permit or not), -EPERM outside a task. On an error the caller
 * holds nothing and has left the queue, and no permit is lost: one handed to it in the same
 * loop pass as its timeout or cancellation goes to the next waiter. */
int aio_sem_acquire(aio_sem *s, int64_t deadline);

/* The same without waiting: 0 with a permit, or -EAGAIN when none is free or tasks queue
 * for one (taking it would jump the queue). Callable outside a task. */
int aio_sem_try_acquire(aio_sem *s);

/* sem.release(): give one permit back. If tasks are queued it goes straight to the oldest,
 * which is woken (exactly one wake-up a release); otherwise the free count grows. Never
 * waits; callable from any task of the loop, or outside a task. Returns 0, or -EOVERFLOW
 * (and changes nothing) when that would make more permits than aio_sem_init() gave: a
 * release without its acquire, as BoundedSemaphore's ValueError. */
int aio_sem_release(aio_sem *s);

/* Free permits now (0 while tasks queue), and tasks queued in aio_sem_acquire(). */
int aio_sem_value(const aio_sem *s);
size_t aio_sem_waiting(const aio_sem *s);

/* ---- waiting for several tasks (group.c) ------------------------------------------------- */

/* asyncio.wait(tasks, return_when=FIRST_COMPLETED): wait until the first of tasks[0..n) has
 * finished and return its index (the lowest one when several have). It joins nothing: join
 * the finished task (that join does not wait), and keep or cancel the others. NULL entries are
 * skipped, so a caller can clear the slots it has joined and call again (as_completed). A task
 * finished already returns at once, even for a cancelled caller. Returns the index, or
 * -ETIMEDOUT, -ECANCELED, -EINVAL (no task named), -EDEADLK (the caller is among them),
 * -EBUSY (another task is joining one of them). */
int aio_join_any(aio_task *const *tasks, size_t n, int64_t deadline);

/* asyncio.TaskGroup: tasks that end together. aio_group_spawn() starts a child that the group
 * owns (do not join it; the handle serves for aio_set_name, aio_cancel, aio_done until the
 * wait returns). The first child that returns an error (any negative value but -ECANCELED)
 * cancels every sibling still running. aio_group_wait() returns only when every child has
 * ended, joins them all, and returns that first error, or 0. At its deadline, or if the
 * caller is cancelled, it cancels the children and still waits for every one of them (without
 * deadline), then returns -ETIMEDOUT or -ECANCELED: no child ever outlives the wait. The
 * group is empty afterwards and may be used again. Use a group from one loop only. */
typedef struct aio_group aio_group;

/* NULL with errno ENOMEM, or EPERM when no loop runs. */
aio_group *aio_group_new(void);

/* Start fn(arg) as a child of g. NULL with errno ENOMEM, or ECANCELED when the group has been
 * cancelled (by aio_group_cancel or a child's error) and not waited for since. A child may
 * spawn siblings. */
aio_task *aio_group_spawn(aio_group *g, aio_fn fn, void *arg);

/* Wait for every child (see above). 0, the first child error, -ETIMEDOUT, -ECANCELED, or
 * -EBUSY (another task waits on g), -EDEADLK (called from a child), -EPERM. */
int aio_group_wait(aio_group *g, int64_t deadline);

/* Cancel every child still running; later spawns fail until the next wait. Returns how many
 * were running. Never waits. */
int aio_group_cancel(aio_group *g);

/* Children whose body has not returned yet. */
size_t aio_group_live(const aio_group *g);

/* Free an empty group (never spawned into, or waited for since its last spawn); a group with
 * children not waited for stops the program. */
void aio_group_free(aio_group *g);

/* ---- timeouts and the runtime's accounting (timeout.c) ---------------------------------- */

/* asyncio.wait_for(t, timeout): wait for t until the deadline; if it has not finished by
 * then, cancel it and wait for it to end (its clean-up runs; a transfer it had in flight is
 * removed), then return -ETIMEDOUT. Either way t is joined (freed) when this returns, so
 * nothing of it is left running: t's own result when it finished in time, -ETIMEDOUT at the
 * deadline, -ECANCELED when the caller is cancelled meanwhile (t is cancelled and waited for
 * too). A task that ends on its own, in the same pass as the deadline, keeps its result.
 * aio_join(t, deadline) is the other semantics, asyncio.wait_for(asyncio.shield(t)): at its
 * deadline t goes on running, to be joined later. */
int aio_wait_for(aio_task *t, int64_t deadline);

/* What a loop holds open: tasks spawned and not yet joined (the first task aio_run started
 * not counted), timers armed (a deadline of a wait under way is one), descriptors watched for
 * a task, and operations in flight outside any task (HTTP transfers, thread-pool jobs). */
struct aio_counts {
    size_t tasks;
    size_t timers;
    size_t descriptors;
    size_t operations;
};

/* The running loop's counts now, into *out: 0, or -EPERM when no loop runs on this thread. */
int aio_counts(struct aio_counts *out);

/* The counts of the last loop that ended on this thread, taken as aio_run returned (before
 * the loop's parts released what they held): 0, or -ENOENT when no loop has ended yet. A loop
 * that left nothing open reads all zeros. */
int aio_counts_at_end(struct aio_counts *out);

#endif
