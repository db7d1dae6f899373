/* Linked into build/aio/tests-http-socket: the HTTP suites again, every client of every loop
 * on libcurl's socket interface (http.c reads AIO_HTTP_API when a client first binds). */
#include <stdlib.h>

__attribute__((constructor)) static void use_the_socket_interface(void)
{
    setenv("AIO_HTTP_API", "socket", 1);
}
