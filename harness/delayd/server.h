/* delayd's MHD daemon: its options, the request life cycle (callbacks), and answering. */
#ifndef DELAYD_SERVER_H
#define DELAYD_SERVER_H

#include "delayd.h"

/* Start the daemon on delayd_cfg.host:port and report the bound port. Returns 0, or -1 after
 * printing why. The timers must already run. */
int server_start(unsigned *bound_port);

/* Stop taking connections, wake every sleeper (timers_stop), close every connection and free
 * the daemon. Call once, after server_start() succeeded. */
void server_stop(void);

/* Queue resp as req's answer with this status and count it in /stats. Takes over the caller's
 * reference to resp (NULL means out of memory: the connection is closed). Returns MHD's
 * verdict, to be returned from the access handler. */
enum MHD_Result server_respond(struct request *req, unsigned status, struct MHD_Response *resp);

/* The same with a copied text body and a Content-Type. */
enum MHD_Result server_respond_copy(struct request *req, unsigned status, const char *type,
                                    const char *body);

/* The same with a malloc'd body that MHD frees once sent (body may be NULL: out of memory). */
enum MHD_Result server_respond_owned(struct request *req, unsigned status, const char *type,
                                     char *body);

#endif
