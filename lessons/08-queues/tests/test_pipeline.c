/* Lesson 08 tests, part two: pipeline_run. The test's own process (the consumers' work)
 * records which item each call got and when, and can hold the consumers at a gate; the
 * witnesses are each URL's requests (aio_http_get is counted, by the URL pointer, so repeated
 * URLs count apart), each slot's result, the order items were processed in, the items made,
 * freed and alive at most (item_new and item_free keep the books), the server's peak in
 * flight and requests, queue_put, queue_get and queue_close counted and ordered, spawns
 * counted (and refused on demand), and the runtime's counts the moment pipeline_run returns. */
#include "counted.h"
#include "pipeline.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kit_test.h"

#define REFUSED "http://127.0.0.1:1/refused"

static const char *base;

static void setup(void)
{
    base = kit_server_start(NULL);
}

static void teardown(void)
{
    kit_cleanup();
    kit_server_stop();
}

TestSuite(pipeline, .init = setup, .fini = teardown, .timeout = 20);

/* One pipeline run and what the test saw of it. */
struct prun {
    size_t n, np, nc, q;
    const char *const *paths;  /* path under base, or a full URL; NULL for urls NULL */
    const size_t *same_as;     /* when set, URL i is URL same_as[i]'s very pointer */
    int gate;                  /* 1: process waits at a gate the test opens */
    int cancel;                /* 1: cancel the caller once back-pressure holds */
    int cancel_in_fetch;       /* 1: cancel the caller once every producer is fetching */
    int cancel_in_drain;       /* 1: cancel the caller once the queue is closed, the consumers
                                  held at the gate */
    int64_t work_ms;           /* process's own work, uncounted */
    long spawn_fail_at, item_fail_at, group_fail_at;
    int queue_init_fail;
    int no_urls, no_http, no_process;   /* the bad-argument cases */
    struct pipeline p;
    const char **urls;
    int rc;
    struct aio_counts after;   /* the runtime's counts as pipeline_run returned */
    /* what process saw */
    int *body_ok;              /* 1 when the item's body carried its own URL's tag */
    size_t *order;             /* URL indexes in the order process began them */
    size_t norder;
    long bad_index;            /* items whose index was out of range */
    long in_process, in_process_peak;
    /* the gate: processes parked there */
    aio_task *parked[PIPE_TASKS_MAX + 1];
    int open;
    /* what the test saw at the gate, back-pressure holding */
    int gate_met;
    size_t nreq_at_gate;
    long alive_at_gate, puts_at_gate, in_process_at_gate;
    size_t nreq_later;
    long alive_later;
    size_t norder_at_cancel;   /* process calls begun when the caller was cancelled */
};

static struct prun *R;

static int test_process(struct pipeline *p, struct item *it)
{
    struct prun *r = R;

    if (it == NULL || it->index >= r->n) {
        r->bad_index++;
        return 0;
    }
    r->order[r->norder++ % (r->n + 1)] = it->index;
    if (++r->in_process > r->in_process_peak)
        r->in_process_peak = r->in_process;
    int rc = 0;
    if (r->gate) {
        size_t k;
        for (k = 0; k < PIPE_TASKS_MAX && r->parked[k] != NULL; k++)
            ;
        r->parked[k] = aio_current();
        while (!r->open && rc == 0)
            rc = __real_aio_park(AIO_NEVER);
        r->parked[k] = NULL;
    } else if (r->work_ms > 0) {
        rc = __real_aio_sleep(r->work_ms);
    }
    r->in_process--;
    if (rc < 0)
        return -ECANCELED;
    char tag[32];
    snprintf(tag, sizeof tag, "tag=%zu", r->same_as ? r->same_as[it->index] : it->index);
    struct result *res = &p->results[it->index];
    res->times++;
    res->rc = it->rc;
    res->status = it->resp.status;
    res->len = it->resp.len;
    res->seq = ++p->processed;
    r->body_ok[it->index] = it->rc < 0 ? it->resp.body == NULL
                                       : it->resp.status != 200 ||
                                             (it->resp.body != NULL && strstr(it->resp.body, tag));
    return 0;
}

static void open_gate(struct prun *r)
{
    r->open = 1;
    for (size_t k = 0; k < PIPE_TASKS_MAX + 1; k++)
        if (r->parked[k] != NULL)
            __real_aio_unpark(r->parked[k]);
}

static int caller(void *arg)
{
    struct prun *r = arg;

    r->rc = pipeline_run(&r->p);
    aio_counts(&r->after);
    return 0;
}

static int prun_main(void *arg)
{
    struct prun *r = arg;

    r->p.http = r->no_http ? NULL : aio_http_new();
    if (r->p.http == NULL && !r->no_http) {
        r->rc = -12345;
        return 0;
    }
    counted_reset();
    spawn_fail_at = r->spawn_fail_at;
    item_fail_at = r->item_fail_at;
    group_fail_at = r->group_fail_at;
    queue_init_fail = r->queue_init_fail;
    watching = 1;
    aio_task *t = __real_aio_spawn(caller, r);
    if (r->cancel_in_drain && t != NULL) {
        struct kit_wait w = { .what = "the close, the consumers held" };
        kit_wait_until(&w, aio_done(t) || (closes >= 1 && r->in_process == (long)r->nc),
                       __real_aio_sleep(1));
        r->gate_met = w.met;
        aio_cancel(t);
    } else if (r->gate && t != NULL) {
        /* Back-pressure: consumers held at the gate, the queue full, every producer holding
         * an item it cannot put. Then a while longer: nothing more may be fetched. */
        size_t want = r->nc + r->q + r->np;
        struct kit_wait w = { .what = "back-pressure" };
        kit_wait_until(&w, aio_done(t) || (nreq >= want && puts_now == (long)r->np &&
                                           r->in_process == (long)r->nc),
                       __real_aio_sleep(1));
        r->gate_met = w.met;
        r->nreq_at_gate = nreq;
        r->alive_at_gate = r->p.alive;
        r->puts_at_gate = puts_now;
        r->in_process_at_gate = r->in_process;
        for (int i = 0; i < 30 && !aio_done(t); i++)
            __real_aio_sleep(2);
        r->nreq_later = nreq;
        r->alive_later = r->p.alive;
        r->norder_at_cancel = r->norder;
        if (r->cancel)
            aio_cancel(t);         /* the gate stays shut: the consumers are cancelled there */
        else
            open_gate(r);
    }
    if (r->cancel_in_fetch && t != NULL) {
        struct kit_wait w = { .what = "every producer fetching" };
        kit_wait_until(&w, aio_done(t) || (nreq >= r->np && inflight == (long)r->np),
                       __real_aio_sleep(1));
        r->gate_met = w.met;
        r->nreq_later = nreq;
        aio_cancel(t);
    }
    if (t != NULL)
        aio_join(t, AIO_NEVER);
    watching = 0;
    open_gate(r);
    if (r->p.http != NULL)
        aio_http_free(r->p.http);
    r->p.http = NULL;
    return 0;
}

static void run_pipeline(struct prun *r)
{
    R = r;
    r->urls = r->n > 0 ? kit_alloc_array(r->n, sizeof *r->urls) : NULL;
    for (size_t i = 0; i < r->n; i++) {
        if (r->same_as != NULL && r->same_as[i] != i) {
            r->urls[i] = r->urls[r->same_as[i]];
            continue;
        }
        const char *path = r->paths[i];
        r->urls[i] = path[0] == '/' ? kit_sprintf("%s%s%ctag=%zu", base, path,
                                                  strchr(path, '?') ? '&' : '?', i)
                                    : path;
    }
    r->body_ok = kit_alloc_array(r->n + 1, sizeof *r->body_ok);
    r->order = kit_alloc_array(r->n + 1, sizeof *r->order);
    r->p = (struct pipeline){ .urls = r->no_urls ? NULL : r->urls, .n = r->n,
                              .producers = r->np, .consumers = r->nc, .qsize = r->q,
                              .process = r->no_process ? NULL : test_process,
                              .results = kit_alloc_array(r->n + 1, sizeof(struct result)) };
    r->p.next = 3;          /* pipeline_run's own field: whatever it held before, it sets it */
    cr_assert_eq(kit_stats_reset(base), 0, "[server] could not reset delayd's counts");
    int rc = aio_run(prun_main, r);
    cr_assert_eq(rc, 0, "[deadlock] the test's loop ended with %s: every task was waiting and "
                 "nothing could wake any of them (a consumer waiting on a queue nobody "
                 "closes?).", kit_errname(rc));
    cr_assert_neq(r->rc, -12345, "[harness] aio_http_new failed");
    kit_expect_done(r->rc, "pipeline_run", "pipeline.c");
}

static long requests_to(const char *url)
{
    long k = 0;
    for (size_t i = 0; i < nreq && i < TRACK_MAX; i++)
        k += urls_seen[i] == url;
    return k;
}

static long places_of(const struct prun *r, const char *url)
{
    long k = 0;
    for (size_t i = 0; i < r->n; i++)
        k += r->urls[i] == url;
    return k;
}

/* What must hold after every run, however it ended: nothing left running or held, every
 * item freed, the bounds kept. */
static void expect_clean(const struct prun *r)
{
    const struct pipeline *p = &r->p;
    long bound = (long)(r->q + r->np + r->nc);

    cr_assert(r->after.tasks <= 1 && r->after.operations == 0, "[unjoined] when pipeline_run "
              "returned, %zu of its tasks were not joined and %zu %s still in flight: every "
              "producer and consumer has ended, and been joined, before it returns.",
              r->after.tasks > 0 ? r->after.tasks - 1 : 0, r->after.operations,
              kit_plural((long)r->after.operations, "transfer was", "transfers were"));
    cr_assert(p->made == p->freed && p->alive == 0, "[item-leak] %ld %s made with item_new, "
              "%ld freed with item_free: every item is freed by the time pipeline_run "
              "returns, however it ends (a consumer frees what it processed; what is left in "
              "the queue, or in a producer's hands, is freed too).", p->made,
              kit_plural(p->made, "item was", "items were"), p->freed);
    cr_assert(p->alive_peak <= bound, "[held-too-many] %ld items were alive at once with a "
              "queue of %zu, %zu producers and %zu consumers: at most Q + P + C = %ld. Does "
              "the queue have p->qsize slots, and does a producer wait in queue_put before "
              "it fetches again?", p->alive_peak, r->q, r->np, r->nc, bound);
    struct kit_stats st = { 0 };
    cr_assert_eq(kit_stats_get(base, &st), 0, "[server] could not read delayd's /stats");
    cr_assert(st.peak <= (long)r->np && inflight_peak <= (long)r->np, "[over-fetch] the "
              "server saw %ld requests in flight at once (%ld by the test's count) with %zu "
              "producers: each producer fetches one URL at a time.", st.peak, inflight_peak,
              r->np);
    cr_assert(polls == 0 && blocking_calls == 0, "[polling] the pipeline called "
              "aio_yield/aio_sleep %ld times and blocked the thread %ld times: producers and "
              "consumers wait in the queue's calls, nowhere else.", polls, blocking_calls);
    cr_assert_eq(r->bad_index, 0, "[bad-item] process was handed %ld items that were not "
                 "items of this run.", r->bad_index);
}

/* What must hold after a run that processed every URL. */
static void expect_all_processed(const struct prun *r)
{
    const struct pipeline *p = &r->p;

    cr_assert_eq(r->rc, 0, "[pipeline-rc] pipeline_run returned %s, expected 0.",
                 kit_errname(r->rc));
    for (size_t i = 0; i < r->n; i++) {
        long want = places_of(r, r->urls[i]), sent = requests_to(r->urls[i]);
        cr_assert_eq(sent, want, "[fetch-count] URL %zu (%s) was fetched %ld %s, expected "
                     "%ld: every place in the list is fetched once (a URL repeated in the "
                     "list is fetched once for each place).", i, r->urls[i], sent,
                     kit_plural(sent, "time", "times"), want);
    }
    for (size_t i = 0; i < r->n; i++)
        cr_assert_eq(p->results[i].times, 1, "[process-count] URL %zu was processed %d "
                     "times, expected once: every item a producer puts reaches exactly one "
                     "consumer.", i, p->results[i].times);
    cr_assert(nreq == r->n && p->made == (long)r->n, "[fetch-count] %zu requests and %ld "
              "items for %zu URLs.", nreq, p->made, r->n);
    for (size_t i = 0; i < r->n; i++)
        cr_assert(r->body_ok[i], "[result-slot] URL %zu's item held an answer (rc %s, status "
                  "%ld) that was not its own URL's: an item carries its own URL's index and "
                  "answer.", i, kit_errname(p->results[i].rc), p->results[i].status);
    cr_assert(closes == 1 && close_rc_first == 0, "[not-closed] queue_close was called %ld "
              "times (the first returned %s): once every producer has ended, the queue is "
              "closed, once; that is how the consumers learn there is no more.", closes,
              kit_errname(close_rc_first));
    cr_assert(first_close_event > last_put_event, "[close-early] the queue was closed before "
              "the last put returned: close it only once every producer has ended.");
    cr_assert(gets_pipe == (long)r->nc && gets_ok == (long)r->n, "[consumer-end] the "
              "consumers took %ld items and saw -EPIPE %ld times, expected %zu and %zu: "
              "each consumer takes items until the closed queue says -EPIPE, then ends.",
              gets_ok, gets_pipe, r->n, r->nc);
    cr_assert(puts_ok == (long)r->n, "[put-count] %ld puts succeeded for %zu URLs: every "
              "item goes through the queue.", puts_ok, r->n);
}

/* ---- every URL once ---------------------------------------------------------------------- */

Test(pipeline, every_url_once)
{
    static const char *paths[33];
    static size_t same[33];
    for (size_t i = 0; i < 33; i++) {
        paths[i] = i % 5 == 2 ? "/delay/0" : i % 7 == 3 ? "/delay/25" : "/delay/5";
        same[i] = i == 9 || i == 20 ? 4 : i == 31 ? 30 : i;     /* repeats: same pointer */
    }
    struct prun r = { .n = 33, .np = 3, .nc = 2, .q = 4, .paths = paths, .same_as = same,
                      .work_ms = 3 };
    run_pipeline(&r);
    expect_clean(&r);
    expect_all_processed(&r);
    struct kit_stats st = { 0 };
    cr_assert_eq(kit_stats_get(base, &st), 0, "[server] could not read delayd's /stats");
    cr_assert_eq(st.requests, 33, "[fetch-count] the server saw %ld requests for 33 URLs.",
                 st.requests);
    cr_assert(st.peak >= 2, "[one-producer] the server never saw more than %ld request in "
              "flight with 3 producers: the producers fetch side by side, each in a task of "
              "its own.", st.peak);
    cr_assert(r.in_process_peak >= 2, "[one-consumer] at most %ld item was processed at once "
              "with 2 consumers: the consumers work side by side.", r.in_process_peak);
    kit_expect_no_leaks("pipeline_run");
}

/* One producer, one consumer, a queue of one: the items are processed in the list's order,
 * whatever each URL's delay. */
Test(pipeline, one_by_one_in_order)
{
    static const char *const paths[7] = { "/delay/30", "/delay/0", "/delay/10", "/delay/0",
                                          "/delay/20", "/delay/0", "/delay/5" };
    struct prun r = { .n = 7, .np = 1, .nc = 1, .q = 1, .paths = paths, .work_ms = 2 };
    run_pipeline(&r);
    expect_clean(&r);
    expect_all_processed(&r);
    for (size_t k = 0; k < 7; k++)
        cr_assert_eq(r.order[k], k, "[order-lost] with one producer and one consumer, item "
                     "%zu processed was URL %zu, expected URL %zu: the queue hands items out "
                     "in the order they were put.", k + 1, r.order[k], k);
    kit_expect_no_leaks("pipeline_run");
}

/* Fetches that fail are items too: processed once, with their error. */
Test(pipeline, failed_fetches_are_items)
{
    static const char *const paths[13] = { "/delay/5", REFUSED, "/delay/5", "/status/404",
                                           "/delay/0", "/delay/5", REFUSED, "/delay/5",
                                           "/delay/0", "/delay/5", "/delay/5", "/delay/0",
                                           REFUSED };
    struct prun r = { .n = 13, .np = 4, .nc = 3, .q = 2, .paths = paths };
    run_pipeline(&r);
    expect_clean(&r);
    expect_all_processed(&r);
    for (size_t i = 0; i < 13; i++) {
        int refused = paths[i][0] != '/';
        const struct result *res = &r.p.results[i];
        cr_assert(refused ? res->rc == -ECONNREFUSED && res->status == 0
                          : res->rc == 0 && res->status == (i == 3 ? 404 : 200),
                  "[failed-fetch] URL %zu (%s) was processed with rc %s and status %ld: an "
                  "item carries what aio_http_get returned, a failure included.", i, paths[i],
                  kit_errname(res->rc), res->status);
    }
    kit_expect_no_leaks("pipeline_run");
}

/* ---- back-pressure ----------------------------------------------------------------------- */

static const char *paths40[40];

static const char *const *forty(void)
{
    for (size_t i = 0; i < 40; i++)
        paths40[i] = i % 3 == 1 ? "/delay/0" : "/delay/3";
    return paths40;
}

/* With the consumers held at the gate: exactly C + Q + P URLs fetched, and no more. */
static void expect_back_pressure(const struct prun *r)
{
    size_t want = r->nc + r->q + r->np;
    cr_assert(r->gate_met, "[no-back-pressure] with the consumers held, the test waited for %zu "
              "URLs fetched, %zu puts waiting and %zu items in process; it saw %zu fetched, "
              "%ld puts waiting and %ld in process (%ld items alive). With the consumers "
              "stuck, the queue fills (Q = %zu), each producer fetches one more and waits in "
              "queue_put with it.", want, r->np, r->nc, r->nreq_at_gate, r->puts_at_gate,
              r->in_process_at_gate, r->alive_at_gate, r->q);
    cr_assert(r->nreq_at_gate == want && r->nreq_later == want, "[no-back-pressure] with the "
              "consumers held, %zu URLs were fetched (then %zu a while later), expected "
              "exactly C + Q + P = %zu: a producer waits in queue_put while the queue is full "
              "and fetches nothing meanwhile.", r->nreq_at_gate, r->nreq_later, want);

}

/* Consumers held at a gate: the producers fill the queue, then each fetches one more and waits
 * in queue_put with it. Exactly C + Q + P URLs are fetched, and no more while the gate stays
 * shut; once it opens, everything flows through. */
Test(pipeline, back_pressure)
{
    struct prun r = { .n = 40, .np = 2, .nc = 3, .q = 5, .paths = forty(), .gate = 1 };
    run_pipeline(&r);
    expect_back_pressure(&r);
    size_t want = r.nc + r.q + r.np;
    cr_assert(r.alive_later == (long)want, "[held-too-many] with the consumers held, %ld items "
              "were alive, expected %zu.", r.alive_later, want);
    expect_clean(&r);
    expect_all_processed(&r);
    kit_expect_no_leaks("pipeline_run");
}

/* The same scene, then the caller is cancelled: every task ends, every item is freed (those
 * in the queue, in the producers' hands and in process), -ECANCELED. */
Test(pipeline, caller_cancelled)
{
    struct prun r = { .n = 40, .np = 3, .nc = 2, .q = 7, .paths = forty(), .gate = 1,
                      .cancel = 1 };
    run_pipeline(&r);
    expect_back_pressure(&r);
    cr_assert_eq(r.rc, -ECANCELED, "[cancel-rc] pipeline_run, its caller cancelled, returned "
                 "%s; expected -ECANCELED.", kit_errname(r.rc));
    expect_clean(&r);
    cr_assert(nreq == r.nreq_later, "[fetch-after-cancel] %zu URLs were fetched after the "
              "caller was cancelled: a cancelled pipeline starts nothing new.",
              nreq - r.nreq_later);
    cr_assert(r.norder == r.norder_at_cancel, "[process-after-cancel] process was called %zu "
              "more times after the caller was cancelled, with items from the queue: a "
              "consumer whose process fails (here with -ECANCELED) ends; it takes no more "
              "items.", r.norder - r.norder_at_cancel);
    kit_expect_no_leaks("pipeline_run");
}

/* The caller cancelled while every producer waits for its answer (URLs that take 5 s): the
 * fetches end cancelled, and nothing more is fetched, put or processed. */
Test(pipeline, cancelled_during_the_fetches)
{
    static const char *paths[13];
    for (size_t i = 0; i < 13; i++)
        paths[i] = "/delay/5000";
    struct prun r = { .n = 13, .np = 3, .nc = 2, .q = 4, .paths = paths, .cancel_in_fetch = 1 };
    run_pipeline(&r);
    cr_assert(r.gate_met, "[not-fetching] with 3 producers and 13 URLs of 5 s, the test "
              "waited for 3 fetches in flight at once and saw %zu started, %ld in flight: the "
              "producers fetch side by side.", nreq, inflight_peak);
    cr_assert_eq(r.rc, -ECANCELED, "[cancel-rc] pipeline_run, its caller cancelled during the "
                 "fetches, returned %s; expected -ECANCELED.", kit_errname(r.rc));
    expect_clean(&r);
    cr_assert(nreq == r.nreq_later && r.p.made == 3, "[fetch-after-cancel] %zu URLs were "
              "fetched after the caller was cancelled (%ld items made in all): a fetch that "
              "ends cancelled ends its producer; it is not put, and no new one starts.",
              nreq - r.nreq_later, r.p.made);
    cr_assert_eq(r.p.processed, 0, "[fetch-after-cancel] %ld items were processed after a "
                 "cancel during the fetches: a cancelled fetch is not an answer to process.",
                 r.p.processed);
    kit_expect_no_leaks("pipeline_run");
}

/* Five URLs, a queue of 7: the producers end and the queue is closed while the consumer is held
 * at the gate with the first item; then the caller is cancelled. The consumers' end is part
 * of the call: -ECANCELED, not 0. */
Test(pipeline, cancelled_while_the_consumers_drain)
{
    static const char *const paths[5] = { "/delay/0", "/delay/0", "/delay/0", "/delay/0",
                                          "/delay/0" };
    struct prun r = { .n = 5, .np = 2, .nc = 1, .q = 7, .paths = paths, .gate = 1,
                      .cancel_in_drain = 1 };
    run_pipeline(&r);
    cr_assert(r.gate_met, "[not-closed] 5 URLs, a queue of 7, the consumer held at the gate: "
              "the test waited for the producers to end and the queue to be closed, and saw "
              "%ld %s of queue_close, %ld in process: once every producer has ended, the queue "
              "is closed (the consumers still at work).", closes,
              kit_plural(closes, "call", "calls"), r.in_process);
    cr_assert_eq(r.rc, -ECANCELED, "[cancel-rc] pipeline_run, its caller cancelled while the "
                 "consumers drained the closed queue, returned %s; expected -ECANCELED: the "
                 "consumers' end is part of the call.", kit_errname(r.rc));
    expect_clean(&r);
    cr_assert_eq(r.p.processed, 0, "[cancel-rc] %ld items were processed after the cancel.",
                 r.p.processed);
    kit_expect_no_leaks("pipeline_run");
}

/* ---- failures ---------------------------------------------------------------------------- */

static long server_requests(void)
{
    struct kit_stats st = { 0 };
    cr_assert_eq(kit_stats_get(base, &st), 0, "[server] could not read delayd's /stats");
    return st.requests;
}

static void expect_enomem(const struct prun *r, const char *what)
{
    cr_assert_eq(r->rc, -ENOMEM, "[enomem] %s, and pipeline_run returned %s; expected "
                 "-ENOMEM.", what, kit_errname(r->rc));
}

/* A task (or a group) that cannot be had: nothing is fetched, the tasks started are cancelled
 * before they fetch anything. */
static void expect_nothing_fetched(const char *what)
{
    long sent = server_requests();
    cr_assert_eq(sent, 0, "[fetch-after-failure] %s, yet the server saw %ld %s: when a task "
                 "cannot be had, the call cancels the tasks it started, before they fetch "
                 "anything.", what, sent, kit_plural(sent, "request", "requests"));
}

Test(pipeline, a_spawn_fails)
{
    static const long at[3] = { 1, 3, 6 };
    for (int k = 0; k < 3; k++) {
        struct prun r = { .n = 40, .np = 3, .nc = 3, .q = 2, .paths = forty(), .work_ms = 1,
                          .spawn_fail_at = at[k] };
        run_pipeline(&r);
        char what[64];
        snprintf(what, sizeof what, "spawn %ld of 6 failed", at[k]);
        expect_enomem(&r, what);
        expect_clean(&r);
        expect_nothing_fetched(what);
        cr_assert(spawn_calls <= 6, "[spawn-count] %ld spawns for 3 producers and 3 "
                  "consumers.", spawn_calls);
        kit_cleanup();
    }
    kit_expect_no_leaks("pipeline_run");
}

/* aio_group_new refused, the first time and then the second: a pipeline that uses groups
 * gives up with -ENOMEM before anything is fetched; one that does not is not affected. */
Test(pipeline, a_group_cannot_be_had)
{
    for (long k = 1; k <= 2; k++) {
        struct prun r = { .n = 13, .np = 2, .nc = 3, .q = 2, .paths = forty(), .work_ms = 1,
                          .group_fail_at = k };
        run_pipeline(&r);
        expect_clean(&r);
        if (group_news >= k) {
            char what[64];
            snprintf(what, sizeof what, "aio_group_new failed on call %ld", k);
            expect_enomem(&r, what);
            expect_nothing_fetched(what);
        } else {
            expect_all_processed(&r);
        }
        kit_cleanup();
    }
    kit_expect_no_leaks("pipeline_run");
}

/* The queue's ring cannot be had: -ENOMEM, nothing started. */
Test(pipeline, no_memory_for_the_queue)
{
    struct prun r = { .n = 13, .np = 2, .nc = 3, .q = 5, .paths = forty(), .queue_init_fail = 1 };
    run_pipeline(&r);
    expect_enomem(&r, "queue_init failed");
    cr_assert(spawn_calls == 0 && nreq == 0 && r.p.made == 0, "[enomem] queue_init failed, yet "
              "%ld tasks were spawned and %zu URLs fetched: without its queue the pipeline "
              "starts nothing.", spawn_calls, nreq);
    expect_clean(&r);
    kit_expect_no_leaks("pipeline_run");
}

Test(pipeline, an_item_cannot_be_had)
{
    struct prun r = { .n = 40, .np = 2, .nc = 3, .q = 3, .paths = forty(), .work_ms = 1,
                      .item_fail_at = 13 };
    run_pipeline(&r);
    expect_enomem(&r, "item_new failed for the 13th item");
    expect_clean(&r);
    cr_assert(r.p.made == 12 || nreq <= 40, "[fetch-count] %zu requests.", nreq);
    kit_expect_no_leaks("pipeline_run");
}

Test(pipeline, bad_arguments)
{
    static const char *const one[1] = { "/delay/0" };
    struct {
        size_t n, np, nc, q;
        int no_urls, no_http, no_process;
        const char *what;
    } bad[] = {
        { PIPE_N_MAX + 1, 2, 2, 2, 0, 0, 0, "n = PIPE_N_MAX + 1" },
        { 1, 0, 2, 2, 0, 0, 0, "0 producers" },
        { 1, PIPE_TASKS_MAX + 1, 2, 2, 0, 0, 0, "PIPE_TASKS_MAX + 1 producers" },
        { 1, 2, 0, 2, 0, 0, 0, "0 consumers" },
        { 1, 2, PIPE_TASKS_MAX + 1, 2, 0, 0, 0, "PIPE_TASKS_MAX + 1 consumers" },
        { 1, 2, 2, 0, 0, 0, 0, "a queue of 0" },
        { 1, 2, 2, QUEUE_CAP_MAX + 1, 0, 0, 0, "a queue of QUEUE_CAP_MAX + 1" },
        { 1, 2, 2, 2, 1, 0, 0, "urls NULL" },
        { 1, 2, 2, 2, 0, 1, 0, "http NULL" },
        { 1, 2, 2, 2, 0, 0, 1, "process NULL" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        static const char *many[PIPE_N_MAX + 1];
        for (size_t i = 0; i <= PIPE_N_MAX; i++)
            many[i] = "/delay/0";
        struct prun r = { .n = bad[k].n, .np = bad[k].np, .nc = bad[k].nc, .q = bad[k].q,
                          .paths = bad[k].n > 1 ? many : one,
                          .no_urls = bad[k].no_urls, .no_http = bad[k].no_http,
                          .no_process = bad[k].no_process };
        run_pipeline(&r);
        cr_assert(r.rc == -EINVAL && spawn_calls == 0 && nreq == 0 && r.p.made == 0,
                  "[bad-args] pipeline_run with %s returned %s after %ld spawns and %zu "
                  "requests; expected -EINVAL with nothing started.", bad[k].what,
                  kit_errname(r.rc), spawn_calls, nreq);
        kit_cleanup();
    }
    kit_expect_no_leaks("pipeline_run");
}

/* ---- sizes ------------------------------------------------------------------------------- */

/* No URL at all, and one URL for seven consumers (on the largest queue): the close wakes every
 * consumer waiting on the empty queue. */
Test(pipeline, fewer_urls_than_consumers)
{
    struct prun none = { .n = 0, .np = 3, .nc = 7, .q = 13, .paths = NULL };
    run_pipeline(&none);
    expect_clean(&none);
    expect_all_processed(&none);
    kit_cleanup();
    static const char *const one[1] = { "/delay/10" };
    struct prun r = { .n = 1, .np = 3, .nc = 7, .q = QUEUE_CAP_MAX, .paths = one };
    run_pipeline(&r);
    expect_clean(&r);
    expect_all_processed(&r);
    kit_expect_no_leaks("pipeline_run");
}

/* The most URLs, producers and consumers a pipeline takes, on a queue of 13. */
Test(pipeline, largest)
{
    static const char *paths[PIPE_N_MAX];
    for (size_t i = 0; i < PIPE_N_MAX; i++)
        paths[i] = i % 2 ? "/delay/0" : "/delay/1";
    struct prun r = { .n = PIPE_N_MAX, .np = PIPE_TASKS_MAX, .nc = PIPE_TASKS_MAX, .q = 13,
                      .paths = paths };
    run_pipeline(&r);
    expect_clean(&r);
    expect_all_processed(&r);
    kit_expect_no_leaks("pipeline_run");
}
