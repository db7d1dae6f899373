/* Lesson 13, part one: the ordered window. The reference solution. */
#include "urlcheck.h"

#include <errno.h>
#include <string.h>

int window_add(struct window *w, const char *url, size_t lineno, struct check **fresh)
{
    struct check *c = NULL;

    *fresh = NULL;
    if (w->len == w->cap)
        return -ENOSPC;
    for (size_t i = 0; i < w->len && c == NULL; i++) {
        struct check *old = w->ring[(w->head + i) % w->cap].check;
        if (strcmp(old->url, url) == 0)
            c = old;
    }
    if (c == NULL) {
        c = check_new(w, url);
        if (c == NULL)
            return -ENOMEM;
        *fresh = c;
    }
    c->refs++;
    w->ring[(w->head + w->len) % w->cap] = (struct line){ .lineno = lineno, .check = c };
    w->len++;
    return 0;
}

size_t window_flush(struct window *w, const struct writer *out)
{
    size_t written = 0;

    while (w->len > 0 && w->ring[w->head].check->done) {
        struct line *l = &w->ring[w->head];
        out->line(out->ctx, l->lineno, l->check->url, &l->check->res);
        check_unref(w, l->check);
        w->head = (w->head + 1) % w->cap;
        w->len--;
        written++;
    }
    return written;
}
