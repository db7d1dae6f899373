/* Lesson 13, given: reading URL lines from a descriptor and writing result lines as text. */
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fd_reader_open(struct fd_reader *fr, int fd)
{
    struct stat st;

    *fr = (struct fd_reader){ .fd = fd, .restore_flags = -1 };
    fr->buf = malloc(LINE_MAX_LEN + 1);
    if (fr->buf == NULL)
        return -ENOMEM;
    /* A pipe or a terminal can keep us waiting: read it without blocking, and wait in the
     * loop. A regular file is always ready (epoll refuses it anyway). */
    if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
        int flags = fcntl(fd, F_GETFL);
        if (flags >= 0 && !(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0)
            fr->restore_flags = flags;
    }
    return 0;
}

void fd_reader_close(struct fd_reader *fr)
{
    if (fr->restore_flags >= 0)
        fcntl(fr->fd, F_SETFL, fr->restore_flags);
    free(fr->buf);
    fr->buf = NULL;
}

/* The next whole line in the buffer (NUL-terminated in place), or NULL. */
static char *take_line(struct fd_reader *fr)
{
    char *s = fr->buf + fr->start;
    char *nl = memchr(s, '\n', fr->have - fr->start);

    if (nl == NULL && !(fr->eof && fr->have > fr->start))
        return NULL;
    if (nl == NULL)
        nl = fr->buf + fr->have;            /* the last line, without its newline */
    *nl = '\0';
    fr->start = (size_t)(nl - fr->buf) + (nl < fr->buf + fr->have);
    if (fr->start > fr->have)
        fr->start = fr->have;
    fr->lineno++;
    return s;
}

int fd_reader_next(void *ctx, const char **url, size_t *lineno)
{
    struct fd_reader *fr = ctx;

    for (;;) {
        char *s;
        while ((s = take_line(fr)) != NULL) {
            while (*s == ' ' || *s == '\t' || *s == '\r')
                s++;
            size_t n = strlen(s);
            while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                s[--n] = '\0';
            if (n == 0 || s[0] == '#')
                continue;
            *url = s;
            *lineno = fr->lineno;
            return 1;
        }
        if (fr->eof)
            return 0;
        /* Keep the partial line, make room behind it. */
        memmove(fr->buf, fr->buf + fr->start, fr->have - fr->start);
        fr->have -= fr->start;
        fr->start = 0;
        if (fr->have == LINE_MAX_LEN)
            return -E2BIG;
        ssize_t got = read(fr->fd, fr->buf + fr->have, LINE_MAX_LEN - fr->have);
        if (got > 0) {
            fr->have += (size_t)got;
        } else if (got == 0) {
            fr->eof = 1;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int rc = aio_wait_fd(fr->fd, AIO_READ, AIO_NEVER);
            if (rc < 0)
                return rc;
        } else if (errno != EINTR) {
            return -errno;
        }
    }
}

void check_describe(const struct check_result *r, char *buf, size_t size)
{
    switch (r->rc) {
    case 0:
        if (check_fine(r))
            snprintf(buf, size, "%ld in %lld ms", r->status, (long long)r->ms);
        else
            snprintf(buf, size, "HTTP %ld in %lld ms", r->status, (long long)r->ms);
        break;
    case -ETIMEDOUT:
        snprintf(buf, size, "timed out after %lld ms", (long long)r->ms);
        break;
    case -ECONNREFUSED:
        snprintf(buf, size, "refused");
        break;
    case -EINVAL:
        snprintf(buf, size, "malformed URL");
        break;
    case -ECANCELED:
        snprintf(buf, size, "stopped before its answer");
        break;
    default:
        snprintf(buf, size, "failed: %s", strerror(-r->rc));
        break;
    }
}

void text_writer_line(void *ctx, size_t lineno, const char *url, const struct check_result *r)
{
    struct text_writer *tw = ctx;
    char what[96];
    int fine = check_fine(r);

    tw->lines++;
    if (fine)
        tw->fine++;
    else if (r->rc == -ECANCELED)
        tw->cancelled++;
    else
        tw->broken++;
    if (fine && tw->quiet)
        return;
    check_describe(r, what, sizeof what);
    fprintf(tw->f, "%zu\t%s\t%s\t%s\n", lineno, fine ? "ok" : r->rc == -ECANCELED ? "cancelled" : "BROKEN",
            what, url);
    fflush(tw->f);
}
