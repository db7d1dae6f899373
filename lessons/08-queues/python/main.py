"""Lesson 08 in asyncio and aiohttp: N URLs (BASE/delay/D?tag=i) fetched by P producers and
processed by C consumers (each item takes --work ms), through a queue:
    --mode unbounded  asyncio.Queue() (no maxsize: a put never waits), a poison pill a consumer
    --mode bounded    asyncio.Queue(maxsize=Q), a poison pill a consumer
    --mode mine       a bounded queue written here (part one: FIFO waiters, each a future; a
                      close as Python 3.13's Queue.shutdown()), closed once the producers end
--producers P (default 4), --consumers C (default 2), --q Q (default 4), --work MS (default
20). The same options and row as the C program (../main.c), so the bench draws both on one
chart: `held` is the most items alive at once (fetched, not yet processed). Run it with
Debian's python3:
    /usr/bin/python3 lessons/08-queues/python/main.py --url http://127.0.0.1:8080 --mode mine
"""

import asyncio
import collections
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../harness/lesson"))
import pykit  # noqa: E402

N_MAX = 1024
PILL = object()


class Closed(Exception):
    """The queue is closed (and, for a get, empty): Python 3.13's QueueShutDown."""


class Queue:
    """Part one: a bounded FIFO queue. A put with a get waiting hands its item straight to the
    oldest get; a get that frees a slot takes the oldest waiting put's item in; so a woken
    waiter is served already and nobody overtakes it. Each waiter sleeps on a future."""

    def __init__(self, maxsize):
        self.items, self.maxsize, self.closed = collections.deque(), maxsize, False
        self.getters, self.putters = collections.deque(), collections.deque()

    async def put(self, item):
        if self.closed:
            raise Closed
        if self._hand(item):
            return
        if len(self.items) < self.maxsize:
            self.items.append(item)
            return
        w = asyncio.get_running_loop().create_future()
        self.putters.append((w, item))
        try:
            await w                          # a get took the item in (or the close came)
        except asyncio.CancelledError:
            if not (w.done() and not w.cancelled()):
                self.putters.remove((w, item))
            raise                            # served as it was cancelled: the item is in
        if not w.result():
            raise Closed

    def _hand(self, item):
        """Give item to the oldest waiting get, if there is one."""
        while self.getters:
            g = self.getters.popleft()
            if not g.done():
                g.set_result(item)
                return True
        return False

    async def get(self):
        if self.items:
            item = self.items.popleft()
            while self.putters:
                w, waiting = self.putters.popleft()
                if not w.done():
                    self.items.append(waiting)   # the slot goes to the oldest waiting put
                    w.set_result(True)
                    break
            return item
        if self.closed:
            raise Closed
        g = asyncio.get_running_loop().create_future()
        self.getters.append(g)
        try:
            item = await g
        except asyncio.CancelledError:
            if g.done() and not g.cancelled():
                item = g.result()                # handed an item as it was cancelled:
                if item is not PILL and not self._hand(item):
                    self.items.appendleft(item)  # to the next get, or back at the head
            else:
                self.getters.remove(g)
            raise
        if item is PILL:                         # the close's wake-up
            raise Closed
        return item

    def close(self):
        self.closed = True
        for g in self.getters:
            if not g.done():
                g.set_result(PILL)
        for w, _ in self.putters:
            if not w.done():
                w.set_result(False)
        self.getters.clear()
        self.putters.clear()


class Books:
    def __init__(self):
        self.alive = self.held = self.processed = self.failed = 0


async def pipeline(session, urls, a, queue, pills):
    books, todo = Books(), iter(range(len(urls)))

    async def producer():
        for i in todo:                           # each index to one producer
            books.alive += 1
            books.held = max(books.held, books.alive)
            status, _ = await pykit.get(session, urls[i])
            await queue.put((i, status))

    async def consumer():
        while True:
            try:
                item = await queue.get()
            except Closed:
                return
            if item is PILL:
                return
            await asyncio.sleep(a.work / 1000)   # the work on one item
            books.processed += 1
            books.failed += item[1] != 200
            books.alive -= 1

    consumers = [asyncio.create_task(consumer()) for _ in range(a.consumers)]
    await asyncio.gather(*(producer() for _ in range(a.producers)))
    if pills:
        for _ in consumers:
            await queue.put(PILL)                # one pill a consumer, behind every item
    else:
        queue.close()
    await asyncio.gather(*consumers)
    return books


async def main():
    a = pykit.parse(["mine", "unbounded", "bounded"], "mine", n=32, delay=20, max_n=N_MAX,
                    urls=False,
                    extra=[("producers", 4, 1, 64, "tasks that fetch"),
                           ("consumers", 2, 1, 64, "tasks that process"),
                           ("q", 4, 1, 4096, "the queue's slots"),
                           ("work", 20, 0, 600000, "a consumer's work on each item, in ms")])
    async with pykit.target(a) as t:
        urls = t.urls(lambda i: f"/delay/{a.delay}?tag={i}")
        if a.mode == "unbounded":
            queue, pills = asyncio.Queue(), True
        elif a.mode == "bounded":
            queue, pills = asyncio.Queue(maxsize=a.q), True
        else:
            queue, pills = Queue(a.q), False
        with pykit.Clock() as clock:
            books = await pipeline(t.session, urls, a, queue, pills)
        peak = await t.peak()
        stats = await t.stats()
    fetch = -(-a.n // a.producers) * a.delay + a.work
    drain = a.delay + -(-a.n // a.consumers) * a.work
    pykit.row(mode=a.mode, n=a.n, delay_ms=a.delay, work_ms=a.work, producers=a.producers,
              consumers=a.consumers, q=a.q, wall_s=clock.wall, cpu_s=clock.cpu, server=t.server,
              peak=peak, sent=stats.get("requests", pykit.UNKNOWN) if stats else pykit.UNKNOWN,
              processed=books.processed, failed=books.failed, held=books.held,
              theory_s=pykit.seconds(max(fetch, drain) / 1000))
    return 0


if __name__ == "__main__":
    pykit.run(main)
