/* kit: helpers shared by the lessons' tests and programs (see kit.h for each contract). */
#include "kit.h"
#define KIT_TEST_NO_CRITERION /* the functions only: kit.c is linked into programs too */
#include "kit_test.h"

#include <curl/curl.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KIT_URL_MAX 256   /* "http://127.0.0.1:65535" and a path fit with room to spare */
#define KIT_ARGS_MAX 32   /* delayd's flags plus the caller's extra ones */

extern char **environ;

static pid_t server_pid = -1;
static char server_url[KIT_URL_MAX];

/* ---- the private server ------------------------------------------------------------- */

/* Start delayd with its stdout on out_fd and the read end close_fd closed; returns its PID.
 * posix_spawn, not fork: a fork copies the sanitized test process's page tables, and every
 * test starts a server, while posix_spawn borrows the parent's memory until the exec (lesson
 * 03's 20 tests: 6% less user CPU, 1,100 fewer page faults). The child cannot run code of
 * ours between the two, so delayd itself asks to die with us (--parent), which also closes
 * the gap where a test process that died before the child's request left it running: if the
 * test process crashes, nobody calls kit_server_stop() and the kernel stops the server
 * instead (Linux; elsewhere a test that crashes leaves its server running). */
static pid_t spawn_server(int out_fd, int close_fd, const char *const *extra_args)
{
    const char *bin = getenv("KIT_DELAYD");
    const char *argv[KIT_ARGS_MAX];
    char parent[32];
    posix_spawn_file_actions_t actions;
    pid_t pid;
    int n = 0;
    int rc;

    if (bin == NULL || bin[0] == '\0')
        bin = "build/bin/delayd";
    snprintf(parent, sizeof parent, "%ld", (long)getpid());
    argv[n++] = bin;
    argv[n++] = "--host";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--parent";
    argv[n++] = parent;
    for (; extra_args != NULL && *extra_args != NULL && n < KIT_ARGS_MAX - 1; extra_args++)
        argv[n++] = *extra_args;
    argv[n] = NULL;
    rc = posix_spawn_file_actions_init(&actions);
    if (rc == 0)
        rc = posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
    if (rc == 0)
        rc = posix_spawn_file_actions_addclose(&actions, out_fd);
    if (rc == 0)
        rc = posix_spawn_file_actions_addclose(&actions, close_fd);
    if (rc == 0)
        rc = posix_spawn(&pid, bin, &actions, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        fprintf(stderr, "kit: cannot run the test server %s: %s (build it with `make %s`)\n",
                bin, strerror(rc), "build/bin/delayd");
        exit(2);
    }
    return pid;
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
    pid = spawn_server(fds[1], fds[0], extra_args);
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

/* Seconds the threads of process pid (the test server) spent ready to run but waiting for a
 * CPU, summed over /proc/PID/task/TID/schedstat (its second field, in ns); 0 where there is none. */
static double starved_of(pid_t pid)
{
    char path[64];
    double sum = 0;
    DIR *d;
    struct dirent *e;

    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    if ((d = opendir(path)) == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char file[64 + sizeof e->d_name + 16];
        unsigned long long run, wait;
        FILE *f;

        if (e->d_name[0] == '.')
            continue;
        snprintf(file, sizeof file, "%s/%s/schedstat", path, e->d_name);
        if ((f = fopen(file, "r")) == NULL)
            continue;
        if (fscanf(f, "%llu %llu", &run, &wait) == 2)
            sum += (double)wait / 1e9;
        fclose(f);
    }
    closedir(d);
    return sum;
}

/* The calling thread's alone (/proc/thread-self/schedstat): a thread of the code under test
 * that spins is ready all the time and would count its own waits, enough to hide a slow answer. */
static double starved_here(void)
{
    unsigned long long run, wait;
    FILE *f = fopen("/proc/thread-self/schedstat", "r");
    double s = 0;

    if (f == NULL)
        return 0;
    if (fscanf(f, "%llu %llu", &run, &wait) == 2)
        s = (double)wait / 1e9;
    fclose(f);
    return s;
}

double kit_starved_s(void)
{
    return starved_here() + (server_pid > 0 ? starved_of(server_pid) : 0);
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

/* GET BASE/stats and parse it; the caller owns the returned object (json_decref). quiet
 * leaves out the messages (a server that is not delayd has no /stats, and that is no error);
 * *reached, when given, says whether the server answered HTTP at all. */
static json_t *get_stats(const char *base, int quiet, int *reached)
{
    char url[KIT_URL_MAX];
    char *body = NULL;
    long status = 0;
    json_t *root;
    json_error_t err;
    int answered;

    snprintf(url, sizeof url, "%s/stats", base);
    answered = kit_get(url, &status, &body, NULL) == 0;
    if (reached != NULL)
        *reached = answered;
    if (!answered || status != 200) {
        if (!quiet)
            fprintf(stderr, "kit: GET %s failed (status %ld)\n", url, status);
        free(body);
        return NULL;
    }
    root = json_loads(body, 0, &err);
    if (root == NULL && !quiet)
        fprintf(stderr, "kit: %s is not JSON: %s\n", url, err.text);
    free(body);
    return root;
}

static json_t *fetch_stats(const char *base)
{
    return get_stats(base, 0, NULL);
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

static void usage(FILE *to, const char *prog, const char *const *modes, int need_url,
                  int with_urls, long max_n)
{
    fprintf(to, "usage: %s %s--mode ", prog, need_url ? "--url BASE " : "");
    for (const char *const *m = modes; *m != NULL; m++)
        fprintf(to, "%s%s", *m, m[1] != NULL ? "|" : "");
    fprintf(to, " [--n N] [--delay MS]%s%s [--help]\n", need_url ? "" : " [--url BASE]",
            with_urls ? " [--urls FILE]" : "");
    fprintf(to, "  --url BASE    the server, e.g. http://127.0.0.1:8080 (the kit's delayd, or any)\n");
    if (with_urls)
        fprintf(to, "  --urls FILE   fetch these URLs instead (one a line; # starts a comment)\n");
    fprintf(to, "  --mode M      which version to run\n");
    fprintf(to, "  --n N         how many (1 to %ld)\n", max_n);
    fprintf(to, "  --delay MS    how long each one waits on the server (0 to %d ms)\n",
            KIT_DELAY_MAX);
    fprintf(to, "It prints one row of key=value pairs: wall_s, cpu_s, theory_s and the rest.\n");
}

/* A whole decimal number in [lo, hi] from text, or -1 with a message. */
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

/* Read FILE's URLs into o->urls, n of them (the file's count when n is 0). -1 with a message. */
static int read_urls(struct kit_options *o, long n, long max_n)
{
    FILE *f = fopen(o->urls_file, "r");
    char *line = NULL, **list = NULL;
    size_t cap = 0, count = 0, room = 0;
    ssize_t len;

    if (f == NULL) {
        fprintf(stderr, "--urls %s: %s\n", o->urls_file, strerror(errno));
        return -1;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        char *s = line, *e = line + len;

        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (s == e || *s == '#')
            continue;
        if (count == room) {
            size_t more = room ? room * 2 : 16;
            char **grown = realloc(list, more * sizeof *grown);
            if (grown == NULL)
                break;
            list = grown;
            room = more;
        }
        list[count] = strndup(s, (size_t)(e - s));
        if (list[count] == NULL)
            break;
        count++;
    }
    free(line);
    fclose(f);
    if (count == 0) {
        fprintf(stderr, "--urls %s holds no URL (one a line)\n", o->urls_file);
        free(list);
        return -1;
    }
    if (n == 0)
        n = (long)count;
    if (n > max_n) {
        fprintf(stderr, "--urls %s holds %zu URLs; this program takes at most %ld\n",
                o->urls_file, count, max_n);
        n = 0;
    }
    o->urls = n > 0 ? calloc((size_t)n, sizeof *o->urls) : NULL;
    for (long i = 0; o->urls != NULL && i < n; i++) {
        o->urls[i] = strdup(list[(size_t)i % count]);
        if (o->urls[i] == NULL) {
            o->n = i;
            kit_options_free(o);
        }
    }
    for (size_t i = 0; i < count; i++)
        free(list[i]);
    free(list);
    if (o->urls == NULL)
        return -1;
    o->n = n;
    return 0;
}

void kit_options_free(struct kit_options *o)
{
    for (long i = 0; o->urls != NULL && i < o->n; i++)
        free(o->urls[i]);
    free(o->urls);
    o->urls = NULL;
}

long kit_take_long(int *argc, char **argv, const char *name, long lo, long hi, long def)
{
    size_t len = strlen(name);
    long v = def;

    for (int i = 1; i < *argc; i++) {
        const char *s = NULL;
        int used = 0;
        if (strncmp(argv[i], "--", 2) != 0 || strncmp(argv[i] + 2, name, len) != 0)
            continue;
        if (argv[i][2 + len] == '\0' && i + 1 < *argc) {
            s = argv[i + 1];
            used = 2;
        } else if (argv[i][2 + len] == '=') {
            s = argv[i] + 3 + len;
            used = 1;
        } else {
            continue;
        }
        char *end;
        v = strtol(s, &end, 10);
        if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
            fprintf(stderr, "--%s: expected an integer %ld..%ld, got '%s'\n", name, lo, hi, s);
            exit(2);
        }
        memmove(&argv[i], &argv[i + used], (size_t)(*argc - i - used + 1) * sizeof *argv);
        *argc -= used;
        i--;
    }
    return v;
}

static void parse(int argc, char **argv, const char *const *modes, int need_url, int with_urls,
                  long max_n, struct kit_options *o)
{
    static const struct option longopts[] = {
        { "url", required_argument, NULL, 'u' },  { "mode", required_argument, NULL, 'm' },
        { "n", required_argument, NULL, 'n' },    { "delay", required_argument, NULL, 'd' },
        { "urls", required_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    static char url[1024];
    long n_given = 0;
    int c, bad = 0;

    o->urls_file = NULL;
    o->urls = NULL;
    while (!bad && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'u') {
            size_t len = strlen(optarg);
            while (len > 0 && optarg[len - 1] == '/')
                len--;
            if (len == 0 || len >= sizeof url) {
                fprintf(stderr, "--url needs a base URL such as http://127.0.0.1:8080\n");
                bad = 1;
            }
            snprintf(url, sizeof url, "%.*s", (int)len, optarg);
            o->url = url;
        } else if (c == 'm') {
            o->mode = optarg;
        } else if (c == 'n') {
            o->n = n_given = whole(optarg, 1, max_n, "--n");
            bad = o->n < 0;
        } else if (c == 'd') {
            o->delay_ms = whole(optarg, 0, KIT_DELAY_MAX, "--delay");
            bad = o->delay_ms < 0;
        } else if (c == 'f' && with_urls) {
            o->urls_file = optarg;
        } else if (c == 'h') {
            usage(stdout, argv[0], modes, need_url, with_urls, max_n);
            exit(0);
        } else {
            bad = 1;
        }
    }
    if (!bad && optind < argc) {
        fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
        bad = 1;
    }
    if (!bad && need_url && o->url == NULL && o->urls_file == NULL) {
        fprintf(stderr, "--url%s is required\n", with_urls ? " (or --urls)" : "");
        bad = 1;
    }
    if (!bad && !known(o->mode, modes)) {
        fprintf(stderr, "unknown --mode '%s'\n", o->mode);
        bad = 1;
    }
    if (!bad && o->urls_file != NULL && read_urls(o, n_given, max_n) != 0)
        bad = 1;
    if (bad) {
        usage(stderr, argv[0], modes, need_url, with_urls, max_n);
        exit(2);
    }
}

void kit_parse_options(int argc, char **argv, const char *const *modes, int need_url,
                       long max_n, struct kit_options *o)
{
    parse(argc, argv, modes, need_url, 0, max_n, o);
}

void kit_parse_options_urls(int argc, char **argv, const char *const *modes, int need_url,
                            long max_n, struct kit_options *o)
{
    parse(argc, argv, modes, need_url, 1, max_n, o);
}

int kit_server_kind(const char *base)
{
    int reached, delayd;
    json_t *root;

    /* /stats first: a GET that changes nothing on any server. Only a server whose /stats
     * looks like delayd's (a "peak" count) is sent /reset. */
    root = get_stats(base, 1, &reached);
    if (!reached) {
        fprintf(stderr, "cannot reach the server at %s (no HTTP answer from %s/stats)\n", base,
                base);
        return -1;
    }
    delayd = root != NULL && json_is_integer(json_object_get(root, "peak"));
    json_decref(root);
    if (!delayd || kit_stats_reset(base) != 0)
        return KIT_SERVER_OTHER;
    return KIT_SERVER_DELAYD;
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

/* AddressSanitizer's defaults for every binary that links the kit (its tests); ASAN_OPTIONS
 * still overrides them. Criterion starts every test in a process of its own (it executes the
 * binary again), and two sanitizer habits made that start cost about 140 ms of CPU a test on
 * the kit's 2-core machines, most of make check's time:
 * - leak_check_at_exit=0: the leak check at a test process's exit. Criterion ignores that
 *   process's exit status, so the check could never fail a test; every test asks LeakSanitizer
 *   itself (kit_leaked(), kit_expect_no_leaks()), which this does not turn off.
 * - intercept_strstr=0: libgit2, which Criterion loads, reads the system's certificate bundle
 *   at start with one strstr() a certificate, and ASan's check of strstr() measures the whole
 *   rest of the bundle each time. Only strstr() and strcasestr() go unchecked: every access
 *   the code under test makes itself still is. */
const char *__asan_default_options(void);

/* The sanitizer runtime's zeroed data (libasan's .bss: 5.4 MB with gcc 12, most of it tables
 * that stay empty) is read in full by every leak check: LeakSanitizer scans all writable data
 * of every loaded module for pointers. Each 4 KiB page of it read for the first time is a page
 * fault, about 1,100 a test process, and on a VM with shadow page tables a fault costs 10 to
 * 19 us. Marked for transparent huge pages before anything touches it, an untouched 2 MiB
 * stretch is read through the kernel's one shared zero huge page: one fault instead of 512
 * (a minimal ASan program with one leak check: 2,010 page faults and 32 ms of CPU, 988 and
 * 20 ms with the hint; lesson 03's 20 tests: 116,400 and 88,800 page faults, 2.94 and 2.65 s of
 * CPU). It changes what backs the memory, never its contents, and does nothing where huge
 * pages are off. It runs inside ASan's start-up, before its shadow memory exists: so it is
 * not instrumented, and calls nothing that ASan intercepts. */
#if defined(__linux__) && !defined(KIT_PORTABLE) && defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#include <elf.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#define KIT_DL_FIND_OBJECT 1    /* glibc 2.35's _dl_find_object */
#ifdef MADV_HUGEPAGE
#define KIT_HUGEPAGE_HINT 1     /* glibc 2.35's _dl_find_object, Linux's transparent huge pages */
#endif
#endif
#ifdef KIT_HUGEPAGE_HINT
__attribute__((no_sanitize("address", "undefined"))) static void kit_sanitizer_bss_hint(
    void *inside)
{
    struct dl_find_object obj;
    if (_dl_find_object(inside, &obj) != 0 || obj.dlfo_link_map == NULL)
        return;
    /* The ELF header is where the object's first segment is mapped. */
    const ElfW(Ehdr) *eh = obj.dlfo_map_start;
    if (eh->e_ident[EI_MAG0] != ELFMAG0 || eh->e_ident[EI_MAG1] != ELFMAG1 ||
        eh->e_ident[EI_MAG2] != ELFMAG2 || eh->e_ident[EI_MAG3] != ELFMAG3 ||
        eh->e_phentsize != sizeof(ElfW(Phdr)))
        return;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff);
    uintptr_t bias = obj.dlfo_link_map->l_addr, page = 4096;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_W))
            continue;
        /* The zeroed part: past what the file holds, to the segment's end. */
        uintptr_t lo = (bias + ph[i].p_vaddr + ph[i].p_filesz + page - 1) & ~(page - 1);
        uintptr_t hi = (bias + ph[i].p_vaddr + ph[i].p_memsz + page - 1) & ~(page - 1);
        if (hi > lo)
            syscall(SYS_madvise, (void *)lo, (size_t)(hi - lo), MADV_HUGEPAGE);
    }
}
#define KIT_SANITIZER_BSS_HINT(inside) kit_sanitizer_bss_hint(inside)
#else
#define KIT_SANITIZER_BSS_HINT(inside) ((void)(inside))
#endif

/* Called by the sanitizer runtime (it is where the return address points: libasan, or the
 * program itself when the runtime is linked in, as clang does), once or twice at start. */
__attribute__((no_sanitize("address", "undefined"))) const char *__asan_default_options(void)
{
    static int hinted;
    if (!hinted) {
        hinted = 1;
        KIT_SANITIZER_BSS_HINT(__builtin_return_address(0));
    }
    return "leak_check_at_exit=0:intercept_strstr=0";
}

/* Criterion starts libgit2 in every test process (it uses it for nothing but the diffs of two
 * failed strings), and Debian's libgit2 then parses the system's whole certificate bundle with
 * mbed TLS: about 140 certificates, each a base64 decode and an X.509 parse through ASan's
 * allocator, 15 ms of CPU and 300 page faults a test process here (20 empty tests: 1.50 against
 * 1.19 s of CPU). No test makes a TLS connection through libgit2, so in a test program this
 * definition, exported by the link (SAN_LINK: --export-dynamic-symbol), comes before mbed
 * TLS's own and loads no certificate: libgit2 starts with an empty list of trusted ones.
 * libcurl, which the code under test uses, has its own TLS library (OpenSSL) and is not
 * touched. The grader's sandbox does not show the bundle at all, to the same effect. */
#ifdef __linux__
struct mbedtls_x509_crt;
int mbedtls_x509_crt_parse_file(struct mbedtls_x509_crt *chain, const char *path);
int mbedtls_x509_crt_parse_file(struct mbedtls_x509_crt *chain, const char *path)
{
    (void)chain;
    (void)path;
    return 0;
}
#endif

/* Criterion finds its tests, suites and report hooks by section name: for each of about a dozen
 * sections it walks every loaded module (dl_iterate_phdr), opens the module's file and maps its
 * section headers and their names. A test program loads 45 modules (libcurl brings 27), so each
 * test process opens and maps some 600 files before its test starts, and pays their page faults.
 * Only two modules can hold those sections: the program (the kit's and the lesson's tests) and
 * libcriterion itself. This definition, exported by the link (SAN_LINK), comes before glibc's:
 * called from libcriterion, it shows Criterion the program and libcriterion only; called from
 * anywhere else (the sanitizers' module lists and leak scan, the unwinder) it is glibc's own,
 * every module included. It may run inside the sanitizer's start-up, so it is not instrumented
 * and calls nothing the sanitizer intercepts. */
#ifdef KIT_DL_FIND_OBJECT
typedef int (*kit_phdr_cb)(struct dl_phdr_info *, size_t, void *);
struct kit_phdr_pass {
    kit_phdr_cb cb;
    void *data;
    int seen;
};

__attribute__((no_sanitize("address", "undefined"))) static int kit_is_criterion(
    const char *name)
{
    static const char want[] = "libcriterion.so";
    for (const char *p = name; p != NULL && *p != '\0'; p++) {
        size_t i = 0;
        while (want[i] != '\0' && p[i] == want[i])
            i++;
        if (want[i] == '\0')
            return 1;
    }
    return 0;
}

/* The program comes first in glibc's order; after it, only libcriterion is passed on. */
__attribute__((no_sanitize("address", "undefined"))) static int kit_phdr_filter(
    struct dl_phdr_info *info, size_t size, void *data)
{
    struct kit_phdr_pass *pass = data;
    if (pass->seen++ > 0 && !kit_is_criterion(info->dlpi_name))
        return 0;
    return pass->cb(info, size, pass->data);
}

int dl_iterate_phdr(kit_phdr_cb cb, void *data);
__attribute__((no_sanitize("address", "undefined"))) int dl_iterate_phdr(kit_phdr_cb cb,
                                                                         void *data)
{
    static int (*real)(kit_phdr_cb, void *);
    struct dl_find_object caller;

    if (real == NULL)
        real = (int (*)(kit_phdr_cb, void *))dlsym(RTLD_NEXT, "dl_iterate_phdr");
    if (real == NULL)
        return 0;
    if (_dl_find_object(__builtin_return_address(0), &caller) == 0 &&
        caller.dlfo_link_map != NULL && kit_is_criterion(caller.dlfo_link_map->l_name)) {
        struct kit_phdr_pass pass = { cb, data, 0 };
        return real(kit_phdr_filter, &pass);
    }
    return real(cb, data);
}
#endif

static int kit_leak_asks;

int kit_leak_checks(void)
{
    return kit_leak_asks;
}

int kit_leaked(void)
{
    kit_leak_asks++;
    return __lsan_do_recoverable_leak_check != NULL && __lsan_do_recoverable_leak_check() != 0;
}

void kit_fini_leaks(void)
{
    if (kit_leaked()) {
        fputs("[memory-leak] this test left memory that nothing points to (LeakSanitizer's "
              "report is above): the test process is stopped so that make check fails it\n",
              stderr);
        abort();
    }
}

void __sanitizer_set_death_callback(void (*fn)(void)) __attribute__((weak));

void kit_on_asan_death(void (*fn)(void))
{
#ifdef __SANITIZE_ADDRESS__
    void (*set)(void (*)(void)) = NULL;

    /* The first library after the program that has it: libasan, when ASan is a library (gcc);
     * the UBSan runtime's copy in the program is hidden (-Wl,--exclude-libs). Otherwise ASan
     * is part of the program (clang), and so is the function. */
    *(void **)&set = dlsym(RTLD_NEXT, "__sanitizer_set_death_callback");
    if (set == NULL)
        set = __sanitizer_set_death_callback;
    if (set != NULL)
        set(fn);
#else
    (void)fn; /* no AddressSanitizer in this build (UBSan's own deaths are not ASan's) */
#endif
}

int kit_open_fds(void)
{
#if defined(__linux__) && !defined(KIT_PORTABLE)
    DIR *d = opendir("/proc/self/fd");
#else
    DIR *d = opendir("/dev/fd");       /* macOS; on Linux a link to /proc/self/fd */
#endif
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

/* ---- test memory that a failed assertion cannot strand (kit_test.h) ------------------ */

struct deferred {
    void (*fn)(void *);
    void *arg;
};

static struct deferred *deferred;
static size_t n_deferred, cap_deferred;

static void out_of_memory(void)
{
    fprintf(stderr, "kit: out of memory in a test helper\n");
    abort();
}

void kit_defer(void (*fn)(void *), void *arg)
{
    if (n_deferred == cap_deferred) {
        size_t cap = cap_deferred ? cap_deferred * 2 : 16;
        struct deferred *grown = realloc(deferred, cap * sizeof *grown);

        if (grown == NULL)
            out_of_memory();
        deferred = grown;
        cap_deferred = cap;
    }
    deferred[n_deferred].fn = fn;
    deferred[n_deferred].arg = arg;
    n_deferred++;
}

void kit_cleanup(void)
{
    /* A clean-up may defer more: take them one at a time from the end. */
    while (n_deferred > 0) {
        struct deferred d = deferred[--n_deferred];
        d.fn(d.arg);
    }
    free(deferred);
    deferred = NULL;
    cap_deferred = 0;
}

void *kit_alloc_array(size_t n, size_t size)
{
    void *p;

    if (size != 0 && n > SIZE_MAX / size) {
        fprintf(stderr, "kit: kit_alloc_array(%zu, %zu) overflows\n", n, size);
        abort();
    }
    /* An empty array still gets a block (never NULL), of one byte: reading an element of it
     * is past the end for ASan as soon as an element is wider than a byte. */
    p = calloc(n * size == 0 ? 1 : n, n * size == 0 ? 1 : size);
    if (p == NULL)
        out_of_memory();
    kit_defer(free, p);
    return p;
}

void *kit_alloc(size_t size)
{
    return kit_alloc_array(1, size);
}

char *kit_sprintf(const char *fmt, ...)
{
    va_list ap;
    int len;
    char *s;

    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0)
        abort();
    s = kit_alloc((size_t)len + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)len + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* ---- words ---------------------------------------------------------------------------- */

const char *kit_errname(long err)
{
    static char bufs[8][32];
    static unsigned next;
    char *b = bufs[next++ % 8];
    const char *name = NULL;
    long mag = err < 0 ? -err : err;

    if (err == 0)
        return "0";
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
    if (mag <= 4095)
        name = strerrorname_np((int)mag);
#endif
    if (name != NULL)
        snprintf(b, sizeof bufs[0], "%s%s", err < 0 ? "-" : "", name);
    else
        snprintf(b, sizeof bufs[0], "%ld", err);
    return b;
}

const char *kit_plural(long n, const char *one, const char *many)
{
    return n == 1 || n == -1 ? one : many;
}

const char *kit_ordinal(long n)
{
    static char bufs[8][32];
    static unsigned next;
    char *b = bufs[next++ % 8];
    long last2 = (n < 0 ? -n : n) % 100, last = last2 % 10;
    const char *suffix = last2 >= 11 && last2 <= 13 ? "th" :
                         last == 1 ? "st" : last == 2 ? "nd" : last == 3 ? "rd" : "th";

    snprintf(b, sizeof bufs[0], "%ld%s", n, suffix);
    return b;
}

const char *kit_lesson(void)
{
    const char *l = getenv("LESSON");

    return l != NULL && l[0] != '\0' ? l : "NN";
}

/* ---- seeded randomness ------------------------------------------------------------------ */

unsigned kit_seed(void)
{
    static unsigned seed;
    static int drawn;

    if (!drawn) {
        const char *env = getenv("KIT_SEED");
        char *end;
        unsigned long v = env != NULL ? strtoul(env, &end, 10) : 0;

        if (env != NULL && env[0] != '\0' && *end == '\0')
            seed = (unsigned)v;
        else
            seed = (unsigned)(((uint64_t)kit_wall() * 1000003u) ^ (unsigned)getpid()) % 1000000u;
        drawn = 1;
    }
    return seed;
}

uint32_t kit_rand(uint32_t *state)
{
    uint32_t x = *state != 0 ? *state : 1;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

void kit_shuffle(size_t *order, size_t n, uint32_t *state)
{
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = kit_rand(state) % i;
        size_t t = order[i - 1];

        order[i - 1] = order[j];
        order[j] = t;
    }
}
