/* Lesson 11 tests: the calls the test binary counts (lesson.mk's LDWRAP), shared by both test
 * files. Test code that must not be counted calls the __real_ versions. */
#ifndef LESSON11_COUNTED_H
#define LESSON11_COUNTED_H

#include "aio.h"
#include "breaker.h"
#include "retry.h"

#include <stddef.h>
#include <stdint.h>

#define TRACK_MAX 256   /* gets, draws and sleeps tracked in one test */

int __real_aio_sleep(int64_t ms);
int __real_aio_sleep_until(int64_t deadline);
int __real_aio_yield(void);
int __real_aio_park(int64_t deadline);
int __real_aio_http_get(aio_http *c, const char *url, struct aio_response *out,
                        int64_t deadline);
int64_t __real_retry_draw(uint32_t *state, int64_t max);

/* Everything below counts only while `watching` is set. */
extern int watching;

/* The events in order, one letter each: G a GET began, g it ended, D a draw, S a sleep began,
 * s it ended, Y a yield, P a park. */
extern char events[4 * TRACK_MAX + 1];
extern size_t nevents;

/* GETs: how many began, are in flight now and were at most; each one's deadline as it was
 * asked for, relative to aio_now() then (-1 for AIO_NEVER), and what it returned. */
extern long gets, gets_in_flight, gets_peak;
extern int64_t get_left[TRACK_MAX], get_deadline[TRACK_MAX];
extern int get_rc[TRACK_MAX];
extern long get_status[TRACK_MAX];

/* Draws: each one's max and its result. */
extern long draws;
extern int64_t draw_max[TRACK_MAX], draw_got[TRACK_MAX];

/* Sleeps (aio_sleep, or aio_sleep_until as the time left then): each one's length, how many
 * are under way now, and their results. Yields and parks, and sleeps that block the thread. */
extern long sleeps, sleeping, yields, parks, blocking_calls;
extern int64_t sleep_ms[TRACK_MAX];
extern int sleep_rc[TRACK_MAX];

/* When set (> 0), every draw gives exactly draw_ends_at - aio_now() (kept within 0..max): a
 * pause that would end exactly at that time, as a generator may draw. 0 after counted_reset. */
extern int64_t draw_ends_at;

void counted_reset(void);

#endif
