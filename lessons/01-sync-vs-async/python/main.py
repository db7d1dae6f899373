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

import aiohttp  # noqa: E402


async def fetch(session, url):
    """One GET, its body read whole; the status, or an exception's name when it failed."""
    try:
        async with session.get(url) as reply:
            await reply.read()
            return reply.status
    except (aiohttp.ClientError, asyncio.TimeoutError) as e:
        return type(e).__name__


async def fetch_sequential(session, urls):
    return [await fetch(session, u) for u in urls]       # each waits for the one before


async def fetch_concurrent(session, urls):
    return await asyncio.gather(*(fetch(session, u) for u in urls))   # all in flight at once


async def main():
    a = pykit.parse(["conc", "seq"], "conc", n=10, delay=200)
    # No cap on connections (aiohttp's default is 100), as the C program has none.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        delayd = a.url_list is None and await pykit.server_is_delayd(session, a.url)
        if a.url_list is not None:
            urls = a.url_list
        elif delayd:
            urls = [f"{a.url}/delay/{a.delay}?tag={i}" for i in range(a.n)]
        else:
            urls = [a.url] * a.n
        clock = pykit.Clock()
        clock.start()
        statuses = await (fetch_sequential if a.mode == "seq" else fetch_concurrent)(session, urls)
        clock.stop()
        peak = await pykit.server_peak(session, a.url) if delayd else "unknown"
    ok = sum(s == 200 for s in statuses)
    theory = f"{(a.n if a.mode == 'seq' else 1) * a.delay / 1000:.4f}" if delayd else "unknown"
    pykit.row(mode=a.mode, n=a.n, delay_ms=a.delay if delayd else "unknown", wall_s=clock.wall,
              cpu_s=clock.cpu, server="delayd" if delayd else "other", peak=peak, ok=ok,
              theory_s=theory)
    if ok != a.n:
        print(f"only {ok} of {a.n} requests answered 200", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
