/* Lesson 09 tests: what both test files share (common.c). */
#ifndef LESSON09_COMMON_H
#define LESSON09_COMMON_H

#include "work.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* The private delayd's base URL, set by setup(). */
extern const char *base;
void setup(void);
void teardown(void);

/* A port nothing listens on: a GET there fails at once with -ECONNREFUSED. */
#define REFUSED "http://127.0.0.1:1/refused"

/* What a test's tasks were never allowed to write: the test fills memory the code under test
 * has given up (an out slot, an item joined) with it, and looks again after the loop. */
#define SENTINEL 0xA5A5A5A5A5A5A5A5ULL

/* One run inside a loop: a batch on a ledger of `ids` ids, and the test's own steps. */
struct scene {
    int cap;                          /* the batch's cpu_max */
    size_t ids;                       /* the ledger's ids */
    long write_ms;                    /* a ledger write's blocking time */
    unsigned rounds;                  /* the digest's rounds */
    int debug;                        /* run with AIO_DEBUG=1, stderr captured into `report` */
    long fail_at;                     /* the k-th aio_to_thread fails with -ENOMEM (0: none) */
    int (*steps)(struct scene *s);    /* the test's own steps, inside the loop */
    void *data;                       /* the test's own */
    struct batch b;
    struct ledger *lg;
    const char *problem;              /* set when the steps could not make their conditions */
    char report[4096];                /* debug mode's lines, when `debug` */
    int loop_rc;
};

/* Run s: the ledger and the batch made, the counts reset, the steps run in a loop, the gates
 * opened when the steps return, the loop ended (its threads joined). Asserts that the loop
 * ended well and that the steps could make their conditions. */
void run_scene(struct scene *s);

/* Inside the loop: wait (uncounted 1 ms sleeps) until *v >= k; 1 when it came, 0 after 5 s. */
int until_count(atomic_long *v, long k);
/* The same, but give up as soon as t has finished (it will not start anything more). */
int until_started(atomic_long *v, long k, aio_task *t);
/* Inside the loop: until t has finished (1), or 0 after 5 s. */
int until_done(aio_task *t);

/* The checks every test makes after its run. func names the code under test. */
void expect_off_the_loop(const char *func);
void expect_released(const char *func, struct scene *s);
/* id written `times` times, the last with digest; for times 0, `why` says why it must not be. */
void expect_write(const struct scene *s, size_t id, uint64_t digest, int times, const char *why);
/* The ledger's writes, all of them, as expected: n ids each written once with digests[i]. */
void expect_ledger(const struct scene *s, const uint64_t *digests, size_t n);

#endif
