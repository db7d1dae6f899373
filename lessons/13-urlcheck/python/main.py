"""Lesson 13 in asyncio and aiohttp: urlcheck's core, check_all, on N distinct URLs of delayd,
BASE/delay/d_i?tag=i with d_i = D/5, 2D/5, ..., D in turn, read from memory:
    --mode seq            one check at a time (C = 1), a window of --window W (default 32)
    --mode c4, c16, c64   C workers, the same window
    --mode slurp          C = 64 and a window as large as the input (every line read at once)
The lines read and not yet written sit in the window, written in input order as soon as every
earlier line is known; reading waits while the window is full. --timeout MS (default 10000)
is each GET's own. --urls FILE checks your list. The same options and row as the C program
(../main.c): held is the most lines read and not yet written at once. Run it with Debian's
python3:
    /usr/bin/python3 lessons/13-urlcheck/python/main.py --url http://127.0.0.1:8080 --mode c16
"""

import asyncio
import collections
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../harness/lesson"))
import pykit  # noqa: E402

MODES = {"seq": 1, "c4": 4, "c16": 16, "c64": 64, "slurp": 64}


class Check:
    """One distinct URL of the window, shared by its lines; `done` is set with the result."""

    def __init__(self, url):
        self.url, self.done, self.result = url, asyncio.Event(), None


async def check_all(session, lines, c, w, timeout_s, write):
    """Check every URL of the iterable `lines`; write(url, result) a line, in input order."""
    window = collections.deque()            # the Checks of the lines read, not yet written
    todo = asyncio.Queue()                  # Checks no worker has taken yet
    room = asyncio.Event()                  # set when a line leaves a full window

    def flush():
        while window and window[0].done.is_set():
            write(window[0].url, window.popleft().result)
            room.set()

    async def worker():
        while (check := await todo.get()) is not None:
            try:
                status, _ = await asyncio.wait_for(pykit.get(session, check.url), timeout_s)
            except asyncio.TimeoutError:
                status = "timed out"
            check.result = status
            check.done.set()
            flush()

    async with asyncio.TaskGroup() as g:
        workers = [g.create_task(worker()) for _ in range(c)]
        lines = iter(lines)
        while True:
            while len(window) == w:
                room.clear()
                await room.wait()           # back-pressure: wait for room, then read
            url = next(lines, None)
            if url is None:
                break
            check = next((x for x in window if x.url == url), None)
            if check is None:               # a URL not in the window: a check of its own
                check = Check(url)
                todo.put_nowait(check)
            window.append(check)
            flush()
        for _ in workers:
            todo.put_nowait(None)


async def main():
    a = pykit.parse(list(MODES), "c16", n=64, delay=50,
                    extra=[("window", 32, 1, 65536, "lines read ahead at most"),
                           ("timeout", 10000, 0, 3600000, "each check's timeout in ms, 0 none")])
    c = MODES[a.mode]
    w = min(a.n, 65536) if a.mode == "slurp" else a.window
    async with pykit.target(a) as t:
        delays = [a.delay * (i % 5 + 1) // 5 for i in range(a.n)]
        urls = t.urls(lambda i: f"/delay/{delays[i]}?tag={i}")
        books = {"read": 0, "written": 0, "held": 0, "fine": 0, "broken": 0}

        def lines():
            for url in urls:
                books["read"] += 1
                books["held"] = max(books["held"], books["read"] - books["written"])
                yield url

        def write(url, result):
            books["written"] += 1
            fine = isinstance(result, int) and 100 <= result <= 399
            books["fine" if fine else "broken"] += 1

        with pykit.Clock() as clock:
            await check_all(t.session, lines(), c, w, a.timeout / 1000 if a.timeout else None, write)
        peak = await t.peak()
        stats = await t.stats()
    total = sum(delays) if a.url_list is None else 0
    theory = max(-(-total // c), max(delays, default=0))
    pykit.row(mode=a.mode, n=a.n, delay_ms=a.delay, c=c, window=w, wall_s=clock.wall,
              cpu_s=clock.cpu, peak=peak,
              sent=stats.get("requests", pykit.UNKNOWN) if stats else pykit.UNKNOWN,
              fine=books["fine"], broken=books["broken"], held=books["held"],
              theory_s=pykit.seconds(theory / 1000, a.url_list is None))
    return 0


if __name__ == "__main__":
    pykit.run(main)
