"""bench_asyncio: the same workloads as bench_aio.c in stdlib asyncio and aiohttp, one
measurement a run, printed as one key=value row. Run it with /usr/bin/python3 (Debian's,
which can import aiohttp)."""

import argparse
import asyncio
import sys
import time

REQUEST_TIMEOUT_S = 30  # one GET that takes this long means the run is broken


def status_kib(key):
    """One field of /proc/self/status ("VmHWM:") in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    raise RuntimeError(f"{key} not found in /proc/self/status")


async def yield_roundtrip(a):
    """Two tasks ping-pong through the ready queue; ns per `await asyncio.sleep(0)`."""

    async def yielder(rounds):
        for _ in range(rounds):
            await asyncio.sleep(0)

    for rounds in (min(a.n // 10, 1000), a.n):  # warm-up pass, then the measured one
        t0 = time.perf_counter()
        tasks = [asyncio.create_task(yielder(rounds)) for _ in range(2)]
        for t in tasks:
            await t
        value = (time.perf_counter() - t0) * 1e9 / (2 * rounds)
    return value, f"tasks=2 yields={2 * a.n}"


async def spawn_join(a):
    """ns to create a task that returns at once and await it."""

    async def noop():
        return 0

    for rounds in (min(a.n // 10, 1000), a.n):
        t0 = time.perf_counter()
        for _ in range(rounds):
            await asyncio.create_task(noop())
        value = (time.perf_counter() - t0) * 1e9 / rounds
    return value, f"rounds={a.n}"


async def sem_handoff(a):
    """Two tasks pass the one permit of a Semaphore(1) back and forth: each takes it, yields,
    gives it back; ns per hand-over."""

    async def passer(sem, rounds):
        for _ in range(rounds):
            async with sem:
                await asyncio.sleep(0)

    for rounds in (min(a.n // 10, 1000), a.n):
        sem = asyncio.Semaphore(1)
        t0 = time.perf_counter()
        tasks = [asyncio.create_task(passer(sem, rounds)) for _ in range(2)]
        for t in tasks:
            await t
        value = (time.perf_counter() - t0) * 1e9 / (2 * rounds)
    return value, f"tasks=2 handoffs={2 * a.n}"


async def sleep_many(a):
    """ms from the first create_task to the last await of n tasks sleeping delay ms, on the
    second round; the first round is reported as cold_ms."""

    async def one_round():
        t0 = time.perf_counter()
        tasks = [asyncio.create_task(asyncio.sleep(a.delay / 1e3)) for _ in range(a.n)]
        for t in tasks:
            await t
        return (time.perf_counter() - t0) * 1e3

    cold = await one_round()
    warm = await one_round()
    return warm, f"tasks={a.n} sleep_ms={a.delay} cold_ms={cold:.3f}"


async def tasks_rss(a):
    """Peak RSS (VmHWM) in MiB once n tasks are all parked on a never-set event."""
    base_kib = status_kib("VmHWM:")
    started = 0
    never = asyncio.Event()

    async def parker():
        nonlocal started
        started += 1
        await never.wait()

    tasks = [asyncio.create_task(parker()) for _ in range(a.n)]
    for _ in range(10):
        if started == a.n:
            break
        await asyncio.sleep(0)
    hwm_kib = status_kib("VmHWM:")
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if started < a.n:
        raise RuntimeError(f"only {started} of {a.n} tasks started")
    extra = (f"tasks={a.n} base_mib={base_kib / 1024:.1f} "
             f"per_task_kib={(hwm_kib - base_kib) / a.n:.2f}")
    return hwm_kib / 1024, extra


async def get_once(session, url, counter):
    """GET url and read the body; any status but 200 is an error."""
    async with session.get(url) as resp:
        await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"GET {url}: status {resp.status}")
    counter[0] += 1


async def http_batch(a):
    """ms until n concurrent GETs of /delay/MS are all answered (no connection limit, like the
    C side: every request gets its own connection at once)."""
    import aiohttp

    url = f"{a.url}/delay/{a.delay}"
    done = [0]
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=timeout) as session:
        c0 = time.process_time()
        t0 = time.perf_counter()
        tasks = [asyncio.create_task(get_once(session, url, done)) for _ in range(a.n)]
        await asyncio.gather(*tasks)
        value = (time.perf_counter() - t0) * 1e3
        cpu = time.process_time() - c0
    return value, f"requests={a.n} ok={done[0]} delay_ms={a.delay} cpu_s={cpu:.3f}"


async def http_keepalive(a):
    """Requests per second of `conns` loops sharing one session (TCPConnector(limit=conns)),
    each GETting /bytes/0 until `seconds` have passed."""
    import aiohttp

    url = f"{a.url}/bytes/0"
    done = [0]
    loop = asyncio.get_running_loop()

    async def get_loop(session, stop):
        while loop.time() < stop:
            await get_once(session, url, done)

    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=a.conns),
                                     timeout=timeout) as session:
        c0 = time.process_time()
        t0 = time.perf_counter()
        stop = loop.time() + a.seconds
        await asyncio.gather(*(get_loop(session, stop) for _ in range(a.conns)))
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - c0
    return done[0] / elapsed, (f"loops={a.conns} requests={done[0]} elapsed_s={elapsed:.3f} "
                               f"cpu_s={cpu:.3f}")


async def group_gather(a):
    """A TaskGroup of 1000 tasks that return at once, waited for; ns per task."""

    async def noop():
        return 0

    async def rounds(children):
        for _ in range(0, children, 1000):
            async with asyncio.TaskGroup() as tg:
                for _ in range(1000):
                    tg.create_task(noop())

    await rounds(min(a.n // 10, 10000))
    t0 = time.perf_counter()
    await rounds(a.n)
    children = (a.n + 999) // 1000 * 1000
    return (time.perf_counter() - t0) * 1e9 / children, f"children={children} per_group=1000"


async def wait_for_ready(a):
    """ns to create a task that returns at once and await it through wait_for, 1 s timeout."""

    async def noop():
        return 0

    for rounds in (min(a.n // 10, 1000), a.n):
        t0 = time.perf_counter()
        for _ in range(rounds):
            await asyncio.wait_for(asyncio.create_task(noop()), 1.0)
        value = (time.perf_counter() - t0) * 1e9 / rounds
    return value, f"rounds={a.n}"


BENCHMARKS = {
    "yield_roundtrip": (yield_roundtrip, "ns"),
    "spawn_join": (spawn_join, "ns"),
    "sem_handoff": (sem_handoff, "ns"),
    "group_gather": (group_gather, "ns"),
    "sleep_10k_100ms": (sleep_many, "ms"),
    "tasks_100k_rss": (tasks_rss, "MiB"),
    "http_1000x100ms": (http_batch, "ms"),
    "http_keepalive_rps": (http_keepalive, "req/s"),
    "wait_for_ready": (wait_for_ready, "ns"),
}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("benchmark", choices=sorted(BENCHMARKS))
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--delay", type=int, default=100, help="ms")
    p.add_argument("--conns", type=int, default=100)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--url", help="delayd base URL, http://127.0.0.1:PORT")
    a = p.parse_args()
    fn, unit = BENCHMARKS[a.benchmark]
    if a.benchmark.startswith("http_") and not a.url:
        p.error(f"{a.benchmark} needs --url")
    try:
        value, extra = asyncio.run(fn(a))
    except Exception as e:  # one line on stderr for the driver, not a traceback
        print(f"bench_asyncio: {a.benchmark} failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(f"benchmark={a.benchmark} impl=asyncio value={value:.6g} unit={unit} {extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
