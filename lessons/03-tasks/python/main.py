"""Lesson 03 in asyncio and aiohttp: N downloads awaited one by one (await), spawned as tasks
and joined after (tasks), or finished through futures that other tasks fill (jobs: part two's
job_join and job_finish are `await future` and `future.set_result`). The same options and row
as the C program (../main.c), so the bench draws both on one chart. Run it with Debian's python3:
    /usr/bin/python3 lessons/03-tasks/python/main.py --url http://127.0.0.1:8080 --mode tasks --n 10
"""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../harness/lesson"))
import pykit  # noqa: E402


async def one_by_one(session, urls):
    # Each await runs the download to its end before the next starts.
    return [await pykit.get(session, u) for u in urls]


async def as_tasks(session, urls):
    # Every download handed to the loop first; the awaits afterwards only collect.
    tasks = [asyncio.create_task(pykit.get(session, u)) for u in urls]
    return [await t for t in tasks]


async def as_jobs(session, urls):
    # Part two: a job is a future that a task of its own finishes (job_finish: set_result);
    # joining it is awaiting the future (job_join), which sleeps until then.
    loop = asyncio.get_running_loop()

    async def run(job, url):
        job.set_result(await pykit.get(session, url))

    jobs = [loop.create_future() for _ in urls]
    runners = [asyncio.create_task(run(j, u)) for j, u in zip(jobs, urls)]
    results = [await j for j in jobs]
    await asyncio.gather(*runners)
    return results


async def main():
    a = pykit.parse(["tasks", "await", "jobs"], "tasks", n=10, delay=100, max_n=256)
    async with pykit.target(a) as t:
        urls = t.urls(lambda i: f"/delay/{a.delay}?tag={i}", delayd_only=True)
        batch = {"await": one_by_one, "tasks": as_tasks, "jobs": as_jobs}[a.mode]
        with pykit.Clock() as clock:
            results = await batch(t.session, urls)
        peak = await t.peak()
    ok = sum(status == 200 for status, _ in results)
    pykit.row(mode=a.mode, n=a.n, delay_ms=a.delay, wall_s=clock.wall, cpu_s=clock.cpu,
              server=t.server, peak=peak, ok=ok,
              theory_s=pykit.seconds((a.n if a.mode == "await" else 1) * a.delay / 1000, t.delayd))
    if ok != a.n:
        first = next(i for i, (status, _) in enumerate(results) if status != 200)
        print(f"only {ok} of {a.n} downloads answered 200; the first that did not, {urls[first]}, "
              f"answered {results[first][0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    pykit.run(main)
