/* Lesson 13, given: what makes check_all a tool: reading URL lines from a descriptor, writing
 * result lines as text, counting them for the summary. */
#ifndef TOOL_H
#define TOOL_H

#include "urlcheck.h"

#include <stdio.h>

/* Lines from a descriptor (a file, a pipe, a terminal). Leading and trailing blanks are cut;
 * blank lines and lines whose first non-blank is '#' are skipped. A descriptor that can wait
 * (a pipe, a terminal) is read without blocking the loop (aio_wait_fd); a regular file is
 * read as it is. A line longer than LINE_MAX_LEN is an error (-E2BIG) naming its number. */
#define LINE_MAX_LEN 8192
struct fd_reader {
    int fd;
    int restore_flags;         /* the descriptor's flags before, restored by fd_reader_close */
    char *buf;                 /* LINE_MAX_LEN + 1 bytes of pending input */
    size_t have, start;
    size_t lineno;             /* the last line's number */
    int eof;
};
int fd_reader_open(struct fd_reader *fr, int fd);   /* 0 or -ENOMEM */
void fd_reader_close(struct fd_reader *fr);         /* frees; never closes fd */
int fd_reader_next(void *ctx, const char **url, size_t *lineno);

/* Result lines as text on f, and the counts for the summary. */
struct text_writer {
    FILE *f;
    int quiet;                 /* 1: write only the lines that are not fine */
    size_t lines, fine, broken, cancelled;
};
void text_writer_line(void *ctx, size_t lineno, const char *url, const struct check_result *r);

/* A result in words: "200 in 35 ms", "HTTP 404 in 12 ms", "timed out", "refused",
 * "malformed URL", "cancelled", ... into buf. */
void check_describe(const struct check_result *r, char *buf, size_t size);

#endif
