/* trace.c: AIO_TRACE=file records what each task did and when, for a timeline.
 *
 * The loop holds a buffer of fixed-size events (allocated once, when aio_run starts with
 * AIO_TRACE set); each hook in the runtime (AIO__TRACE in aio_internal.h) appends one: a
 * clock read and a few stores. Nothing is formatted or written while the program runs: the
 * buffer becomes text when the loop ends, or when it is full, in which case the write is
 * recorded as a "flush" event with its duration, so a timeline shows the pause it caused
 * instead of hiding it. The file's format is described in README.md ("Tracing"). */
#include "aio_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AIO__TRACE_DEFAULT 65536        /* events in the buffer: 2 MiB */
#define AIO__TRACE_MIN 16
#define AIO__TRACE_MAX (1L << 24)
#define AIO__TRACE_TEXT 16              /* bytes of a name or a path kept per event */

struct aio__trace_rec {
    int64_t ns;                         /* CLOCK_MONOTONIC */
    uint32_t task;                      /* the task's id, 0 for the loop itself */
    uint8_t ev;                         /* enum aio__ev */
    uint8_t cause;                      /* enum aio__cause, for AIO__EV_WAIT */
    union {
        int64_t arg;
        char text[AIO__TRACE_TEXT];     /* NUL-terminated unless all 16 bytes are used */
    } u;
};

struct aio__trace {
    int fd;
    char *path;
    struct aio__trace_rec *rec;
    size_t len, cap;
    bool failed;                        /* a write failed: record nothing more */
    char out[65536];                    /* formatting buffer: whole lines per write() */
    size_t out_len;
};

static const char *const aio__ev_names[AIO__EV_COUNT] = {
    [AIO__EV_LOOP_START] = "loop-start", [AIO__EV_LOOP_END] = "loop-end",
    [AIO__EV_SPAWN] = "spawn",           [AIO__EV_NAME] = "name",
    [AIO__EV_RUN] = "run",               [AIO__EV_YIELD] = "yield",
    [AIO__EV_WAIT] = "wait",             [AIO__EV_WAKE] = "wake",
    [AIO__EV_END] = "end",               [AIO__EV_HTTP_START] = "http-start",
    [AIO__EV_HTTP_END] = "http-end",     [AIO__EV_IDLE_START] = "idle-start",
    [AIO__EV_IDLE_END] = "idle-end",     [AIO__EV_FLUSH] = "flush",
};

static const char *const aio__cause_names[AIO__C_COUNT] = {
    [AIO__C_TIMER] = "timer",       [AIO__C_FD] = "fd",         [AIO__C_JOIN] = "join",
    [AIO__C_JOIN_ANY] = "join-any", [AIO__C_GROUP] = "group",   [AIO__C_WAIT_FOR] = "wait-for",
    [AIO__C_THREAD] = "thread",     [AIO__C_HTTP] = "http",     [AIO__C_PARK] = "park",
    [AIO__C_SEM] = "sem",
};

/* The first loop of a process starts the file afresh; later loops (a program that calls
 * aio_run more than once) append to it. */
static atomic_bool aio__trace_started;

static size_t aio__trace_capacity(void)
{
    const char *s = getenv("AIO_TRACE_EVENTS");
    if (s == NULL || *s == '\0')
        return AIO__TRACE_DEFAULT;
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || n < AIO__TRACE_MIN || n > AIO__TRACE_MAX) {
        fprintf(stderr, "aio: [aio-trace-events] AIO_TRACE_EVENTS=%s is not a whole number from "
                "%d to %ld; the trace buffer keeps its default of %d events\n", s,
                AIO__TRACE_MIN, AIO__TRACE_MAX, AIO__TRACE_DEFAULT);
        return AIO__TRACE_DEFAULT;
    }
    return (size_t)n;
}

struct aio__trace *aio__trace_open(void)
{
    const char *path = getenv("AIO_TRACE");
    if (path == NULL || *path == '\0')
        return NULL;
    size_t cap = aio__trace_capacity();
    struct aio__trace *tr = calloc(1, sizeof *tr);
    if (tr != NULL) {
        tr->rec = malloc(cap * sizeof *tr->rec);
        tr->path = strdup(path);
    }
    if (tr == NULL || tr->rec == NULL || tr->path == NULL) {
        fprintf(stderr, "aio: [aio-trace-nomem] no memory for a trace buffer of %zu events; the "
                "program runs without tracing (set AIO_TRACE_EVENTS lower)\n", cap);
        goto fail;
    }
    bool first = !atomic_exchange(&aio__trace_started, true);
    tr->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (first ? O_TRUNC : 0), 0644);
    if (tr->fd < 0) {
        fprintf(stderr, "aio: [aio-trace-open] cannot write the trace to '%s': %s; AIO_TRACE "
                "should name a file in a folder that exists. The program runs without "
                "tracing.\n", path, strerror(errno));
        goto fail;
    }
    tr->cap = cap;
    if (first) {
        static const char head[] = "# aio trace: ns event task a b (ns on CLOCK_MONOTONIC; "
                                   "harness/aio/README.md, \"Tracing\")\n";
        memcpy(tr->out, head, sizeof head - 1);
        tr->out_len = sizeof head - 1;
    }
    return tr;
fail:
    if (tr != NULL) {
        free(tr->rec);
        free(tr->path);
    }
    free(tr);
    return NULL;
}

/* Write the formatting buffer out: whole lines, one write() at a time (O_APPEND). */
static void aio__trace_out(struct aio__trace *tr)
{
    size_t off = 0;
    while (off < tr->out_len && !tr->failed) {
        ssize_t n = write(tr->fd, tr->out + off, tr->out_len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "aio: [aio-trace-write] writing the trace to '%s' failed: %s; the "
                    "trace stops here and the program goes on\n", tr->path,
                    n < 0 ? strerror(errno) : "nothing written");
            tr->failed = true;
        }
        off += (size_t)(n > 0 ? n : 0);
    }
    tr->out_len = 0;
}

/* A name or path as one field: spaces and control characters become '_'. */
static void aio__trace_field(char *dst, const char *src)
{
    size_t i = 0;
    for (; i < AIO__TRACE_TEXT && src[i] != '\0'; i++)
        dst[i] = (unsigned char)src[i] <= ' ' || src[i] == 127 ? '_' : src[i];
    if (i == 0)
        dst[i++] = '-';
    dst[i] = '\0';
}

/* Turn every recorded event into a line and write them; the buffer is empty afterwards. */
static void aio__trace_flush(struct aio__trace *tr)
{
    for (size_t i = 0; i < tr->len; i++) {
        const struct aio__trace_rec *r = &tr->rec[i];
        char a[AIO__TRACE_TEXT + 24], b[24] = "-";
        switch (r->ev) {
        case AIO__EV_NAME:
        case AIO__EV_HTTP_START:
            aio__trace_field(a, r->u.text);
            break;
        case AIO__EV_WAIT:
            snprintf(a, sizeof a, "%s", r->cause < AIO__C_COUNT ? aio__cause_names[r->cause] : "?");
            snprintf(b, sizeof b, "%lld", (long long)r->u.arg);
            break;
        default:
            snprintf(a, sizeof a, "%lld", (long long)r->u.arg);
            break;
        }
        if (sizeof tr->out - tr->out_len < 128)
            aio__trace_out(tr);
        int n = snprintf(tr->out + tr->out_len, sizeof tr->out - tr->out_len, "%lld %s %u %s %s\n",
                         (long long)r->ns, aio__ev_names[r->ev], r->task, a, b);
        tr->out_len += (size_t)n;
    }
    aio__trace_out(tr);
    tr->len = 0;
}

/* Room for one more event: when the buffer is full, write it out and note how long that took
 * (the note takes the first slot of the emptied buffer). */
static struct aio__trace_rec *aio__trace_slot(struct aio__trace *tr)
{
    if (tr->failed)
        return NULL;
    if (tr->len == tr->cap) {
        int64_t t0 = aio__clock_ns();
        aio__trace_flush(tr);
        tr->rec[0] = (struct aio__trace_rec){
            .ns = t0, .ev = AIO__EV_FLUSH, .u.arg = aio__clock_ns() - t0};
        tr->len = 1;
        if (tr->failed)
            return NULL;
    }
    return &tr->rec[tr->len++];
}

void aio__trace_ev(struct aio__trace *tr, enum aio__ev ev, unsigned long task, int cause,
                   int64_t arg)
{
    struct aio__trace_rec *r = aio__trace_slot(tr);
    if (r == NULL)
        return;
    *r = (struct aio__trace_rec){.ns = aio__clock_ns(), .task = (uint32_t)task,
                                 .ev = (uint8_t)ev, .cause = (uint8_t)cause, .u.arg = arg};
}

void aio__trace_text(struct aio__trace *tr, enum aio__ev ev, unsigned long task,
                     const char *text)
{
    struct aio__trace_rec *r = aio__trace_slot(tr);
    if (r == NULL)
        return;
    *r = (struct aio__trace_rec){.ns = aio__clock_ns(), .task = (uint32_t)task, .ev = (uint8_t)ev};
    size_t n = text != NULL ? strnlen(text, sizeof r->u.text) : 0;
    memcpy(r->u.text, text, n);         /* the rest is zero: the record was zeroed */
}

void aio__trace_close(struct aio__trace *tr)
{
    if (tr == NULL)
        return;
    if (!tr->failed)
        aio__trace_flush(tr);
    close(tr->fd);
    free(tr->rec);
    free(tr->path);
    free(tr);
}
