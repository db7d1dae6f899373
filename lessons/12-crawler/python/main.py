"""Lesson 12 in asyncio and aiohttp: a crawl of the kit's delayd from
BASE/page/0?delay_ms=D&style=mixed (every page answers after D ms and writes its links in many
forms), or from BASE itself on another server:
    --mode seq   one fetch at a time, a plain loop over the queue
    --mode mine  K worker tasks over an asyncio.Queue that grows while it is consumed; the
                 crawl is over at queue.join(): nothing queued and nothing in flight
--n is the page budget (default 100); --k K workers (default 8), --depth D (links followed
from pages of depth < D, default 100), --deadline MS (0: none). Links come from the standard
library's html.parser and are resolved with urllib.parse. The same options and row as the C
program (../main.c). Run it with Debian's python3:
    /usr/bin/python3 lessons/12-crawler/python/main.py --url http://127.0.0.1:8080 --mode mine
"""

import asyncio
import os
import sys
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../harness/lesson"))
import pykit  # noqa: E402

PAGES_MAX = 100000


class Anchors(HTMLParser):
    """The href of every <a>, in document order (the parser lowercases names, handles every
    kind of quoting and skips comments)."""

    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v is not None]


def origin(url):
    u = urlsplit(url)
    return u.scheme, (u.hostname or "").lower(), u.port or {"http": 80, "https": 443}.get(u.scheme)


def resolve(base, href):
    """urljoin without the fragment, http(s) only, or None."""
    try:
        url = urldefrag(urljoin(base, href.strip())).url
    except ValueError:
        return None
    return url if urlsplit(url).scheme in ("http", "https") else None


def links(page_url, html):
    p = Anchors()
    p.feed(html.decode("utf-8", "replace"))
    here, out = origin(page_url), []
    for href in p.hrefs:
        url = resolve(page_url, href)
        if url is not None and origin(url) == here:
            out.append(url)
    return out


class Crawl:
    def __init__(self, a):
        self.a, self.pages, self.seen = a, [], set()   # pages: [url, depth, status] in order
        self.in_flight = self.k_peak = self.fetched = 0

    def add(self, url, depth):
        """Queue url unless seen or over budget; the check and the record in one step."""
        if url in self.seen or len(self.pages) >= self.a.n:
            return None
        self.seen.add(url)
        self.pages.append([url, depth, None])
        return len(self.pages) - 1

    async def fetch(self, session, i):
        url, depth, _ = self.pages[i]
        self.in_flight += 1
        self.k_peak = max(self.k_peak, self.in_flight)
        try:
            status, body = await pykit.get(session, url)
        finally:
            self.in_flight -= 1
        self.pages[i][2] = status
        self.fetched += 1
        if status == 200 and depth < self.a.depth:
            return [j for j in (self.add(link, depth + 1) for link in links(url, body)) if j is not None]
        return []


async def crawl_seq(session, c, start):
    i = 0
    while i < len(c.pages):
        await c.fetch(session, i)
        i += 1


async def crawl_mine(session, c, start):
    queue = asyncio.Queue()
    queue.put_nowait(0)

    async def worker():
        while True:
            i = await queue.get()
            try:
                for j in await c.fetch(session, i):
                    queue.put_nowait(j)            # wakes one waiting worker for each page
            finally:
                queue.task_done()

    workers = [asyncio.create_task(worker()) for _ in range(c.a.k)]
    try:
        await queue.join()                         # nothing queued, nothing in flight
    finally:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


async def main():
    a = pykit.parse(["mine", "seq"], "mine", n=100, delay=20, max_n=PAGES_MAX, urls=False,
                    extra=[("k", 8, 1, 64, "workers"),
                           ("depth", 100, 0, 1000000, "links followed from pages of depth < D"),
                           ("deadline", 0, 0, 3600000, "stop after this many ms (0: none)")])
    if a.mode == "seq":
        a.k = 1
    async with pykit.target(a) as t:
        start = f"{a.url}/page/0?delay_ms={a.delay}&style=mixed" if t.delayd else a.url
        c = Crawl(a)
        c.add(resolve(start, start), 0)
        run = crawl_seq if a.mode == "seq" else crawl_mine
        with pykit.Clock() as clock:
            try:
                await asyncio.wait_for(run(t.session, c, start), a.deadline / 1000 if a.deadline else None)
            except asyncio.TimeoutError:
                print(f"the deadline of {a.deadline} ms stopped the crawl: {c.fetched} of "
                      f"{len(c.pages)} pages fetched", file=sys.stderr)
        stats = await t.stats()
    peak = stats.get("peak", pykit.UNKNOWN) if stats else pykit.UNKNOWN
    sent = stats.get("by_endpoint", {}).get("page", pykit.UNKNOWN) if stats else pykit.UNKNOWN
    levels = max((p[1] for p in c.pages), default=-1) + 1
    rounds = -(-len(c.pages) // a.k)
    pykit.row(mode=a.mode, n=a.n, k=a.k, depth=a.depth, delay_ms=a.delay, deadline_ms=a.deadline,
              wall_s=clock.wall, cpu_s=clock.cpu, server=t.server, peak=peak, sent=sent,
              pages=len(c.pages), fetched=c.fetched, k_peak=c.k_peak, levels=levels,
              theory_s=pykit.seconds(max(levels, rounds) * a.delay / 1000))
    return 0


if __name__ == "__main__":
    pykit.run(main)
