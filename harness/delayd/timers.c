/* delayd's timers: a min-heap of sleeping requests ordered by deadline, and a set of the
 * sockets of long sleeps watched for hang-ups, both serviced by one thread. The set is an epoll
 * set on Linux; elsewhere (and in a PORTABLE=1 build, which tests this path on Linux) it is a
 * poll() over a list the thread rebuilds each turn.
 *
 * Why not MHD's own timeouts? MHD stops watching a connection while it is suspended: it would
 * neither wake it on time nor notice the client leave. So the thread below does both, then
 * hands the connection back with MHD_resume_connection(), which is safe from any thread. */
#include "timers.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#if defined(__linux__) && !defined(KIT_PORTABLE)
#define DELAYD_EPOLL 1
#include <sys/epoll.h>
#include <sys/eventfd.h>
#else
#define DELAYD_EPOLL 0
#include <poll.h>
#endif

#define HEAP_INITIAL 16384    /* sleepers before the first realloc */
#define EVENTS_PER_WAIT 256   /* hang-ups handled per epoll_wait; more wait for the next turn */
/* Sleeps shorter than this are not watched for hang-ups. The watch costs two epoll_ctl calls
 * under the lock: 2 of the 14 system calls a short /delay cost, and lock contention with the
 * timer thread. A client that leaves a short wait is noticed when it ends anyway: MHD answers,
 * then reads the end of the stream and closes the connection. */
#define WATCH_MIN_US 1000000u

static struct {
    pthread_mutex_t lock;     /* guards everything below but the fds */
    pthread_t thread;
    int epfd;                 /* sleeping sockets (EPOLLRDHUP) and the kick eventfd */
    int kick;                 /* eventfd (a pipe's read end elsewhere): "the earliest deadline
                                 changed", "a socket is watched" or "stop" */
    int kick_wr;              /* the same fd for an eventfd; a pipe's write end */
    struct request **heap;    /* heap[0] has the earliest deadline */
    size_t len;
    size_t cap;
    struct request **watched; /* poll() only: the watched sleepers, in no order */
    size_t nwatched;
    size_t capwatched;
    bool stopping;
} t = { .lock = PTHREAD_MUTEX_INITIALIZER, .epfd = -1, .kick = -1, .kick_wr = -1 };

/* Connections waiting for a whole request. Every deadline is "now + the same timeout", taken
 * under the lock, so appending keeps the list sorted: the first entry is the earliest. */
static struct {
    pthread_mutex_t lock;
    struct request_watch *first;
    struct request_watch *last;
    bool stopped;     /* timers_stop() ran: no deadline is kept any more */
} pending = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- the heap (lock held) ----------------------------------------------------------- */

static bool earlier(size_t a, size_t b)
{
    return t.heap[a]->deadline_us < t.heap[b]->deadline_us;
}

/* Put req at slot i and remember the slot in req (for O(log n) removal). */
static void place(size_t i, struct request *req)
{
    t.heap[i] = req;
    req->heap_index = i;
}

/* Exchange two slots. */
static void swap(size_t a, size_t b)
{
    struct request *tmp = t.heap[a];

    place(a, t.heap[b]);
    place(b, tmp);
}

/* Move slot i up while it is earlier than its parent. */
static void sift_up(size_t i)
{
    while (i > 0 && earlier(i, (i - 1) / 2)) {
        swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

/* Move slot i down while a child is earlier. */
static void sift_down(size_t i)
{
    for (;;) {
        size_t left = 2 * i + 1;
        size_t best = i;

        if (left < t.len && earlier(left, best))
            best = left;
        if (left + 1 < t.len && earlier(left + 1, best))
            best = left + 1;
        if (best == i)
            return;
        swap(i, best);
        i = best;
    }
}

/* Add req; returns 0, or -ENOMEM (then req is not in the heap). */
static int heap_push(struct request *req)
{
    if (t.len == t.cap) {
        size_t cap = t.cap * 2;
        struct request **grown = realloc(t.heap, cap * sizeof *grown);

        if (grown == NULL)
            return -ENOMEM;
        t.heap = grown;
        t.cap = cap;
    }
    place(t.len, req);
    t.len++;
    sift_up(t.len - 1);
    return 0;
}

/* Take req out of the heap, wherever it is. */
static void heap_remove(struct request *req)
{
    size_t i = req->heap_index;

    t.len--;
    if (i != t.len) {
        struct request *last = t.heap[t.len];

        /* The last item fills the hole; it may belong above or below it. */
        place(i, last);
        sift_up(i);
        sift_down(last->heap_index);
    }
    req->heap_index = TIMERS_NOT_QUEUED;
}

/* ---- the hang-up watch (lock held) ------------------------------------------------------ */

#if DELAYD_EPOLL
/* EPOLLRDHUP alone: we want the client's FIN or a reset, not pipelined request bytes. */
static bool watch(struct request *req)
{
    struct epoll_event ev = { .events = EPOLLRDHUP, .data.ptr = req };

    return epoll_ctl(t.epfd, EPOLL_CTL_ADD, req->fd, &ev) == 0;
}

static void unwatch(struct request *req)
{
    if (req->watched)
        epoll_ctl(t.epfd, EPOLL_CTL_DEL, req->fd, NULL);
    req->watched = false;
}
#else
/* poll() has no RDHUP: the thread watches for "readable", then peeks (see timers_turn). */
static bool watch(struct request *req)
{
    if (t.nwatched == t.capwatched) {
        size_t cap = t.capwatched ? t.capwatched * 2 : 256;
        struct request **grown = realloc(t.watched, cap * sizeof *grown);

        if (grown == NULL)
            return false;
        t.watched = grown;
        t.capwatched = cap;
    }
    req->watch_index = t.nwatched;
    t.watched[t.nwatched++] = req;
    return true;
}

static void unwatch(struct request *req)
{
    if (req->watched) {
        struct request *last = t.watched[--t.nwatched];

        t.watched[req->watch_index] = last;
        last->watch_index = req->watch_index;
    }
    req->watched = false;
}
#endif

/* ---- waking (lock held) ------------------------------------------------------------- */

/* Take req out of the heap and the epoll set and push it on the due list with its reason.
 * The caller resumes the due list after unlocking. */
static void make_due(struct request *req, enum wake why, struct request **due)
{
    heap_remove(req);
    /* Removing before the resume matters: once resumed, MHD may close the socket and the same
     * descriptor number may come back for a new connection. */
    unwatch(req);
    atomic_store(&req->wake, why);
    req->next_due = *due;
    *due = req;
}

/* Make every request whose deadline has passed due. */
static void collect_expired(uint64_t now, struct request **due)
{
    while (t.len > 0 && t.heap[0]->deadline_us <= now)
        make_due(t.heap[0], WAKE_DEADLINE, due);
}

/* Make every sleeping request due, for shutdown. */
static void collect_all(struct request **due)
{
    while (t.len > 0)
        make_due(t.heap[0], WAKE_SHUTDOWN, due);
}

/* Milliseconds until the earliest deadline, rounded up so we never wake early and spin;
 * -1 (forever) when nothing sleeps. */
static int next_timeout_ms(void)
{
    uint64_t now = delayd_now_us();
    uint64_t at;
    uint64_t ms;

    if (t.len == 0)
        return -1;
    at = t.heap[0]->deadline_us;
    if (at <= now)
        return 0;
    ms = (at - now + 999) / 1000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Outside the lock: once resumed, a request may be freed by its MHD thread at any moment, so
 * read the link first and never touch it again. */
static void resume_all(struct request *due)
{
    while (due != NULL) {
        struct request *next = due->next_due;

        MHD_resume_connection(due->conn);
        due = next;
    }
}

/* Reset the kick eventfd (empty the pipe) after it woke the thread. */
static void drain_kick(void)
{
    uint64_t count[8];
    ssize_t n;

    do
        n = read(t.kick, count, sizeof count);
    while (!DELAYD_EPOLL && n > 0);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        perror("delayd: timers: read the kick");
}

/* Wake the timer thread from another thread. A full pipe already wakes it. */
static void kick(void)
{
    uint64_t one = 1;

    if (write(t.kick_wr, &one, sizeof one) < 0 && errno != EAGAIN)
        perror("delayd: timers: write the kick");
}

/* ---- request deadlines -------------------------------------------------------------- */

/* Take w out of the list (pending.lock held). */
static void unlink_watch(struct request_watch *w)
{
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        pending.first = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    else
        pending.last = w->prev;
    w->prev = w->next = NULL;
    w->listed = false;
}

/* Milliseconds until the earliest request deadline. With no deadline running, half the
 * timeout: a watch started meanwhile ends no sooner than a whole timeout from now, so the
 * thread wakes in time for it without being kicked, and starting a watch costs no system call
 * (a kick per new connection would cost a write and a wake-up; this costs an idle server one
 * wake-up per half timeout). */
static int watch_timeout_ms(void)
{
    long half = delayd_cfg.request_timeout_ms / 2;
    int ms = half < 1 ? 1 : half > INT_MAX ? INT_MAX : (int)half;

    pthread_mutex_lock(&pending.lock);
    if (pending.first != NULL) {
        uint64_t now = delayd_now_us();
        uint64_t at = pending.first->deadline_us;
        uint64_t left = at <= now ? 0 : (at - now + 999) / 1000;

        ms = left > INT_MAX ? INT_MAX : (int)left;
    }
    pthread_mutex_unlock(&pending.lock);
    return ms;
}

/* Shut down the socket of every connection whose deadline has passed. The lock is held across
 * shutdown(): the connection cannot reach its "closed" notification, and so its close(), in
 * between. */
static void expire_watches(uint64_t now)
{
    pthread_mutex_lock(&pending.lock);
    while (pending.first != NULL && pending.first->deadline_us <= now) {
        struct request_watch *w = pending.first;

        unlink_watch(w);
        shutdown(w->fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&pending.lock);
}

void timers_watch_request(struct request_watch *w)
{
    if (w->fd < 0)
        return;
    pthread_mutex_lock(&pending.lock);
    if (pending.stopped) {
        pthread_mutex_unlock(&pending.lock);
        return;
    }
    if (w->listed)
        unlink_watch(w);
    w->deadline_us = delayd_now_us() + (uint64_t)delayd_cfg.request_timeout_ms * 1000u;
    w->prev = pending.last;
    w->next = NULL;
    if (pending.last != NULL)
        pending.last->next = w;
    else
        pending.first = w;
    pending.last = w;
    w->listed = true;
    pthread_mutex_unlock(&pending.lock);
}

void timers_unwatch_request(struct request_watch *w)
{
    pthread_mutex_lock(&pending.lock);
    if (w->listed)
        unlink_watch(w);
    pthread_mutex_unlock(&pending.lock);
}

/* The earlier of two poll timeouts (-1 is forever). */
static int earlier_timeout(int a, int b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

/* ---- the thread --------------------------------------------------------------------- */

#if DELAYD_EPOLL
/* Wait up to timeout ms; put the requests whose client hung up in gone[], return how many. */
static int wait_for_hangups(int timeout, struct request **gone, int max)
{
    struct epoll_event events[EVENTS_PER_WAIT];
    int n = epoll_wait(t.epfd, events, max < EVENTS_PER_WAIT ? max : EVENTS_PER_WAIT, timeout);
    int k = 0;

    if (n < 0) {
        if (errno != EINTR)
            perror("delayd: timers: epoll_wait");
        return 0;
    }
    for (int i = 0; i < n; i++) {
        if (events[i].data.ptr == NULL)
            drain_kick();
        else
            gone[k++] = events[i].data.ptr;
    }
    return k;
}
#else
/* The same with poll(): the watched list is copied under the lock (only this thread removes a
 * request from it, so every request copied is still sleeping when poll returns). "Readable"
 * is a hang-up when a peek reads the end of the stream; a client that sent more bytes (a
 * pipelined request) is simply not watched any more, as epoll's RDHUP would ignore it, and
 * is noticed at its deadline. */
static int wait_for_hangups(int timeout, struct request **gone, int max)
{
    static struct pollfd *fds;
    static struct request **reqs;
    static size_t cap;
    size_t n;
    int k = 0;

    pthread_mutex_lock(&t.lock);
    n = t.nwatched + 1;
    if (n > cap) {
        struct pollfd *f = realloc(fds, n * sizeof *f);
        struct request **r = f ? realloc(reqs, n * sizeof *r) : NULL;

        if (f != NULL)
            fds = f;
        if (r != NULL)
            reqs = r;
        if (f != NULL && r != NULL)
            cap = n;
        else
            n = cap ? cap : 0;   /* out of memory: watch fewer this turn */
    }
    if (n == 0) {
        pthread_mutex_unlock(&t.lock);
        return 0;
    }
    fds[0] = (struct pollfd){ .fd = t.kick, .events = POLLIN };
    for (size_t i = 1; i < n; i++) {
        reqs[i] = t.watched[i - 1];
        fds[i] = (struct pollfd){ .fd = reqs[i]->fd, .events = POLLIN };
    }
    pthread_mutex_unlock(&t.lock);

    if (poll(fds, (nfds_t)n, timeout) < 0) {
        if (errno != EINTR)
            perror("delayd: timers: poll");
        return 0;
    }
    if (fds[0].revents != 0)
        drain_kick();
    for (size_t i = 1; i < n && k < max; i++) {
        char c;
        ssize_t got;

        if (fds[i].revents == 0)
            continue;
        got = (fds[i].revents & POLLIN) ? recv(fds[i].fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) : 0;
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            gone[k++] = reqs[i];
        } else if (got > 0) {
            pthread_mutex_lock(&t.lock);
            unwatch(reqs[i]);
            pthread_mutex_unlock(&t.lock);
        }
    }
    return k;
}
#endif

/* One turn: wait for the earliest deadline or an event, then wake whoever is due. Returns
 * false once everything was woken for shutdown. */
static bool timers_turn(void)
{
    struct request *gone[EVENTS_PER_WAIT];
    struct request *due = NULL;
    bool stopping;
    int timeout;
    int n;

    pthread_mutex_lock(&t.lock);
    timeout = t.stopping ? 0 : next_timeout_ms();
    pthread_mutex_unlock(&t.lock);
    timeout = earlier_timeout(timeout, watch_timeout_ms());

    n = wait_for_hangups(timeout, gone, EVENTS_PER_WAIT);

    pthread_mutex_lock(&t.lock);
    /* Hang-ups first: every request in this batch is still ours, because only this thread
     * takes requests out of the heap. */
    for (int i = 0; i < n; i++)
        make_due(gone[i], WAKE_GONE, &due);
    collect_expired(delayd_now_us(), &due);
    stopping = t.stopping;
    if (stopping)
        collect_all(&due);
    pthread_mutex_unlock(&t.lock);
    expire_watches(delayd_now_us());

    resume_all(due);
    return !stopping;
}

/* The timer thread: turns until shutdown. */
static void *timers_main(void *arg)
{
    (void)arg;
    while (timers_turn()) {
    }
    return NULL;
}

/* The kick: an eventfd on Linux, a non-blocking pipe elsewhere. */
static int open_kick(void)
{
#if DELAYD_EPOLL
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

    t.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (t.epfd < 0)
        return -1;
    t.kick = t.kick_wr = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (t.kick < 0)
        return -1;
    return epoll_ctl(t.epfd, EPOLL_CTL_ADD, t.kick, &ev);
#else
    int fds[2];

    if (pipe(fds) < 0)
        return -1;
    t.kick = fds[0];
    t.kick_wr = fds[1];
    for (int i = 0; i < 2; i++) {
        if (fcntl(fds[i], F_SETFL, O_NONBLOCK) < 0 || fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0)
            return -1;
    }
    return 0;
#endif
}

static void close_kick(void)
{
    if (t.kick_wr >= 0 && t.kick_wr != t.kick)
        close(t.kick_wr);
    if (t.kick >= 0)
        close(t.kick);
    if (t.epfd >= 0)
        close(t.epfd);
    t.kick = t.kick_wr = t.epfd = -1;
}

int timers_start(void)
{
    int err;

    t.heap = malloc(HEAP_INITIAL * sizeof *t.heap);
    if (t.heap == NULL)
        return -ENOMEM;
    t.cap = HEAP_INITIAL;
    if (open_kick() != 0)
        goto fail_errno;
    err = pthread_create(&t.thread, NULL, timers_main, NULL);
    if (err != 0) {
        errno = err;
        goto fail_errno;
    }
    return 0;

fail_errno:
    err = -errno;
    close_kick();
    free(t.heap);
    t.heap = NULL;
    return err;
}

void timers_stop(void)
{
    pthread_mutex_lock(&pending.lock);
    pending.stopped = true;   /* no thread enforces deadlines from here on */
    while (pending.first != NULL)
        unlink_watch(pending.first);
    pthread_mutex_unlock(&pending.lock);
    pthread_mutex_lock(&t.lock);
    t.stopping = true;
    pthread_mutex_unlock(&t.lock);
    kick();
    pthread_join(t.thread, NULL);
    close_kick();
    free(t.heap);
    free(t.watched);
    t.heap = NULL;
    t.watched = NULL;
    t.nwatched = t.capwatched = 0;
}

/* Wake req at once, on this thread; used when it cannot be queued. */
static void wake_now(struct request *req, enum wake why)
{
    atomic_store(&req->wake, why);
    MHD_resume_connection(req->conn);
}

void timers_sleep_until(struct request *req, uint64_t deadline_us)
{
    bool earliest;

    MHD_suspend_connection(req->conn);
    atomic_store(&req->wake, WAKE_NONE);
    req->deadline_us = deadline_us;

    pthread_mutex_lock(&t.lock);
    if (t.stopping) {
        pthread_mutex_unlock(&t.lock);
        wake_now(req, WAKE_SHUTDOWN);
        return;
    }
    if (heap_push(req) != 0) {
        pthread_mutex_unlock(&t.lock);
        wake_now(req, WAKE_SHUTDOWN);   /* out of memory: drop this request, keep serving */
        return;
    }
    /* A failure to watch only means a vanished client is noticed at its deadline instead. */
    req->watched = deadline_us >= delayd_now_us() + WATCH_MIN_US && watch(req);
    /* poll() watches the list it copied: a new socket waits for the next turn unless kicked. */
    earliest = req->heap_index == 0 || (!DELAYD_EPOLL && req->watched);
    pthread_mutex_unlock(&t.lock);

    if (earliest)
        kick();   /* the thread may be sleeping until a later deadline */
}
