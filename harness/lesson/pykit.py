"""pykit: what every lesson's asyncio program (lessons/NN-topic/python/main.py) shares with the C
program's kit: the same options (--url, --urls, --mode, --n, --delay), the same question to the
server (is it the kit's delayd? then reset it and read its peak afterwards), the same clocks, and
the same one-line row (harness/README.md, "The program's row"). Standard library and aiohttp."""

import argparse
import json
import sys
import time


def parse(modes, default_mode, n=10, delay=100, max_n=100000, extra=()):
    """The command line, as the C kit parses it; exits with status 2 on a bad option. extra:
    the lesson's own integer options, as (name, default) pairs: (("k", 5),) adds --k."""
    p = argparse.ArgumentParser(description=(sys.modules["__main__"].__doc__ or "").split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in extra:
        p.add_argument(f"--{name}", type=int, default=default)
    p.add_argument("--url", help="the server's base URL (http://127.0.0.1:PORT)")
    p.add_argument("--urls", help="a file of URLs, one a line (repeated in order up to --n)")
    p.add_argument("--mode", default=default_mode, choices=modes)
    p.add_argument("--n", type=int, default=n)
    p.add_argument("--delay", type=int, default=delay, help="each request's delay in ms (delayd)")
    a = p.parse_args()
    if not 1 <= a.n <= max_n:
        p.error(f"--n must be between 1 and {max_n}")
    if a.url is None and a.urls is None:
        p.error("--url (or --urls) is required")
    a.url_list = None
    if a.urls is not None:
        with open(a.urls) as f:
            lines = [line.strip() for line in f if line.strip() and not line.startswith("#")]
        if not lines:
            p.error(f"{a.urls} lists no URL")
        a.url_list = [lines[i % len(lines)] for i in range(a.n)]
    return a


async def _json(session, url):
    async with session.get(url) as reply:
        if reply.status != 200:
            return None
        try:
            return json.loads(await reply.text())
        except ValueError:
            return None


async def server_is_delayd(session, base):
    """True when base is the kit's delayd (its /stats has a "peak" count); it is then reset, so
    its peak counts this run alone. Any other server is only sent a GET of /stats. A server
    that does not answer at all ends the program, as in C."""
    import aiohttp

    try:
        stats = await _json(session, f"{base}/stats")
        if not isinstance(stats, dict) or not isinstance(stats.get("peak"), int):
            return False
        async with session.get(f"{base}/reset") as reply:
            return reply.status == 200
    except aiohttp.ClientError:
        print(f"cannot reach the server at {base} (no HTTP answer from {base}/stats)", file=sys.stderr)
        sys.exit(1)


async def server_peak(session, base):
    """The most requests delayd had in flight at once since the reset, or "unknown"."""
    stats = await _json(session, f"{base}/stats")
    return stats.get("peak", "unknown") if isinstance(stats, dict) else "unknown"


class Clock:
    """Wall time (monotonic) and this process's CPU time (user and system), like kit_wall()
    and kit_cpu(): start() before the work, stop() after."""

    def start(self):
        self.wall, self.cpu = time.monotonic(), time.process_time()

    def stop(self):
        self.wall, self.cpu = time.monotonic() - self.wall, time.process_time() - self.cpu


def row(**fields):
    """Print the one line the bench reads: key=value pairs, floats to 4 places."""
    print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                   for k, v in fields.items()))
    sys.stdout.flush()
