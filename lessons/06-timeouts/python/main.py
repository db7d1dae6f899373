"""Lesson 06 in asyncio and aiohttp: a batch of N fetches, a share of them stuck
(BASE/delay/HANG, far longer than the rest), the others BASE/delay/D:
    --mode none   every fetch a task, awaited with no deadline: the batch lasts as long as its
                  slowest request
    --mode batch  every task awaited with asyncio.wait_for and the batch's one deadline, the
                  time left of it: a task still running then is cancelled and awaited
    --mode mine   the same with a wait_for written here (part two: a future woken by the task's
                  end or by a timer, whichever comes first)
Options beside --url, --mode, --n, --delay: --hung PCT (0..100, default 25), the share of stuck
requests, spread over the batch; --deadline MS (default 500), the batch's deadline from its
start; --hang MS (default 2000), how long a stuck request takes. The row has the server's peak
in flight, the fetches answered (ok) and cut (cut), and what was still open once the batch had
returned and the session was closed (open: tasks not ended, timers armed, GETs not ended). The
same row as the C program (../main.c), so the bench draws both on one chart. Run it with
Debian's python3:
    /usr/bin/python3 lessons/06-timeouts/python/main.py --url http://127.0.0.1:8080 --mode batch --hung 25
"""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../harness/lesson"))
import pykit  # noqa: E402

FETCH_MAX = 256
CUT = ("TimeoutError", None)   # a fetch cut at the deadline, as C's -ETIMEDOUT
in_flight = 0                  # GETs begun and not ended: part of `open`


async def fetch(session, url):
    # One GET with no deadline of its own: whoever waits for it decides when to give up.
    global in_flight
    in_flight += 1
    try:
        return await pykit.get(session, url)
    finally:
        in_flight -= 1


async def no_deadline(session, urls):
    tasks = [asyncio.create_task(fetch(session, u)) for u in urls]
    return [await t for t in tasks]


async def with_deadline(session, urls, deadline, wait_for):
    # One absolute deadline for every wait: a later wait gets only what is left of it.
    loop = asyncio.get_running_loop()
    tasks = [asyncio.create_task(fetch(session, u)) for u in urls]
    results = []
    for t in tasks:
        try:
            results.append(await wait_for(t, max(0.0, deadline - loop.time())))
        except TimeoutError:
            results.append(CUT)
    return results


async def wait_for_mine(task, timeout):
    """Part two: asyncio.wait_for(task, timeout) by hand. Sleep on a future that the task's end
    or a timer wakes; at the timer, cancel the task and wait until it has ended (its clean-up
    done): TimeoutError. A cancelled caller cancels the task too."""
    loop = asyncio.get_running_loop()
    woken = loop.create_future()

    def wake(_=None):
        if not woken.done():
            woken.set_result(None)

    task.add_done_callback(wake)
    timer = loop.call_later(timeout, wake)
    try:
        await woken
    except asyncio.CancelledError:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise
    finally:
        timer.cancel()
        task.remove_done_callback(wake)
    if task.done():
        return task.result()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    if not task.cancelled():
        return task.result()        # it ended on its own in the same pass
    raise TimeoutError


def still_open():
    """Tasks not ended (this one aside), timers armed on the loop, and GETs not ended. The
    timers are read from the loop's heap (_scheduled: CPython keeps no public count)."""
    loop = asyncio.get_running_loop()
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    timers = [h for h in getattr(loop, "_scheduled", []) if not h.cancelled()]
    return len(tasks) + len(timers) + in_flight


async def main():
    a = pykit.parse(["batch", "none", "mine"], "batch", n=20, delay=100, max_n=FETCH_MAX, urls=False,
                    extra=[("hung", 25, 0, 100, "the share of stuck requests, %"),
                           ("deadline", 500, 1, 600000, "the batch's deadline, ms"),
                           ("hang", 2000, 0, 600000, "a stuck request's time, ms")])
    stuck = (a.n * a.hung + 50) // 100
    is_stuck = [(i + 1) * stuck // a.n > i * stuck // a.n for i in range(a.n)]   # spread evenly
    async with pykit.target(a) as t:
        urls = t.urls(lambda i: f"/delay/{a.hang if is_stuck[i] else a.delay}?tag={i}")
        with pykit.Clock() as clock:
            if a.mode == "none":
                results = await no_deadline(t.session, urls)
            else:
                deadline = asyncio.get_running_loop().time() + a.deadline / 1000
                results = await with_deadline(t.session, urls, deadline,
                                              asyncio.wait_for if a.mode == "batch" else wait_for_mine)
        peak = await t.peak()
    left = still_open()
    if stuck == 0:
        theory = a.delay
    elif a.mode == "none":
        theory = max(a.hang, a.delay)
    else:
        theory = min(a.deadline, a.hang)
    pykit.row(mode=a.mode, n=a.n, hung=a.hung, stuck=stuck, delay_ms=a.delay, deadline_ms=a.deadline,
              hang_ms=a.hang, wall_s=clock.wall, cpu_s=clock.cpu, server=t.server, peak=peak,
              ok=sum(status == 200 for status, _ in results), cut=results.count(CUT), open=left,
              theory_s=theory / 1000)
    if left > 0:
        print(f"after the batch: {left} tasks, timers or GETs still open", file=sys.stderr)
    return 0


if __name__ == "__main__":
    pykit.run(main)
