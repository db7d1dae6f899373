/* backend_poll.c: the loop's poller on POSIX poll(), for macOS and the BSDs (and for testing
 * the same loop against a second poller). The same five private functions as the epoll one.
 * poll() takes the whole set on every call, so this backend keeps a dense pollfd array and
 * an fd -> index map; removing a fd moves the last entry into its place. */
#include "aio_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

struct aio__poll {
    struct pollfd *set;
    size_t len, cap;
    int *index;                         /* fd -> position in set, -1 when absent */
    size_t index_cap;
};

int aio__be_init(struct aio__loop *L)
{
    struct aio__poll *P = calloc(1, sizeof *P);
    if (P == NULL)
        return -ENOMEM;
    L->be = P;
    return 0;
}

void aio__be_free(struct aio__loop *L)
{
    struct aio__poll *P = L->be;
    if (P == NULL)
        return;
    free(P->set);
    free(P->index);
    free(P);
    L->be = NULL;
}

static short aio__poll_mask(int events)
{
    return (short)(((events & AIO_READ) ? POLLIN : 0) | ((events & AIO_WRITE) ? POLLOUT : 0));
}

/* Make room for fd in the index and one more entry in the set. 0 or -ENOMEM. */
static int aio__poll_grow(struct aio__poll *P, struct aio__loop *L, int fd)
{
    if ((size_t)fd >= P->index_cap) {
        size_t cap = P->index_cap ? P->index_cap : 64;
        while (cap <= (size_t)fd)
            cap *= 2;
        int *ix = realloc(P->index, cap * sizeof *ix);
        if (ix == NULL)
            return -ENOMEM;
        for (size_t i = P->index_cap; i < cap; i++)
            ix[i] = -1;
        P->index = ix;
        P->index_cap = cap;
    }
    if (P->len == P->cap) {
        size_t cap = P->cap ? P->cap * 2 : 64;
        struct pollfd *s = realloc(P->set, cap * sizeof *s);
        if (s == NULL)
            return -ENOMEM;
        struct aio__fired *f = realloc(L->fired, cap * sizeof *f);
        if (f == NULL) {
            P->set = s;
            return -ENOMEM;
        }
        P->set = s;
        P->cap = cap;
        L->fired = f;
        L->fired_cap = cap;
    }
    return 0;
}

int aio__be_update(struct aio__loop *L, int fd, int old_events, int new_events)
{
    struct aio__poll *P = L->be;
    if (old_events == 0) {
        int r = aio__poll_grow(P, L, fd);
        if (r < 0)
            return r;
        P->set[P->len] = (struct pollfd){.fd = fd, .events = aio__poll_mask(new_events)};
        P->index[fd] = (int)P->len;
        P->len++;
        return 0;
    }
    int i = P->index[fd];
    if (new_events != 0) {
        P->set[i].events = aio__poll_mask(new_events);
        return 0;
    }
    P->len--;
    if ((size_t)i != P->len) {
        P->set[i] = P->set[P->len];
        P->index[P->set[i].fd] = i;
    }
    P->index[fd] = -1;
    return 0;
}

/* poll() keeps its own set: a descriptor about to be closed leaves it like any other. */
int aio__be_forget(struct aio__loop *L, int fd, int old_events)
{
    return aio__be_update(L, fd, old_events, 0);
}

/* poll()'s set is the loop's own: an fd with no watch is in it no longer. */
int aio__be_renew(struct aio__loop *L, int fd, int events)
{
    return aio__be_update(L, fd, 0, events);
}

const char aio__be_call[] = "poll";

/* poll() keeps no set in the kernel: there is no one descriptor to stand for the others. */
int aio__be_fd(struct aio__loop *L)
{
    (void)L;
    return -1;
}

int aio__be_wait(struct aio__loop *L, int timeout_ms)
{
    struct aio__poll *P = L->be;
    int n = poll(P->set, (nfds_t)P->len, timeout_ms);
    if (n < 0)
        return -errno;
    int k = 0;
    for (size_t i = 0; i < P->len && k < n; i++) {
        short re = P->set[i].revents;
        if (re == 0)
            continue;
        int ev = 0;
        if (re & (POLLIN | POLLHUP | POLLERR | POLLNVAL))
            ev |= AIO_READ;
        if (re & (POLLOUT | POLLHUP | POLLERR | POLLNVAL))
            ev |= AIO_WRITE;
        L->fired[k].fd = P->set[i].fd;
        L->fired[k].events = ev;
        k++;
    }
    return k;
}
