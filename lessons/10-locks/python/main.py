"""Lesson 10 in asyncio and aiohttp: N askers, all at once, each asking a cache for one url of
BASE/delay/D?key=K&; a share of them (--repeat PCT) ask for a url another asker asks for too:
    --mode global  one asyncio.Lock for the whole cache, held across each fetch
    --mode nolock  check, then fetch, no lock: every asker that comes while a url's fetch is
                   on its way sees it missing and fetches it again
    --mode mine    one asyncio.Lock a url, held across that url's fetch (cache.c's idea: a
                   url's failure is told to the askers waiting on it, and not kept)
--repeat PCT (default 75), --deadline MS (each asker's, default 10000). The same options and
row as the C program (../main.c), so the bench draws both on one chart. Run it with Debian's
python3:
    /usr/bin/python3 lessons/10-locks/python/main.py --url http://127.0.0.1:8080 --mode mine --n 16
"""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../harness/lesson"))
import pykit  # noqa: E402

ASKERS_MAX = 1024


class FetchFailed(Exception):
    """A fetch that brought no 2xx answer: the url's failure, not the asker's."""


class Cache:
    def __init__(self, session):
        self.session = session
        self.answers = {}          # url -> body: only 2xx answers are kept
        self.locks = {}            # url -> asyncio.Lock, while askers of url are inside
        self.users = {}            # url -> askers inside get_mine for it
        self.failed = {}           # url -> the failure the askers waiting on it are told
        self.everything = asyncio.Lock()

    async def fetch(self, url):
        status, body = await pykit.get(self.session, url)
        if not isinstance(status, int) or not 200 <= status <= 299:
            raise FetchFailed(f"{url}: {status}")
        return body

    async def get_nolock(self, url):
        if url not in self.answers:                  # checked before the await...
            self.answers[url] = await self.fetch(url)   # ...written after it
        return self.answers[url]

    async def get_global(self, url):
        async with self.everything:                  # right, and one fetch at a time
            if url not in self.answers:
                self.answers[url] = await self.fetch(url)
            return self.answers[url]

    async def get_mine(self, url):
        if url in self.answers:
            return self.answers[url]
        lock = self.locks.setdefault(url, asyncio.Lock())
        self.users[url] = self.users.get(url, 0) + 1
        try:
            async with lock:                         # held across the fetch, this url only
                if url in self.answers:              # look again: it may have come meanwhile
                    return self.answers[url]
                if url in self.failed:
                    raise self.failed[url]
                try:
                    self.answers[url] = await self.fetch(url)
                except FetchFailed as e:             # the url's failure: told to the waiters
                    self.failed[url] = e
                    raise
                return self.answers[url]             # a cancel or a timeout is the asker's own
        finally:
            self.users[url] -= 1
            if self.users[url] == 0:                 # the last asker out forgets the url's lock
                del self.users[url]
                del self.locks[url]
                self.failed.pop(url, None)


async def main():
    a = pykit.parse(["mine", "nolock", "global"], "mine", n=16, delay=100, max_n=ASKERS_MAX,
                    urls=False,
                    extra=[("repeat", 75, 0, 100, "the share of askers asking for a url another "
                            "asker asks for too, %"),
                           ("deadline", 10000, 1, 600000, "each asker's deadline, ms")])
    distinct = max(1, a.n - (a.n * a.repeat + 50) // 100)
    async with pykit.target(a) as t:
        urls = [f"{a.url}/delay/{a.delay}?key={k}&" for k in range(distinct)]
        cache = Cache(t.session)
        get = {"nolock": cache.get_nolock, "global": cache.get_global, "mine": cache.get_mine}[a.mode]
        loop = asyncio.get_running_loop()

        async def ask(url, until):
            async with asyncio.timeout_at(until):
                return await get(url)

        with pykit.Clock() as clock:
            until = loop.time() + a.deadline / 1000
            tasks = [asyncio.create_task(ask(urls[i % distinct], until)) for i in range(a.n)]
            results = await asyncio.gather(*tasks, return_exceptions=True)
        peak = await t.peak()
        s = await t.stats()
        requests = s.get("requests", pykit.UNKNOWN) if isinstance(s, dict) else pykit.UNKNOWN
    ok = failed = wrong = 0
    for i, r in enumerate(results):
        if isinstance(r, BaseException):
            failed += 1
        elif f"key={i % distinct}&".encode() in r:
            ok += 1
        else:
            wrong += 1
    open_ = (sum(not task.done() for task in tasks) + len(cache.locks) + len(cache.failed) +
             cache.everything.locked())
    theory = distinct * a.delay if a.mode == "global" else a.delay
    pykit.row(mode=a.mode, n=a.n, repeat=a.repeat, distinct=distinct, delay_ms=a.delay,
              wall_s=clock.wall, cpu_s=clock.cpu, server=t.server, peak=peak, requests=requests,
              ok=ok, failed=failed, wrong=wrong, open=open_,
              theory_s=pykit.seconds(theory / 1000))
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        print(f"{len(errors)} of {a.n} askers failed, the first: {errors[0]!r}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    pykit.run(main)
