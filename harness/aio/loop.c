/* loop.c: the event loop: its phases, the timer heap, the descriptor table, debug reports.
 * Tasks (task.c) run on top of it; the poller itself is in backend_epoll.c / backend_poll.c. */
#include "aio_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One loop per thread: the loop this thread is running, or NULL. Read through
 * aio__loop_get(), inline in aio_internal.h: every public call starts by reading it. */
_Thread_local struct aio__loop *aio__running;

/* ---- clocks (aio__clock_ns and aio__clock_ms are in aio_internal.h) --------------------- */

/* The loop's "now": read from the clock on first use in an iteration, then cached until the
 * next one. An iteration that never asks (tasks only yielding to each other, no timers)
 * never pays for the clock, which costs more than a task switch. */
int64_t aio__now(struct aio__loop *L)
{
    if (L->now_stale) {
        L->now = aio__clock_ms();
        L->now_stale = false;
    }
    return L->now;
}

/* The loop's cached "now", or the clock itself outside a loop. */
int64_t aio_now(void)
{
    struct aio__loop *L = aio__running;
    if (L == NULL)
        return aio__clock_ms();
    return aio__now(L);
}

/* ---- debug reports ----------------------------------------------------------------------- */

/* Print one "aio debug: ..." line on stderr. */
void aio__debug(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "aio debug: %s\n", line);
}

/* Write how reports name t: "task 'name'" or "task #7 (fn 0x4011a0)". */
void aio__task_label(const aio_task *t, char *buf, size_t len)
{
    if (t->name[0] != '\0')
        snprintf(buf, len, "task '%s'", t->name);
    else
        snprintf(buf, len, "task #%lu (fn %p)", t->id, (void *)t->fn);
}

/* One line on stderr: prefix, then the formatted message. */
static void aio__vreport(const char *prefix, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    fprintf(stderr, "%s%s\n", prefix, line);
    fflush(stderr);
}

void aio__misuse(struct aio__loop *L, const char *id, const char *fmt, ...)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s[%s] ", L != NULL && L->debug ? "aio debug: " : "aio: ",
             id);
    va_list ap;
    va_start(ap, fmt);
    aio__vreport(prefix, fmt, ap);
    va_end(ap);
    abort();
}

void aio__fatal(const char *id, const char *fmt, ...)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "aio: [%s] ", id);
    va_list ap;
    va_start(ap, fmt);
    aio__vreport(prefix, fmt, ap);
    va_end(ap);
    abort();
}

static bool aio__env_debug(void)
{
    const char *s = getenv("AIO_DEBUG");
    return s != NULL && *s != '\0' && strcmp(s, "0") != 0;
}

/* A waiting call made outside a task: from plain code before or after aio_run(), from a
 * thread of the pool, or from a callback of the loop. Debug mode is the loop's if one runs
 * on this thread, else the environment's. */
int aio__outside_task(const char *call)
{
    struct aio__loop *L = aio__running;
    if (L != NULL ? L->debug : aio__env_debug())
        aio__debug("[wait-outside-task] %s() was called outside a task%s; it returns -EPERM. "
                   "Only code running in a task (aio_run's function or one started with "
                   "aio_spawn) can wait.", call,
                   L != NULL ? " (in a callback of the loop)" : " (no loop runs on this thread)");
    return -EPERM;
}

static const char *aio__plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* Debug mode's reports at loop end: tasks never joined, and whatever is still open. */
static void aio__debug_loop_end(struct aio__loop *L, aio_task *main_task)
{
    size_t open_tasks = 0;
    for (aio_task *t = L->all; t != NULL; t = t->all_next) {
        if (t->state != AIO__DONE) {
            open_tasks++;
        } else if (t != main_task) {
            char label[96];
            aio__task_label(t, label, sizeof label);
            aio__debug("%s finished but was never joined", label);
        }
    }
    size_t fds = L->nwatch_active;
    if (open_tasks + L->heap_len + fds + L->pending == 0)
        return;
    aio__debug("at loop end: %zu %s, %zu %s, %zu %s, %zu %s still open",
               open_tasks, aio__plural(open_tasks, "task", "tasks"),
               L->heap_len, aio__plural(L->heap_len, "timer", "timers"),
               fds, aio__plural(fds, "descriptor", "descriptors"),
               L->pending, aio__plural(L->pending, "operation", "operations"));
}

/* ---- timers: a binary min-heap; each timer knows its slot ---------------------------------
 *
 * Each heap entry carries a copy of its timer's deadline next to the pointer, so sifting
 * compares entries of one compact array instead of following a pointer per comparison: each
 * task's timer lives in that task's own stack page, and with thousands of tasks a pointer
 * followed is likely a cache and TLB miss. (Timers that share one deadline, like 10,000
 * tasks sleeping 100 ms from the same loop turn, sift in one step either way; firing those
 * costs about 80 ns each here, mostly in waking the task: its struct is in its stack page.) */

static void aio__heap_place(struct aio__loop *L, size_t i, struct aio__heap_ent e)
{
    L->heap[i] = e;
    e.tm->slot = i;
}

static void aio__heap_up(struct aio__loop *L, size_t i)
{
    struct aio__heap_ent e = L->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (L->heap[parent].deadline <= e.deadline)
            break;
        aio__heap_place(L, i, L->heap[parent]);
        i = parent;
    }
    aio__heap_place(L, i, e);
}

static void aio__heap_down(struct aio__loop *L, size_t i)
{
    struct aio__heap_ent e = L->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= L->heap_len)
            break;
        if (child + 1 < L->heap_len && L->heap[child + 1].deadline < L->heap[child].deadline)
            child++;
        if (e.deadline <= L->heap[child].deadline)
            break;
        aio__heap_place(L, i, L->heap[child]);
        i = child;
    }
    aio__heap_place(L, i, e);
}

/* Arm tm for deadline (re-arming moves it). tm stays owned by the caller, who must stop it
 * before freeing it. Aborts if the heap cannot grow: a wait without its deadline would be a
 * silent hang, which is worse. */
void aio__timer_start(struct aio__loop *L, struct aio__timer *tm, int64_t deadline)
{
    AIO__ASSERT(deadline != AIO_NEVER && tm->fire != NULL);
    if (tm->slot != AIO__NOSLOT)
        aio__timer_stop(L, tm);
    if (L->heap_len == L->heap_cap) {
        size_t cap = L->heap_cap ? L->heap_cap * 2 : 64;
        struct aio__heap_ent *h = realloc(L->heap, cap * sizeof *h);
        if (h == NULL)
            aio__fatal("timer-nomem", "no memory for %zu timers; a wait without its deadline "
                       "could hang for ever, so the program stops here", cap);
        L->heap = h;
        L->heap_cap = cap;
    }
    tm->deadline = deadline;
    L->heap[L->heap_len] = (struct aio__heap_ent){.deadline = deadline, .tm = tm};
    L->heap_len++;
    aio__heap_up(L, L->heap_len - 1);
}

/* Disarm tm; does nothing if it is not armed. */
void aio__timer_stop(struct aio__loop *L, struct aio__timer *tm)
{
    size_t i = tm->slot;
    if (i == AIO__NOSLOT)
        return;
    AIO__ASSERT(i < L->heap_len && L->heap[i].tm == tm);
    tm->slot = AIO__NOSLOT;
    L->heap_len--;
    if (i == L->heap_len)
        return;
    struct aio__heap_ent last = L->heap[L->heap_len];
    aio__heap_place(L, i, last);
    aio__heap_up(L, i);
    aio__heap_down(L, last.tm->slot);
}

/* Fire every timer whose deadline has come. At most as many as were armed when the phase
 * began: a callback that re-arms its timer for "now" (curl does) runs again next iteration
 * instead of holding this phase forever. */
static void aio__run_timers(struct aio__loop *L)
{
    if (L->heap_len == 0)
        return;
    int64_t now = aio__now(L);
    size_t budget = L->heap_len;
    while (budget-- > 0 && L->heap_len > 0 && L->heap[0].deadline <= now) {
        struct aio__timer *tm = L->heap[0].tm;
        aio__timer_stop(L, tm);
        tm->fire(L, tm);
    }
}

/* Milliseconds until the first timer, 0 if tasks are ready, -1 for "no timer at all".
 * The clock is read again here, in nanoseconds: the ready phase may have run for
 * milliseconds since "now" was cached (10,000 tasks starting their sleeps take 2 to 3 ms),
 * and a timeout counted from that stale, whole-millisecond value would wake up to that much
 * (plus 1 ms) past the deadline. Rounded up, so the wait never ends before the deadline. */
static int aio__next_timeout(struct aio__loop *L)
{
    if (L->ready_len > 0)
        return 0;
    if (L->heap_len == 0)
        return -1;
    int64_t now_ns = aio__clock_ns();
    L->now = now_ns / 1000000;
    L->now_stale = false;
    int64_t ms = (L->heap[0].deadline * 1000000 - now_ns + 999999) / 1000000;
    if (ms < 0)
        ms = 0;
    if (ms > 24 * 3600 * 1000)
        ms = 24 * 3600 * 1000;              /* poll() takes an int */
    return (int)ms;
}

/* ---- descriptors ------------------------------------------------------------------------- */

static int aio__fd_events(struct aio__loop *L, int fd)
{
    if ((size_t)fd >= L->fds_cap)
        return 0;
    return (L->fds[2 * fd] ? AIO_READ : 0) | (L->fds[2 * fd + 1] ? AIO_WRITE : 0);
}

static int aio__fds_grow(struct aio__loop *L, int fd)
{
    if ((size_t)fd < L->fds_cap)
        return 0;
    size_t cap = L->fds_cap ? L->fds_cap : 64;
    while (cap <= (size_t)fd)
        cap *= 2;
    struct aio__watch **f = realloc(L->fds, 2 * cap * sizeof *f);
    if (f == NULL)
        return -ENOMEM;
    memset(f + 2 * L->fds_cap, 0, 2 * (cap - L->fds_cap) * sizeof *f);
    L->fds = f;
    L->fds_cap = cap;
    return 0;
}

/* aio__watch_set, and aio__watch_close when closing: a removal that leaves the fd with no
 * watch at all tells the poller through aio__be_forget (the close will do the rest). When
 * renewing, an fd with no other watch is handed to aio__be_renew (it may still be in the
 * poller's set). */
static int aio__watch_change(struct aio__loop *L, struct aio__watch *w, int events, bool closing,
                             bool renew)
{
    int fd = w->fd;
    if (fd < 0)
        return -EBADF;
    if (events == w->events)
        return 0;
    int r = aio__fds_grow(L, fd);
    if (r < 0)
        return r;
    struct aio__watch **rd = &L->fds[2 * fd], **wr = &L->fds[2 * fd + 1];
    if (((events & AIO_READ) && *rd != NULL && *rd != w) ||
        ((events & AIO_WRITE) && *wr != NULL && *wr != w))
        return -EBUSY;
    int before = aio__fd_events(L, fd);
    int after = before & ~w->events;
    after |= events;
    if (closing && after == 0)
        r = aio__be_forget(L, fd, before);
    else if (renew && before == 0 && after != 0)
        r = aio__be_renew(L, fd, after);
    else
        r = aio__be_update(L, fd, before, after);
    if (r < 0)
        return r;
    if (*rd == w)
        *rd = NULL;
    if (*wr == w)
        *wr = NULL;
    if (events & AIO_READ)
        *rd = w;
    if (events & AIO_WRITE)
        *wr = w;
    if (w->events == 0) {
        L->nwatch++;
        L->nwatch_active += !w->passive;
    } else if (events == 0) {
        AIO__ASSERT(L->nwatch > 0 && L->nwatch_active >= (size_t)!w->passive);
        L->nwatch--;
        L->nwatch_active -= !w->passive;
    }
    AIO__ASSERT(L->nwatch_active <= L->nwatch);
    w->events = events;
    return 0;
}

/* Install, change or (events == 0) remove w. One reader and one writer per fd: a second
 * watch for the same direction gets -EBUSY. On error nothing changed. w stays owned by the
 * caller and must be removed before it is freed. */
int aio__watch_set(struct aio__loop *L, struct aio__watch *w, int events)
{
    return aio__watch_change(L, w, events, false, false);
}

int aio__watch_renew(struct aio__loop *L, struct aio__watch *w, int events)
{
    return aio__watch_change(L, w, events, false, true);
}

/* Remove w because its fd is about to be closed (and has no duplicate): on epoll that needs
 * no system call, since closing a descriptor takes it out of the epoll set. */
void aio__watch_close(struct aio__loop *L, struct aio__watch *w)
{
    aio__watch_change(L, w, 0, true, false);
}

/* Make an installed (or later installed) watch passive or not: a passive watch does not keep
 * a loop with nothing else to wait for from ending with -EDEADLK. */
void aio__watch_set_passive(struct aio__loop *L, struct aio__watch *w, bool passive)
{
    if (w->passive == passive)
        return;
    if (w->events != 0) {
        AIO__ASSERT(!passive || L->nwatch_active > 0);
        if (passive)
            L->nwatch_active--;
        else
            L->nwatch_active++;
    }
    w->passive = passive;
}

/* The watch installed on fd for one direction (AIO_READ or AIO_WRITE), or NULL. */
struct aio__watch *aio__watch_get(struct aio__loop *L, int fd, int dir)
{
    if (fd < 0 || (size_t)fd >= L->fds_cap)
        return NULL;
    return L->fds[2 * fd + (dir == AIO_WRITE)];
}

/* Hand one fd's readiness to its watches. A callback may change any watch, so the table is
 * read again after each call instead of trusting pointers taken before it. */
void aio__dispatch(struct aio__loop *L, int fd, int revents)
{
    if ((size_t)fd >= L->fds_cap)
        return;
    struct aio__watch *rd = L->fds[2 * fd];
    int got = 0;
    if (rd != NULL && (revents & rd->events)) {
        got = revents & rd->events;
        rd->ready(L, rd, got);
    }
    struct aio__watch *wr = L->fds[2 * fd + 1];
    if (wr != NULL && (revents & AIO_WRITE) && !(wr == rd && got != 0))
        wr->ready(L, wr, revents & wr->events);
}

/* A task waiting in aio_wait_fd(): its watch lives on the task's own stack for the wait (on
 * the heap for a compact task: aio__wait_node). */
struct aio__fd_wait {
    struct aio__watch watch;
    aio_task *task;
};

static void aio__fd_wait_ready(struct aio__loop *L, struct aio__watch *w, int revents)
{
    struct aio__fd_wait *fw = (struct aio__fd_wait *)w;
    aio__wake(L, fw->task, revents);
}

/* Watch fd only for the length of this wait: install, wait, remove. Two epoll_ctl calls a
 * wait is the price of never leaving a stale watch on a descriptor the task then closes. */
int aio_wait_fd(int fd, int events, int64_t deadline)
{
    struct aio__loop *L;
    aio_task *self;
    int r = aio__may_wait(&L, &self, "aio_wait_fd");
    if (r < 0)
        return r;
    events &= AIO_READ | AIO_WRITE;
    if (events == 0)
        return -EINVAL;
    struct aio__fd_wait local, *fw = aio__wait_node(self, &local, sizeof local);
    if (fw == NULL)
        return -ENOMEM;
    *fw = (struct aio__fd_wait){.watch = {.fd = fd, .ready = aio__fd_wait_ready}, .task = self};
    r = aio__watch_set(L, &fw->watch, events);
    if (r < 0)
        return r;
    r = aio__wait(L, AIO__W_OTHER, AIO__C_FD, fd, deadline, false);
    aio__watch_set(L, &fw->watch, 0);
    return r;
}

/* ---- loop-end hooks ---------------------------------------------------------------------- */

void aio__hook_add(struct aio__loop *L, struct aio__hook *h)
{
    AIO__ASSERT(h->loop_end != NULL && h->prev == NULL && L->hooks != h);
    h->prev = NULL;
    h->next = L->hooks;
    if (L->hooks != NULL)
        L->hooks->prev = h;
    L->hooks = h;
}

void aio__hook_remove(struct aio__loop *L, struct aio__hook *h)
{
    if (h->prev == NULL && L->hooks != h)
        return;                         /* not added */
    if (h->prev != NULL)
        h->prev->next = h->next;
    else
        L->hooks = h->next;
    if (h->next != NULL)
        h->next->prev = h->prev;
    h->prev = h->next = NULL;
}

/* ---- the loop ---------------------------------------------------------------------------- */

/* Debug mode: the loop's own work in one phase (timer callbacks, readiness callbacks: curl
 * runs in both) took since_ns until now without any task running. Report it like a task
 * that held the loop: timers and other tasks waited all that time. */
static void aio__check_loop_held(int64_t since_ns, const char *phase)
{
    int64_t ms = (aio__clock_ns() - since_ns) / 1000000;
    if (ms > AIO__HELD_MS)
        aio__debug("[loop-held] the loop's own %s callbacks held it for %lld ms (no task ran "
                   "in between): a callback did too much work in one go", phase,
                   (long long)ms);
}

/* Ask the poller what is ready, waiting up to timeout ms. A signal that interrupts the wait
 * (EINTR) ends this iteration early: the next one reads the clock afresh, fires what is due
 * and waits only for what is left, so a storm of signals neither spins nor pushes a deadline
 * back. Any other failure means the loop can no longer wait for anything: that is reported
 * and the program stops, instead of spinning silently. Returns the number of ready fds, or
 * -1 after EINTR. */
static int aio__poll_ready(struct aio__loop *L, int timeout)
{
    int n = aio__be_wait(L, timeout);
    if (n >= 0)
        return n;
    if (n == -EINTR)
        return -1;
    aio__fatal("poller-failed", "%s() failed: %s (errno %d); the loop cannot wait for its "
               "descriptors and timers any more. Was the poller's descriptor closed, or a "
               "limit (RLIMIT_NOFILE) lowered while the loop ran?", aio__be_call,
               strerror(-n), -n);
}

/* Phase 5: wait for I/O, in the poller or, when d is not NULL, in the driver's own wait
 * (which returns 1 when the poller has something ready, 0 when not). */
static int aio__poll_io(struct aio__loop *L, int timeout, struct aio__driver *d)
{
    AIO__TRACE(L, AIO__EV_IDLE_START, 0, 0, timeout);
    int n = d != NULL ? d->wait(L, d, timeout) : aio__poll_ready(L, timeout);
    AIO__TRACE(L, AIO__EV_IDLE_END, 0, 0, n);
    return n;
}

/* One loop iteration after another, until every task has finished:
 *
 *   1. update now          forget the cached time: the first to ask this iteration (the
 *                          timers, a task's aio_now()) reads the monotonic clock, once
 *   2. run expired timers  a task whose sleep or deadline is over becomes ready
 *   3. run ready tasks     each task ready at the start of this phase runs once, until it
 *                          waits again; tasks made ready meanwhile run next iteration, so a
 *                          yielding task cannot starve timers or I/O
 *   4. compute timeout     zero if tasks are ready, else until the first timer, else forever
 *   5. wait for I/O        the poller sleeps here (skipped when nothing could arrive); while
 *                          the HTTP client has transfers in flight, libcurl's poll sleeps
 *                          instead, on curl's sockets and the poller's descriptor (http.c)
 *   6. dispatch readiness  curl does its transfers' I/O (in that case); a task waiting on a
 *                          ready fd becomes ready
 *
 * If no task is ready and nothing (timer, fd, thread job) could ever make one ready, the
 * remaining tasks wait for each other forever: the loop stops with -EDEADLK. */
static int aio__loop_iterate(struct aio__loop *L)
{
    for (;;) {
        L->now_stale = true;                                            /* 1 */
        L->iteration++;
        int64_t t0 = L->debug ? aio__clock_ns() : 0;
        aio__run_timers(L);                                             /* 2 */
        if (L->debug)
            aio__check_loop_held(t0, "timer");
        aio__run_ready(L);                                              /* 3 */
        if (L->live == 0)
            return 0;
        int timeout = aio__next_timeout(L);                             /* 4 */
        if (timeout < 0 && L->nwatch_active == 0 && L->pending == 0)
            return -EDEADLK;
        struct aio__driver *d = L->driver;
        if (d != NULL && !d->busy(d))
            d = NULL;
        if (timeout == 0 && L->nwatch == 0 && d == NULL)
            continue;                   /* no fd could be ready: save the system call */
        int n = aio__poll_io(L, timeout, d);                            /* 5 */
        t0 = L->debug ? aio__clock_ns() : 0;
        if (d != NULL) {
            d->run(L, d);
            n = n > 0 ? aio__poll_ready(L, 0) : 0;
        }
        for (int i = 0; i < n; i++)                                     /* 6 */
            aio__dispatch(L, L->fired[i].fd, L->fired[i].events);
        if (L->debug)
            aio__check_loop_held(t0, "I/O");
    }
}

/* Release everything the loop owns, in reverse order of aio_run's setup. */
static void aio__loop_close(struct aio__loop *L)
{
    while (L->hooks != NULL) {
        struct aio__hook *h = L->hooks;
        aio__hook_remove(L, h);
        h->loop_end(L, h);
    }
    AIO__ASSERT(L->pending == 0);
    aio__stacks_free(&L->stacks);
    aio__be_free(L);
    AIO__TRACE(L, AIO__EV_LOOP_END, 0, 0, 0);
    aio__trace_close(L->trace);
    free(L->fired);
    free(L->fds);
    free(L->heap);
    free(L);
}

/* Start a loop on this thread, run fn(arg) as its first task until every task is done, and
 * close the loop. Returns fn's result, -EBUSY inside a running loop, -ENOMEM, or -EDEADLK if
 * the tasks ended up waiting for each other with nothing left to wake them. */
int aio_run(aio_fn fn, void *arg)
{
    if (aio__running != NULL) {
        if (aio__running->debug)
            aio__debug("aio_run() called inside a running loop");
        return -EBUSY;
    }
    int rc = -ENOMEM;
    struct aio__loop *L = calloc(1, sizeof *L);
    if (L == NULL)
        return -ENOMEM;
    L->debug = aio__env_debug();
    L->trace = aio__trace_open();
    AIO__TRACE(L, AIO__EV_LOOP_START, 0, 0, 0);
    L->now_stale = true;
    aio__stacks_init(&L->stacks);
    L->stacks.fifo = L->debug;
    rc = aio__be_init(L);
    if (rc < 0)
        goto out_free;
    aio__running = L;
    aio_task *main_task = aio_spawn(fn, arg);
    if (main_task == NULL) {
        rc = -ENOMEM;
        goto out_close;
    }
    L->main = main_task;
    rc = aio__loop_iterate(L);
    if (main_task->state == AIO__DONE)
        rc = main_task->result;
    if (L->debug)
        aio__debug_loop_end(L, main_task);
    aio__counts_record(L);
out_close:
    aio__running = NULL;
    aio__loop_close(L);
    return rc;
out_free:
    aio__trace_close(L->trace);
    free(L);
    return rc;
}
