/* Lesson 12, given: the list of links. */
#include "links.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int links_push(struct links *l, const char *url)
{
    char *copy = strdup(url);

    if (copy == NULL)
        return -ENOMEM;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        char **u = realloc(l->url, cap * sizeof *u);
        if (u == NULL) {
            free(copy);
            return -ENOMEM;
        }
        l->url = u;
        l->cap = cap;
    }
    l->url[l->n++] = copy;
    return 0;
}

void links_free(struct links *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->url[i]);
    free(l->url);
    *l = (struct links){ 0 };
}
