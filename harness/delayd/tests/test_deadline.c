/* delayd's request deadline (--request-timeout-ms): a client that sends its request head or
 * body a byte at a time loses the connection once the deadline passes, whatever its pace;
 * requests that arrived whole are never cut, however long they sleep; the deadline starts
 * again after each answer on a kept-alive connection. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"

#define DEADLINE_MS 2000     /* the server's --request-timeout-ms in these tests */
#define DRIP_STEP_MS 100     /* a slow client sends one byte this often */
#define SLOW_CLIENTS 200     /* slow clients at once; each would last minutes without a deadline */
#define CLOSE_LIMIT_S 20.0   /* a slow client must be cut by then (10 deadlines: load-proof) */

static const char *base;

static void start(void)
{
    static const char *const args[] = { "--request-timeout-ms", "2000", NULL };

    base = server(args);
}

TestSuite(deadline, .fini = kit_fini_leaks, .timeout = SUITE_TIMEOUT);

/* One slow client: its request goes out a byte per DRIP_STEP_MS; we note when the server
 * closed the connection and whether it sent anything first. */
struct slow {
    int fd;
    const char *request;
    size_t sent;
    double opened;      /* kit_wall() just before connect */
    double next;        /* when the next byte is due */
    double closed;      /* 0 while open */
    size_t received;    /* bytes the server sent: must stay 0 */
};

/* The requests the slow clients send, slower than the deadline allows: a head, a request line,
 * and a body after a complete head. */
static const char *const slow_requests[] = {
    "GET /delay/0 HTTP/1.1\r\nHost: t\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
    "GET /delay/0?pad=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb HTTP/1.1\r\nHost: t\r\n\r\n",
    "POST /delay/0 HTTP/1.1\r\nHost: t\r\nContent-Length: 300\r\n\r\n"
    "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
    "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
    "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
    "cccccccccccccccccccccccc",
};

enum { SLOW_KINDS = sizeof slow_requests / sizeof slow_requests[0] };

/* Read what the server sent to s; note the close (end of stream or reset). */
static void slow_read(struct slow *s)
{
    char buf[512];
    ssize_t n = recv(s->fd, buf, sizeof buf, MSG_DONTWAIT);

    if (n > 0)
        s->received += (size_t)n;
    else if (n == 0 || (errno != EAGAIN && errno != EINTR))
        s->closed = kit_wall();
}

/* Send s's next byte if it is due; a send error means the server closed. */
static void slow_send(struct slow *s, double now)
{
    if (s->closed != 0 || now < s->next || s->sent == strlen(s->request))
        return;
    if (send(s->fd, s->request + s->sent, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
        s->sent++;
    else if (errno != EAGAIN && errno != EINTR)
        s->closed = kit_wall();
    s->next = now + DRIP_STEP_MS / 1000.0;
}

Test(deadline, slow_clients_are_cut_at_the_deadline, .init = start)
{
    static struct slow slow[SLOW_CLIENTS];
    static struct pollfd pfd[SLOW_CLIENTS];
    double until;
    int open = SLOW_CLIENTS;
    long left;

    cr_assert_gt(raise_fd_limit(), SLOW_CLIENTS + 64, "[fd-limit] too few descriptors");
    for (int i = 0; i < SLOW_CLIENTS; i++) {
        slow[i] = (struct slow){ .request = slow_requests[i % SLOW_KINDS] };
        slow[i].opened = kit_wall();
        slow[i].fd = raw_connect(base);
        cr_assert_geq(slow[i].fd, 0, "[connect] cannot connect to %s", base);
        slow[i].next = slow[i].opened;
    }
    until = kit_wall() + CLOSE_LIMIT_S;
    while (open > 0 && kit_wall() < until) {
        double now = kit_wall();

        for (int i = 0; i < SLOW_CLIENTS; i++) {
            slow_send(&slow[i], now);
            pfd[i] = (struct pollfd){ .fd = slow[i].closed != 0 ? -1 : slow[i].fd,
                                      .events = POLLIN };
        }
        if (poll(pfd, SLOW_CLIENTS, DRIP_STEP_MS / 4) <= 0)
            continue;
        for (int i = 0; i < SLOW_CLIENTS; i++) {
            if (pfd[i].revents != 0 && slow[i].closed == 0) {
                slow_read(&slow[i]);
                open -= slow[i].closed != 0;
            }
        }
    }
    for (int i = 0; i < SLOW_CLIENTS; i++) {
        const char *kind = strncmp(slow[i].request, "POST", 4) == 0 ? "a body"
                           : strstr(slow[i].request, "?pad=") != NULL ? "a request line"
                                                                      : "a header";
        double lasted = slow[i].closed - slow[i].opened;

        close(slow[i].fd);
        cr_assert_neq(slow[i].closed, 0, "[deadline-slow] a client sending %s a byte every %d "
                      "ms was still connected after %.0f s, with %zu bytes sent; the request "
                      "deadline is %d ms. Does it start at accept, and not move with each byte?",
                      kind, DRIP_STEP_MS, CLOSE_LIMIT_S, slow[i].sent, DEADLINE_MS);
        cr_assert_geq(lasted, DEADLINE_MS / 1000.0, "[deadline-early] a client sending %s was "
                      "cut after %.3f s, before the %d ms deadline", kind, lasted, DEADLINE_MS);
        cr_assert_lt(slow[i].sent, strlen(slow[i].request), "[deadline-test] a slow client sent "
                     "its whole request before the deadline: the test is too fast");
        cr_assert_eq(slow[i].received, 0, "[deadline-answer] a client cut at the deadline got "
                     "%zu bytes; the server should close without an answer", slow[i].received);
    }
    left = wait_in_flight(base, 0, 10);
    cr_expect_eq(left, 0, "[flight-zero] %ld requests in flight after the slow clients were cut",
                 left);
    cr_expect_eq(get(base, "/delay/0", NULL), 200, "[alive] after %d slow clients, GET /delay/0 "
                 "failed", SLOW_CLIENTS);
}

/* Send all of text on fd (a blocking socket). */
static void send_text(int fd, const char *text)
{
    size_t len = strlen(text);

    cr_assert_eq(send(fd, text, len, MSG_NOSIGNAL), (ssize_t)len, "[send] send failed: %s",
                 strerror(errno));
}

/* Read one answer on a kept-alive connection: its status line and a Content-Length body. */
static int read_answer(int fd, double timeout_s)
{
    char buf[4096];
    size_t got = 0;
    const char *end;
    const char *cl;
    size_t need;
    int status = 0;

    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t n;

        buf[got] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end != NULL) {
            cl = strcasestr(buf, "\r\nContent-Length:");
            need = (size_t)(end + 4 - buf) + (cl == NULL ? 0 : strtoul(cl + 17, NULL, 10));
            if (got >= need)
                break;
        }
        cr_assert_gt(poll(&p, 1, (int)(timeout_s * 1000)), 0, "[answer-late] no answer within "
                     "%.0f s", timeout_s);
        n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        cr_assert_gt(n, 0, "[answer-closed] the server closed a connection whose request "
                     "arrived whole (after %zu bytes of answer)", got);
        got += (size_t)n;
    }
    sscanf(buf, "HTTP/1.1 %d", &status);
    return status;
}

Test(deadline, whole_requests_are_never_cut_and_the_deadline_restarts, .init = start)
{
    int fd = raw_connect(base);
    int paced;
    struct pollfd p;
    double sent_last;
    double closed_after;
    char byte;

    cr_assert_geq(fd, 0, "[connect] cannot connect to %s", base);
    /* A sleep longer than the deadline: the request arrived whole, so it is not cut. */
    send_text(fd, "GET /delay/3000 HTTP/1.1\r\nHost: t\r\n\r\n");
    cr_assert_eq(read_answer(fd, 30), 200, "[deadline-sleep] /delay/3000 did not answer 200");
    /* The connection is older than the deadline now: the next request is served all the
     * same, because its deadline starts at the previous answer. */
    sent_last = kit_wall();
    send_text(fd, "GET /delay/0 HTTP/1.1\r\nHost: t\r\n\r\n");
    cr_assert_eq(read_answer(fd, 30), 200, "[deadline-restart] a second request sent right "
                 "after the first answer, on a connection older than the deadline, was not "
                 "answered 200; the deadline must start again after each answer");
    /* A request in three pieces, well within the deadline, is answered. */
    paced = raw_connect(base);
    cr_assert_geq(paced, 0, "[connect] cannot connect to %s", base);
    send_text(paced, "GET /delay/0 HT");
    usleep(100000);
    send_text(paced, "TP/1.1\r\nHost:");
    usleep(100000);
    send_text(paced, " t\r\n\r\n");
    cr_assert_eq(read_answer(paced, 30), 200, "[deadline-paced] a request sent in 3 pieces over "
                 "0.2 s was not answered 200 (deadline %d ms)", DEADLINE_MS);
    close(paced);
    /* Silent after its answer: the idle connection goes once the deadline passes. */
    p = (struct pollfd){ .fd = fd, .events = POLLIN };
    cr_assert_gt(poll(&p, 1, (int)(CLOSE_LIMIT_S * 1000)), 0, "[deadline-idle] an idle kept-alive "
                 "connection was still open %.0f s after its last answer", CLOSE_LIMIT_S);
    closed_after = kit_wall() - sent_last;
    cr_expect_eq(recv(fd, &byte, 1, 0), 0, "[deadline-idle] the idle connection got data "
                 "instead of a close");
    cr_expect_geq(closed_after, DEADLINE_MS / 1000.0, "[deadline-early] the idle connection "
                  "was closed %.3f s after its last request was sent, before the %d ms deadline",
                  closed_after, DEADLINE_MS);
    close(fd);
    cr_expect_eq(wait_in_flight(base, 0, 10), 0, "[flight-zero] requests left in flight");
}
