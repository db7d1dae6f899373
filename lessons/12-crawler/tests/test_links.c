/* Lesson 12 tests, part one: link_resolve and links_extract. Pages written here (every form
 * of link a real page has, broken markup, links that must be left alone) and delayd's own
 * mixed pages, whose links the test knows from the page graph's rule (content.c). The HTML
 * is handed over in a buffer of exactly its length, with no NUL after it. */
#include "counted.h"
#include "links.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kit_test.h"
#include "../../../harness/delayd/content.h"

static const char *base;

static void setup(void)
{
    base = kit_server_start((const char *const[]){ "--pages", "33", NULL });
}

static void teardown(void)
{
    kit_cleanup();
    kit_server_stop();
}

TestSuite(links, .init = setup, .fini = teardown, .timeout = 30);

static void free_links(void *l)
{
    links_free(l);
}

/* html in a buffer of exactly its length, no NUL behind it. */
static const char *exact(const char *html)
{
    size_t len = strlen(html);
    char *b = kit_alloc(len > 0 ? len : 1);
    memcpy(b, html, len);
    return b;
}

/* link_resolve(b, href) must give want (NULL: -EINVAL with *out untouched). */
static void expect_resolve(const char *b, const char *href, const char *want)
{
    char sentinel = 0, *out = &sentinel;
    int rc = link_resolve(b, href, &out);

    kit_expect_done(rc, "link_resolve", "links.c");
    if (want == NULL) {
        cr_assert(rc == -EINVAL && out == &sentinel, "[resolve-refuse] link_resolve(\"%s\", "
                  "\"%s\") returned %s%s; expected -EINVAL with *out untouched: only http and "
                  "https links can be fetched.", b ? b : "NULL", href, kit_errname(rc),
                  out != &sentinel ? " and set *out" : "");
        return;
    }
    cr_assert(rc == 0 && out != &sentinel && out != NULL, "[resolve-rc] link_resolve(\"%s\", "
              "\"%s\") returned %s; expected 0 and %s.", b ? b : "NULL", href,
              kit_errname(rc), want);
    int same = strcmp(out, want) == 0;
    char seen[512];
    snprintf(seen, sizeof seen, "%s", out);
    curl_free(out);
    cr_assert(same, "[resolve] link_resolve(\"%s\", \"%s\") gave \"%s\"; expected \"%s\" (the "
              "href resolved against the base as a browser does, in curl's spelling, without "
              "its fragment). Did you let libcurl's URL API do the resolving?",
              b ? b : "NULL", href, seen, want);
}

Test(links, resolve_every_form)
{
    const char *b = "http://127.0.0.1:8080/page/0?delay_ms=5";
    const char *p3 = "http://127.0.0.1:8080/page/3";

    expect_resolve(b, "3", p3);
    expect_resolve(b, "./3", p3);
    expect_resolve(b, "../page/3", p3);
    expect_resolve(b, "/page/3", p3);
    expect_resolve(b, "/page/3#top", p3);
    expect_resolve(b, "/a/b/../../page/./3", p3);
    expect_resolve(b, "http://127.0.0.1:8080/page/3#s1", p3);
    expect_resolve(b, "HTTP://127.0.0.1:8080/page/3", p3);
    expect_resolve(b, "//127.0.0.1:8080/page/3", p3);
    expect_resolve(b, "3?style=mixed&x=1#f", "http://127.0.0.1:8080/page/3?style=mixed&x=1");
    expect_resolve(b, "?q=2", "http://127.0.0.1:8080/page/0?q=2");
    expect_resolve(b, "https://example.com/x", "https://example.com/x");
    expect_resolve(NULL, "http://127.0.0.1:8080/page/7#x", "http://127.0.0.1:8080/page/7");
    expect_resolve(b, "mailto:pages@example.com", NULL);
    expect_resolve(b, "javascript:void(0)", NULL);
    expect_resolve(b, "ftp://127.0.0.1/page/3", NULL);
    expect_resolve(NULL, "/page/3", NULL);
    kit_expect_no_leaks("link_resolve");
}

/* links_extract(page, html) must give want[0..n) in that order. */
static void expect_links_case(const char *page, const char *html, const char *const *want,
                              int n, int nocase)
{
    struct links *l = kit_alloc(sizeof *l);
    kit_defer(free_links, l);
    int rc = links_extract(page, exact(html), strlen(html), l);

    kit_expect_done(rc, "links_extract", "links.c");
    cr_assert(rc >= 0, "[extract-rc] links_extract returned %s on a page with %d %s; expected "
              "%d.", kit_errname(rc), n, kit_plural(n, "link", "links"), n);
    for (size_t i = 0; i < l->n && i < (size_t)n; i++)
        cr_assert((nocase ? strcasecmp : strcmp)(l->url[i], want[i]) == 0,
                  "[extract] link %zu of the page was \"%s\"; expected \"%s\" (links in "
                  "document order, each resolved against the page's URL, without fragment). "
                  "The page:\n%s", i, l->url[i], want[i], html);
    cr_assert(l->n == (size_t)n && rc == n, "[extract-count] links_extract found %zu %s and "
              "returned %d; the page has %d on its origin (every <a href>, whatever its case or "
              "quotes, none in a comment, none elsewhere: another host, port or scheme, "
              "mailto:, javascript:). The page:\n%s", l->n, kit_plural((long)l->n, "link",
              "links"), rc, n, html);
}

static void expect_links(const char *page, const char *html, const char *const *want, int n)
{
    expect_links_case(page, html, want, n, 0);
}

Test(links, every_form_of_link)
{
    const char *page = "http://127.0.0.1:8080/dir/page?x=1";
    const char *html =
        "<!DOCTYPE html><html><head><title>t</title>"
        "<link rel=stylesheet href=\"/style.css\"></head><body>\n"
        "<p>Text that says href=\"/text\" and <a href=\"/one\">one</a>.</p>\n"
        "<A HREF='two'>two</A> <a class=x href=./three>three</a>\n"
        "<!-- <a href=\"/commented\">old</a> -->\n"
        "<table><tr><td><a title=\"y\" href=\"../four#frag\">four</a></td></tr></table>\n"
        "<a href=\"http://127.0.0.1:8080/five?a=1&amp;b=2\">five</a>\n"
        "<a href=\"HTTP://127.0.0.1:8080/six\">six</a>\n"
        "<a href=\"http://localhost:8080/other-host\">no</a>\n"
        "<a href=\"http://127.0.0.1:8081/other-port\">no</a>\n"
        "<a href=\"https://127.0.0.1:8080/other-scheme\">no</a>\n"
        "<a href=\"mailto:me@example.com\">no</a> <a href=\"javascript:go()\">no</a>\n"
        "<a name=\"anchor\">no href</a> <area href=\"/area\">\n"
        "<div><ul><li><a href=\"/one\">one again</a><li><a href=\"?x=1#top\">top</a></ul>\n"
        "<a href=/seven?q=%41>seven</a>\n"
        "</body></html>";
    const char *want[] = {
        "http://127.0.0.1:8080/one",       "http://127.0.0.1:8080/dir/two",
        "http://127.0.0.1:8080/dir/three", "http://127.0.0.1:8080/four",
        "http://127.0.0.1:8080/five?a=1&b=2", "http://127.0.0.1:8080/six",
        "http://127.0.0.1:8080/one",       "http://127.0.0.1:8080/dir/page?x=1",
        "http://127.0.0.1:8080/seven?q=%41",
    };
    expect_links(page, html, want, (int)(sizeof want / sizeof *want));
    kit_expect_no_leaks("links_extract");
}

Test(links, default_port_and_host_case)
{
    const char *want[] = { "http://127.0.0.1/a", "http://127.0.0.1:80/b", "http://127.0.0.1/c" };
    expect_links("http://127.0.0.1/x",
                 "<a href=/a>a</a><a href=\"http://127.0.0.1:80/b\">b</a>"
                 "<a href=\"http://127.0.0.1:81/no\">no</a><a href=c>c</a>",
                 want, 3);
    /* curl keeps a host's letter case as written; the origin ignores it. */
    const char *want2[] = { "http://localhost:8080/a", "http://localhost:8080/b" };
    expect_links_case("http://LocalHost:8080/", "<a href=\"http://LOCALHOST:8080/a\">a</a>"
                 "<a href=b>b</a><a href=\"http://127.0.0.1:8080/c\">c</a>", want2, 2, 1);
    /* The first and last letters of the alphabet, in both cases: a range check one short at
     * either end keeps a capital A or Z, and the same host looks like another. */
    const char *want3[] = { "http://az.example:8080/a", "http://az.example:8080/b" };
    expect_links_case("http://aZ.Example:8080/", "<a href=\"http://Az.EXAMPLE:8080/a\">a</a>"
                 "<a href=b>b</a><a href=\"http://ay.example:8080/c\">c</a>", want3, 2, 1);
    kit_expect_no_leaks("links_extract");
}

Test(links, broken_markup_and_empty_pages)
{
    const char *want[] = { "http://127.0.0.1:9/a", "http://127.0.0.1:9/b" };
    expect_links("http://127.0.0.1:9/", "<html><body><div><a href=a>a<p><a href='b'>b<table>"
                 "</table>", want, 2);
    expect_links("http://127.0.0.1:9/", "", NULL, 0);
    expect_links("http://127.0.0.1:9/", "no markup at all", NULL, 0);
    expect_links("http://127.0.0.1:9/", "\x01\xff\xfe<a\x00 href=x>", NULL, 0);
    expect_links("http://127.0.0.1:9/", "<a href=\"\">self</a>", (const char *[]){
                 "http://127.0.0.1:9/" }, 1);
    struct links l = { 0 };
    int rc = links_extract("mailto:x@example.com", exact("<a href=/a>a</a>"), 15, &l);
    kit_expect_done(rc, "links_extract", "links.c");
    cr_assert(rc == -EINVAL && l.n == 0, "[extract-bad-page] links_extract with the page URL "
              "\"mailto:x@example.com\" returned %s with %zu links; expected -EINVAL and "
              "none.", kit_errname(rc), l.n);
    links_free(&l);
    kit_expect_no_leaks("links_extract");
}

/* delayd's mixed page id: its links, from the graph's rule, in order, then the first again. */
Test(links, delayd_mixed_pages)
{
    for (long id = 0; id < 33; id += 4) {
        char *page = kit_sprintf("%s/page/%ld?delay_ms=0&style=mixed", base, id);
        char *body = NULL;
        long status = 0;
        size_t len = 0;
        cr_assert(kit_get(page, &status, &body, &len) == 0 && status == 200,
                  "[server] GET %s failed", page);
        char *html = kit_alloc(len);
        memcpy(html, body, len);
        free(body);
        long want[PAGE_LINKS_MAX];
        int n = page_links(id, 33, want);
        const char *w[PAGE_LINKS_MAX + 1];
        for (int i = 0; i < n; i++)
            w[i] = kit_sprintf("%s/page/%ld?delay_ms=0&style=mixed", base, want[i]);
        w[n] = w[0];
        struct links *l = kit_alloc(sizeof *l);
        kit_defer(free_links, l);
        int rc = links_extract(page, html, len, l);
        kit_expect_done(rc, "links_extract", "links.c");
        for (size_t i = 0; i < l->n && i < (size_t)n + 1; i++)
            cr_assert_str_eq(l->url[i], w[i], "[extract-delayd] link %zu of %s was \"%s\"; "
                             "expected \"%s\". The page:\n%.*s", i, page, l->url[i], w[i],
                             (int)len, html);
        cr_assert(rc == n + 1 && l->n == (size_t)n + 1, "[extract-delayd] %s gave %zu links "
                  "(returned %d); it has %d on its origin, the first one twice. The page:\n%.*s",
                  page, l->n, rc, n + 1, (int)len, html);
    }
    kit_expect_no_leaks("links_extract");
}

Test(links, out_of_memory)
{
    char sentinel = 0, *out = &sentinel;

    counted_reset();
    watching = 1;
    curl_url_fail_at = 1;
    int rc = link_resolve("http://127.0.0.1:9/page/0", "3", &out);
    watching = 0;
    kit_expect_done(rc, "link_resolve", "links.c");
    cr_assert(rc == -ENOMEM && out == &sentinel, "[resolve-enomem] link_resolve returned %s "
              "when libcurl could not make its URL handle (curl_url() gave NULL); expected "
              "-ENOMEM with *out untouched.", kit_errname(rc));
    struct links *l = kit_alloc(sizeof *l);
    kit_defer(free_links, l);
    const char *html = "<a href=/a>a</a> <a href=/b>b</a> <a href=/c>c</a>";
    counted_reset();
    watching = 1;
    links_push_fail_at = 2;
    rc = links_extract("http://127.0.0.1:9/", exact(html), strlen(html), l);
    watching = 0;
    kit_expect_done(rc, "links_extract", "links.c");
    cr_assert(rc == -ENOMEM && l->n == 1, "[extract-enomem] links_extract returned %s with %zu "
              "%s in the list when the second links_push failed with -ENOMEM; expected "
              "-ENOMEM, the first link kept for the caller to free.", kit_errname(rc), l->n,
              kit_plural((long)l->n, "link", "links"));
    kit_expect_no_leaks("links_extract");
}
