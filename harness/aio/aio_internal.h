/* aio_internal.h: the runtime's private structures, shared by its .c files only.
 * Everything here is named aio__ (two underscores): not part of the public API. */
#ifndef AIO_INTERNAL_H
#define AIO_INTERNAL_H

#include "aio.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Built with AddressSanitizer? (gcc says so with a macro, clang with __has_feature.) */
#if defined(__SANITIZE_ADDRESS__)
#define AIO__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AIO__ASAN 1
#endif
#endif

#define AIO__NAME_MAX 40            /* task names longer than this are cut */
#define AIO__HELD_MS 100            /* debug mode: a run longer than this is reported */

/* The runtime's internal invariants, checked with assert(): a failed one is a bug in the
 * runtime (or memory the program overwrote), never a misuse of the API, which is checked in
 * every build and reported in words instead (aio__misuse). The sanitized builds (the tests)
 * check them; the optimised build defines NDEBUG (aio.mk), because on the hot paths (the
 * ready queue, the switch) they cost a fifth of a yield's instructions. */
#define AIO__ASSERT(cond) assert(cond)

/* ---- clocks ----------------------------------------------------------------------------- */

static inline int64_t aio__clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t aio__clock_ms(void)
{
    return aio__clock_ns() / 1000000;
}

struct aio__loop;

/* ---- the context switch (switch.c, and switch_x86_64.S or switch_aarch64.S) ----------- */

#ifndef AIO_SAVE_FPU
#define AIO_SAVE_FPU 0      /* 1: the switch also saves MXCSR and the x87 control word */
#endif

#if (defined(__x86_64__) || defined(__aarch64__)) && !defined(AIO_UCONTEXT)
#define AIO__ASM_SWITCH 1
/* A saved context is just a stack pointer: everything else was pushed onto that stack. */
struct aio__ctx {
    void *sp;
};
#else
#include <ucontext.h>
struct aio__ctx {
    ucontext_t uc;
    void *low;      /* switched out: the lowest stack address the context still needs */
};
#endif

/* Prepare ctx so that the first switch into it calls entry() on the stack [lo, hi).
 * entry must never return: a finished task switches away for good. */
void aio__ctx_make(struct aio__ctx *ctx, void *lo, void *hi, void (*entry)(void));

/* Save the running context into from and continue in to. Returns when something switches
 * back into from. */
void aio__ctx_switch(struct aio__ctx *from, struct aio__ctx *to);

/* The lowest stack address a switched-out context still needs: everything from there to the
 * top of its stack is what a compact task must keep while it waits. */
static inline char *aio__ctx_low(const struct aio__ctx *ctx)
{
#if AIO__ASM_SWITCH
    return (char *)ctx->sp;
#else
    return (char *)ctx->low;
#endif
}

/* ---- timers: a min-heap ordered by deadline ------------------------------------------ */

struct aio__timer {
    int64_t deadline;                                   /* ms, aio_now() clock */
    size_t slot;                                        /* index in the heap, or AIO__NOSLOT */
    void (*fire)(struct aio__loop *L, struct aio__timer *tm);
};
#define AIO__NOSLOT ((size_t)-1)

void aio__timer_start(struct aio__loop *L, struct aio__timer *tm, int64_t deadline);
void aio__timer_stop(struct aio__loop *L, struct aio__timer *tm);

/* ---- descriptors: one reader and one writer watch per fd ----------------------------- */

struct aio__watch {
    int fd;
    int events;                 /* AIO_READ | AIO_WRITE wanted, 0 when not installed */
    bool passive;               /* does not keep a deadlocked loop waiting (internal fds) */
    void (*ready)(struct aio__loop *L, struct aio__watch *w, int revents);
};

/* Install, change (events != 0) or remove (events == 0) w for w->fd. 0 or -errno. */
int aio__watch_set(struct aio__loop *L, struct aio__watch *w, int events);
/* Remove w just before its fd is closed: cheaper than aio__watch_set(L, w, 0) on epoll. */
void aio__watch_close(struct aio__loop *L, struct aio__watch *w);
/* Install w (not installed) on an fd that may still be in the poller's set, its watch closed
 * with aio__watch_close while the descriptor stayed open (a kept connection handed back), or
 * be a new descriptor that got the number: as aio__watch_set, in one system call on epoll in
 * the first case instead of an add refused as a duplicate and then a change. */
int aio__watch_renew(struct aio__loop *L, struct aio__watch *w, int events);
void aio__watch_set_passive(struct aio__loop *L, struct aio__watch *w, bool passive);
/* The watch installed on fd for dir (AIO_READ or AIO_WRITE), or NULL. */
struct aio__watch *aio__watch_get(struct aio__loop *L, int fd, int dir);

/* Backend (backend_epoll.c or backend_poll.c): five private functions, as in Redis's ae. */
int aio__be_init(struct aio__loop *L);
void aio__be_free(struct aio__loop *L);
int aio__be_update(struct aio__loop *L, int fd, int old_events, int new_events);
/* fd (watched for old_events) is about to be closed: stop watching it, as cheaply as the
 * poller allows. 0 or -errno. */
int aio__be_forget(struct aio__loop *L, int fd, int old_events);
/* fd has no watch in the loop's books but may still be in the poller's set, or be a new
 * descriptor under that number: watch it for events (not 0) either way. 0 or -errno. */
int aio__be_renew(struct aio__loop *L, int fd, int events);
/* Wait up to timeout_ms (-1: forever) and list the ready fds in L->fired (AIO_READ /
 * AIO_WRITE; errors and hang-ups count as both). Returns how many, or -errno (-EINTR when a
 * signal cut the wait short: the loop decides what to do with it). */
int aio__be_wait(struct aio__loop *L, int timeout_ms);
extern const char aio__be_call[];      /* the system call that waits: "epoll_wait", "poll" */
/* One descriptor that polls readable when any watched fd is ready (epoll's own), or -1 when
 * the backend has none (poll). Lets a driver (below) wait on the poller and on more. */
int aio__be_fd(struct aio__loop *L);

/* An I/O source that waits in its own call instead of the poller's: the HTTP client that
 * drives libcurl through its poll interface (http.c). At most one per loop. While busy(),
 * phase 5 calls wait(), which sleeps up to timeout_ms (-1: until something happens) on its
 * own descriptors and on aio__be_fd() and returns 1 when the latter is readable, 0 when not;
 * then phase 6 calls run() to do the source's I/O, and asks the poller what is ready only
 * when wait() said so. */
struct aio__driver {
    bool (*busy)(struct aio__driver *d);
    int (*wait)(struct aio__loop *L, struct aio__driver *d, int timeout_ms);
    void (*run)(struct aio__loop *L, struct aio__driver *d);
};
void aio__dispatch(struct aio__loop *L, int fd, int revents);

/* ---- tasks ---------------------------------------------------------------------------- */

enum aio__state {
    AIO__NEW,       /* a zeroed slot, being set up by aio_spawn() */
    AIO__READY,     /* in the ready queue */
    AIO__RUNNING,   /* on the CPU now */
    AIO__WAITING,   /* suspended in a wait (park, sleep, join, fd, thread, http) */
    AIO__DONE,      /* returned; its result waits for aio_join() */
    AIO__FREE       /* joined: the slot is on the free list, the handle is dead */
};

/* What a task waits in, while WAITING, and what it was woken from, while READY after a
 * wake-up; NONE otherwise (spawned, yielding, running). */
enum aio__wait_kind { AIO__W_NONE, AIO__W_PARK, AIO__W_OTHER };

struct aio_task {
    struct aio__ctx ctx;
    struct aio__loop *loop;
    aio_fn fn;
    void *arg;
    int result;
    enum aio__state state;
    enum aio__wait_kind kind;   /* what the task waits in (or was woken from) */
    bool cancelled;
    bool cancel_immune;         /* this wait ignores cancellation (join of a cancelled task) */
    bool compact;               /* AIO_TASK_COMPACT: runs on the loop's shared stack */
    bool stack_made;            /* compact: its first frame has been laid out */
    int wake;                   /* the value the current wait will return */
    struct aio__timer timer;    /* the deadline of the current wait */
    aio_task *next;             /* ready queue link */
    aio_task *all_prev, *all_next;  /* every task not yet freed, for debug reports */
    aio_task *joiner;           /* the task waiting in aio_join() for this one */
    unsigned long id;
    char *stack_lo;             /* usable stack [stack_lo, stack_hi) */
    char *stack_hi;
    struct aio__slab *slab;
    void *asan_fake;            /* AddressSanitizer's fake stack while switched out */
    unsigned valgrind_id;
    unsigned saved_len;         /* compact: bytes of stack kept in saved while it is out */
    unsigned saved_cap;
    char *saved;                /* compact: its stack's used part, while another has the stack */
    void *node;                 /* compact: aio__wait_node()'s block */
    char name[AIO__NAME_MAX];
};

/* What a wait is for, as the trace names it (AIO_TRACE, trace.c): the kind says how the
 * runtime treats the wait, the cause only what a timeline shows. */
enum aio__cause {
    AIO__C_TIMER,       /* aio_sleep, aio_sleep_until: detail = the deadline (ms) */
    AIO__C_FD,          /* aio_wait_fd: detail = the descriptor */
    AIO__C_JOIN,        /* aio_join: detail = the joined task's id */
    AIO__C_JOIN_ANY,    /* aio_join_any: detail = how many tasks */
    AIO__C_GROUP,       /* aio_group_wait: detail = children still running */
    AIO__C_WAIT_FOR,    /* aio_wait_for: detail = the task's id */
    AIO__C_THREAD,      /* aio_to_thread */
    AIO__C_HTTP,        /* aio_http_get: the transfer */
    AIO__C_PARK,        /* aio_park: a lock, queue or event built on park */
    AIO__C_SEM,         /* aio_sem_acquire */
    AIO__C_COUNT
};

/* Suspend the running task until woken, the deadline passes (-ETIMEDOUT) or it is cancelled
 * (-ECANCELED; not when immune). Returns the wake value. Must run inside a task. cause and
 * detail only go into the trace. */
int aio__wait(struct aio__loop *L, enum aio__wait_kind kind, enum aio__cause cause,
              int64_t detail, int64_t deadline, bool immune);

/* Make a waiting task ready; its wait returns value. Does nothing if t is not waiting. */
void aio__wake(struct aio__loop *L, aio_task *t, int value);

/* ---- stacks (stack.c) ----------------------------------------------------------------- */

struct aio__stacks {
    size_t stack_size;          /* usable bytes per stack */
    size_t slot_size;           /* stack + task struct + guard page, page aligned */
    size_t page;
    size_t guard_budget;        /* with mprotect: how many more slots may get a guard page */
    bool no_guard_madvise;      /* the kernel refused MADV_GUARD_INSTALL: use mprotect */
    size_t next_slab_slots;
    struct aio__slab *slabs;
    aio_task *free;             /* free slots, linked through aio_task.next */
    aio_task *free_tail;        /* the last of them, when fifo */
    bool fifo;                  /* debug mode: reuse the slot freed longest ago, so a stale
                                 * handle keeps pointing at a freed slot as long as possible */
    size_t in_use;
    /* Compact tasks (AIO_TASK_COMPACT): their structs come from chunks of the heap, and they
     * all run on one shared stack, [guard page][shared_lo, shared_hi), mapped at the first. */
    char *shared_map;
    char *shared_lo, *shared_hi;
    unsigned shared_vg;
    aio_task *occupant;         /* the compact task whose frames are on the shared stack now */
    struct aio__chunk *chunks;
    size_t next_chunk_slots;
    aio_task *cfree, *cfree_tail;   /* free compact structs, as free and free_tail */
};

int aio__stacks_init(struct aio__stacks *S);
aio_task *aio__stacks_get(struct aio__stacks *S);        /* NULL, errno = ENOMEM */
void aio__stacks_put(struct aio__stacks *S, aio_task *t);
void aio__stacks_free(struct aio__stacks *S);

/* Compact tasks. aio__compact_get() is aio__stacks_get() for one (its stack is the shared one);
 * aio__compact_put() gives it back. aio__compact_bring() makes t's frames the shared stack's:
 * it copies the occupant's used part [its saved stack pointer, top) to the occupant's heap
 * buffer (right-sized), then copies t's back (or lays out t's first frame, entry). It must run
 * on another stack than the shared one, and only when t is not the occupant. */
aio_task *aio__compact_get(struct aio__stacks *S);       /* NULL, errno = ENOMEM */
void aio__compact_put(struct aio__stacks *S, aio_task *t);
void aio__compact_bring(struct aio__stacks *S, aio_task *t, void (*entry)(void));
/* t has finished: its frames are dead, so nothing of them is kept or saved again. */
void aio__compact_done(struct aio__stacks *S, aio_task *t);
/* How many bytes of stack t keeps on the heap while it is off the shared stack (tests). */
size_t aio__compact_saved(const aio_task *t);
void *aio__compact_node(aio_task *t, size_t size);

/* Memory for a record that other code reaches while the running task t waits (a descriptor
 * watch, a semaphore's waiter node): local, in the caller's frame, for a normal task; for a
 * compact task, whose frames are elsewhere while it waits, a block of the heap kept with the
 * task (each wait reuses it; freed with the task). NULL when the block cannot be had. */
static inline void *aio__wait_node(aio_task *t, void *local, size_t size)
{
    if (__builtin_expect(!t->compact, 1))
        return local;
    return aio__compact_node(t, size);
}

/* ---- the loop ------------------------------------------------------------------------- */

/* A part of the runtime that keeps state in a loop (the thread pool, each HTTP client)
 * registers a hook: the loop calls it when it ends, newest first, so the part can release
 * what it holds. The loop itself knows none of the parts by name. */
struct aio__hook {
    void (*loop_end)(struct aio__loop *L, struct aio__hook *h);
    struct aio__hook *prev, *next;
};

void aio__hook_add(struct aio__loop *L, struct aio__hook *h);
void aio__hook_remove(struct aio__loop *L, struct aio__hook *h);  /* h need not be added */

struct aio__loop {
    int64_t now;                        /* ms, read at most once per iteration */
    bool now_stale;                     /* now must be read again before use */
    struct aio__ctx sched;              /* the scheduler's own context (aio_run's stack) */
    aio_task *current;
    aio_task *ready_head, *ready_tail;
    size_t ready_len;
    size_t batch;                       /* phase 3: tasks of this batch not yet run */
    bool from_scheduler;                /* the switch under way started in the scheduler */
    aio_task *handoff;                  /* a compact task the scheduler must bring in next */
    int64_t ran_since;                  /* debug mode: when the running task got the CPU */
    uint64_t iteration;                 /* scheduler turns so far (phase 1 counts them) */
    struct aio__heap_ent {              /* the timer heap: a deadline and its timer */
        int64_t deadline;
        struct aio__timer *tm;
    } *heap;
    size_t heap_len, heap_cap;
    struct aio__watch **fds;            /* fd -> watch, 2 per fd: [2*fd] reader, [2*fd+1] writer */
    size_t fds_cap;
    size_t nwatch;                      /* installed watches */
    size_t nwatch_active;               /* of which not passive */
    void *be;                           /* backend state */
    struct aio__fired { int fd; int events; } *fired;   /* filled by aio__be_wait() */
    size_t fired_cap;
    aio_task *all;                      /* every task not yet freed */
    aio_task *main;                     /* the first task: aio_run() joins it */
    size_t live;                        /* tasks not finished */
    unsigned long next_id;
    struct aio__stacks stacks;
    /* Work in flight outside any task (thread jobs, HTTP transfers): while it is not zero,
     * something may still wake a task, so the loop does not declare a deadlock. Each part
     * adds 1 when it starts an operation and takes 1 away when the operation is over. */
    size_t pending;
    struct aio__hook *hooks;            /* loop-end hooks, newest first */
    struct aio__driver *driver;         /* waits instead of the poller while busy, or NULL */
    bool debug;
    struct aio__trace *trace;           /* AIO_TRACE: the event buffer, NULL when off */
    void *main_stack_lo;                /* for AddressSanitizer's fiber switch */
    size_t main_stack_size;
};

extern _Thread_local struct aio__loop *aio__running;   /* loop.c */

/* The loop running on this thread, or NULL. */
static inline struct aio__loop *aio__loop_get(void)
{
    return aio__running;
}

/* The running task and its loop: NULL outside a task. */
static inline aio_task *aio__self(struct aio__loop **Lp)
{
    struct aio__loop *L = aio__loop_get();
    *Lp = L;
    return L != NULL ? L->current : NULL;
}

/* A call that must run inside a task was made outside one (call names it, "aio_sleep"):
 * debug mode says so. Returns -EPERM for the caller to hand back. */
int aio__outside_task(const char *call) __attribute__((cold, noinline));

/* The one check at the top of every call that may wait (park, sleep, yield, join, wait_fd,
 * to_thread, http_get): 0 with *Lp and *selfp set, -EPERM outside a task (debug mode names
 * the call), or -ECANCELED when the running task is already cancelled. */
static inline int aio__may_wait(struct aio__loop **Lp, aio_task **selfp, const char *call)
{
    *selfp = aio__self(Lp);
    if (*selfp == NULL)
        return aio__outside_task(call);
    return (*selfp)->cancelled ? -ECANCELED : 0;
}

/* A misuse of the API that would corrupt the runtime if it went on (a task joined twice, a
 * handle of another loop): print "aio: [id] ..." ("aio debug: [id] ..." in debug mode) and
 * abort. */
void aio__misuse(struct aio__loop *L, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn, cold, noinline));

/* An unrecoverable failure of the system under the loop: "aio: [id] ...", then abort. */
void aio__fatal(const char *id, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn, cold, noinline));

int64_t aio__now(struct aio__loop *L);  /* aio_now() for code that has the loop at hand */
void aio__debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void aio__task_label(const aio_task *t, char *buf, size_t len);
void aio__run_ready(struct aio__loop *L);   /* task.c: phase 3 of the loop */

/* ---- the trace (trace.c): AIO_TRACE=file ---------------------------------------------
 *
 * Off (L->trace == NULL), each hook below is one test of a field of the loop the caller
 * already holds: no call, no clock, no memory. On, an event is 32 bytes in a buffer
 * allocated when the loop starts; the buffer is written out as text when the loop ends, or
 * when it is full (and that write is itself an event, so its cost shows). */

enum aio__ev {
    AIO__EV_LOOP_START, AIO__EV_LOOP_END,
    AIO__EV_SPAWN,      /* arg: the parent task's id (0: aio_run) */
    AIO__EV_NAME,       /* text: the name */
    AIO__EV_RUN,        /* the task got the CPU */
    AIO__EV_YIELD,      /* it gave the CPU back, ready at once */
    AIO__EV_WAIT,       /* cause, arg: what it waits for */
    AIO__EV_WAKE,       /* arg: the value its wait will return */
    AIO__EV_END,        /* arg: its result */
    AIO__EV_HTTP_START, /* text: the URL's path */
    AIO__EV_HTTP_END,   /* arg: the HTTP status, or -errno if the transfer failed or stopped */
    AIO__EV_IDLE_START, /* arg: the poller's timeout (ms, -1 for none) */
    AIO__EV_IDLE_END,   /* arg: how many descriptors were ready */
    AIO__EV_FLUSH,      /* the full buffer was written out; arg: its duration in ns */
    AIO__EV_COUNT
};

/* Open AIO_TRACE's file and allocate the buffer if the environment asks; NULL otherwise (a
 * file that cannot be written is reported once, and the program runs untraced). */
struct aio__trace *aio__trace_open(void);
/* Write what is left and close: at the end of aio_run. */
void aio__trace_close(struct aio__trace *tr);
void aio__trace_ev(struct aio__trace *tr, enum aio__ev ev, unsigned long task, int cause,
                   int64_t arg) __attribute__((noinline, cold));
void aio__trace_text(struct aio__trace *tr, enum aio__ev ev, unsigned long task,
                     const char *text) __attribute__((noinline, cold));

/* The hooks: one predictable branch each when tracing is off. */
#define AIO__TRACE(L, ev, task, cause, arg)                                          \
    do {                                                                             \
        if (__builtin_expect((L)->trace != NULL, 0))                                 \
            aio__trace_ev((L)->trace, (ev), (task), (cause), (arg));                 \
    } while (0)

/* ---- timeouts (timeout.c) ------------------------------------------------------------- */

/* Keep the loop's counts for aio_counts_at_end(); aio_run calls it as the loop ends, before
 * the loop's parts release what they hold. */
void aio__counts_record(const struct aio__loop *L);

#endif
