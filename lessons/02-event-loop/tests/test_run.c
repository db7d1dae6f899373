/* Lesson 02 tests, the loop as a whole: it returns once nothing is left (checked by a watchdog
 * of our own, not Criterion's timeout), it sleeps instead of spinning, and cancelled timers do
 * not keep it running. */
#include "support.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

struct marks {
    struct record rec;
    int64_t id_late;      /* the timer cancelled in the cancelled-wait test */
    int cancel_rc;
    int pipe[2];
    bool got;             /* the pipe's callback read its byte */
};

static struct loop loop;
static struct marks *mk;

static void setup(void)
{
    cr_assert_eq(loop_init(&loop), 0, "[setup] loop_init failed");
    mk = shared_alloc(sizeof *mk);
    mk->pipe[0] = mk->pipe[1] = -1;
}

static void teardown(void)
{
    loop_close(&loop);
    if (mk->pipe[0] >= 0) {
        close(mk->pipe[0]);
        close(mk->pipe[1]);
    }
    shared_free(mk, sizeof *mk);
}

TestSuite(run, .init = setup, .fini = teardown, .timeout = 10);

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
}

Test(run, returns_once_the_last_timer_has_fired)
{
    struct run_report r;

    add_timer(20, on_timer);
    run_loop(&loop, RUN_LIMIT_S, &r);
    expect_clean_return(&r, mk->rec.n, 1, "one 20 ms timer");
    cr_assert_eq(mk->rec.n, 1, "[lost-timers] the 20 ms timer fired %ld times; expected once.",
                 mk->rec.n);
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
}

Test(run, sleeps_until_the_next_deadline_instead_of_spinning)
{
    struct run_report r;

    add_timer(100, on_timer);
    add_timer(250, on_timer);
    run_loop(&loop, RUN_LIMIT_S, &r);
    expect_clean_return(&r, mk->rec.n, 2, "timers at 100 and 250 ms");
    cr_assert_eq(mk->rec.n, 2, "[lost-timers] %ld of 2 timers fired.", mk->rec.n);
    /* A sleeping loop calls poll() about once per deadline and uses a few ms of CPU; a
     * spinning one calls it thousands of times and burns the whole 250 ms. */
    cr_assert(r.polls <= 12 && r.cpu_s < 0.30 * r.wall_s, "[busy-loop] in %.2f s the loop "
              "called poll() %ld times and used %.2f s of CPU: it spins instead of sleeping. "
              "poll()'s timeout should be the time left until the first deadline, not 0.",
              r.wall_s, r.polls, r.cpu_s);
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
    /* Done after about 10 ms; waiting for the dead timer takes 800 ms. 0.4 s is a wide
     * margin either way. */
    cr_assert_lt(r.wall_s, 0.4, "[cancelled-wait] loop_run took %.2f s to return, although the "
                 "only timer left after 10 ms (800 ms) was cancelled. Decide whether to go on "
                 "from the live count (loop->live_timers), not from entries still in the heap, "
                 "and drop cancelled entries from the top before computing poll()'s timeout.",
                 r.wall_s);
}
