/* delayd's endpoints, one by one: status, body, and what /stats counts for them. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "content.h"
#include "helpers.h"

#define PAGES 100          /* the server's default --pages */
#define FLAKY_RUN 40       /* /flaky requests compared with the expected sequence */

static const char *base;

/* .init: this test's private server with the default flags. */
static void start(void)
{
    base = server(NULL);
}

TestSuite(endpoints, .fini = kit_fini_leaks, .timeout = SUITE_TIMEOUT);

/* GET path and expect this status; returns the body (caller frees). */
static char *expect(const char *path, long want)
{
    char *body = NULL;
    long got = get(base, path, &body);

    cr_assert_eq(got, want,
                 "[status-%ld] GET %s answered %ld; expected %ld. Check the route and the "
                 "range check of this endpoint.",
                 want, path, got, want);
    return body;
}

Test(endpoints, delay_echoes_path_and_query, .init = start)
{
    double t0 = kit_wall();
    char *body = expect("/delay/120?tag=3", 200);
    double took = kit_wall() - t0;
    json_error_t err;
    json_t *doc = json_loads(body, 0, &err);

    cr_assert_not_null(doc, "[delay-json] /delay/120 body is not JSON (%s): %s", err.text, body);
    cr_expect_eq(json_integer_value(json_object_get(doc, "delay_ms")), 120,
                 "[delay-json] delay_ms in %s; expected 120", body);
    cr_expect_str_eq(json_string_value(json_object_get(doc, "path")), "/delay/120",
                     "[delay-json] path in %s; expected /delay/120", body);
    cr_expect_str_eq(json_string_value(json_object_get(doc, "query")), "tag=3",
                     "[delay-json] query in %s; expected the raw query tag=3", body);
    /* A lower bound only: a busy machine makes answers later, never earlier. */
    cr_expect_geq(took, 0.110,
                  "[delay-early] /delay/120 answered after %.3f s; it must not answer before "
                  "its 120 ms are up. Is the deadline computed in the right unit?",
                  took);
    json_decref(doc);
    free(body);

    body = expect("/delay/0", 200);
    cr_expect(strstr(body, "\"query\":\"\"") != NULL,
              "[delay-json] /delay/0 answered %s; expected an empty query string", body);
    free(body);
}

/* The raw query of path, as /delay echoed it (NULL when the body is not that JSON); the caller
 * frees it. */
static char *echoed_query(const char *path)
{
    char *body = expect(path, 200);
    json_t *doc = json_loads(body, 0, NULL);
    const char *query = json_string_value(json_object_get(doc, "query"));
    char *copy = query == NULL ? NULL : strdup(query);

    cr_expect_not_null(copy, "[delay-json] GET %.60s... answered %.200s; expected JSON with a "
                       "\"query\" string", path, body);
    json_decref(doc);
    free(body);
    return copy;
}

/* /delay writes the usual body by hand and falls back to jansson for anything that needs
 * escaping or does not fit: both must give the same JSON. */
Test(endpoints, delay_escapes_the_query, .init = start)
{
    static const char *const escaped[] = { "a=\"b\\c", "\xc3\xa9=1" };
    char path[URL_MAX];
    char *query;

    for (size_t i = 0; i < sizeof escaped / sizeof escaped[0]; i++) {
        snprintf(path, sizeof path, "/delay/0?%s", escaped[i]);
        query = echoed_query(path);
        cr_expect(query != NULL && strcmp(query, escaped[i]) == 0,
                  "[delay-escape] /delay echoed the query %s as %s; quotes, backslashes and "
                  "UTF-8 must be escaped in the JSON and come back unchanged",
                  escaped[i], query == NULL ? "(nothing)" : query);
        free(query);
    }

    /* A query longer than the hand-written body's buffer. */
    snprintf(path, sizeof path, "/delay/0?long=%0470d", 7);
    query = echoed_query(path);
    cr_expect(query != NULL && strlen(query) == 475 && strncmp(query, "long=000", 8) == 0,
              "[delay-escape] /delay echoed a 475-byte query as %zu bytes; a long query must "
              "come back whole", query == NULL ? 0 : strlen(query));
    free(query);
}

Test(endpoints, delay_rejects_bad_values, .init = start)
{
    const char *bad[] = { "/delay/abc", "/delay/600001", "/delay/-1",
                          "/delay/",    "/delay/1e3",    "/delay/99999999999999999999" };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        free(expect(bad[i], 400));
    cr_expect_eq(kit_stats_status(base, 400), (long)(sizeof bad / sizeof bad[0]),
                 "[stats-status] by_status[400] does not count the rejected /delay requests");
}

Test(endpoints, status_answers_the_code, .init = start)
{
    const long codes[] = { 200, 201, 204, 205, 301, 304, 404, 418, 429, 500, 503, 599 };
    const char *bad[] = { "/status/99",  "/status/600", "/status/abc", "/status/",
                          "/status/100", "/status/101", "/status/102", "/status/103",
                          "/status/199" };
    enum { CODES = sizeof codes / sizeof codes[0], BAD = sizeof bad / sizeof bad[0] };
    char path[64];

    for (size_t i = 0; i < CODES; i++) {
        bool empty = codes[i] == 204 || codes[i] == 205 || codes[i] == 304;
        char *body;

        snprintf(path, sizeof path, "/status/%ld", codes[i]);
        body = expect(path, codes[i]);
        if (empty)
            cr_expect_str_eq(body, "", "[status-no-content] %s sent the body '%s'; a %ld "
                             "answer carries no content", path, body, codes[i]);
        else
            cr_expect(strstr(body, "status") != NULL,
                      "[status-body] %s answered the body '%s'; expected a short text", path,
                      body);
        free(body);
    }
    /* A 1xx is an interim answer: sent as the only one, the client would wait for ever. */
    for (size_t i = 0; i < BAD; i++)
        free(expect(bad[i], 400));
    cr_expect_eq(kit_stats_status(base, 418), 1, "[stats-status] by_status[418] is not 1");
    cr_expect_eq(kit_stats_status(base, 400), BAD, "[stats-status] by_status[400] is not %d",
                 BAD);
    cr_expect_eq(kit_stats_endpoint(base, "status"), CODES + BAD,
                 "[stats-endpoint] by_endpoint.status is not %d after %d /status requests",
                 CODES + BAD, CODES + BAD);
    cr_expect_eq(wait_in_flight(base, 0, 10), 0, "[flight-zero] a /status request is still in "
                 "flight after its answer");
}

/* The head and the content of a raw answer read until the server closed. */
struct answer {
    int status;
    long content_length;   /* -1 when absent */
    size_t body_len;       /* bytes after the blank line */
    char *text;            /* the whole answer */
};

/* Send a request with Connection: close and split the answer. */
static struct answer raw_answer(const char *method, const char *target)
{
    struct answer a = { .status = 0, .content_length = -1 };
    char request[URL_MAX + 64];
    size_t len;
    const char *end;
    const char *cl;
    int closed;

    snprintf(request, sizeof request, "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
             method, target);
    closed = raw_response(base, request, strlen(request), 10000, &a.text, &len);
    cr_assert_eq(closed, 1, "[raw-close] %s %s: the server did not close the connection after "
                 "its answer to Connection: close", method, target);
    sscanf(a.text, "HTTP/1.1 %d", &a.status);
    end = strstr(a.text, "\r\n\r\n");
    cr_assert_not_null(end, "[raw-head] %s %s: no complete head in '%s'", method, target, a.text);
    a.body_len = len - (size_t)(end + 4 - a.text);
    cl = strcasestr(a.text, "\r\nContent-Length:");
    if (cl != NULL && cl < end)
        a.content_length = strtol(cl + strlen("\r\nContent-Length:"), NULL, 10);
    return a;
}

/* HEAD answers every endpoint with GET's status and Content-Length, and no body at all. */
Test(endpoints, head_is_get_without_body, .init = start)
{
    const char *targets[] = { "/delay/0?tag=7", "/delay/30", "/status/418", "/status/205",
                              "/bytes/70001",   "/drip?bytes=1234&duration_ms=0",
                              "/drip?bytes=3&duration_ms=300", "/limited?delay_ms=0",
                              "/page/3",        "/nowhere",  "/delay/x" };
    enum { TARGETS = sizeof targets / sizeof targets[0] };

    for (size_t i = 0; i < TARGETS; i++) {
        struct answer get_a = raw_answer("GET", targets[i]);
        struct answer head_a = raw_answer("HEAD", targets[i]);

        cr_expect_eq(head_a.status, get_a.status, "[head-status] HEAD %s answered %d, GET %d; "
                     "HEAD must answer as GET would", targets[i], head_a.status, get_a.status);
        cr_expect_eq(head_a.body_len, 0, "[head-body] HEAD %s sent %zu body bytes; a HEAD "
                     "answer has none", targets[i], head_a.body_len);
        cr_expect_eq(get_a.content_length, (long)get_a.body_len, "[get-length] GET %s said "
                     "Content-Length %ld and sent %zu bytes", targets[i], get_a.content_length,
                     get_a.body_len);
        cr_expect_eq(head_a.content_length, get_a.content_length, "[head-length] HEAD %s said "
                     "Content-Length %ld, GET %ld", targets[i], head_a.content_length,
                     get_a.content_length);
        free(get_a.text);
        free(head_a.text);
    }
    {
        /* A HEAD of a slow /drip has no body to pace: its head comes at once. */
        double t0 = kit_wall();
        struct answer slow = raw_answer("HEAD", "/drip?bytes=3&duration_ms=600000");

        cr_expect(slow.status == 200 && slow.content_length == 3 && slow.body_len == 0,
                  "[head-drip] HEAD of a 10-minute /drip answered %d, Content-Length %ld, %zu "
                  "body bytes; expected 200, 3, 0", slow.status, slow.content_length,
                  slow.body_len);
        cr_expect_lt(kit_wall() - t0, 5.0, "[head-drip] HEAD of a 10-minute /drip took %.1f s",
                     kit_wall() - t0);
        free(slow.text);
    }
    cr_expect_eq(kit_stats_endpoint(base, "drip"), 5, "[stats-endpoint] by_endpoint.drip is "
                 "not 5 after 2 GET and 3 HEAD /drip");
    cr_expect_eq(wait_in_flight(base, 0, 10), 0, "[flight-zero] a HEAD request is still in "
                 "flight after its answer");
}

/* "GET http://host/path HTTP/1.1" (absolute form) is served as its path. */
Test(endpoints, absolute_form_target_is_served_as_its_path, .init = start)
{
    struct answer a = raw_answer("GET", "http://127.0.0.1/delay/0?tag=abs");
    struct answer b = raw_answer("GET", "HTTP://example.com:8080/status/418");
    struct answer c = raw_answer("HEAD", "http://example.com");
    const char *body = strstr(a.text, "\r\n\r\n");

    cr_expect_eq(a.status, 200, "[absolute-form] GET http://127.0.0.1/delay/0 answered %d; "
                 "expected 200, as for /delay/0", a.status);
    cr_expect_str_eq(body == NULL ? "" : body + 4,
                     "{\"delay_ms\":0,\"path\":\"/delay/0\",\"query\":\"tag=abs\"}",
                     "[absolute-form-path] the body must echo the path alone");
    cr_expect_eq(b.status, 418, "[absolute-form] GET HTTP://example.com:8080/status/418 "
                 "answered %d", b.status);
    cr_expect_eq(c.status, 404, "[absolute-form] HEAD http://example.com (path /) answered %d",
                 c.status);
    free(a.text);
    free(b.text);
    free(c.text);
}

/* Check n bytes of a /bytes body against the documented pattern. */
static void check_pattern(const char *body, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (body[i] != 'a' + (char)(i % 26))
            cr_assert_fail("[bytes-content] byte %zu of /bytes is '%c'; expected '%c'. The "
                           "content reader must start each block at offset pos.",
                           i, body[i], 'a' + (char)(i % 26));
    }
}

Test(endpoints, bytes_sends_n_patterned_bytes, .init = start)
{
    const long sizes[] = { 0, 1, 26, 65536, 65537, 1048576 + 3 };
    char url[URL_MAX];

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *body = NULL;
        size_t len = 0;
        long status = 0;

        snprintf(url, sizeof url, "%s/bytes/%ld", base, sizes[i]);
        cr_assert_eq(kit_get(url, &status, &body, &len), 0, "[bytes-get] GET %s failed", url);
        cr_expect_eq(status, 200, "[status-200] GET %s answered %ld", url, status);
        cr_assert_eq(len, (size_t)sizes[i], "[bytes-length] GET %s sent %zu bytes; expected %ld",
                     url, len, sizes[i]);
        check_pattern(body, len);
        free(body);
    }
    free(expect("/bytes/104857601", 400));
    free(expect("/bytes/x", 400));
}

/* libcurl write callback that counts pieces and keeps the body. */
struct pieces {
    int count;
    char body[64];
    size_t len;
};

static size_t count_piece(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct pieces *p = userdata;
    size_t n = size * nmemb;

    p->count++;
    if (p->len + n < sizeof p->body) {
        memcpy(p->body + p->len, ptr, n);
        p->len += n;
    }
    return n;
}

Test(endpoints, drip_spreads_the_body, .init = start)
{
    struct pieces p = { 0 };
    char url[URL_MAX];
    CURL *h = curl_easy_init();
    long status = 0;
    double t0;
    double took;

    snprintf(url, sizeof url, "%s/drip?bytes=5&duration_ms=400", base);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, count_piece);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &p);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 20000L);
    t0 = kit_wall();
    cr_assert_eq(curl_easy_perform(h), CURLE_OK, "[drip-get] GET %s failed", url);
    took = kit_wall() - t0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);

    cr_expect_eq(status, 200, "[status-200] /drip answered %ld", status);
    p.body[p.len] = '\0';
    cr_expect_str_eq(p.body, "*****", "[drip-body] /drip?bytes=5 sent '%s'; expected 5 stars",
                     p.body);
    cr_expect_geq(p.count, 3,
                  "[drip-pieces] the 5 bytes came in %d piece(s); a slow body must arrive "
                  "spread out. Does the content reader hand out only the bytes that are due?",
                  p.count);
    cr_expect_geq(took, 0.36, "[drip-early] /drip over 400 ms finished after %.3f s", took);

    free(expect("/drip?bytes=x", 400));
    free(expect("/drip?duration_ms=600001", 400));
    {
        char *body = expect("/drip?duration_ms=50", 200);

        cr_expect_str_eq(body, "**********", "[drip-default] /drip sent '%s'; expected the "
                         "default 10 bytes", body);
        free(body);
    }
}

/* libcurl write callback for drip_at_once: count the bytes and note the first that is not a
 * star, without keeping the body (10 MiB in a growing buffer would be copied many times). */
struct star_count {
    size_t len;
    size_t first_bad;   /* SIZE_MAX while every byte was a star */
    unsigned char bad_byte;
};

static size_t count_stars(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct star_count *sc = userdata;
    size_t n = size * nmemb;

    for (size_t i = 0; i < n && sc->first_bad == SIZE_MAX; i++) {
        if (ptr[i] != '*') {
            sc->first_bad = sc->len + i;
            sc->bad_byte = (unsigned char)ptr[i];
        }
    }
    sc->len += n;
    return n;
}

/* /drip with duration_ms=0 sends its whole body at once: exactly N stars, whatever N, and
 * never the bytes of anything else (a body read from a fixed buffer would run past its end). */
Test(endpoints, drip_at_once_sends_exactly_n_stars, .init = start)
{
    const long sizes[] = { 1, 26, 4097, 65562, 65563, 70000, 200000, 1000003, 10485760 };
    char url[URL_MAX];

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct star_count sc = { .len = 0, .first_bad = SIZE_MAX };
        CURL *h = curl_easy_init();
        long status = 0;
        CURLcode rc;

        snprintf(url, sizeof url, "%s/drip?bytes=%ld&duration_ms=0", base, sizes[i]);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, count_stars);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &sc);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 50000L);
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(h);
        cr_assert_eq(rc, CURLE_OK, "[drip-get] GET %s failed: %s", url, curl_easy_strerror(rc));
        cr_expect_eq(status, 200, "[status-200] GET %s answered %ld", url, status);
        cr_assert_eq(sc.len, (size_t)sizes[i], "[drip-length] GET %s sent %zu bytes; expected "
                     "%ld", url, sc.len, sizes[i]);
        cr_assert_eq(sc.first_bad, SIZE_MAX, "[drip-content] byte %zu of %s is 0x%02x; expected "
                     "'*'. A body must never carry bytes from outside its own buffer.",
                     sc.first_bad, url, sc.bad_byte);
    }
    free(expect("/drip?bytes=10485761&duration_ms=0", 400));
    {
        char *body = expect("/drip?bytes=0&duration_ms=0", 200);

        cr_expect_str_eq(body, "", "[drip-empty] /drip?bytes=0 sent '%s'", body);
        free(body);
    }
}

Test(endpoints, limited_answers_429_above_k, .init = start)
{
    enum { N = 8, K = 5 };   /* K is the server's default --limit */
    const char *urls[N];
    long status[N];
    int ok = 0;
    int busy = 0;
    double spread;
    char url[URL_MAX];

    snprintf(url, sizeof url, "%s/limited?delay_ms=2000", base);
    for (int i = 0; i < N; i++)
        urls[i] = url;
    cr_assert_eq(get_many(urls, N, status, &spread), N,
                 "[limited-get] some /limited transfers failed");
    for (int i = 0; i < N; i++) {
        ok += status[i] == 200;
        busy += status[i] == 429;
    }
    cr_expect_eq(ok + busy, N, "[limited-status] /limited answered something other than 200 "
                 "or 429");
    /* The 200s hold their slot for 2 s: if all 8 were sent within 1.5 s, they overlapped. */
    if (spread < 1.5) {
        cr_expect_eq(ok, K,
                     "[limited-k] %d of %d parallel /limited got 200; expected exactly K=%d. "
                     "Count the request itself among those in flight.",
                     ok, N, K);
        cr_expect_eq(busy, N - K, "[limited-429] %d got 429; expected %d", busy, N - K);
    }
    /* Every slot must have been given back once the requests completed. */
    cr_assert_eq(wait_in_flight(base, 0, 10), 0, "[flight-zero] /limited stayed in flight");
    free(expect("/limited?delay_ms=0", 200));
    free(expect("/limited?delay_ms=x", 400));
    cr_expect_eq(kit_stats_status(base, 429), busy, "[stats-status] by_status[429] is not %d",
                 busy);
}

/* The statuses the first n /flaky requests must get with this seed and rate. */
static void expected_flaky(unsigned long long seed, double rate, long *want, int n)
{
    for (int i = 0; i < n; i++)
        want[i] = flaky_draw(seed, (uint64_t)i + 1) < rate ? 503 : 200;
}

/* FLAKY_RUN sequential /flaky requests must match want[]. */
static void check_flaky_run(const long *want, const char *round)
{
    for (int i = 0; i < FLAKY_RUN; i++) {
        long got = get(base, "/flaky", NULL);

        cr_assert_eq(got, want[i],
                     "[flaky-sequence] %s: /flaky request %d answered %ld; expected %ld from "
                     "the seeded draw. The n-th request must fail iff draw(S, n) < R.",
                     round, i + 1, got, want[i]);
    }
}

Test(endpoints, flaky_is_reproducible)
{
    const char *args[] = { "--seed", "7", "--flaky-rate", "0.5", NULL };
    long want[FLAKY_RUN];
    int fails = 0;

    base = server(args);
    expected_flaky(7, 0.5, want, FLAKY_RUN);
    for (int i = 0; i < FLAKY_RUN; i++)
        fails += want[i] == 503;
    cr_assert(fails > 0 && fails < FLAKY_RUN, "[flaky-seed] seed 7 gives no mix of outcomes");
    check_flaky_run(want, "first run");
    cr_assert_eq(kit_stats_reset(base), 0, "[reset] GET /reset failed");
    check_flaky_run(want, "after /reset");
    cr_expect_eq(kit_stats_status(base, 503), fails,
                 "[stats-status] by_status[503] does not match the failures sent");
}

Test(endpoints, flaky_rate_bounds)
{
    const char *never[] = { "--flaky-rate", "0", NULL };

    base = server(never);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(get(base, "/flaky", NULL), 200, "[flaky-rate] --flaky-rate 0 failed one");
    kit_server_stop();
    {
        const char *always[] = { "--flaky-rate", "1", NULL };

        base = server(always);
    }
    for (int i = 0; i < 10; i++)
        cr_assert_eq(get(base, "/flaky", NULL), 503, "[flaky-rate] --flaky-rate 1 passed one");
    free(expect("/flaky?delay_ms=-5", 400));
}

/* Parse the links of a page into out (at most max); returns how many. */
static int parse_links(const char *html, long *out, int max)
{
    const char *p = html;
    int n = 0;

    while ((p = strstr(p, "<a href=\"/page/")) != NULL) {
        p += strlen("<a href=\"/page/");
        if (n < max)
            out[n] = strtol(p, NULL, 10);
        n++;
    }
    return n;
}

/* Fetch page id, check its head and links against the graph, and queue unseen links. */
static void visit(long id, bool *seen, long *queue, int *tail)
{
    char path[64];
    char title[64];
    long links[16];
    long want[PAGE_LINKS_MAX];
    char *body;
    int n;
    int wn;

    snprintf(path, sizeof path, "/page/%ld", id);
    body = expect(path, 200);
    snprintf(title, sizeof title, "<title>Page %ld</title>", id);
    cr_assert(strstr(body, title) != NULL && strstr(body, "<h1>") != NULL,
              "[page-head] %s lacks '%s' or an <h1>: %s", path, title, body);
    n = parse_links(body, links, 16);
    wn = page_links(id, PAGES, want);
    cr_assert(n >= 3 && n <= 5, "[page-links] %s has %d links; expected 3 to 5", path, n);
    cr_assert_eq(n, wn, "[page-links] %s has %d links; the graph says %d", path, n, wn);
    for (int i = 0; i < n; i++) {
        cr_assert(links[i] >= 0 && links[i] < PAGES && links[i] != id,
                  "[page-range] %s links to page %ld; expected another page in 0..%d", path,
                  links[i], PAGES - 1);
        cr_assert_eq(links[i], want[i], "[page-links] link %d of %s is %ld; the graph says %ld",
                     i, path, links[i], want[i]);
        if (!seen[links[i]]) {
            seen[links[i]] = true;
            queue[(*tail)++] = links[i];
        }
    }
    free(body);
}

Test(endpoints, pages_form_a_crawlable_graph, .init = start)
{
    bool seen[PAGES] = { false };
    long queue[PAGES];
    int head = 0;
    int tail = 0;

    seen[0] = true;
    queue[tail++] = 0;
    while (head < tail)
        visit(queue[head++], seen, queue, &tail);
    cr_expect_eq(tail, PAGES, "[page-reach] a crawl from /page/0 reached %d of %d pages", tail,
                 PAGES);
    free(expect("/page/100", 404));
    free(expect("/page/x", 404));
    free(expect("/page/3?delay_ms=20", 200));
}

/* Whether body holds want, with a message naming the page otherwise. */
static void expect_in(const char *body, const char *want, const char *path)
{
    cr_assert(strstr(body, want) != NULL, "[page-mixed] GET %s lacks '%s': %s", path, want, body);
}

Test(endpoints, pages_carry_their_query_and_mix_link_forms, .init = start)
{
    const char *port = strrchr(base, ':');
    long want[PAGE_LINKS_MAX];
    char path[64], link[160];

    /* Plain pages: each link carries the page's delay_ms, and only it. */
    char *body = expect("/page/7?delay_ms=0&tag=1", 200);
    int n = page_links(7, PAGES, want);
    for (int i = 0; i < n; i++) {
        snprintf(link, sizeof link, "<a href=\"/page/%ld?delay_ms=0\">", want[i]);
        expect_in(body, link, "/page/7?delay_ms=0&tag=1");
    }
    free(body);
    /* Mixed pages: link i of page ID in form (ID + i) % 5, then the extras. */
    for (long id = 0; id < 6; id++) {
        snprintf(path, sizeof path, "/page/%ld?delay_ms=1&style=mixed", id);
        body = expect(path, 200);
        n = page_links(id, PAGES, want);
        const char *q = "?delay_ms=1&amp;style=mixed";
        for (int i = 0; i < n; i++) {
            switch ((id + i) % 5) {
            case 0: snprintf(link, sizeof link, "<a href=\"/page/%ld%s\">", want[i], q); break;
            case 1: snprintf(link, sizeof link, "<A HREF='%ld%s'>", want[i], q); break;
            case 2: snprintf(link, sizeof link, "<a class=item href=./%ld%s>", want[i], q); break;
            case 3: snprintf(link, sizeof link, "<a href=\"../page/%ld%s#top\">", want[i], q); break;
            default:
                snprintf(link, sizeof link, "<a href=\"http://127.0.0.1%s/page/%ld%s#s%d\">", port,
                         want[i], q, i);
            }
            expect_in(body, link, path);
        }
        snprintf(link, sizeof link, "<a href=\"/page/%ld%s#again\">", want[0], q);
        expect_in(body, link, path);
        snprintf(link, sizeof link, "<a href=\"http://localhost%s/page/%ld%s\">", port, want[0], q);
        expect_in(body, link, path);
        expect_in(body, "<a href=\"mailto:", path);
        expect_in(body, "<a href=\"javascript:", path);
        expect_in(body, "<!-- <li><a href=\"/page/100\">gone</a></li> -->", path);
        free(body);
    }
    body = expect("/page/3?style=mixed", 200);
    snprintf(link, sizeof link, "<a href=\"../page/%ld?style=mixed#top\">", (long)4);
    expect_in(body, link, "/page/3?style=mixed");
    free(body);
    free(expect("/page/3?style=plain", 200));
    free(expect("/page/3?style=fancy", 400));
}

Test(endpoints, unknown_paths_and_methods, .init = start)
{
    static const char post[] = "POST /delay/0 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                               "Connection: close\r\n\r\nhello";
    char *body = expect("/nowhere", 404);
    char *text = NULL;
    size_t len = 0;

    cr_expect(strstr(body, "not found") != NULL, "[404-body] the 404 body is '%s'", body);
    free(body);
    cr_expect_eq(raw_exchange(base, post, sizeof post - 1, 5000), 405,
                 "[405] POST /delay/0 did not get 405 Method Not Allowed");
    cr_expect_eq(raw_response(base, post, sizeof post - 1, 5000, &text, &len), 1,
                 "[raw-close] no close after POST with Connection: close");
    cr_expect(strstr(text, "\r\nAllow: GET, HEAD\r\n") != NULL, "[405-allow] the 405 answer "
              "must say 'Allow: GET, HEAD': '%s'", text);
    free(text);
    cr_expect_eq(kit_stats_endpoint(base, "other"), 1, "[stats-endpoint] other is not 1");
}

Test(endpoints, stats_and_reset_are_not_counted, .init = start)
{
    struct kit_stats st;
    char *body;

    for (int i = 0; i < 3; i++)
        cr_assert_eq(kit_stats_get(base, &st), 0, "[stats-get] /stats failed");
    cr_expect(st.requests == 0 && st.connections == 0 && st.in_flight == 0 && st.peak == 0,
              "[stats-self] after three /stats alone: requests=%ld connections=%ld in_flight=%ld "
              "peak=%ld; expected all 0. /stats must not count itself or its connection.",
              st.requests, st.connections, st.in_flight, st.peak);
    cr_assert_eq(kit_stats_reset(base), 0, "[reset] /reset failed");
    /* Between the two, let the server report the first complete: a client may hold the whole
     * answer a moment before that, and peak would see both. */
    free(expect("/delay/0", 200));
    cr_assert_eq(wait_in_flight(base, 0, 10), 0, "[flight-zero] /delay/0 stayed in flight");
    free(expect("/status/404", 404));
    cr_assert_eq(wait_in_flight(base, 0, 10), 0, "[flight-zero] /status/404 stayed in flight");
    cr_assert_eq(kit_stats_get(base, &st), 0, "[stats-get] /stats failed");
    cr_expect(st.requests == 2 && st.connections == 2 && st.in_flight == 0 && st.peak == 1,
              "[stats-count] after /delay/0 and /status/404: requests=%ld connections=%ld "
              "in_flight=%ld peak=%ld; expected 2, 2, 0, 1",
              st.requests, st.connections, st.in_flight, st.peak);
    body = expect("/stats", 200);
    cr_expect(strstr(body, "\"by_status\":{\"200\":1,\"404\":1}") != NULL,
              "[stats-status] by_status should be exactly {200:1, 404:1}: %s", body);
    cr_expect(strstr(body, "\"delay\":1") != NULL && strstr(body, "\"reset\"") == NULL,
              "[stats-endpoint] by_endpoint should count delay once and never reset: %s", body);
    free(body);
}

Test(endpoints, reset_sets_peak_to_in_flight, .init = start)
{
    static const char hang[] = "GET /hang HTTP/1.1\r\nHost: t\r\n\r\n";
    struct kit_stats st;
    int fd = raw_connect(base);

    cr_assert(fd >= 0, "[connect] cannot connect to %s", base);
    cr_assert_eq(send(fd, hang, sizeof hang - 1, 0), (ssize_t)(sizeof hang - 1));
    cr_assert_eq(wait_in_flight(base, 1, 10), 1, "[hang-flight] /hang is not in flight");
    free(expect("/delay/0", 200));
    cr_assert_eq(wait_in_flight(base, 1, 10), 1, "[flight-one] /delay/0 stayed in flight");
    cr_assert_eq(kit_stats_reset(base), 0, "[reset] /reset failed");
    cr_assert_eq(kit_stats_get(base, &st), 0, "[stats-get] /stats failed");
    cr_expect(st.peak == 1 && st.in_flight == 1 && st.requests == 0,
              "[reset-peak] after /reset with one /hang waiting: peak=%ld in_flight=%ld "
              "requests=%ld; expected 1, 1, 0. /reset sets peak to what is in flight now.",
              st.peak, st.in_flight, st.requests);
    close(fd);
    cr_expect_eq(wait_in_flight(base, 0, 10), 0,
                 "[vanish-hang] the /hang client left but in_flight did not return to 0");
}

Test(endpoints, keep_alive_reuses_one_connection, .init = start)
{
    char url[URL_MAX];
    CURL *h = curl_easy_init();
    struct kit_stats st;

    snprintf(url, sizeof url, "%s/bytes/0", base);
    curl_easy_setopt(h, CURLOPT_URL, url);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(curl_easy_perform(h), CURLE_OK, "[keepalive-get] GET %s failed", url);
    curl_easy_cleanup(h);
    cr_assert_eq(kit_stats_get(base, &st), 0, "[stats-get] /stats failed");
    cr_expect(st.requests == 5 && st.connections == 1,
              "[keepalive] 5 GETs on one curl handle made %ld requests over %ld connections; "
              "expected 5 over 1. Answering before the final handler call drops keep-alive.",
              st.requests, st.connections);
}
