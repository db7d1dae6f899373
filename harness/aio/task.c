/* task.c: tasks: spawn, the switch in and out of a task, waits, wake-ups, join, cancel.
 * Every wait in the runtime is aio__wait() underneath; only the reason for waking differs. */
#include "aio_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef AIO__ASAN
#include <sanitizer/common_interface_defs.h>
/* AddressSanitizer keeps its own idea of which stack is running; these calls keep it true
 * across our switches, so it does not report the other stack's frames as overflows. */
#define AIO__ASAN_START(save, lo, size) __sanitizer_start_switch_fiber((save), (lo), (size))
#define AIO__ASAN_FINISH(fake, lo, size) __sanitizer_finish_switch_fiber((fake), (lo), (size))
#else
#define AIO__ASAN_START(save, lo, size) ((void)(save), (void)(lo), (void)(size))
#define AIO__ASAN_FINISH(fake, lo, size) ((void)(fake), (void)(lo), (void)(size))
#endif

/* ---- the ready queue: a FIFO linked through aio_task.next -------------------------------- */

static void aio__ready_push(struct aio__loop *L, aio_task *t)
{
    AIO__ASSERT(t->state == AIO__NEW || t->state == AIO__WAITING || t->state == AIO__RUNNING);
    t->state = AIO__READY;
    t->next = NULL;
    if (L->ready_tail != NULL)
        L->ready_tail->next = t;
    else
        L->ready_head = t;
    L->ready_tail = t;
    L->ready_len++;
}

static aio_task *aio__ready_pop(struct aio__loop *L)
{
    aio_task *t = L->ready_head;
    AIO__ASSERT(t != NULL && t->state == AIO__READY);
    L->ready_head = t->next;
    if (L->ready_head == NULL)
        L->ready_tail = NULL;
    L->ready_len--;
    return t;
}

/* ---- switching ---------------------------------------------------------------------------- */

static void aio__task_entry(void);

/* Make t the running task (the switch itself is the caller's). */
static inline __attribute__((always_inline)) void aio__enter(struct aio__loop *L, aio_task *t)
{
    L->current = t;
    t->state = AIO__RUNNING;
    if (L->debug)
        L->ran_since = aio__clock_ns();
    AIO__TRACE(L, AIO__EV_RUN, t->id, 0, 0);
}

/* Debug mode: t is about to switch away; report it if it ran too long without a wait. */
static void aio__check_held(struct aio__loop *L, aio_task *t)
{
    int64_t ms = (aio__clock_ns() - L->ran_since) / 1000000;
    if (ms > AIO__HELD_MS) {
        char label[96];
        aio__task_label(t, label, sizeof label);
        aio__debug("%s held the loop for %lld ms (no wait in between)", label, (long long)ms);
    }
}

/* Phase 3 of the loop: run each task that was ready when the phase began, once.
 *
 * The scheduler starts the first task of the batch; from then on each task, when it waits,
 * switches straight to the next one in the batch (aio__suspend), and only the last one
 * switches back here. One switch per task instead of two (out to the scheduler, in to the
 * next task) halves the cost of a yield; the order is exactly the same. */
void aio__run_ready(struct aio__loop *L)
{
    if (L->ready_len == 0)
        return;
    L->batch = L->ready_len - 1;
    aio_task *t = aio__ready_pop(L);
    aio__enter(L, t);
    for (;;) {
        void *fake = NULL;
        if (t->compact && t != L->stacks.occupant)
            aio__compact_bring(&L->stacks, t, aio__task_entry);
        L->from_scheduler = true;
        AIO__ASAN_START(&fake, t->stack_lo, (size_t)(t->stack_hi - t->stack_lo));
        aio__ctx_switch(&L->sched, &t->ctx);
        AIO__ASAN_FINISH(fake, NULL, NULL);
        /* A compact task handing the CPU to another compact task comes back here first:
         * the shared stack's frames can only be exchanged from another stack. */
        t = L->handoff;
        if (__builtin_expect(t == NULL, 1))
            break;
        L->handoff = NULL;
    }
    L->current = NULL;
}

/* At the end of a batch: would the loop's other phases have nothing to do before the next
 * one? True when tasks are ready and no timer is armed, no descriptor is watched and no
 * operation is pending (an HTTP transfer in curl's poll has neither timer nor watch): the
 * scheduler would only forget "now" and start the next batch, so a task may do that itself
 * instead of paying a switch to the scheduler and another out of it. */
static bool aio__loop_idle(const struct aio__loop *L)
{
    return L->ready_len > 0 && L->heap_len == 0 && L->nwatch == 0 && L->pending == 0;
}

/* Task side: t waits (or has finished). Switch to the next task of this batch, or back to
 * the scheduler when the batch is done; returns when something switches back to t. A
 * finished task passes final, so AddressSanitizer may drop the fake stack it kept for it. */
static void aio__suspend(struct aio__loop *L, aio_task *t, bool final)
{
    AIO__ASSERT(t == L->current && t->state != AIO__RUNNING);
    if (L->debug)
        aio__check_held(L, t);
    /* A yield is traced here, where L and t are at hand anyway: in aio_yield() the call would
     * cost a register and a stack adjustment on every yield, traced or not. (A wait and an end
     * were traced where their cause and result are known.) */
    if (__builtin_expect(L->trace != NULL, 0) && t->state == AIO__READY)
        aio__trace_ev(L->trace, AIO__EV_YIELD, t->id, 0, 0);
    if (L->batch == 0 && aio__loop_idle(L)) {
        /* Phases 1 and 3 of the next iteration, run from here (phase 2, 5 and 6 are empty). */
        L->now_stale = true;
        L->batch = L->ready_len;
    }
    struct aio__ctx *to = &L->sched;
    const void *lo = L->main_stack_lo;
    size_t size = L->main_stack_size;
    if (L->batch > 0) {
        L->batch--;
        aio_task *next = aio__ready_pop(L);
        aio__enter(L, next);
        if (next == t)
            return;                     /* t yielded and is the only task ready: go on */
        to = &next->ctx;
        lo = next->stack_lo;
        size = (size_t)(next->stack_hi - next->stack_lo);
        if (__builtin_expect(next->compact, 0) && next != L->stacks.occupant) {
            if (t->compact) {
                /* t runs on the shared stack, which next needs: go through the scheduler,
                 * which swaps their frames from its own stack (aio__run_ready). */
                L->handoff = next;
                to = &L->sched;
                lo = L->main_stack_lo;
                size = L->main_stack_size;
            } else {
                aio__compact_bring(&L->stacks, next, aio__task_entry);
            }
        }
    }
    L->from_scheduler = false;
    AIO__ASAN_START(final ? NULL : &t->asan_fake, lo, size);
    aio__ctx_switch(&t->ctx, to);
    AIO__ASAN_FINISH(t->asan_fake, NULL, NULL);
}

/* A stack without a guard page cannot fault on overflow; check the stack pointer at each
 * wait instead, and stop loudly rather than let the task scribble on its neighbour. */
static void aio__stack_check(aio_task *t)
{
    /* The frame address, not a local's: with AddressSanitizer's fake stacks a local
     * variable may live on the heap. */
    char *sp = __builtin_frame_address(0);
    if (sp < t->stack_lo || sp >= t->stack_hi) {
        char label[96];
        aio__task_label(t, label, sizeof label);
        aio__fatal("stack-overflow", "%s overflowed its %zu-byte stack; set AIO_STACK_SIZE "
                   "higher", label, (size_t)(t->stack_hi - t->stack_lo));
    }
}

/* ---- a task's life ------------------------------------------------------------------------- */

/* Mark t finished and wake its joiner. Runs on t's stack, just before the last switch. */
static void aio__finish(struct aio__loop *L, aio_task *t, int result)
{
    AIO__ASSERT(t->state == AIO__RUNNING && L->live > 0);
    AIO__TRACE(L, AIO__EV_END, t->id, 0, result);
    t->result = result;
    t->state = AIO__DONE;
    if (t->compact)
        aio__compact_done(&L->stacks, t);
    L->live--;
    if (t->joiner != NULL)
        aio__wake(L, t->joiner, 0);
}

/* The first code a task runs (entered from the context switch's trampoline). */
static void aio__task_entry(void)
{
    struct aio__loop *L = aio__loop_get();
    aio_task *t = L->current;
    /* A first switch from the scheduler tells AddressSanitizer where the scheduler's stack is. */
    const void *lo = NULL;
    size_t size = 0;
    AIO__ASAN_FINISH(NULL, &lo, &size);
    if (lo != NULL && L->from_scheduler) {
        L->main_stack_lo = (void *)lo;
        L->main_stack_size = size;
    }
    aio__finish(L, t, t->fn(t->arg));
    aio__suspend(L, t, true);
    abort();                            /* nothing ever resumes a finished task */
}

static void aio__timer_wake(struct aio__loop *L, struct aio__timer *tm)
{
    aio_task *t = (aio_task *)((char *)tm - offsetof(aio_task, timer));
    aio__wake(L, t, -ETIMEDOUT);
}

/* Create a task that will start on a later loop turn. The caller owns the handle until
 * aio_join(). NULL with errno ENOMEM (no stack) or EPERM (no running loop). A compact task's
 * first frame is laid out when it first gets the shared stack (aio__compact_bring). */
static inline aio_task *aio__spawn(aio_fn fn, void *arg, bool compact)
{
    struct aio__loop *L = aio__loop_get();
    if (L == NULL) {
        errno = EPERM;
        return NULL;
    }
    aio_task *t = compact ? aio__compact_get(&L->stacks) : aio__stacks_get(&L->stacks);
    if (t == NULL)
        return NULL;
    t->loop = L;
    t->fn = fn;
    t->arg = arg;
    t->id = ++L->next_id;
    t->timer.slot = AIO__NOSLOT;
    t->timer.fire = aio__timer_wake;
    if (!compact)
        aio__ctx_make(&t->ctx, t->stack_lo, t->stack_hi, aio__task_entry);
    t->all_next = L->all;
    if (L->all != NULL)
        L->all->all_prev = t;
    L->all = t;
    L->live++;
    aio__ready_push(L, t);
    AIO__TRACE(L, AIO__EV_SPAWN, t->id, 0, L->current != NULL ? (int64_t)L->current->id : 0);
    return t;
}

aio_task *aio_spawn(aio_fn fn, void *arg)
{
    return aio__spawn(fn, arg, false);
}

aio_task *aio_spawn_opts(aio_fn fn, void *arg, unsigned flags)
{
    if ((flags & ~(unsigned)AIO_TASK_COMPACT) != 0) {
        errno = EINVAL;
        return NULL;
    }
    return aio__spawn(fn, arg, (flags & AIO_TASK_COMPACT) != 0);
}

/* Give t's slot back; t is invalid afterwards. */
static void aio__task_free(struct aio__loop *L, aio_task *t)
{
    AIO__ASSERT(t->state == AIO__DONE && t->joiner == NULL && t->timer.slot == AIO__NOSLOT);
    if (t->all_prev != NULL)
        t->all_prev->all_next = t->all_next;
    else
        L->all = t->all_next;
    if (t->all_next != NULL)
        t->all_next->all_prev = t->all_prev;
    if (t->compact)
        aio__compact_put(&L->stacks, t);
    else
        aio__stacks_put(&L->stacks, t);
}

/* Is t a handle the calling thread may use? A joined task's slot is marked free and loses
 * its loop (debug mode also delays its reuse, so a stale handle keeps pointing at a free
 * slot); a task of another loop belongs to another thread. Both would corrupt a loop if the
 * call went on: stop the program with a report. One compare on the way through (and the
 * NULL test), so it is checked in every build. */
static void aio__bad_handle(struct aio__loop *L, const aio_task *t, const char *call)
    __attribute__((noreturn, cold, noinline));

static void aio__bad_handle(struct aio__loop *L, const aio_task *t, const char *call)
{
    if (t == NULL)
        aio__misuse(L, "null-task", "%s() was given a NULL task (did aio_spawn() fail?)", call);
    if (t->state == AIO__FREE)
        aio__misuse(L, "task-already-joined", "%s() was given a task that was already joined "
                    "and freed (task #%lu): join each task exactly once, and forget its "
                    "handle afterwards", call, t->id);
    char label[96];
    aio__task_label(t, label, sizeof label);
    aio__misuse(L, "task-of-another-loop", "%s() was given %s, which belongs to %s: a task is "
                "used only by the loop (the thread) that spawned it", call, label,
                L == NULL ? "a loop while none runs on this thread" : "another loop");
}

static inline void aio__check_handle(struct aio__loop *L, const aio_task *t, const char *call)
{
    if (__builtin_expect(t == NULL || t->loop != L, 0))
        aio__bad_handle(L, t, call);
}

/* ---- waiting and waking ------------------------------------------------------------------- */

int aio__wait(struct aio__loop *L, enum aio__wait_kind kind, enum aio__cause cause,
              int64_t detail, int64_t deadline, bool immune)
{
    aio_task *t = L->current;
    AIO__ASSERT(t != NULL && t->state == AIO__RUNNING && t->timer.slot == AIO__NOSLOT);
    if (t->cancelled && !immune)
        return -ECANCELED;
    aio__stack_check(t);
    t->kind = kind;
    t->cancel_immune = immune;
    t->wake = 0;
    t->state = AIO__WAITING;
    AIO__TRACE(L, AIO__EV_WAIT, t->id, cause, detail);
    if (deadline != AIO_NEVER)
        aio__timer_start(L, &t->timer, deadline);
    aio__suspend(L, t, false);
    t->kind = AIO__W_NONE;
    aio__timer_stop(L, &t->timer);
    return t->wake;
}

void aio__wake(struct aio__loop *L, aio_task *t, int value)
{
    AIO__ASSERT(t->loop == L && t->state != AIO__FREE);
    if (t->state != AIO__WAITING)
        return;
    t->wake = value;
    aio__ready_push(L, t);
    AIO__TRACE(L, AIO__EV_WAKE, t->id, 0, value);
}

int aio_park(int64_t deadline)
{
    struct aio__loop *L;
    aio_task *self;
    int r = aio__may_wait(&L, &self, "aio_park");
    if (r < 0)
        return r;
    return aio__wait(L, AIO__W_PARK, AIO__C_PARK, 0, deadline, false);
}

/* Wake t if it is parked; does nothing otherwise (the header's contract). Debug mode names
 * the calls that did nothing because t was not in aio_park(): a wake-up for a task that
 * finished, that waits for something else, or that never parked (just spawned, yielding) is
 * usually a bug, such as a stale entry on a waiter list. A task woken from its park that has
 * not run yet (unparked twice, or its park just timed out) is not reported: two wakers for
 * one waiter is normal. */
void aio_unpark(aio_task *t)
{
    struct aio__loop *L = aio__loop_get();
    aio__check_handle(L, t, "aio_unpark");
    if (t->state == AIO__WAITING && t->kind == AIO__W_PARK) {
        aio__wake(L, t, 0);
        return;
    }
    if (L->debug && !(t->state == AIO__READY && t->kind == AIO__W_PARK)) {
        char label[96];
        aio__task_label(t, label, sizeof label);
        aio__debug("[unpark-not-parked] aio_unpark() of %s, which is %s, did nothing: only a "
                   "task waiting in aio_park() can be unparked (a stale entry on a waiter "
                   "list?)", label,
                   t->state == AIO__DONE      ? "finished"
                   : t->state == AIO__RUNNING ? "the running task itself"
                   : t->state == AIO__READY   ? "ready to run but not parked (spawned, or "
                                                "yielding, or woken from another wait)"
                                              : "waiting in another call (sleep, join, I/O)");
    }
}

/* aio_sleep_until() under the name the caller used, for the debug report. */
static int aio__sleep_until(int64_t deadline, const char *call)
{
    struct aio__loop *L;
    aio_task *self;
    int r = aio__may_wait(&L, &self, call);
    if (r < 0)
        return r;
    if (deadline == AIO_NEVER)
        return -EINVAL;
    r = aio__wait(L, AIO__W_OTHER, AIO__C_TIMER, deadline, deadline, false);
    return r == -ETIMEDOUT ? 0 : r;
}

int aio_sleep_until(int64_t deadline)
{
    return aio__sleep_until(deadline, "aio_sleep_until");
}

/* ms <= 0 is aio_yield() (whose name a debug report then shows). */
int aio_sleep(int64_t ms)
{
    if (ms <= 0)
        return aio_yield();
    return aio__sleep_until(aio_now() + ms, "aio_sleep");
}

/* Go to the back of the ready queue: every task ready now runs before this one again. */
int aio_yield(void)
{
    struct aio__loop *L;
    aio_task *t;
    int r = aio__may_wait(&L, &t, "aio_yield");
    if (r < 0)
        return r;
    aio__ready_push(L, t);
    aio__suspend(L, t, false);
    return t->cancelled ? -ECANCELED : 0;
}

/* ---- join, cancel, and the small queries -------------------------------------------------- */

/* Wait for t to finish, then free it and return its result. If the caller is cancelled it
 * may still join a task that was itself cancelled: that wait is the cleanup the cancellation
 * asked for, and the cancelled task ends at its next wait. Joining a task that has already
 * finished never waits, so a cancelled caller gets its result too (and frees it).
 *
 * The entry check is aio__may_wait() like every other wait, except that its -ECANCELED is
 * not final here: whether a cancelled caller may wait depends on t (see above). */
int aio_join(aio_task *t, int64_t deadline)
{
    struct aio__loop *L;
    aio_task *self;
    int entry = aio__may_wait(&L, &self, "aio_join");
    if (entry == -EPERM)
        return entry;
    aio__check_handle(L, t, "aio_join");
    if (t == self)
        return -EDEADLK;
    if (t == L->main)
        aio__misuse(L, "join-of-main-task", "aio_join() was given the first task, the one "
                    "aio_run() started: aio_run() joins it itself and returns its result");
    if (t->state != AIO__DONE) {
        if (t->joiner != NULL)
            return -EBUSY;
        bool immune = t->cancelled && self->cancelled;
        if (entry < 0 && !immune)
            return entry;
        t->joiner = self;
        int r = aio__wait(L, AIO__W_OTHER, AIO__C_JOIN, (int64_t)t->id, deadline, immune);
        t->joiner = NULL;
        if (r < 0 && t->state != AIO__DONE)
            return r;
    }
    int result = t->result;
    aio__task_free(L, t);
    return result;
}

int aio_done(const aio_task *t)
{
    aio__check_handle(aio__loop_get(), t, "aio_done");
    return t->state == AIO__DONE;
}

int aio_cancel(aio_task *t)
{
    struct aio__loop *L = aio__loop_get();
    aio__check_handle(L, t, "aio_cancel");
    if (t->state == AIO__DONE)
        return -EALREADY;
    t->cancelled = true;
    if (t->state == AIO__WAITING && !t->cancel_immune)
        aio__wake(L, t, -ECANCELED);
    return 0;
}

aio_task *aio_current(void)
{
    struct aio__loop *L;
    return aio__self(&L);
}

void aio_set_name(aio_task *t, const char *name)
{
    aio__check_handle(aio__loop_get(), t, "aio_set_name");
    snprintf(t->name, sizeof t->name, "%s", name != NULL ? name : "");
    if (t->loop->trace != NULL)
        aio__trace_text(t->loop->trace, AIO__EV_NAME, t->id, t->name);
}
