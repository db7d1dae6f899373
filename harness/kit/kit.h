/* kit: helpers shared by the lessons' tests and programs: a private delayd per test, the
 * server's /stats, a plain blocking GET, and clocks. */
#ifndef KIT_H
#define KIT_H

#include <stddef.h>

/* Start a private delayd on a free port of 127.0.0.1 with extra arguments (a NULL-terminated
 * list, or NULL). The binary is $KIT_DELAYD, or build/bin/delayd. Returns the base URL,
 * "http://127.0.0.1:PORT", valid until kit_server_stop(). On failure it prints why and exits
 * the process with status 2 (a test's .init cannot go on without its server). The server is
 * stopped at exit too. */
const char *kit_server_start(const char *const *extra_args);
void kit_server_stop(void);

/* The server's own counts, from GET BASE/stats. */
struct kit_stats {
    long in_flight;   /* requests being served now */
    long peak;        /* most requests in flight at once since start or /reset */
    long requests;    /* requests served since start or /reset (not counting /stats, /reset) */
    long connections; /* TCP connections accepted since start or /reset */
};
int kit_stats_get(const char *base, struct kit_stats *out);   /* 0, or -1 with a message */
int kit_stats_reset(const char *base);                        /* 0, or -1 */
/* How many requests to one endpoint ("delay", "limited", ...) or with one status since reset. */
long kit_stats_endpoint(const char *base, const char *endpoint);
long kit_stats_status(const char *base, int status);

/* A plain blocking GET with libcurl's easy interface, for tests and drivers. Returns 0 and
 * fills status and a malloc'd NUL-terminated body (free it), or -1. body may be NULL. */
int kit_get(const char *url, long *status, char **body, size_t *len);

/* The options every lesson program takes (harness/README.md, "The program's row"). */
struct kit_options {
    const char *url;  /* --url BASE: the server's base URL, NULL when not given */
    const char *mode; /* --mode: one of the program's modes */
    long n;           /* --n: how many requests, timers or tasks */
    long delay_ms;    /* --delay: how long each one waits, in milliseconds */
};

/* Parse argv into *o, whose fields hold the defaults on entry. modes is the NULL-terminated
 * list of accepted --mode values; with need_url, --url must be given; --n must lie in
 * 1..max_n and --delay in 0..600000. On a bad or missing option it prints a usage line that
 * names the modes, and exits with status 2. */
void kit_parse_options(int argc, char **argv, const char *const *modes, int need_url,
                       long max_n, struct kit_options *o);

/* Clocks, in seconds: monotonic wall time, and CPU time (user + system) of this process. */
double kit_wall(void);
double kit_cpu(void);

/* Open file descriptors of this process, counted in /proc/self/fd. */
int kit_open_fds(void);

/* Ask LeakSanitizer, now, whether memory has leaked (it prints its report to stderr).
 * Returns 1 if it found leaks, 0 if not or when the program is built without it. Call it at
 * the end of a test, after freeing what the test itself allocated. */
int kit_leaked(void);

#endif
