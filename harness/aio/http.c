/* http.c: an HTTP client on libcurl's multi interface, driven by the aio loop.
 *
 * libcurl can be driven two ways, and the client uses the cheaper one where it can:
 *   - its poll interface (the first client bound to a loop, on the epoll backend): while the
 *     client has transfers in flight, the loop waits in curl_multi_wait(), on curl's sockets
 *     and on the epoll descriptor, then calls curl_multi_perform() once for every transfer.
 *     This is what a plain curl_multi loop costs: curl re-reads its sockets at each turn,
 *     which at the hundreds of connections the lessons use is cheaper than being told of
 *     each change (about 4,000 instructions a keep-alive request less).
 *   - its socket interface (every other client, the poll backend, or AIO_HTTP_API=socket in
 *     the environment): curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and
 *     when to call it back (CURLMOPT_TIMERFUNCTION); the loop turns both into its own fd
 *     watches and one timer, and hands each event back with curl_multi_socket_action(). Its
 *     cost grows with the sockets that change, not with all of them.
 * A request's life, either way:
 *   aio_http_get: take an easy handle from the client's pool, add it to the multi handle,
 *   park the task -> the loop drives curl -> curl_multi_info_read reports the transfer
 *   done -> the task wakes, takes the body, returns the handle to the pool. The multi handle
 *   keeps finished connections open for the next request (keep-alive).
 * curl runs on the loop's own stack (the driver, timer and fd callbacks), not on task
 * stacks, except for adding and removing a transfer. */
#include "aio_internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AIO__HTTP_MAXCONNECTS 1024      /* idle connections kept for reuse, per client */

/* Body bytes one client takes in per loop iteration. Left alone, one readiness event lets
 * libcurl read for as long as the socket has data (up to 100 reads of 16 KiB per transfer,
 * and then the other transfers whose timers are due): 20 MB and more between two looks at
 * the timers when a few fast downloads run at once. A transfer that would go past the budget
 * is paused (CURL_WRITEFUNC_PAUSE) and resumed at the next iteration, after the timers have
 * fired and the ready tasks have run. 256 KiB is about 0.1 ms of copying here: far below
 * anything a timer could notice, and large enough that the pause costs nothing visible. */
#define AIO__HTTP_BUDGET (256 * 1024)

/* One transfer slot: an easy handle and what its request needs. Pooled per client. */
struct aio__xfer {
    CURL *easy;
    aio_http *client;
    aio_task *waiter;
    char *body;
    size_t len, cap;
    bool nomem;                         /* the body could not grow */
    bool done;
    bool paused;                        /* over the budget; resumed next iteration */
    CURLcode result;
    CURLMcode mresult;                  /* the multi handle failed under this transfer */
    struct aio__xfer *next;             /* free list */
    struct aio__xfer *aprev, *anext;    /* the client's transfers in flight */
};

/* One socket curl asked us to watch.
 *
 * When a transfer ends, curl says CURL_POLL_REMOVE for its connection's socket, and the next
 * request on that connection asks for the same socket again: removing and adding it back
 * would cost two epoll_ctl calls a request. So a removed socket stays in the poller, idle
 * (passive, and curl no longer knows it by our pointer) until one of three things happens:
 * curl wants it again (one epoll_ctl, a change: aio__watch_renew, since the number could also
 * be a new socket, which the change finds missing and adds), an event arrives for it
 * (then it is really removed: an idle connection the server closed would otherwise be
 * reported again and again), or curl closes it (aio__http_on_close removes it first, so a
 * new socket that gets the same number starts clean). */
struct aio__sock {
    struct aio__watch watch;
    aio_http *client;
    bool idle;                          /* curl said REMOVE; still in the poller */
    struct aio__sock *prev, *next;
};

struct aio_http {
    struct aio__hook hook;              /* the loop ends: close connections, forget it */
    struct aio__driver driver;          /* poll interface: the loop's wait while busy */
    bool poll_api;                      /* driven by curl_multi_wait/perform (L->driver) */
    CURLM *multi;                       /* NULL until first used in a loop */
    struct aio__loop *loop;
    struct aio__timer timer;            /* curl's timeout */
    struct aio__timer resume;           /* next iteration: resume paused transfers */
    struct aio__xfer *pool;
    struct aio__xfer *active;           /* transfers in flight */
    struct aio__sock *socks;
    size_t in_flight;
    size_t npaused;
    uint64_t budget_iter;               /* the loop iteration budget_left belongs to */
    size_t budget_left;
    long max_total;                     /* CURLMOPT_MAX_TOTAL_CONNECTIONS, 0: no cap */
};

static pthread_once_t aio__curl_once = PTHREAD_ONCE_INIT;

static void aio__curl_global(void)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK)
        aio__fatal("http-curl-init", "curl_global_init() failed: %s", curl_easy_strerror(rc));
}

static const char *aio__plural_transfers(size_t n)
{
    return n == 1 ? "transfer" : "transfers";
}

/* ---- transfers in flight ------------------------------------------------------------------- */

/* Take x out of curl and out of c's transfers in flight (it is done, failed or abandoned). */
static void aio__xfer_detach(aio_http *c, struct aio__xfer *x)
{
    CURLMcode rc = curl_multi_remove_handle(c->multi, x->easy);
    if (rc != CURLM_OK)                 /* nothing left to undo: say so and go on */
        fprintf(stderr, "aio: [http-curl-failed] curl_multi_remove_handle() failed: %s "
                "(CURLMcode %d)\n", curl_multi_strerror(rc), (int)rc);
    if (x->aprev != NULL)
        x->aprev->anext = x->anext;
    else
        c->active = x->anext;
    if (x->anext != NULL)
        x->anext->aprev = x->aprev;
    x->aprev = x->anext = NULL;
    if (x->paused) {
        x->paused = false;
        c->npaused--;
    }
    AIO__ASSERT(c->in_flight > 0 && c->loop->pending > 0);
    c->in_flight--;
    c->loop->pending--;
}

/* The trace's end of a transfer: its status, or -EIO when curl failed it. */
static void aio__http_trace_end(struct aio__loop *L, struct aio__xfer *x)
{
    long status = 0;
    if (x->result != CURLE_OK || x->mresult != CURLM_OK ||
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
        status = -EIO;
    aio__trace_ev(L->trace, AIO__EV_HTTP_END, x->waiter->id, 0, status);
}

/* The part of url a timeline shows: from the path on ("/delay/200?tag=3"). */
static const char *aio__url_path(const char *url)
{
    const char *p = strstr(url, "://");
    p = p != NULL ? strchr(p + 3, '/') : NULL;
    return p != NULL ? p : url;
}

/* x is over: detach it and wake its task, which reads x->result / x->mresult. */
static void aio__xfer_finish(aio_http *c, struct aio__xfer *x)
{
    aio__xfer_detach(c, x);
    x->done = true;
    if (c->loop->trace != NULL)
        aio__http_trace_end(c->loop, x);
    aio__wake(c->loop, x->waiter, 1);
}

/* A multi-handle call failed where no single transfer is to blame: curl's state is unknown
 * from here on, and a transfer it will never drive again would wait for its deadline (or for
 * ever). Say so on stderr and end every transfer in flight with an error. */
static void aio__http_multi_failed(aio_http *c, const char *call, CURLMcode rc)
{
    fprintf(stderr, "aio: [http-curl-failed] %s() failed: %s (CURLMcode %d); ending the "
            "client's %zu %s in flight with an error\n", call, curl_multi_strerror(rc),
            (int)rc, c->in_flight, aio__plural_transfers(c->in_flight));
    while (c->active != NULL) {
        struct aio__xfer *x = c->active;
        x->mresult = rc;
        aio__xfer_finish(c, x);
    }
}

/* Body bytes c may still take in during this loop iteration. */
static size_t aio__http_budget(aio_http *c)
{
    if (c->budget_iter != c->loop->iteration) {
        c->budget_iter = c->loop->iteration;
        c->budget_left = AIO__HTTP_BUDGET;
    }
    return c->budget_left;
}

/* ---- curl -> loop: sockets and the timer ------------------------------------------------- */

/* Collect finished transfers and wake their tasks. */
static void aio__http_check_done(aio_http *c)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct aio__xfer *x = NULL;
        CURLcode rc = curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (rc != CURLE_OK || x == NULL || x->client != c)
            aio__fatal("http-curl-failed", "a finished transfer has no aio transfer attached "
                       "(curl_easy_getinfo: %s): the runtime lost track of it",
                       curl_easy_strerror(rc));
        x->result = msg->data.result;
        aio__xfer_finish(c, x);
    }
}

/* Hand an event (or, with fd CURL_SOCKET_TIMEOUT, the timeout) to curl, then wake the
 * tasks whose transfers ended. */
static void aio__http_drive(aio_http *c, curl_socket_t fd, int flags)
{
    int running;
    CURLMcode rc = curl_multi_socket_action(c->multi, fd, flags, &running);
    if (rc != CURLM_OK)
        aio__http_multi_failed(c, "curl_multi_socket_action", rc);
    else
        aio__http_check_done(c);
}

static void aio__http_sock_free(aio_http *c, struct aio__sock *s);

static void aio__http_sock_ready(struct aio__loop *L, struct aio__watch *w, int revents)
{
    (void)L;
    struct aio__sock *s = (struct aio__sock *)w;
    aio_http *c = s->client;
    if (s->idle) {
        aio__http_sock_free(c, s);      /* curl does not want it: stop hearing about it */
        return;
    }
    /* Out of budget for this iteration: leave the event where it is. The poller is
     * level-triggered, so it reports the socket again at the next iteration. */
    if (aio__http_budget(c) == 0)
        return;
    int flags = ((revents & AIO_READ) ? CURL_CSELECT_IN : 0) |
                ((revents & AIO_WRITE) ? CURL_CSELECT_OUT : 0);
    aio__http_drive(c, w->fd, flags);   /* may free s */
}

/* Unlink s from c and free it; its watch must already be removed. */
static void aio__http_sock_unlink(aio_http *c, struct aio__sock *s)
{
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        c->socks = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    free(s);
}

/* Stop watching s's socket and free s. */
static void aio__http_sock_free(aio_http *c, struct aio__sock *s)
{
    int r = aio__watch_set(c->loop, &s->watch, 0);
    AIO__ASSERT(r == 0);                /* removing a watch cannot fail */
    (void)r;
    aio__http_sock_unlink(c, s);
}

/* c's idle socket for fd (still in the poller after curl removed it), or NULL. */
static struct aio__sock *aio__http_sock_find(aio_http *c, curl_socket_t fd)
{
    for (int dir = AIO_READ; dir <= AIO_WRITE; dir <<= 1) {
        struct aio__watch *w = aio__watch_get(c->loop, fd, dir);
        if (w != NULL && w->ready == aio__http_sock_ready &&
            ((struct aio__sock *)w)->client == c)
            return (struct aio__sock *)w;
    }
    return NULL;
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what curl wants; on REMOVE, leave it idle. Returning
 * -1 makes curl fail the call that got here, which then fails the client's transfers. */
static int aio__http_on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
    (void)easy;
    aio_http *c = userp;
    struct aio__sock *s = sockp;
    bool renew = false;
    if (what == CURL_POLL_REMOVE) {
        if (s != NULL && s->watch.events == 0) {
            aio__http_sock_free(c, s);      /* already closed (aio__http_on_close) */
        } else if (s != NULL) {
            s->idle = true;
            aio__watch_set_passive(c->loop, &s->watch, true);
        }
        return 0;
    }
    if (s == NULL && (s = aio__http_sock_find(c, fd)) != NULL) {
        /* An idle socket's number handed to us again: a cached connection, or a new socket
         * that got the number of one curl closed without telling us (a transfer removed while
         * it connected: libcurl 7.88 closes that socket without CURLOPT_CLOSESOCKETFUNCTION),
         * which is in no epoll set. Install the watch afresh either way (renewed: the
         * kept connection, the usual case, is still in the set). */
        aio__watch_close(c->loop, &s->watch);
        renew = true;
        s->idle = false;
        aio__watch_set_passive(c->loop, &s->watch, false);
        if (curl_multi_assign(c->multi, fd, s) != CURLM_OK)
            return -1;
    }
    if (s == NULL) {
        s = calloc(1, sizeof *s);
        if (s == NULL)
            return -1;
        s->watch.fd = fd;
        s->watch.ready = aio__http_sock_ready;
        s->client = c;
        s->next = c->socks;
        if (c->socks != NULL)
            c->socks->prev = s;
        c->socks = s;
        if (curl_multi_assign(c->multi, fd, s) != CURLM_OK) {
            aio__http_sock_unlink(c, s);
            return -1;
        }
    }
    int events = ((what & CURL_POLL_IN) ? AIO_READ : 0) | ((what & CURL_POLL_OUT) ? AIO_WRITE : 0);
    int r = renew ? aio__watch_renew(c->loop, &s->watch, events)
                  : aio__watch_set(c->loop, &s->watch, events);
    return r < 0 ? -1 : 0;
}

/* CURLOPT_CLOSESOCKETFUNCTION: curl is done with fd. Remove its watch while the number
 * still means this socket, then close it. An idle socket is freed here; one curl still
 * knows (it says REMOVE first, so this should not happen) is freed at its REMOVE. */
static int aio__http_on_close(void *userp, curl_socket_t fd)
{
    aio_http *c = userp;
    struct aio__sock *s = c->loop != NULL ? aio__http_sock_find(c, fd) : NULL;
    if (s != NULL)
        aio__watch_close(c->loop, &s->watch);
    if (s != NULL && s->idle)
        aio__http_sock_unlink(c, s);
    return close(fd);
}

static void aio__http_timer_fire(struct aio__loop *L, struct aio__timer *tm)
{
    (void)L;
    aio_http *c = (aio_http *)((char *)tm - offsetof(aio_http, timer));
    aio__http_drive(c, CURL_SOCKET_TIMEOUT, 0);
}

/* The resume timer: a new iteration has begun (timers fired, tasks ran), so the transfers
 * paused over the last budget may go on. curl_easy_pause() hands each one the data it kept
 * back at once, which may pause it again if the new budget runs out. */
static void aio__http_resume_fire(struct aio__loop *L, struct aio__timer *tm)
{
    aio_http *c = (aio_http *)((char *)tm - offsetof(aio_http, resume));
    if (aio__http_budget(c) == 0) {
        aio__timer_start(L, &c->resume, aio__now(L));  /* armed in this same iteration */
        return;
    }
    struct aio__xfer *x = c->active;
    while (x != NULL && c->npaused > 0) {
        struct aio__xfer *next = x->anext;
        if (x->paused) {
            x->paused = false;
            c->npaused--;
            CURLcode rc = curl_easy_pause(x->easy, CURLPAUSE_CONT);
            if (rc != CURLE_OK) {
                x->result = rc;
                aio__xfer_finish(c, x);
            }
        }
        x = next;
    }
}

/* CURLMOPT_TIMERFUNCTION: curl wants a call back in timeout_ms (-1: never). */
static int aio__http_on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    aio_http *c = userp;
    if (timeout_ms < 0)
        aio__timer_stop(c->loop, &c->timer);
    else
        aio__timer_start(c->loop, &c->timer, aio__now(c->loop) + timeout_ms);
    return 0;
}

/* ---- curl's poll interface: the loop's driver ------------------------------------------- */

static aio_http *aio__http_of_driver(struct aio__driver *d)
{
    return (aio_http *)((char *)d - offsetof(aio_http, driver));
}

static bool aio__http_busy(struct aio__driver *d)
{
    return aio__http_of_driver(d)->in_flight > 0;
}

/* Phase 5 while transfers are in flight: curl polls its transfers' sockets and the loop's
 * poller (shortening timeout_ms to its own next timeout). 1 when the poller has news. */
static int aio__http_poll_wait(struct aio__loop *L, struct aio__driver *d, int timeout_ms)
{
    aio_http *c = aio__http_of_driver(d);
    struct curl_waitfd be = {.fd = aio__be_fd(L), .events = CURL_WAIT_POLLIN, .revents = 0};
    CURLMcode rc = curl_multi_wait(c->multi, &be, 1, timeout_ms < 0 ? INT_MAX : timeout_ms,
                                   NULL);
    if (rc != CURLM_OK) {
        /* Every transfer ends here, so the next iteration waits in the poller. */
        aio__http_multi_failed(c, "curl_multi_wait", rc);
        return 0;
    }
    return (be.revents & CURL_WAIT_POLLIN) != 0;
}

/* Phase 6: curl does every transfer's I/O and timeouts; the finished ones wake their tasks.
 * The body budget holds here too: a transfer over it pauses in aio__http_on_body. */
static void aio__http_poll_run(struct aio__loop *L, struct aio__driver *d)
{
    (void)L;
    aio_http *c = aio__http_of_driver(d);
    int running;
    CURLMcode rc = curl_multi_perform(c->multi, &running);
    if (rc != CURLM_OK)
        aio__http_multi_failed(c, "curl_multi_perform", rc);
    else
        aio__http_check_done(c);
}

/* The poll interface for c in loop L? Only one client a loop can wait in curl's poll, and
 * only where the poller has a descriptor of its own to add to it (epoll). */
static bool aio__http_use_poll(struct aio__loop *L)
{
    if (L->driver != NULL || aio__be_fd(L) < 0)
        return false;
    const char *api = getenv("AIO_HTTP_API");
    return api == NULL || strcmp(api, "socket") != 0;
}

/* ---- the client -------------------------------------------------------------------------- */

aio_http *aio_http_new(void)
{
    pthread_once(&aio__curl_once, aio__curl_global);
    aio_http *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->timer.slot = AIO__NOSLOT;
    c->timer.fire = aio__http_timer_fire;
    c->resume.slot = AIO__NOSLOT;
    c->resume.fire = aio__http_resume_fire;
    return c;
}

/* libcurl's own cap: at most max connections open at once; the transfers beyond wait inside
 * curl for one to come free (their deadlines run meanwhile). */
int aio_http_set_max_connections(aio_http *c, long max)
{
    if (max < 0)
        return -EINVAL;
    c->max_total = max;
    if (c->multi != NULL &&
        curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max) != CURLM_OK)
        return -EIO;
    return 0;
}

static void aio__http_loop_end(struct aio__loop *L, struct aio__hook *h);

/* Tie c to loop L on first use: make the multi handle and register for the loop's end. */
static int aio__http_bind(aio_http *c, struct aio__loop *L)
{
    if (c->loop == L)
        return 0;
    if (c->loop != NULL)
        return -EINVAL;                 /* one client, one loop */
    CURLM *m = curl_multi_init();
    if (m == NULL)
        return -ENOMEM;
    /* HTTP/1.1, one request per connection at a time; as many connections to one host as
     * there are requests (the lessons measure exactly that), and a cache large enough to
     * keep them all for reuse. */
    bool poll_api = aio__http_use_poll(L);
    CURLMcode rc = CURLM_OK;
    if (!poll_api) {
        rc = curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, aio__http_on_socket);
        if (rc == CURLM_OK)
            rc = curl_multi_setopt(m, CURLMOPT_SOCKETDATA, c);
        if (rc == CURLM_OK)
            rc = curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, aio__http_on_timer);
        if (rc == CURLM_OK)
            rc = curl_multi_setopt(m, CURLMOPT_TIMERDATA, c);
    }
    if (rc == CURLM_OK)
        rc = curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    if (rc == CURLM_OK)
        rc = curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    if (rc == CURLM_OK)
        rc = curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)AIO__HTTP_MAXCONNECTS);
    if (rc == CURLM_OK)
        rc = curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, c->max_total);
    if (rc != CURLM_OK) {
        fprintf(stderr, "aio: [http-curl-failed] curl_multi_setopt() failed: %s (CURLMcode "
                "%d); this libcurl cannot drive the client\n", curl_multi_strerror(rc),
                (int)rc);
        curl_multi_cleanup(m);
        return rc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
    }
    c->multi = m;
    c->loop = L;
    c->hook.loop_end = aio__http_loop_end;
    aio__hook_add(L, &c->hook);
    if (poll_api) {
        c->poll_api = true;
        c->driver.busy = aio__http_busy;
        c->driver.wait = aio__http_poll_wait;
        c->driver.run = aio__http_poll_run;
        L->driver = &c->driver;
    }
    return 0;
}

/* Close c's connections and forget its loop (the loop is ending, or c is being freed).
 * Transfers still in flight (their tasks never woke: a deadlocked loop) go back to the pool. */
static void aio__http_unbind(aio_http *c)
{
    if (c->loop == NULL)
        return;
    while (c->active != NULL) {
        struct aio__xfer *x = c->active;
        aio__xfer_detach(c, x);
        x->next = c->pool;
        c->pool = x;
    }
    CURLMcode rc = curl_multi_cleanup(c->multi);  /* closes connections: sockets removed */
    if (rc != CURLM_OK)
        fprintf(stderr, "aio: [http-curl-failed] curl_multi_cleanup() failed: %s (CURLMcode "
                "%d)\n", curl_multi_strerror(rc), (int)rc);
    c->multi = NULL;
    while (c->socks != NULL)
        aio__http_sock_free(c, c->socks);
    aio__timer_stop(c->loop, &c->timer);
    aio__timer_stop(c->loop, &c->resume);
    aio__hook_remove(c->loop, &c->hook);
    if (c->poll_api) {
        AIO__ASSERT(c->loop->driver == &c->driver);
        c->loop->driver = NULL;
        c->poll_api = false;
    }
    c->loop = NULL;
}

static void aio__http_loop_end(struct aio__loop *L, struct aio__hook *h)
{
    aio_http *c = (aio_http *)((char *)h - offsetof(aio_http, hook));
    AIO__ASSERT(c->loop == L);
    (void)L;
    aio__http_unbind(c);
}

/* Free c and its pooled handles. No request of c may be in flight. */
void aio_http_free(aio_http *c)
{
    if (c == NULL)
        return;
    aio__http_unbind(c);
    while (c->pool != NULL) {
        struct aio__xfer *x = c->pool;
        c->pool = x->next;
        curl_easy_cleanup(x->easy);
        free(x->body);
        free(x);
    }
    free(c);
}

void aio_response_free(struct aio_response *r)
{
    if (r == NULL)
        return;
    free(r->body);
    r->body = NULL;
    r->len = 0;
    r->status = 0;
}

/* ---- one request ------------------------------------------------------------------------- */

/* CURLOPT_WRITEFUNCTION: append to the body, within the client's budget for this iteration
 * (see AIO__HTTP_BUDGET): past it, the transfer pauses until the next iteration. */
static size_t aio__http_on_body(char *data, size_t size, size_t n, void *userp)
{
    struct aio__xfer *x = userp;
    aio_http *c = x->client;
    size_t add = size * n;
    size_t budget = aio__http_budget(c);
    if (budget == 0) {
        AIO__ASSERT(!x->paused);
        x->paused = true;
        c->npaused++;
        if (c->resume.slot == AIO__NOSLOT)
            aio__timer_start(c->loop, &c->resume, aio__now(c->loop));
        return CURL_WRITEFUNC_PAUSE;    /* curl keeps the data and hands it over on resume */
    }
    c->budget_left -= add < budget ? add : budget;
    if (x->len + add + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 1024;
        while (cap < x->len + add + 1)
            cap *= 2;
        char *b = realloc(x->body, cap);
        if (b == NULL) {
            x->nomem = true;
            return 0;                   /* curl ends the transfer with a write error */
        }
        x->body = b;
        x->cap = cap;
    }
    memcpy(x->body + x->len, data, add);
    x->len += add;
    x->body[x->len] = '\0';
    return add;
}

/* Set up a new easy handle for client c. CURLE_OK or the first option curl refused. */
static CURLcode aio__xfer_setup(aio_http *c, struct aio__xfer *x)
{
    CURL *e = x->easy;
    CURLcode rc = curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)x);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, aio__http_on_body);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    /* The kit talks to servers on 127.0.0.1: ignore http_proxy and friends in the
     * environment (a proxy would break the lessons, and curl would look them up on every
     * request). NOPROXY is set so that curl does not read no_proxy / NO_PROXY every time. */
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(e, CURLOPT_PROXY, "");
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, aio__http_on_close);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, c);
    return rc;
}

/* A transfer slot from c's pool, or a new one. 0, -ENOMEM, or -EIO when curl refused an
 * option (reported on stderr). */
static int aio__xfer_get(aio_http *c, struct aio__xfer **xp)
{
    struct aio__xfer *x = c->pool;
    if (x != NULL) {
        c->pool = x->next;
    } else {
        x = calloc(1, sizeof *x);
        if (x == NULL)
            return -ENOMEM;
        x->easy = curl_easy_init();
        if (x->easy == NULL) {
            free(x);
            return -ENOMEM;
        }
        x->client = c;
        CURLcode rc = aio__xfer_setup(c, x);
        if (rc != CURLE_OK) {
            if (rc != CURLE_OUT_OF_MEMORY)
                fprintf(stderr, "aio: [http-curl-failed] curl_easy_setopt() failed: %s "
                        "(CURLcode %d)\n", curl_easy_strerror(rc), (int)rc);
            curl_easy_cleanup(x->easy);
            free(x);
            return rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
        }
    }
    x->waiter = NULL;
    x->len = 0;
    x->nomem = false;
    x->done = false;
    x->paused = false;
    x->result = CURLE_OK;
    x->mresult = CURLM_OK;
    *xp = x;
    return 0;
}

static void aio__xfer_put(aio_http *c, struct aio__xfer *x)
{
    AIO__ASSERT(!x->paused && x->aprev == NULL && x->anext == NULL && c->active != x);
    x->next = c->pool;
    c->pool = x;
}

/* The negative errno for a failed transfer. */
static int aio__http_error(struct aio__xfer *x)
{
    if (x->mresult != CURLM_OK)
        return x->mresult == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
    switch (x->result) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return -EINVAL;
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    case CURLE_WRITE_ERROR:
        return x->nomem ? -ENOMEM : -EIO;
    case CURLE_COULDNT_CONNECT: {
        long os = 0;
        if (curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os) != CURLE_OK)
            return -EIO;
        return os == ECONNREFUSED ? -ECONNREFUSED : -EIO;
    }
    default:
        return -EIO;
    }
}

/* Move a finished transfer's result into out: the body's ownership goes with it. */
static int aio__http_collect(struct aio__xfer *x, struct aio_response *out)
{
    if (x->result != CURLE_OK || x->mresult != CURLM_OK)
        return aio__http_error(x);
    long status = 0;
    CURLcode rc = curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
        fprintf(stderr, "aio: [http-curl-failed] curl_easy_getinfo(RESPONSE_CODE) failed: %s "
                "(CURLcode %d)\n", curl_easy_strerror(rc), (int)rc);
        return -EIO;
    }
    if (x->body == NULL) {
        x->body = malloc(1);            /* an empty body is still a string */
        if (x->body == NULL)
            return -ENOMEM;
        x->body[0] = '\0';
    }
    out->status = status;
    out->body = x->body;
    out->len = x->len;
    x->body = NULL;
    x->len = 0;
    x->cap = 0;
    return 0;
}

int aio_http_get(aio_http *c, const char *url, struct aio_response *out, int64_t deadline)
{
    memset(out, 0, sizeof *out);
    struct aio__loop *L;
    aio_task *self;
    int r = aio__may_wait(&L, &self, "aio_http_get");
    if (r < 0)
        return r;
    r = aio__http_bind(c, L);
    if (r < 0)
        return r;
    struct aio__xfer *x;
    r = aio__xfer_get(c, &x);
    if (r < 0)
        return r;
    CURLcode erc = curl_easy_setopt(x->easy, CURLOPT_URL, url);
    if (erc != CURLE_OK) {
        r = erc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
        goto out_put;
    }
    x->waiter = self;
    CURLMcode mrc = curl_multi_add_handle(c->multi, x->easy);
    if (mrc != CURLM_OK) {
        if (mrc != CURLM_OUT_OF_MEMORY)
            fprintf(stderr, "aio: [http-curl-failed] curl_multi_add_handle() failed: %s "
                    "(CURLMcode %d)\n", curl_multi_strerror(mrc), (int)mrc);
        r = mrc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
        goto out_put;
    }
    x->anext = c->active;
    if (c->active != NULL)
        c->active->aprev = x;
    c->active = x;
    c->in_flight++;
    L->pending++;
    if (L->trace != NULL)
        aio__trace_text(L->trace, AIO__EV_HTTP_START, self->id, aio__url_path(url));
    r = aio__wait(L, AIO__W_OTHER, AIO__C_HTTP, 0, deadline, false);
    if (!x->done) {
        /* Deadline or cancellation: the transfer stops here and its connection closes. */
        AIO__TRACE(L, AIO__EV_HTTP_END, self->id, 0, r);
        aio__xfer_detach(c, x);
        goto out_put;
    }
    r = aio__http_collect(x, out);
out_put:
    aio__xfer_put(c, x);
    return r;
}
