/* Lesson 02 tests, descriptors: a pipe that becomes readable wakes a sleeping loop, callbacks
 * may unwatch and watch descriptors, and timers neither fire early nor starve the descriptors. */
#include "support.h"
#include "kit_test.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define IDLE_MS 400        /* a long idle wait: a loop that wakes up every 50 ms to look fails */
#define IDLE_TEXT "400 ms"
#define EXTRA_PIPES 40 /* more than the arrays' first 16 entries: watching them grows the arrays */

/* One test's pipes and what their callbacks saw. Shared memory: the loop's child writes it. */
struct pipes {
    struct record rec;
    int fds[EXTRA_PIPES + 2][2];      /* closed by kit_cleanup() (make_pipe) */
    char got[EXTRA_PIPES + 2];     /* the byte each read end delivered */
    int unwatch_rc[EXTRA_PIPES + 2];
    int revents[EXTRA_PIPES + 2];  /* what each callback was given */
    bool ready[EXTRA_PIPES + 2];   /* mix test: the pipe had a byte from the start */
    int guards;                    /* end-of-file test: runs of the guard timer */
    long cycles;                   /* re-watch test: calls so far */
    size_t max_npfds;              /* re-watch test: the largest loop->npfds a callback saw */
    int watch_rc;
    long chain;                    /* 0 ms timers run so far (starvation test) */
    long chain_at_fd;              /* chain when the descriptor's callback ran */
    struct tag {
        struct pipes *p;
        int who;
    } tag[EXTRA_PIPES + 2];
};

static struct loop loop;
static struct pipes *ps;
static int npipes;

static void setup(void)
{
    open_loop(&loop);
    ps = shared_alloc_deferred(sizeof *ps);
    npipes = 0;
}

TestSuite(fds, .init = setup, .fini = kit_cleanup, .timeout = 10);

/* What ran in the test process itself before the fork. */
#define PARENT_CODE "the test process (which called loop_watch_fd and loop_add_timer)"

/* A new pipe, number who; if ready, with one byte already waiting in it. */
static int add_pipe(bool ready)
{
    int who = npipes++;

    make_pipe(ps->fds[who]);
    ps->tag[who] = (struct tag){ ps, who };
    if (ready)
        cr_assert_eq(write(ps->fds[who][1], "x", 1), 1, "[setup] write to a pipe failed");
    return who;
}

/* Read the waiting byte of pipe who, record the call, stop watching it. */
static void take_byte(struct loop *l, struct tag *tag)
{
    struct pipes *p = tag->p;
    char c = 0;

    record_event(&p->rec, l, tag->who);
    if (read(p->fds[tag->who][0], &c, 1) == 1)
        p->got[tag->who] = c;
    p->unwatch_rc[tag->who] = loop_unwatch_fd(l, p->fds[tag->who][0]);
}

static void on_readable(struct loop *l, int fd, int revents, void *arg)
{
    struct tag *tag = arg;

    (void)fd;
    tag->p->revents[tag->who] = revents;
    take_byte(l, arg);
}

static void watch(int who, loop_fd_fn *fn)
{
    int rc = loop_watch_fd(&loop, ps->fds[who][0], POLLIN, fn, &ps->tag[who]);

    cr_assert_eq(rc, 0, "[watch] loop_watch_fd returned %d (%s); expected 0.", rc,
                 strerror(-rc));
}

Test(fds, a_pipe_becoming_readable_wakes_the_sleeping_loop)
{
    struct run_report r;
    int who = add_pipe(false);
    uint64_t base = loop_now(&loop);

    watch(who, on_readable);
    spawn_writer(ps->fds[who][1], IDLE_MS, 'w'); /* writes IDLE_MS from now */
    run_loop(&loop, RUN_LIMIT_S, &r);
    expect_clean_return(&r, ps->rec.n, 1, "one pipe, written " IDLE_TEXT " after the start");
    cr_assert_eq(ps->rec.n, 1, "[fd-not-dispatched] the pipe's callback ran %ld times; "
                 "expected once. After poll() returns, call the callback of each entry whose "
                 "revents is not 0.", ps->rec.n);
    cr_assert_eq(ps->got[who], 'w', "[fd-not-dispatched] the callback ran but found no byte "
                 "to read: it ran before the pipe was readable.");
    /* The byte was written IDLE_MS after base, so a clock read after poll() returned is at
     * least that far on; a loop that kept the time from before its wait is not. */
    cr_assert_geq(ps->rec.at[0], base + IDLE_MS, "[stale-now] the pipe was written %d ms after "
                  "the start and its callback ran then, but loop_now() in the callback said "
                  "+%llu ms: the time from before poll() slept. Read the clock again when "
                  "poll() returns, before you dispatch the descriptors.", IDLE_MS,
                  (unsigned long long)(ps->rec.at[0] - base));
    /* Asleep in poll(timeout -1), the loop makes one call; one that wakes up every so often
     * to look makes several, one that spins thousands. A count, not a time: load cannot
     * change it. */
    expect_sleeps(&r, 2, "for a pipe written after " IDLE_TEXT ", with no timer pending");
    kit_expect_no_leaks(PARENT_CODE);
}

static void on_readable_unwatch_all(struct loop *l, int fd, int revents, void *arg)
{
    struct tag *tag = arg;
    struct pipes *p = tag->p;

    on_readable(l, fd, revents, arg);
    /* Both pipes were ready in the same poll(); the first callback unwatches the other. */
    loop_unwatch_fd(l, p->fds[0][0]);
    loop_unwatch_fd(l, p->fds[1][0]);
}

Test(fds, a_descriptor_unwatched_by_a_callback_is_not_called)
{
    struct run_report r;

    watch(add_pipe(true), on_readable_unwatch_all);
    watch(add_pipe(true), on_readable_unwatch_all);
    run_loop(&loop, RUN_LIMIT_S, &r);
    expect_clean_return(&r, ps->rec.n, 1, "two ready pipes, each callback unwatches both");
    cr_assert_gt(ps->rec.n, 0, "[fd-not-dispatched] two pipes were readable but neither "
                 "callback ran.");
    cr_assert_eq(ps->rec.n, 1, "[unwatched-fired] both callbacks ran, but the first one "
                 "unwatched the second pipe (loop_unwatch_fd returned 0) before the second "
                 "callback ran. poll()'s revents is stale for an entry unwatched since: skip "
                 "entries whose fd is -1.");
    kit_expect_no_leaks(PARENT_CODE);
}

static void on_readable_add_many(struct loop *l, int fd, int revents, void *arg)
{
    struct tag *tag = arg;
    struct pipes *p = tag->p;

    on_readable(l, fd, revents, arg);
    for (int who = 1; who <= EXTRA_PIPES; who++) {
        int rc = loop_watch_fd(l, p->fds[who][0], POLLIN, on_readable, &p->tag[who]);

        if (rc != 0)
            p->watch_rc = rc;
    }
}

Test(fds, a_callback_may_watch_many_new_descriptors)
{
    struct run_report r;

    watch(add_pipe(true), on_readable_add_many);
    for (int i = 0; i < EXTRA_PIPES; i++)
        add_pipe(true);
    run_loop(&loop, RUN_LIMIT_S, &r);
    expect_clean_return(&r, ps->rec.n, EXTRA_PIPES + 1, "a callback that watches 40 ready pipes");
    cr_assert_eq(ps->watch_rc, 0, "[watch] loop_watch_fd from a callback returned %d (%s).",
                 ps->watch_rc, strerror(-ps->watch_rc));
    cr_assert_eq(ps->rec.n, EXTRA_PIPES + 1, "[fd-not-dispatched] %ld callbacks ran; expected "
                 "%d: the first pipe's, then one for each of the %d pipes it watched.",
                 ps->rec.n, EXTRA_PIPES + 1, EXTRA_PIPES);
    for (int who = 0; who <= EXTRA_PIPES; who++)
        cr_assert_eq(ps->got[who], 'x', "[fd-not-dispatched] pipe %d's callback never read "
                     "its byte.", who);
    kit_expect_no_leaks(PARENT_CODE);
}

enum { THE_PIPE = 0, THE_TIMER = 100 };

static void on_timer(struct loop *l, void *arg)
{
    struct pipes *p = arg;

    record_event(&p->rec, l, THE_TIMER);
}

Test(fds, a_ready_descriptor_does_not_make_a_timer_fire_early)
{
    struct run_report r;
    uint64_t base;
    int64_t id;

    watch(add_pipe(true), on_readable);
    id = loop_add_timer(&loop, 150, on_timer, ps);
    expect_done(id, "loop_add_timer", "timer_before (TODO 1) and heap_push (TODO 2)");
    base = loop_now(&loop);
    run_loop(&loop, RUN_LIMIT_S, &r);
    expect_clean_return(&r, ps->rec.n, 2, "a ready pipe and a 150 ms timer");
    cr_assert_eq(ps->rec.n, 2, "[fd-not-dispatched] %ld callbacks ran; expected 2, the pipe's "
                 "and the timer's.", ps->rec.n);
    for (long k = 0; k < ps->rec.n; k++) {
        if (ps->rec.who[k] != THE_TIMER)
            continue;
        cr_assert_geq(ps->rec.at[k], base + 150, "[timer-early] the 150 ms timer ran at +%llu "
                      "ms, before its deadline. poll() returned because the pipe was ready, not "
                      "because the timer was due: run a timer only once its deadline <= "
                      "loop->now.", (unsigned long long)(ps->rec.at[k] - base));
    }
    cr_assert(r.log.start >= base + 150 || ps->rec.who[0] == THE_PIPE, "[fd-not-dispatched] "
              "the timer's callback ran before the pipe's, although the pipe was ready from "
              "the start.");
    expect_sleeps(&r, 4, "150 ms for a timer (the pipe was served at once)");
    kit_expect_no_leaks(PARENT_CODE);
}

/* A 0 ms timer that adds itself again, up to CHAIN times. */
#define CHAIN 50

static void on_chain(struct loop *l, void *arg)
{
    struct pipes *p = arg;

    p->chain++;
    if (p->chain < CHAIN)
        loop_add_timer(l, 0, on_chain, p);
}

static void on_readable_note_chain(struct loop *l, int fd, int revents, void *arg)
{
    struct tag *tag = arg;

    tag->p->chain_at_fd = tag->p->chain;
    on_readable(l, fd, revents, arg);
}

Test(fds, zero_ms_timers_added_by_callbacks_do_not_starve_descriptors)
{
    struct run_report r;
    int64_t id;

    watch(add_pipe(true), on_readable_note_chain);
    id = loop_add_timer(&loop, 0, on_chain, ps);
    expect_done(id, "loop_add_timer", "timer_before (TODO 1) and heap_push (TODO 2)");
    run_loop(&loop, RUN_LIMIT_S, &r);
    expect_clean_return(&r, ps->rec.n, 1, "a ready pipe and a 0 ms timer that re-adds itself");
    cr_assert_eq(ps->chain, CHAIN, "[added-lost] the 0 ms timer chain ran %ld times; expected "
                 "%d: each run adds the next one.", ps->chain, CHAIN);
    cr_assert_eq(ps->rec.n, 1, "[fd-not-dispatched] the pipe's callback ran %ld times; "
                 "expected once.", ps->rec.n);
    cr_assert_leq(ps->chain_at_fd, 1, "[starved-io] the pipe was ready from the start, but its "
                  "callback waited for %ld runs of a 0 ms timer that re-adds itself. A timer "
                  "added during a pass must wait for the next pass, after poll(); otherwise "
                  "such a chain keeps the loop from ever looking at its descriptors (asyncio's "
                  "call_soon works the same way).", ps->chain_at_fd);
    /* A 0 ms timer was pending at every poll(): none of them may sleep. */
    for (long k = 0; k < r.polls && k < MAX_POLLS; k++)
        cr_assert_eq(r.log.timeout[k], 0, "[oversleep] a 0 ms timer was pending, but the loop "
                     "called poll() with a timeout of %d ms: a timer that is already due (or "
                     "was added with 0 ms) must make poll() return at once.",
                     r.log.timeout[k]);
    kit_expect_no_leaks(PARENT_CODE);
}

/* ---- ready and idle descriptors together -------------------------------------------------- */

#define MIX 16      /* pipes watched: exactly the arrays' first allocation, so a read one
                     * past the entries poll() was given is a heap overflow */
#define MIX_READY 5 /* of which ready from the start; never the first one watched */

static void on_idle_called(struct loop *l, int fd, int revents, void *arg)
{
    struct tag *tag = arg;

    (void)fd;
    record_event(&tag->p->rec, l, tag->who);
    tag->p->unwatch_rc[tag->who] = revents; /* what poll() said about an idle pipe */
}

/* The timer that ends the test: it unwatches the idle pipes, once the ready ones have all
 * been served (if the loop started late, it ran before the first poll(): it waits again). */
static void on_unwatch_idle(struct loop *l, void *arg)
{
    struct pipes *p = arg;
    int served = 0;

    for (int who = 0; who < MIX; who++)
        served += p->ready[who] && p->got[who] != 0;
    if (served < MIX_READY && p->guards++ < 5) {
        loop_add_timer(l, 100, on_unwatch_idle, p);
        return;
    }
    record_event(&p->rec, l, THE_TIMER);
    for (int who = 0; who < MIX; who++)
        if (!p->ready[who])
            loop_unwatch_fd(l, p->fds[who][0]);
}

Test(fds, only_the_ready_descriptors_among_idle_ones_are_called)
{
    uint32_t state = kit_seed();
    size_t order[MIX];
    bool ready[MIX] = { false };
    struct run_report r;
    int64_t id;
    long seen_ready = 0;

    /* Which pipes are ready: MIX_READY of pipes 1..MIX-1, shuffled; pipe 0 (watched first) is
     * always idle, so a loop that takes poll()'s count of ready entries for an index range
     * calls the wrong ones. */
    kit_shuffle(order, MIX - 1, &state);
    for (int k = 0; k < MIX_READY; k++)
        ready[order[k] + 1] = true;
    memcpy(ps->ready, ready, sizeof ready);
    for (int who = 0; who < MIX; who++) {
        add_pipe(ready[who]);
        watch(who, ready[who] ? on_readable : on_idle_called);
    }
    id = loop_add_timer(&loop, 100, on_unwatch_idle, ps);
    expect_done(id, "loop_add_timer", "timer_before (TODO 1) and heap_push (TODO 2)");
    run_loop(&loop, RUN_LIMIT_S, &r);
    for (long k = 0; k < ps->rec.n && k < MAX_EVENTS; k++) {
        int who = ps->rec.who[k];

        if (who == THE_TIMER)
            continue;
        cr_assert(ready[who], "[fd-idle-called] pipe %d had nothing to read, but its callback "
                  "ran (revents %d; seed %u). Call only the entries poll() reported ready: "
                  "revents != 0.", who, ps->unwatch_rc[who], kit_seed());
        seen_ready++;
    }
    expect_clean_return(&r, ps->rec.n, MIX_READY + 1, "16 pipes, 5 of them ready, and a 100 ms "
                        "timer that unwatches the idle ones");
    for (int who = 0; who < MIX; who++)
        cr_assert(!ready[who] || ps->got[who] == 'x', "[fd-not-dispatched] pipe %d was ready "
                  "from the start, among 11 idle ones, but its callback never ran (seed %u). "
                  "Look at every entry you gave poll(): poll()'s return value counts the ready "
                  "ones, it does not say where they are.", who, kit_seed());
    for (int who = 0; who < MIX; who++)
        cr_assert(!ready[who] || ps->revents[who] == POLLIN, "[fd-revents] pipe %d had a byte "
                  "to read and its callback was given revents %#x; expected POLLIN (%#x), what "
                  "poll() reported in pfds[i].revents (seed %u).", who, ps->revents[who],
                  POLLIN, kit_seed());
    cr_assert_eq(seen_ready, MIX_READY, "[fd-twice] %ld calls of the ready pipes' callbacks; "
                 "expected %d, one each (each unwatches itself; seed %u).", seen_ready,
                 MIX_READY, kit_seed());
    /* The timer waits (100 ms at a time) until the ready pipes are served: a loop that
     * serves them only once the idle ones are gone serves them after it. */
    cr_assert(ps->rec.who[ps->rec.n - 1] == THE_TIMER, "[fd-not-dispatched] a ready pipe's "
                 "callback ran after the 100 ms timer (seed %u): ready pipes are served in the "
                 "first pass.", kit_seed());
    expect_sleeps(&r, 5, "100 ms for a timer, with 11 idle pipes watched");
    kit_expect_no_leaks(PARENT_CODE);
}

/* ---- a descriptor at end of file ---------------------------------------------------------- */

static void on_hangup(struct loop *l, int fd, int revents, void *arg)
{
    struct tag *tag = arg;

    record_event(&tag->p->rec, l, tag->who);
    tag->p->revents[tag->who] = revents;
    loop_unwatch_fd(l, fd);
}

/* The guard: at its first run (which may come before the first poll() if the loop started
 * late) it waits 200 ms more; at its second, if the pipe's callback never ran, it stops
 * watching the pipe so that the loop can end. */
static void on_guard(struct loop *l, void *arg)
{
    struct pipes *p = arg;

    if (p->guards++ == 0) {
        loop_add_timer(l, 200, on_guard, p);
        return;
    }
    record_event(&p->rec, l, THE_TIMER);
    loop_unwatch_fd(l, p->fds[0][0]);
}

Test(fds, a_descriptor_at_end_of_file_is_dispatched_with_pollhup)
{
    struct run_report r;
    int who = add_pipe(false);

    /* Nothing to read and the write end closed: poll() reports POLLHUP, not POLLIN. The read
     * end is moved to descriptor 0: a descriptor like any other for the loop. */
    close(ps->fds[who][1]);
    ps->fds[who][1] = -1;
    if (ps->fds[who][0] != 0) {
        cr_assert_eq(dup2(ps->fds[who][0], 0), 0, "[setup] dup2 to descriptor 0 failed");
        close(ps->fds[who][0]);
        ps->fds[who][0] = 0;
    }
    watch(who, on_hangup);
    expect_done(loop_add_timer(&loop, 200, on_guard, ps), "loop_add_timer",
                "timer_before (TODO 1) and heap_push (TODO 2)");
    run_loop(&loop, RUN_LIMIT_S, &r);
    cr_assert(ps->rec.n > 0 && ps->rec.who[0] == who, "[fd-not-dispatched] the pipe (on "
              "descriptor 0) had its write end closed, so poll() reported it (POLLHUP) at "
              "once, but its callback %s. Descriptor 0 is valid: only -1 marks an unwatched "
              "entry. "
              "Call the callback for any revents poll() reports, POLLHUP and POLLERR "
              "included, not only POLLIN: the callback is where the end of the stream is "
              "noticed.", ps->rec.n == 0 ? "never ran" : "did not run before the guard timer");
    expect_clean_return(&r, ps->rec.n, 2, "a pipe at end of file and a 200 + 200 ms timer");
    cr_assert(ps->revents[who] & POLLHUP, "[fd-revents] the pipe at end of file was given "
              "revents %#x; expected POLLHUP (%#x) in it, as poll() reported.",
              ps->revents[who], POLLHUP);
    expect_sleeps(&r, 5, "400 ms for a timer (the pipe was served at once)");
    kit_expect_no_leaks(PARENT_CODE);
}

/* ---- unwatched entries are squeezed out between passes ------------------------------------ */

#define CYCLES 30

/* Leaves the byte in the pipe (so it is ready again next pass), unwatches the pipe and watches
 * it again: one dead entry per pass unless the loop squeezes them out. */
static void on_rewatch(struct loop *l, int fd, int revents, void *arg)
{
    struct tag *tag = arg;
    struct pipes *p = tag->p;

    (void)revents;
    if (l->npfds > p->max_npfds)
        p->max_npfds = l->npfds;
    loop_unwatch_fd(l, fd);
    if (++p->cycles < CYCLES)
        p->watch_rc = loop_watch_fd(l, fd, POLLIN, on_rewatch, arg);
}

Test(fds, unwatched_entries_are_squeezed_out_between_passes)
{
    struct run_report r;

    watch(add_pipe(true), on_rewatch);
    run_loop(&loop, RUN_LIMIT_S, &r);
    expect_clean_return(&r, ps->cycles, CYCLES, "a ready pipe unwatched and watched again by "
                        "its callback, 30 times");
    cr_assert_eq(ps->watch_rc, 0, "[watch] loop_watch_fd from a callback returned %s.",
                 kit_errname(ps->watch_rc));
    cr_assert_eq(ps->cycles, CYCLES, "[fd-not-dispatched] the pipe's callback ran %ld times; "
                 "expected %d (it stays ready and is watched again each time).", ps->cycles,
                 CYCLES);
    cr_assert_leq(ps->max_npfds, 2, "[no-compact] after %d passes that each unwatched a "
                  "descriptor and watched it again, loop->npfds reached %zu: the unwatched "
                  "entries are never squeezed out, and the arrays grow for as long as the loop "
                  "runs. Call compact_fds() between passes.", CYCLES, ps->max_npfds);
    kit_expect_no_leaks(PARENT_CODE);
}
