/* delayd's generated content: the /bytes pattern, the /flaky draw, the /page link graph.
 * Pure functions of their arguments, so tests can recompute what the server must send. */
#ifndef DELAYD_CONTENT_H
#define DELAYD_CONTENT_H

#include <stddef.h>
#include <stdint.h>

#define BYTES_CHUNK 65536     /* largest run bytes_at() can hand out */
#define PAGE_LINKS_MAX 5      /* a page links to 3..5 others (fewer when there are fewer) */

/* Build the /bytes pattern table; call once before serving. */
void content_init(void);

/* The /bytes content from offset pos: byte i of every /bytes body is 'a' + i % 26. The
 * returned pointer is valid for BYTES_CHUNK bytes and is never freed. */
const char *bytes_at(uint64_t pos);

/* SplitMix64's output function: a fixed, well-mixed 64-bit hash. */
uint64_t content_mix(uint64_t x);

/* The /flaky draw for the n-th request (1-based) with seed S, uniform in [0, 1):
 * (mix(S ^ mix(n)) >> 11) / 2^53. The request fails iff the draw is below the rate. */
double flaky_draw(uint64_t seed, uint64_t n);

/* The pages /page/ID links to, in order, written to out[PAGE_LINKS_MAX]; returns how many.
 * The first link is (ID + 1) % pages, so following first links from /page/0 visits all. */
int page_links(long id, long pages, long out[PAGE_LINKS_MAX]);

#endif
