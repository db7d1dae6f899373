/* aio's own tests: aio_join_any and aio_group (group.c). The first to finish is named whatever
 * the order of submission; NULL slots make as_completed; a finished task is named at once; the
 * refusals. A group: every child ends before the wait returns, the first error cancels the
 * siblings and is the one returned, the wait's deadline and the caller's cancellation cancel
 * the children and still wait for them, spawns into a cancelled group fail, a group is reused.
 * Inside tasks the tests only record; they assert after aio_run(). */
#include "aio.h"
#include "kit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

TestSuite(join_any, .fini = kit_fini_leaks, .timeout = 20);
TestSuite(group, .fini = kit_fini_leaks, .timeout = 20);

#define N 13

struct kid {
    int64_t sleep_ms;   /* how long the body sleeps */
    int result;         /* what it returns after the sleep */
    int started, ended; /* the body ran / returned */
    int slept;          /* aio_sleep's result */
    int64_t ended_at;
};

static struct kid kids[N];
static int order[N], norder;

static int kid_body(void *arg)
{
    struct kid *k = arg;
    k->started = 1;
    k->slept = aio_sleep(k->sleep_ms);
    k->ended = 1;
    k->ended_at = aio_now();
    if (norder < N)
        order[norder++] = (int)(k - kids);
    return k->slept < 0 ? k->slept : k->result;
}

static void reset_kids(void)
{
    memset(kids, 0, sizeof kids);
    memset(order, 0, sizeof order);
    norder = 0;
}

/* ---- aio_join_any ------------------------------------------------------------------------ */

/* Sleeps in a shuffled order: 13 distinct multiples of 7 ms. */
static const int64_t shuffled[N] = { 49, 14, 77, 7, 63, 91, 28, 84, 35, 0, 56, 70, 21 };

struct any_run {
    int seen[N];            /* indices in the order join_any named them */
    int lowest[N];          /* when it named one: the lowest index finished and not yet named */
    int ended_ahead[N];     /* when it named one: how many unnamed tasks had ended before it */
    int results[N];
    int nseen;
    int stray;              /* a return that was not an index */
};

static int as_completed_main(void *arg)
{
    struct any_run *ar = arg;
    aio_task *t[N];
    for (int i = 0; i < N; i++) {
        kids[i].sleep_ms = shuffled[i];
        kids[i].result = i;
        t[i] = aio_spawn(kid_body, &kids[i]);
    }
    for (int k = 0; k < N; k++) {
        int i = aio_join_any(t, N, AIO_NEVER);
        if (i < 0 || i >= N || t[i] == NULL) {
            ar->stray = i;
            break;
        }
        /* The contract, whatever the load: the lowest index among the finished ones. Several
         * sleeps 7 ms apart can end in one loop pass on a busy machine, so "the one that ended
         * first" is not always the one named; "a finished one, the lowest, none finished
         * earlier left behind in an earlier pass" is. */
        ar->lowest[ar->nseen] = -1;
        for (int j = 0; j < N; j++)
            if (t[j] != NULL && kids[j].ended) {
                ar->lowest[ar->nseen] = j;
                break;
            }
        ar->ended_ahead[ar->nseen] = 0;
        for (int j = 0; j < N; j++)
            if (t[j] != NULL && j != i && kids[j].ended && kids[j].ended_at < kids[i].ended_at)
                ar->ended_ahead[ar->nseen]++;
        ar->seen[ar->nseen++] = i;
        ar->results[i] = aio_join(t[i], AIO_NEVER);
        t[i] = NULL;
    }
    /* Nothing left to wait for. */
    if (aio_join_any(t, N, AIO_NEVER) != -EINVAL)
        ar->stray = 1000;
    return 0;
}

Test(join_any, names_each_task_in_completion_order)
{
    struct any_run ar = { .stray = 0 };
    reset_kids();
    cr_assert_eq(aio_run(as_completed_main, &ar), 0);
    cr_assert_eq(ar.stray, 0, "aio_join_any returned %d instead of an index (1000: no -EINVAL "
                 "once every slot is NULL)", ar.stray);
    cr_assert_eq(ar.nseen, N);
    int named[N] = { 0 };
    for (int k = 0; k < N; k++) {
        int i = ar.seen[k];
        cr_assert(i >= 0 && i < N && !named[i], "position %d: task %d named twice", k, i);
        named[i] = 1;
        cr_assert_eq(i, ar.lowest[k], "position %d: join_any named task %d, but the lowest "
                     "finished task not yet named was %d", k, i, ar.lowest[k]);
        cr_assert_eq(ar.ended_ahead[k], 0, "position %d: task %d was named while %d task(s) "
                     "that ended before it, in an earlier loop pass, waited", k, i,
                     ar.ended_ahead[k]);
        cr_assert_eq(ar.results[i], i);
    }
    /* Sleep order, where the clock separated them: a task named later never slept less than
     * one named in an earlier pass. */
    for (int k = 1; k < N; k++)
        if (kids[ar.seen[k - 1]].ended_at < kids[ar.seen[k]].ended_at)
            cr_assert_lt(shuffled[ar.seen[k - 1]], shuffled[ar.seen[k]], "not in sleep order");
}

struct small_run {
    int r_done, r_timeout, r_empty, r_self, r_cancelled, r_busy;
    int64_t waited;
};

static int sleeper(void *arg)
{
    return aio_sleep((int64_t)(intptr_t)arg);
}

static int self_any(void *arg)
{
    aio_task *t[2] = { aio_current(), (aio_task *)arg };
    return aio_join_any(t, 2, AIO_NEVER);
}

static int cancelled_any(void *arg)
{
    aio_task **t = arg;
    return aio_join_any(t, 1, AIO_NEVER);
}

static int joiner(void *arg)
{
    return aio_join((aio_task *)arg, AIO_NEVER);
}

static int refusals_main(void *arg)
{
    struct small_run *sr = arg;
    aio_task *t[3] = { NULL, aio_spawn(sleeper, (void *)(intptr_t)1000),
                       aio_spawn(sleeper, (void *)(intptr_t)0) };
    aio_sleep(5);
    /* t[2] has finished: named at once, the sleeping one does not matter. */
    int64_t t0 = aio_now();
    sr->r_done = aio_join_any(t, 3, AIO_NEVER);
    aio_join(t[2], AIO_NEVER);
    t[2] = NULL;
    sr->r_timeout = aio_join_any(t, 3, aio_now() + 30);
    sr->waited = aio_now() - t0;
    aio_task *none[2] = { NULL, NULL };
    sr->r_empty = aio_join_any(none, 2, AIO_NEVER);
    aio_task *s = aio_spawn(self_any, t[1]);
    sr->r_self = aio_join(s, AIO_NEVER);
    aio_task *c = aio_spawn(cancelled_any, &t[1]);
    aio_yield();
    aio_cancel(c);
    sr->r_cancelled = aio_join(c, AIO_NEVER);
    /* Somebody else joins t[1]: busy. */
    aio_task *j = aio_spawn(joiner, t[1]);
    aio_yield();
    sr->r_busy = aio_join_any(&t[1], 1, AIO_NEVER);
    aio_cancel(t[1]);
    aio_join(j, AIO_NEVER);
    return 0;
}

Test(join_any, finished_first_timeouts_and_refusals)
{
    struct small_run sr;
    cr_assert_eq(aio_run(refusals_main, &sr), 0);
    cr_assert_eq(sr.r_done, 2, "a finished task is named at once (got %d)", sr.r_done);
    cr_assert_eq(sr.r_timeout, -ETIMEDOUT, "got %d", sr.r_timeout);
    cr_assert(sr.waited >= 29 && sr.waited < 500, "waited %lld ms for a 30 ms deadline",
              (long long)sr.waited);
    cr_assert_eq(sr.r_empty, -EINVAL);
    cr_assert_eq(sr.r_self, -EDEADLK);
    cr_assert_eq(sr.r_busy, -EBUSY);
    cr_assert_eq(sr.r_cancelled, -ECANCELED);
}

/* ---- aio_group --------------------------------------------------------------------------- */

struct group_run {
    int rc, rc2;
    int64_t took;
    size_t live_before, live_after;
    int spawn_errno, respawn_ok;
};

static int all_ok_main(void *arg)
{
    struct group_run *gr = arg;
    aio_group *g = aio_group_new();
    for (int i = 0; i < N; i++) {
        kids[i].sleep_ms = shuffled[i];
        aio_group_spawn(g, kid_body, &kids[i]);
    }
    gr->live_before = aio_group_live(g);
    gr->rc = aio_group_wait(g, AIO_NEVER);
    gr->live_after = aio_group_live(g);
    /* Used again. */
    kids[0].sleep_ms = 3;
    kids[0].ended = 0;
    gr->respawn_ok = aio_group_spawn(g, kid_body, &kids[0]) != NULL;
    gr->rc2 = aio_group_wait(g, AIO_NEVER);
    aio_group_free(g);
    return 0;
}

Test(group, waits_for_every_child_and_can_be_reused)
{
    struct group_run gr = { 0 };
    reset_kids();
    cr_assert_eq(aio_run(all_ok_main, &gr), 0);
    cr_assert_eq(gr.rc, 0);
    cr_assert_eq(gr.live_before, N);
    cr_assert_eq(gr.live_after, 0);
    for (int i = 0; i < N; i++)
        cr_assert(kids[i].ended, "child %d had not ended when the wait returned", i);
    cr_assert(gr.respawn_ok);
    cr_assert_eq(gr.rc2, 0);
    cr_assert(kids[0].ended);
}

static int error_main(void *arg)
{
    struct group_run *gr = arg;
    aio_group *g = aio_group_new();
    int64_t t0 = aio_now();
    for (int i = 0; i < N; i++) {
        kids[i].sleep_ms = 10000;
        aio_group_spawn(g, kid_body, &kids[i]);
    }
    kids[5].sleep_ms = 15;
    kids[5].result = -EIO;
    kids[9].sleep_ms = 1000;   /* would fail later: cancelled first (far enough after child
                                * 5 that no loaded machine wakes both in one pass) */
    kids[9].result = -EPIPE;
    kids[2].sleep_ms = 10;     /* ended before the error: its result stands */
    kids[2].result = 0;
    gr->rc = aio_group_wait(g, AIO_NEVER);
    gr->took = aio_now() - t0;
    errno = 0;
    aio_group_cancel(g);
    gr->spawn_errno = aio_group_spawn(g, kid_body, &kids[0]) == NULL ? errno : 0;
    gr->rc2 = aio_group_wait(g, AIO_NEVER);
    aio_group_free(g);
    return 0;
}

Test(group, first_error_cancels_the_siblings)
{
    struct group_run gr = { 0 };
    reset_kids();
    cr_assert_eq(aio_run(error_main, &gr), 0);
    cr_assert_eq(gr.rc, -EIO, "the first error is -EIO (child 5); got %d", gr.rc);
    cr_assert_lt(gr.took, 2000, "the siblings were not cancelled: %lld ms", (long long)gr.took);
    for (int i = 0; i < N; i++) {
        cr_assert(kids[i].ended, "child %d outlived the group", i);
        if (i == 2 || i == 5)
            cr_assert_eq(kids[i].slept, 0, "child %d", i);
        else
            cr_assert_eq(kids[i].slept, -ECANCELED, "child %d: %d", i, kids[i].slept);
    }
    cr_assert_eq(gr.spawn_errno, ECANCELED);
    cr_assert_eq(gr.rc2, 0);
}

static int deadline_main(void *arg)
{
    struct group_run *gr = arg;
    aio_group *g = aio_group_new();
    int64_t t0 = aio_now();
    for (int i = 0; i < 7; i++)
        aio_group_spawn(g, kid_body, &kids[i]);
    for (int i = 0; i < 7; i++)
        kids[i].sleep_ms = 10000;
    gr->rc = aio_group_wait(g, aio_now() + 30);
    gr->took = aio_now() - t0;
    gr->live_after = aio_group_live(g);
    aio_group_free(g);
    return 0;
}

Test(group, deadline_cancels_and_still_waits)
{
    struct group_run gr = { 0 };
    reset_kids();
    cr_assert_eq(aio_run(deadline_main, &gr), 0);
    cr_assert_eq(gr.rc, -ETIMEDOUT, "got %d", gr.rc);
    cr_assert_eq(gr.live_after, 0);
    cr_assert(gr.took >= 29 && gr.took < 2000, "took %lld ms for a 30 ms deadline",
              (long long)gr.took);
    for (int i = 0; i < 7; i++)
        cr_assert(kids[i].ended, "child %d outlived the group", i);
}

struct cancel_run {
    aio_group *g;
    int rc;
};

static int group_waiter(void *arg)
{
    struct cancel_run *cr = arg;
    cr->g = aio_group_new();
    for (int i = 0; i < 7; i++) {
        kids[i].sleep_ms = 10000;
        aio_group_spawn(cr->g, kid_body, &kids[i]);
    }
    cr->rc = aio_group_wait(cr->g, AIO_NEVER);
    aio_group_free(cr->g);
    return cr->rc;
}

static int cancel_main(void *arg)
{
    struct cancel_run *cr = arg;
    aio_task *w = aio_spawn(group_waiter, cr);
    aio_sleep(10);
    aio_cancel(w);
    aio_join(w, AIO_NEVER);
    return 0;
}

Test(group, a_cancelled_waiter_cancels_the_children_and_waits)
{
    struct cancel_run cr = { 0 };
    reset_kids();
    cr_assert_eq(aio_run(cancel_main, &cr), 0);
    cr_assert_eq(cr.rc, -ECANCELED, "got %d", cr.rc);
    for (int i = 0; i < 7; i++) {
        cr_assert(kids[i].ended, "child %d outlived the group", i);
        cr_assert_eq(kids[i].slept, -ECANCELED);
    }
}
