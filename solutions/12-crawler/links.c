/* Lesson 12, part one (solution): links through libxml2's HTML parser, each href resolved by
 * libcurl's URL API, kept when it lies on the page's own origin. */
#include "links.h"

#include <curl/curl.h>
#include <errno.h>
#include <libxml/HTMLparser.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int link_resolve(const char *base, const char *href, char **out)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *url = NULL;
    int rc = -EINVAL;

    if (u == NULL)
        return -ENOMEM;
    /* With the base in the handle, setting href resolves it as a browser would. */
    if ((base == NULL || curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK) &&
        curl_url_set(u, CURLUPART_URL, href, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
        curl_url_get(u, CURLUPART_URL, &url, 0) == CURLUE_OK) {
        *out = url;
        rc = 0;
    }
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

/* "scheme://host:port" of an absolute URL, the host in lower case and the port always
 * written; malloc'd, or NULL. */
static char *origin_of(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *o = NULL;

    if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
        asprintf(&o, "%s://%s:%s", scheme, host, port) < 0)
        o = NULL;
    for (char *p = o; p != NULL && *p != '\0'; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return o;
}

int links_extract(const char *page_url, const char *html, size_t len, struct links *out)
{
    char *origin = NULL, *self = NULL;
    int kept = 0;

    if (page_url == NULL || link_resolve(NULL, page_url, &self) < 0)
        return -EINVAL;
    origin = origin_of(self);
    curl_free(self);
    if (origin == NULL)
        return -ENOMEM;
    htmlDocPtr doc = len == 0 || len > INT_MAX ? NULL
                     : htmlReadMemory(html, (int)len, page_url, NULL,
                                      HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                          HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    /* The tree in document order, without recursion: down first, else next, else up. */
    xmlNode *n = doc != NULL ? doc->children : NULL;
    while (n != NULL && kept >= 0) {
        if (n->type == XML_ELEMENT_NODE && strcasecmp((const char *)n->name, "a") == 0) {
            xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");
            char *url = NULL, *o = NULL;
            if (href != NULL && link_resolve(page_url, (const char *)href, &url) == 0 &&
                (o = origin_of(url)) != NULL && strcmp(o, origin) == 0)
                kept = links_push(out, url) < 0 ? -ENOMEM : kept + 1;
            free(o);
            curl_free(url);
            xmlFree(href);
        }
        if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
            n = n->children;
            continue;
        }
        while (n != NULL && n->next == NULL)
            n = n->parent != (xmlNode *)doc ? n->parent : NULL;
        if (n != NULL)
            n = n->next;
    }
    xmlFreeDoc(doc);
    free(origin);
    return kept;
}
