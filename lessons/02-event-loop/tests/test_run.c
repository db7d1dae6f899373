/* Lesson 02 tests, the loop as a whole: it returns once nothing is left (checked by a watchdog
 * of our own, not Criterion's timeout), it sleeps instead of spinning, and cancelled timers do
 * not keep it running. */
#include "support.h"
#include "kit_test.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct marks {
    struct record rec;
    int64_t id_late;      /* the timer cancelled in the cancelled-wait test */
    int cancel_rc;
    int pipe[2];          /* closed by kit_cleanup() (make_pipe) */
    bool got;             /* the pipe's callback read its byte */
};

static struct loop loop;
static struct marks *mk;

static void setup(void)
{
    open_loop(&loop);
    mk = shared_alloc_deferred(sizeof *mk);
    mk->pipe[0] = mk->pipe[1] = -1;
}

TestSuite(run, .init = setup, .fini = kit_cleanup, .timeout = 10);

/* What ran in the test process itself before the fork. */
#define PARENT_CODE "the test process (which called loop_add_timer and loop_watch_fd)"

static void on_timer(struct loop *l, void *arg)
{
    struct marks *m = arg;

    record_event(&m->rec, l, 0);
}

static void add_timer(long ms, loop_timer_fn *fn)
{
    int64_t id = loop_add_timer(&loop, ms, fn, mk);

    expect_done(id, "loop_add_timer", "timer_before (TODO 1) and heap_push (TODO 2)");
    cr_assert_gt(id, 0, "[add-failed] loop_add_timer(%ld ms) returned %lld.", ms, (long long)id);
}

Test(run, returns_at_once_when_there_is_nothing_to_do)
{
    struct run_report r;

    run_loop(&loop, RUN_LIMIT_S, &r);
    expect_clean_return(&r, 0, 0, "an empty loop");
    cr_assert_eq(r.polls, 0, "[never-returns] an empty loop called poll() %ld %s before it "
                 "returned; with nothing to wait for it should return 0 at once.", r.polls,
                 kit_plural(r.polls, "time", "times"));
    kit_expect_no_leaks(PARENT_CODE);
}

Test(run, returns_once_the_last_timer_has_fired)
{
    struct run_report r;

    add_timer(20, on_timer);
    run_loop(&loop, RUN_LIMIT_S, &r);
    expect_clean_return(&r, mk->rec.n, 1, "one 20 ms timer");
    cr_assert_eq(mk->rec.n, 1, "[lost-timers] the 20 ms timer fired %ld times; expected once.",
                 mk->rec.n);
    kit_expect_no_leaks(PARENT_CODE);
}

extern long fail_polls; /* support.c: the next N calls of poll() (or its kin) fail */

Test(run, a_failed_poll_is_returned_not_retried)
{
    struct run_report r;

    add_timer(200, on_timer);
    fail_polls = 1;
    run_loop(&loop, RUN_LIMIT_S, &r);
    fail_polls = 0;
    cr_assert(r.finished, "[poll-error] poll() failed with ENOMEM and loop_run did not return "
              "within %.1f s: only EINTR is retried; any other error ends loop_run with the "
              "negative errno (loop.h).", RUN_LIMIT_S);
    cr_assert_eq(r.rc, -ENOMEM, "[poll-error] poll() failed with ENOMEM and loop_run returned "
                 "%s; expected -ENOMEM at once: only EINTR is retried, any other error is "
                 "returned as a negative errno (loop.h).", kit_errname(r.rc));
    cr_assert_eq(mk->rec.n, 0, "[poll-error] the 200 ms timer fired after poll() had failed; "
                 "loop_run should have returned at the failure.");
    kit_expect_no_leaks(PARENT_CODE);
}

static void on_readable(struct loop *l, int fd, int revents, void *arg)
{
    struct marks *m = arg;
    char c;

    (void)revents;
    record_event(&m->rec, l, 1);
    m->got = read(fd, &c, 1) == 1;
    loop_unwatch_fd(l, fd);
}

Test(run, returns_once_the_last_descriptor_is_unwatched)
{
    struct run_report r;
    int rc;

    make_pipe(mk->pipe);
    cr_assert_eq(write(mk->pipe[1], "x", 1), 1, "[setup] write to a pipe failed");
    rc = loop_watch_fd(&loop, mk->pipe[0], POLLIN, on_readable, mk);
    cr_assert_eq(rc, 0, "[watch] loop_watch_fd returned %d (%s).", rc, strerror(-rc));
    run_loop(&loop, RUN_LIMIT_S, &r);
    expect_clean_return(&r, mk->rec.n, 1, "one ready pipe, unwatched by its callback");
    cr_assert_eq(mk->rec.n, 1, "[fd-not-dispatched] the pipe's callback ran %ld times; "
                 "expected once.", mk->rec.n);
    cr_assert(mk->got, "[fd-not-dispatched] the pipe's callback found nothing to read.");
    kit_expect_no_leaks(PARENT_CODE);
}

Test(run, sleeps_until_the_next_deadline_instead_of_spinning)
{
    uint64_t base = loop_now(&loop);
    struct run_report r;

    add_timer(100, on_timer);
    add_timer(450, on_timer);
    run_loop(&loop, RUN_LIMIT_S, &r);
    expect_clean_return(&r, mk->rec.n, 2, "timers at 100 and 450 ms");
    cr_assert_eq(mk->rec.n, 2, "[lost-timers] %ld of 2 timers fired.", mk->rec.n);
    /* A sleeping loop calls poll() once per deadline; one that wakes every 50 ms to look
     * calls it 9 times, a spinning one thousands. */
    expect_sleeps(&r, 3, "450 ms for timers at 100 and 450 ms");
    expect_no_oversleep(&r, base + 450, "timers at 100 and 450 ms");
    kit_expect_no_leaks(PARENT_CODE);
}

/* ---- a signal during the wait ------------------------------------------------------------- */

#define SIG_TIMER_MS 300

Test(run, a_signal_during_the_wait_neither_ends_nor_stretches_it)
{
    /* SIGUSR1 every 40 ms from 40 ms on, 20 times: poll() is interrupted about 7 times before
     * the 300 ms timer is due, and the signals go on until 800 ms. */
    const struct signals sig = { .first_ms = 40, .every_ms = 40, .count = 20 };
    uint64_t base = loop_now(&loop);
    struct run_report r;
    char buf[120];
    long n, stretched = 0;

    add_timer(SIG_TIMER_MS, on_timer);
    run_loop_signalled(&loop, RUN_LIMIT_S, &sig, &r);
    cr_assert(!(r.finished && r.rc == 0 && mk->rec.n == 0), "[eintr-return] loop_run returned "
              "0 before its %d ms timer fired, after %ld %s interrupted poll(). A signal is "
              "not a reason to stop: while a timer is pending, go round again.", SIG_TIMER_MS,
              r.log.eintr, kit_plural(r.log.eintr, "signal", "signals"));
    expect_clean_return(&r, mk->rec.n, 1, "a 300 ms timer, with SIGUSR1 every 40 ms");
    cr_assert_eq(mk->rec.n, 1, "[lost-timers] the 300 ms timer fired %ld times; expected once.",
                 mk->rec.n);
    /* After an interrupted poll(), the next one must wait only for what is left. One that
     * starts the whole wait again never gets there while signals keep coming. The evidence is
     * the loop's own requests: after EINTR, a timeout no smaller than the interrupted one,
     * and more than 20 ms beyond the time actually left when the call was made. A correct
     * loop could show that once (a signal in the same ms as its clock read, then a stall of
     * 20 ms before poll()), not three times; a loop that wakes every 50 ms to look never
     * asks for more than what is left until the last 30 ms. */
    n = r.polls < MAX_POLLS ? r.polls : MAX_POLLS;
    for (long k = 1; k < n; k++) {
        uint64_t due = base + SIG_TIMER_MS;
        long left = r.log.at[k] >= due ? 0 : (long)(due - r.log.at[k]);

        if (r.log.result[k - 1] == -EINTR && r.log.timeout[k - 1] > 0 &&
            r.log.timeout[k] >= r.log.timeout[k - 1] && r.log.timeout[k] > left + 20 &&
            ++stretched == 3)
            cr_assert_fail("[eintr-stretch] a signal interrupted poll(%d ms) of a wait for a "
                           "300 ms timer, and the loop called poll(%d ms) next with %ld ms "
                           "left (timeouts: %s). It starts the whole wait again after each "
                           "signal, so the timer is late for as long as signals keep coming. "
                           "After EINTR, read the clock and wait only for what is left.",
                           r.log.timeout[k - 1], r.log.timeout[k], left,
                           poll_timeouts(&r, buf, sizeof buf));
    }
    cr_assert_geq(mk->rec.at[0], base + SIG_TIMER_MS, "[timer-early] the 300 ms timer ran at "
                  "+%llu ms, before its deadline, after a signal interrupted poll().",
                  (unsigned long long)(mk->rec.at[0] - base));
    /* 20 signals at most, so at most about 20 interrupted calls and one per deadline. */
    expect_sleeps(&r, 28, "300 ms for a timer, with SIGUSR1 every 40 ms");
    kit_expect_no_leaks(PARENT_CODE);
}

/* ---- a deadline beyond INT_MAX ms --------------------------------------------------------- */

/* 2^31 + 1000 ms (24.9 days) is due first: until 1 s has passed, what is left is more than
 * INT_MAX, and a plain cast to int is negative. 2^32 + 100 ms (49.7 days) is there too, for a
 * heap that puts it first: its cast is a short positive wait. */
#define FAR_A ((long)(((int64_t)1 << 32) + 100))
#define FAR_B ((long)(((int64_t)1 << 31) + 1000))
#define FAR_PIPE_MS 200

struct far {
    int64_t id_a, id_b;
    int cancel_a, cancel_b;
    bool fired;
};

static struct far *far;

static void on_far(struct loop *l, void *arg)
{
    (void)l;
    (void)arg;
    far->fired = true;
}

/* The pipe's callback cancels both far timers: then nothing is left. */
static void on_readable_cancel_far(struct loop *l, int fd, int revents, void *arg)
{
    on_readable(l, fd, revents, arg);
    far->cancel_a = loop_cancel_timer(l, far->id_a);
    far->cancel_b = loop_cancel_timer(l, far->id_b);
}

Test(run, a_deadline_beyond_int_max_ms_neither_overflows_nor_spins)
{
    struct run_report r;
    char buf[120];
    int rc;
    long n;

    far = shared_alloc_deferred(sizeof *far);
    far->id_a = loop_add_timer(&loop, FAR_A, on_far, NULL);
    expect_done(far->id_a, "loop_add_timer", "timer_before (TODO 1) and heap_push (TODO 2)");
    far->id_b = loop_add_timer(&loop, FAR_B, on_far, NULL);
    cr_assert(far->id_a > 0 && far->id_b > 0, "[add-failed] loop_add_timer of %ld and %ld ms "
              "returned %lld and %lld; expected ids above 0.", FAR_A, FAR_B,
              (long long)far->id_a, (long long)far->id_b);
    make_pipe(mk->pipe);
    rc = loop_watch_fd(&loop, mk->pipe[0], POLLIN, on_readable_cancel_far, mk);
    cr_assert_eq(rc, 0, "[watch] loop_watch_fd returned %s.", kit_errname(rc));
    spawn_writer(mk->pipe[1], FAR_PIPE_MS, 'x');
    run_loop(&loop, RUN_LIMIT_S, &r);
    /* Every wait while the far timers were pending must be long: INT_MAX ms, or a cap of a
     * minute or more. A negative timeout means "forever" to poll(), and the timer would
     * never fire; a short one wakes the loop for nothing. */
    expect_sleeps(&r, 2, "200 ms for a pipe, with timers 2^31 and 2^32 ms away");
    /* The far timers are pending up to the call that saw the pipe ready (its callback
     * cancels them): look at the calls up to that one. */
    n = r.polls < MAX_POLLS ? r.polls : MAX_POLLS;
    for (long k = 0; k < n; k++)
        if (r.log.result[k] > 0)
            n = k + 1;
    for (long k = 0; k < n; k++)
        cr_assert(r.log.timeout[k] >= 60 * 1000, "[timeout-overflow] with the first timer due "
                  "in %ld ms (more than INT_MAX), the loop called poll() with a timeout of %d "
                  "ms (timeouts: %s). The time left is a uint64_t and poll() takes an int: "
                  "clamp it to INT_MAX; a plain cast wraps to a negative (poll() then sleeps "
                  "forever, and the timer never fires) or to a short wait.", FAR_B,
                  r.log.timeout[k], poll_timeouts(&r, buf, sizeof buf));
    expect_clean_return(&r, mk->rec.n, 1, "timers 2^31 and 2^32 ms away, and a pipe written "
                        "at 200 ms whose callback cancels them");
    cr_assert_not(far->fired, "[timer-early] a timer due in %ld ms fired within a second.",
                  FAR_B);
    cr_assert(mk->got, "[fd-not-dispatched] the pipe's callback found nothing to read.");
    cr_assert(far->cancel_a == 0 && far->cancel_b == 0, "[cancel] cancelling the far timers "
              "returned %s and %s; expected 0 for both.", kit_errname(far->cancel_a),
              kit_errname(far->cancel_b));
    kit_expect_no_leaks(PARENT_CODE);
}

static void on_cancel_late(struct loop *l, void *arg)
{
    struct marks *m = arg;

    record_event(&m->rec, l, 0);
    m->cancel_rc = loop_cancel_timer(l, m->id_late);
}

Test(run, cancelled_timers_do_not_keep_the_loop_running)
{
    struct run_report r;

    add_timer(10, on_cancel_late);
    mk->id_late = loop_add_timer(&loop, 800, on_timer, mk);
    cr_assert_gt(mk->id_late, 0, "[add-failed] loop_add_timer(800 ms) returned %lld.",
                 (long long)mk->id_late);
    run_loop(&loop, RUN_LIMIT_S, &r);
    cr_assert_leq(mk->rec.n, 1, "[cancelled-fired] %ld callbacks ran; expected 1: the 800 ms "
                  "timer was cancelled (loop_cancel_timer returned %d), so its callback must "
                  "not run.", mk->rec.n, mk->cancel_rc);
    expect_clean_return(&r, mk->rec.n, 1, "a 10 ms timer that cancels an 800 ms one");
    cr_assert_eq(mk->cancel_rc, 0, "[cancel] loop_cancel_timer of the pending 800 ms timer "
                 "returned %d; expected 0.", mk->cancel_rc);
    cr_assert_eq(mk->rec.n, 1, "[lost-timers] the 10 ms timer did not fire.");
    /* Done after about 10 ms, with nothing left to wait for: no poll() may wait towards the
     * dead timer's deadline. A count of the loop's own requests, not a time. */
    for (long k = 0; k < r.polls && k < MAX_POLLS; k++)
        cr_assert(r.log.timeout[k] < 0 || r.log.timeout[k] <= 400, "[cancelled-wait] the loop "
                  "called poll() with a timeout of %d ms, although the only timer left after "
                  "10 ms (800 ms) was cancelled: it waits for a timer that will never fire. "
                  "Decide whether to go on from the live count (loop->live_timers), not from "
                  "entries still in the heap, and drop cancelled entries from the top before "
                  "computing poll()'s timeout.", r.log.timeout[k]);
    kit_expect_no_leaks(PARENT_CODE);
}

/* ---- timers already due when loop_run starts ---------------------------------------------- */

Test(run, timers_already_due_when_the_loop_starts_run_at_once)
{
    const struct timespec late = { 0, 80 * 1000 * 1000 };
    uint64_t base = loop_now(&loop);
    struct run_report r;

    add_timer(20, on_timer);
    add_timer(30, on_timer);
    /* loop_run starts 80 ms after the timers were added: both are overdue. */
    while (nanosleep(&late, NULL) != 0)
        continue;
    run_loop(&loop, RUN_LIMIT_S, &r);
    expect_clean_return(&r, mk->rec.n, 2, "timers at 20 and 30 ms, loop_run called at 80 ms");
    cr_assert_eq(mk->rec.n, 2, "[lost-timers] %ld of 2 timers fired.", mk->rec.n);
    expect_no_oversleep(&r, base + 30, "timers at 20 and 30 ms, loop_run called at 80 ms "
                        "(read the clock at the start of every pass, the first one included)");
    kit_expect_no_leaks(PARENT_CODE);
}
