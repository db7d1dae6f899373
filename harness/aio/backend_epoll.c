/* backend_epoll.c: the loop's poller on Linux epoll. Five private functions; the loop never
 * sees an epoll call. Level-triggered: a fd that stays ready is reported again. */
#include "aio_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define AIO__EPOLL_BATCH 256            /* events taken per epoll_wait() */

struct aio__epoll {
    int epfd;
    struct epoll_event events[AIO__EPOLL_BATCH];
};

int aio__be_init(struct aio__loop *L)
{
    struct aio__epoll *E = calloc(1, sizeof *E);
    if (E == NULL)
        return -ENOMEM;
    L->fired = calloc(AIO__EPOLL_BATCH, sizeof *L->fired);
    if (L->fired == NULL)
        goto out_free;
    L->fired_cap = AIO__EPOLL_BATCH;
    E->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (E->epfd < 0)
        goto out_fired;
    L->be = E;
    return 0;
out_fired:
    free(L->fired);
    L->fired = NULL;
out_free:
    free(E);
    return -errno;
}

void aio__be_free(struct aio__loop *L)
{
    struct aio__epoll *E = L->be;
    if (E == NULL)
        return;
    close(E->epfd);
    free(E);
    L->be = NULL;
}

int aio__be_update(struct aio__loop *L, int fd, int old_events, int new_events)
{
    struct aio__epoll *E = L->be;
    struct epoll_event ev = {0};
    ev.data.fd = fd;
    ev.events = ((new_events & AIO_READ) ? EPOLLIN : 0) | ((new_events & AIO_WRITE) ? EPOLLOUT : 0);
    int op = old_events == 0 ? EPOLL_CTL_ADD : new_events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (epoll_ctl(E->epfd, op, fd, &ev) == 0)
        return 0;
    /* A watch installed afresh on a socket still in the set (a connection curl kept), or
     * changed on one whose descriptor was closed and reopened behind the loop's back. */
    if ((op == EPOLL_CTL_ADD && errno == EEXIST) || (op == EPOLL_CTL_MOD && errno == ENOENT)) {
        op = op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if (epoll_ctl(E->epfd, op, fd, &ev) == 0)
            return 0;
    }
    /* A fd closed while watched has already left the epoll set by itself. */
    if (op == EPOLL_CTL_DEL && (errno == EBADF || errno == ENOENT))
        return 0;
    return -errno;
}

/* A change first: a kept connection is still in the set, and a change costs one system call
 * where an add would be refused as a duplicate first. A new descriptor under the number is
 * not in the set (closing the old one took it out), so the change fails and it is added. */
int aio__be_renew(struct aio__loop *L, int fd, int events)
{
    struct aio__epoll *E = L->be;
    struct epoll_event ev = {0};
    ev.data.fd = fd;
    ev.events = ((events & AIO_READ) ? EPOLLIN : 0) | ((events & AIO_WRITE) ? EPOLLOUT : 0);
    if (epoll_ctl(E->epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
        return 0;
    if (errno != ENOENT)
        return -errno;
    return epoll_ctl(E->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

/* Closing a descriptor removes it from every epoll set it is in (when no duplicate of it is
 * open), so a descriptor about to be closed needs no EPOLL_CTL_DEL. */
int aio__be_forget(struct aio__loop *L, int fd, int old_events)
{
    (void)L;
    (void)fd;
    (void)old_events;
    return 0;
}

const char aio__be_call[] = "epoll_wait";

/* An epoll descriptor polls readable while any descriptor in its set is ready. */
int aio__be_fd(struct aio__loop *L)
{
    return ((struct aio__epoll *)L->be)->epfd;
}

int aio__be_wait(struct aio__loop *L, int timeout_ms)
{
    struct aio__epoll *E = L->be;
    int n = epoll_wait(E->epfd, E->events, AIO__EPOLL_BATCH, timeout_ms);
    if (n < 0)
        return -errno;
    for (int i = 0; i < n; i++) {
        uint32_t e = E->events[i].events;
        int ev = 0;
        if (e & (EPOLLIN | EPOLLHUP | EPOLLERR))
            ev |= AIO_READ;
        if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
            ev |= AIO_WRITE;
        L->fired[i].fd = E->events[i].data.fd;
        L->fired[i].events = ev;
    }
    return n;
}
