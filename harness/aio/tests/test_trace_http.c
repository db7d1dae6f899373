/* aio's own tests: the trace of HTTP transfers (AIO_TRACE=file). Each aio_http_get() must show
 * as an http-start with its path and an http-end with its status, or with the error when a
 * deadline cut it; the task waits for "http" in between. */
#include "aio.h"
#include "kit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TestSuite(trace_http, .fini = kit_fini_leaks, .timeout = 30);

static const char *base;

struct get {
    char url[160];
    int64_t deadline_ms;
    int rc;
    long status;
};

static int get_one(void *arg)
{
    struct get *g = arg;
    aio_http *c = aio_http_new();
    struct aio_response res;
    g->rc = aio_http_get(c, g->url, &res, g->deadline_ms > 0 ? aio_now() + g->deadline_ms : AIO_NEVER);
    g->status = g->rc == 0 ? res.status : 0;
    if (g->rc == 0)
        aio_response_free(&res);
    aio_http_free(c);
    return 0;
}

static struct get gets[3];

static int three_gets(void *arg)
{
    (void)arg;
    static const char *const paths[3] = {"/delay/20?tag=a", "/status/404", "/hang"};
    aio_task *t[3];
    for (int i = 0; i < 3; i++) {
        snprintf(gets[i].url, sizeof gets[i].url, "%s%s", base, paths[i]);
        gets[i].deadline_ms = i == 2 ? 150 : 0;
        t[i] = aio_spawn(get_one, &gets[i]);
    }
    for (int i = 0; i < 3; i++)
        aio_join(t[i], AIO_NEVER);
    return 0;
}

/* The "a" field of the first event name of task, or NULL; its line in line. */
static const char *field_a(const char *trace, const char *name, unsigned long task, char *buf,
                           size_t len)
{
    char pat[64];
    snprintf(pat, sizeof pat, " %s %lu ", name, task);
    const char *hit = strstr(trace, pat);
    if (hit == NULL)
        return NULL;
    hit += strlen(pat);
    size_t n = strcspn(hit, " \n");
    snprintf(buf, len, "%.*s", (int)n, hit);
    return buf;
}

Test(trace_http, each_transfer_has_its_start_and_its_end)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/aio-trace-http.%d", (int)getpid());
    setenv("AIO_TRACE", path, 1);
    base = kit_server_start(NULL);
    cr_assert_eq(aio_run(three_gets, NULL), 0);
    unsetenv("AIO_TRACE");
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "[trace-missing] no trace was written to %s", path);
    static char trace[1 << 16];
    size_t n = fread(trace, 1, sizeof trace - 1, f);
    trace[n] = '\0';
    fclose(f);
    unlink(path);
    cr_assert_eq(gets[0].status, 200);
    cr_assert_eq(gets[1].status, 404);
    cr_assert_eq(gets[2].rc, -ETIMEDOUT);

    /* Tasks 2, 3 and 4 made the three GETs, in that order. */
    static const struct { const char *path; const char *end; } want[3] = {
        {"/delay/20?tag=a", "200"}, {"/status/404", "404"}, {"/hang", "-110"}};
    char got[64];
    for (unsigned long i = 0; i < 3; i++) {
        const char *p = field_a(trace, "http-start", i + 2, got, sizeof got);
        cr_assert(p != NULL && strcmp(p, want[i].path) == 0, "[trace-http] task %lu's "
                  "http-start should name %s; it is %s", i + 2, want[i].path, p ? p : "missing");
        p = field_a(trace, "http-end", i + 2, got, sizeof got);
        cr_assert(p != NULL && strcmp(p, want[i].end) == 0, "[trace-http] task %lu's http-end "
                  "should say %s; it is %s", i + 2, want[i].end, p ? p : "missing");
        p = field_a(trace, "wait", i + 2, got, sizeof got);
        cr_assert(p != NULL && strcmp(p, "http") == 0, "[trace-cause] task %lu waits for '%s', "
                  "not 'http'", i + 2, p ? p : "nothing");
        char s[64], e[64], w[64];
        snprintf(s, sizeof s, " http-start %lu ", i + 2);
        snprintf(w, sizeof w, " wait %lu http", i + 2);
        snprintf(e, sizeof e, " http-end %lu ", i + 2);
        cr_assert(strstr(trace, s) < strstr(trace, w) && strstr(trace, w) < strstr(trace, e),
                  "[trace-order] task %lu: http-start, wait, http-end are out of order", i + 2);
    }
}
