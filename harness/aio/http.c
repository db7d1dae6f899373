/* http.c: placeholder until the libcurl client lands. */
#include "aio_internal.h"

#include <errno.h>
#include <stdlib.h>

aio_http *aio_http_new(void) { errno = ENOSYS; return NULL; }
void aio_http_free(aio_http *c) { (void)c; }
int aio_http_get(aio_http *c, const char *url, struct aio_response *out, int64_t deadline)
{ (void)c; (void)url; (void)out; (void)deadline; return -ENOSYS; }
void aio_response_free(struct aio_response *r) { if (r) { free(r->body); r->body = NULL; r->len = 0; } }
void aio__http_loop_end(struct aio__loop *L) { (void)L; }
