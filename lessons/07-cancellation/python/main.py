"""Lesson 07 in asyncio and aiohttp: one answer asked of N mirrors, the first share of them slow
(BASE/delay/SLOW_MS), the others BASE/delay/D:
    --mode none      only the first mirror, no hedge
    --mode wait-all  a new mirror asked every --hedge ms until one answers well, and every
                     mirror asked still awaited to its end (nobody is cancelled)
    --mode mine      the same hedge, and the losers cancelled and awaited (their clean-up done)
Options beside --url, --mode, --n, --delay: --slow PCT (0..100, default 50), the share of slow
mirrors, first in line; --slow-ms MS (default 1000); --hedge MS (default 50); --k K, the pool's
permits (default N); --deadline MS (default 10000). Each job takes a permit, then opens a
connection of its own (a ClientSession), and gives both back however it ends. The row has the
server's peak in flight and requests (sent), the winner's index (a negative errno when none
answered in time), the jobs answered, failed and cancelled, and what was still held after the
call (open: tasks not ended, timers armed, sessions open, jobs in flight, permits not given
back). The same row as the C program (../main.c), so the bench draws both on one chart. Run it
with Debian's python3:
    /usr/bin/python3 lessons/07-cancellation/python/main.py --url http://127.0.0.1:8080 --mode mine
"""

import asyncio
import errno
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../harness/lesson"))
import pykit  # noqa: E402

JOBS_MAX = 64        # the C program's POOL_JOBS_MAX


class Pool:
    """What the jobs share: permits, and the books."""

    def __init__(self, k):
        self.k = k
        self.permits = asyncio.Semaphore(k)
        self.in_flight = self.sessions = 0
        self.answered = self.failed = self.cancelled = 0


async def job(pool, url):
    """One GET on a connection of its own: (status, body). Whatever it took it gives back on
    every way out; a cancellation is counted as one, and passed on."""
    import aiohttp

    try:
        async with pool.permits:
            pool.in_flight += 1
            pool.sessions += 1
            try:
                async with aiohttp.ClientSession() as own:
                    async with own.get(url) as reply:
                        answer = reply.status, await reply.read()
            finally:
                pool.sessions -= 1
                pool.in_flight -= 1
    except asyncio.CancelledError:
        pool.cancelled += 1
        raise
    except pykit.aiohttp_errors():
        pool.failed += 1
        raise
    pool.answered += 1
    return answer


def good(task):
    """A finished job with an answer of 200 to 299."""
    return task.done() and not task.cancelled() and task.exception() is None \
        and 200 <= task.result()[0] < 300


async def hedged(pool, urls, hedge, deadline, cancel_losers):
    """Ask urls[0]; every hedge seconds with no good answer yet, ask the next one as well. The
    first good answer wins: its index. At the deadline, -ETIMEDOUT. Then the jobs still running
    are cancelled (cancel_losers) or left to end by themselves, and awaited either way."""
    loop = asyncio.get_running_loop()
    tasks, winner = [], -errno.ETIMEDOUT
    try:
        while winner < 0 and loop.time() < deadline:
            if len(tasks) < len(urls):
                tasks.append(asyncio.create_task(job(pool, urls[len(tasks)])))
                wait = min(hedge, deadline - loop.time())
            else:
                wait = deadline - loop.time()
            running = [t for t in tasks if not t.done()]
            if running:
                await asyncio.wait(running, timeout=max(0.0, wait), return_when=asyncio.FIRST_COMPLETED)
            elif len(tasks) == len(urls):
                break                      # every mirror has answered, none well
            winner = next((i for i, t in enumerate(tasks) if good(t)), winner)
    finally:
        if cancel_losers:
            for t in tasks:
                t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if winner < 0 and len(tasks) == len(urls) and all(t.done() for t in tasks) and loop.time() < deadline:
        winner = -errno.EIO                # every mirror answered, none of them well
    return winner


async def first_only(pool, url, deadline):
    """Mode none: the first mirror alone, to its end or the deadline."""
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(job(pool, url))
    try:
        await asyncio.wait_for(asyncio.shield(task), max(0.0, deadline - loop.time()))
    except TimeoutError:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return -errno.ETIMEDOUT
    return 0 if good(task) else -errno.EIO


def still_open(pool):
    """Tasks not ended (this one aside), timers armed on the loop (its heap, _scheduled: CPython
    keeps no public count), sessions open, jobs in flight and permits not given back."""
    loop = asyncio.get_running_loop()
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    timers = [h for h in getattr(loop, "_scheduled", []) if not h.cancelled()]
    missing = pool.k - pool.permits._value        # noqa: SLF001 - no public count either
    return len(tasks) + len(timers) + pool.sessions + pool.in_flight + missing


def theory_ms(mode, n, slow, slow_ms, delay, hedge):
    """When the call returns, as the C program's theory_ms: the winner's answer, and for
    wait-all the slowest mirror it asked before that answer came."""
    if mode == "none":
        return slow_ms if slow > 0 else delay
    win = slow_ms if slow >= n else slow * hedge + delay
    if mode == "mine":
        return win
    asked = min(win // hedge + 1 if hedge > 0 else n, n)
    slow_asked = min(slow, asked)
    return max((slow_asked - 1) * hedge + slow_ms if slow_asked > 0 else 0,
               (asked - 1) * hedge + delay if asked > slow else 0)


async def main():
    a = pykit.parse(["mine", "none", "wait-all"], "mine", n=8, delay=100, max_n=JOBS_MAX, urls=False,
                    extra=[("slow", 50, 0, 100, "the share of slow mirrors, first in line, %"),
                           ("slow-ms", 1000, 0, 600000, "a slow mirror's time, ms"),
                           ("hedge", 50, 0, 600000, "the delay before asking the next mirror, ms"),
                           ("k", 0, 0, JOBS_MAX, "the pool's permits (0: N)"),
                           ("deadline", 10000, 1, 600000, "the call's deadline, ms")])
    slow = (a.n * a.slow + 50) // 100
    pool = Pool(a.k or a.n)
    async with pykit.target(a) as t:
        urls = t.urls(lambda i: f"/delay/{a.slow_ms if i < slow else a.delay}?tag={i}")
        with pykit.Clock() as clock:
            deadline = asyncio.get_running_loop().time() + a.deadline / 1000
            if a.mode == "none":
                winner = await first_only(pool, urls[0], deadline)
            else:
                winner = await hedged(pool, urls, a.hedge / 1000, deadline, a.mode == "mine")
        stats = await t.stats()
    left = still_open(pool)
    peak = stats.get("peak", pykit.UNKNOWN) if isinstance(stats, dict) else pykit.UNKNOWN
    sent = stats.get("requests", pykit.UNKNOWN) if isinstance(stats, dict) else pykit.UNKNOWN
    pykit.row(mode=a.mode, n=a.n, slow=slow, slow_ms=a.slow_ms, delay_ms=a.delay, hedge_ms=a.hedge,
              wall_s=clock.wall, cpu_s=clock.cpu, server=t.server, peak=peak, sent=sent,
              winner=winner, answered=pool.answered, failed=pool.failed, cancelled=pool.cancelled,
              open=left, theory_s=theory_ms(a.mode, a.n, slow, a.slow_ms, a.delay, a.hedge) / 1000)
    if left > 0:
        print(f"after the call: {left} tasks, timers, sessions, jobs or permits still held", file=sys.stderr)
    return 0


if __name__ == "__main__":
    pykit.run(main)
