/* Lesson 02 tests, timers: they fire in deadline order whatever order they were added in, ties
 * in the order added, never early, thousands of them, and cancelled ones never. */
#include "support.h"
#include "kit_test.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One test's timers. Lives in shared memory: the loop's child writes rec, the test reads it. */
struct timers {
    struct record rec;
    size_t n;
    uint64_t base;                 /* loop_now() when the timers were added */
    long delay[MAX_EVENTS];        /* ms after base */
    int64_t id[MAX_EVENTS];
    struct tag {
        struct timers *timers;
        int who;
    } tag[MAX_EVENTS];
};

static struct loop loop;
static struct timers *tm;

static void setup(void)
{
    open_loop(&loop);
    tm = shared_alloc_deferred(sizeof *tm);
}

TestSuite(timers, .init = setup, .fini = kit_cleanup, .timeout = 10);

/* The test process ran loop_add_timer (and so heap_push) before the fork. */
#define PARENT_CODE "the test process (which called loop_add_timer, so heap_push)"

static void on_timer(struct loop *l, void *arg)
{
    struct tag *tag = arg;

    record_event(&tag->timers->rec, l, tag->who);
}

/* Add a timer of ms as number tm->n. */
static void add(long ms)
{
    size_t i = tm->n;
    int64_t id;

    cr_assert_lt(i, MAX_EVENTS, "[setup] too many timers for one test");
    tm->tag[i] = (struct tag){ tm, (int)i };
    tm->delay[i] = ms;
    id = loop_add_timer(&loop, ms, on_timer, &tm->tag[i]);
    expect_done(id, "loop_add_timer", "timer_before (TODO 1) and heap_push (TODO 2)");
    cr_assert_gt(id, 0, "[add-failed] loop_add_timer(%ld ms) returned %lld (%s); expected an id "
                 "above 0.", ms, (long long)id, strerror((int)-id));
    tm->id[i] = id;
    tm->n++;
    tm->base = loop_now(&loop);
}

/* The delays of the first timers that fired, as "50, 10, 40 ms", for messages. */
static const char *fired_delays(char *buf, size_t len)
{
    size_t used = 0;
    long shown = tm->rec.n < 12 ? tm->rec.n : 12;

    buf[0] = '\0';
    for (long k = 0; k < shown && used < len; k++)
        used += (size_t)snprintf(buf + used, len - used, "%s%ld", k ? ", " : "",
                                 tm->delay[tm->rec.who[k]]);
    if (used < len)
        snprintf(buf + used, len - used, "%s ms", shown < tm->rec.n ? ", ..." : "");
    return buf;
}

/* Every timer fired once, none before its deadline, in (deadline, order added) order. */
static void expect_deadline_order(const char *what)
{
    static bool seen[MAX_EVENTS];
    char buf[160];

    memset(seen, 0, sizeof seen);
    cr_assert_leq(tm->rec.n, (long)tm->n, "[timer-twice] %s: %ld callbacks ran for %zu timers: "
                  "some timer fired more than once. Pop a timer before you call it.",
                  what, tm->rec.n, tm->n);
    for (long k = 0; k < tm->rec.n; k++) {
        int who = tm->rec.who[k];
        int prev = k > 0 ? tm->rec.who[k - 1] : -1;
        uint64_t due = tm->base + (uint64_t)tm->delay[who];

        cr_assert_not(seen[who], "[timer-twice] %s: timer #%d (%ld ms) fired twice. Either it "
                      "was called before it was popped, or heap_pop left a copy of it behind "
                      "(and lost another timer): did the moved last entry reach its final "
                      "place?", what, who, tm->delay[who]);
        seen[who] = true;
        cr_assert_geq(tm->rec.at[k], due, "[timer-early] %s: timer #%d (%ld ms) ran at +%llu "
                      "ms, before its deadline at +%ld ms. Run a timer only once its deadline "
                      "<= loop->now: poll() may return for other reasons than the first "
                      "deadline.", what, who, tm->delay[who],
                      (unsigned long long)(tm->rec.at[k] - tm->base), tm->delay[who]);
        if (prev < 0)
            continue;
        cr_assert_geq(tm->delay[who], tm->delay[prev], "[timer-order] %s: timer #%d (%ld ms) "
                      "fired after timer #%d (%ld ms); the order they fired in: %s. Timers "
                      "must fire in deadline order whatever order they were added in: is your "
                      "heap really ordered by deadline?", what, who, tm->delay[who], prev,
                      tm->delay[prev], fired_delays(buf, sizeof buf));
        cr_assert(tm->delay[who] != tm->delay[prev] || who > prev, "[timer-ties] %s: timers #%d "
                  "and #%d have the same deadline (%ld ms), but #%d, added later, fired first. "
                  "On equal deadlines the timer added first must fire first: compare ids when "
                  "deadlines are equal (a heap is not stable by itself).", what, prev, who,
                  tm->delay[who], prev);
    }
    cr_assert_eq(tm->rec.n, (long)tm->n, "[lost-timers] %s: %ld of %zu timers fired. Did the "
                 "heap lose entries (when it grew, or in heap_pop's sift down)?", what,
                 tm->rec.n, tm->n);
}

static struct run_report last_run;

static void run_and_check(const char *what)
{
    run_loop(&loop, RUN_LIMIT_S, &last_run);
    expect_clean_return(&last_run, tm->rec.n, (long)tm->n, what);
    expect_deadline_order(what);
}

Test(timers, fire_in_deadline_order_not_in_the_order_added)
{
    const long delays[] = { 50, 10, 40, 20, 30, 5 };

    for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++)
        add(delays[i]);
    run_and_check("6 timers added as 50, 10, 40, 20, 30, 5 ms");
    expect_sleeps(&last_run, 8, "50 ms for 6 timers");
    expect_no_oversleep(&last_run, tm->base + 50, "6 timers added as 50, 10, 40, 20, 30, 5 ms");
    kit_expect_no_leaks(PARENT_CODE);
}

Test(timers, equal_deadlines_fire_in_the_order_added)
{
    /* 16 timers: #0, #3, #6, ... at 10 ms, the others at 30 ms. */
    for (int i = 0; i < 16; i++)
        add(i % 3 == 0 ? 10 : 30);
    run_and_check("16 timers at 10 and 30 ms");
    kit_expect_no_leaks(PARENT_CODE);
}

Test(timers, thousands_of_random_timers_all_fire_in_order)
{
    unsigned seed = 2024; /* fixed: a failure can be replayed */

    /* Random deadlines within 200 ms, many shared: the heap grows from 16 to 8192 entries. */
    for (int i = 0; i < 5000; i++)
        add(rand_r(&seed) % 200);
    run_and_check("5000 timers within 200 ms");
    kit_expect_no_leaks(PARENT_CODE);
}

Test(timers, a_timer_cancelled_before_the_run_never_fires)
{
    struct run_report r;
    int64_t id;

    add(10);
    add(20);
    add(30);
    id = tm->id[1];
    cr_assert_eq(loop_cancel_timer(&loop, id), 0, "[cancel] loop_cancel_timer of a pending "
                 "timer should return 0.");
    cr_assert_eq(loop_cancel_timer(&loop, id), -ENOENT, "[cancel] cancelling the same timer "
                 "twice should return -ENOENT the second time.");
    run_loop(&loop, RUN_LIMIT_S, &r);
    /* The most telling evidence first: a loop that runs cancelled timers may also lose count
     * of the live ones and never return. */
    for (long k = 0; k < tm->rec.n; k++)
        cr_assert_neq(tm->rec.who[k], 1, "[cancelled-fired] the 20 ms timer was cancelled "
                      "before loop_run (loop_cancel_timer returned 0) but its callback ran. When "
                      "you pop an entry marked cancelled, drop it without calling it.");
    expect_clean_return(&r, tm->rec.n, 2, "timers at 10, 20 (cancelled) and 30 ms");
    cr_assert_eq(tm->rec.n, 2, "[lost-timers] %ld of the 2 live timers fired; expected both.",
                 tm->rec.n);
    kit_expect_no_leaks(PARENT_CODE);
}

/* ---- a callback that adds a timer and cancels another ------------------------------------- */

/* Timer A (10 ms) cancels B (40 ms), tries to cancel itself, and adds C (50 ms after it, so
 * that the loop is still running when B's deadline comes). */
struct juggle {
    struct record rec;
    struct loop *loop;
    int64_t id_a, id_b, id_c;
    size_t live_in_a;      /* loop->live_timers as A's callback saw it, before it did anything */
    int cancel_b_rc, cancel_self_rc;
};

enum { TIMER_A, TIMER_B, TIMER_C };

static void on_c(struct loop *l, void *arg)
{
    struct juggle *j = arg;

    record_event(&j->rec, l, TIMER_C);
}

static void on_b(struct loop *l, void *arg)
{
    struct juggle *j = arg;

    record_event(&j->rec, l, TIMER_B);
}

static void on_a(struct loop *l, void *arg)
{
    struct juggle *j = arg;

    record_event(&j->rec, l, TIMER_A);
    j->live_in_a = l->live_timers;
    j->cancel_b_rc = loop_cancel_timer(l, j->id_b);
    j->cancel_self_rc = loop_cancel_timer(l, j->id_a);
    j->id_c = loop_add_timer(l, 50, on_c, j);
}

Test(timers, a_callback_adds_a_timer_and_cancels_another)
{
    struct juggle *j = shared_alloc_deferred(sizeof *j);
    struct run_report r;
    bool b_fired = false, c_fired = false;

    j->id_a = loop_add_timer(&loop, 10, on_a, j);
    expect_done(j->id_a, "loop_add_timer", "timer_before (TODO 1) and heap_push (TODO 2)");
    j->id_b = loop_add_timer(&loop, 40, on_b, j);
    cr_assert(j->id_a > 0 && j->id_b > 0, "[add-failed] loop_add_timer returned %lld and %lld; "
              "expected ids above 0.", (long long)j->id_a, (long long)j->id_b);
    run_loop(&loop, RUN_LIMIT_S, &r);
    for (long k = 0; k < j->rec.n; k++) {
        b_fired = b_fired || j->rec.who[k] == TIMER_B;
        c_fired = c_fired || j->rec.who[k] == TIMER_C;
    }
    cr_assert_not(b_fired, "[cancelled-fired] timer B was cancelled from A's callback "
                  "(loop_cancel_timer returned %d) but B's callback ran anyway. When you pop an "
                  "entry marked cancelled, drop it without calling it.", j->cancel_b_rc);
    expect_clean_return(&r, j->rec.n, 2, "A (10 ms) cancels B (40 ms) and adds C (+50 ms)");
    cr_assert_gt(j->rec.n, 0, "[lost-timers] timer A (10 ms) never fired.");
    cr_assert_eq(j->rec.who[0], TIMER_A, "[timer-order] the first callback was not A's, the "
                 "earliest timer.");
    cr_assert_eq(j->cancel_b_rc, 0, "[cancel] A's call to loop_cancel_timer(B) returned %d; B "
                 "was pending, so it should return 0.", j->cancel_b_rc);
    cr_assert_eq(j->cancel_self_rc, -ENOENT, "[pop-before-call] inside A's callback, "
                 "loop_cancel_timer(A) returned %d instead of -ENOENT: A was still in the heap "
                 "while its callback ran. Pop a timer out of the heap first, then call it.",
                 j->cancel_self_rc);
    cr_assert_eq(j->live_in_a, 1, "[live-count] inside A's callback, loop->live_timers was %zu; "
                 "expected 1 (B, still pending). A timer that is running is no longer pending: "
                 "count it out before you call it, since the callback may read the count or "
                 "depend on it (loop.h: the timers that will still fire).", j->live_in_a);
    cr_assert_gt(j->id_c, 0, "[add-failed] loop_add_timer from inside A's callback returned "
                 "%lld.", (long long)j->id_c);
    cr_assert(c_fired, "[added-lost] timer C, added from A's callback, never fired. A callback "
              "may add timers: the loop must keep going while any timer is pending.");
    cr_assert_eq(j->rec.n, 2, "[timer-twice] %ld callbacks ran; expected 2 (A, then C).",
                 j->rec.n);
    kit_expect_no_leaks(PARENT_CODE);
}

/* ---- a cancel of a timer due in the same pass --------------------------------------------- */

/* A, B, C and D are all due at 20 ms, added in that order, so one pass runs them all. A
 * cancels C; C must not run although it was due when the pass began. */
struct same_pass {
    struct record rec;
    int64_t id[4];
    int cancel_rc;
};

static void on_same_pass(struct loop *l, void *arg)
{
    struct tag *tag = arg;
    struct same_pass *sp = (struct same_pass *)tag->timers;

    record_event(&sp->rec, l, tag->who);
    if (tag->who == 0)
        sp->cancel_rc = loop_cancel_timer(l, sp->id[2]);
}

Test(timers, a_timer_cancelled_by_a_callback_of_the_same_pass_never_fires)
{
    struct same_pass *sp = shared_alloc_deferred(sizeof *sp);
    struct tag *tags = shared_alloc_deferred(4 * sizeof *tags);
    const char *name = "ABCD";
    struct run_report r;
    char order[16] = "";

    for (int i = 0; i < 4; i++) {
        tags[i] = (struct tag){ (struct timers *)sp, i };
        sp->id[i] = loop_add_timer(&loop, 20, on_same_pass, &tags[i]);
        expect_done(sp->id[i], "loop_add_timer", "timer_before (TODO 1) and heap_push (TODO 2)");
        cr_assert_gt(sp->id[i], 0, "[add-failed] loop_add_timer(20 ms) returned %lld.",
                     (long long)sp->id[i]);
    }
    run_loop(&loop, RUN_LIMIT_S, &r);
    for (long k = 0; k < sp->rec.n && k < 8; k++)
        order[k] = name[sp->rec.who[k]];
    for (long k = 0; k < sp->rec.n; k++) {
        if (sp->rec.who[k] != 2)
            continue;
        cr_assert_eq(sp->cancel_rc, 0, "[cancel-same-pass] timers A, B, C and D were all due "
                     "at 20 ms; A's callback cancelled C, but loop_cancel_timer returned %s and "
                     "C ran anyway (the callbacks ran as %s): C was no longer in the heap when "
                     "A ran, taken out with the other due timers before the first was called. "
                     "Take out one timer, call it, then look at the heap again.",
                     kit_errname(sp->cancel_rc), order);
        cr_assert_fail("[cancel-same-pass] timers A, B, C and D were all due at 20 ms; A's "
                       "callback cancelled C (loop_cancel_timer returned 0), but C ran anyway "
                       "(the callbacks ran as %s). When a timer's turn comes, check its "
                       "cancelled mark.", order);
    }
    expect_clean_return(&r, sp->rec.n, 3, "four 20 ms timers, the first cancels the third");
    cr_assert_eq(sp->cancel_rc, 0, "[cancel] A's loop_cancel_timer(C) returned %s; C was "
                 "pending, so it should return 0.", kit_errname(sp->cancel_rc));
    cr_assert_str_eq(order, "ABD", "[timer-ties] four timers due at 20 ms, C cancelled by A: "
                     "the callbacks ran as \"%s\"; expected \"ABD\" (equal deadlines fire "
                     "in the order added).", order);
    kit_expect_no_leaks(PARENT_CODE);
}

/* ---- a callback slower than the gap to the next deadline ---------------------------------- */

static void on_slow(struct loop *l, void *arg)
{
    struct timespec d = { 0, 40 * 1000 * 1000 };

    on_timer(l, arg);
    while (nanosleep(&d, &d) != 0)
        continue;
}

Test(timers, a_slow_callback_makes_the_next_timers_due_at_once)
{
    struct run_report r;
    int64_t id;

    /* #0 at 10 ms takes 40 ms; #1 (20 ms) and #2 (30 ms) are overdue when it returns. */
    tm->tag[0] = (struct tag){ tm, 0 };
    tm->delay[0] = 10;
    id = loop_add_timer(&loop, 10, on_slow, &tm->tag[0]);
    expect_done(id, "loop_add_timer", "timer_before (TODO 1) and heap_push (TODO 2)");
    tm->id[0] = id;
    tm->n = 1;
    add(20);
    add(30);
    run_loop(&loop, RUN_LIMIT_S, &r);
    expect_clean_return(&r, tm->rec.n, 3, "a 10 ms timer whose callback takes 40 ms, then "
                        "timers at 20 and 30 ms, overdue by then");
    expect_deadline_order("a slow 10 ms timer, then 20 and 30 ms");
    kit_expect_no_leaks(PARENT_CODE);
}

/* ---- out of memory: heap_push reports it, and the heap is unchanged ----------------------- */

extern long fail_reallocs; /* support.c: the next N calls of realloc() from the loop fail */

Test(timers, a_timer_the_heap_has_no_room_for_is_refused_and_the_rest_still_fire)
{
    int64_t id;

    /* 16 timers fill the heap's first allocation; the 17th needs a realloc, which fails. */
    for (int i = 0; i < 16; i++)
        add(i % 4 == 0 ? 20 : 10 + i);
    fail_reallocs = 1;
    id = loop_add_timer(&loop, 5, on_timer, &tm->tag[0]);
    fail_reallocs = 0;
    cr_assert_eq(id, -ENOMEM, "[out-of-memory] loop_add_timer returned %s when the heap could "
                 "not grow (realloc failed); expected -ENOMEM. heap_push must pass on "
                 "heap_reserve's error and leave the heap as it was.", kit_errname(id));
    run_and_check("16 timers, then a 17th the heap had no room for");
    kit_expect_no_leaks(PARENT_CODE);
}

/* ---- timers added while the heap is part-emptied ------------------------------------------ */

#define WAVE 300 /* timers added before the run; each of them adds one more when it fires */

struct waves {
    struct record rec;
    uint32_t state;                /* the seeded generator the callbacks draw delays from */
    uint64_t base;                 /* loop_now() before the first timer was added */
    long n;                        /* timers added so far */
    uint64_t deadline[2 * WAVE];   /* loop_now() at the add + the delay */
    struct wtag {
        struct waves *w;
        int who;
    } tag[2 * WAVE];
};

static void on_wave(struct loop *l, void *arg)
{
    struct wtag *tag = arg;
    struct waves *w = tag->w;

    record_event(&w->rec, l, tag->who);
    if (tag->who < WAVE && w->n < 2 * WAVE) {
        long i = w->n++;
        long ms = (long)(kit_rand(&w->state) % 40);

        w->tag[i] = (struct wtag){ w, (int)i };
        w->deadline[i] = loop_now(l) + (uint64_t)ms;
        if (loop_add_timer(l, ms, on_wave, &w->tag[i]) <= 0)
            w->deadline[i] = 0; /* the count below tells */
    }
}

Test(timers, timers_added_by_callbacks_among_pending_ones_keep_the_order)
{
    struct waves *w = shared_alloc_deferred(sizeof *w);
    struct run_report r;

    /* The heap is popped and pushed in turn, never sorted by construction: a sift that climbs
     * to the wrong parent shows here, not when every push comes before every pop. */
    w->state = kit_seed();
    w->base = loop_now(&loop);
    for (int i = 0; i < WAVE; i++) {
        long ms = (long)(kit_rand(&w->state) % 60);
        int64_t id;

        w->tag[i] = (struct wtag){ w, i };
        w->deadline[i] = loop_now(&loop) + (uint64_t)ms;
        id = loop_add_timer(&loop, ms, on_wave, &w->tag[i]);
        expect_done(id, "loop_add_timer", "timer_before (TODO 1) and heap_push (TODO 2)");
        cr_assert_gt(id, 0, "[add-failed] loop_add_timer(%ld ms) returned %lld.", ms,
                     (long long)id);
        w->n++;
    }
    run_loop(&loop, RUN_LIMIT_S, &r);
    expect_clean_return(&r, w->rec.n, 2 * WAVE, "300 random timers, each adding one more");
    cr_assert_eq(w->rec.n, 2 * WAVE, "[lost-timers] %ld of %d timers fired (seed %u).",
                 w->rec.n, 2 * WAVE, kit_seed());
    /* Timers that fire with the same loop_now() come from one pass (or from passes in the
     * same ms, where the later one only holds timers added with a deadline of that very ms):
     * they must come out in (deadline, order added) order. */
    for (long k = 1; k < w->rec.n; k++) {
        int a = w->rec.who[k - 1], b = w->rec.who[k];

        if (w->rec.at[k] != w->rec.at[k - 1])
            continue;
        cr_assert(w->deadline[a] < w->deadline[b] || (w->deadline[a] == w->deadline[b] && a < b),
                  "[timer-order] in one pass, timer #%d (due +%llu ms) fired after timer #%d "
                  "(due +%llu ms), with timers added by callbacks between the pops (seed %u). "
                  "Does heap_push climb to the real parent, (i - 1) / 2, and heap_pop sift "
                  "down to the child that comes first?", b,
                  (unsigned long long)(w->deadline[b] - w->base), a,
                  (unsigned long long)(w->deadline[a] - w->base), kit_seed());
    }
    for (long k = 0; k < w->rec.n; k++)
        cr_assert_geq(w->rec.at[k], w->deadline[w->rec.who[k]], "[timer-early] timer #%d ran "
                      "before its deadline (seed %u).", w->rec.who[k], kit_seed());
    kit_expect_no_leaks(PARENT_CODE);
}
