/* sem.c: asyncio.BoundedSemaphore on the runtime's park and wake-up. A release hands its
 * permit straight to the oldest waiter (it never goes back to the free count while somebody
 * queues), so a newcomer cannot overtake the queue, and a waiter that wakes owns its permit
 * already: nothing to look at again, nobody to race. */
#include "aio_internal.h"

#include <errno.h>
#include <stddef.h>

/* One task in aio_sem_acquire(), in its stack frame (a compact task's on the heap:
 * aio__wait_node): off the queue before it returns. */
struct aio_sem_waiter {
    aio_task *task;
    struct aio_sem_waiter *prev, *next;
    bool granted;                       /* a release gave it a permit and took it off */
};

static void aio__sem_append(aio_sem *s, struct aio_sem_waiter *w)
{
    w->next = NULL;
    w->prev = s->tail;
    if (s->tail != NULL)
        s->tail->next = w;
    else
        s->head = w;
    s->tail = w;
    s->waiting++;
}

static void aio__sem_unlink(aio_sem *s, struct aio_sem_waiter *w)
{
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        s->head = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    else
        s->tail = w->prev;
    w->prev = w->next = NULL;
    s->waiting--;
}

/* A permit comes free: to the oldest waiter if there is one, else to the free count. The
 * waiter may be ready already (its deadline or a cancellation woke it in this pass): the wake
 * then does nothing, and the waiter finds `granted` and passes the permit on itself. */
static void aio__sem_give(aio_sem *s)
{
    struct aio_sem_waiter *w = s->head;

    if (w == NULL) {
        s->permits++;
        return;
    }
    aio__sem_unlink(s, w);
    w->granted = true;
    aio__wake(w->task->loop, w->task, 0);
}

int aio_sem_init(aio_sem *s, int permits)
{
    if (permits < 0)
        return -EINVAL;
    s->permits = permits;
    s->max = permits;
    s->head = s->tail = NULL;
    s->waiting = 0;
    return 0;
}

int aio_sem_acquire(aio_sem *s, int64_t deadline)
{
    struct aio__loop *L;
    aio_task *self;
    int r = aio__may_wait(&L, &self, "aio_sem_acquire");

    if (r < 0)
        return r;
    if (s->permits > 0 && s->head == NULL) {
        s->permits--;
        return 0;
    }
    struct aio_sem_waiter local, *w = aio__wait_node(self, &local, sizeof local);
    if (w == NULL)
        return -ENOMEM;
    *w = (struct aio_sem_waiter){ .task = self };
    aio__sem_append(s, w);
    for (;;) {
        r = aio__wait(L, AIO__W_PARK, AIO__C_SEM, 0, deadline, false);
        if (w->granted) {
            if (r == 0)
                return 0;
            /* Handed a permit in the same pass as the timeout or cancellation that woke it:
             * the caller sees the error, so the permit must go on, not vanish. */
            aio__sem_give(s);
            return r;
        }
        if (r < 0) {
            aio__sem_unlink(s, w);
            return r;
        }
        /* Somebody's stray aio_unpark(): still queued, wait on. */
    }
}

int aio_sem_try_acquire(aio_sem *s)
{
    if (s->permits == 0 || s->head != NULL)
        return -EAGAIN;
    s->permits--;
    return 0;
}

int aio_sem_release(aio_sem *s)
{
    /* Every permit not free is held (a granted waiter holds its own), so this is exact. */
    if (s->permits >= s->max)
        return -EOVERFLOW;
    aio__sem_give(s);
    return 0;
}

int aio_sem_value(const aio_sem *s)
{
    return s->permits;
}

size_t aio_sem_waiting(const aio_sem *s)
{
    return s->waiting;
}
