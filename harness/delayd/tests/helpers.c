/* Helpers shared by delayd's tests (see helpers.h). */
#include "helpers.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define POLL_PAUSE_US 20000   /* between two /stats reads while waiting */

const char *server(const char *const *extra_args)
{
    return kit_server_start(extra_args);
}

long raise_fd_limit(void)
{
    struct rlimit lim;

    if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
        return -1;
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
        return -1;
    return (long)lim.rlim_cur;
}

/* The port of "http://127.0.0.1:PORT". */
static int base_port(const char *base)
{
    const char *colon = strrchr(base, ':');

    return colon == NULL ? -1 : atoi(colon + 1);
}

int raw_connect(const char *base)
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    addr.sin_port = htons((uint16_t)base_port(base));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Send all of data; 0, or -1 on a local error. */
static int send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        /* the server may answer 414 and close before reading a long request: that is fine */
        if (n < 0)
            return errno == EPIPE || errno == ECONNRESET ? 0 : -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* "HTTP/1.1 404 ..." -> 404; 0 if the text is not a status line. */
static int status_of(const char *head)
{
    int code = 0;

    if (sscanf(head, "HTTP/%*d.%*d %d", &code) != 1)
        return 0;
    return code;
}

int raw_exchange(const char *base, const char *request, size_t len, int timeout_ms)
{
    char head[256] = "";
    size_t got = 0;
    bool closed = false;
    int fd = raw_connect(base);

    if (fd < 0)
        return -1;
    if (send_all(fd, request, len) != 0) {
        close(fd);
        return -1;
    }
    while (!closed) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        char sink[4096];
        ssize_t n;

        if (poll(&p, 1, timeout_ms) <= 0)
            break;
        n = recv(fd, sink, sizeof sink, 0);
        closed = n <= 0;
        if (n > 0 && got < sizeof head - 1) {
            size_t take = (size_t)n < sizeof head - 1 - got ? (size_t)n : sizeof head - 1 - got;

            memcpy(head + got, sink, take);
            got += take;
            head[got] = '\0';
        }
    }
    close(fd);
    if (got == 0)
        return closed ? 0 : RAW_SILENT;
    return status_of(head);
}

int raw_response(const char *base, const char *request, size_t len, int timeout_ms, char **out,
                 size_t *out_len)
{
    size_t cap = 4096;
    size_t got = 0;
    char *buf = malloc(cap + 1);
    int closed = 0;
    int fd = raw_connect(base);

    *out = NULL;
    *out_len = 0;
    if (fd < 0 || buf == NULL || send_all(fd, request, len) != 0) {
        free(buf);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t n;

        if (poll(&p, 1, timeout_ms) <= 0)
            break;
        if (got == cap) {
            char *grown = realloc(buf, 2 * cap + 1);

            if (grown == NULL)
                break;
            buf = grown;
            cap *= 2;
        }
        n = recv(fd, buf + got, cap - got, 0);
        if (n <= 0) {
            closed = 1;
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *out = buf;
    *out_len = got;
    return closed;
}

long get(const char *base, const char *path, char **body)
{
    char url[URL_MAX];
    long status = 0;

    snprintf(url, sizeof url, "%s%s", base, path);
    if (kit_get(url, &status, body, NULL) != 0)
        return -1;
    return status;
}

/* libcurl write callback that drops the body: only statuses matter here. */
static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

/* Drain finished transfers, storing each status in the slot its CURLOPT_PRIVATE points to;
 * returns how many finished with a response. */
static int collect(CURLM *multi)
{
    CURLMsg *msg;
    int left;
    int answered = 0;

    while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
        long *slot;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&slot);
        if (msg->data.result == CURLE_OK) {
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, slot);
            answered++;
        }
    }
    return answered;
}

/* CURLOPT_PREREQFUNCTION: the connection is up and the request is about to be sent. */
static int note_send(void *clientp, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port)
{
    (void)conn_primary_ip;
    (void)conn_local_ip;
    (void)conn_primary_port;
    (void)conn_local_port;
    *(double *)clientp = kit_wall();
    return CURL_PREREQFUNC_OK;
}

/* The time between the first and the last request sent. */
static double send_spread(const double *sent, int n)
{
    double first = 0;
    double last = 0;

    for (int i = 0; i < n; i++) {
        if (sent[i] == 0)
            continue;
        if (first == 0 || sent[i] < first)
            first = sent[i];
        if (sent[i] > last)
            last = sent[i];
    }
    return last - first;
}

int get_many(const char *const *urls, int n, long *status, double *spread)
{
    CURLM *multi = curl_multi_init();
    CURL **easy = calloc((size_t)n, sizeof *easy);
    double *sent = calloc((size_t)n, sizeof *sent);
    int running = 1;
    int answered = 0;

    if (multi == NULL || easy == NULL || sent == NULL) {
        free(sent);
        free(easy);
        if (multi != NULL)
            curl_multi_cleanup(multi);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        status[i] = 0;
        easy[i] = curl_easy_init();
        curl_easy_setopt(easy[i], CURLOPT_URL, urls[i]);
        curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(easy[i], CURLOPT_PRIVATE, (char *)&status[i]);
        curl_easy_setopt(easy[i], CURLOPT_PREREQFUNCTION, note_send);
        curl_easy_setopt(easy[i], CURLOPT_PREREQDATA, &sent[i]);
        curl_easy_setopt(easy[i], CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(easy[i], CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(easy[i], CURLOPT_TIMEOUT_MS, 60000L);
        curl_easy_setopt(easy[i], CURLOPT_NOSIGNAL, 1L);
        curl_multi_add_handle(multi, easy[i]);
    }
    while (running > 0) {
        curl_multi_perform(multi, &running);
        answered += collect(multi);
        if (running > 0)
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    answered += collect(multi);
    for (int i = 0; i < n; i++) {
        curl_multi_remove_handle(multi, easy[i]);
        curl_easy_cleanup(easy[i]);
    }
    if (spread != NULL)
        *spread = send_spread(sent, n);
    free(sent);
    free(easy);
    curl_multi_cleanup(multi);
    return answered;
}

long wait_in_flight(const char *base, long want, double timeout_s)
{
    double until = kit_wall() + timeout_s;
    struct kit_stats st = { .in_flight = -1 };

    for (;;) {
        if (kit_stats_get(base, &st) != 0)
            return -1;
        if (st.in_flight == want || kit_wall() > until)
            return st.in_flight;
        usleep(POLL_PAUSE_US);
    }
}

/* The "Threads:" line of /proc/PID/status if PID is a delayd, else -1. */
static long delayd_threads(long pid)
{
    char path[64];
    char line[256];
    long threads = -1;
    bool is_delayd = false;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "Name:", 5) == 0)
            is_delayd = strstr(line, "delayd") != NULL;
        else if (strncmp(line, "Threads:", 8) == 0)
            threads = strtol(line + 8, NULL, 10);
    }
    fclose(f);
    return is_delayd ? threads : -1;
}

long server_threads(void)
{
    DIR *tasks = opendir("/proc/self/task");
    struct dirent *e;
    long found = -1;

    if (tasks == NULL)
        return -1;
    while (found < 0 && (e = readdir(tasks)) != NULL) {
        char path[300];
        long pid;
        FILE *f;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/children", e->d_name);
        f = fopen(path, "r");
        if (f == NULL)
            continue;
        while (found < 0 && fscanf(f, "%ld", &pid) == 1)
            found = delayd_threads(pid);
        fclose(f);
    }
    closedir(tasks);
    return found;
}
