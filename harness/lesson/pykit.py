"""pykit: what every lesson's asyncio program (lessons/NN-topic/python/main.py) shares with the C
program's kit, so that each main.py holds only its lesson's idea: the same options (--url,
--urls, --mode, --n, --delay and the lesson's own), the same question to the server (is it the
kit's delayd? then reset it, and read its counts afterwards), an aiohttp session, one GET, the
same clocks, and the same one-line row (harness/README.md, "The program's row"). Standard
library and aiohttp, imported only by the programs that talk to a server.

A lesson's program, in outline:

    a = pykit.parse(["conc", "seq"], "conc", n=10, delay=200)

    async def main():
        async with pykit.target(a) as t:           # the session; t.delayd: is it delayd?
            urls = t.urls(lambda i: f"/delay/{a.delay}?tag={i}")
            with pykit.Clock() as clock:
                results = await batch(t.session, urls)
            peak = await t.peak()
        pykit.row(mode=a.mode, ..., wall_s=clock.wall, cpu_s=clock.cpu, peak=peak, ...)

    pykit.run(main)
"""

import argparse
import asyncio
import contextlib
import json
import sys
import time

UNKNOWN = "unknown"   # a field the program cannot know (another server, or no meaning here)
DELAY_MAX = 600000    # ms: the C kit's limit for --delay, and delayd's for /delay


def parse(modes, default_mode, n=10, delay=100, max_n=100000, extra=(), urls=True, need_url=True):
    """The command line, as the C kit parses it (kit_parse_options); exits with status 2 on a
    bad option. modes: the --mode values, as the C program lists them. urls: --urls FILE is
    accepted (kit_parse_options_urls); its URLs, repeated in order up to --n (the file's count
    when --n is not given), are then in a.url_list, else a.url_list is None. need_url: --url
    (or --urls) must be given. extra: the lesson's own whole-number options, as (name, default,
    lo, hi, help) tuples: ("k", 5, 1, 1000, "the cap") adds --k, in a.k."""
    p = argparse.ArgumentParser(description=(sys.modules["__main__"].__doc__ or "").split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)

    def whole(name, lo, hi):
        def check(text):
            try:
                v = int(text)
            except ValueError:
                v = None
            if v is None or not lo <= v <= hi:
                raise argparse.ArgumentTypeError(f"expected a whole number from {lo} to {hi}, not '{text}'")
            return v
        check.__name__ = name
        return check

    p.add_argument("--url", help="the server's base URL (http://127.0.0.1:PORT)")
    if urls:
        p.add_argument("--urls", help="a file of URLs, one a line (repeated in order up to --n)")
    p.add_argument("--mode", default=default_mode, choices=modes)
    p.add_argument("--n", type=whole("n", 1, max_n), default=None, help=f"how many (1 to {max_n}, default {n})")
    p.add_argument("--delay", type=whole("delay", 0, DELAY_MAX), default=delay,
                   help=f"how long each one waits, in ms (default {delay})")
    for name, default, lo, hi, text in extra:
        p.add_argument(f"--{name}", type=whole(name, lo, hi), default=default,
                       help=f"{text.replace('%', '%%')} ({lo} to {hi}, default {default})")
    a = p.parse_args()
    a.url_list = None
    if urls and a.urls is not None:
        with open(a.urls) as f:
            lines = [line.strip() for line in f if line.strip() and not line.strip().startswith("#")]
        if not lines:
            p.error(f"{a.urls} lists no URL")
        if a.n is None and len(lines) > max_n:
            p.error(f"{a.urls} holds {len(lines)} URLs; this program takes at most {max_n}")
        a.n = a.n or len(lines)
        a.url_list = [lines[i % len(lines)] for i in range(a.n)]
    elif need_url and a.url is None:
        p.error("--url (or --urls) is required" if urls else "--url is required")
    if a.n is None:
        a.n = n
    if a.url is not None:
        a.url = a.url.rstrip("/")
    return a


class Target:
    """Where the requests go: `session`, an aiohttp ClientSession; `delayd`, whether the server
    is the kit's delayd (then reset when the session opened, so its counts are this run's)."""

    def __init__(self, a, session, delayd):
        self.a, self.session, self.delayd = a, session, delayd
        self.server = "delayd" if delayd else "other"   # the row's server field

    def urls(self, path, delayd_only=False):
        """The run's URLs: --urls FILE's list as it is, else base + path(i) for i in 0..n-1.
        delayd_only: path means something to delayd alone; any other server is asked for
        its base URL n times (lessons 01 and 03)."""
        if self.a.url_list is not None:
            return self.a.url_list
        if delayd_only and not self.delayd:
            return [self.a.url] * self.a.n
        return [self.a.url + path(i) for i in range(self.a.n)]

    async def stats(self):
        """delayd's /stats as a dict, or None (another server, or no answer)."""
        if not self.delayd:
            return None
        try:
            return await _json(self.session, f"{self.a.url}/stats")
        except aiohttp_errors():
            return None

    async def peak(self):
        """The most requests delayd had in flight at once since the reset, or "unknown"."""
        s = await self.stats()
        return s.get("peak", UNKNOWN) if isinstance(s, dict) else UNKNOWN

    async def in_flight(self):
        """The requests delayd is serving now, or "unknown"."""
        s = await self.stats()
        return s.get("in_flight", UNKNOWN) if isinstance(s, dict) else UNKNOWN

    async def status_count(self, status):
        """How many answers of this HTTP status delayd sent since the reset, or "unknown"."""
        s = await self.stats()
        by = s.get("by_status") if isinstance(s, dict) else None
        return by.get(str(status), 0) if isinstance(by, dict) else UNKNOWN


@contextlib.asynccontextmanager
async def target(a, limit=0, timeout=None):
    """An aiohttp session to the server of --url (or the URLs of --urls), and whether it is
    delayd: `async with pykit.target(a) as t`. limit: aiohttp's cap on connections (0: none,
    as the C programs have none; aiohttp's own default is 100). timeout: seconds a request may
    take in all, or None (aiohttp's default, 5 minutes)."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=limit)
    client_timeout = aiohttp.ClientTimeout(total=timeout) if timeout is not None else aiohttp.ClientTimeout()
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        delayd = a.url_list is None and await server_is_delayd(session, a.url)
        yield Target(a, session, delayd)


def aiohttp_errors():
    """The exceptions a GET may end with that are the network's, not the program's."""
    import aiohttp

    return (aiohttp.ClientError, asyncio.TimeoutError)


async def get(session, url):
    """One GET, its body read whole: (HTTP status, body), or (the exception's name, None) when
    it failed. A cancellation is not caught: it ends the GET (aiohttp closes its connection,
    so the server sees the client go) and goes on up to whoever cancelled."""
    try:
        async with session.get(url) as reply:
            return reply.status, await reply.read()
    except aiohttp_errors() as e:
        return type(e).__name__, None


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
    its counts are this run's alone. Any other server is only sent a GET of /stats. A server
    that does not answer at all ends the program, as in C (kit_server_kind)."""
    try:
        stats = await _json(session, f"{base}/stats")
        if not isinstance(stats, dict) or not isinstance(stats.get("peak"), int):
            return False
        async with session.get(f"{base}/reset") as reply:
            return reply.status == 200
    except aiohttp_errors():
        print(f"cannot reach the server at {base} (no HTTP answer from {base}/stats)", file=sys.stderr)
        sys.exit(1)


class Clock:
    """Wall time (monotonic) and this process's CPU time (user and system), like kit_wall()
    and kit_cpu(), around a block: `with pykit.Clock() as clock: ...`, then clock.wall and
    clock.cpu in seconds (or start() and stop())."""

    def start(self):
        self.wall, self.cpu = time.monotonic(), time.process_time()

    def stop(self):
        self.wall, self.cpu = time.monotonic() - self.wall, time.process_time() - self.cpu

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def seconds(s, known=True):
    """A theory_s field: s seconds to 4 places, or "unknown"."""
    return f"{s:.4f}" if known else UNKNOWN


def row(**fields):
    """Print the one line the bench reads: key=value pairs, floats to 4 places."""
    print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                   for k, v in fields.items()))
    sys.stdout.flush()


def run(main):
    """asyncio.run(main()) and exit with its status (None: 0)."""
    sys.exit(asyncio.run(main()) or 0)
