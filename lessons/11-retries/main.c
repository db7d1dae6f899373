/* Lesson 11, given: the lesson program. N callers (tasks) each make --calls calls to one
 * server, --gap ms apart, all at once, and one row (see harness/README.md):
 *   --mode once     each call is one GET
 *   --mode retry    each call is your fetch_retry (--attempts, backoff 10 ms doubling up to
 *                   100 ms, full jitter, 1 s an attempt)
 *   --mode breaker  each call is one GET through your breaker_fetch, one breaker shared by
 *                   every caller (--threshold F, --cooldown MS)
 * The server: with --down 1 (the default) it is down, every call is BASE/status/503; with
 * --down 0 it is flaky, BASE/flaky?delay_ms=D (delayd fails 30% of those at random).
 * The row has the server's peak in flight and its requests (sent), the calls answered 200
 * (ok), the others (failed) and among them those the breaker refused (fast). theory_s: the
 * calls and gaps one after another, plus the mean backoff of a retried call against a server
 * that is down. */
#include "breaker.h"
#include "kit.h"
#include "retry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALLERS_MAX 1024
#define BASE_MS 10
#define CAP_MS 100

struct program {
    const struct kit_options *o;
    const char *url;
    long calls, gap, attempts;
    aio_http *http;
    struct breaker breaker;
    uint32_t rng;
    long ok, failed, fast, errors;
    double wall, cpu;
};

static int caller(void *arg)
{
    struct program *x = arg;
    struct retry_policy pol = { .attempts = (int)x->attempts, .base_ms = BASE_MS,
                                .cap_ms = CAP_MS, .attempt_ms = 1000, .rng = &x->rng };

    for (long i = 0; i < x->calls; i++) {
        struct aio_response r = { 0 };
        int rc;
        if (i > 0 && aio_sleep(x->gap) < 0)
            return -ECANCELED;
        if (strcmp(x->o->mode, "retry") == 0)
            rc = fetch_retry(x->http, x->url, &pol, &r, aio_now() + 10000);
        else if (strcmp(x->o->mode, "breaker") == 0)
            rc = breaker_fetch(&x->breaker, x->http, x->url, &r, aio_now() + 1000);
        else
            rc = aio_http_get(x->http, x->url, &r, aio_now() + 1000);
        if (rc == 0 && r.status == 200)
            x->ok++;
        else
            x->failed++;
        x->fast += rc == -EAGAIN;
        x->errors += rc == -ENOSYS || rc == -EINVAL;
        aio_response_free(&r);
    }
    return 0;
}

static int program_main(void *arg)
{
    struct program *x = arg;
    aio_task *tasks[CALLERS_MAX];
    long n = 0;
    int rc = 0;

    x->http = aio_http_new();
    if (x->http == NULL)
        return -ENOMEM;
    x->wall = kit_wall();
    x->cpu = kit_cpu();
    for (; n < x->o->n; n++)
        if ((tasks[n] = aio_spawn(caller, x)) == NULL) {
            rc = -ENOMEM;
            break;
        }
    for (long i = 0; i < n; i++) {
        if (rc < 0)
            aio_cancel(tasks[i]);
        aio_join(tasks[i], AIO_NEVER);
    }
    x->wall = kit_wall() - x->wall;
    x->cpu = kit_cpu() - x->cpu;
    aio_http_free(x->http);
    return rc;
}

/* In ms: the calls and the gaps between them, and against a server that is down, a retried
 * call's pauses (each a draw below its ceiling: half of it on average). */
static long theory_ms(const char *mode, long calls, long gap, long delay, long down,
                      long attempts)
{
    long t = calls * (down ? 0 : delay) + (calls - 1) * gap;
    if (down && strcmp(mode, "retry") == 0)
        for (long k = 1, c = BASE_MS; k < attempts; k++, c = c * 2 < CAP_MS ? c * 2 : CAP_MS)
            t += calls * c / 2;
    return t;
}

int main(int argc, char **argv)
{
    static const char *const modes[] = { "breaker", "once", "retry", NULL };
    struct kit_options o = { .mode = "breaker", .n = 16, .delay_ms = 20 };

    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0)
            printf("lesson 11: also --calls C (calls a caller makes, default 4), --gap MS "
                   "(between two calls, default 20), --down 1|0 (the server is down: "
                   "/status/503; or flaky: /flaky, default 1), --attempts A (retry, default 4), "
                   "--threshold F (breaker, default 5), --cooldown MS (breaker, default 100)\n");
    long calls = kit_take_long(&argc, argv, "calls", 1, 1000, 4);
    long gap = kit_take_long(&argc, argv, "gap", 0, 600000, 20);
    long down = kit_take_long(&argc, argv, "down", 0, 1, 1);
    long attempts = kit_take_long(&argc, argv, "attempts", 1, RETRY_ATTEMPTS_MAX, 4);
    long threshold = kit_take_long(&argc, argv, "threshold", 1, BREAKER_THRESHOLD_MAX, 5);
    long cooldown = kit_take_long(&argc, argv, "cooldown", 0, 600000, 100);
    kit_parse_options(argc, argv, modes, 1, CALLERS_MAX, &o);

    struct program x = { .o = &o, .calls = calls, .gap = gap, .attempts = attempts,
                         .rng = 2024 };
    struct kit_stats stats = { 0 };
    char peak[32] = "unknown", sent[32] = "unknown", url[512];
    int status = 1;

    if (down)
        snprintf(url, sizeof url, "%s/status/503", o.url);
    else
        snprintf(url, sizeof url, "%s/flaky?delay_ms=%ld", o.url, o.delay_ms);
    x.url = url;
    if (breaker_init(&x.breaker, (int)threshold, cooldown) != 0)
        goto out;
    int kind = kit_server_kind(o.url);
    if (kind < 0)
        goto out;
    int rc = aio_run(program_main, &x);
    if (rc < 0 || x.errors > 0) {
        fprintf(stderr, "mode %s failed: %s\n", o.mode,
                rc < 0 ? strerror(-rc) : "a call returned -ENOSYS or -EINVAL");
        goto out;
    }
    if (kind == KIT_SERVER_DELAYD && kit_stats_get(o.url, &stats) == 0) {
        snprintf(peak, sizeof peak, "%ld", stats.peak);
        snprintf(sent, sizeof sent, "%ld", stats.requests);
    }
    printf("mode=%s n=%ld calls=%ld gap_ms=%ld delay_ms=%ld down=%ld attempts=%ld "
           "threshold=%ld cooldown_ms=%ld wall_s=%.4f cpu_s=%.4f server=%s peak=%s sent=%s "
           "ok=%ld failed=%ld fast=%ld theory_s=%.4f\n",
           o.mode, o.n, calls, gap, o.delay_ms, down, attempts, threshold, cooldown, x.wall,
           x.cpu, kind == KIT_SERVER_DELAYD ? "delayd" : "other", peak, sent, x.ok, x.failed,
           x.fast, theory_ms(o.mode, calls, gap, o.delay_ms, down, attempts) / 1000.0);
    status = 0;
out:
    kit_options_free(&o);
    return status;
}
