/* Lesson 09 tests, part one: record_offload and digest_offload. The witnesses: which thread
 * each digest, ledger write and sleep ran on (the wrapped calls compare it with the loop's);
 * digests and writes running at once, held at a gate the test opens when it is ready, so that
 * "the call returned while the work still ran" is an order of events, not a time; the ledger's
 * contents; permits taken and given back; whether aio_to_thread was handed a task's own stack;
 * whether a digest came to read a body already freed; memory the caller gave up, filled with a
 * sentinel and looked at again after the loop; leaks. */
#include "common.h"
#include "counted.h"
#include "kit.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kit_test.h"

TestSuite(record, .init = setup, .fini = teardown, .timeout = 30);
TestSuite(digest, .init = setup, .fini = teardown, .timeout = 30);

#define CALLS_MAX 16
#define NOT_RETURNED 77777

/* One call of the code under test, in a task of its own; the struct is on the heap. */
struct call {
    struct scene *s;
    char *body;                       /* digest_offload's input */
    size_t len;
    size_t id;                        /* record_offload's input */
    uint64_t digest;
    long deadline_ms;                 /* from the call's start; 0: AIO_NEVER */
    uint64_t out;                     /* digest_offload's output; SENTINEL until written */
    int fail_malloc;                  /* refuse the call's first malloc */
    long refused;                     /* mallocs refused during the call */
    int rc;
    long ended_at_return;             /* digests (writes) ended when the call returned */
};

static int64_t deadline_of(const struct call *c)
{
    return c->deadline_ms > 0 ? aio_now() + c->deadline_ms : AIO_NEVER;
}

static int call_record(void *arg)
{
    struct call *c = arg;
    int64_t deadline = deadline_of(c);
    malloc_fail_next = c->fail_malloc;
    c->rc = record_offload(&c->s->b, c->id, c->digest, deadline);
    malloc_fail_next = 0;
    c->refused = malloc_refused;
    c->ended_at_return = atomic_load(&writes_ended);
    return c->rc;
}

static int call_digest(void *arg)
{
    struct call *c = arg;
    int64_t deadline = deadline_of(c);
    malloc_fail_next = c->fail_malloc;
    c->rc = digest_offload(&c->s->b, c->body, c->len, &c->out, deadline);
    malloc_fail_next = 0;
    c->refused = malloc_refused;
    c->ended_at_return = atomic_load(&digests_ended);
    return c->rc;
}

struct calls {
    struct call *c;
    size_t n;
    aio_task *t[CALLS_MAX];
    long running_at_once;             /* digests (writes) started while the gate was closed */
    size_t waiting_at_once;           /* tasks queued for a permit then */
    int value_after_cancel;           /* the batch's free permits once the victim was joined */
};

static struct calls *calls_new(struct scene *s, size_t n)
{
    struct calls *k = kit_alloc(sizeof *k);
    k->c = kit_alloc_array(n, sizeof *k->c);
    k->n = n;
    for (size_t i = 0; i < n; i++) {
        k->c[i].s = s;
        k->c[i].out = SENTINEL;
        k->c[i].rc = NOT_RETURNED;
    }
    s->data = k;
    return k;
}

static void spawn_all(struct calls *k, aio_fn fn)
{
    for (size_t i = 0; i < k->n; i++)
        k->t[i] = aio_spawn(fn, &k->c[i]);
}

static int all_done(const struct calls *k)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->t[i] != NULL && !aio_done(k->t[i]))
            return 0;
    return 1;
}

static void join_all(struct calls *k)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->t[i] != NULL)
            aio_join(k->t[i], AIO_NEVER);
}

static void expect_returned(const struct calls *k, const char *func)
{
    for (size_t i = 0; i < k->n; i++)
        kit_expect_done(k->c[i].rc, func, "offload.c");
}

/* ---- record_offload -------------------------------------------------------------------------- */

/* Every call at once, the writes held at the gate until four run (the pool's threads). */
static int steps_all_writes(struct scene *s)
{
    struct calls *k = s->data;
    gate_close(GATE_WRITE);
    spawn_all(k, call_record);
    struct kit_wait w = { .what = "the writes to start" };
    kit_wait_until(&w, atomic_load(&writes_started) >= (k->n < 4 ? (long)k->n : 4) || all_done(k),
                   __real_aio_sleep(1));
    k->running_at_once = atomic_load(&writes_started);
    gate_open(GATE_WRITE);
    join_all(k);
    return 0;
}

Test(record, seven_writes_on_the_pools_threads)
{
    static const uint64_t digests[7] = { 0x1111, 0xfeedface, 0x1111, 0, 0x7777777777, 42,
                                         0xffffffffffffffffULL };
    struct scene s = { .cap = 2, .ids = 7, .write_ms = 5, .rounds = 1, .steps = steps_all_writes };
    struct calls *k = calls_new(&s, 7);
    for (size_t i = 0; i < 7; i++) {
        k->c[i].id = i;
        k->c[i].digest = digests[i];
    }
    run_scene(&s);
    expect_returned(k, "record_offload");
    expect_off_the_loop("record_offload");
    for (size_t i = 0; i < 7; i++)
        cr_assert_eq(k->c[i].rc, 0, "[record-rc] record_offload of id %zu returned %s, "
                     "expected ledger_write's 0.", i, kit_errname(k->c[i].rc));
    expect_ledger(&s, digests, 7);
    cr_assert(k->running_at_once >= 4, "[threads-idle] 7 writes were handed over at once, yet "
              "only %ld of them ran at once (the pool has 4 threads): each write goes to the "
              "pool as its own job, none waiting for another.", k->running_at_once);
    expect_released("record_offload", &s);
    kit_expect_no_leaks("record_offload");
}

Test(record, a_refused_write_is_its_result)
{
    static const uint64_t digests[2] = { 3, 4 };
    struct scene s = { .cap = 2, .ids = 2, .write_ms = 1, .rounds = 1, .steps = steps_all_writes };
    struct calls *k = calls_new(&s, 3);
    k->c[0].id = 0;
    k->c[0].digest = 3;
    k->c[1].id = 1;
    k->c[1].digest = 4;
    k->c[2].id = 9;                   /* out of range: ledger_write says -ERANGE */
    k->c[2].digest = 5;
    run_scene(&s);
    expect_returned(k, "record_offload");
    cr_assert_eq(k->c[2].rc, -ERANGE, "[record-rc] record_offload of an id the ledger refuses "
                 "returned %s, expected ledger_write's own -ERANGE.", kit_errname(k->c[2].rc));
    cr_assert(k->c[0].rc == 0 && k->c[1].rc == 0, "[record-rc] record_offload returned %s and "
              "%s for two good writes, expected 0.", kit_errname(k->c[0].rc),
              kit_errname(k->c[1].rc));
    for (size_t i = 0; i < 2; i++)
        expect_write(&s, i, digests[i], 1, "");
    expect_off_the_loop("record_offload");
    expect_released("record_offload", &s);
    kit_expect_no_leaks("record_offload");
}

/* Call 0's write starts; then it is cancelled (or its deadline passes) while the gate holds
 * the write; the gate opens only once the call has returned. */
static int steps_abandon_write(struct scene *s)
{
    struct calls *k = s->data;
    gate_close(GATE_WRITE);
    spawn_all(k, call_record);
    if (!until_started(&writes_started, 1, k->t[0]))
        s->problem = "[not-written] record_offload never started its write (ledger_write was "
                     "never called within 5 s).";
    if (k->c[0].deadline_ms == 0)
        aio_cancel(k->t[0]);
    until_done(k->t[0]);
    gate_open(GATE_WRITE);
    join_all(k);
    until_count(&writes_ended, atomic_load(&writes_started));
    return 0;
}

static void record_abandoned(long deadline_ms, int want_rc, const char *how)
{
    struct scene s = { .cap = 2, .ids = 5, .write_ms = 1, .rounds = 1,
                       .steps = steps_abandon_write };
    struct calls *k = calls_new(&s, 1);
    k->c[0].id = 3;
    k->c[0].digest = 0xabcdef0123ULL;
    k->c[0].deadline_ms = deadline_ms;
    run_scene(&s);
    expect_returned(k, "record_offload");
    expect_off_the_loop("record_offload");
    cr_assert_eq(k->c[0].rc, want_rc, "[%s] record_offload, %s while its write ran, returned "
                 "%s; expected %s.", deadline_ms ? "deadline-rc" : "cancel-rc", how,
                 kit_errname(k->c[0].rc), kit_errname(want_rc));
    cr_assert_eq(k->c[0].ended_at_return, 0, "[waited-for-thread] record_offload, %s, returned "
                 "only after the write had ended: it should return at once and leave the write "
                 "to its thread.", how);
    expect_write(&s, 3, 0xabcdef0123ULL, 1, "");
    expect_released("record_offload", &s);
    kit_expect_no_leaks("record_offload");
}

Test(record, cancelled_while_its_write_runs)
{
    record_abandoned(0, -ECANCELED, "cancelled");
}

Test(record, a_deadline_while_its_write_runs)
{
    record_abandoned(40, -ETIMEDOUT, "past its deadline");
}

/* Cancelled before it ever ran: its task's first call is record_offload. */
static int steps_cancel_first(struct scene *s)
{
    struct calls *k = s->data;
    spawn_all(k, call_record);
    aio_cancel(k->t[0]);
    join_all(k);
    return 0;
}

Test(record, cancelled_before_it_ran)
{
    struct scene s = { .cap = 2, .ids = 5, .write_ms = 1, .rounds = 1,
                       .steps = steps_cancel_first };
    struct calls *k = calls_new(&s, 2);
    k->c[0].id = 4;
    k->c[0].digest = 0x99;
    k->c[1].id = 1;
    k->c[1].digest = 0x98;
    run_scene(&s);
    expect_returned(k, "record_offload");
    cr_assert_eq(k->c[0].rc, -ECANCELED, "[cancel-rc] record_offload in a task cancelled before "
                 "it ran returned %s, expected -ECANCELED.", kit_errname(k->c[0].rc));
    cr_assert_eq(k->c[1].rc, 0, "[record-rc] record_offload returned %s, expected 0.",
                 kit_errname(k->c[1].rc));
    /* aio_to_thread hands the job over even then (aio.h): the write lands, its job is freed. */
    expect_write(&s, 4, 0x99, 1, "");
    expect_write(&s, 1, 0x98, 1, "");
    expect_off_the_loop("record_offload");
    expect_released("record_offload", &s);
    kit_expect_no_leaks("record_offload");
}

static int steps_plain(struct scene *s)
{
    struct calls *k = s->data;
    for (size_t i = 0; i < k->n; i++) {
        k->t[i] = aio_spawn(k->c[i].body != NULL || k->c[i].len > 0 ? call_digest : call_record,
                            &k->c[i]);
        aio_join(k->t[i], AIO_NEVER);
        k->t[i] = NULL;
    }
    return 0;
}

Test(record, no_thread_to_be_had)
{
    struct scene s = { .cap = 2, .ids = 5, .write_ms = 1, .rounds = 1, .steps = steps_plain,
                       .fail_at = 1 };
    struct calls *k = calls_new(&s, 2);
    k->c[0].id = 1;
    k->c[0].digest = 5;
    k->c[1].id = 2;
    k->c[1].digest = 6;
    run_scene(&s);
    expect_returned(k, "record_offload");
    cr_assert_eq(k->c[0].rc, -ENOMEM, "[refused-rc] record_offload returned %s when "
                 "aio_to_thread refused the work with -ENOMEM; expected -ENOMEM.",
                 kit_errname(k->c[0].rc));
    cr_assert_eq(k->c[1].rc, 0, "[record-rc] the next record_offload returned %s, expected 0.",
                 kit_errname(k->c[1].rc));
    expect_write(&s, 1, 5, 0, "aio_to_thread refused that write");
    expect_write(&s, 2, 6, 1, "");
    expect_off_the_loop("record_offload");
    expect_released("record_offload", &s);
    kit_expect_no_leaks("record_offload");
}

Test(record, no_memory_for_its_job)
{
    struct scene s = { .cap = 2, .ids = 5, .write_ms = 1, .rounds = 1, .steps = steps_plain };
    struct calls *k = calls_new(&s, 2);
    k->c[0].id = 1;
    k->c[0].digest = 5;
    k->c[0].fail_malloc = 1;
    k->c[1].id = 2;
    k->c[1].digest = 6;
    run_scene(&s);
    expect_returned(k, "record_offload");
    /* Only when the call allocated with malloc (calloc is not refused) is there a verdict. */
    if (k->c[0].refused > 0) {
        cr_assert_eq(k->c[0].rc, -ENOMEM, "[no-memory-rc] record_offload returned %s when its "
                     "malloc returned NULL; expected -ENOMEM.", kit_errname(k->c[0].rc));
        expect_write(&s, 1, 5, 0, "its job could not be allocated");
    }
    cr_assert_eq(k->c[1].rc, 0, "[record-rc] the next record_offload returned %s, expected 0.",
                 kit_errname(k->c[1].rc));
    expect_write(&s, 2, 6, 1, "");
    expect_off_the_loop("record_offload");
    expect_released("record_offload", &s);
    kit_expect_no_leaks("record_offload");
}

/* ---- digest_offload -------------------------------------------------------------------------- */

/* A body of exactly len bytes (so one read past it is a sanitizer report), filled from seed. */
static char *body_new(size_t len, unsigned seed)
{
    char *b = kit_alloc_array(len, 1);
    for (size_t i = 0; i < len; i++)
        b[i] = (char)('a' + (seed * 7 + i * 13) % 26);
    return b;
}

static void expect_digest(const struct call *c, size_t i, unsigned rounds)
{
    uint64_t want = __real_digest(c->body, c->len, rounds);
    cr_assert_eq(c->rc, 0, "[digest-rc] digest_offload of body %zu (%zu bytes) returned %s, "
                 "expected 0.", i, c->len, kit_errname(c->rc));
    cr_assert(c->out == want, "[wrong-digest] digest_offload of body %zu (%zu bytes) gave "
              "%016llx, expected digest(body, len, %u) = %016llx.%s", i, c->len,
              (unsigned long long)c->out, rounds, (unsigned long long)want,
              c->out == SENTINEL ? " *out was never written." : "");
}

/* Every call at once with the digests held at the gate: how many run, how many queue. */
static int steps_all_digests(struct scene *s)
{
    struct calls *k = s->data;
    size_t want_waiting = k->n > (size_t)s->cap ? k->n - (size_t)s->cap : 0;
    struct kit_wait w = { .what = "the digests to start or queue" };

    gate_close(GATE_DIGEST);
    spawn_all(k, call_digest);
    kit_wait_until(&w, atomic_load(&digests_started) > s->cap ||
                           (atomic_load(&digests_started) >= s->cap &&
                            aio_sem_waiting(&s->b.cpu) >= want_waiting) || all_done(k),
                   __real_aio_sleep(1));
    k->running_at_once = atomic_load(&digests_started);
    k->waiting_at_once = aio_sem_waiting(&s->b.cpu);
    gate_open(GATE_DIGEST);
    join_all(k);
    return 0;
}

Test(digest, thirteen_bodies_three_at_a_time)
{
    static const size_t lens[13] = { 29, 0, 1, 65536, 33, 7, 29, 13, 2, 4095, 29, 100, 3 };
    struct scene s = { .cap = 3, .ids = 1, .write_ms = 0, .rounds = 5,
                       .steps = steps_all_digests };
    struct calls *k = calls_new(&s, 13);
    for (size_t i = 0; i < 13; i++) {
        /* bodies 0, 6 and 10 are equal (a repeated input): each answer goes to its own call */
        k->c[i].body = body_new(lens[i], lens[i] == 29 ? 1 : (unsigned)i + 2);
        k->c[i].len = lens[i];
    }
    run_scene(&s);
    expect_returned(k, "digest_offload");
    expect_off_the_loop("digest_offload");
    long peak = atomic_load(&digests_peak);
    cr_assert(peak <= 3, "[over-cap] %ld digests ran at once with a cap of 3 (b->cpu_max): take "
              "a permit of b->cpu before handing a digest to a thread, and give it back after.",
              peak);
    cr_assert(k->running_at_once == 3, "[cap-unused] with 13 digests asked for at once and a "
              "cap of 3, %ld ran at once (%zu queued for a permit): up to the cap, digests run "
              "side by side.", k->running_at_once, k->waiting_at_once);
    for (size_t i = 0; i < 13; i++)
        expect_digest(&k->c[i], i, 5);
    expect_released("digest_offload", &s);
    cr_assert_eq(sem_acquired, 13, "[permit-count] 13 digests took %ld permits, expected one "
                 "each.", sem_acquired);
    kit_expect_no_leaks("digest_offload");
}

/* Call 0's digest starts and is held at the gate; the call is cancelled (or its deadline
 * passes); once it has returned, the test frees the body it lent, as a caller may, and only
 * then opens the gate. */
static int steps_abandon_digest(struct scene *s)
{
    struct calls *k = s->data;
    gate_close(GATE_DIGEST);
    spawn_all(k, call_digest);
    if (!until_started(&digests_started, 1, k->t[0]))
        s->problem = "[not-started] digest_offload never started its digest (digest() was "
                     "never called on a thread within 5 s).";
    if (k->c[0].deadline_ms == 0)
        aio_cancel(k->t[0]);
    until_done(k->t[0]);
    aio_join(k->t[0], AIO_NEVER);
    k->t[0] = NULL;
    k->value_after_cancel = aio_sem_value(&s->b.cpu);
    free(k->c[0].body);               /* the caller's to free as soon as the call returned */
    k->c[0].body = NULL;
    gate_open(GATE_DIGEST);
    join_all(k);
    until_count(&digests_ended, atomic_load(&digests_started));
    return 0;
}

static void digest_abandoned(long deadline_ms, int want_rc, const char *how)
{
    struct scene s = { .cap = 2, .ids = 1, .write_ms = 0, .rounds = 3,
                       .steps = steps_abandon_digest };
    struct calls *k = calls_new(&s, 1);
    k->c[0].len = 29;
    k->c[0].body = malloc(29);
    cr_assert(k->c[0].body != NULL, "[harness] out of memory");
    memset(k->c[0].body, 'q', 29);
    k->c[0].deadline_ms = deadline_ms;
    run_scene(&s);
    expect_returned(k, "digest_offload");
    expect_off_the_loop("digest_offload");
    cr_assert_eq(k->c[0].rc, want_rc, "[%s] digest_offload, %s while its digest ran, returned "
                 "%s; expected %s.", deadline_ms ? "deadline-rc" : "cancel-rc", how,
                 kit_errname(k->c[0].rc), kit_errname(want_rc));
    cr_assert_eq(k->c[0].ended_at_return, 0, "[waited-for-thread] digest_offload, %s, returned "
                 "only after the digest had ended: it should return at once and leave the "
                 "digest to its thread.", how);
    cr_assert(k->c[0].out == SENTINEL, "[late-write] digest_offload, %s, wrote %016llx into "
              "*out after all: an abandoned digest's result is thrown away, and nothing of the "
              "caller's is written once the call has returned.", how,
              (unsigned long long)k->c[0].out);
    cr_assert_eq(k->value_after_cancel, 2, "[permit-leak] when digest_offload, %s, had "
                 "returned, the batch had %d of its 2 permits: the permit goes back as the call "
                 "returns.", how, k->value_after_cancel);
    long ended = atomic_load(&digests_ended);
    cr_assert_eq(ended, 1, "[digest-lost] the abandoned digest did not run to its end (%ld "
                 "ended).", ended);
    expect_released("digest_offload", &s);
    kit_expect_no_leaks("digest_offload");
}

Test(digest, cancelled_while_its_digest_runs)
{
    digest_abandoned(0, -ECANCELED, "cancelled");
}

Test(digest, a_deadline_while_its_digest_runs)
{
    digest_abandoned(40, -ETIMEDOUT, "past its deadline");
}

/* One permit: call 0's digest runs, held at the gate; call 1 queues for the permit and is
 * cancelled there; call 2 queues behind it with a deadline that passes there. */
static int steps_queued(struct scene *s)
{
    struct calls *k = s->data;
    gate_close(GATE_DIGEST);
    k->t[0] = aio_spawn(call_digest, &k->c[0]);
    k->t[1] = aio_spawn(call_digest, &k->c[1]);
    struct kit_wait w = { .what = "a call queued for the permit" };
    kit_wait_until(&w, (aio_sem_waiting(&s->b.cpu) >= 1 && atomic_load(&digests_started) >= 1) ||
                           atomic_load(&digests_started) > 1 || aio_done(k->t[0]) ||
                           aio_done(k->t[1]),
                   __real_aio_sleep(1));
    k->waiting_at_once = aio_sem_waiting(&s->b.cpu);
    k->running_at_once = atomic_load(&digests_started);
    k->t[2] = aio_spawn(call_digest, &k->c[2]);
    until_done(k->t[2]);
    aio_cancel(k->t[1]);
    until_done(k->t[1]);
    gate_open(GATE_DIGEST);
    join_all(k);
    return 0;
}

Test(digest, cancelled_and_timed_out_while_queued_for_a_permit)
{
    struct scene s = { .cap = 1, .ids = 1, .write_ms = 0, .rounds = 2, .steps = steps_queued };
    struct calls *k = calls_new(&s, 3);
    for (size_t i = 0; i < 3; i++) {
        k->c[i].len = 13;
        k->c[i].body = body_new(13, (unsigned)i);
    }
    k->c[2].deadline_ms = 30;
    run_scene(&s);
    expect_returned(k, "digest_offload");
    expect_off_the_loop("digest_offload");
    cr_assert(k->running_at_once == 1 && k->waiting_at_once == 1, "[not-queued] with one "
              "permit, held by a running digest, the next call should queue for it in "
              "aio_sem_acquire; %zu queued and %ld digests ran.", k->waiting_at_once,
              k->running_at_once);
    cr_assert_eq(k->c[1].rc, -ECANCELED, "[cancel-rc] digest_offload, cancelled while it queued "
                 "for a permit, returned %s; expected -ECANCELED.", kit_errname(k->c[1].rc));
    cr_assert_eq(k->c[2].rc, -ETIMEDOUT, "[deadline-rc] digest_offload, its deadline passed "
                 "while it queued for a permit, returned %s; expected -ETIMEDOUT.",
                 kit_errname(k->c[2].rc));
    long started = atomic_load(&digests_started);
    cr_assert_eq(started, 1, "[started-without-permit] %ld digests ran, expected only the one "
                 "that held the permit: a call that never got a permit hands nothing over.",
                 started);
    cr_assert(k->c[1].out == SENTINEL && k->c[2].out == SENTINEL, "[late-write] a call that "
              "failed wrote *out.");
    expect_digest(&k->c[0], 0, 2);
    expect_released("digest_offload", &s);
    kit_expect_no_leaks("digest_offload");
}

/* The pool's four threads all busy with writes held at the gate; a digest handed over then
 * waits in the pool's queue, and its call is cancelled there. Its caller frees the body it
 * lent; the gates open; the digest, handed over already, runs then. */
static int steps_queued_for_a_thread(struct scene *s)
{
    struct calls *k = s->data;
    gate_close(GATE_WRITE | GATE_DIGEST);
    for (size_t i = 0; i < 4; i++)
        k->t[i] = aio_spawn(call_record, &k->c[i]);
    if (!until_started(&writes_started, 4, k->t[0]))
        s->problem = "[not-written] record_offload's writes did not occupy the pool's 4 threads "
                     "(fewer than 4 ledger_write calls ran at once within 5 s).";
    k->t[4] = aio_spawn(call_digest, &k->c[4]);
    struct kit_wait w = { .what = "the digest to be handed over" };
    kit_wait_until(&w, to_thread_calls >= 5 || aio_done(k->t[4]), __real_aio_sleep(1));
    k->running_at_once = atomic_load(&digests_started);
    aio_cancel(k->t[4]);
    until_done(k->t[4]);
    aio_join(k->t[4], AIO_NEVER);
    k->t[4] = NULL;
    free(k->c[4].body);              /* the caller's to free as soon as the call returned */
    k->c[4].body = NULL;
    gate_open(GATE_WRITE | GATE_DIGEST);
    join_all(k);
    until_count(&digests_ended, 1);
    return 0;
}

Test(digest, cancelled_while_queued_for_a_thread)
{
    struct scene s = { .cap = 2, .ids = 4, .write_ms = 1, .rounds = 3,
                       .steps = steps_queued_for_a_thread };
    struct calls *k = calls_new(&s, 5);
    for (size_t i = 0; i < 4; i++) {
        k->c[i].id = i;
        k->c[i].digest = 100 + i;
    }
    k->c[4].len = 33;
    k->c[4].body = malloc(33);
    cr_assert(k->c[4].body != NULL, "[harness] out of memory");
    memset(k->c[4].body, 'z', 33);
    run_scene(&s);
    expect_returned(k, "record_offload");
    expect_off_the_loop("digest_offload");
    kit_expect_premise(k->running_at_once == 0, "the digest started before the pool had a "
                       "free thread");
    cr_assert_eq(k->c[4].rc, -ECANCELED, "[cancel-rc] digest_offload, cancelled while its "
                 "digest waited for a thread of the pool, returned %s; expected -ECANCELED.",
                 kit_errname(k->c[4].rc));
    cr_assert(k->c[4].out == SENTINEL, "[late-write] digest_offload, cancelled while its digest "
              "waited for a thread, wrote *out after all.");
    long ended = atomic_load(&digests_ended);
    cr_assert_eq(ended, 1, "[digest-lost] a digest handed to the pool runs once a thread is "
                 "free, even when its caller has gone (%ld ran).", ended);
    for (size_t i = 0; i < 4; i++)
        expect_write(&s, i, 100 + i, 1, "");
    expect_released("digest_offload", &s);
    kit_expect_no_leaks("digest_offload");
}

Test(digest, no_memory_for_its_job)
{
    struct scene s = { .cap = 1, .ids = 1, .write_ms = 0, .rounds = 2, .steps = steps_plain };
    struct calls *k = calls_new(&s, 2);
    for (size_t i = 0; i < 2; i++) {
        k->c[i].len = 13;
        k->c[i].body = body_new(13, (unsigned)i + 5);
    }
    k->c[0].fail_malloc = 1;
    run_scene(&s);
    expect_returned(k, "digest_offload");
    if (k->c[0].refused > 0) {
        cr_assert_eq(k->c[0].rc, -ENOMEM, "[no-memory-rc] digest_offload returned %s when its "
                     "malloc returned NULL; expected -ENOMEM.", kit_errname(k->c[0].rc));
        cr_assert(k->c[0].out == SENTINEL, "[late-write] a digest_offload that failed wrote "
                  "*out.");
    }
    /* With one permit, the second call runs only if the first gave its permit back. */
    expect_digest(&k->c[1], 1, 2);
    expect_off_the_loop("digest_offload");
    expect_released("digest_offload", &s);
    kit_expect_no_leaks("digest_offload");
}

Test(digest, no_thread_to_be_had)
{
    struct scene s = { .cap = 2, .ids = 1, .write_ms = 0, .rounds = 2, .steps = steps_plain,
                       .fail_at = 1 };
    struct calls *k = calls_new(&s, 2);
    for (size_t i = 0; i < 2; i++) {
        k->c[i].len = 7;
        k->c[i].body = body_new(7, (unsigned)i + 3);
    }
    run_scene(&s);
    expect_returned(k, "digest_offload");
    cr_assert_eq(k->c[0].rc, -ENOMEM, "[refused-rc] digest_offload returned %s when "
                 "aio_to_thread refused the work with -ENOMEM; expected -ENOMEM.",
                 kit_errname(k->c[0].rc));
    cr_assert(k->c[0].out == SENTINEL, "[late-write] a refused digest_offload wrote *out.");
    expect_digest(&k->c[1], 1, 2);
    expect_off_the_loop("digest_offload");
    expect_released("digest_offload", &s);
    kit_expect_no_leaks("digest_offload");
}
