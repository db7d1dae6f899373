"""Lesson 01 in asyncio and aiohttp: N GETs one after another (seq) or all at once (conc), the
same options and the same row as the C program (../main.c), so the bench draws both on one
chart. Run it with Debian's python3, which has aiohttp:
    /usr/bin/python3 lessons/01-sync-vs-async/python/main.py --url http://127.0.0.1:8080 --mode conc --n 10
"""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../harness/lesson"))
import pykit  # noqa: E402


async def fetch_sequential(session, urls):
    return [await pykit.get(session, u) for u in urls]       # each waits for the one before


async def fetch_concurrent(session, urls):
    return await asyncio.gather(*(pykit.get(session, u) for u in urls))   # all in flight at once


async def main():
    a = pykit.parse(["conc", "seq"], "conc", n=10, delay=200)
    async with pykit.target(a) as t:
        urls = t.urls(lambda i: f"/delay/{a.delay}?tag={i}", delayd_only=True)
        with pykit.Clock() as clock:
            results = await (fetch_sequential if a.mode == "seq" else fetch_concurrent)(t.session, urls)
        peak = await t.peak()
    ok = sum(status == 200 for status, _ in results)
    pykit.row(mode=a.mode, n=a.n, delay_ms=a.delay if t.delayd else pykit.UNKNOWN, wall_s=clock.wall,
              cpu_s=clock.cpu, server=t.server, peak=peak, ok=ok,
              theory_s=pykit.seconds((a.n if a.mode == "seq" else 1) * a.delay / 1000, t.delayd))
    if ok != a.n:
        print(f"only {ok} of {a.n} requests answered 200", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    pykit.run(main)
