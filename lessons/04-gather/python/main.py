"""Lesson 04 in asyncio and aiohttp: N mirrors of one answer (mirror i is BASE/delay/D_i?tag=i,
D_i between D and 2D ms, the same fixed draw as the C program's), asked all at once:
    --mode all    asyncio.gather(..., return_exceptions=True): wait for every mirror
    --mode first  asyncio.wait(..., return_when=FIRST_COMPLETED): the first useful answer, the
                  rest cancelled, and awaited until they have ended
    --mode mine   the same on a done queue written here (part two: what as_completed() does
                  inside, a future in place of aio_park and aio_unpark)
The same options and row as the C program (../main.c), so the bench draws both on one chart.
Run it with Debian's python3:
    /usr/bin/python3 lessons/04-gather/python/main.py --url http://127.0.0.1:8080 --mode first --n 8
"""

import asyncio
import collections
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../harness/lesson"))
import pykit  # noqa: E402

GATHER_MAX = 64
SLACK_S = 10        # every request's deadline: twice the delay plus this
DRAW_SEED = 2779    # the C program's (main.c says why this one)
M64 = (1 << 64) - 1


def mirror_delay(i, d):
    """Mirror i's delay in ms: D plus a fixed pseudo-random share of D (SplitMix64's mixer on
    i), the C program's draw to the millisecond."""
    z = (i * 0x9E3779B97F4A7C15 + DRAW_SEED) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    z ^= z >> 31
    return d + (z % d if d > 0 else 0)


def useful(result):
    status, _ = result
    return status == 200


async def gather_all(session, urls):
    # Every mirror to its own end; an error is kept in its slot, it does not end the rest.
    return list(await asyncio.gather(*(pykit.get(session, u) for u in urls), return_exceptions=True))


async def end_all(tasks):
    # Cancel what still runs and wait until each has ended: no loser keeps its connection.
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def outcome(t):
    return t.result() if t.done() and not t.cancelled() else ("CancelledError", None)


async def first_completed(session, urls):
    tasks = [asyncio.create_task(pykit.get(session, u)) for u in urls]
    pending = set(tasks)
    try:
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if any(useful(t.result()) for t in done):
                break                            # a failed mirror is not the answer: wait on
    finally:
        await end_all(pending)
    return [outcome(t) for t in tasks]


class DoneQueue:
    """Part two: tasks handed out in the order they finish. A task's done callback appends it
    and wakes the one waiter (a future: park is `await`, unpark is set_result)."""

    def __init__(self):
        self.tasks, self.finished, self.waiter = [], collections.deque(), None

    def spawn(self, coro):
        t = asyncio.create_task(coro)
        t.add_done_callback(self._done)
        self.tasks.append(t)

    def _done(self, t):
        self.finished.append(t)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def next(self):
        """The oldest finished task not handed out yet, waiting asleep for one; None when
        every task has been handed out."""
        while not self.finished:
            if all(t.done() for t in self.tasks):
                return None
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        return self.finished.popleft()

    async def close(self):
        await end_all([t for t in self.tasks if not t.done()])


async def first_completed_mine(session, urls):
    q = DoneQueue()
    for u in urls:
        q.spawn(pykit.get(session, u))
    try:
        while (t := await q.next()) is not None and not useful(t.result()):
            pass
    finally:
        await q.close()
    return [outcome(t) for t in q.tasks]


async def main():
    a = pykit.parse(["first", "all", "mine"], "first", n=8, delay=1000, max_n=GATHER_MAX, urls=False)
    delays = [mirror_delay(i, a.delay) for i in range(a.n)]
    async with pykit.target(a, timeout=2 * a.delay / 1000 + SLACK_S) as t:
        urls = t.urls(lambda i: f"/delay/{delays[i]}?tag={i}")
        batch = {"all": gather_all, "first": first_completed, "mine": first_completed_mine}[a.mode]
        with pykit.Clock() as clock:
            results = await batch(t.session, urls)
        peak = await t.peak()
        if t.delayd:
            await asyncio.sleep(0.05)   # the server notices a client gone within a few ms
        left = await t.in_flight()
    answered = sum(useful(r) for r in results)
    pykit.row(mode=a.mode, n=a.n, delay_ms=a.delay, wall_s=clock.wall, cpu_s=clock.cpu, peak=peak,
              left=left, useful=answered,
              theory_s=(max(delays) if a.mode == "all" else min(delays)) / 1000)
    if answered == 0:
        print(f"mode {a.mode}: no mirror answered 200 (the first said {results[0][0]})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    pykit.run(main)
