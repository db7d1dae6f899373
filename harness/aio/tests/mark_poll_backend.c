/* Linked into the poll() build's HTTP suites (build/aio/tests-http-poll): tells test_http.c
 * that no client can wait in curl's poll there (poll() has no descriptor of its own to add). */
int aio_test_poll_backend = 1;
