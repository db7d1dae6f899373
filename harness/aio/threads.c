/* threads.c: aio_to_thread(): blocking work on a small pthread pool, so the loop keeps going.
 *
 * A job travels: the task queues it and waits -> a worker runs fn(arg) -> the worker puts
 * the job on the done list and writes the wake-up fd -> the loop sees the fd readable,
 * takes the done list, and wakes each job's task. The wake-up fd is an eventfd on Linux and
 * the write end of a pipe elsewhere. The pool starts on the first call and ends with the loop.
 * A task that stops waiting (cancelled, deadline) leaves its job behind: the worker still
 * finishes it, and the loop frees it when it comes back. A task cancelled before the call
 * queues its job all the same: once queued, a job always runs. */
#include "aio_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#if defined(__linux__) && !defined(KIT_PORTABLE)
#define AIO__EVENTFD 1
#include <sys/eventfd.h>
#endif

#define AIO__THREADS 4                  /* workers; blocking calls rarely need more */

struct aio__job {
    struct aio__job *next;
    aio_fn fn;
    void *arg;
    int result;
    aio_task *waiter;                   /* NULL once the task stopped waiting */
    bool delivered;                     /* the loop has taken it off the done list */
};

struct aio__threads {
    struct aio__hook hook;              /* first: the loop-end hook is the pool */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct aio__job *todo_head, *todo_tail;
    struct aio__job *done;              /* finished, not yet seen by the loop */
    bool stop;
    int wake_rd, wake_wr;               /* the same fd for an eventfd */
    struct aio__watch watch;
    pthread_t tid[AIO__THREADS];
    int nthreads;
};

/* Tell the loop a job finished: a write on the wake-up fd makes it readable. */
static void aio__threads_ping(struct aio__threads *P)
{
    uint64_t one = 1;
    ssize_t n = write(P->wake_wr, &one, sizeof one);
    (void)n;                            /* a full pipe is already readable: nothing lost */
}

static void *aio__worker(void *arg)
{
    struct aio__threads *P = arg;
    pthread_mutex_lock(&P->mu);
    for (;;) {
        while (P->todo_head == NULL && !P->stop)
            pthread_cond_wait(&P->cv, &P->mu);
        struct aio__job *j = P->todo_head;
        if (j == NULL)
            break;                      /* stopping, and nothing left to do */
        P->todo_head = j->next;
        if (P->todo_head == NULL)
            P->todo_tail = NULL;
        pthread_mutex_unlock(&P->mu);
        j->result = j->fn(j->arg);
        pthread_mutex_lock(&P->mu);
        j->next = P->done;
        P->done = j;
        aio__threads_ping(P);
    }
    pthread_mutex_unlock(&P->mu);
    return NULL;
}

/* The wake-up fd is readable: drain it, then hand each finished job to its task. */
static void aio__threads_ready(struct aio__loop *L, struct aio__watch *w, int revents)
{
    (void)revents;
    struct aio__threads *P =
        (struct aio__threads *)((char *)w - offsetof(struct aio__threads, watch));
    char buf[64];
    while (read(P->wake_rd, buf, sizeof buf) > 0)
        continue;
    pthread_mutex_lock(&P->mu);
    struct aio__job *j = P->done;
    P->done = NULL;
    pthread_mutex_unlock(&P->mu);
    while (j != NULL) {
        struct aio__job *next = j->next;
        AIO__ASSERT(L->pending > 0 && !j->delivered);
        L->pending--;
        j->delivered = true;
        if (j->waiter != NULL)
            aio__wake(L, j->waiter, 1);
        else
            free(j);                    /* nobody waits for it any more */
        j = next;
    }
}

static int aio__wake_fd(struct aio__threads *P)
{
#ifdef AIO__EVENTFD
    P->wake_rd = P->wake_wr = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return P->wake_rd < 0 ? -errno : 0;
#else
    int fds[2];
    if (pipe(fds) < 0)
        return -errno;
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    P->wake_rd = fds[0];
    P->wake_wr = fds[1];
    return 0;
#endif
}

static void aio__wake_fd_close(struct aio__threads *P)
{
    close(P->wake_rd);
    if (P->wake_wr != P->wake_rd)
        close(P->wake_wr);
}

static void aio__threads_shutdown(struct aio__loop *L, struct aio__hook *h);

/* L's pool: its loop-end hook is the only one whose function is aio__threads_shutdown (the
 * loop keeps no pointer to it: the loop knows none of its parts by name). NULL before the
 * first aio_to_thread() of this loop. */
static struct aio__threads *aio__threads_of(struct aio__loop *L)
{
    for (struct aio__hook *h = L->hooks; h != NULL; h = h->next)
        if (h->loop_end == aio__threads_shutdown)
            return (struct aio__threads *)h;
    return NULL;
}

/* Start the pool for L. 0, or -errno with nothing left behind. */
static int aio__threads_start(struct aio__loop *L, struct aio__threads **Pp)
{
    struct aio__threads *P = calloc(1, sizeof *P);
    if (P == NULL)
        return -ENOMEM;
    int r = aio__wake_fd(P);
    if (r < 0)
        goto out_free;
    pthread_mutex_init(&P->mu, NULL);
    pthread_cond_init(&P->cv, NULL);
    P->watch = (struct aio__watch){.fd = P->wake_rd, .passive = true,
                                   .ready = aio__threads_ready};
    r = aio__watch_set(L, &P->watch, AIO_READ);
    if (r < 0)
        goto out_fd;
    for (int i = 0; i < AIO__THREADS; i++) {
        if (pthread_create(&P->tid[i], NULL, aio__worker, P) != 0)
            break;
        P->nthreads++;
    }
    if (P->nthreads == 0) {
        r = -EAGAIN;
        goto out_watch;
    }
    P->hook.loop_end = aio__threads_shutdown;
    aio__hook_add(L, &P->hook);
    *Pp = P;
    return 0;
out_watch:
    aio__watch_set(L, &P->watch, 0);
out_fd:
    pthread_cond_destroy(&P->cv);
    pthread_mutex_destroy(&P->mu);
    aio__wake_fd_close(P);
out_free:
    free(P);
    return r;
}

/* The loop-end hook: let the workers finish what is queued, join them, free what is left
 * (jobs whose tasks stopped waiting). */
static void aio__threads_shutdown(struct aio__loop *L, struct aio__hook *h)
{
    struct aio__threads *P = (struct aio__threads *)h;
    pthread_mutex_lock(&P->mu);
    P->stop = true;
    pthread_cond_broadcast(&P->cv);
    pthread_mutex_unlock(&P->mu);
    for (int i = 0; i < P->nthreads; i++)
        pthread_join(P->tid[i], NULL);
    AIO__ASSERT(P->todo_head == NULL);
    while (P->done != NULL) {
        struct aio__job *j = P->done;
        P->done = j->next;
        AIO__ASSERT(j->waiter == NULL && L->pending > 0);
        L->pending--;
        free(j);
    }
    aio__watch_set(L, &P->watch, 0);
    aio__wake_fd_close(P);
    pthread_cond_destroy(&P->cv);
    pthread_mutex_destroy(&P->mu);
    free(P);
}

int aio_to_thread(aio_fn fn, void *arg, int64_t deadline)
{
    struct aio__loop *L;
    aio_task *self;
    int entry = aio__may_wait(&L, &self, "aio_to_thread");
    if (entry < 0 && entry != -ECANCELED)
        return entry;
    struct aio__threads *P = aio__threads_of(L);
    if (P == NULL) {
        int r = aio__threads_start(L, &P);
        if (r < 0)
            return r == -ENOMEM ? r : -EAGAIN;  /* the header's two "never runs" codes */
    }
    struct aio__job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return -ENOMEM;
    j->fn = fn;
    j->arg = arg;
    j->waiter = self;
    pthread_mutex_lock(&P->mu);
    if (P->todo_tail != NULL)
        P->todo_tail->next = j;
    else
        P->todo_head = j;
    P->todo_tail = j;
    pthread_cond_signal(&P->cv);
    pthread_mutex_unlock(&P->mu);
    L->pending++;
    /* A task cancelled already still hands its job over: fn(arg) then runs exactly once
     * whatever the caller's fate, so -ECANCELED (like -ETIMEDOUT) always means "queued, and
     * no longer waited for"; the caller never has to guess whether the work will happen. */
    int r = entry < 0 ? entry : aio__wait(L, AIO__W_OTHER, AIO__C_THREAD, 0, deadline, false);
    if (r < 0) {
        if (j->delivered)
            free(j);                    /* finished just as we stopped waiting */
        else
            j->waiter = NULL;           /* the loop frees it when the worker is done */
        return r;
    }
    r = j->result;
    free(j);
    return r;
}
