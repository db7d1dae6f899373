/* delayd's timers: suspended requests sleep in one min-heap, serviced by one thread that also
 * notices clients hanging up. 10,000 sleeping requests cost heap slots, not threads. */
#ifndef DELAYD_TIMERS_H
#define DELAYD_TIMERS_H

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

#endif
