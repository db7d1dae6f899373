/* delayd's endpoints: what each path answers, now or after sleeping (README.md lists them). */
#ifndef DELAYD_ENDPOINTS_H
#define DELAYD_ENDPOINTS_H

#include "delayd.h"

/* Which endpoint serves this (unescaped) path. */
enum endpoint endpoint_classify(const char *url);

/* The access handler's final call for req: answer at once, or put req to sleep (then MHD
 * calls endpoint_wake() after the resume). Returns the access handler's verdict. */
enum MHD_Result endpoint_answer(struct request *req, const char *url, const char *method);

/* req was resumed by the timers; req->wake says why. Returns the access handler's verdict
 * (MHD_NO closes the connection without an answer). */
enum MHD_Result endpoint_wake(struct request *req, const char *url);

#endif
