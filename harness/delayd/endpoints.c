/* delayd's endpoints: parse the path and query, then answer now or sleep first (timers.h).
 * Every answer goes through server_respond*(), which counts its status. */
#include "endpoints.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "content.h"
#include "server.h"
#include "stats.h"
#include "timers.h"
#include "trace.h"

#define DELAY_MAX_MS 600000L            /* ten minutes: any longer is a mistake in a test */
#define HANG_MAX_US 3600000000ull       /* /hang gives up after an hour */
#define BYTES_MAX (100L * 1024 * 1024)  /* 100 MiB */
#define DRIP_BYTES_MAX (10L * 1024 * 1024)
#define DRIP_BYTES_DEFAULT 10
#define DRIP_DURATION_DEFAULT_MS 1000
#define DRIP_BLOCK 4096                 /* most bytes one drip read hands MHD */
#define DRIP_BLOCK_AT_ONCE 65536        /* the same for duration_ms=0: all is due at once */
#define LIMITED_DELAY_DEFAULT_MS 100
#define STATUS_MIN 100                  /* any 3-digit status parses; */
#define STATUS_FINAL_MIN 200            /* only final ones are answered */
#define STATUS_MAX 599
#define NUMBER_DIGITS_MAX 18            /* keeps the value far from overflowing a long */

#define TEXT "text/plain; charset=utf-8"
#define JSON "application/json"
#define HTML "text/html; charset=utf-8"

struct route {
    const char *prefix;   /* the path, or "/name/" for paths that carry a number */
    bool numbered;
    enum endpoint ep;
};

static const struct route routes[] = {
    { "/delay/", true, EP_DELAY },     { "/status/", true, EP_STATUS },
    { "/bytes/", true, EP_BYTES },     { "/page/", true, EP_PAGE },
    { "/hang", false, EP_HANG },       { "/drip", false, EP_DRIP },
    { "/limited", false, EP_LIMITED }, { "/flaky", false, EP_FLAKY },
    { "/stats", false, EP_STATS },     { "/reset", false, EP_RESET },
    { "/trace", false, EP_TRACE },
};

#define ROUTES (sizeof routes / sizeof routes[0])

/* ---- parsing ------------------------------------------------------------------------ */

/* Parse a plain decimal number (digits only: no sign, space or exponent) within lo..hi.
 * Returns 0, -EINVAL for anything else, -ERANGE when out of range. */
static int parse_number(const char *s, long lo, long hi, long *out)
{
    long v = 0;
    size_t n = 0;

    for (; s[n] >= '0' && s[n] <= '9'; n++) {
        if (n == NUMBER_DIGITS_MAX)
            return -ERANGE;
        v = v * 10 + (s[n] - '0');
    }
    if (n == 0 || s[n] != '\0')
        return -EINVAL;
    if (v < lo || v > hi)
        return -ERANGE;
    *out = v;
    return 0;
}

/* A query argument as a number, or fallback when absent. Returns 0 or a negative errno. */
static int query_number(struct request *req, const char *key, long lo, long hi, long fallback,
                        long *out)
{
    const char *v = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);

    if (v == NULL) {
        *out = fallback;
        return 0;
    }
    return parse_number(v, lo, hi, out);
}

enum endpoint endpoint_classify(const char *url)
{
    for (size_t i = 0; i < ROUTES; i++) {
        const struct route *r = &routes[i];
        size_t len = strlen(r->prefix);

        if (r->numbered ? strncmp(url, r->prefix, len) == 0 : strcmp(url, r->prefix) == 0)
            return r->ep;
    }
    return EP_OTHER;
}

/* ---- small answers ------------------------------------------------------------------ */

static enum MHD_Result bad_request(struct request *req, const char *why)
{
    char body[256];

    snprintf(body, sizeof body, "bad request: %s\n", why);
    return server_respond_copy(req, MHD_HTTP_BAD_REQUEST, TEXT, body);
}

#define ECHO_MAX 200   /* bytes of the path a 404 repeats */

/* 404 with the path in a short text body. The path is unescaped ("%01" is a byte 1), so
 * anything but printable ASCII becomes '?': the body stays plain text. */
static enum MHD_Result not_found(struct request *req, const char *url)
{
    char body[ECHO_MAX + 32];
    size_t len = (size_t)snprintf(body, sizeof body, "not found: ");

    for (size_t i = 0; url[i] != '\0' && i < ECHO_MAX; i++)
        body[len++] = url[i] >= 0x20 && url[i] < 0x7f ? url[i] : '?';
    body[len++] = '\n';
    body[len] = '\0';
    return server_respond_copy(req, MHD_HTTP_NOT_FOUND, TEXT, body);
}

/* 405 with Allow: GET, HEAD; the body is static, MHD never frees it. */
static enum MHD_Result method_not_allowed(struct request *req)
{
    static const char body[] = "method not allowed: delayd answers GET and HEAD only\n";
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);

    if (resp != NULL) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, TEXT);
    }
    return server_respond(req, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
}

/* Sleep until ms from now; the answer comes from endpoint_wake(). */
static enum MHD_Result sleep_ms(struct request *req, long ms)
{
    req->phase = PHASE_SLEEPING;
    timers_sleep_until(req, delayd_now_us() + (uint64_t)ms * 1000u);
    return MHD_YES;
}

/* ---- /delay/MS ---------------------------------------------------------------------- */

/* True when s can go into a JSON string as it is: printable ASCII without '"' or '\\'. */
static bool json_plain(const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++)
        if (*c < 0x20 || *c > 0x7e || *c == '"' || *c == '\\')
            return false;
    return true;
}

/* jansson escapes the control characters below 0x20 but writes DEL (0x7f) as it is, valid JSON
 * but not printable text. Returns body with each DEL written as \u007f (the same string to a
 * JSON reader), body itself when it has none, NULL when out of memory; frees body otherwise.
 * A DEL can only be inside a string of jansson's output, where the escape is legal. */
static char *escape_del(char *body)
{
    size_t dels = 0;
    size_t len;
    char *out;
    char *o;

    if (body == NULL)
        return NULL;
    for (const char *c = body; *c != '\0'; c++)
        dels += *c == 0x7f;
    if (dels == 0)
        return body;
    len = strlen(body);
    out = malloc(len + 5 * dels + 1);   /* each 1-byte DEL becomes 6 bytes */
    if (out != NULL) {
        o = out;
        for (const char *c = body; *c != '\0'; c++) {
            if (*c == 0x7f) {
                memcpy(o, "\\u007f", 6);
                o += 6;
            } else {
                *o++ = *c;
            }
        }
        *o = '\0';
    }
    free(body);
    return out;
}

/* The /delay body built by jansson, for any path and query. */
static enum MHD_Result delay_reply_escaped(struct request *req, const char *url)
{
    json_t *doc = json_pack("{s:I, s:s, s:s}", "delay_ms", (json_int_t)req->id, "path", url,
                            "query", req->query);
    char *body = doc == NULL ? NULL : json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);

    json_decref(doc);
    return server_respond_owned(req, MHD_HTTP_OK, JSON, escape_del(body));
}

/* The /delay body, {"delay_ms":MS,"path":"...","query":"..."}. The usual path and query need
 * no escaping: then one snprintf on the stack writes exactly what jansson would, at a fraction
 * of the cost (no document, no allocations). Anything else goes through jansson, which escapes
 * it (and refuses invalid UTF-8: then the connection is closed). */
static enum MHD_Result delay_reply(struct request *req, const char *url)
{
    char plain[512];

    if (json_plain(url) && json_plain(req->query)) {
        int n = snprintf(plain, sizeof plain, "{\"delay_ms\":%ld,\"path\":\"%s\",\"query\":\"%s\"}",
                         req->id, url, req->query);

        if (n > 0 && (size_t)n < sizeof plain)
            return server_respond_copy(req, MHD_HTTP_OK, JSON, plain);
    }
    return delay_reply_escaped(req, url);
}

/* /delay/MS: 400 for a bad MS, else answer now (0) or after MS. */
static enum MHD_Result delay_answer(struct request *req, const char *url)
{
    if (parse_number(url + strlen("/delay/"), 0, DELAY_MAX_MS, &req->id) != 0)
        return bad_request(req, "/delay/MS takes MS in 0..600000");
    if (req->id == 0)
        return delay_reply(req, url);
    return sleep_ms(req, req->id);
}

/* ---- /status/CODE ------------------------------------------------------------------- */

/* /status/CODE for a final status, 200..599. A 1xx is no answer: libmicrohttpd sends it as an
 * interim one and then either ends the request with it (the client waits on for a final answer
 * that never comes) or, for 102, calls the handler again for the final one; and 101 announces a
 * protocol switch nobody asked for. So 100..199 get 400. 204, 205 and 304 carry no content:
 * their body is empty (MHD leaves out 204's Content-Length itself). */
static enum MHD_Result status_answer(struct request *req, const char *url)
{
    char body[64];
    long code;

    if (parse_number(url + strlen("/status/"), STATUS_MIN, STATUS_MAX, &code) != 0)
        return bad_request(req, "/status/CODE takes CODE in 200..599");
    if (code < STATUS_FINAL_MIN)
        return bad_request(req, "/status/CODE takes CODE in 200..599: a 1xx status is an "
                           "interim answer, never a final one");
    if (code == MHD_HTTP_NO_CONTENT || code == MHD_HTTP_RESET_CONTENT ||
        code == MHD_HTTP_NOT_MODIFIED)
        body[0] = '\0';
    else
        snprintf(body, sizeof body, "status %ld\n", code);
    return server_respond_copy(req, (unsigned)code, TEXT, body);
}

/* ---- /bytes/N ----------------------------------------------------------------------- */

/* MHD's content reader for large /bytes bodies: copy the pattern from offset pos. */
static ssize_t bytes_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    size_t n = max < BYTES_CHUNK ? max : BYTES_CHUNK;

    (void)cls;
    memcpy(buf, bytes_at(pos), n);
    return (ssize_t)n;
}

/* /bytes/N: 400 for a bad N, else N pattern bytes with Content-Length. */
static enum MHD_Result bytes_answer(struct request *req, const char *url)
{
    struct MHD_Response *resp;
    long n;

    if (parse_number(url + strlen("/bytes/"), 0, BYTES_MAX, &n) != 0)
        return bad_request(req, "/bytes/N takes N in 0..104857600");
    /* Small bodies point straight into the pattern table: no copy, no callback. */
    if (n <= BYTES_CHUNK)
        resp = MHD_create_response_from_buffer((size_t)n, (void *)bytes_at(0),
                                               MHD_RESPMEM_PERSISTENT);
    else
        resp = MHD_create_response_from_callback((uint64_t)n, BYTES_CHUNK, bytes_read, NULL, NULL);
    if (resp != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    return server_respond(req, MHD_HTTP_OK, resp);
}

/* ---- /drip?bytes=N&duration_ms=D ---------------------------------------------------- */

/* MHD's content reader for /drip: hand out the bytes whose time has come; when none has, sleep
 * until the next one is due. Byte k (1-based) is due at k * D / N after the headers. */
static ssize_t drip_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct request *req = cls;
    int why = atomic_exchange(&req->wake, WAKE_NONE);
    uint64_t elapsed = delayd_now_us() - req->drip_start_us;
    uint64_t due;
    uint64_t next_us;

    if (why == WAKE_GONE || why == WAKE_SHUTDOWN)
        return MHD_CONTENT_READER_END_WITH_ERROR;   /* closes the connection */
    /* bytes <= 2^24 and duration <= 2^30 us, so the product cannot overflow; a duration of
     * 0 makes every byte due at once (elapsed >= 0), so there is no division by 0 */
    if (elapsed >= req->drip_duration_us)
        due = req->drip_bytes;
    else
        due = req->drip_bytes * elapsed / req->drip_duration_us;
    if (due > pos) {
        size_t n = due - pos < max ? (size_t)(due - pos) : max;

        memset(buf, '*', n);
        return (ssize_t)n;
    }
    next_us = (pos + 1) * req->drip_duration_us;
    next_us = req->drip_start_us + (next_us + req->drip_bytes - 1) / req->drip_bytes;
    timers_sleep_until(req, next_us);
    return 0;   /* with the connection suspended, MHD asks again after the resume */
}

/* /drip: headers at once, then a body paced by drip_read(); req is its context. With D = 0
 * every byte is due at once, so drip_read() hands out the whole body in large blocks. */
static enum MHD_Result drip_answer(struct request *req)
{
    struct MHD_Response *resp;
    long bytes;
    long duration_ms;

    if (query_number(req, "bytes", 0, DRIP_BYTES_MAX, DRIP_BYTES_DEFAULT, &bytes) != 0 ||
        query_number(req, "duration_ms", 0, DELAY_MAX_MS, DRIP_DURATION_DEFAULT_MS,
                     &duration_ms) != 0)
        return bad_request(req, "/drip takes bytes in 0..10485760 and duration_ms in 0..600000");
    req->drip_bytes = (uint64_t)bytes;
    req->drip_duration_us = (uint64_t)duration_ms * 1000u;
    req->drip_start_us = delayd_now_us();
    if (bytes == 0)
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    else
        resp = MHD_create_response_from_callback((uint64_t)bytes,
                                                 duration_ms == 0 ? DRIP_BLOCK_AT_ONCE : DRIP_BLOCK,
                                                 drip_read, req, NULL);
    if (resp != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    return server_respond(req, MHD_HTTP_OK, resp);
}

/* ---- /limited, /flaky --------------------------------------------------------------- */

/* The answer of a /limited or /flaky request that got its slot or its draw. */
static enum MHD_Result limited_reply(struct request *req)
{
    char body[128];

    snprintf(body, sizeof body, "{\"in_flight\":%ld,\"limit\":%ld}", req->id, delayd_cfg.limit);
    return server_respond_copy(req, req->status, JSON, body);
}

/* The answer of a /flaky request, with the status its draw decided. */
static enum MHD_Result flaky_reply(struct request *req)
{
    char body[128];

    snprintf(body, sizeof body, "{\"n\":%llu,\"failed\":%s}", (unsigned long long)req->flaky_n,
             req->status == MHD_HTTP_OK ? "false" : "true");
    return server_respond_copy(req, req->status, JSON, body);
}

/* /limited: take a slot (given back at completion), 429 above K, else 200 later. */
static enum MHD_Result limited_answer(struct request *req)
{
    char body[128];
    long delay_ms;
    long in_flight;

    if (query_number(req, "delay_ms", 0, DELAY_MAX_MS, LIMITED_DELAY_DEFAULT_MS, &delay_ms) != 0)
        return bad_request(req, "delay_ms takes 0..600000");
    in_flight = stats_limited_enter();
    req->holds_limited = true;   /* on_completed() gives the slot back */
    req->id = in_flight;
    if (in_flight > delayd_cfg.limit) {
        snprintf(body, sizeof body, "too many requests: %ld in flight on /limited, limit %ld\n",
                 in_flight, delayd_cfg.limit);
        return server_respond_copy(req, MHD_HTTP_TOO_MANY_REQUESTS, TEXT, body);
    }
    req->status = MHD_HTTP_OK;
    return delay_ms == 0 ? limited_reply(req) : sleep_ms(req, delay_ms);
}

/* /flaky: draw this request's fate now, answer now or after delay_ms. */
static enum MHD_Result flaky_answer(struct request *req)
{
    long delay_ms;

    if (query_number(req, "delay_ms", 0, DELAY_MAX_MS, 0, &delay_ms) != 0)
        return bad_request(req, "delay_ms takes 0..600000");
    req->flaky_n = stats_flaky_next();
    req->status = flaky_draw(delayd_cfg.seed, req->flaky_n) < delayd_cfg.flaky_rate
                      ? MHD_HTTP_SERVICE_UNAVAILABLE
                      : MHD_HTTP_OK;
    return delay_ms == 0 ? flaky_reply(req) : sleep_ms(req, delay_ms);
}

/* ---- /page/ID ----------------------------------------------------------------------- */

/* The query a page's links carry: its own delay_ms and style, so a crawl stays slow or mixed. */
static void page_query(const struct request *req, char *q, size_t size)
{
    int len = 0;

    q[0] = '\0';
    if (req->page_delay_ms >= 0)
        len = snprintf(q, size, "?delay_ms=%ld", req->page_delay_ms);
    if (req->page_mixed)
        snprintf(q + len, size - (size_t)len, "%sstyle=mixed", len > 0 ? "&amp;" : "?");
}

/* The Host header when it is a plain host[:port] (safe to write into HTML), else NULL. */
static const char *page_host(const struct request *req)
{
    const char *h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Host");

    if (h == NULL || h[0] == '\0' || strlen(h) > 64 || strspn(h, "0123456789abcdefghijklmnopqrstuvwxyz"
                                                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:[]") != strlen(h))
        return NULL;
    return h;
}

/* style=mixed: the same links in the forms real pages use (README.md, "The page graph"),
 * and links a crawler must not follow. */
static int page_mixed_links(const struct request *req, const long *links, int n, const char *q,
                            char *body, size_t size)
{
    const char *host = page_host(req);
    int len = 0;

    for (int i = 0; i < n; i++) {
        long j = links[i], form = (req->id + i) % 5;

        switch (form == 4 && host == NULL ? 0 : form) {
        case 0:
            len += snprintf(body + len, size - (size_t)len, "<li><a href=\"/page/%ld%s\">", j, q);
            break;
        case 1:
            len += snprintf(body + len, size - (size_t)len, "<LI><A HREF='%ld%s'>", j, q);
            break;
        case 2:
            len += snprintf(body + len, size - (size_t)len, "<li><a class=item href=./%ld%s>", j, q);
            break;
        case 3:
            len += snprintf(body + len, size - (size_t)len, "<li><a href=\"../page/%ld%s#top\">",
                            j, q);
            break;
        default:
            len += snprintf(body + len, size - (size_t)len,
                            "<li><a href=\"http://%s/page/%ld%s#s%d\">", host, j, q, i);
            break;
        }
        len += snprintf(body + len, size - (size_t)len, "page %ld</a></li>\n", j);
    }
    if (n > 0) {
        len += snprintf(body + len, size - (size_t)len,
                        "<li><a href=\"/page/%ld%s#again\">again</a></li>\n", links[0], q);
        if (host != NULL) {
            const char *port = strrchr(host, ':');
            const char *other = strncmp(host, "localhost", 9) == 0 ? "127.0.0.1" : "localhost";

            len += snprintf(body + len, size - (size_t)len,
                            "<li><a href=\"http://%s%s/page/%ld%s\">elsewhere</a></li>\n", other,
                            port != NULL && strchr(port, ']') == NULL ? port : "", links[0], q);
        }
    }
    len += snprintf(body + len, size - (size_t)len,
                    "<li><a href=\"mailto:pages@example.com\">mail</a></li>\n"
                    "<li><a href=\"javascript:void(0)\">script</a></li>\n"
                    "<li><a name=\"end\">no link</a></li>\n"
                    "<!-- <li><a href=\"/page/%ld\">gone</a></li> -->\n",
                    delayd_cfg.pages);
    return len;
}

static enum MHD_Result page_reply(struct request *req)
{
    long links[PAGE_LINKS_MAX];
    int n = page_links(req->id, delayd_cfg.pages, links);
    char body[4096], q[64];
    int len;

    page_query(req, q, sizeof q);
    len = snprintf(body, sizeof body,
                   "<!DOCTYPE html>\n<html><head><title>Page %ld</title></head>\n"
                   "<body><h1>Page %ld</h1>\n<ul>\n",
                   req->id, req->id);
    if (req->page_mixed)
        len += page_mixed_links(req, links, n, q, body + len, sizeof body - (size_t)len);
    else
        for (int i = 0; i < n; i++)
            len += snprintf(body + len, sizeof body - (size_t)len,
                            "<li><a href=\"/page/%ld%s\">page %ld</a></li>\n", links[i], q,
                            links[i]);
    snprintf(body + len, sizeof body - (size_t)len, "</ul></body></html>\n");
    return server_respond_copy(req, MHD_HTTP_OK, HTML, body);
}

/* /page/ID: 404 outside 0..N-1, else the page now or after delay_ms. */
static enum MHD_Result page_answer(struct request *req, const char *url)
{
    long delay_ms;
    const char *style = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "style");

    if (parse_number(url + strlen("/page/"), 0, delayd_cfg.pages - 1, &req->id) != 0)
        return not_found(req, url);
    if (query_number(req, "delay_ms", 0, DELAY_MAX_MS, -1, &delay_ms) != 0)
        return bad_request(req, "delay_ms takes 0..600000");
    if (style != NULL && strcmp(style, "plain") != 0 && strcmp(style, "mixed") != 0)
        return bad_request(req, "style takes plain or mixed");
    req->page_delay_ms = delay_ms;
    req->page_mixed = style != NULL && strcmp(style, "mixed") == 0;
    return delay_ms <= 0 ? page_reply(req) : sleep_ms(req, delay_ms);
}

/* ---- /stats, /reset ----------------------------------------------------------------- */

static enum MHD_Result stats_answer(struct request *req)
{
    struct MHD_Response *resp;
    char *body = stats_json();

    if (body == NULL)
        return MHD_NO;
    resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    /* A snapshot: a cache would show old counts. */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, JSON);
    return server_respond(req, MHD_HTTP_OK, resp);
}

/* /trace: the requests since start or /reset, when delayd runs with --trace N. */
static enum MHD_Result trace_answer(struct request *req)
{
    bool off;
    char *body = trace_text(&off);

    if (off)
        return server_respond_copy(req, MHD_HTTP_CONFLICT, TEXT,
                                   "tracing is off: start delayd with --trace N\n");
    if (body == NULL)
        return MHD_NO;
    return server_respond_owned(req, MHD_HTTP_OK, TEXT, body);
}

/* ---- dispatch ----------------------------------------------------------------------- */

/* HEAD is served exactly as GET (the same sleeps, counts and headers, Content-Length
 * included); libmicrohttpd leaves out the body of a HEAD answer and never calls a content
 * reader for it. */
enum MHD_Result endpoint_answer(struct request *req, const char *url, const char *method)
{
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return method_not_allowed(req);
    switch (req->ep) {
    case EP_DELAY:
        return delay_answer(req, url);
    case EP_STATUS:
        return status_answer(req, url);
    case EP_HANG:
        return sleep_ms(req, (long)(HANG_MAX_US / 1000u));
    case EP_BYTES:
        return bytes_answer(req, url);
    case EP_DRIP:
        return drip_answer(req);
    case EP_LIMITED:
        return limited_answer(req);
    case EP_FLAKY:
        return flaky_answer(req);
    case EP_PAGE:
        return page_answer(req, url);
    case EP_STATS:
        return stats_answer(req);
    case EP_TRACE:
        return trace_answer(req);
    case EP_RESET:
        stats_reset();
        trace_reset();
        return server_respond_copy(req, MHD_HTTP_OK, TEXT, "reset\n");
    case EP_OTHER:
        break;
    }
    return not_found(req, url);
}

enum MHD_Result endpoint_wake(struct request *req, const char *url)
{
    /* A client that left, or a server that stops: close without an answer. */
    if (atomic_load(&req->wake) != WAKE_DEADLINE)
        return MHD_NO;
    switch (req->ep) {
    case EP_DELAY:
        return delay_reply(req, url);
    case EP_LIMITED:
        return limited_reply(req);
    case EP_FLAKY:
        return flaky_reply(req);
    case EP_PAGE:
        return page_reply(req);
    default:
        return MHD_NO;   /* /hang after an hour: still no answer */
    }
}
