/* delayd's counters: one mutex guards them all, so /stats is a consistent snapshot and peak is
 * exact even when two worker threads start requests at the same instant. */
#include "stats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#define STATUS_SLOTS 1000   /* MHD accepts status codes 100..999 */

static const char *const endpoint_names[EP_COUNTED] = {
    [EP_DELAY] = "delay",     [EP_STATUS] = "status", [EP_HANG] = "hang",
    [EP_BYTES] = "bytes",     [EP_DRIP] = "drip",     [EP_LIMITED] = "limited",
    [EP_FLAKY] = "flaky",     [EP_PAGE] = "page",     [EP_OTHER] = "other",
};

/* A critical section is a few additions: far shorter than a request, so one lock is cheap
 * and, unlike separate atomics, lets in_flight and peak move together. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
    long in_flight;              /* live, never reset */
    long limited_in_flight;      /* live, never reset */
    long peak;
    long requests;
    long connections;
    uint64_t epoch;              /* bumped by /reset */
    uint64_t flaky_seq;
    long by_endpoint[EP_COUNTED];
    long by_status[STATUS_SLOTS];
} s;

void stats_connection_opened(struct conn_note *note)
{
    pthread_mutex_lock(&lock);
    if (note != NULL) {
        note->epoch = s.epoch;
        note->counted = true;
        note->served = false;
    }
    s.connections++;
    pthread_mutex_unlock(&lock);
}

void stats_connection_used(struct conn_note *note, bool counted_request)
{
    if (note == NULL)
        return;
    pthread_mutex_lock(&lock);
    if (counted_request) {
        /* Re-count a connection that an earlier /stats took out, unless a /reset since then
         * means it was accepted before the current totals began. */
        if (!note->counted && note->epoch == s.epoch) {
            note->counted = true;
            s.connections++;
        }
        note->served = true;
    } else if (note->counted && !note->served && note->epoch == s.epoch) {
        note->counted = false;
        s.connections--;
    }
    pthread_mutex_unlock(&lock);
}

void stats_request_started(enum endpoint ep)
{
    pthread_mutex_lock(&lock);
    s.requests++;
    s.in_flight++;
    if (s.in_flight > s.peak)
        s.peak = s.in_flight;
    if (ep < EP_COUNTED)
        s.by_endpoint[ep]++;
    pthread_mutex_unlock(&lock);
}

void stats_request_completed(void)
{
    pthread_mutex_lock(&lock);
    s.in_flight--;
    pthread_mutex_unlock(&lock);
}

void stats_response_queued(unsigned status)
{
    if (status >= STATUS_SLOTS)
        return;
    pthread_mutex_lock(&lock);
    s.by_status[status]++;
    pthread_mutex_unlock(&lock);
}

long stats_limited_enter(void)
{
    long n;

    pthread_mutex_lock(&lock);
    n = ++s.limited_in_flight;
    pthread_mutex_unlock(&lock);
    return n;
}

void stats_limited_leave(void)
{
    pthread_mutex_lock(&lock);
    s.limited_in_flight--;
    pthread_mutex_unlock(&lock);
}

uint64_t stats_flaky_next(void)
{
    uint64_t n;

    pthread_mutex_lock(&lock);
    n = ++s.flaky_seq;
    pthread_mutex_unlock(&lock);
    return n;
}

void stats_reset(void)
{
    pthread_mutex_lock(&lock);
    s.peak = s.in_flight;
    s.requests = 0;
    s.connections = 0;
    s.epoch++;
    s.flaky_seq = 0;
    for (int i = 0; i < EP_COUNTED; i++)
        s.by_endpoint[i] = 0;
    for (int i = 0; i < STATUS_SLOTS; i++)
        s.by_status[i] = 0;
    pthread_mutex_unlock(&lock);
}

/* Build the JSON from a copy taken under the lock, so the lock is never held while allocating. */
static json_t *stats_document(void)
{
    long status_copy[STATUS_SLOTS];   /* 8 KB: fine on a worker thread's stack */
    long ep_copy[EP_COUNTED];
    long in_flight, peak, requests, connections;
    json_t *root, *by_ep, *by_status;

    pthread_mutex_lock(&lock);
    in_flight = s.in_flight;
    peak = s.peak;
    requests = s.requests;
    connections = s.connections;
    for (int i = 0; i < EP_COUNTED; i++)
        ep_copy[i] = s.by_endpoint[i];
    for (int i = 0; i < STATUS_SLOTS; i++)
        status_copy[i] = s.by_status[i];
    pthread_mutex_unlock(&lock);

    by_ep = json_object();
    for (int i = 0; i < EP_COUNTED; i++)
        json_object_set_new(by_ep, endpoint_names[i], json_integer(ep_copy[i]));
    by_status = json_object();
    for (int i = 0; i < STATUS_SLOTS; i++) {
        char key[12];   /* any int fits */

        if (status_copy[i] == 0)
            continue;
        snprintf(key, sizeof key, "%d", i);
        json_object_set_new(by_status, key, json_integer(status_copy[i]));
    }
    root = json_pack("{s:I, s:I, s:I, s:I, s:o, s:o}", "in_flight", (json_int_t)in_flight,
                     "peak", (json_int_t)peak, "requests", (json_int_t)requests,
                     "connections", (json_int_t)connections, "by_endpoint", by_ep,
                     "by_status", by_status);
    return root;
}

char *stats_json(void)
{
    json_t *root = stats_document();
    char *text;

    if (root == NULL)
        return NULL;
    text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    return text;
}
