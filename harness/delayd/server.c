/* delayd's MHD daemon: options, the four callbacks that follow a request from its URI to its
 * completion, and the one place that queues answers (so every status is counted). */
#include "server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "endpoints.h"
#include "stats.h"
#include "timers.h"
#include "trace.h"

#define CONNECTION_LIMIT 20000u     /* above the 10,000 the kit promises to hold */
#define CONNECTION_TIMEOUT_S 3600u  /* idle seconds; /hang sleeps at most this long anyway */
#define LISTEN_BACKLOG 4096u        /* the kernel caps it at net.core.somaxconn */
/* Per-connection memory for the request head and the response head. MHD zeroes all of it
 * between two requests on a keep-alive connection, so the default 32 KiB cost more than the
 * rest of a small request together; 8 KiB still holds any sane request head. */
#define CONNECTION_MEMORY 8192u

/* What delayd keeps per TCP connection: MHD's socket context, from its accept to its close. */
struct conn {
    struct conn_note note;         /* for the "connections" count (stats.h) */
    struct request_watch watch;    /* the deadline for its next whole request (timers.h) */
    struct request *unclaimed;     /* from on_uri(), until the handler sees it (see there) */
};

/* The connection state of a connection (MHD's socket context), or NULL. */
static struct conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return info == NULL ? NULL : info->socket_context;
}

static struct MHD_Daemon *daemon_handle;
static atomic_bool started;           /* MHD's messages are printed only until we serve */

/* ---- the request life cycle --------------------------------------------------------- */

/* MHD's URI callback, the first thing MHD tells us about a request: allocate its state and
 * keep the raw query (MHD unescapes and splits it in place right after). The returned
 * request is owned by MHD's request context until on_completed() frees it, but MHD 0.9.75
 * does not report the completion of every request it rejects itself after the request line
 * (headers too large, say). So the request also stays "unclaimed" in its connection until the
 * handler's first call or its completion, whichever comes first, and the connection frees an
 * unclaimed request when it closes or starts the next one. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    const char *q = strchr(uri, '?');
    size_t qlen = q == NULL ? 0 : strlen(q + 1);
    struct request *req = calloc(1, sizeof *req + qlen + 1);
    struct conn *c = conn_of(conn);

    (void)cls;
    if (c != NULL) {
        free(c->unclaimed);
        c->unclaimed = req;
    }
    if (req == NULL)
        return NULL;   /* on_request() closes the connection */
    req->conn = conn;
    req->fd = -1;
    req->heap_index = TIMERS_NOT_QUEUED;
    req->trace_slot = -1;
    if (q != NULL)
        memcpy(req->query, q + 1, qlen);
    return req;
}

/* The handler's first call (headers received): the request is in flight from here on. */
static void request_started(struct request *req, struct conn *c, const char *url)
{
    const union MHD_ConnectionInfo *fd_info;

    req->ep = endpoint_classify(url);
    req->counted = req->ep < EP_COUNTED;
    fd_info = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    req->fd = fd_info == NULL ? -1 : fd_info->connect_fd;
    req->watch = c == NULL ? NULL : &c->watch;
    stats_connection_used(c == NULL ? NULL : &c->note, req->counted);
    if (req->counted) {
        stats_request_started(req->ep);
        req->trace_slot = trace_begin(url, req->query);
    }
    req->phase = PHASE_HEADERS;
}

/* The path of a request target. libmicrohttpd 0.9.75 hands the handler an absolute-form target
 * ("GET http://host/delay/0 HTTP/1.1", which proxies send and HTTP/1.1 servers must accept)
 * as it came: serve it as its path, "/" when it has none. */
static const char *target_path(const char *url)
{
    size_t skip;
    const char *path;

    if (url[0] == '/')
        return url;   /* origin form: the usual case, one comparison */
    if (strncasecmp(url, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        skip = 8;
    else
        return url;   /* "*", or no target a route matches: 404 */
    path = strchr(url + skip, '/');
    return path == NULL ? "/" : path;
}

/* MHD's access handler. It is called once when the headers are in, once per piece of body,
 * once more when the request is complete, and again after each resume. Answering on the very
 * first call would make MHD drop keep-alive (it cannot know the body is empty), so we answer
 * on the final call. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    struct request *req = *req_cls;

    (void)cls;
    (void)version;
    (void)upload_data;
    if (req == NULL)
        return MHD_NO;
    url = target_path(url);
    if (*upload_data_size != 0) {
        *upload_data_size = 0;   /* no endpoint reads a body: skip it */
        return MHD_YES;
    }
    switch (req->phase) {
    case PHASE_NEW: {
        struct conn *c = conn_of(conn);

        if (c != NULL)
            c->unclaimed = NULL;   /* MHD reports this one's completion: on_completed() */
        request_started(req, c, url);
        return MHD_YES;
    }
    case PHASE_HEADERS:
        /* The request is here whole: its deadline no longer applies. */
        if (req->watch != NULL)
            timers_unwatch_request(req->watch);
        return endpoint_answer(req, url, method);
    case PHASE_SLEEPING:
        return endpoint_wake(req, url);
    case PHASE_ANSWERED:
        break;
    }
    return MHD_YES;
}

/* MHD's completion callback: the request is over, answered or abandoned. Frees it. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode why)
{
    struct request *req = *req_cls;
    struct conn *c;

    (void)cls;
    if (req == NULL)
        return;
    c = conn_of(conn);
    if (c != NULL && c->unclaimed == req)
        c->unclaimed = NULL;   /* a request MHD rejected itself: freed here, not at the close */
    /* Answered in full: the connection may carry another request, which must arrive in time
     * too. After any other end MHD closes the connection. */
    if (why == MHD_REQUEST_TERMINATED_COMPLETED_OK && req->watch != NULL)
        timers_watch_request(req->watch);
    if (req->holds_limited)
        stats_limited_leave();
    if (req->counted) {
        stats_request_completed();
        trace_end(req->trace_slot, why == MHD_REQUEST_TERMINATED_COMPLETED_OK);
    }
    free(req);
    *req_cls = NULL;
}

/* MHD's connection callback: count accepted connections and start the deadline for their
 * first request; the state lives as long as the connection. MHD reports the close before it
 * closes the socket, so the deadline is gone before the descriptor can be reused. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct conn *c;

    (void)cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd_info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

        c = calloc(1, sizeof *c);
        *socket_context = c;
        stats_connection_opened(c == NULL ? NULL : &c->note);
        if (c == NULL)
            return;
        c->watch.fd = fd_info == NULL ? -1 : fd_info->connect_fd;
        timers_watch_request(&c->watch);
    } else {
        c = *socket_context;
        if (c != NULL) {
            timers_unwatch_request(&c->watch);
            free(c->unclaimed);
        }
        free(c);
        *socket_context = NULL;
    }
}

/* MHD's messages: worth seeing while starting (why a bind failed); afterwards they are mostly
 * clients that went away, which this server is built to expect. */
static void on_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (atomic_load(&started) && getenv("DELAYD_VERBOSE") == NULL)
        return;
    fputs("delayd: libmicrohttpd: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* ---- answering ---------------------------------------------------------------------- */

enum MHD_Result server_respond(struct request *req, unsigned status, struct MHD_Response *resp)
{
    enum MHD_Result ret;

    if (resp == NULL)
        return MHD_NO;
    ret = MHD_queue_response(req->conn, status, resp);
    MHD_destroy_response(resp);   /* MHD keeps its own reference while sending */
    if (ret == MHD_YES) {
        req->phase = PHASE_ANSWERED;
        if (req->counted) {
            stats_response_queued(status);
            trace_status(req->trace_slot, status);
        }
    }
    return ret;
}

/* Attach a Content-Type (when given) and answer; resp may be NULL. */
static enum MHD_Result respond_typed(struct request *req, unsigned status, const char *type,
                                     struct MHD_Response *resp)
{
    if (resp != NULL && type != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    return server_respond(req, status, resp);
}

enum MHD_Result server_respond_copy(struct request *req, unsigned status, const char *type,
                                    const char *body)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);

    return respond_typed(req, status, type, resp);
}

enum MHD_Result server_respond_owned(struct request *req, unsigned status, const char *type,
                                     char *body)
{
    struct MHD_Response *resp;

    if (body == NULL)
        return MHD_NO;
    resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL)
        free(body);
    return respond_typed(req, status, type, resp);
}

/* ---- the daemon --------------------------------------------------------------------- */

/* Fill addr from delayd_cfg (a numeric IPv4 or IPv6 address). Returns its family, or -1. */
static int make_address(struct sockaddr_storage *addr)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;

    memset(addr, 0, sizeof *addr);
    if (inet_pton(AF_INET, delayd_cfg.host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)delayd_cfg.port);
        return AF_INET;
    }
    if (inet_pton(AF_INET6, delayd_cfg.host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)delayd_cfg.port);
        return AF_INET6;
    }
    return -1;
}

int server_start(unsigned *bound_port)
{
    static struct sockaddr_storage addr;   /* MHD reads it during MHD_start_daemon() only */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_TURBO | MHD_USE_ERROR_LOG;
    struct MHD_OptionItem options[] = {
        { MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_log, NULL },   /* first, MHD insists */
        { MHD_OPTION_SOCK_ADDR, 0, &addr },
        { MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, NULL },
        { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL },
        { MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, NULL },
        { MHD_OPTION_CONNECTION_LIMIT, CONNECTION_LIMIT, NULL },
        { MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S, NULL },
        { MHD_OPTION_LISTEN_BACKLOG_SIZE, LISTEN_BACKLOG, NULL },
        { MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONNECTION_MEMORY, NULL },
        /* One thread needs no pool; the slot is then simply the end of the list. */
        { delayd_cfg.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
          (intptr_t)delayd_cfg.threads, NULL },
        { MHD_OPTION_END, 0, NULL },
    };
    const union MHD_DaemonInfo *info;
    int family = make_address(&addr);

    if (family < 0) {
        fprintf(stderr, "delayd: --host %s is not a numeric IPv4 or IPv6 address\n",
                delayd_cfg.host);
        return -1;
    }
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    daemon_handle = MHD_start_daemon(flags, (uint16_t)delayd_cfg.port, NULL, NULL, on_request,
                                     NULL, MHD_OPTION_ARRAY, options, MHD_OPTION_END);
    if (daemon_handle == NULL) {
        fprintf(stderr, "delayd: cannot listen on %s port %u (see the message above)\n",
                delayd_cfg.host, delayd_cfg.port);
        return -1;
    }
    info = MHD_get_daemon_info(daemon_handle, MHD_DAEMON_INFO_BIND_PORT);
    *bound_port = info == NULL ? delayd_cfg.port : info->port;
    atomic_store(&started, true);
    return 0;
}

void server_stop(void)
{
    /* Order matters: stop accepting, then wake every sleeper (MHD_stop_daemon must find no
     * suspended connection), then close everything. */
    MHD_socket listener = MHD_quiesce_daemon(daemon_handle);

    timers_stop();
    MHD_stop_daemon(daemon_handle);
    daemon_handle = NULL;
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
}
