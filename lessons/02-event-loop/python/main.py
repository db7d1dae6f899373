"""Lesson 02 in asyncio: N timers of D ms, slept through one after another (blocking: what
time.sleep() does, here or inside a coroutine) or all handed to one event loop, used bare with
plain callbacks (loop: call_later, and run_forever until the last has fired). No server: --url
is taken, as the C program (../main.c) takes it, and not used. The same row as C, so the bench
draws both on one chart. Run it with Debian's python3:
    /usr/bin/python3 lessons/02-event-loop/python/main.py --mode loop --n 16 --delay 50
"""

import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../harness/lesson"))
import pykit  # noqa: E402


def run_blocking(n, delay_s):
    # The process waits for each timer in turn: nothing else could run meanwhile.
    fired = 0
    for _ in range(n):
        time.sleep(delay_s)
        fired += 1
    return fired


def run_loop(n, delay_s):
    # Every timer on one loop; run_forever() sleeps in the kernel until the earliest is due
    # and runs its callback. The last callback stops the loop: run_forever never stops alone.
    loop = asyncio.new_event_loop()
    fired = 0

    def on_timer():
        nonlocal fired
        fired += 1
        if fired == n:
            loop.stop()

    for _ in range(n):
        loop.call_later(delay_s, on_timer)
    try:
        loop.run_forever()
    finally:
        loop.close()
    return fired


def main():
    a = pykit.parse(["loop", "blocking"], "loop", n=16, delay=50, max_n=1000000, urls=False,
                    need_url=False)
    with pykit.Clock() as clock:
        fired = (run_blocking if a.mode == "blocking" else run_loop)(a.n, a.delay / 1000)
    pykit.row(mode=a.mode, n=a.n, delay_ms=a.delay, wall_s=clock.wall, cpu_s=clock.cpu,
              fired=fired, theory_s=pykit.seconds((a.n if a.mode == "blocking" else 1) * a.delay / 1000))
    if fired != a.n:
        print(f"only {fired} of {a.n} timers fired", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
