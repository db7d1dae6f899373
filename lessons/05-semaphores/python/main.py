"""Lesson 05 in asyncio and aiohttp: N fetches of BASE/limited?delay_ms=D&tag=i (the kit's
delayd answers 429 above its --limit in flight), at most K in flight:
    --mode unbounded  all N at once with asyncio.gather: the ban
    --mode sem        each fetch inside `async with asyncio.Semaphore(K)`
    --mode mine       the same with a semaphore written here (part two: FIFO waiters, each a
                      future: park is `await`, unpark is set_result)
    --mode curl       all N handed to aiohttp at once, capped by aiohttp itself at K
                      connections (TCPConnector(limit=K)), as libcurl's cap is in C
--k K (default 5) is the cap; --urls FILE fetches those URLs instead. The same options and row
as the C program (../main.c), so the bench draws both on one chart. Run it with Debian's python3:
    /usr/bin/python3 lessons/05-semaphores/python/main.py --url http://127.0.0.1:8080 --mode sem --k 5
"""

import asyncio
import collections
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../harness/lesson"))
import pykit  # noqa: E402

FETCH_MAX = 256
BATCH_SLACK_S = 10   # the batch's deadline: its theory time plus this


async def unbounded(session, urls):
    return await asyncio.gather(*(pykit.get(session, u) for u in urls))


async def capped(session, urls, sem):
    # ONE semaphore for the whole batch: a fetch holds a permit from before it is sent until
    # its answer is read, so at most K are ever in flight.
    async def one(url):
        async with sem:
            return await pykit.get(session, url)

    return await asyncio.gather(*(one(u) for u in urls))


class Sema:
    """Part two: a counting semaphore. Permits go to waiters in the order they began to wait,
    and a newcomer never takes one ahead of them; a waiter sleeps on a future of its own."""

    def __init__(self, permits):
        self.permits, self.waiters = permits, collections.deque()

    async def acquire(self):
        if self.permits > 0 and not self.waiters:
            self.permits -= 1
            return
        w = asyncio.get_running_loop().create_future()
        self.waiters.append(w)
        try:
            await w                          # release() hands its permit over with set_result
        except asyncio.CancelledError:
            if w.done() and not w.cancelled():
                self.release()               # handed a permit as it was cancelled: pass it on
            else:
                self.waiters.remove(w)
            raise

    def release(self):
        while self.waiters:
            w = self.waiters.popleft()
            if not w.done():
                w.set_result(None)           # the oldest waiter gets the permit: no count change
                return
        self.permits += 1

    async def __aenter__(self):
        await self.acquire()

    async def __aexit__(self, *exc):
        self.release()


async def main():
    a = pykit.parse(["sem", "unbounded", "mine", "curl"], "sem", n=13, delay=100, max_n=FETCH_MAX,
                    extra=[("k", 5, 1, 1000, "the cap in flight")])
    rounds = -(-a.n // a.k)
    async with pykit.target(a, limit=a.k if a.mode == "curl" else 0) as t:
        urls = t.urls(lambda i: f"/limited?delay_ms={a.delay}&tag={i}")
        with pykit.Clock() as clock:
            try:
                async with asyncio.timeout(rounds * a.delay / 1000 + BATCH_SLACK_S):
                    if a.mode in ("unbounded", "curl"):     # curl: aiohttp holds the cap
                        results = await unbounded(t.session, urls)
                    else:
                        sem = asyncio.Semaphore(a.k) if a.mode == "sem" else Sema(a.k)
                        results = await capped(t.session, urls, sem)
            except TimeoutError:
                results = [("TimeoutError", None)] * a.n
        peak = await t.peak()
        s429 = await t.status_count(429)
    ok = sum(status == 200 for status, _ in results)
    got429 = sum(status == 429 for status, _ in results)
    pykit.row(mode=a.mode, n=a.n, k=a.k, delay_ms=a.delay, wall_s=clock.wall, cpu_s=clock.cpu,
              server=t.server, peak=peak, s429=s429, ok=ok,
              theory_s=pykit.seconds((1 if a.mode == "unbounded" else rounds) * a.delay / 1000,
                                     a.url_list is None))
    if got429 > 0:
        print(f"{got429} of {a.n} fetches were refused with 429 Too Many Requests", file=sys.stderr)
    failed = [(u, status) for u, (status, _) in zip(urls, results) if status not in (200, 429)]
    if failed:
        print(f"fetch {failed[0][0]} failed: {failed[0][1]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    pykit.run(main)
