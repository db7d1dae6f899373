/* delayd's timers: suspended requests sleep in one min-heap, serviced by one thread that also
 * notices clients hanging up. 10,000 sleeping requests cost heap slots, not threads. */
#ifndef DELAYD_TIMERS_H
#define DELAYD_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

#include "delayd.h"

/* Start the timer thread. Returns 0, or a negative errno (nothing is left running then). */
int timers_start(void);

/* Wake every sleeping request with WAKE_SHUTDOWN and join the thread. From then on a request
 * that tries to sleep is woken the same way at once, so MHD_stop_daemon() finds no suspended
 * connection (it must not). Call once, after timers_start() succeeded. */
void timers_stop(void);

/* Suspend req's connection and resume it when deadline_us (delayd_now_us() time) comes, when
 * the client closes its end (noticed only for sleeps of a second or more), or at shutdown;
 * req->wake tells which. Call only from the MHD
 * thread serving the connection, inside its access handler or content reader, and return
 * from that callback right after (MHD_YES, or 0 bytes). Until MHD calls back after the resume,
 * the timer thread owns req's timer fields (deadline_us, heap_index, next_due, wake). */
void timers_sleep_until(struct request *req, uint64_t deadline_us);

/* A connection must deliver each request whole (head, and body if any) within
 * delayd_cfg.request_timeout_ms of being ready for it: from its accept, or from the end of the
 * previous request. MHD's own idle timeout restarts with every byte, so a client sending one
 * byte every few seconds would hold a connection for an hour; this deadline does not move.
 * When it passes, the timer thread shuts the socket down (shutdown(SHUT_RDWR): no answer); MHD
 * then sees the end of the stream and closes the connection as usual. One watch per
 * connection, owned by the connection callbacks; all watches share one deadline, so they wait
 * in a plain FIFO list. */
struct request_watch {
    struct request_watch *prev;
    struct request_watch *next;
    uint64_t deadline_us;
    int fd;
    bool listed;   /* in the list; guarded by the list's lock */
};

/* Start w's deadline now (again, if it runs). From the MHD thread serving the connection. */
void timers_watch_request(struct request_watch *w);

/* The request arrived whole, or the connection is closing: forget w's deadline. Call it at the
 * latest from MHD's "connection closed" notification, which comes before MHD closes the
 * socket, so the timer thread never shuts down a descriptor number reused since. */
void timers_unwatch_request(struct request_watch *w);

#endif
