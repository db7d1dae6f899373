/* delayd's command line: every flag takes a value, checked strictly; one line per mistake. */
#include "flags.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS_MAX 64
#define PAGES_MAX 1000000L
#define LIMIT_MAX 1000000L
#define REQUEST_TIMEOUT_MAX_MS 3600000L   /* an hour, MHD's idle timeout here */

static const char usage[] =
    "usage: delayd [--host 127.0.0.1] [--port 0] [--limit K] [--flaky-rate R] [--seed S]\n"
    "              [--pages N] [--threads T] [--request-timeout-ms MS] [--trace N]\n"
    "              [--parent PID]\n"
    "\n"
    "The kit's local HTTP test server. Prints \"delayd listening on http://HOST:PORT\" first,\n"
    "then serves until SIGINT or SIGTERM.\n"
    "\n"
    "  --host ADDR        numeric IPv4/IPv6 address to bind, or localhost (default 127.0.0.1)\n"
    "  --port P           0..65535, 0 picks a free port (default 0)\n"
    "  --limit K          /limited answers 429 above K requests in flight (default 5)\n"
    "  --flaky-rate R     fraction 0..1 of /flaky requests that fail with 503 (default 0.3)\n"
    "  --seed S           seed of the /flaky sequence (default 1)\n"
    "  --pages N          /page/0 .. /page/N-1 exist, 1..1000000 (default 100)\n"
    "  --threads T        worker threads, 1..64 (default 1)\n"
    "  --request-timeout-ms MS\n"
    "                     each request (head and body) must arrive whole within MS of the\n"
    "                     accept or of the previous answer, else the connection is closed;\n"
    "                     1..3600000 (default 10000)\n"
    "  --trace N          keep when each of the first N requests (since start or /reset)\n"
    "                     arrived and was answered, for GET /trace; 0..1000000 (default 0: off)\n"
    "  --parent PID       stop when process PID, the one that started delayd, ends (Linux;\n"
    "                     accepted and ignored elsewhere); 1..2147483647 (default: none)\n"
    "  --help             this text\n"
    "\n"
    "Endpoints and the /stats schema: harness/delayd/README.md\n";

static const struct option long_options[] = {
    { "host", required_argument, NULL, 'H' },
    { "port", required_argument, NULL, 'p' },
    { "limit", required_argument, NULL, 'l' },
    { "flaky-rate", required_argument, NULL, 'r' },
    { "seed", required_argument, NULL, 's' },
    { "pages", required_argument, NULL, 'n' },
    { "threads", required_argument, NULL, 't' },
    { "request-timeout-ms", required_argument, NULL, 'T' },
    { "trace", required_argument, NULL, 'x' },
    { "parent", required_argument, NULL, 'P' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

/* A whole decimal integer in lo..hi, or -EINVAL. */
static int whole_number(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    long long v;

    if (s[0] == '\0' || s[0] == ' ' || s[0] == '+')
        return -EINVAL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Whether s is a numeric IPv4 or IPv6 address (names are never resolved). */
static bool is_numeric_address(const char *s)
{
    struct in6_addr addr;   /* large enough for either family */

    return inet_pton(AF_INET, s, &addr) == 1 || inet_pton(AF_INET6, s, &addr) == 1;
}

/* Print the one-line error for a bad flag value; returns -EINVAL. */
static int bad_value(const char *flag, const char *value, const char *expected)
{
    fprintf(stderr, "delayd: %s: expected %s, got '%s' (try --help)\n", flag, expected, value);
    return -EINVAL;
}

/* Apply one parsed option to cfg. Returns 0 or -EINVAL (after the one-line message). */
static int apply(int opt, const char *arg, struct delayd_config *cfg)
{
    long long v;
    char *end;

    switch (opt) {
    case 'H':
        /* Only numeric addresses: delayd never resolves names, except this common one. */
        if (strcmp(arg, "localhost") == 0)
            arg = "127.0.0.1";
        if (!is_numeric_address(arg))
            return bad_value("--host", arg, "a numeric IPv4 or IPv6 address");
        cfg->host = arg;
        return 0;
    case 'p':
        if (whole_number(arg, 0, 65535, &v) != 0)
            return bad_value("--port", arg, "a port 0..65535");
        cfg->port = (unsigned)v;
        return 0;
    case 'l':
        if (whole_number(arg, 0, LIMIT_MAX, &v) != 0)
            return bad_value("--limit", arg, "an integer 0..1000000");
        cfg->limit = (long)v;
        return 0;
    case 'r':
        errno = 0;
        cfg->flaky_rate = strtod(arg, &end);
        if (arg[0] == '\0' || *end != '\0' || errno != 0 || !(cfg->flaky_rate >= 0.0) ||
            cfg->flaky_rate > 1.0)
            return bad_value("--flaky-rate", arg, "a fraction 0..1");
        return 0;
    case 's':
        /* strtoull would take "-1" as a huge number; insist on digits */
        errno = 0;
        cfg->seed = strtoull(arg, &end, 10);
        if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno != 0)
            return bad_value("--seed", arg, "an unsigned 64-bit integer");
        return 0;
    case 'n':
        if (whole_number(arg, 1, PAGES_MAX, &v) != 0)
            return bad_value("--pages", arg, "an integer 1..1000000");
        cfg->pages = (long)v;
        return 0;
    case 't':
        if (whole_number(arg, 1, THREADS_MAX, &v) != 0)
            return bad_value("--threads", arg, "an integer 1..64");
        cfg->threads = (unsigned)v;
        return 0;
    case 'T':
        if (whole_number(arg, 1, REQUEST_TIMEOUT_MAX_MS, &v) != 0)
            return bad_value("--request-timeout-ms", arg, "milliseconds 1..3600000");
        cfg->request_timeout_ms = (long)v;
        return 0;
    case 'x':
        if (whole_number(arg, 0, 1000000, &v) != 0)
            return bad_value("--trace", arg, "an integer 0..1000000");
        cfg->trace = (long)v;
        return 0;
    case 'P':
        if (whole_number(arg, 1, 2147483647, &v) != 0)
            return bad_value("--parent", arg, "a process id 1..2147483647");
        cfg->parent = (long)v;
        return 0;
    }
    return -EINVAL;
}

int flags_parse(int argc, char **argv, struct delayd_config *cfg)
{
    int opt;

    opterr = 0;   /* we print our own one-line errors */
    /* The leading ':' makes a missing value come back as ':' rather than '?'. */
    while ((opt = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        if (opt == 'h') {
            fputs(usage, stdout);
            return 1;
        }
        if (opt == ':') {
            fprintf(stderr, "delayd: %s needs a value (try --help)\n", argv[optind - 1]);
            return -EINVAL;
        }
        if (opt == '?') {
            fprintf(stderr, "delayd: unknown option '%s' (try --help)\n", argv[optind - 1]);
            return -EINVAL;
        }
        if (apply(opt, optarg, cfg) != 0)
            return -EINVAL;
    }
    if (optind < argc) {
        fprintf(stderr, "delayd: unexpected argument '%s' (try --help)\n", argv[optind]);
        return -EINVAL;
    }
    return 0;
}
