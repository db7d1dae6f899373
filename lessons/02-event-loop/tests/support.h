/* Lesson 02 tests, shared helpers: loop_run() in a child process under a watchdog, memory that
 * the child's callbacks write and the test reads, calls to poll() counted, pipes and clocks. */
#ifndef LOOP_TEST_SUPPORT_H
#define LOOP_TEST_SUPPORT_H

#include "loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RUN_LIMIT_S 1.5   /* the watchdog: every workload here is done in well under 1 s */
#define MAX_EVENTS 6000   /* callbacks one test can record */
#define MAX_POLLS 256     /* poll() calls whose timeout and result are kept */

/* Every call the child's loop made to poll(), ppoll() or epoll_wait(): the count the clock
 * cannot blur. Lives in shared memory, so the test sees it even when the watchdog killed the
 * loop. */
struct poll_log {
    long calls;              /* all calls */
    long zero;               /* calls with a timeout of 0 (return at once) */
    long eintr;              /* calls a signal interrupted (-1 with EINTR) */
    long signals;            /* SIGUSR1s the child's handler saw */
    int timeout[MAX_POLLS];  /* the first calls' timeouts, in ms (-1: no limit) */
    int result[MAX_POLLS];   /* what they returned: a count, or -errno */
    uint64_t at[MAX_POLLS];  /* when they were made: ms on CLOCK_MONOTONIC, like loop_now() */
    uint64_t end[MAX_POLLS]; /* when they returned, on the same clock */
    uint64_t start;          /* when loop_run() was called, on the same clock */
};

/* What a run of loop_run() in the child looked like. */
struct run_report {
    bool returned;   /* loop_run() returned (the child then closes the loop, checks leaks) */
    bool finished;   /* ... and the child got through all of it before the watchdog fired */
    bool timed_out;  /* the watchdog killed the child */
    int status;      /* the child's wait status, if it neither finished nor timed out */
    int rc;          /* what loop_run() returned */
    bool leaked;     /* LeakSanitizer found memory lost in the child after loop_close() */
    double wall_s;   /* wall time spent inside loop_run() */
    double cpu_s;    /* CPU time (user + system) spent inside loop_run() */
    long polls;      /* calls to poll(), ppoll() and epoll_wait() inside loop_run() */
    struct poll_log log; /* those calls in detail */
};

/* Signals the watchdog sends to the child while it runs: SIGUSR1 (its handler does nothing,
 * installed without SA_RESTART) first_ms after the start, then every every_ms, count times. */
struct signals {
    long first_ms, every_ms, count;
};

/* The order callbacks ran in. Lives in shared memory: the child writes, the test reads. */
struct record {
    long n;                     /* callbacks recorded */
    int who[MAX_EVENTS];        /* which timer or descriptor (the test's numbering) */
    uint64_t at[MAX_EVENTS];    /* loop_now() when it ran */
};

/* Zeroed memory shared with the children forked after this call. Never NULL (it asserts).
 * Release with shared_free(). */
void *shared_alloc(size_t size);
void shared_free(void *p, size_t size);

/* Note that callback `who` ran now (it asserts there is room). */
void record_event(struct record *rec, struct loop *loop, int who);

/* Fork; the child runs loop_run(loop), closes its copy of the loop, asks LeakSanitizer and
 * reports; the parent waits at most limit_s seconds, then kills it. The caller's own copy of
 * *loop is untouched: it must still loop_close() it. */
void run_loop(struct loop *loop, double limit_s, struct run_report *out);

/* The same, with signals sent to the child during the run. */
void run_loop_signalled(struct loop *loop, double limit_s, const struct signals *sig,
                        struct run_report *out);

/* The first n poll() timeouts of a run, as "100, -1, 0 ms", for messages. */
const char *poll_timeouts(const struct run_report *r, char *buf, size_t len);

/* Fail the test if the loop woke up more than max_polls times: [busy-loop] when those calls
 * returned at once (timeout 0), [idle-wakeups] when it slept, but in short naps. waited says
 * what the loop waited for. */
void expect_sleeps(const struct run_report *r, long max_polls, const char *waited);

/* Fail the test with [oversleep] if a poll() call asked to sleep past `last`, the last
 * deadline of the run (ms on CLOCK_MONOTONIC, as loop_now() counts). The bound for each call
 * starts from when the call before it returned (or loop_run() began): a loop's clock is read
 * after that, so a correct timeout is never longer. */
void expect_no_oversleep(const struct run_report *r, uint64_t last, const char *what);

/* loop_init() a static loop and have kit_cleanup() close it. */
void open_loop(struct loop *loop);

/* Fail the test unless the child's loop_run() returned 0 in time, without a crash.
 * ran and expected (callbacks run, and expected to run) only shape the message when the
 * watchdog fired; the caller checks the callbacks itself. what names the workload. */
void expect_clean_return(const struct run_report *r, long ran, long expected, const char *what);

/* Fail the test with [not-done] if a call returned -ENOSYS, the skeleton's stub. */
void expect_done(long rc, const char *call, const char *todo);

/* Zeroed shared memory freed by kit_cleanup(). */
void *shared_alloc_deferred(size_t size);

/* A pipe (both ends non-blocking, close-on-exec); asserts on failure. kit_cleanup() closes
 * both ends through these pointers (so fds must outlive it; set an end to -1 once you closed
 * it yourself). */
void make_pipe(int fds[2]);

/* Fork a child that sleeps delay_ms, writes one byte to fd and exits. Returns its pid. */
int spawn_writer(int fd, long delay_ms, char byte);

/* Reap a child made by spawn_writer(). */
void reap(int pid);

#endif
