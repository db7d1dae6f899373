/* Lesson 12, part one: the links of a page. A crawler must read links the way a browser does:
 * an HTML parser finds the <a href> elements (whatever their case, quotes or neighbours, and
 * never one inside a comment), and a URL library resolves each href against the page's own
 * URL (relative, "./", "../", absolute, with a fragment). Hand-written string code gets some
 * of these wrong; libxml2 and libcurl's URL API get them right. */
#ifndef LINKS_H
#define LINKS_H

#include <stddef.h>

/* A growing list of URLs, each a copy the list owns. Zeroed is empty. */
struct links {
    char **url;
    size_t n, cap;
};

/* ---- given (links_base.c) ------------------------------------------------------------ */

/* Append a copy of url. 0, or -ENOMEM (the list is unchanged). */
int links_push(struct links *l, const char *url);

/* Free every URL and the array; the list is empty (zeroed) again. */
void links_free(struct links *l);

/* ---- yours (links.c) ---------------------------------------------------------------- */

/* Resolve href against base, as a browser would (RFC 3986: relative paths, "./" and "../",
 * a query, an absolute URL with its own scheme and host), with libcurl's URL API (CURLU).
 * base may be NULL when href is absolute. On success *out is the absolute URL as
 * curl_url_get(..., CURLUPART_URL, ...) writes it (the scheme in lower case, dot
 * segments gone, the host as written), WITHOUT its fragment ("#..."): two hrefs naming the
 * same page give the same string. *out is the caller's, to release with curl_free().
 * Returns 0; -EINVAL (nothing allocated, *out untouched) when href cannot be resolved or its
 * scheme is not http or https (mailto:, javascript:, ftp:, ...); -ENOMEM. */
int link_resolve(const char *base, const char *href, char **out);

/* The links of one HTML page: parse html[0..len) (not NUL-terminated; any bytes, broken
 * markup included) with libxml2's HTML parser, recovering from errors, never touching the
 * network and printing nothing; for each <a> element with an href, in document order,
 * resolve it against page_url (link_resolve) and keep it when it lies on page_url's origin:
 * the same scheme, the same host (letter case aside) and the same port (the scheme's default
 * when none is written). Kept links are appended to out (links_push), repeats included; an
 * href that does not resolve, or lies elsewhere, is skipped.
 * Returns how many links were appended (0 or more); -EINVAL when page_url is not an http or
 * https URL; -ENOMEM (what was appended stays in out, the caller frees it). Frees everything
 * it allocated itself (the parsed document, the URL handles) on every path. */
int links_extract(const char *page_url, const char *html, size_t len, struct links *out);

#endif
