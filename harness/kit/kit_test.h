/* kit_test.h: what every lesson's Criterion tests would otherwise write again.
 *
 * - Counted wrappers for the symbols a lesson lists in LDWRAP (KIT_COUNT_CALLS).
 * - Memory that outlives a failed assertion safely: a test allocates what it hands to the
 *   student's code with kit_alloc()/kit_alloc_array() (exactly the size asked, so the sanitizer
 *   sees a read one past the end) and registers clean-ups with kit_defer(). When an assertion
 *   fails, Criterion leaves the test function at once; the suite's .fini calls kit_cleanup(),
 *   which frees everything registered. Never keep a pointer to the test function's own stack in
 *   a static: after a failed assertion that frame is gone.
 * - The checks every test makes: kit_expect_done() for the skeleton's -ENOSYS ([not-done]) and
 *   kit_expect_no_leaks() at the end ([memory-leak]).
 * - Words for messages: kit_errname(-ETIMEDOUT) is "-ETIMEDOUT"; kit_plural(n, "request",
 *   "requests") picks the right form; kit_ordinal(22) is "22nd".
 * - A seed for tests that shuffle: KIT_SEED from the environment, or a fresh one per run, to be
 *   printed in every message that depends on it so a student can repeat the run.
 * - Waiting for evidence instead of a guess: kit_wait_until() steps until a condition holds
 *   (a task has started waiting, a job is over, a request is in flight), within a generous
 *   bound; kit_expect_waited() and kit_expect_premise() report the test's own set-up failing
 *   as the test's fault ([test-waited], [test-premise]), never as the student's.
 *
 * Include it after <criterion/criterion.h>; link with libkit (it is part of it). */
#ifndef KIT_TEST_H
#define KIT_TEST_H

#include "kit.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#ifndef KIT_TEST_NO_CRITERION
#include <criterion/criterion.h>
#endif

#ifndef KIT_TEST_NO_CRITERION
/* Count the calls to a wrapped function: the binary is linked with -Wl,--wrap=NAME (the
 * lesson's LDWRAP). Defines `long kit_calls_NAME`, which the test resets and reads.
 *   KIT_COUNT_CALLS(int, aio_yield, (void), ())
 *   KIT_COUNT_CALLS(CURLMcode, curl_multi_perform, (CURLM *m, int *r), (m, r))
 * Use it once per symbol per test binary. */
#define KIT_COUNT_CALLS(ret, name, params, args)                                               \
    ret __real_##name params;                                                                   \
    ret __wrap_##name params;                                                                   \
    long kit_calls_##name;                                                                      \
    ret __wrap_##name params                                                                    \
    {                                                                                           \
        kit_calls_##name++;                                                                     \
        return __real_##name args;                                                              \
    }

/* The same for a function that returns nothing. */
#define KIT_COUNT_CALLS_VOID(name, params, args)                                               \
    void __real_##name params;                                                                  \
    void __wrap_##name params;                                                                  \
    long kit_calls_##name;                                                                      \
    void __wrap_##name params                                                                   \
    {                                                                                           \
        kit_calls_##name++;                                                                     \
        __real_##name args;                                                                     \
    }

#endif /* KIT_TEST_NO_CRITERION */

/* ---- memory a failed assertion cannot strand ------------------------------------------- */

/* Zeroed memory of exactly size bytes (at least 1), freed by kit_cleanup(). Never NULL: the
 * process aborts with a message when memory runs out. */
void *kit_alloc(size_t size);
/* n elements of size bytes each, exactly (n may be 0); an overflowing size aborts. */
void *kit_alloc_array(size_t n, size_t size);
/* A formatted string in a buffer of exactly its length + 1, freed by kit_cleanup(). */
char *kit_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run fn(arg) at kit_cleanup(); the last deferred runs first (free what the student's code
 * filled in before the array that holds it). */
void kit_defer(void (*fn)(void *), void *arg);
/* Run every deferred clean-up and free every kit_alloc() block, last first. Safe to call more
 * than once: a test calls it (through kit_expect_no_leaks) and the suite's .fini calls it again
 * for a test an assertion ended early. */
void kit_cleanup(void);

#ifndef KIT_TEST_NO_CRITERION
/* ---- the checks every test makes -------------------------------------------------------- */

/* [not-done]: the skeleton's stubs return -ENOSYS. func names the function, file the exercise
 * file that holds its TODO. */
#define kit_expect_done(rc, func, file)                                                        \
    cr_assert_neq((long)(rc), (long)-ENOSYS,                                                    \
                  "[not-done] %s still returns -ENOSYS: that is the skeleton's stub. Start at " \
                  "its TODO in %s (`make hint-%s` gives a hint).",                              \
                  (func), (file), kit_lesson())

/* [memory-leak]: free what the test allocated (kit_cleanup), then ask LeakSanitizer. what names
 * the function under test. */
#define kit_expect_no_leaks(what)                                                              \
    do {                                                                                        \
        kit_cleanup();                                                                          \
        cr_assert(!kit_leaked(),                                                                \
                  "[memory-leak] %s leaked memory: LeakSanitizer's report in the full log "     \
                  "says where it was allocated. Whatever your code allocates or opens, it "    \
                  "must free or close before it returns (or in the clean-up the lesson names).", \
                  (what));                                                                      \
    } while (0)

#endif /* KIT_TEST_NO_CRITERION */

/* ---- words ------------------------------------------------------------------------------ */

/* "-ETIMEDOUT" for -ETIMEDOUT, "ENOENT" for ENOENT, "0" for 0, "-123" for an unknown value.
 * The text lives in one of a few rotating buffers: several calls fit in one message. */
const char *kit_errname(long err);
/* one when n is 1 (or -1), many otherwise. */
const char *kit_plural(long n, const char *one, const char *many);
/* "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st"... (rotating buffers, as above). */
const char *kit_ordinal(long n);
/* The lesson number the runner set ($LESSON), or "NN". */
const char *kit_lesson(void);

/* ---- waiting for evidence, not for a guess ---------------------------------------------- */

/* A test that needs something to have happened before it looks (a task has started waiting,
 * a job has finished, a request is in flight) waits for that very thing, in short steps,
 * instead of sleeping a fixed 30 ms and hoping: on a loaded machine the guess is wrong both
 * ways, failing a right answer or passing a wrong one. The step is the caller's (one
 * uncounted aio_yield() when the evidence is another task's next turn, a 1 ms uncounted
 * aio_sleep() when it is a timer's), so the kit needs no runtime of its own. */
#define KIT_WAIT_S 5.0 /* the bound when w.bound_s is 0: generous, the steps end it at once */

struct kit_wait {
    const char *what; /* what the test waits for, for the message: "the joiner to start" */
    double bound_s;   /* give up after this long (KIT_WAIT_S when 0) */
    int tried;        /* 1 once the wait has run */
    int met;          /* 1 when cond held, 0 when the bound passed first */
    long steps;       /* steps taken */
    double waited_s;  /* how long the wait took */
};

/* Run the statement step until cond holds or w->bound_s has passed; w says which. Inside a
 * task (where an assertion must not end the test: the loop would be left half-way) record
 * and go on; after the loop, assert with kit_expect_waited() when the evidence is the test's
 * own premise, or with a cr_assert of the lesson's own diagnostic on w.met when the
 * student's code is what should have caused it. */
#define kit_wait_until(w, cond, step)                                                          \
    do {                                                                                        \
        struct kit_wait *kit_w_ = (w);                                                          \
        double kit_w_bound_ = kit_w_->bound_s > 0 ? kit_w_->bound_s : KIT_WAIT_S;               \
        double kit_w_t0_ = kit_wall();                                                          \
        kit_w_->tried = 1;                                                                      \
        kit_w_->steps = 0;                                                                      \
        while (!(kit_w_->met = (cond) ? 1 : 0) && kit_wall() - kit_w_t0_ < kit_w_bound_) {      \
            step;                                                                               \
            kit_w_->steps++;                                                                    \
        }                                                                                       \
        kit_w_->waited_s = kit_wall() - kit_w_t0_;                                              \
    } while (0)

#ifndef KIT_TEST_NO_CRITERION
/* [test-waited]: the test's own premise never came true within the bound (a wait that did not
 * run, because the test ended earlier, passes: that is reported elsewhere). */
#define kit_expect_waited(w)                                                                   \
    cr_assert(!(w)->tried || (w)->met,                                                          \
              "[test-waited] the test waited %.1f s for %s and it never happened: that is the " \
              "test's own set-up, so this says nothing about your code. The machine may be "    \
              "very busy; run the test again.", (w)->waited_s, (w)->what)

/* [test-premise]: a condition the test needs when it looks (the job still running when the
 * probe looks, a deadline not yet passed) did not hold; what says which, as a phrase. */
#define kit_expect_premise(cond, what)                                                         \
    cr_assert((cond), "[test-premise] the test could not set up its scene: %s. That is the "   \
              "test's own timing, so this says nothing about your code. The machine may be "    \
              "very busy; run the test again.", (what))

/* [test-premise] for a lower bound on how many requests were in flight together, asked before
 * the assertion that blames the code. A call that starts every request before it waits sends
 * them all within a few ms, unless the machine stalls it: each stall of about the shortest
 * delay lets the answers sent before it come back before the requests after it go out, so s
 * stalls can split want requests into s + 1 groups and leave a peak of want / (s + 1). busy_s
 * is kit_starved_s() over the call (the test's thread and the server's, kept from a CPU);
 * counting each stall as half the shortest delay, the shortfall to peak is the machine's
 * possible doing when busy_s reaches (ceil(want / peak) - 1) of them. A sequential answer (a
 * peak of 1 needs want - 1 stalls) or a batched one on a quiet machine is untouched; on a
 * machine that busy it is run again (the grader does so once), where the lesson's own
 * diagnostic names it. A peak of 0 (nothing reached the server) no stall explains. */
static inline int kit_starved_enough(double busy_s, long want, long peak, double shortest_s)
{
    if (peak <= 0 || peak >= want)
        return 0;
    return busy_s >= (double)((want + peak - 1) / peak - 1) * shortest_s / 2;
}
#define kit_expect_not_starved(busy_s, want, peak, shortest_s, what)                            \
    cr_assert(!kit_starved_enough((busy_s), (want), (peak), (shortest_s)),                      \
              "[test-premise] %s was %ld of %ld, but the busy machine kept the test or the "    \
              "server from a CPU for %.0f ms of the call, enough for stalls that let answers "  \
              "of %.0f ms come back before the last requests went out, whatever your code "    \
              "does. That is the test's own timing; run the test again.", (what), (long)(peak), \
              (long)(want), (busy_s) * 1e3, (shortest_s) * 1e3)
#endif /* KIT_TEST_NO_CRITERION */

/* ---- seeded randomness ------------------------------------------------------------------- */

/* The run's seed: $KIT_SEED when set (a repeat of an earlier run), else one drawn once per
 * process. Print it in any message whose verdict depends on the shuffle. */
unsigned kit_seed(void);
/* A pseudo-random number from *state (xorshift32; a zero state is replaced by 1). */
uint32_t kit_rand(uint32_t *state);
/* Shuffle n indices 0..n-1 into order[] (Fisher-Yates, driven by *state). */
void kit_shuffle(size_t *order, size_t n, uint32_t *state);

#endif
