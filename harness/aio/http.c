/* http.c: an HTTP client on libcurl's multi socket interface, driven by the aio loop.
 *
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to call it back
 * (CURLMOPT_TIMERFUNCTION); the loop turns both into its own fd watches and one timer, and
 * hands each event back with curl_multi_socket_action(). A request's life:
 *   aio_http_get: take an easy handle from the client's pool, add it to the multi handle,
 *   park the task -> the loop drives curl through fd and timer events -> curl_multi_info_read
 *   reports the transfer done -> the task wakes, takes the body, returns the handle to the
 *   pool. The multi handle keeps finished connections open for the next request (keep-alive).
 * curl runs on the loop's own stack (timer and fd callbacks), not on task stacks, except
 * for adding and removing a transfer. */
#include "aio_internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AIO__HTTP_MAXCONNECTS 1024      /* idle connections kept for reuse, per client */

/* One transfer slot: an easy handle and what its request needs. Pooled per client. */
struct aio__xfer {
    CURL *easy;
    aio_http *client;
    aio_task *waiter;
    char *body;
    size_t len, cap;
    bool nomem;                         /* the body could not grow */
    bool done;
    CURLcode result;
    struct aio__xfer *next;             /* free list */
};

/* One socket curl asked us to watch.
 *
 * When a transfer ends, curl says CURL_POLL_REMOVE for its connection's socket, and the next
 * request on that connection asks for the same socket again: removing and adding it back
 * would cost two epoll_ctl calls a request. So a removed socket stays in the poller, idle
 * (passive, and curl no longer knows it by our pointer) until one of three things happens:
 * curl wants it again (no system call when the interest is the same), an event arrives for it
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
    CURLM *multi;                       /* NULL until first used in a loop */
    struct aio__loop *loop;
    struct aio__timer timer;
    struct aio__xfer *pool;
    struct aio__sock *socks;
    size_t in_flight;
    aio_http *next_in_loop;             /* the loop's list of clients it must detach */
};

static pthread_once_t aio__curl_once = PTHREAD_ONCE_INIT;

static void aio__curl_global(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
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
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        x->result = msg->data.result;
        curl_multi_remove_handle(c->multi, x->easy);
        x->done = true;
        c->in_flight--;
        c->loop->transfers--;
        aio__wake(c->loop, x->waiter, 1);
    }
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
    int flags = ((revents & AIO_READ) ? CURL_CSELECT_IN : 0) |
                ((revents & AIO_WRITE) ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(c->multi, w->fd, flags, &running);    /* may free s */
    aio__http_check_done(c);
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
    aio__watch_set(c->loop, &s->watch, 0);
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

/* CURLMOPT_SOCKETFUNCTION: watch fd for what curl wants; on REMOVE, leave it idle. */
static int aio__http_on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
    (void)easy;
    aio_http *c = userp;
    struct aio__sock *s = sockp;
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
        s->idle = false;
        aio__watch_set_passive(c->loop, &s->watch, false);
        curl_multi_assign(c->multi, fd, s);
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
        curl_multi_assign(c->multi, fd, s);
    }
    int events = ((what & CURL_POLL_IN) ? AIO_READ : 0) | ((what & CURL_POLL_OUT) ? AIO_WRITE : 0);
    return aio__watch_set(c->loop, &s->watch, events) < 0 ? -1 : 0;
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
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    aio__http_check_done(c);
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

/* ---- the client -------------------------------------------------------------------------- */

aio_http *aio_http_new(void)
{
    pthread_once(&aio__curl_once, aio__curl_global);
    aio_http *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->timer.slot = AIO__NOSLOT;
    c->timer.fire = aio__http_timer_fire;
    return c;
}

/* Tie c to loop L on first use: make the multi handle and join L's list of clients. */
static int aio__http_bind(aio_http *c, struct aio__loop *L)
{
    if (c->loop == L)
        return 0;
    if (c->loop != NULL)
        return -EINVAL;                 /* one client, one loop */
    c->multi = curl_multi_init();
    if (c->multi == NULL)
        return -ENOMEM;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, aio__http_on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, aio__http_on_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    /* HTTP/1.1, one request per connection at a time; as many connections to one host as
     * there are requests (the lessons measure exactly that), and a cache large enough to
     * keep them all for reuse. */
    curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)AIO__HTTP_MAXCONNECTS);
    c->loop = L;
    c->next_in_loop = L->http;
    L->http = c;
    return 0;
}

/* Close c's connections and forget its loop (the loop is ending, or c is being freed). */
static void aio__http_unbind(aio_http *c)
{
    if (c->loop == NULL)
        return;
    curl_multi_cleanup(c->multi);       /* closes connections; may report sockets removed */
    c->multi = NULL;
    while (c->socks != NULL)
        aio__http_sock_free(c, c->socks);
    aio__timer_stop(c->loop, &c->timer);
    aio_http **p = &c->loop->http;
    while (*p != c)
        p = &(*p)->next_in_loop;
    *p = c->next_in_loop;
    c->loop = NULL;
}

void aio__http_loop_end(struct aio__loop *L)
{
    while (L->http != NULL)
        aio__http_unbind(L->http);
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

static size_t aio__http_on_body(char *data, size_t size, size_t n, void *userp)
{
    struct aio__xfer *x = userp;
    size_t add = size * n;
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

/* A transfer slot from c's pool, or a new one. NULL when out of memory. */
static struct aio__xfer *aio__xfer_get(aio_http *c)
{
    struct aio__xfer *x = c->pool;
    if (x != NULL) {
        c->pool = x->next;
    } else {
        x = calloc(1, sizeof *x);
        if (x == NULL)
            return NULL;
        x->easy = curl_easy_init();
        if (x->easy == NULL) {
            free(x);
            return NULL;
        }
        x->client = c;
        curl_easy_setopt(x->easy, CURLOPT_PRIVATE, (char *)x);
        curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, aio__http_on_body);
        curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
        curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
        /* The kit talks to servers on 127.0.0.1: ignore http_proxy and friends in the
         * environment (a proxy would break the lessons, and curl would look them up on
         * every request). */
        curl_easy_setopt(x->easy, CURLOPT_PROXY, "");
        /* Set, so that curl does not read no_proxy / NO_PROXY on every request either. */
        curl_easy_setopt(x->easy, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(x->easy, CURLOPT_CLOSESOCKETFUNCTION, aio__http_on_close);
        curl_easy_setopt(x->easy, CURLOPT_CLOSESOCKETDATA, c);
    }
    x->waiter = NULL;
    x->len = 0;
    x->nomem = false;
    x->done = false;
    return x;
}

static void aio__xfer_put(aio_http *c, struct aio__xfer *x)
{
    x->next = c->pool;
    c->pool = x;
}

/* The negative errno for a failed transfer. */
static int aio__http_error(struct aio__xfer *x)
{
    switch (x->result) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return -EINVAL;
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_WRITE_ERROR:
        return x->nomem ? -ENOMEM : -EIO;
    case CURLE_COULDNT_CONNECT: {
        long os = 0;
        curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os);
        return os == ECONNREFUSED ? -ECONNREFUSED : -EIO;
    }
    default:
        return -EIO;
    }
}

/* Move a finished transfer's result into out: the body's ownership goes with it. */
static int aio__http_collect(struct aio__xfer *x, struct aio_response *out)
{
    if (x->result != CURLE_OK)
        return aio__http_error(x);
    if (x->body == NULL) {
        x->body = malloc(1);            /* an empty body is still a string */
        if (x->body == NULL)
            return -ENOMEM;
        x->body[0] = '\0';
    }
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &out->status);
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
    int entry = aio__may_wait(&L, &self);
    if (entry < 0)
        return entry;
    int r = aio__http_bind(c, L);
    if (r < 0)
        return r;
    struct aio__xfer *x = aio__xfer_get(c);
    if (x == NULL)
        return -ENOMEM;
    if (curl_easy_setopt(x->easy, CURLOPT_URL, url) != CURLE_OK) {
        r = -EINVAL;
        goto out_put;
    }
    x->waiter = self;
    if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK) {
        r = -ENOMEM;
        goto out_put;
    }
    c->in_flight++;
    L->transfers++;
    r = aio__wait(L, AIO__W_OTHER, deadline, false);
    if (!x->done) {
        /* Deadline or cancellation: the transfer stops here and its connection closes. */
        curl_multi_remove_handle(c->multi, x->easy);
        c->in_flight--;
        L->transfers--;
        goto out_put;
    }
    r = aio__http_collect(x, out);
out_put:
    aio__xfer_put(c, x);
    return r;
}
