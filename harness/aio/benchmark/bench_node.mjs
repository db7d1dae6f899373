// bench_node: the workloads of bench_aio.c written as a Node.js programmer would write them,
// with async functions, promises, timers and the http module (no npm package); one measurement
// a run, printed as one key=value row. run.sh runs it with Debian's node beside the others.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const REQUEST_TIMEOUT_MS = 30000; // one GET that takes this long means the run is broken

const now = () => performance.now(); // ms, monotonic

// One field of /proc/self/status ("VmHWM:") in KiB.
function statusKiB(key) {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(key));
  if (line === undefined) throw new Error(`${key} not found in /proc/self/status`);
  return parseInt(line.slice(key.length), 10);
}

// A warm-up pass of 1/10 of the rounds (at most limit), then the measured pass: ns per op,
// where one round is opsPerRound operations. fn(rounds) is async.
async function perOp(n, limit, opsPerRound, fn) {
  await fn(Math.min(Math.floor(n / 10), limit));
  const t0 = now();
  await fn(n);
  return ((now() - t0) * 1e6) / (opsPerRound * n);
}

const noop = async () => 0;

// ---- yield_roundtrip ----------------------------------------------------------------------

// Two async functions ping-pong, each `await null` n times. An await of a settled value queues
// the rest of the function as a microtask behind the other one's: a straight hand-over to the
// next ready task, without a turn of the event loop, which is also what aio_yield() does
// (it does not poll for I/O either). `await setImmediate()` gives the event loop a turn (what
// a long computation should do to let I/O in); its cost is printed as setimmediate_ns.
async function yieldRoundtrip(a) {
  const pingPong = (step) => async (rounds) => {
    const yielder = async () => {
      for (let i = 0; i < rounds; i++) await step();
    };
    await Promise.all([yielder(), yielder()]);
  };
  const value = await perOp(a.n, 1000, 2, pingPong(() => null));
  const imm = await perOp(Math.min(a.n, 100000), 1000, 2, pingPong(() => immediate()));
  return [value, `tasks=2 yields=${2 * a.n} setimmediate_ns=${imm.toFixed(1)}`];
}

// ---- spawn_join ---------------------------------------------------------------------------

// Call an async function that returns at once and await it, one after another.
async function spawnJoin(a) {
  const value = await perOp(a.n, 1000, 1, async (rounds) => {
    for (let i = 0; i < rounds; i++) await noop();
  });
  return [value, `rounds=${a.n}`];
}

// ---- sem_handoff --------------------------------------------------------------------------

// Node has no semaphore of its own; this is the small one every codebase (or npm's
// async-mutex, p-limit) has: a count and a queue of waiting resolvers, and a release that
// hands the permit straight to the first waiter.
class Semaphore {
  constructor(permits) {
    this.permits = permits;
    this.waiters = [];
  }

  acquire() {
    if (this.permits > 0) {
      this.permits--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release() {
    const next = this.waiters.shift();
    if (next) next();
    else this.permits++;
  }
}

// Two async functions pass the one permit: each takes it, yields (`await null`), gives it back.
async function semHandoff(a) {
  const value = await perOp(a.n, 1000, 2, async (rounds) => {
    const sem = new Semaphore(1);
    const passer = async () => {
      for (let i = 0; i < rounds; i++) {
        await sem.acquire();
        try {
          await null;
        } finally {
          sem.release();
        }
      }
    };
    await Promise.all([passer(), passer()]);
  });
  return [value, `tasks=2 handoffs=${2 * a.n}`];
}

// ---- group_gather -------------------------------------------------------------------------

// Promise.all of 1000 async calls that return at once; ns per call.
async function groupGather(a) {
  const groups = async (children) => {
    for (let done = 0; done < children; done += 1000) {
      const group = [];
      for (let i = 0; i < 1000; i++) group.push(noop());
      await Promise.all(group);
    }
  };
  const children = Math.ceil(a.n / 1000) * 1000;
  await groups(Math.min(Math.floor(a.n / 10), 10000));
  const t0 = now();
  await groups(a.n);
  return [((now() - t0) * 1e6) / children, `children=${children} per_group=1000`];
}

// ---- wait_for_ready -----------------------------------------------------------------------

// Await an async call that returns at once under a 1 s deadline: Promise.race against a timer
// that rejects, and the timer cleared once the race is decided (else 1 s timers pile up).
function withTimeout(promise, ms) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

async function waitForReady(a) {
  const value = await perOp(a.n, 1000, 1, async (rounds) => {
    for (let i = 0; i < rounds; i++) await withTimeout(noop(), 1000);
  });
  return [value, `rounds=${a.n}`];
}

// ---- sleep_10k_100ms ----------------------------------------------------------------------

// n async sleeps (timers/promises' setTimeout) at once; ms from the first to the last being
// awaited, on the second round; the first round is reported as cold_ms.
async function sleepMany(a) {
  const round = async () => {
    const t0 = now();
    const sleepers = [];
    for (let i = 0; i < a.n; i++) sleepers.push(sleep(a.delay));
    for (const s of sleepers) await s;
    return now() - t0;
  };
  const cold = await round();
  const warm = await round();
  return [warm, `tasks=${a.n} sleep_ms=${a.delay} cold_ms=${cold.toFixed(3)}`];
}

// ---- tasks_100k_rss -----------------------------------------------------------------------

// Peak RSS (VmHWM) in MiB once n async functions are all suspended on a promise that is never
// settled until the end (Node has no cancellation: settling it is how they are let go).
async function tasksRSS(a) {
  const base = statusKiB('VmHWM:');
  let started = 0;
  let release;
  const never = new Promise((resolve) => {
    release = resolve;
  });
  const parker = async () => {
    started++;
    await never;
  };
  const tasks = [];
  for (let i = 0; i < a.n; i++) tasks.push(parker());
  await null;
  if (started < a.n) throw new Error(`only ${started} of ${a.n} tasks started`);
  const hwm = statusKiB('VmHWM:');
  release();
  await Promise.all(tasks);
  return [hwm / 1024, `tasks=${a.n} base_mib=${(base / 1024).toFixed(1)} per_task_kib=${((hwm - base) / a.n).toFixed(2)}`];
}

// ---- HTTP ---------------------------------------------------------------------------------

// The two clients a Node programmer picks from: the http module with a keep-alive Agent, and
// the built-in fetch (undici). Both were measured; run.sh uses the agent, the faster here
// (README). --client fetch selects the other.
function agentClient(maxSockets) {
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  const get = (url) =>
    new Promise((resolve, reject) => {
      const req = http.get(url, { agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        res.resume(); // read the body to its end, throwing it away
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`GET ${url}: status ${res.statusCode}`)));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
    });
  return { get, close: () => agent.destroy() };
}

function fetchClient() {
  const get = async (url) => {
    const res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET ${url}: status ${res.status}`);
  };
  return { get, close: () => {} };
}

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const makeClient = (a, concurrent) => (a.client === 'fetch' ? fetchClient() : agentClient(concurrent));

// ms until n concurrent GETs of /delay/MS are all answered.
async function httpBatch(a) {
  const client = makeClient(a, Infinity);
  const url = `${a.url}/delay/${a.delay}`;
  let ok = 0;
  const c0 = cpuSeconds();
  const t0 = now();
  const gets = [];
  for (let i = 0; i < a.n; i++) gets.push(client.get(url).then(() => ok++));
  try {
    await Promise.all(gets);
  } finally {
    client.close();
  }
  const value = now() - t0;
  return [value, `requests=${a.n} ok=${ok} delay_ms=${a.delay} cpu_s=${(cpuSeconds() - c0).toFixed(3)} client=${a.client}`];
}

// Requests per second of `conns` loops sharing one client, each GETting /bytes/0 until
// `seconds` have passed.
async function httpKeepalive(a) {
  const client = makeClient(a, a.conns);
  const url = `${a.url}/bytes/0`;
  let done = 0;
  const c0 = cpuSeconds();
  const t0 = now();
  const stop = t0 + a.seconds * 1000;
  const loop = async () => {
    while (now() < stop) {
      await client.get(url);
      done++;
    }
  };
  const loops = [];
  for (let i = 0; i < a.conns; i++) loops.push(loop());
  try {
    await Promise.all(loops);
  } finally {
    client.close();
  }
  const elapsed = (now() - t0) / 1000;
  return [done / elapsed, `loops=${a.conns} requests=${done} elapsed_s=${elapsed.toFixed(3)} cpu_s=${(cpuSeconds() - c0).toFixed(3)} client=${a.client}`];
}

// ---- the command line ---------------------------------------------------------------------

const BENCHMARKS = {
  yield_roundtrip: [yieldRoundtrip, 'ns'],
  spawn_join: [spawnJoin, 'ns'],
  sem_handoff: [semHandoff, 'ns'],
  group_gather: [groupGather, 'ns'],
  sleep_10k_100ms: [sleepMany, 'ms'],
  tasks_100k_rss: [tasksRSS, 'MiB'],
  http_1000x100ms: [httpBatch, 'ms'],
  http_keepalive_rps: [httpKeepalive, 'req/s'],
  wait_for_ready: [waitForReady, 'ns'],
};

function usage() {
  process.stderr.write('usage: bench_node.mjs BENCHMARK [--n N] [--delay MS] [--conns C] [--seconds S] ' +
    `[--url http://127.0.0.1:PORT] [--client agent|fetch]\nbenchmarks: ${Object.keys(BENCHMARKS).join(' ')}\n`);
  process.exit(2);
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        n: { type: 'string', default: '1000' },
        delay: { type: 'string', default: '100' },
        conns: { type: 'string', default: '100' },
        seconds: { type: 'string', default: '3' },
        url: { type: 'string' },
        client: { type: 'string', default: 'agent' },
      },
    });
  } catch (e) {
    process.stderr.write(`bench_node: ${e.message}\n`);
    usage();
  }
  const { values, positionals } = parsed;
  const name = positionals[0];
  if (positionals.length !== 1 || !(name in BENCHMARKS)) usage();
  const a = {
    n: Number(values.n), delay: Number(values.delay), conns: Number(values.conns),
    seconds: Number(values.seconds), url: values.url, client: values.client,
  };
  for (const k of ['n', 'delay', 'conns', 'seconds']) {
    if (!(a[k] > 0)) {
      process.stderr.write(`bench_node: --${k} wants a positive number, not '${values[k]}'\n`);
      process.exit(2);
    }
  }
  if (a.client !== 'agent' && a.client !== 'fetch') usage();
  if (name.startsWith('http_') && !a.url) {
    process.stderr.write(`bench_node: ${name} needs --url (the delayd base URL)\n`);
    process.exit(2);
  }
  const [fn, unit] = BENCHMARKS[name];
  try {
    const [value, extra] = await fn(a);
    process.stdout.write(`benchmark=${name} impl=node value=${value.toPrecision(6)} unit=${unit} ${extra}\n`);
  } catch (e) { // one line on stderr for the driver, not a stack trace
    process.stderr.write(`bench_node: ${name} failed: ${e.message}\n`);
    process.exit(1);
  }
}

main();
