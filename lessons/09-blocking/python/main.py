"""Lesson 09 in asyncio and aiohttp: a batch of N items, each one a GET of BASE/delay/D?tag=i,
a digest of its body (--work ms of CPU) and a write of that digest to a ledger whose library
only blocks (--write ms), the same three steps in three ways:
    --mode blocking       written plainly inside the coroutine (a blocking GET, the digest,
                          the blocking write): each step holds the loop
    --mode to_thread-all  the three steps handed to a pool of 4 threads whole (asyncio.to_thread)
    --mode mine           the GET with aiohttp, the write with asyncio.to_thread, the digest with
                          asyncio.to_thread under a semaphore of --k
Options beside --url, --mode, --n, --delay: --work MS (default 10), --write MS (default 10),
--k K (digests at once, default the cores). The same row as the C program (../main.c): the
loop's longest stall (a heartbeat asks to wake every 5 ms), library calls made on the loop's
thread (on_loop), digests and writes at once at most, items done (ok), tasks left (open).
The digest is hashlib's PBKDF2, which lets go of the GIL while it computes, so threads do
share the cores here. Run it with Debian's python3:
    /usr/bin/python3 lessons/09-blocking/python/main.py --url http://127.0.0.1:8080 --mode mine
"""

import asyncio
import concurrent.futures
import hashlib
import os
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../harness/lesson"))
import pykit  # noqa: E402

ITEMS_MAX = 256
POOL = 4                       # aio's pool has 4 threads; asyncio's default has more


class Library:
    """The blocking libraries, counting what they see: calls on the loop's thread, digests and
    writes at once at most."""

    def __init__(self, write_ms, rounds):
        self.write_ms, self.rounds = write_ms, rounds
        self.loop_thread = threading.get_ident()
        self.lock = threading.Lock()
        self.on_loop = 0
        self.now = {"digest": 0, "write": 0}
        self.peak = {"digest": 0, "write": 0}
        self.ledger = {}
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _enter(self, kind):
        with self.lock:
            self.on_loop += threading.get_ident() == self.loop_thread
            self.now[kind] += 1
            self.peak[kind] = max(self.peak[kind], self.now[kind])

    def _leave(self, kind):
        with self.lock:
            self.now[kind] -= 1

    def digest(self, body):
        self._enter("digest")
        try:
            return hashlib.pbkdf2_hmac("sha256", body, b"lesson 09", self.rounds).hex()
        finally:
            self._leave("digest")

    def write(self, key, value):
        self._enter("write")
        try:
            time.sleep(self.write_ms / 1000)          # the synchronous commit
            with self.lock:
                self.ledger[key] = value
        finally:
            self._leave("write")

    def get(self, url):
        with self.lock:
            self.on_loop += threading.get_ident() == self.loop_thread
        with self.opener.open(url) as reply:
            return reply.status, reply.read()


def rounds_for(ms):
    """PBKDF2 rounds that take about ms of CPU here (measured once, in thread CPU time)."""
    if ms <= 0:
        return 1
    rounds = 1000
    while True:
        t0 = time.thread_time()
        hashlib.pbkdf2_hmac("sha256", b"x" * 56, b"lesson 09", rounds)
        spent = time.thread_time() - t0
        if spent >= 0.02 or rounds >= 1 << 26:
            break
        rounds *= 2
    return max(1, int(rounds * (ms / 1000) / max(spent, 1e-9)))


def three_steps(lib, i, url):
    status, body = lib.get(url)
    d = lib.digest(body)
    lib.write(i, d)
    return status


async def item_blocking(lib, session, cpu, i, url):
    # async in name only: requests.get, the digest and the write all run on the loop's thread
    return three_steps(lib, i, url)


async def item_threaded(lib, session, cpu, i, url):
    return await asyncio.to_thread(three_steps, lib, i, url)


async def item_mine(lib, session, cpu, i, url):
    status, body = await pykit.get(session, url)      # the GET waits on the loop
    if body is None:
        return status
    async with cpu:                                   # more threads than cores win nothing
        d = await asyncio.to_thread(lib.digest, body)
    await asyncio.to_thread(lib.write, i, d)          # a library that only blocks
    return status


def theory_ms(mode, n, delay, work, write, k, cores):
    if mode == "blocking":
        return n * (delay + work + write)
    if mode == "to_thread-all":
        at_once = min(n, POOL)
        share = at_once / cores if at_once > cores else 1.0
        return (n + POOL - 1) // POOL * (delay + work * share + write)
    lanes = max(1, min(k, cores))
    return delay + (n + lanes - 1) // lanes * work + write


async def main():
    cores = os.cpu_count() or 1
    a = pykit.parse(["mine", "blocking", "to_thread-all"], "mine", n=16, delay=50,
                    max_n=ITEMS_MAX, urls=False,
                    extra=[("work", 10, 0, 10000, "a digest's CPU time, ms"),
                           ("write", 10, 0, 600000, "a ledger write's blocking time, ms"),
                           ("k", cores, 1, 64, "digests at once")])
    loop = asyncio.get_running_loop()
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(POOL))
    lib = Library(a.write, rounds_for(a.work))
    body = {"blocking": item_blocking, "to_thread-all": item_threaded, "mine": item_mine}[a.mode]
    cpu = asyncio.Semaphore(a.k)
    stall = 0.0
    stop = False

    async def heartbeat():
        nonlocal stall
        while not stop:
            t0 = time.monotonic()
            await asyncio.sleep(0.005)
            stall = max(stall, time.monotonic() - t0 - 0.005)

    async with pykit.target(a) as t:
        urls = t.urls(lambda i: f"/delay/{a.delay}?tag={i}")
        beat = asyncio.create_task(heartbeat())
        await asyncio.sleep(0)
        with pykit.Clock() as clock:
            await asyncio.gather(*(body(lib, t.session, cpu, i, u) for i, u in enumerate(urls)))
        stop = True
        await beat
        peak = await t.peak()
    left = [x for x in asyncio.all_tasks() if x is not asyncio.current_task()]
    ok = len(lib.ledger)          # items answered, digested and recorded
    pykit.row(mode=a.mode, n=a.n, delay_ms=a.delay, work_ms=a.work, write_ms=a.write, k=a.k,
              wall_s=clock.wall, cpu_s=clock.cpu, server=t.server, peak=peak,
              stall_ms=f"{stall * 1000:.1f}", on_loop=lib.on_loop, cpu_peak=lib.peak["digest"],
              write_peak=lib.peak["write"], ok=ok, open=len(left),
              theory_s=theory_ms(a.mode, a.n, a.delay, a.work, a.write, a.k, cores) / 1000)
    return 0


if __name__ == "__main__":
    pykit.run(main)
