/* delayd's request trace (--trace N): when each counted request arrived and when its answer
 * was sent, for the kit's timelines (harness/timeline/). Served as text by /trace. */
#ifndef DELAYD_TRACE_H
#define DELAYD_TRACE_H

#include <stdbool.h>
#include <stdint.h>

/* Keep up to capacity requests (0: tracing off). 0, or -1 when out of memory. */
int trace_init(long capacity);
/* A counted request's head has arrived: its slot (a handle for the calls below), or -1 when
 * tracing is off or the trace is full (then it is counted as dropped). */
long trace_begin(const char *path, const char *query);
/* The answer chosen for slot. */
void trace_status(long slot, unsigned status);
/* The request is over: answered == the whole answer was sent. */
void trace_end(long slot, bool answered);
/* /reset: forget every request traced so far. */
void trace_reset(void);
/* The /trace document (malloc'd, the caller frees it), or NULL when out of memory. *off is
 * set when tracing is off. */
char *trace_text(bool *off);

#endif
