/* aio's own tests: aio_wait_for around an HTTP transfer. At the deadline the transfer is
 * removed (the server sees the client go: /hang notices a hang-up) and the runtime's counts
 * show nothing in flight. */
#include "aio.h"
#include "kit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

TestSuite(timeout_http, .fini = kit_fini_leaks, .timeout = 30);

static const char *base;

struct hung {
    aio_http *c;
    char url[128];
    int rc;
    struct aio_response res;
};

static int get_forever(void *arg)
{
    struct hung *h = arg;
    h->rc = aio_http_get(h->c, h->url, &h->res, AIO_NEVER);
    return h->rc;
}

struct outcome {
    int rc;
    struct aio_counts after;
    struct hung h[3];
};

static int wait_for_gets(void *arg)
{
    struct outcome *o = arg;
    aio_http *c = aio_http_new();
    aio_task *t[3];
    const char *paths[3] = { "/hang", "/delay/10", "/hang" };

    for (int i = 0; i < 3; i++) {
        o->h[i].c = c;
        snprintf(o->h[i].url, sizeof o->h[i].url, "%s%s", base, paths[i]);
        t[i] = aio_spawn(get_forever, &o->h[i]);
    }
    int64_t deadline = aio_now() + 200;
    o->rc = 0;
    for (int i = 0; i < 3; i++) {
        int r = aio_wait_for(t[i], deadline);
        if (i != 1 && r != -ETIMEDOUT)
            o->rc = -EIO;
        if (i == 1 && r != 0)
            o->rc = -EPROTO;
    }
    aio_counts(&o->after);
    aio_response_free(&o->h[1].res);
    aio_http_free(c);
    return 0;
}

Test(timeout_http, the_transfers_are_removed_at_the_deadline)
{
    struct outcome o;
    struct kit_stats st;
    base = kit_server_start(NULL);
    cr_assert_eq(aio_run(wait_for_gets, &o), 0);
    cr_expect_eq(o.rc, 0, "[wait-for-http] the two hung GETs gave -ETIMEDOUT, the quick one 0");
    cr_expect_eq(o.h[0].rc, -ECANCELED);
    cr_expect_eq(o.h[2].rc, -ECANCELED);
    cr_expect_eq(o.after.operations, 0, "[wait-for-transfer] %zu transfers still in flight "
                 "right after aio_wait_for", o.after.operations);
    cr_expect_eq(o.after.tasks, 0);
    /* The server notices a hang-up of /hang within a few ms; give it up to 2 s. */
    long in_flight = -1;
    for (int i = 0; i < 200; i++) {
        cr_assert_eq(kit_stats_get(base, &st), 0);
        in_flight = st.in_flight;
        if (in_flight == 0)
            break;
        usleep(10000);
    }
    cr_expect_eq(in_flight, 0, "[wait-for-server] the server still had %ld requests in flight",
                 in_flight);
    kit_server_stop();
}
