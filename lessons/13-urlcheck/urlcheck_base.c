/* Lesson 13, given: the window's ring and the checks' books. */
#include "urlcheck.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int window_init(struct window *w, size_t cap)
{
    *w = (struct window){ 0 };
    if (cap < 1 || cap > WINDOW_MAX)
        return -EINVAL;
    w->ring = calloc(cap, sizeof *w->ring);
    if (w->ring == NULL)
        return -ENOMEM;
    w->cap = cap;
    return 0;
}

void window_free(struct window *w)
{
    free(w->ring);
    w->ring = NULL;
    w->cap = w->head = w->len = 0;
}

struct check *check_new(struct window *w, const char *url)
{
    struct check *c = calloc(1, sizeof *c);

    if (c == NULL)
        return NULL;
    c->url = strdup(url);
    if (c->url == NULL) {
        free(c);
        return NULL;
    }
    w->checks_made++;
    if (++w->checks_alive > w->checks_peak)
        w->checks_peak = w->checks_alive;
    return c;
}

void check_unref(struct window *w, struct check *c)
{
    if (c == NULL || --c->refs > 0)
        return;
    free(c->url);
    free(c);
    w->checks_alive--;
}

int check_fine(const struct check_result *r)
{
    return r->rc == 0 && r->status >= 100 && r->status <= 399;
}
