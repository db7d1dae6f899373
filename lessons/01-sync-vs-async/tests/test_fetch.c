/* Lesson 01 tests. The evidence: what the server saw (requests in flight at once, how many),
 * every field of every result, libcurl calls counted as they happen (handles made, added,
 * removed and cleaned up, and in which order; how often the transfers were driven; fixed
 * sleeps), and CPU time. The clock only bounds things with wide margins. */
#include "fetch.h"
#include "kit_test.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PLAN_MAX 128     /* URLs one test may ask for */
#define SPIN_CALLS 1000  /* drives of the multi handle in one long wait that mean "never slept" */
#define IDLE_EXTRA 10    /* more drives than that during a 1.5 s silence mean a periodic wake-up */
#define IDLE_MS 1500     /* the long wait: longer than a 1 s poll timeout */

/* ---- counting libcurl calls and fixed sleeps (the binary is linked with --wrap) --------- */

KIT_COUNT_CALLS(CURLMcode, curl_multi_socket_action, (CURLM *m, curl_socket_t s, int ev,
                int *running), (m, s, ev, running))
KIT_COUNT_CALLS(CURLMcode, curl_multi_poll, (CURLM *m, struct curl_waitfd *fds, unsigned n,
                int ms, int *ret), (m, fds, n, ms, ret))
KIT_COUNT_CALLS(CURLMcode, curl_multi_wait, (CURLM *m, struct curl_waitfd *fds, unsigned n,
                int ms, int *ret), (m, fds, n, ms, ret))
KIT_COUNT_CALLS(unsigned, sleep, (unsigned s), (s))
KIT_COUNT_CALLS(int, usleep, (useconds_t us), (us))
KIT_COUNT_CALLS(int, nanosleep, (const struct timespec *t, struct timespec *left), (t, left))
KIT_COUNT_CALLS(int, clock_nanosleep, (clockid_t c, int f, const struct timespec *t,
                struct timespec *left), (c, f, t, left))

/* Handles are followed one by one while a fetch runs, so that the order of the clean-up can be
 * checked: remove from the multi handle, then clean up the easy handle, then the multi one. A
 * call on a handle already cleaned up is counted and not passed on to libcurl (it would be a
 * use after free there, which the sanitizer cannot see in libcurl's own code). */
enum { H_FREE, H_LIVE, H_DEAD };
struct handle {
    const void *ptr;
    int state;
    const void *multi; /* the multi handle it is in, or NULL */
};
static struct handle handles[2 * PLAN_MAX + 8];
static size_t n_handles;
static int tracking;
static struct {
    long easy_made, easy_freed, multi_made, multi_freed, added, removed;
    long freed_in_multi;     /* curl_easy_cleanup on a handle still in a multi handle */
    long multi_freed_first;  /* easy handles still in a multi handle when it was cleaned up */
    long after_free;         /* curl_multi_remove_handle on a handle already cleaned up */
} ct;

static struct handle *find(const void *p)
{
    for (size_t i = 0; i < n_handles; i++) {
        if (handles[i].ptr == p && handles[i].state != H_FREE)
            return &handles[i];
    }
    return NULL;
}

static void follow(const void *p)
{
    struct handle *h = find(p);

    if (h == NULL && n_handles < sizeof handles / sizeof *handles)
        h = &handles[n_handles++];
    if (h != NULL)
        *h = (struct handle){ p, H_LIVE, NULL };
}

/* Failures made on purpose (out of memory, a multi handle that breaks): the n-th call, counted
 * from the start of the fetch, fails instead of reaching libcurl. 0 means never. */
static struct {
    long easy_init, multi_init, perform; /* which call fails */
    long easy_calls, multi_calls, perform_calls;
    long null_drives; /* curl_multi_perform() calls on a NULL multi handle */
} inject;

CURLMcode __real_curl_multi_perform(CURLM *m, int *running);
CURLMcode __wrap_curl_multi_perform(CURLM *m, int *running);
long kit_calls_curl_multi_perform;
CURLMcode __wrap_curl_multi_perform(CURLM *m, int *running)
{
    kit_calls_curl_multi_perform++;
    if (tracking && ++inject.perform_calls == inject.perform)
        return CURLM_OUT_OF_MEMORY;
    /* A loop that goes on without a multi handle never ends: say so now, not at the timeout. */
    if (tracking && m == NULL && ++inject.null_drives >= 100)
        cr_assert_fail("[null-multi] fetch_concurrent called curl_multi_perform(NULL, ...) %ld "
                       "times: it went on after curl_multi_init() returned NULL (out of memory), "
                       "and without a multi handle no transfer ever ends. Check what "
                       "curl_multi_init() returns; clean up and return -ENOMEM.",
                       inject.null_drives);
    return __real_curl_multi_perform(m, running);
}

CURL *__real_curl_easy_init(void);
CURL *__wrap_curl_easy_init(void);
CURL *__wrap_curl_easy_init(void)
{
    CURL *e;

    if (tracking && ++inject.easy_calls == inject.easy_init)
        return NULL;
    e = __real_curl_easy_init();

    if (tracking && e != NULL) {
        ct.easy_made++;
        follow(e);
    }
    return e;
}

void __real_curl_easy_cleanup(CURL *e);
void __wrap_curl_easy_cleanup(CURL *e);
void __wrap_curl_easy_cleanup(CURL *e)
{
    struct handle *h = tracking ? find(e) : NULL;

    if (tracking && e != NULL)
        ct.easy_freed++;
    if (h != NULL) {
        ct.freed_in_multi += h->multi != NULL;
        h->state = H_DEAD;
        h->multi = NULL;
    }
    __real_curl_easy_cleanup(e);
}

CURLM *__real_curl_multi_init(void);
CURLM *__wrap_curl_multi_init(void);
CURLM *__wrap_curl_multi_init(void)
{
    CURLM *m;

    if (tracking && ++inject.multi_calls == inject.multi_init)
        return NULL;
    m = __real_curl_multi_init();

    if (tracking && m != NULL) {
        ct.multi_made++;
        follow(m);
    }
    return m;
}

CURLMcode __real_curl_multi_cleanup(CURLM *m);
CURLMcode __wrap_curl_multi_cleanup(CURLM *m);
CURLMcode __wrap_curl_multi_cleanup(CURLM *m)
{
    struct handle *h = tracking ? find(m) : NULL;

    if (tracking && m != NULL)
        ct.multi_freed++;
    if (h != NULL) {
        for (size_t i = 0; i < n_handles; i++) {
            if (handles[i].multi == m) {
                ct.multi_freed_first++;
                handles[i].multi = NULL;
            }
        }
        h->state = H_DEAD;
    }
    return __real_curl_multi_cleanup(m);
}

CURLMcode __real_curl_multi_add_handle(CURLM *m, CURL *e);
CURLMcode __wrap_curl_multi_add_handle(CURLM *m, CURL *e);
CURLMcode __wrap_curl_multi_add_handle(CURLM *m, CURL *e)
{
    struct handle *h = tracking ? find(e) : NULL;

    if (tracking)
        ct.added++;
    if (h != NULL)
        h->multi = m;
    return __real_curl_multi_add_handle(m, e);
}

CURLMcode __real_curl_multi_remove_handle(CURLM *m, CURL *e);
CURLMcode __wrap_curl_multi_remove_handle(CURLM *m, CURL *e);
CURLMcode __wrap_curl_multi_remove_handle(CURLM *m, CURL *e)
{
    struct handle *hm = tracking ? find(m) : NULL, *he = tracking ? find(e) : NULL;

    if (tracking)
        ct.removed++;
    if ((hm != NULL && hm->state == H_DEAD) || (he != NULL && he->state == H_DEAD)) {
        ct.after_free++;
        return CURLM_BAD_HANDLE;
    }
    if (he != NULL)
        he->multi = NULL;
    return __real_curl_multi_remove_handle(m, e);
}

static long drives(void)
{
    return kit_calls_curl_multi_perform + kit_calls_curl_multi_socket_action;
}

static long sleeps(void)
{
    return kit_calls_sleep + kit_calls_usleep + kit_calls_nanosleep + kit_calls_clock_nanosleep;
}

/* ---- a server that cuts its answer short ------------------------------------------------ */

/* A child process that answers every request with a 200 promising 1000 bytes, sends 7
 * ("partial"), and closes the connection: libcurl gets part of a body, then fails the transfer
 * (CURLE_PARTIAL_FILE). delayd never misbehaves like this, so the test brings its own. */
static pid_t cutter_pid;
static char cutter_url[64];

static void cutter_serve(int ls)
{
    static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n"
                                 "Content-Type: text/plain\r\n\r\npartial";

    for (;;) {
        int c = accept(ls, NULL, NULL);
        char buf[2048];
        size_t got = 0;
        ssize_t k;

        if (c < 0)
            continue;
        while (got < sizeof buf - 1 && (k = read(c, buf + got, sizeof buf - 1 - got)) > 0) {
            got += (size_t)k;
            buf[got] = '\0';
            if (strstr(buf, "\r\n\r\n") != NULL)
                break;
        }
        if (write(c, answer, sizeof answer - 1) < 0) {
            /* the client went away: nothing to do */
        }
        close(c);
    }
}

static void cutter_stop(void *unused)
{
    (void)unused;
    if (cutter_pid > 0) {
        kill(cutter_pid, SIGKILL);
        waitpid(cutter_pid, NULL, 0);
    }
    cutter_pid = 0;
}

static const char *cutter_start(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    cr_assert(ls >= 0 && bind(ls, (struct sockaddr *)&a, sizeof a) == 0 && listen(ls, 64) == 0
              && getsockname(ls, (struct sockaddr *)&a, &len) == 0,
              "[server] the test could not open its own small server: %s", strerror(errno));
    snprintf(cutter_url, sizeof cutter_url, "http://127.0.0.1:%d", ntohs(a.sin_port));
    cutter_pid = fork();
    cr_assert(cutter_pid >= 0, "[server] the test could not fork its own small server");
    if (cutter_pid == 0) {
        cutter_serve(ls);
        _exit(0);
    }
    close(ls);
    kit_defer(cutter_stop, NULL);
    return cutter_url;
}

/* ---- a plan: the URLs of one call, and what each must bring back ------------------------ */

enum kind { OK, REFUSED, CUT };

struct plan {
    size_t n;
    const char *url[PLAN_MAX];
    const char *body[PLAN_MAX]; /* the exact body expected, or NULL for a failed transfer */
    long status[PLAN_MAX];
    enum kind kind[PLAN_MAX];
    int signals; /* 1: a signal arrives every 20 ms while the call runs */
    int failing; /* 1: a failure is injected, so an error code may be the right answer */
};

struct run {
    const char *name;
    size_t n;
    const char **urls;            /* exactly n pointers, each to a string of its exact size */
    struct fetch_result *results; /* exactly n results */
    int rc;
    double wall, cpu;
    double busy;                  /* of wall, time the machine kept the test and server from a CPU */
    struct kit_stats stats;
    long drives, polls, sleeps;
    int fds_before, fds_after;
    long signals; /* how many arrived during the call */
};

/* ---- signals during the wait ----------------------------------------------------------- */

static volatile sig_atomic_t n_signals;

static void on_alarm(int sig)
{
    (void)sig;
    n_signals++;
}

/* SIGALRM every 20 ms, without SA_RESTART: a waiting call returns -1 with errno EINTR. */
static void signals_start(struct sigaction *old)
{
    struct sigaction sa = { .sa_handler = on_alarm };
    struct itimerval every = { { 0, 20000 }, { 0, 20000 } };

    sigemptyset(&sa.sa_mask);
    n_signals = 0;
    sigaction(SIGALRM, &sa, old);
    setitimer(ITIMER_REAL, &every, NULL);
}

static void signals_stop(const struct sigaction *old)
{
    struct itimerval off = { { 0, 0 }, { 0, 0 } };

    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, old, NULL);
}

static const char *base;

static void setup(void)
{
    base = kit_server_start(NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void teardown(void)
{
    tracking = 0;
    memset(&inject, 0, sizeof inject);
    kit_cleanup();
    curl_global_cleanup();
    kit_server_stop();
}

static struct plan *new_plan(void)
{
    return kit_alloc(sizeof(struct plan));
}

static void add(struct plan *p, const char *url, long status, const char *body, enum kind kind)
{
    cr_assert_lt(p->n, (size_t)PLAN_MAX, "[test] a plan holds at most %d URLs", PLAN_MAX);
    p->url[p->n] = url;
    p->status[p->n] = status;
    p->body[p->n] = body;
    p->kind[p->n] = kind;
    p->n++;
}

/* /delay/MS?tag=TAG: delayd echoes the path and the query, so each tag has its own body. */
static void add_delay(struct plan *p, int ms, int tag)
{
    add(p, kit_sprintf("%s/delay/%d?tag=%d", base, ms, tag), 200,
        kit_sprintf("{\"delay_ms\":%d,\"path\":\"/delay/%d\",\"query\":\"tag=%d\"}", ms, ms, tag),
        OK);
}

static void add_status(struct plan *p, int code)
{
    add(p, kit_sprintf("%s/status/%d", base, code), code, kit_sprintf("status %d\n", code), OK);
}

static void add_refused(struct plan *p)
{
    add(p, "http://127.0.0.1:1/refused", 0, NULL, REFUSED); /* nothing listens on port 1 */
}

static void add_cut(struct plan *p, const char *cutter)
{
    add(p, kit_sprintf("%s/cut", cutter), 0, NULL, CUT);
}

static void free_bodies(void *arg)
{
    struct run *r = arg;

    fetch_results_free(r->results, r->n);
}

/* Run fetch_sequential or fetch_concurrent over the plan's URLs, recording the evidence. */
static struct run *run_fetch(const struct plan *p, int concurrent)
{
    struct run *r = kit_alloc(sizeof *r);
    struct sigaction old;

    r->name = concurrent ? "fetch_concurrent" : "fetch_sequential";
    r->n = p->n;
    r->urls = kit_alloc_array(p->n, sizeof *r->urls);
    for (size_t i = 0; i < p->n; i++)
        r->urls[i] = kit_sprintf("%s", p->url[i]);
    r->results = kit_alloc_array(p->n, sizeof *r->results);
    kit_defer(free_bodies, r);
    cr_assert_eq(kit_stats_reset(base), 0, "[server] the test server did not answer /reset");

    memset(&ct, 0, sizeof ct);
    inject.easy_calls = inject.multi_calls = inject.perform_calls = inject.null_drives = 0;
    n_handles = 0;
    kit_calls_curl_multi_perform = kit_calls_curl_multi_socket_action = 0;
    kit_calls_curl_multi_poll = kit_calls_curl_multi_wait = 0;
    kit_calls_sleep = kit_calls_usleep = kit_calls_nanosleep = kit_calls_clock_nanosleep = 0;
    r->fds_before = kit_open_fds();
    if (p->signals)
        signals_start(&old);
    tracking = 1;
    r->wall = kit_wall();
    r->cpu = kit_cpu();
    r->busy = kit_starved_s();
    r->rc = concurrent ? fetch_concurrent(r->urls, r->n, r->results)
                       : fetch_sequential(r->urls, r->n, r->results);
    r->wall = kit_wall() - r->wall;
    r->cpu = kit_cpu() - r->cpu;
    r->busy = kit_starved_s() - r->busy;
    tracking = 0;
    if (p->signals) {
        signals_stop(&old);
        r->signals = n_signals;
    }
    r->fds_after = kit_open_fds();
    r->drives = drives();
    r->polls = kit_calls_curl_multi_poll + kit_calls_curl_multi_wait;
    r->sleeps = sleeps();

    kit_expect_done(r->rc, r->name, "fetch.c");
    if (p->failing)
        return r;
    cr_assert(r->rc == 0 || r->signals == 0, "[eintr] %s returned %s while a signal arrived "
              "every 20 ms (%ld %s during the call). A wait that a signal interrupts (EINTR) "
              "is not an error: wait again.", r->name, kit_errname(r->rc), r->signals,
              kit_plural(r->signals, "signal", "signals"));
    cr_assert_eq(r->rc, 0, "[return-code] %s returned %s; it should return 0 when the fetch "
                 "ran, even if some requests failed.", r->name, kit_errname(r->rc));
    cr_assert_eq(kit_stats_get(base, &r->stats), 0, "[server] the test server did not answer "
                 "/stats");
    return r;
}

/* The first j < i with the same URL as i, or i when there is none. */
static size_t first_same(const struct plan *p, size_t i)
{
    for (size_t j = 0; j < i; j++) {
        if (strcmp(p->url[j], p->url[i]) == 0)
            return j;
    }
    return i;
}

/* Every field of every result: status, body and length, for answers and failures alike. */
static void expect_results(const struct plan *p, const struct run *r)
{
    size_t lost = 0, lost_repeats = 0, repeats = 0, first_lost = 0;
    int any_failure = 0;

    for (size_t i = 0; i < p->n; i++) {
        any_failure |= p->kind[i] != OK;
        repeats += p->kind[i] == OK && first_same(p, i) != i;
    }
    /* An answer in another request's place: the results follow the order transfers finish. */
    for (size_t i = 0; i < p->n; i++) {
        const char *got = r->results[i].body;

        if (got == NULL || (p->body[i] != NULL && strcmp(got, p->body[i]) == 0))
            continue;
        for (size_t j = 0; j < p->n; j++) {
            cr_assert(p->body[j] == NULL || strcmp(got, p->body[j]) != 0,
                      "[completion-order] %s: results[%zu] holds the answer to urls[%zu] (%s), "
                      "not to urls[%zu] (%s). results[i] must be urls[i]'s answer whatever "
                      "order they finish in, as asyncio.gather keeps its arguments' order: "
                      "write each body straight into results[i].", r->name, i, j, p->url[j], i,
                      p->url[i]);
        }
    }
    /* Answers never fetched in a call where something failed: the failure stopped the rest.
     * Checked on the successful answers first, so an HTTP error left empty is not mistaken for
     * this (and this not for [http-error], whichever transfer happened to finish first). */
    for (size_t i = 0; any_failure && i < p->n; i++) {
        cr_assert(p->kind[i] != OK || p->status[i] >= 400 || r->results[i].status != 0 ||
                  r->results[i].body != NULL,
                  "[error-isolation] %s: results[%zu] (%s) is empty (status 0, no body), "
                  "though the server answered it: the fetch stopped before that transfer "
                  "finished. One failed transfer must not stop the others; keep going until "
                  "no transfer is running.", r->name, i, p->url[i]);
    }
    /* An HTTP error is an answer: its status and body come back like any other. */
    for (size_t i = 0; i < p->n; i++) {
        cr_assert(p->kind[i] != OK || p->status[i] < 400 || r->results[i].status != 0 ||
                  r->results[i].body != NULL, "[http-error] %s: results[%zu] (%s) is empty "
                  "(status 0, no body), but the server answered %ld with a body: an HTTP "
                  "error is an answer, not a failed transfer. Record its status and body like "
                  "any other (CURLOPT_FAILONERROR would turn it into a failure).", r->name, i,
                  p->url[i], p->status[i]);
    }
    /* Answers whose body arrived but whose status was never recorded. */
    for (size_t i = 0; i < p->n; i++) {
        if (p->kind[i] == OK && r->results[i].status == 0 && r->results[i].body != NULL &&
            strcmp(r->results[i].body, p->body[i]) == 0) {
            if (lost++ == 0)
                first_lost = i;
            lost_repeats += first_same(p, i) != i;
        }
    }
    /* Matching by URL loses exactly the repeats: every later copy of a URL, nothing else. */
    cr_assert(lost == 0 || lost_repeats < lost || lost < repeats, "[repeated-url] %s: %zu %s "
              "the same URL as an earlier one got %s body but status 0 (results[%zu], the "
              "same URL as results[%zu]): the status went to the first result with that URL. "
              "Find a finished transfer's result from its handle (CURLOPT_PRIVATE), not by its "
              "URL: the same URL may be asked for twice.", r->name, lost,
              kit_plural((long)lost, "result for", "results for"),
              kit_plural((long)lost, "its", "their"), first_lost, first_same(p, first_lost));
    cr_assert(lost == 0, "[unread-done] %s: %zu of %zu %s came back with the body but status "
              "0 (results[%zu], %s): %s, but %s never read. Read every message "
              "curl_multi_info_read() holds, after every curl_multi_perform(), the last one "
              "included: several transfers can finish in one turn.", r->name, lost, p->n,
              kit_plural((long)p->n, "result", "results"), first_lost, p->url[first_lost],
              kit_plural((long)lost, "that transfer finished", "those transfers finished"),
              kit_plural((long)lost, "its CURLMSG_DONE was", "their CURLMSG_DONE messages were"));

    for (size_t i = 0; i < p->n; i++) {
        const struct fetch_result *res = &r->results[i];

        if (p->kind[i] != OK) {
            const char *why = p->kind[i] == REFUSED
                                  ? "nobody listens there, so the connection is refused"
                                  : "the server promised 1000 bytes, sent 7 and hung up";

            cr_assert_eq(res->status, 0, "[failed-status] %s: results[%zu] (%s; %s) has status "
                         "%ld; a transfer that failed must leave status 0. Check the CURLcode "
                         "the transfer ended with before reading CURLINFO_RESPONSE_CODE.",
                         r->name, i, p->url[i], why, res->status);
            cr_assert(res->body == NULL && res->len == 0, "[failed-body] %s: results[%zu] (%s; "
                      "%s) failed but kept a body (%zu %s: \"%.40s\"); a failed transfer leaves "
                      "body NULL and len 0: free what arrived (fetch_results_free(&results[i], "
                      "1) does it).", r->name, i, p->url[i], why, res->len,
                      kit_plural((long)res->len, "byte", "bytes"),
                      res->body != NULL ? res->body : "");
            continue;
        }
        if (res->status == 0 && res->body == NULL) {
            cr_assert(r->signals == 0, "[eintr] %s: results[%zu] (%s) is empty (status 0, no "
                      "body): the call gave up on it while a signal arrived every 20 ms (%ld "
                      "%s during the call). A wait that a signal interrupts (EINTR) is not an "
                      "error and not the end: wait again.", r->name, i, p->url[i], r->signals,
                      kit_plural(r->signals, "signal", "signals"));
            cr_assert_fail("[unfinished] %s: results[%zu] (%s) is empty (status 0, no body), "
                           "though the server would have answered it: %s returned before "
                           "that transfer finished. Keep going until no transfer is running.",
                           r->name, i, p->url[i], r->name);
        }
        cr_assert_eq(res->status, p->status[i], "[status] %s: results[%zu].status is %ld, "
                     "expected %ld for %s. Read it with curl_easy_getinfo(..., "
                     "CURLINFO_RESPONSE_CODE, ...) once the transfer is done.", r->name, i,
                     res->status, p->status[i], p->url[i]);
        cr_assert_not_null(res->body, "[body] %s: results[%zu].body is NULL for %s; pass "
                           "&results[i] as CURLOPT_WRITEDATA, with fetch_collect_body as "
                           "CURLOPT_WRITEFUNCTION.", r->name, i, p->url[i]);
        if (strcmp(res->body, p->body[i]) != 0) {
            cr_assert_fail("[body] %s: results[%zu].body is \"%.120s\", expected \"%s\" (the "
                           "answer to %s). Each request's body goes into its own result, and "
                           "nothing else.", r->name, i, res->body, p->body[i], p->url[i]);
        }
        cr_assert_eq(res->len, strlen(p->body[i]), "[body] %s: results[%zu].len is %zu but the "
                     "body is %zu bytes long.", r->name, i, res->len, strlen(p->body[i]));
    }
}

/* Every handle the function made, it cleaned up, in the right order; every descriptor it
 * opened, it closed. */
static void expect_tidy(const struct run *r)
{
    cr_assert_eq(ct.added, ct.removed, "[handle-leak] %s added %ld easy %s to the multi handle "
                 "but removed %ld. Call curl_multi_remove_handle() for each one before "
                 "curl_easy_cleanup().", r->name, ct.added,
                 kit_plural(ct.added, "handle", "handles"), ct.removed);
    cr_assert_eq(ct.easy_made, ct.easy_freed, "[handle-leak] %s made %ld easy %s but cleaned "
                 "up %ld. Each curl_easy_init() needs its curl_easy_cleanup(), or every call "
                 "leaks memory and a connection.", r->name, ct.easy_made,
                 kit_plural(ct.easy_made, "handle", "handles"), ct.easy_freed);
    cr_assert_eq(ct.multi_made, ct.multi_freed, "[handle-leak] %s made %ld multi %s but "
                 "cleaned up %ld. Each curl_multi_init() needs its curl_multi_cleanup().",
                 r->name, ct.multi_made, kit_plural(ct.multi_made, "handle", "handles"),
                 ct.multi_freed);
    cr_assert(ct.freed_in_multi == 0 && ct.multi_freed_first == 0 && ct.after_free == 0,
              "[cleanup-order] %s cleaned up in the wrong order: %ld easy %s cleaned up while "
              "still in the multi handle, %ld still in it when the multi handle was cleaned up, "
              "%ld curl_multi_remove_handle() %s on a handle already cleaned up. Tear down in "
              "reverse: curl_multi_remove_handle(), then curl_easy_cleanup() for each easy "
              "handle, then curl_multi_cleanup().", r->name, ct.freed_in_multi,
              kit_plural(ct.freed_in_multi, "handle", "handles"), ct.multi_freed_first,
              ct.after_free, kit_plural(ct.after_free, "call", "calls"));
    cr_assert_eq(r->fds_after, r->fds_before, "[fd-leak] %s left %d %s open (before: %d, "
                 "after: %d). Connections live as long as their handles: clean them all up.",
                 r->name, r->fds_after - r->fds_before,
                 kit_plural(r->fds_after - r->fds_before, "descriptor", "descriptors"),
                 r->fds_before, r->fds_after);
    cr_assert_eq(r->sleeps, 0, "[fixed-sleep] %s called sleep(), usleep() or nanosleep() %ld "
                 "%s. A fixed sleep waits whether or not the network has something for you, and "
                 "goes on waiting when it has: let curl_multi_poll() sleep until a socket or "
                 "libcurl's timer needs attention.", r->name, r->sleeps,
                 kit_plural(r->sleeps, "time", "times"));
}

/* What the server saw: one request per URL it serves, and how many at once. */
static void expect_requests(const struct plan *p, const struct run *r)
{
    long want = 0;

    for (size_t i = 0; i < p->n; i++)
        want += strncmp(p->url[i], base, strlen(base)) == 0;
    cr_assert_eq(r->stats.requests, want, "[request-count] the server saw %ld %s; %s should "
                 "send exactly 1 per URL (%ld).", r->stats.requests,
                 kit_plural(r->stats.requests, "request", "requests"), r->name, want);
}

/* want: the requests that must have been in flight together; shortest_s: the shortest of
 * their delays, which a stall of the machine must reach to make the peak fall short. */
static void expect_peak(const struct run *r, long want, double shortest_s)
{
    if (want == 1) {
        cr_assert_eq(r->stats.peak, 1, "[overlap] the server saw %ld requests in flight at "
                     "once; a sequential fetch has exactly 1. Use curl_easy_perform(), which "
                     "returns only when its transfer is done.", r->stats.peak);
        return;
    }
    kit_expect_not_starved(r->busy, want, r->stats.peak, shortest_s, "the server's peak in flight");
    cr_assert_neq(r->stats.peak, 1, "[peak-1] the server saw 1 request in flight at a time; "
                  "%s should have all %ld in flight at once. Did you wait for each transfer to "
                  "finish before adding the next handle?", r->name, want);
    cr_assert_eq(r->stats.peak, want, "[peak-low] the server saw at most %ld of %ld requests "
                 "in flight at once; %s must have every one in flight together, however many "
                 "there are: add every easy handle to the multi handle before waiting.",
                 r->stats.peak, want, r->name);
}

/* One whole check of a call: results, handles, the server's counts, then no leaks. */
static void expect_all(const struct plan *p, const struct run *r)
{
    expect_results(p, r);
    expect_tidy(r);
    expect_requests(p, r);
}

TestSuite(sequential, .init = setup, .fini = teardown, .timeout = 40);
TestSuite(concurrent, .init = setup, .fini = teardown, .timeout = 40);

/* ---- fetch_sequential ------------------------------------------------------------------ */

Test(sequential, one_request_at_a_time_in_request_order)
{
    struct plan *p = new_plan();
    struct run *r;

    /* 7 URLs, 3 tags, each URL asked for more than once, the slowest first. */
    for (int i = 0; i < 7; i++)
        add_delay(p, 40 - 5 * (i % 3) * 4, i % 3);
    r = run_fetch(p, 0);
    expect_all(p, r);
    expect_peak(r, 1, 0);
    kit_expect_no_leaks(r->name);
}

Test(sequential, failed_requests_do_not_stop_the_rest)
{
    const char *cutter = cutter_start();
    struct plan *p = new_plan();
    struct run *r;

    add_delay(p, 10, 0);
    add_refused(p);
    add_cut(p, cutter);
    add_status(p, 404);
    add_refused(p);
    add_cut(p, cutter);
    add_delay(p, 10, 0);
    r = run_fetch(p, 0);
    expect_all(p, r);
    expect_peak(r, 1, 0);
    kit_expect_no_leaks(r->name);
}

Test(sequential, cleans_up_every_handle)
{
    struct plan *p = new_plan();
    struct run *r;

    for (int i = 0; i < 13; i++)
        add_delay(p, 0, i / 4);
    r = run_fetch(p, 0);
    expect_tidy(r);
    expect_results(p, r);
    expect_requests(p, r);
    kit_expect_no_leaks(r->name);
}

/* ---- fetch_concurrent ------------------------------------------------------------------ */

Test(concurrent, all_requests_in_flight_at_once)
{
    struct plan *p = new_plan();
    struct run *r;

    /* 100 requests of 150 ms (more than the bench's largest N), in runs of 15 equal URLs. They
     * all finish together, so several are done in one turn of the loop. */
    for (int i = 0; i < 100; i++)
        add_delay(p, 150, i / 15);
    r = run_fetch(p, 1);
    expect_peak(r, 100, 0.150);
    expect_all(p, r);
    kit_expect_no_leaks(r->name);
}

Test(concurrent, results_come_back_in_request_order)
{
    struct plan *p = new_plan();
    struct run *r;

    /* The first requests finish last; equal URLs and equal delays come in pairs; a signal
     * arrives every 20 ms. */
    static const int ms[] = { 360, 360, 240, 240, 120, 120, 0, 0, 360, 240, 120 };
    static const int tag[] = { 0, 0, 1, 2, 1, 1, 2, 0, 1, 1, 2 };

    for (size_t i = 0; i < sizeof ms / sizeof *ms; i++)
        add_delay(p, ms[i], tag[i]);
    p->signals = 1; /* and signals interrupt the waits */
    r = run_fetch(p, 1);
    cr_assert_gt(r->signals, 0, "[test] no signal arrived during the call (it took %.3f s)",
                 r->wall);
    expect_all(p, r);
    kit_expect_no_leaks(r->name);
}

Test(concurrent, sleeps_while_waiting)
{
    struct plan *quick = new_plan(), *slow = new_plan();
    struct run *a, *b;
    long extra;

    /* Three requests twice: answered at once, then held by the server, two of them for 0.75 s
     * and the last for 1.5 s, alone for its second half. The second call has the same work to
     * do and 1.5 s of silence more; a loop that sleeps until libcurl has something to do wakes
     * about as often in both, whether three transfers wait or one. */
    for (int i = 0; i < 3; i++) {
        add_delay(quick, 0, i);
        add_delay(slow, i < 2 ? IDLE_MS / 2 : IDLE_MS, i);
    }
    a = run_fetch(quick, 1);
    expect_all(quick, a);
    b = run_fetch(slow, 1);
    expect_all(slow, b);
    extra = b->drives - a->drives;
    cr_assert(b->drives > 0 || b->polls > 0 || b->cpu > 0.05, "[not-driven] fetch_concurrent "
              "returned the answers without calling curl_multi_perform, curl_multi_socket_action "
              "or a waiting call: this test cannot see how it waited. Drive the multi handle "
              "with curl_multi_perform() and wait in curl_multi_poll().");
    cr_assert(extra < SPIN_CALLS, "[busy-loop] fetch_concurrent drove the transfers %ld times "
              "while the server held them for up to %.1f s (%ld times when it answered at "
              "once) and used %.2f s of CPU in %.2f s (curl_multi_poll or curl_multi_wait was "
              "called %ld %s): it spins instead of sleeping. Call curl_multi_poll() between "
              "calls to curl_multi_perform() while any transfer is running, even one.",
              b->drives, IDLE_MS / 1000.0, a->drives, b->cpu, b->wall, b->polls,
              kit_plural(b->polls, "time", "times"));
    cr_assert(extra <= IDLE_EXTRA, "[idle-wakeups] fetch_concurrent drove the transfers %ld "
              "times while the server held them for up to %.1f s, %ld more than when it "
              "answered at once: it wakes up on its own about every %.0f ms while nothing "
              "happens. Let curl_multi_poll() sleep until libcurl has work, with a timeout of a "
              "second or more.", b->drives, IDLE_MS / 1000.0, extra,
              extra > 0 ? IDLE_MS / (double)extra : 0.0);
    kit_expect_no_leaks(b->name);
}

Test(concurrent, failed_requests_do_not_stop_the_rest)
{
    const char *cutter = cutter_start();
    struct plan *p = new_plan();
    struct run *r;

    /* The failures come first and fast; the answers take 200 ms. Two of each kind. */
    add_delay(p, 200, 0);
    add_refused(p);
    add_cut(p, cutter);
    add_status(p, 404);
    add_refused(p);
    add_cut(p, cutter);
    add_delay(p, 200, 0);
    add_delay(p, 200, 1);
    r = run_fetch(p, 1);
    expect_all(p, r);
    kit_expect_no_leaks(r->name);
}

Test(concurrent, cleans_up_every_handle)
{
    struct plan *p = new_plan();
    struct run *r;

    for (int i = 0; i < 13; i++)
        add_delay(p, 20, i / 4);
    r = run_fetch(p, 1);
    expect_tidy(r);
    expect_results(p, r);
    expect_requests(p, r);
    kit_expect_no_leaks(r->name);
}

Test(concurrent, returns_when_the_last_answer_arrives)
{
    struct plan *p = new_plan();
    struct run *r;
    const double theory = 0.1;

    /* 9 requests of 100 ms together take 100 ms and a few ms. The bound leaves 350 ms for a
     * slow, shared machine; a fixed wait of half a second does not fit in it. */
    for (int i = 0; i < 9; i++)
        add_delay(p, (int)(theory * 1000), i / 3);
    r = run_fetch(p, 1);
    expect_all(p, r);
    cr_assert(r->wall >= theory, "[test] fetch_concurrent took %.3f s, less than the %.3f s the "
              "server holds each request: the server's delay did not work.", r->wall, theory);
    cr_assert(r->wall - r->busy <= theory + 0.35, "[too-slow] fetch_concurrent took %.2f s (less "
              "the time the busy machine kept it from a CPU) for 9 requests that the server "
              "answers after %.2f s, all at once: it waits longer than the network makes it. "
              "Do not wait a fixed time; wait in curl_multi_poll(), which returns as soon as a "
              "socket or libcurl's timer needs attention.", r->wall - r->busy, theory);
    expect_peak(r, 9, theory);
    kit_expect_no_leaks(r->name);
}

/* ---- when libcurl cannot help: failures made on purpose --------------------------------- */

/* The server's count of requests since the fetch began. */
static long server_requests(void)
{
    struct kit_stats st;

    cr_assert_eq(kit_stats_get(base, &st), 0, "[server] the test server did not answer /stats");
    return st.requests;
}

Test(sequential, out_of_memory_is_an_error)
{
    struct plan *p = new_plan();
    struct run *r;

    for (int i = 0; i < 5; i++)
        add_delay(p, 0, i % 2);
    p->failing = 1;
    inject.easy_init = 1; /* the first curl_easy_init() finds no memory */
    r = run_fetch(p, 0);
    cr_assert_eq(r->rc, -ENOMEM, "[out-of-memory] fetch_sequential returned %s when "
                 "curl_easy_init() returned NULL (out of memory); it should return -ENOMEM: "
                 "without a handle nothing can be fetched, and the caller must be told.",
                 kit_errname(r->rc));
    expect_tidy(r);
    cr_assert_eq(server_requests(), 0, "[out-of-memory] the server saw %ld requests although "
                 "fetch_sequential had no handle to send them with.", server_requests());
    kit_expect_no_leaks(r->name);
}

Test(concurrent, no_multi_handle_is_an_error)
{
    struct plan *p = new_plan();
    struct run *r;

    for (int i = 0; i < 7; i++)
        add_delay(p, 0, i % 3);
    p->failing = 1;
    inject.multi_init = 1; /* curl_multi_init() finds no memory */
    r = run_fetch(p, 1);
    cr_assert_eq(r->rc, -ENOMEM, "[out-of-memory] fetch_concurrent returned %s when "
                 "curl_multi_init() returned NULL (out of memory); it should clean up what it "
                 "made and return -ENOMEM.", kit_errname(r->rc));
    expect_tidy(r);
    kit_expect_no_leaks(r->name);
}

Test(concurrent, an_easy_handle_that_cannot_be_made)
{
    struct plan *p = new_plan();
    struct run *r;
    const size_t n = 7, bad = 3;

    for (size_t i = 0; i < n; i++)
        add_delay(p, 50, (int)(i % 2));
    p->failing = 1;
    inject.easy_init = (long)bad + 1; /* the 4th curl_easy_init() of 7 finds no memory */
    r = run_fetch(p, 1);
    expect_tidy(r);
    if (r->rc != 0) {
        cr_assert_eq(r->rc, -ENOMEM, "[init-failure] fetch_concurrent returned %s when the "
                     "4th of 7 curl_easy_init() calls returned NULL; give up with -ENOMEM (out "
                     "of memory) after cleaning up, or fetch the other 6 and return 0.",
                     kit_errname(r->rc));
    } else {
        for (size_t i = 0; i < n; i++) {
            const struct fetch_result *res = &r->results[i];

            if (i == bad) {
                cr_assert(res->status == 0 && res->body == NULL, "[init-failure] "
                          "fetch_concurrent returned 0 and results[3] has status %ld although "
                          "its easy handle could not be made (curl_easy_init() returned NULL): "
                          "it should be left failed (status 0, body NULL), or the call should "
                          "return -ENOMEM.", res->status);
                continue;
            }
            cr_assert(res->status == 200 && res->body != NULL && strcmp(res->body, p->body[i]) == 0,
                      "[init-failure] fetch_concurrent returned 0, but results[%zu] (status "
                      "%ld) is not urls[%zu]'s answer after the 4th curl_easy_init() of 7 "
                      "failed: return -ENOMEM when you give up, or fetch every other URL.",
                      i, res->status, i);
        }
    }
    kit_expect_no_leaks(r->name);
}

Test(concurrent, a_multi_handle_that_breaks)
{
    struct plan *p = new_plan();
    struct run *r;
    const size_t n = 9;

    for (size_t i = 0; i < n; i++)
        add_delay(p, 100, (int)(i % 4));
    p->failing = 1;
    inject.perform = 2; /* the second curl_multi_perform() fails: CURLM_OUT_OF_MEMORY */
    r = run_fetch(p, 1);
    expect_tidy(r);
    if (r->rc == 0) {
        for (size_t i = 0; i < n; i++) {
            const struct fetch_result *res = &r->results[i];

            cr_assert(res->status == 200 && res->body != NULL && strcmp(res->body, p->body[i]) == 0,
                      "[perform-failure] fetch_concurrent returned 0, but results[%zu] (status "
                      "%ld) is not urls[%zu]'s answer after curl_multi_perform() failed "
                      "(CURLM_OUT_OF_MEMORY): when driving the transfers fails, clean up and "
                      "return a negative errno such as -EIO, so the caller does not take the "
                      "missing answers for finished ones.", i, res->status, i);
        }
    }
    kit_expect_no_leaks(r->name);
}
