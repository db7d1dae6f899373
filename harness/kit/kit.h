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
    const char *url;  /* --url BASE: the server's base URL without a trailing '/', or NULL */
    const char *mode; /* --mode: one of the program's modes */
    long n;           /* --n: how many requests, timers or tasks */
    long delay_ms;    /* --delay: how long each one waits, in milliseconds */
    /* Filled by kit_parse_options when the program accepts --urls FILE (one URL a line, blank
     * lines and lines starting with '#' skipped): urls[0..n-1], the file's URLs repeated in
     * order when --n asks for more of them than it holds; n is the file's count when --n is
     * not given. Free with kit_options_free(). */
    const char *urls_file;
    char **urls;
};

/* Parse argv into *o, whose fields hold the defaults on entry. modes is the NULL-terminated
 * list of accepted --mode values; with need_url, --url (or --urls, when accepted) must be
 * given; --n must lie in 1..max_n and --delay in 0..600000. `--help` prints the usage and
 * exits 0; a bad or missing option prints it and exits with status 2. */
void kit_parse_options(int argc, char **argv, const char *const *modes, int need_url,
                       long max_n, struct kit_options *o);
/* The same, and --urls FILE is accepted as well. */
void kit_parse_options_urls(int argc, char **argv, const char *const *modes, int need_url,
                            long max_n, struct kit_options *o);
void kit_options_free(struct kit_options *o);

/* A lesson's own whole-number option, taken out of argv before kit_parse_options sees it:
 * "--NAME V" or "--NAME=V" (every occurrence; the last one wins), V in lo..hi; def when absent.
 * *argc shrinks by what was taken. A bad value prints "--NAME: expected an integer lo..hi, got
 * 'V'" and exits with status 2. "--slow" does not take "--slow-ms". */
long kit_take_long(int *argc, char **argv, const char *name, long lo, long hi, long def);

/* What the server at base can tell the program: KIT_SERVER_DELAYD when its /stats is
 * delayd's (the bundled server: its counts are then reset with /reset, and its peak in flight
 * can be read after the run), KIT_SERVER_OTHER when it answers HTTP but is some other server
 * (it is sent nothing but GET /stats), -1 when it cannot be reached (a message says why). */
enum { KIT_SERVER_OTHER = 0, KIT_SERVER_DELAYD = 1 };
int kit_server_kind(const char *base);

/* Clocks, in seconds: monotonic wall time, and CPU time (user + system) of this process. */
double kit_wall(void);
double kit_cpu(void);

/* How long, in seconds, the calling thread and the test server's threads (kit_server_start)
 * have waited for a CPU while ready to run, from the kernel's scheduler statistics (Linux; 0
 * elsewhere). Read it before and after a timed stretch, on the thread that runs the code under
 * test: the difference is time the clock counted that no code could use, because the machine
 * was busy. A test subtracts it from a wall time before comparing with an upper bound, so a
 * loaded machine never fails a student. Only while a thread is ready does it count: a sleep
 * never does, and other threads of this process (a spinning one would wait all the time) are
 * left out, so it cannot hide a slow answer. */
double kit_starved_s(void);

/* Open file descriptors of this process, counted in /proc/self/fd. */
int kit_open_fds(void);

/* Ask LeakSanitizer, now, whether memory has leaked (it prints its report to stderr).
 * Returns 1 if it found leaks, 0 if not or when the program is built without it. Call it at
 * the end of a test, after freeing what the test itself allocated. */
int kit_leaked(void);
/* How many times this process has asked kit_leaked() (make check's guard that every lesson
 * test asks it: KIT_REQUIRE_LEAK_CHECK in harness/kit/proof.c). */
int kit_leak_checks(void);

/* A test suite's .fini for tests that do not ask kit_leaked() themselves (the runtime's own
 * tests): when LeakSanitizer finds memory lost, it stops the test process (abort). Criterion
 * 2.4 then only warns that the test "crashed during its setup or teardown" and still counts
 * it as passed; make check counts that warning as a failure. */
void kit_fini_leaks(void);

/* fn runs when AddressSanitizer stops the process with a report (nothing without ASan). Use
 * this, not __sanitizer_set_death_callback(): with gcc the UBSan runtime is linked into the
 * program with its own copy of that function, which a direct call would reach instead. */
void kit_on_asan_death(void (*fn)(void));

#endif
