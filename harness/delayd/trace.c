/* delayd's request trace: a fixed array of slots allocated at start (--trace N), one per
 * counted request since start or /reset, filled under one mutex. The clock is delayd_now_us(),
 * CLOCK_MONOTONIC: the clock the aio runtime's trace uses too, so on one machine the server's
 * lanes and a program's tasks share a time axis. */
#include "trace.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delayd.h"

#define PATH_KEEP 48

struct slot {
    uint64_t begin_us, end_us;     /* end_us 0: still in flight */
    unsigned status;               /* 0: no answer chosen yet */
    bool answered;                 /* the whole answer was sent */
    char path[PATH_KEEP];          /* path?query, cut to fit */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *slots;
static long cap, used, dropped;
static long generation;            /* bumped by /reset; a slot handle carries it */

#define HANDLE(gen, i) ((gen) * cap + (i))

int trace_init(long capacity)
{
    if (capacity <= 0)
        return 0;
    slots = calloc((size_t)capacity, sizeof *slots);
    if (slots == NULL)
        return -1;
    cap = capacity;
    return 0;
}

long trace_begin(const char *path, const char *query)
{
    long h = -1;

    if (cap == 0)
        return -1;
    pthread_mutex_lock(&lock);
    if (used < cap) {
        struct slot *s = &slots[used];

        memset(s, 0, sizeof *s);
        s->begin_us = delayd_now_us();
        snprintf(s->path, sizeof s->path, "%s%s%s", path, query[0] != '\0' ? "?" : "", query);
        for (char *p = s->path; *p != '\0'; p++)
            if ((unsigned char)*p <= ' ' || *p == 127)
                *p = '_';   /* one field on the line */
        h = HANDLE(generation, used);
        used++;
    } else {
        dropped++;
    }
    pthread_mutex_unlock(&lock);
    return h;
}

/* The slot of a handle taken before no /reset, or NULL. Called with the lock held. */
static struct slot *slot_of(long h)
{
    if (h < 0 || h / cap != generation || h % cap >= used)
        return NULL;
    return &slots[h % cap];
}

void trace_status(long h, unsigned status)
{
    if (h < 0)
        return;
    pthread_mutex_lock(&lock);
    struct slot *s = slot_of(h);
    if (s != NULL)
        s->status = status;
    pthread_mutex_unlock(&lock);
}

void trace_end(long h, bool answered)
{
    if (h < 0)
        return;
    pthread_mutex_lock(&lock);
    struct slot *s = slot_of(h);
    if (s != NULL) {
        s->end_us = delayd_now_us();
        s->answered = answered;
    }
    pthread_mutex_unlock(&lock);
}

void trace_reset(void)
{
    pthread_mutex_lock(&lock);
    generation++;
    used = 0;
    dropped = 0;
    pthread_mutex_unlock(&lock);
}

char *trace_text(bool *off)
{
    static const char head[] = "# delayd trace: begin_us end_us status answered path "
                               "(us on CLOCK_MONOTONIC; end_us 0: still in flight)\n";
    *off = cap == 0;
    if (*off)
        return NULL;
    pthread_mutex_lock(&lock);
    size_t size = sizeof head + 64 + (size_t)used * (PATH_KEEP + 64), len;
    char *out = malloc(size);
    if (out != NULL) {
        len = (size_t)snprintf(out, size, "%s# requests %ld dropped %ld\n", head, used, dropped);
        for (long i = 0; i < used; i++) {
            const struct slot *s = &slots[i];
            len += (size_t)snprintf(out + len, size - len, "%llu %llu %u %d %s\n",
                                    (unsigned long long)s->begin_us,
                                    (unsigned long long)s->end_us, s->status, s->answered,
                                    s->path);
        }
    }
    pthread_mutex_unlock(&lock);
    return out;
}
