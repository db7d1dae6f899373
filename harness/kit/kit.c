/* kit: helpers shared by the lessons' tests and programs (see kit.h for each contract). */
#include "kit.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KIT_URL_MAX 256   /* "http://127.0.0.1:65535" and a path fit with room to spare */
#define KIT_ARGS_MAX 32   /* delayd's flags plus the caller's extra ones */

static pid_t server_pid = -1;
static char server_url[KIT_URL_MAX];

/* ---- the private server ------------------------------------------------------------- */

/* Child side of kit_server_start(): die with the parent, send stdout into the pipe, exec. */
static void exec_server(int out_fd, const char *const *extra_args)
{
    const char *bin = getenv("KIT_DELAYD");
    const char *argv[KIT_ARGS_MAX];
    int n = 0;

    if (bin == NULL || bin[0] == '\0')
        bin = "build/bin/delayd";
    /* If the test process crashes, nobody calls kit_server_stop(): the kernel kills us instead. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    dup2(out_fd, STDOUT_FILENO);
    close(out_fd);
    argv[n++] = bin;
    argv[n++] = "--host";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--port";
    argv[n++] = "0";
    for (; extra_args != NULL && *extra_args != NULL && n < KIT_ARGS_MAX - 1; extra_args++)
        argv[n++] = *extra_args;
    argv[n] = NULL;
    execv(bin, (char *const *)argv);
    fprintf(stderr, "kit: cannot run the test server %s: %s (build it with `make %s`)\n",
            bin, strerror(errno), "build/bin/delayd");
    _exit(127);
}

/* Read delayd's first line, "delayd listening on http://127.0.0.1:PORT", into server_url. */
static int read_banner(int fd)
{
    char line[KIT_URL_MAX];
    size_t len = 0;
    const char *p;

    while (len < sizeof line - 1) {
        ssize_t got = read(fd, line + len, 1);
        if (got <= 0)
            return -1;
        if (line[len] == '\n')
            break;
        len++;
    }
    line[len] = '\0';
    p = strstr(line, "http://");
    if (p == NULL)
        return -1;
    snprintf(server_url, sizeof server_url, "%s", p);
    return 0;
}

static void stop_at_exit(void)
{
    kit_server_stop();
}

const char *kit_server_start(const char *const *extra_args)
{
    int fds[2];
    pid_t pid;

    if (server_pid > 0)
        return server_url;
    if (pipe(fds) != 0) {
        perror("kit: pipe");
        exit(2);
    }
    pid = fork();
    if (pid < 0) {
        perror("kit: fork");
        exit(2);
    }
    if (pid == 0) {
        close(fds[0]);
        exec_server(fds[1], extra_args);
    }
    close(fds[1]);
    server_pid = pid;
    atexit(stop_at_exit);
    if (read_banner(fds[0]) != 0) {
        close(fds[0]);
        kit_server_stop();
        fprintf(stderr, "kit: the test server did not start (no banner on its stdout); "
                        "try `make build/bin/delayd` and run it by hand\n");
        exit(2);
    }
    close(fds[0]);
    return server_url;
}

void kit_server_stop(void)
{
    if (server_pid <= 0)
        return;
    kill(server_pid, SIGTERM);
    waitpid(server_pid, NULL, 0);
    server_pid = -1;
}

/* ---- a plain GET -------------------------------------------------------------------- */

struct buffer {
    char *data;
    size_t len;
};

/* libcurl write callback: append to a growing, NUL-terminated buffer. */
static size_t append(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct buffer *b = userdata;
    size_t n = size * nmemb;
    char *grown = realloc(b->data, b->len + n + 1);

    if (grown == NULL)
        return 0; /* tells libcurl to stop with CURLE_WRITE_ERROR */
    memcpy(grown + b->len, ptr, n);
    b->data = grown;
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

int kit_get(const char *url, long *status, char **body, size_t *len)
{
    struct buffer b = { NULL, 0 };
    CURL *h = curl_easy_init();
    CURLcode rc;

    if (h == NULL)
        return -1;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    rc = curl_easy_perform(h);
    if (rc == CURLE_OK && status != NULL)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK) {
        free(b.data);
        return -1;
    }
    if (b.data == NULL)
        b.data = calloc(1, 1);
    if (len != NULL)
        *len = b.len;
    if (body != NULL)
        *body = b.data;
    else
        free(b.data);
    return 0;
}

/* ---- the server's counts ------------------------------------------------------------ */

/* GET BASE/stats and parse it; the caller owns the returned object (json_decref). */
static json_t *fetch_stats(const char *base)
{
    char url[KIT_URL_MAX];
    char *body = NULL;
    long status = 0;
    json_t *root;
    json_error_t err;

    snprintf(url, sizeof url, "%s/stats", base);
    if (kit_get(url, &status, &body, NULL) != 0 || status != 200) {
        fprintf(stderr, "kit: GET %s failed (status %ld)\n", url, status);
        free(body);
        return NULL;
    }
    root = json_loads(body, 0, &err);
    if (root == NULL)
        fprintf(stderr, "kit: %s is not JSON: %s\n", url, err.text);
    free(body);
    return root;
}

static long number(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (long)json_integer_value(v) : 0;
}

int kit_stats_get(const char *base, struct kit_stats *out)
{
    json_t *root = fetch_stats(base);

    if (root == NULL)
        return -1;
    out->in_flight = number(root, "in_flight");
    out->peak = number(root, "peak");
    out->requests = number(root, "requests");
    out->connections = number(root, "connections");
    json_decref(root);
    return 0;
}

/* One count from a nested object of /stats, or -1 when the server cannot be read. */
static long nested_count(const char *base, const char *group, const char *key)
{
    json_t *root = fetch_stats(base);
    long n;

    if (root == NULL)
        return -1;
    n = number(json_object_get(root, group), key);
    json_decref(root);
    return n;
}

long kit_stats_endpoint(const char *base, const char *endpoint)
{
    return nested_count(base, "by_endpoint", endpoint);
}

long kit_stats_status(const char *base, int status)
{
    char key[16];

    snprintf(key, sizeof key, "%d", status);
    return nested_count(base, "by_status", key);
}

int kit_stats_reset(const char *base)
{
    char url[KIT_URL_MAX];
    long status = 0;

    snprintf(url, sizeof url, "%s/reset", base);
    return kit_get(url, &status, NULL, NULL) == 0 && status == 200 ? 0 : -1;
}

/* ---- the lesson programs' options ---------------------------------------------------- */

#define KIT_DELAY_MAX 600000 /* ten minutes: delayd's own limit for /delay */

static void usage(const char *prog, const char *const *modes, int need_url)
{
    fprintf(stderr, "usage: %s %s--mode ", prog, need_url ? "--url BASE " : "");
    for (const char *const *m = modes; *m != NULL; m++)
        fprintf(stderr, "%s%s", *m, m[1] != NULL ? "|" : "");
    fprintf(stderr, " [--n N] [--delay MS]%s\n", need_url ? "" : " [--url BASE]");
    exit(2);
}

/* A whole decimal number in [lo, hi] from text, or exit through usage(). */
static long whole(const char *text, long lo, long hi, const char *what)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "%s must be a whole number from %ld to %ld, not '%s'\n", what, lo, hi,
                text);
        return -1;
    }
    return v;
}

static int known(const char *mode, const char *const *modes)
{
    for (; *modes != NULL; modes++) {
        if (strcmp(mode, *modes) == 0)
            return 1;
    }
    return 0;
}

void kit_parse_options(int argc, char **argv, const char *const *modes, int need_url,
                       long max_n, struct kit_options *o)
{
    static const struct option longopts[] = {
        { "url", required_argument, NULL, 'u' }, { "mode", required_argument, NULL, 'm' },
        { "n", required_argument, NULL, 'n' },   { "delay", required_argument, NULL, 'd' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'u')
            o->url = optarg;
        else if (c == 'm')
            o->mode = optarg;
        else if (c == 'n')
            o->n = whole(optarg, 1, max_n, "--n");
        else if (c == 'd')
            o->delay_ms = whole(optarg, 0, KIT_DELAY_MAX, "--delay");
        else
            usage(argv[0], modes, need_url);
        if (o->n < 0 || o->delay_ms < 0)
            usage(argv[0], modes, need_url);
    }
    if (optind < argc || (need_url && o->url == NULL) || !known(o->mode, modes))
        usage(argv[0], modes, need_url);
}

/* ---- clocks and descriptors --------------------------------------------------------- */

double kit_wall(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double kit_cpu(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Present when the program is linked with ASan or LSan; weak, so other builds link too. */
int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

int kit_leaked(void)
{
    return __lsan_do_recoverable_leak_check != NULL && __lsan_do_recoverable_leak_check() != 0;
}

int kit_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.')
            n++;
    }
    closedir(d);
    return n - 1; /* the directory stream's own descriptor */
}
