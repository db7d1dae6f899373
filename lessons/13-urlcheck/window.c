/* Lesson 13, part one: the ordered window. Your file: fill in the TODOs. */
#include "urlcheck.h"

#include <errno.h>
#include <string.h>

int window_add(struct window *w, const char *url, size_t lineno, struct check **fresh)
{
    /* TODO 1: a line enters the window at its tail. The contract (urlcheck.h):
     * - A full window refuses (-ENOSPC) and changes nothing.
     * - The same URL already in the window: the line shares that check (its refs count the
     *   lines that point at it) and nothing new is fetched (*fresh = NULL).
     * - Otherwise a check of its own from check_new (it copies url: the reader's buffer is
     *   gone after its next call), handed back in *fresh for the caller to start; -ENOMEM
     *   when there is none, with nothing changed.
     * - The ring: the lines are ring[head], ring[head + 1], ... modulo cap, len of them. */
    (void)w;
    (void)url;
    (void)lineno;
    *fresh = NULL;
    return -ENOSYS;
}

size_t window_flush(struct window *w, const struct writer *out)
{
    /* TODO 2: the head of the window leaves, in order. The contract (urlcheck.h):
     * - While the oldest line's check is done: one out->line call for it, then it leaves the
     *   window and drops its ref (check_unref frees the check with the last one).
     * - The first line not done stops it, even when later lines are done: they wait their
     *   turn. Returns how many lines were written. */
    (void)w;
    (void)out;
    return 0;
}
