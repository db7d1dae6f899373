/* Lesson 08 tests, part one: queue_put, queue_get and queue_close, driven from tasks the test
 * spawns. The witnesses: which item each call returns and in which order the calls return,
 * what the ring and the waiter lists hold once everything has settled, parks and unparks
 * counted (a put or get wakes at most one waiter; a waiter sleeps until something happens to
 * it), the same-pass races (a waiter cancelled, or unparked by a stranger, in the very pass it
 * is served), and close waking every waiter. Items are addresses of a test array, NULL and
 * repeated values among them, so an answer that compares items by value fails. */
#include "counted.h"
#include "queue.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kit_test.h"

#define NOT_YET (-12345)   /* a call that has not returned */

static void setup(void)
{
}

static void teardown(void)
{
    kit_cleanup();
}

TestSuite(queue, .init = setup, .fini = teardown, .timeout = 20);

/* A check inside a task: an assertion there would jump off the task's own stack, so the first
 * failure is written down, every helper task is cancelled, and the task returns; the test
 * function asserts it once the loop has ended. */
static char failure[1024];
static aio_task *helpers[64];
static int nhelpers;

static void bail(void)
{
    for (int i = 0; i < nhelpers; i++)
        if (helpers[i] != NULL && !aio_done(helpers[i]))
            aio_cancel(helpers[i]);
}

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            if (failure[0] == '\0')                                                            \
                snprintf(failure, sizeof failure, __VA_ARGS__);                                \
            bail();                                                                            \
            return -1;                                                                         \
        }                                                                                      \
    } while (0)
#define CHECK_DONE(rc, func)                                                                   \
    CHECK((rc) != -ENOSYS, "[not-done] %s still returns -ENOSYS: that is the skeleton's "     \
          "stub. Start at its TODO in queue.c (`make hint-%s` gives a hint).", (func),         \
          kit_lesson())

static struct queue *Q;    /* the queue under test (kit_alloc'd) */

/* Whatever a wrong answer left on the waiter lists lives in dead frames once the loop ends;
 * the ring is freed at kit_cleanup(). */
static void forget_queue(void *arg)
{
    struct queue *q = arg;

    q->getters.head = q->getters.tail = NULL;
    q->putters.head = q->putters.tail = NULL;
    queue_free(q);
}

static void run_checked(aio_fn main_fn, void *arg, size_t cap)
{
    failure[0] = '\0';
    nhelpers = 0;
    Q = kit_alloc(sizeof *Q);
    cr_assert_eq(queue_init(Q, cap), 0, "[harness] queue_init(%zu) failed", cap);
    kit_defer(forget_queue, Q);
    counted_reset();
    watching = 1;
    int rc = aio_run(main_fn, arg);
    watching = 0;
    cr_assert(failure[0] == '\0', "%s", failure);
    cr_assert_eq(rc, 0, "[deadlock] the test's loop ended with %s: every task was waiting and "
                 "nothing could wake any of them (a waiter nobody will ever unpark?).",
                 kit_errname(rc));
}

/* Items: addresses in this array (distinct), plus NULL and repeats where a test says so. */
static char item_store[QUEUE_CAP_MAX + 64];
#define ITEM(i) ((void *)&item_store[(i)])

/* One task's put or get, and what happened. */
struct actor {
    int id;
    void *item;            /* put: the item offered */
    int64_t deadline;
    int rc;
    void *got;             /* get: the item received */
    long done_at;          /* when it returned, in returns counted by the test (1, 2, ...) */
    aio_task *task;
};

static long returns;       /* the test's own count of actor returns */

static int put_actor(void *arg)
{
    struct actor *a = arg;
    a->rc = queue_put(Q, a->item, a->deadline);
    a->done_at = ++returns;
    return 0;
}

static int get_actor(void *arg)
{
    struct actor *a = arg;
    a->rc = queue_get(Q, &a->got, a->deadline);
    a->done_at = ++returns;
    return 0;
}

static struct actor *actors(int n)
{
    struct actor *a = kit_alloc_array((size_t)n, sizeof *a);

    for (int i = 0; i < n; i++) {
        a[i].id = i;
        a[i].deadline = AIO_NEVER;
        a[i].rc = NOT_YET;
        a[i].got = ITEM(QUEUE_CAP_MAX + 63);   /* never handed out */
    }
    returns = 0;
    return a;
}

static aio_task *helper(aio_fn fn, struct actor *a)
{
    aio_task *t = __real_aio_spawn(fn, a);
    a->task = t;
    if (nhelpers < 64)
        helpers[nhelpers++] = t;
    return t;
}

static int join_helper(struct actor *a)
{
    for (int i = 0; i < nhelpers; i++)
        if (helpers[i] == a->task)
            helpers[i] = NULL;
    int rc = a->task != NULL ? aio_join(a->task, AIO_NEVER) : 0;
    a->task = NULL;
    return rc;
}

/* Let every ready task run until nothing is left to do now (uncounted yields). */
static void settle(void)
{
    for (int i = 0; i < 8; i++)
        __real_aio_yield();
}

static size_t getters_waiting(void)
{
    return queue_waiter_count(&Q->getters);
}

static size_t putters_waiting(void)
{
    return queue_waiter_count(&Q->putters);
}

/* The item at place k of the ring (0 = the head). */
static void *ring_at(size_t k)
{
    return Q->ring[(Q->head + k) % Q->cap];
}

static const char *item_name(void *v)
{
    static char buf[4][32];
    static int r;
    char *b = buf[r++ % 4];
    if (v == NULL)
        return "NULL";
    if (v == ITEM(QUEUE_CAP_MAX + 63))
        return "nothing";
    long i = (char *)v - item_store;
    if (i >= 0 && i < (long)sizeof item_store)
        snprintf(b, 32, "item %ld", i);
    else
        snprintf(b, 32, "%p", v);
    return b;
}

/* ---- no waiting: FIFO through the ring --------------------------------------------------- */

/* A shuffled mix of puts and gets that never has to wait (room for each put, an item for each
 * get), against a model queue; then one put too many and one get too many, each with a
 * deadline already past. Items: distinct addresses, NULL, and one address used twice. */
struct mix {
    size_t cap;
    int ops;
};

static int mix_main(void *arg)
{
    const struct mix *m = arg;
    void **model = kit_alloc_array(m->cap, sizeof *model);
    size_t head = 0, len = 0;
    uint32_t st = kit_seed();
    int next = 0;

    for (int op = 0; op < m->ops; op++) {
        int put = len == 0 || (len < m->cap && kit_rand(&st) % 3 != 0);
        if (put) {
            void *item = next % 11 == 5   ? NULL
                         : next % 11 == 8 ? ITEM(3)
                                          : ITEM(next % (QUEUE_CAP_MAX + 60));
            next++;
            int rc = queue_put(Q, item, aio_now());
            CHECK_DONE(rc, "queue_put");
            CHECK(rc == 0, "[put-with-room] queue_put into a queue of %zu slots holding %zu "
                  "returned %s: a put that finds room adds its item at once.", m->cap, len,
                  kit_errname(rc));
            model[(head + len++) % m->cap] = item;
        } else {
            void *got = ITEM(QUEUE_CAP_MAX + 63);
            int rc = queue_get(Q, &got, aio_now());
            CHECK_DONE(rc, "queue_get");
            CHECK(rc == 0, "[get-with-item] queue_get from a queue holding %zu items returned "
                  "%s: a get that finds an item takes it at once.", len, kit_errname(rc));
            void *want = model[head];
            head = (head + 1) % m->cap;
            len--;
            CHECK(got == want, "[not-fifo] queue_get returned %s, expected %s, the oldest item "
                  "(capacity %zu, operation %d of a shuffled mix, KIT_SEED=%u): items come out "
                  "in the order they went in.", item_name(got), item_name(want), m->cap, op,
                  kit_seed());
        }
        CHECK(Q->len == len, "[queue-length] after operation %d the queue holds %zu items, "
              "expected %zu.", op, Q->len, len);
    }
    /* Fill it, then one more with the deadline already past: it must not go in. */
    while (len < m->cap) {
        void *item = ITEM(next++ % (QUEUE_CAP_MAX + 60));
        CHECK(queue_put(Q, item, aio_now()) == 0, "[put-with-room] a put with room failed");
        model[(head + len++) % m->cap] = item;
    }
    int rc = queue_put(Q, ITEM(QUEUE_CAP_MAX + 62), aio_now() - 1);
    CHECK(rc == -ETIMEDOUT, "[put-when-full] queue_put into a full queue (%zu of %zu), its "
          "deadline past, returned %s, expected -ETIMEDOUT.", len, m->cap, kit_errname(rc));
    CHECK(Q->len == m->cap && putters_waiting() == 0, "[put-when-full] after a put that timed "
          "out on a full queue, it holds %zu items (capacity %zu) and %zu putters wait.",
          Q->len, m->cap, putters_waiting());
    CHECK(parks <= 1, "[parked-with-room] %ld parks for puts and gets that never had to wait "
          "(one put timed out): a put with room and a get with an item never park.", parks);
    while (len > 0) {
        void *got = NULL;
        rc = queue_get(Q, &got, aio_now());
        CHECK(rc == 0 && got == model[head], "[not-fifo] draining a full queue of %zu: got %s "
              "(%s), expected %s (KIT_SEED=%u).", m->cap, item_name(got), kit_errname(rc),
              item_name(model[head]), kit_seed());
        head = (head + 1) % m->cap;
        len--;
    }
    void *untouched = ITEM(7);
    rc = queue_get(Q, &untouched, aio_now() - 1);
    CHECK(rc == -ETIMEDOUT && untouched == ITEM(7), "[get-when-empty] queue_get from an empty "
          "queue, its deadline past, returned %s and set *out to %s; expected -ETIMEDOUT and "
          "*out untouched.", kit_errname(rc), item_name(untouched));
    CHECK(Q->len == 0 && getters_waiting() == 0, "[get-when-empty] after a get that timed out, "
          "the queue holds %zu items and %zu getters wait.", Q->len, getters_waiting());
    CHECK(polls == 0 && unparks == 0, "[polling] %ld polls and %ld unparks with nobody "
          "waiting.", polls, unparks);
    return 0;
}

Test(queue, fifo_without_waiting)
{
    static const struct mix m13 = { .cap = 13, .ops = 200 };
    run_checked(mix_main, (void *)&m13, 13);
    kit_expect_no_leaks("queue_put");
}

Test(queue, one_slot_and_seven)
{
    static const struct mix m1 = { .cap = 1, .ops = 33 };
    run_checked(mix_main, (void *)&m1, 1);
    static const struct mix m7 = { .cap = 7, .ops = 101 };
    run_checked(mix_main, (void *)&m7, 7);
    kit_expect_no_leaks("queue_put");
}

Test(queue, largest_capacity)
{
    static const struct mix mx = { .cap = QUEUE_CAP_MAX, .ops = QUEUE_CAP_MAX + 333 };
    run_checked(mix_main, (void *)&mx, QUEUE_CAP_MAX);
    kit_expect_no_leaks("queue_put");
}

/* ---- waiting: FIFO among waiters, one wake-up each -------------------------------------- */

/* Seven putters on a full queue of 3, arriving in a shuffled order; then ten gets, one at a
 * time: the three items first, then the putters' items in the order the putters came. */
static int full_main(void *arg)
{
    const size_t *arrival = arg;
    struct actor *a = actors(7);

    for (int i = 0; i < 3; i++) {
        int rc = queue_put(Q, ITEM(100 + i), AIO_NEVER);
        CHECK_DONE(rc, "queue_put");
    }
    for (int k = 0; k < 7; k++) {
        struct actor *p = &a[arrival[k]];
        p->item = arrival[k] == 4 ? NULL : ITEM(arrival[k]);
        helper(put_actor, p);
        settle();
        CHECK(p->rc == NOT_YET, "[put-when-full] a put into a full queue returned %s at once; "
              "it should wait for room.", kit_errname(p->rc));
    }
    CHECK(Q->len == 3, "[queue-length] a full queue of 3 with 7 puts waiting holds %zu items.",
          Q->len);
    long parks_before = parks;
    for (int k = 0; k < 10; k++) {
        void *got = ITEM(QUEUE_CAP_MAX + 63);
        long unparks_before = unparks;
        int rc = queue_get(Q, &got, AIO_NEVER);
        CHECK_DONE(rc, "queue_get");
        long woke = unparks - unparks_before;
        CHECK(woke <= 1, "[wake-all] one queue_get with %d puts waiting called aio_unpark() "
              "%ld times: a get makes room for one item, so it wakes one put at most.",
              k < 7 ? 7 - k : 0, woke);
        settle();
        void *want = k < 3 ? ITEM(100 + k) : arrival[k - 3] == 4 ? NULL : ITEM(arrival[k - 3]);
        CHECK(rc == 0 && got == want, "[not-fifo] get %d returned %s (%s), expected %s: first "
              "the three items put while there was room, then the waiting puts' items in the "
              "order the puts began to wait (KIT_SEED=%u).", k + 1, item_name(got),
              kit_errname(rc), item_name(want), kit_seed());
        /* After get k (k >= 0) the first k+1 putters to arrive have put their item. */
        for (int j = 0; j < 7; j++) {
            struct actor *p = &a[arrival[j]];
            int should = j <= k;
            CHECK(should ? p->rc == 0 : p->rc == NOT_YET, "[put-order] after %d %s, the put "
                  "that began to wait %d-th has %s; expected %s: each get lets exactly one "
                  "waiting put in, the oldest (KIT_SEED=%u).", k + 1,
                  kit_plural(k + 1, "get", "gets"), j + 1,
                  p->rc == NOT_YET ? "not returned" : kit_errname(p->rc),
                  should ? "0" : "still waiting", kit_seed());
        }
    }
    CHECK(Q->len == 0 && putters_waiting() == 0, "[queue-length] after every item came out, "
          "the queue holds %zu items and %zu putters wait.", Q->len, putters_waiting());
    CHECK(parks - parks_before <= 7, "[poll-put] 7 waiting puts parked %ld more times while "
          "ten gets let them in one by one: a waiting put sleeps until a get makes room for "
          "it.", parks - parks_before);
    for (int i = 0; i < 7; i++)
        join_helper(&a[i]);
    return 0;
}

Test(queue, full_puts_wait_in_order)
{
    size_t arrival[7];
    uint32_t st = kit_seed();

    kit_shuffle(arrival, 7, &st);
    run_checked(full_main, arrival, 3);
    cr_assert(polls == 0, "[polling] queue_put and queue_get called aio_yield/aio_sleep %ld "
              "times: a waiter parks until it is served.", polls);
    kit_expect_no_leaks("queue_put");
}

/* Seven getters on an empty queue of 13, arriving in a shuffled order; then seven puts, one at
 * a time: each item goes to the oldest getter still waiting, and never sits in the ring. */
static int empty_main(void *arg)
{
    const size_t *arrival = arg;
    struct actor *a = actors(7);

    for (int k = 0; k < 7; k++) {
        helper(get_actor, &a[arrival[k]]);
        settle();
        CHECK_DONE(a[arrival[k]].rc == NOT_YET ? 0 : a[arrival[k]].rc, "queue_get");
        CHECK(a[arrival[k]].rc == NOT_YET, "[get-when-empty] a get from an empty queue "
              "returned %s at once; it should wait for an item.", kit_errname(a[arrival[k]].rc));
    }
    for (int k = 0; k < 7; k++) {
        void *item = k == 2 ? NULL : k == 5 ? ITEM(40) : ITEM(40 + k);   /* 5 repeats 0 */
        long unparks_before = unparks, parks_before = parks;
        int rc = queue_put(Q, item, AIO_NEVER);
        CHECK_DONE(rc, "queue_put");
        CHECK(rc == 0 && parks == parks_before, "[put-with-room] queue_put with getters "
              "waiting returned %s after %ld parks: there is room, it never waits.",
              kit_errname(rc), parks - parks_before);
        CHECK(unparks - unparks_before <= 1, "[wake-all] one queue_put with %d gets waiting "
              "called aio_unpark() %ld times: one item wakes one get.", 7 - k,
              unparks - unparks_before);
        settle();
        struct actor *g = &a[arrival[k]];
        CHECK(g->rc == 0 && g->got == item, "[not-fifo] put %d (%s) should have gone to the "
              "get that began to wait %d-th, the oldest still waiting; it has %s with %s "
              "(KIT_SEED=%u).", k + 1, item_name(item), k + 1,
              g->rc == NOT_YET ? "not returned" : kit_errname(g->rc), item_name(g->got),
              kit_seed());
        for (int j = k + 1; j < 7; j++)
            CHECK(a[arrival[j]].rc == NOT_YET, "[one-per-put] after %d %s, the get that began "
                  "to wait %d-th returned %s (with %s): each put serves exactly one get.",
                  k + 1, kit_plural(k + 1, "put", "puts"), j + 1,
                  kit_errname(a[arrival[j]].rc), item_name(a[arrival[j]].got));
        CHECK(Q->len == 0, "[queue-length] after put %d, taken by a waiting get, the queue "
              "holds %zu items, expected 0.", k + 1, Q->len);
    }
    CHECK(getters_waiting() == 0, "[stale-waiter] every get was served, yet %zu getters are "
          "still on the list.", getters_waiting());
    for (int i = 0; i < 7; i++)
        join_helper(&a[i]);
    return 0;
}

Test(queue, empty_gets_wait_in_order)
{
    size_t arrival[7];
    uint32_t st = kit_seed();

    kit_shuffle(arrival, 7, &st);
    run_checked(empty_main, arrival, 13);
    cr_assert(parks <= 7 + 2, "[poll-get] 7 waiting gets, each served once, parked %ld times: "
              "a waiting get sleeps until it is served.", parks);
    cr_assert(polls == 0, "[polling] queue_put and queue_get called aio_yield/aio_sleep %ld "
              "times: a waiter parks until it is served.", polls);
    kit_expect_no_leaks("queue_get");
}

/* ---- no overtaking ------------------------------------------------------------------------ */

/* A getter waits; this task puts an item and, in the same pass (the getter has not run yet),
 * asks for one itself: it must not take the item meant for the waiting getter. */
static int overtake_get_main(void *arg)
{
    (void)arg;
    struct actor *a = actors(1);

    helper(get_actor, &a[0]);
    settle();
    CHECK_DONE(a[0].rc == NOT_YET ? 0 : a[0].rc, "queue_get");
    int rc = queue_put(Q, ITEM(1), AIO_NEVER);
    CHECK_DONE(rc, "queue_put");
    void *got = ITEM(9);
    rc = queue_get(Q, &got, aio_now());
    CHECK(rc != 0, "[overtake] a task put an item while a get was waiting and took it back at "
          "once with its own queue_get (%s), before the waiting get ran: a newcomer must not "
          "take an item ahead of a waiting get.", item_name(got));
    CHECK(rc == -ETIMEDOUT && got == ITEM(9), "[overtake] the newcomer's get, its deadline "
          "now, returned %s with *out %s; expected -ETIMEDOUT, *out untouched.",
          kit_errname(rc), item_name(got));
    join_helper(&a[0]);
    CHECK(a[0].rc == 0 && a[0].got == ITEM(1), "[overtake] the waiting get returned %s with "
          "%s; expected 0 with item 1.", kit_errname(a[0].rc), item_name(a[0].got));
    return 0;
}

Test(queue, a_new_get_does_not_overtake)
{
    run_checked(overtake_get_main, NULL, 2);
    kit_expect_no_leaks("queue_get");
}

/* A full queue of one, a put waiting; this task gets the head (making room for the waiting
 * put) and, in the same pass, puts an item of its own: it must not take that room. */
static int overtake_put_main(void *arg)
{
    (void)arg;
    struct actor *a = actors(1);
    void *got = NULL;

    int rc = queue_put(Q, ITEM(0), AIO_NEVER);
    CHECK_DONE(rc, "queue_put");
    a[0].item = ITEM(1);
    helper(put_actor, &a[0]);
    settle();
    rc = queue_get(Q, &got, AIO_NEVER);
    CHECK_DONE(rc, "queue_get");
    CHECK(rc == 0 && got == ITEM(0), "[not-fifo] got %s, expected item 0", item_name(got));
    rc = queue_put(Q, ITEM(2), aio_now());
    CHECK(rc != 0, "[overtake] a put waited on a full queue; a get made room, and a newcomer's "
          "queue_put took that room before the waiting put ran: a newcomer must not put ahead "
          "of a waiting put.");
    CHECK(rc == -ETIMEDOUT, "[overtake] the newcomer's put, its deadline now, returned %s; "
          "expected -ETIMEDOUT.", kit_errname(rc));
    join_helper(&a[0]);
    CHECK(a[0].rc == 0, "[overtake] the waiting put returned %s, expected 0.",
          kit_errname(a[0].rc));
    got = NULL;
    rc = queue_get(Q, &got, aio_now());
    CHECK(rc == 0 && got == ITEM(1) && Q->len == 0, "[overtake] after the race the queue "
          "gave %s (%s) and holds %zu more; expected item 1, the waiting put's, and nothing "
          "else (the newcomer's put failed).", item_name(got), kit_errname(rc), Q->len);
    return 0;
}

Test(queue, a_new_put_does_not_overtake)
{
    run_checked(overtake_put_main, NULL, 1);
    kit_expect_no_leaks("queue_put");
}

/* ---- timeouts and cancellations --------------------------------------------------------- */

/* Two gets on an empty queue with the same deadline (40 ms), one put on a full queue with
 * another (40 ms too): all three time out, leave their lists, and nothing they touched stays
 * behind: an item put afterwards goes into the ring, and the full queue still holds only its
 * own items. */
static int timeout_main(void *arg)
{
    (void)arg;
    struct actor *a = actors(3);
    struct queue *full = kit_alloc(sizeof *full);
    int64_t t0 = aio_now();
    double busy0 = kit_starved_s();

    a[0].deadline = a[1].deadline = t0 + 40;
    helper(get_actor, &a[0]);
    helper(get_actor, &a[1]);
    settle();
    CHECK_DONE(a[0].rc == NOT_YET ? 0 : a[0].rc, "queue_get");
    long parks_before = parks;
    join_helper(&a[0]);
    join_helper(&a[1]);
    int64_t took = aio_now() - t0;
    /* Less the time the busy machine kept the test and server from a CPU, for the upper bound. */
    int64_t net = took - (int64_t)((kit_starved_s() - busy0) * 1000);
    for (int i = 0; i < 2; i++)
        CHECK(a[i].rc == -ETIMEDOUT && a[i].got == ITEM(QUEUE_CAP_MAX + 63), "[deadline-ignored] get "
              "%d on an empty queue, deadline 40 ms, returned %s with *out %s; expected "
              "-ETIMEDOUT, *out untouched.", i + 1, kit_errname(a[i].rc), item_name(a[i].got));
    CHECK(took >= 40 && net < 40 + 300, "[deadline-ignored] two gets with a 40 ms deadline "
          "returned after %lld ms.", (long long)took);
    CHECK(parks - parks_before <= 2, "[poll-get] two gets waiting 40 ms for nothing parked %ld "
          "more times: a waiter sleeps until its deadline, it does not wake to look.",
          parks - parks_before);
    CHECK(getters_waiting() == 0, "[stale-waiter] two gets timed out, yet %zu getters are "
          "still on the list: a waiter takes itself off on every way out.", getters_waiting());
    int rc = queue_put(Q, ITEM(5), AIO_NEVER);
    CHECK(rc == 0 && Q->len == 1 && ring_at(0) == ITEM(5), "[item-lost] a put after two "
          "gets timed out returned %s and the queue holds %zu items: the item went to a get "
          "that had given up.", kit_errname(rc), Q->len);

    /* A put on a full queue of 2 that times out. */
    struct queue *saved = Q;
    CHECK(queue_init(full, 2) == 0, "[harness] queue_init failed");
    kit_defer(forget_queue, full);
    Q = full;
    CHECK(queue_put(Q, ITEM(6), AIO_NEVER) == 0 && queue_put(Q, ITEM(7), AIO_NEVER) == 0,
          "[put-with-room] a put with room failed");
    a[2].item = ITEM(8);
    a[2].deadline = aio_now() + 40;
    helper(put_actor, &a[2]);
    join_helper(&a[2]);
    CHECK(a[2].rc == -ETIMEDOUT, "[deadline-ignored] a put on a full queue, deadline 40 ms, returned "
          "%s; expected -ETIMEDOUT.", kit_errname(a[2].rc));
    CHECK(putters_waiting() == 0, "[stale-waiter] a put timed out, yet %zu putters are still "
          "on the list.", putters_waiting());
    void *x = NULL, *y = NULL;
    CHECK(queue_get(Q, &x, aio_now()) == 0 && queue_get(Q, &y, aio_now()) == 0 &&
              x == ITEM(6) && y == ITEM(7) && Q->len == 0,
          "[timeout-put-kept] after a put timed out on a full queue, the queue gave %s, %s "
          "and still holds %zu: a put that failed adds nothing.", item_name(x), item_name(y),
          Q->len);
    queue_free(full);
    Q = saved;
    return 0;
}

Test(queue, timeouts_take_nothing)
{
    run_checked(timeout_main, NULL, 3);
    kit_expect_no_leaks("queue_get");
}

/* A get on an empty queue and a put on a full one, each cancelled while it waits: both return
 * -ECANCELED and leave their lists; an item put afterwards is in the ring, and the full queue
 * holds only its own items. */
static int cancel_main(void *arg)
{
    (void)arg;
    struct actor *a = actors(2);

    CHECK_DONE(queue_put(Q, ITEM(1), AIO_NEVER), "queue_put");
    a[0].item = ITEM(2);
    helper(put_actor, &a[0]);              /* a queue of 1, full: waits */
    settle();
    aio_cancel(a[0].task);
    join_helper(&a[0]);
    CHECK(a[0].rc == -ECANCELED, "[cancel] a waiting put, cancelled, returned %s; expected "
          "-ECANCELED.", kit_errname(a[0].rc));
    CHECK(putters_waiting() == 0, "[stale-waiter] a cancelled put is still on the list.");
    void *got = NULL;
    int rc = queue_get(Q, &got, aio_now());
    CHECK_DONE(rc, "queue_get");
    CHECK(rc == 0 && got == ITEM(1) && Q->len == 0, "[cancel-put-kept] after a waiting put "
          "was cancelled the queue gave %s (%s) and holds %zu more: a cancelled put adds "
          "nothing.", item_name(got), kit_errname(rc), Q->len);

    helper(get_actor, &a[1]);              /* empty: waits */
    settle();
    aio_cancel(a[1].task);
    join_helper(&a[1]);
    CHECK(a[1].rc == -ECANCELED && a[1].got == ITEM(QUEUE_CAP_MAX + 63), "[cancel] a waiting "
          "get, cancelled, returned %s with *out %s; expected -ECANCELED, *out untouched.",
          kit_errname(a[1].rc), item_name(a[1].got));
    CHECK(getters_waiting() == 0, "[stale-waiter] a cancelled get is still on the list.");
    rc = queue_put(Q, ITEM(3), AIO_NEVER);
    CHECK(rc == 0 && Q->len == 1 && ring_at(0) == ITEM(3), "[item-lost] a put after a "
          "waiting get was cancelled returned %s and the queue holds %zu items: the item went "
          "to a get that had left.", kit_errname(rc), Q->len);
    return 0;
}

Test(queue, cancelled_waiters_leave)
{
    run_checked(cancel_main, NULL, 1);
    kit_expect_no_leaks("queue_get");
}

/* Two gets wait, A before B. This task cancels A and puts an item in the same pass, before A
 * runs; then puts a second. Whatever A makes of it (keeps the first item, or leaves and hands
 * it on), each item reaches exactly one get, and none is left in the ring while B waits. */
static int serve_cancel_get_main(void *arg)
{
    (void)arg;
    struct actor *a = actors(2);

    helper(get_actor, &a[0]);
    settle();
    helper(get_actor, &a[1]);
    settle();
    CHECK_DONE(a[0].rc == NOT_YET ? 0 : a[0].rc, "queue_get");
    /* The cancel first: A is ready to run with -ECANCELED, but still on the list when the
     * put serves it. */
    aio_cancel(a[0].task);
    int rc = queue_put(Q, ITEM(1), AIO_NEVER);
    CHECK_DONE(rc, "queue_put");
    settle();
    CHECK(a[0].rc == 0 || a[0].rc == -ECANCELED, "[cancel] get A, served and cancelled in one "
          "pass, returned %s; expected 0 (it kept the item) or -ECANCELED.",
          kit_errname(a[0].rc));
    if (a[0].rc == 0) {
        CHECK(a[0].got == ITEM(1), "[item-lost] get A returned 0 with %s, expected item 1.",
              item_name(a[0].got));
        CHECK(a[1].rc == NOT_YET, "[item-twice] get A kept item 1, yet get B returned %s "
              "with %s.", kit_errname(a[1].rc), item_name(a[1].got));
    } else {
        CHECK(a[1].rc != NOT_YET || Q->len == 0, "[lost-wakeup] get A, cancelled in the pass "
              "it was served, left without item 1, and get B is still asleep while item 1 "
              "sits in the queue: the wake-up A did not use must go to the next get.");
        CHECK(a[1].rc == 0 && a[1].got == ITEM(1), "[item-lost] get A left without item 1, "
              "and get B has %s, holding %s: the item goes to the next waiting get.",
              a[1].rc == NOT_YET ? "not returned" : kit_errname(a[1].rc), item_name(a[1].got));
    }
    rc = queue_put(Q, ITEM(2), AIO_NEVER);
    settle();
    CHECK(rc == 0 && a[1].rc == 0 && Q->len == (a[0].rc == 0 ? 0u : 1u),
          "[item-lost] after a second put, get B has %s with %s and the queue holds %zu "
          "items.", a[1].rc == NOT_YET ? "not returned" : kit_errname(a[1].rc),
          item_name(a[1].got), Q->len);
    CHECK(getters_waiting() == 0, "[stale-waiter] every get has returned, yet %zu are still "
          "on the list.", getters_waiting());
    join_helper(&a[0]);
    join_helper(&a[1]);
    return 0;
}

Test(queue, get_cancelled_as_it_is_served)
{
    run_checked(serve_cancel_get_main, NULL, 4);
    kit_expect_no_leaks("queue_get");
}

/* A full queue of one (item 0); puts A (item 1) and B (item 2) wait, A first. This task
 * cancels A and gets item 0, which makes room for A, in the same pass. Whatever A makes of it,
 * every item a put returned 0 for comes out exactly once, the others never, and the room is
 * not wasted while B waits. */
static int serve_cancel_put_main(void *arg)
{
    (void)arg;
    struct actor *a = actors(2);
    void *got = NULL;

    int rc = queue_put(Q, ITEM(0), AIO_NEVER);
    CHECK_DONE(rc, "queue_put");
    a[0].item = ITEM(1);
    a[1].item = ITEM(2);
    helper(put_actor, &a[0]);
    settle();
    helper(put_actor, &a[1]);
    settle();
    aio_cancel(a[0].task);             /* A is cancelled, then let in, in one pass */
    rc = queue_get(Q, &got, AIO_NEVER);
    CHECK_DONE(rc, "queue_get");
    settle();
    CHECK(a[0].rc == 0 || a[0].rc == -ECANCELED, "[cancel] put A, let in and cancelled in one "
          "pass, returned %s; expected 0 (its item went in) or -ECANCELED.",
          kit_errname(a[0].rc));
    int a_in = 0;
    for (size_t k = 0; k < Q->len; k++)
        a_in += ring_at(k) == ITEM(1);
    CHECK(a[0].rc == 0 || a_in == 0, "[item-twice] put A returned %s, yet its item is in the "
          "queue: the caller still thinks it owns it (and may put it again, or free it). A put "
          "served in the pass it was cancelled either returns 0 or takes its item back out.",
          kit_errname(a[0].rc));
    CHECK(a[0].rc == 0 || a[1].rc == 0, "[lost-wakeup] put A, cancelled in the pass a get "
          "made room for it, left without its item, and put B is still asleep with %zu of 1 "
          "slot used: the room A did not use must go to the next put.", Q->len);
    void *out[3];
    size_t nout = 0;
    while (nout < 3 && queue_get(Q, &out[nout], aio_now()) == 0) {
        nout++;
        settle();
    }
    size_t want = (a[0].rc == 0) + (a[1].rc == 0);
    CHECK(nout == want, "[item-twice] puts A and B returned %s and %s, yet %zu items came out "
          "afterwards, expected %zu: an item is in the queue exactly when its put returned 0.",
          kit_errname(a[0].rc), kit_errname(a[1].rc), nout, want);
    size_t k = 0;
    if (a[0].rc == 0)
        CHECK(out[k++] == ITEM(1), "[not-fifo] put A's item should come out first.");
    if (a[1].rc == 0)
        CHECK(out[k++] == ITEM(2), "[item-lost] put B returned 0, but %s came out, not its "
              "item.", item_name(out[k - 1]));
    CHECK(putters_waiting() == 0, "[stale-waiter] every put has returned, yet %zu are still "
          "on the list.", putters_waiting());
    join_helper(&a[0]);
    join_helper(&a[1]);
    return 0;
}

Test(queue, put_cancelled_as_it_is_served)
{
    run_checked(serve_cancel_put_main, NULL, 1);
    kit_expect_no_leaks("queue_put");
}

/* A stranger's aio_unpark() of a waiting get and of a waiting put: neither was served, so
 * both wait on, still on their lists, until something real happens. */
static int stray_main(void *arg)
{
    (void)arg;
    struct actor *a = actors(2);
    struct queue *full = kit_alloc(sizeof *full);

    helper(get_actor, &a[0]);
    settle();
    CHECK_DONE(a[0].rc == NOT_YET ? 0 : a[0].rc, "queue_get");
    __real_aio_unpark(a[0].task);
    settle();
    CHECK(a[0].rc == NOT_YET, "[stray-wakeup] a waiting get, unparked by a stranger with no "
          "item put, returned %s with %s: aio_park() returning 0 says only that someone "
          "unparked you; with nothing handed over, wait on.", kit_errname(a[0].rc),
          item_name(a[0].got));
    CHECK(getters_waiting() == 1, "[stray-wakeup] after a stray wake-up the get is no longer "
          "on the list (%zu waiting).", getters_waiting());
    CHECK(queue_put(Q, ITEM(4), AIO_NEVER) == 0, "[put-with-room] a put with room failed");
    join_helper(&a[0]);
    CHECK(a[0].rc == 0 && a[0].got == ITEM(4), "[stray-wakeup] after the real put the get "
          "returned %s with %s; expected item 4.", kit_errname(a[0].rc), item_name(a[0].got));

    struct queue *saved = Q;
    CHECK(queue_init(full, 1) == 0, "[harness] queue_init failed");
    kit_defer(forget_queue, full);
    Q = full;
    CHECK(queue_put(Q, ITEM(5), AIO_NEVER) == 0, "[put-with-room] a put with room failed");
    a[1].item = ITEM(6);
    helper(put_actor, &a[1]);
    settle();
    __real_aio_unpark(a[1].task);
    settle();
    CHECK(a[1].rc == NOT_YET && Q->len == 1 && ring_at(0) == ITEM(5), "[stray-wakeup] a put "
          "waiting on a full queue, unparked by a stranger, returned %s and the queue holds "
          "%zu items (head %s): with no room made, wait on.",
          a[1].rc == NOT_YET ? "nothing yet" : kit_errname(a[1].rc), Q->len,
          item_name(ring_at(0)));
    void *x = NULL, *y = NULL;
    CHECK(queue_get(Q, &x, AIO_NEVER) == 0 && x == ITEM(5), "[not-fifo] got %s", item_name(x));
    join_helper(&a[1]);
    CHECK(a[1].rc == 0 && queue_get(Q, &y, aio_now()) == 0 && y == ITEM(6), "[stray-wakeup] "
          "the put returned %s and the queue then gave %s; expected 0 and item 6.",
          kit_errname(a[1].rc), item_name(y));
    queue_free(full);
    Q = saved;
    return 0;
}

Test(queue, a_stray_wakeup_is_not_an_item)
{
    run_checked(stray_main, NULL, 2);
    kit_expect_no_leaks("queue_get");
}

/* ---- close -------------------------------------------------------------------------------- */

/* Five gets wait on an empty queue: a close wakes every one of them with -EPIPE. */
static int close_getters_main(void *arg)
{
    (void)arg;
    struct actor *a = actors(5);

    for (int i = 0; i < 5; i++)
        helper(get_actor, &a[i]);
    settle();
    CHECK_DONE(a[0].rc == NOT_YET ? 0 : a[0].rc, "queue_get");
    int rc = queue_close(Q);
    CHECK_DONE(rc, "queue_close");
    CHECK(rc == 0, "[close-rc] the first queue_close returned %s, expected 0.",
          kit_errname(rc));
    settle();
    int woke = 0;
    for (int i = 0; i < 5; i++)
        woke += a[i].rc != NOT_YET;
    CHECK(woke == 5, "[close-no-wake] after queue_close, %d of the 5 gets waiting on the "
          "empty queue returned: close wakes every waiter.", woke);
    for (int i = 0; i < 5; i++)
        CHECK(a[i].rc == -EPIPE && a[i].got == ITEM(QUEUE_CAP_MAX + 63), "[close-get-rc] a "
              "get waiting when the queue was closed returned %s with *out %s; expected -EPIPE, "
              "*out untouched.", kit_errname(a[i].rc), item_name(a[i].got));
    CHECK(getters_waiting() == 0, "[stale-waiter] after close, %zu gets are still on the "
          "list.", getters_waiting());
    rc = queue_close(Q);
    CHECK(rc == -EALREADY, "[close-twice] a second queue_close returned %s, expected "
          "-EALREADY.", kit_errname(rc));
    for (int i = 0; i < 5; i++)
        join_helper(&a[i]);
    return 0;
}

Test(queue, close_wakes_every_get)
{
    run_checked(close_getters_main, NULL, 7);
    cr_assert(polls == 0, "[polling] %ld polls while gets waited for a close.", polls);
    kit_expect_no_leaks("queue_close");
}

/* A full queue of 2 (items 0 and 1) with three puts waiting: a close fails the three with
 * -EPIPE, their items never go in; a put afterwards fails at once; gets take items 0 and 1,
 * then say -EPIPE at once, even with no deadline. */
static int close_putters_main(void *arg)
{
    (void)arg;
    struct actor *a = actors(3);

    int rc = queue_put(Q, ITEM(0), AIO_NEVER);
    CHECK_DONE(rc, "queue_put");
    queue_put(Q, NULL, AIO_NEVER);       /* item 1 is NULL: a closed queue still hands it out */
    for (int i = 0; i < 3; i++) {
        a[i].item = ITEM(10 + i);
        helper(put_actor, &a[i]);
    }
    settle();
    rc = queue_close(Q);
    CHECK_DONE(rc, "queue_close");
    settle();
    int woke = 0;
    for (int i = 0; i < 3; i++)
        woke += a[i].rc != NOT_YET;
    CHECK(woke == 3, "[close-no-wake] after queue_close, %d of the 3 puts waiting on the full "
          "queue returned: close wakes every waiter.", woke);
    for (int i = 0; i < 3; i++)
        CHECK(a[i].rc == -EPIPE, "[close-put-rc] a put waiting when the queue was closed "
              "returned %s; expected -EPIPE.", kit_errname(a[i].rc));
    CHECK(putters_waiting() == 0, "[stale-waiter] after close, %zu puts are still on the "
          "list.", putters_waiting());
    rc = queue_put(Q, ITEM(20), AIO_NEVER);
    CHECK(rc == -EPIPE, "[put-after-close] queue_put on a closed queue returned %s; expected "
          "-EPIPE.", kit_errname(rc));
    void *got[2] = { ITEM(99), ITEM(99) };
    int64_t t0 = aio_now();          /* the get on the empty queue must not wait to t0 + 2 s */
    int r0 = queue_get(Q, &got[0], AIO_NEVER);
    int r1 = queue_get(Q, &got[1], AIO_NEVER);
    CHECK(r0 == 0 && r1 == 0 && got[0] == ITEM(0) && got[1] == NULL, "[close-lost-items] a "
          "closed queue holding item 0 and NULL gave %s (%s) and %s (%s): a closed queue still "
          "hands out what it holds, in order.", item_name(got[0]), kit_errname(r0),
          item_name(got[1]), kit_errname(r1));
    void *none = ITEM(98);
    rc = queue_get(Q, &none, t0 + 2000);
    CHECK(rc == -EPIPE && none == ITEM(98), "[close-get-rc] a get on a closed, empty queue "
          "returned %s with *out %s; expected -EPIPE at once, *out untouched.",
          kit_errname(rc), item_name(none));
    CHECK(Q->len == 0, "[close-put-kept] after close and draining, the queue still holds %zu "
          "items: the puts that failed added nothing.", Q->len);
    for (int i = 0; i < 3; i++)
        join_helper(&a[i]);
    return 0;
}

Test(queue, close_fails_puts_and_drains)
{
    run_checked(close_putters_main, NULL, 2);
    kit_expect_no_leaks("queue_close");
}

/* Outside any task: a close, then a put and a get that need not wait. */
Test(queue, close_outside_a_task)
{
    struct queue *q = kit_alloc(sizeof *q);
    void *got = ITEM(1);

    cr_assert_eq(queue_init(q, 3), 0, "[harness] queue_init failed");
    kit_defer(forget_queue, q);
    int rc = queue_close(q);
    kit_expect_done(rc, "queue_close", "queue.c");
    cr_assert_eq(rc, 0, "[close-rc] queue_close of an open queue, outside a task, returned %s.",
                 kit_errname(rc));
    rc = queue_put(q, ITEM(2), AIO_NEVER);
    cr_assert_eq(rc, -EPIPE, "[put-after-close] queue_put on a closed queue returned %s; "
                 "expected -EPIPE (it never has to wait).", kit_errname(rc));
    rc = queue_get(q, &got, AIO_NEVER);
    cr_assert(rc == -EPIPE && got == ITEM(1), "[close-get-rc] queue_get on a closed, empty "
              "queue returned %s; expected -EPIPE, *out untouched.", kit_errname(rc));
    cr_assert_eq(queue_close(q), -EALREADY, "[close-twice] a second close did not return "
                 "-EALREADY.");
    kit_expect_no_leaks("queue_close");
}
