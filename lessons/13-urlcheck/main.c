/* Lesson 13, given: the lesson program, two programs in one.
 *
 * urlcheck, the tool (any command line without --url, --urls or --mode):
 *   prog [-c C] [-t MS] [-w W] [-q] [FILE | -]
 * checks the URLs of FILE (or standard input), one a line, and writes one line a URL, in input
 * order: "LINE<tab>ok|BROKEN|cancelled<tab>what<tab>URL", then a summary on stderr. Exit
 * status 0 when every URL is fine, 1 when some are not, 2 on a usage error, 130 after Ctrl-C
 * (the checks in flight are cancelled and reported as such).
 *
 * The bench row (harness/README.md, "The program's row"): --url BASE --mode M --n N --delay D
 * checks N distinct URLs on the kit's delayd, BASE/delay/d_i?tag=i with d_i = D/5, 2D/5, ..., D
 * in turn (mean 3D/5), from memory, and prints one row:
 *   --mode seq    one check at a time (C = 1), a window of --window W (default 32)
 *   --mode c4, c16, c64   C checks in flight, the same window
 *   --mode slurp  C = 64 and a window as large as the input: every line read at once
 * --urls FILE instead of --url checks a list of your own. --timeout MS (default 10000).
 * The row has the server's peak in flight and requests (sent), the URLs fine and broken, and
 * held: the most lines read and not yet written at once (what the window holds). */
#include "kit.h"
#include "tool.h"
#include "urlcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the tool ------------------------------------------------------------------------------ */

static int sigpipe_fds[2] = { -1, -1 };

static void on_sigint(int sig)
{
    (void)sig;
    int saved = errno;
    if (write(sigpipe_fds[1], "!", 1) < 0) {
        /* full: one byte already says it */
    }
    errno = saved;
}

struct tool {
    struct window w;
    struct fd_reader fr;
    struct text_writer tw;
    struct check_opts o;
    int rc, interrupted;
    aio_task *checker;
};

static int tool_check(void *arg)
{
    struct tool *t = arg;
    struct reader in = { fd_reader_next, &t->fr };
    struct writer out = { text_writer_line, &t->tw };

    t->rc = check_all(&t->w, &in, &out, &t->o);
    return 0;
}

/* Ctrl-C arrives as a byte on the self-pipe: cancel the checker. */
static int tool_watch(void *arg)
{
    struct tool *t = arg;

    if (aio_wait_fd(sigpipe_fds[0], AIO_READ, AIO_NEVER) > 0) {
        t->interrupted = 1;
        aio_cancel(t->checker);
    }
    return 0;
}

static int tool_main(void *arg)
{
    struct tool *t = arg;

    t->o.http = aio_http_new();
    if (t->o.http == NULL) {
        t->rc = -ENOMEM;
        return 0;
    }
    t->checker = aio_spawn(tool_check, t);
    aio_task *watch = t->checker != NULL ? aio_spawn(tool_watch, t) : NULL;
    if (t->checker == NULL) {
        t->rc = -ENOMEM;
    } else {
        aio_join(t->checker, AIO_NEVER);
        if (watch != NULL) {
            aio_cancel(watch);
            aio_join(watch, AIO_NEVER);
        }
    }
    aio_http_free(t->o.http);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: urlcheck [-c C] [-t MS] [-w W] [-q] [FILE | -]\n"
            "Checks each URL of FILE (standard input when none or -), one a line; blank lines and\n"
            "lines starting with # are skipped. Writes one line a URL, in input order, as soon as\n"
            "it and every line before it are known: LINE, ok|BROKEN|cancelled, what, URL.\n"
            "  -c C    at most C checks in flight (1..%d, default 8)\n"
            "  -t MS   each check's timeout in milliseconds (0: none; default 10000)\n"
            "  -w W    lines read ahead at most (1..%d, default 256): reading waits beyond\n"
            "  -q      write only the lines that are not fine\n"
            "Exit status: 0 every URL fine (status 100..399), 1 some not, 2 usage or input\n"
            "error, 130 interrupted (Ctrl-C: the checks in flight are reported as cancelled).\n"
            "(The kit's bench row: --url BASE --mode seq|c4|c16|c64|slurp; see main.c.)\n",
            CHECK_C_MAX, WINDOW_MAX);
}

static long number(const char *s, long lo, long hi, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "urlcheck: %s: expected an integer %ld..%ld, got '%s'\n", what, lo, hi, s);
        usage(stderr);
        exit(2);
    }
    return v;
}

static int tool(int argc, char **argv)
{
    struct tool t = { .tw = { .f = stdout }, .o = { .concurrency = 8, .timeout_ms = 10000 } };
    long window = 256;
    int opt;

    while ((opt = getopt(argc, argv, "c:t:w:qh")) != -1) {
        switch (opt) {
        case 'c': t.o.concurrency = (size_t)number(optarg, 1, CHECK_C_MAX, "-c"); break;
        case 't': t.o.timeout_ms = number(optarg, 0, 3600000, "-t"); break;
        case 'w': window = number(optarg, 1, WINDOW_MAX, "-w"); break;
        case 'q': t.tw.quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "urlcheck: one FILE at most\n");
        usage(stderr);
        return 2;
    }
    int fd = 0;
    const char *name = "standard input";
    if (optind < argc && strcmp(argv[optind], "-") != 0) {
        name = argv[optind];
        fd = open(name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "urlcheck: %s: %s\n", name, strerror(errno));
            return 2;
        }
    }
    if (pipe2(sigpipe_fds, O_NONBLOCK | O_CLOEXEC) < 0 || window_init(&t.w, (size_t)window) < 0 ||
        fd_reader_open(&t.fr, fd) < 0) {
        fprintf(stderr, "urlcheck: out of resources\n");
        return 2;
    }
    struct sigaction sa = { .sa_handler = on_sigint };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    double t0 = kit_wall();
    int rc = aio_run(tool_main, &t);
    double wall = kit_wall() - t0;
    signal(SIGINT, SIG_DFL);
    fd_reader_close(&t.fr);
    window_free(&t.w);
    if (fd != 0)
        close(fd);
    close(sigpipe_fds[0]);
    close(sigpipe_fds[1]);
    fprintf(stderr, "urlcheck: %zu %s: %zu fine, %zu broken, %zu cancelled; %ld fetched, in %.2f s%s\n",
            t.tw.lines, t.tw.lines == 1 ? "URL" : "URLs", t.tw.fine, t.tw.broken, t.tw.cancelled,
            t.w.checks_made, wall, t.interrupted ? " (interrupted)" : "");
    if (t.interrupted)
        return 130;
    if (rc < 0 || (t.rc < 0 && t.rc != -ECANCELED)) {
        int e = rc < 0 ? -rc : -t.rc;
        fprintf(stderr, "urlcheck: %s: %s (line %zu)\n", name, strerror(e), t.fr.lineno + 1);
        return 2;
    }
    return t.tw.broken > 0 || t.tw.cancelled > 0 ? 1 : 0;
}

/* ---- the bench row -------------------------------------------------------------------------- */

struct mem_reader {
    char **urls;
    size_t n, next;
    size_t read, written, held, held_peak;
};

static int mem_next(void *ctx, const char **url, size_t *lineno)
{
    struct mem_reader *m = ctx;
    if (m->next == m->n)
        return 0;
    *url = m->urls[m->next];
    *lineno = ++m->next;
    if (++m->read - m->written > m->held_peak)
        m->held_peak = m->read - m->written;
    return 1;
}

struct row_writer {
    struct mem_reader *m;
    long fine, broken;
};

static void row_line(void *ctx, size_t lineno, const char *url, const struct check_result *r)
{
    struct row_writer *rw = ctx;
    (void)lineno;
    (void)url;
    rw->m->written++;
    if (check_fine(r))
        rw->fine++;
    else
        rw->broken++;
}

struct row {
    struct window w;
    struct mem_reader m;
    struct row_writer rw;
    struct check_opts o;
    int rc;
    double wall, cpu;
};

static int row_main(void *arg)
{
    struct row *x = arg;
    struct reader in = { mem_next, &x->m };
    struct writer out = { row_line, &x->rw };

    x->o.http = aio_http_new();
    if (x->o.http == NULL) {
        x->rc = -ENOMEM;
        return 0;
    }
    x->wall = kit_wall();
    x->cpu = kit_cpu();
    x->rc = check_all(&x->w, &in, &out, &x->o);
    x->wall = kit_wall() - x->wall;
    x->cpu = kit_cpu() - x->cpu;
    aio_http_free(x->o.http);
    return 0;
}

static int bench_row(int argc, char **argv)
{
    static const char *const modes[] = { "c16", "seq", "c4", "c64", "slurp", NULL };
    struct kit_options o = { .mode = "c16", .n = 64, .delay_ms = 50 };

    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0)
            printf("lesson 13: also --window W (lines read ahead, default 32), --timeout MS (each "
                   "check's, default 10000); --urls FILE checks your list. Without --url, --urls "
                   "or --mode this program is urlcheck: run it with -h.\n");
    long window = kit_take_long(&argc, argv, "window", 1, WINDOW_MAX, 32);
    long timeout = kit_take_long(&argc, argv, "timeout", 0, 3600000, 10000);
    kit_parse_options_urls(argc, argv, modes, 1, 100000, &o);

    long c = strcmp(o.mode, "seq") == 0 ? 1 : strcmp(o.mode, "c4") == 0 ? 4
             : strcmp(o.mode, "c16") == 0 ? 16 : 64;
    if (strcmp(o.mode, "slurp") == 0)
        window = o.n < WINDOW_MAX ? o.n : WINDOW_MAX;
    struct row x = { .o = { .concurrency = (size_t)c, .timeout_ms = timeout } };
    struct kit_stats stats = { 0 };
    char peak[32] = "unknown", sent[32] = "unknown";
    long sum_ms = 0, max_ms = 0;
    int status = 1, kind = KIT_SERVER_OTHER;

    x.m.n = (size_t)o.n;
    x.m.urls = o.urls != NULL ? o.urls : calloc((size_t)o.n, sizeof *x.m.urls);
    x.rw.m = &x.m;
    if (x.m.urls == NULL || window_init(&x.w, (size_t)window) < 0)
        goto out;
    for (long i = 0; o.urls == NULL && i < o.n; i++) {
        long d = o.delay_ms * (i % 5 + 1) / 5;
        sum_ms += d;
        max_ms = d > max_ms ? d : max_ms;
        if (asprintf(&x.m.urls[i], "%s/delay/%ld?tag=%ld", o.url, d, i) < 0) {
            x.m.urls[i] = NULL;
            goto out;
        }
    }
    if (o.urls == NULL && (kind = kit_server_kind(o.url)) < 0)
        goto out;
    int rc = aio_run(row_main, &x);
    if (rc < 0 || x.rc < 0) {
        fprintf(stderr, "mode %s failed: %s\n", o.mode, strerror(rc < 0 ? -rc : -x.rc));
        goto out;
    }
    if (kind == KIT_SERVER_DELAYD && kit_stats_get(o.url, &stats) == 0) {
        snprintf(peak, sizeof peak, "%ld", stats.peak);
        snprintf(sent, sizeof sent, "%ld", stats.requests);
    }
    /* Rounds of C checks of the mean delay, and never less than the longest one. */
    long theory = (sum_ms + c - 1) / c > max_ms ? (sum_ms + c - 1) / c : max_ms;
    printf("mode=%s n=%ld delay_ms=%ld c=%ld window=%ld wall_s=%.4f cpu_s=%.4f peak=%s sent=%s "
           "fine=%ld broken=%ld held=%zu theory_s=%.4f\n",
           o.mode, o.n, o.delay_ms, c, window, x.wall, x.cpu, peak, sent, x.rw.fine,
           x.rw.broken, x.m.held_peak, theory / 1000.0);
    if (x.m.written != x.m.n || x.w.checks_alive != 0)
        fprintf(stderr, "%zu of %zu lines written, %ld checks never freed\n", x.m.written,
                x.m.n, x.w.checks_alive);
    status = 0;
out:
    window_free(&x.w);
    if (o.urls == NULL) {
        for (long i = 0; x.m.urls != NULL && i < o.n; i++)
            free(x.m.urls[i]);
        free(x.m.urls);
    }
    kit_options_free(&o);
    return status;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "--url", 5) == 0 || strncmp(argv[i], "--mode", 6) == 0)
            return bench_row(argc, argv);
    return tool(argc, argv);
}
