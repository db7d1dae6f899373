/* Lesson 02, given: what loop_base.c (given) and loop.c (yours) share beyond loop.h. Not for
 * the loop's users: main.c and the tests include only loop.h. */
#ifndef LOOP_INTERNAL_H
#define LOOP_INTERNAL_H

#include "loop.h"

#include <stdint.h>

/* ---- in loop_base.c (given) ---------------------------------------------------------------- */

/* Milliseconds on CLOCK_MONOTONIC (a clock that never jumps when someone sets the date). */
uint64_t clock_ms(void);

/* Make room for one more entry in loop->heap (it may move in memory). Returns 0 or -ENOMEM. */
int heap_reserve(struct loop *loop);

/* Squeeze the unwatched entries (fd == -1) out of pfds[] and watches[], keeping the others in
 * order. Only between passes: while callbacks run, index i must keep naming the same fd. */
void compact_fds(struct loop *loop);

/* ---- in loop.c (yours) --------------------------------------------------------------------- */

/* Add a copy of *t to the heap, keeping it a min-heap on (deadline, id). Returns 0, or -ENOMEM
 * with the heap unchanged. loop_add_timer() (given) fills *t and calls this. */
int heap_push(struct loop *loop, const struct loop_timer *t);

#endif
