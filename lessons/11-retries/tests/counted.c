/* Lesson 11 tests: counted wrappers for the calls listed in lesson.mk's LDWRAP. */
#include "counted.h"

#include <time.h>
#include <unistd.h>

int watching;
char events[4 * TRACK_MAX + 1];
size_t nevents;
long gets, gets_in_flight, gets_peak;
int64_t get_left[TRACK_MAX], get_deadline[TRACK_MAX];
int get_rc[TRACK_MAX];
long get_status[TRACK_MAX];
long draws;
int64_t draw_ends_at;
int64_t draw_max[TRACK_MAX], draw_got[TRACK_MAX];
long sleeps, sleeping, yields, parks, blocking_calls;
int64_t sleep_ms[TRACK_MAX];
int sleep_rc[TRACK_MAX];

void counted_reset(void)
{
    nevents = 0;
    events[0] = '\0';
    gets = gets_in_flight = gets_peak = 0;
    draws = 0;
    draw_ends_at = 0;
    sleeps = sleeping = yields = parks = blocking_calls = 0;
}

static void event(char e)
{
    if (nevents < sizeof events - 1) {
        events[nevents++] = e;
        events[nevents] = '\0';
    }
}

int __wrap_aio_http_get(aio_http *c, const char *url, struct aio_response *out,
                        int64_t deadline);
int __wrap_aio_http_get(aio_http *c, const char *url, struct aio_response *out,
                        int64_t deadline)
{
    if (!watching)
        return __real_aio_http_get(c, url, out, deadline);
    long i = gets++;
    if (i < TRACK_MAX) {
        get_left[i] = deadline == AIO_NEVER ? -1 : deadline - aio_now();
        get_deadline[i] = deadline;
    }
    if (++gets_in_flight > gets_peak)
        gets_peak = gets_in_flight;
    event('G');
    int rc = __real_aio_http_get(c, url, out, deadline);
    gets_in_flight--;
    event('g');
    if (i < TRACK_MAX) {
        get_rc[i] = rc;
        get_status[i] = rc == 0 && out != NULL ? out->status : 0;
    }
    return rc;
}

int64_t __wrap_retry_draw(uint32_t *state, int64_t max);
int64_t __wrap_retry_draw(uint32_t *state, int64_t max)
{
    int64_t v = __real_retry_draw(state, max);
    if (draw_ends_at > 0) {
        int64_t left = draw_ends_at - aio_now();
        v = left < 0 ? 0 : left > max ? max : left;
    }
    if (watching) {
        if (draws < TRACK_MAX) {
            draw_max[draws] = max;
            draw_got[draws] = v;
        }
        draws++;
        event('D');
    }
    return v;
}

static int sleep_for(int64_t ms, int until, int64_t deadline)
{
    if (!watching)
        return until ? __real_aio_sleep_until(deadline) : __real_aio_sleep(ms);
    long i = sleeps++;
    if (i < TRACK_MAX)
        sleep_ms[i] = ms;
    sleeping++;
    event('S');
    int rc = until ? __real_aio_sleep_until(deadline) : __real_aio_sleep(ms);
    sleeping--;
    event('s');
    if (i < TRACK_MAX)
        sleep_rc[i] = rc;
    return rc;
}

int __wrap_aio_sleep(int64_t ms);
int __wrap_aio_sleep(int64_t ms)
{
    return sleep_for(ms, 0, 0);
}

int __wrap_aio_sleep_until(int64_t deadline);
int __wrap_aio_sleep_until(int64_t deadline)
{
    return sleep_for(deadline - aio_now(), 1, deadline);
}

int __wrap_aio_yield(void);
int __wrap_aio_yield(void)
{
    if (watching) {
        yields++;
        event('Y');
    }
    return __real_aio_yield();
}

int __wrap_aio_park(int64_t deadline);
int __wrap_aio_park(int64_t deadline)
{
    if (watching) {
        parks++;
        event('P');
    }
    return __real_aio_park(deadline);
}

unsigned __real_sleep(unsigned s);
int __real_usleep(useconds_t us);
int __real_nanosleep(const struct timespec *req, struct timespec *rem);
unsigned __wrap_sleep(unsigned s);
int __wrap_usleep(useconds_t us);
int __wrap_nanosleep(const struct timespec *req, struct timespec *rem);

unsigned __wrap_sleep(unsigned s)
{
    blocking_calls += watching;
    return __real_sleep(s);
}

int __wrap_usleep(useconds_t us)
{
    blocking_calls += watching;
    return __real_usleep(us);
}

int __wrap_nanosleep(const struct timespec *req, struct timespec *rem)
{
    blocking_calls += watching;
    return __real_nanosleep(req, rem);
}
