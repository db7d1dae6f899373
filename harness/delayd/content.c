/* delayd's generated content (see content.h for each rule). */
#include "content.h"

#include <stdbool.h>

#define ALPHABET 26           /* the /bytes pattern repeats every 26 bytes */
#define LINK_TRIES 64         /* hashed picks before falling back to a scan */

/* One chunk plus one period, so a chunk may start at any phase of the pattern. */
static char pattern[BYTES_CHUNK + ALPHABET];

void content_init(void)
{
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (char)('a' + i % ALPHABET);
}

const char *bytes_at(uint64_t pos)
{
    return pattern + pos % ALPHABET;
}

uint64_t content_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

double flaky_draw(uint64_t seed, uint64_t n)
{
    /* A hash of n rather than a stream of draws: the answer for the n-th request does not
     * depend on which thread served the earlier ones, or in which order. */
    return (double)(content_mix(seed ^ content_mix(n)) >> 11) * 0x1.0p-53;
}

/* Whether page is among the first n links. */
static bool contains(const long *links, int n, long page)
{
    for (int i = 0; i < n; i++) {
        if (links[i] == page)
            return true;
    }
    return false;
}

int page_links(long id, long pages, long out[PAGE_LINKS_MAX])
{
    long want = 3 + (long)(content_mix((uint64_t)id) % 3);
    int n = 0;

    if (want > pages - 1)
        want = pages - 1;
    if (want <= 0)
        return 0;
    out[n++] = (id + 1) % pages;
    for (uint64_t k = 1; n < want && k <= LINK_TRIES; k++) {
        long page = (long)(content_mix((uint64_t)id * LINK_TRIES + k) % (uint64_t)pages);

        if (page != id && !contains(out, n, page))
            out[n++] = page;
    }
    /* Only tiny graphs get here: take the first pages not yet linked. */
    for (long page = 0; n < want && page < pages; page++) {
        if (page != id && !contains(out, n, page))
            out[n++] = page;
    }
    return n;
}
