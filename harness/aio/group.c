/* group.c: waiting for several tasks at once. aio_join_any() is asyncio.wait(FIRST_COMPLETED):
 * the caller becomes the joiner of every task it names, so the first to finish wakes it
 * (aio__finish wakes a task's joiner), and it stops being their joiner before it returns.
 * aio_group is asyncio.TaskGroup: each child runs inside a small body of the group's that
 * records its end, cancels the siblings at the first error, and wakes the waiter when the last
 * child ends; the waiter then joins them all, so no child outlives aio_group_wait(). */
#include "aio_internal.h"

#include <errno.h>
#include <stdlib.h>

/* ---- aio_join_any ------------------------------------------------------------------------- */

static void aio__check_task(struct aio__loop *L, const aio_task *t, const char *call)
{
    if (t->loop != L)
        aio__misuse(L, "bad-task-handle", "%s() was given a task that is already joined or "
                    "belongs to another loop", call);
    if (t == L->main)
        aio__misuse(L, "join-of-main-task", "%s() was given the first task, the one aio_run() "
                    "started: aio_run() joins it itself", call);
}

/* The lowest index of a finished task, or -1. */
static int aio__first_done(aio_task *const *tasks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (tasks[i] != NULL && tasks[i]->state == AIO__DONE)
            return (int)i;
    return -1;
}

int aio_join_any(aio_task *const *tasks, size_t n, int64_t deadline)
{
    struct aio__loop *L;
    aio_task *self;
    int entry = aio__may_wait(&L, &self, "aio_join_any");
    size_t named = 0;

    if (entry == -EPERM)
        return entry;
    if (n > INT32_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (tasks[i] == NULL)
            continue;
        aio__check_task(L, tasks[i], "aio_join_any");
        if (tasks[i] == self)
            return -EDEADLK;
        named++;
    }
    if (named == 0)
        return -EINVAL;
    int done = aio__first_done(tasks, n);
    if (done >= 0)
        return done;
    if (entry < 0)
        return entry;
    for (size_t i = 0; i < n; i++)
        if (tasks[i] != NULL && tasks[i]->joiner != NULL && tasks[i]->joiner != self)
            return -EBUSY;
    for (size_t i = 0; i < n; i++)
        if (tasks[i] != NULL)
            tasks[i]->joiner = self;
    int r = aio__wait(L, AIO__W_OTHER, AIO__C_JOIN_ANY, (int64_t)n, deadline, false);
    for (size_t i = 0; i < n; i++)
        if (tasks[i] != NULL && tasks[i]->joiner == self)
            tasks[i]->joiner = NULL;
    done = aio__first_done(tasks, n);
    return done >= 0 ? done : r;
}

/* ---- aio_group ---------------------------------------------------------------------------- */

struct aio__child {
    aio_group *g;
    aio_fn fn;
    void *arg;
    aio_task *task;
    struct aio__child *next;
};

struct aio_group {
    struct aio__loop *loop;
    struct aio__child *children;    /* every child not yet joined, newest first */
    size_t live;                    /* children whose body has not returned */
    int error;                      /* the first child error (not -ECANCELED), or 0 */
    bool cancelled;                 /* aio_group_cancel(), an error or the waiter's deadline */
    aio_task *waiter;               /* the task in aio_group_wait(), or NULL */
};

aio_group *aio_group_new(void)
{
    struct aio__loop *L = aio__loop_get();
    if (L == NULL) {
        errno = EPERM;
        return NULL;
    }
    aio_group *g = calloc(1, sizeof *g);
    if (g != NULL)
        g->loop = L;
    return g;
}

static void aio__group_cancel(aio_group *g, const aio_task *except)
{
    g->cancelled = true;
    for (struct aio__child *c = g->children; c != NULL; c = c->next)
        if (c->task != except && c->task->state != AIO__DONE)
            aio_cancel(c->task);
}

/* Every child runs in this body: the child's own, then the group's bookkeeping. */
static int aio__child_body(void *arg)
{
    struct aio__child *c = arg;
    aio_group *g = c->g;
    int r = c->fn(c->arg);

    if (r < 0 && r != -ECANCELED && g->error == 0) {
        g->error = r;
        aio__group_cancel(g, c->task);
    }
    AIO__ASSERT(g->live > 0);
    if (--g->live == 0 && g->waiter != NULL)
        aio__wake(g->loop, g->waiter, 0);
    return r;
}

aio_task *aio_group_spawn(aio_group *g, aio_fn fn, void *arg)
{
    if (g->loop != aio__loop_get()) {
        errno = EPERM;
        return NULL;
    }
    if (g->cancelled) {
        errno = ECANCELED;
        return NULL;
    }
    struct aio__child *c = malloc(sizeof *c);
    if (c == NULL)
        return NULL;
    *c = (struct aio__child){ .g = g, .fn = fn, .arg = arg, .next = g->children };
    c->task = aio_spawn(aio__child_body, c);
    if (c->task == NULL) {
        free(c);
        return NULL;
    }
    g->children = c;
    g->live++;
    return c->task;
}

int aio_group_cancel(aio_group *g)
{
    int n = 0;
    for (struct aio__child *c = g->children; c != NULL; c = c->next)
        n += c->task->state != AIO__DONE;
    aio__group_cancel(g, NULL);
    return n;
}

size_t aio_group_live(const aio_group *g)
{
    return g->live;
}

int aio_group_wait(aio_group *g, int64_t deadline)
{
    struct aio__loop *L;
    aio_task *self;
    int why = aio__may_wait(&L, &self, "aio_group_wait");

    if (why == -EPERM)
        return why;
    if (g->loop != L)
        return -EPERM;
    if (g->waiter != NULL)
        return -EBUSY;
    for (struct aio__child *c = g->children; c != NULL; c = c->next)
        if (c->task == self)
            return -EDEADLK;
    if (why < 0)
        aio__group_cancel(g, NULL);
    /* Until every child has ended. After the caller's deadline or cancellation the children
     * are cancelled and waited for without either: the group never returns before them. */
    while (g->live > 0) {
        g->waiter = self;
        int r = aio__wait(L, AIO__W_OTHER, AIO__C_GROUP, (int64_t)g->live,
                          why < 0 ? AIO_NEVER : deadline, why < 0);
        g->waiter = NULL;
        if (r < 0 && why == 0) {
            why = r;
            aio__group_cancel(g, NULL);
        }
    }
    while (g->children != NULL) {
        struct aio__child *c = g->children;
        g->children = c->next;
        /* Finished: this join does not wait, even for a cancelled caller. */
        aio_join(c->task, AIO_NEVER);
        free(c);
    }
    int r = why < 0 ? why : g->error;
    g->error = 0;
    g->cancelled = false;
    return r;
}

void aio_group_free(aio_group *g)
{
    if (g == NULL)
        return;
    if (g->children != NULL)
        aio__misuse(g->loop, "group-not-waited", "aio_group_free() was given a group whose "
                    "%zu children were not waited for: call aio_group_wait() first",
                    g->live);
    free(g);
}
