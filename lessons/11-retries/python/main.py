"""Lesson 11 in asyncio and aiohttp: N callers, all at once, each making --calls calls to one
server, --gap ms apart:
    --mode once     each call is one GET
    --mode retry    each call tries again what can change (5xx, 429, timeouts, refused or
                    broken connections): up to --attempts GETs of 1 s each, with pauses drawn
                    at random below 10, 20, 40, ... ms (never above 100 ms: "full jitter"),
                    none that would end past the call's deadline
    --mode breaker  each call is one GET through a circuit breaker shared by every caller:
                    --threshold failures in a row open it, calls then fail at once for
                    --cooldown ms, then exactly one call probes the server
--down 1 (the default): the server is down, every call is BASE/status/503; --down 0: it is
flaky, BASE/flaky?delay_ms=D. The same options and row as the C program (../main.c), so the
bench draws both on one chart. Run it with Debian's python3:
    /usr/bin/python3 lessons/11-retries/python/main.py --url http://127.0.0.1:8080 --mode retry --n 16
"""

import asyncio
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../harness/lesson"))
import pykit  # noqa: E402

CALLERS_MAX = 1024
BASE_MS, CAP_MS = 10, 100


def worth_it(status):
    """Can another try change this outcome? (status is an int, or the exception's name.)"""
    if isinstance(status, int):
        return status == 429 or 500 <= status <= 599
    return status in ("TimeoutError", "ClientConnectorError", "ServerDisconnectedError",
                      "ClientOSError")


async def get(session, url, timeout):
    """One GET inside timeout seconds: (status, body), or (the exception's name, None)."""
    try:
        return await asyncio.wait_for(pykit.get(session, url), timeout)
    except asyncio.TimeoutError:
        return "TimeoutError", None


async def fetch_retry(session, url, attempts, rng, deadline):
    """retry.c's idea: the last attempt's outcome, or the first not worth another try."""
    loop = asyncio.get_running_loop()
    for k in range(1, attempts + 1):
        left = deadline - loop.time()
        if left <= 0:
            return "TimeoutError", None
        status, body = await get(session, url, min(1.0, left))
        if not worth_it(status) or k == attempts or loop.time() >= deadline:
            return status, body
        pause = rng.randint(0, min(CAP_MS, BASE_MS * 2 ** (k - 1))) / 1000
        if loop.time() + pause >= deadline:
            return status, body            # no time for the pause and one more attempt
        await asyncio.sleep(pause)


class Breaker:
    """breaker.c's idea: closed, open, half-open; an outcome counts only in the state (the
    epoch) its call began in."""

    def __init__(self, threshold, cooldown_ms):
        self.threshold, self.cooldown = threshold, cooldown_ms / 1000
        self.state, self.failures, self.opened, self.probing, self.epoch = "closed", 0, 0.0, False, 0
        self.refused = 0

    def change(self, state):
        self.state, self.failures, self.epoch = state, 0, self.epoch + 1
        if state == "open":
            self.opened = asyncio.get_running_loop().time()

    async def fetch(self, session, url, timeout):
        now = asyncio.get_running_loop().time()
        if self.state == "open":
            if now < self.opened + self.cooldown:
                self.refused += 1
                return "refused", None
            self.change("half-open")
        probe = False
        if self.state == "half-open":
            if self.probing:
                self.refused += 1
                return "refused", None
            self.probing = probe = True
        epoch = self.epoch
        try:
            status, body = await get(session, url, timeout)
        finally:
            if probe:
                self.probing = False       # a cancelled probe hands its turn on
        if epoch != self.epoch:
            return status, body            # began in another state: judges nothing
        if not worth_it(status):
            if self.state == "half-open":
                self.change("closed")
            self.failures = 0
        elif self.state == "half-open" or self.failures + 1 >= self.threshold:
            self.change("open")
        else:
            self.failures += 1
        return status, body


async def main():
    a = pykit.parse(["breaker", "once", "retry"], "breaker", n=16, delay=20, max_n=CALLERS_MAX,
                    urls=False,
                    extra=[("calls", 4, 1, 1000, "calls a caller makes"),
                           ("gap", 20, 0, 600000, "ms between two calls of a caller"),
                           ("down", 1, 0, 1, "1: the server is down (/status/503); 0: flaky (/flaky)"),
                           ("attempts", 4, 1, 100, "retry: GETs a call may make"),
                           ("threshold", 5, 1, 1000, "breaker: failures in a row that open it"),
                           ("cooldown", 100, 0, 600000, "breaker: ms it stays open")])
    url = f"{a.url}/status/503" if a.down else f"{a.url}/flaky?delay_ms={a.delay}"
    rng = random.Random(2024)
    breaker = Breaker(a.threshold, a.cooldown)
    ok = failed = 0
    async with pykit.target(a) as t:
        loop = asyncio.get_running_loop()

        async def caller():
            nonlocal ok, failed
            for i in range(a.calls):
                if i > 0:
                    await asyncio.sleep(a.gap / 1000)
                if a.mode == "retry":
                    status, _ = await fetch_retry(t.session, url, a.attempts, rng, loop.time() + 10)
                elif a.mode == "breaker":
                    status, _ = await breaker.fetch(t.session, url, 1.0)
                else:
                    status, _ = await get(t.session, url, 1.0)
                if status == 200:
                    ok += 1
                else:
                    failed += 1

        with pykit.Clock() as clock:
            await asyncio.gather(*[caller() for _ in range(a.n)])
        peak = await t.peak()
        s = await t.stats()
        sent = s.get("requests", pykit.UNKNOWN) if isinstance(s, dict) else pykit.UNKNOWN
    theory = a.calls * (0 if a.down else a.delay) + (a.calls - 1) * a.gap
    if a.down and a.mode == "retry":
        theory += sum(a.calls * min(CAP_MS, BASE_MS * 2 ** (k - 1)) // 2 for k in range(1, a.attempts))
    pykit.row(mode=a.mode, n=a.n, calls=a.calls, gap_ms=a.gap, delay_ms=a.delay, down=a.down,
              attempts=a.attempts, threshold=a.threshold, cooldown_ms=a.cooldown,
              wall_s=clock.wall, cpu_s=clock.cpu, server=t.server, peak=peak, sent=sent, ok=ok,
              failed=failed, fast=breaker.refused, theory_s=pykit.seconds(theory / 1000))
    return 0


if __name__ == "__main__":
    pykit.run(main)
