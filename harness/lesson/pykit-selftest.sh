#!/usr/bin/env bash
# Self-test of the lessons' asyncio programs (lessons/NN-topic/python/main.py, with pykit.py),
# run by `make check` as part of check-lesson-bench: each one in every mode of its BENCH_MODES,
# once, at a tiny point, against one private delayd (reset by each run), with the options
# bench.sh gives it. Each row must carry exactly the C program's fields in the same order (read
# from the row's printf in the lesson's main.c, so nothing is built), name its mode, have
# numbers for wall_s, cpu_s and theory_s (and for peak: the server is delayd), and show the
# lesson's point at that tiny point (the counts below). The programs run one after another in
# one interpreter (runpy, as `python3 main.py ARGS` would), so aiohttp is imported once: about
# a second in all.
set -uo pipefail
. harness/lib.sh
python=${PYTHON:-python3}
fail() { echo "[pykit-selftest] $*" >&2; exit 1; }
"$python" -c 'import aiohttp' 2>/dev/null ||
  { echo "skip: $python cannot import aiohttp, so the asyncio programs cannot run (apt-get install python3-aiohttp)"; exit 0; }
kit_start_server || fail "no delayd to run against"
"$python" - "$SERVER_URL" <<'PY' || exit 1
import contextlib, glob, io, os, re, runpy, sys

url = sys.argv[1]
# The tiny point of each lesson, and what each mode's row must say there: only what no load can
# change (a sequential peak of 1, a capped peak of at most K, counts of answers and of what was
# left open), never a lower bound on a concurrent peak, which a slow start can lower. Lesson
# 04's left is not asked: delayd notices a client gone only during sleeps of a second or more.
# Lesson 10's peak is not asked either: a request an earlier lesson left in flight at the reset
# counts in it (its requests, the server's count of this run's, are). Lesson 11 has one caller:
# with several, whether a caller's second call goes out before the others' first answers open
# the breaker is a race a loaded machine decides (it once sent 4 where 3 were expected); one
# caller's calls follow each other, so the threshold alone decides (2 sent, 2 refused).
ARGS = {"01": "--n 3 --delay 20", "02": "--n 3 --delay 20", "03": "--n 3 --delay 20",
        "04": "--n 3 --delay 30", "05": "--n 4 --k 2 --delay 20",
        "06": "--n 4 --hung 25 --delay 20 --deadline 300 --hang 800",
        "07": "--n 4 --slow 50 --slow-ms 900 --delay 20 --hedge 30",
        "08": "--n 13 --delay 5 --work 10 --producers 2 --consumers 1 --q 2",
        "09": "--n 3 --delay 20 --work 2 --write 5 --k 1",
        "10": "--n 8 --repeat 75 --delay 20",
        "11": "--n 1 --calls 4 --gap 5 --attempts 3 --threshold 2 --cooldown 60000",
        "12": "--n 13 --k 3 --delay 5",
        "13": "--n 13 --delay 10 --window 4"}
WANT = {
    "01": {"seq": "peak=1 ok=3", "conc": "ok=3"},
    "02": {"blocking": "fired=3", "loop": "fired=3"},
    "03": {"await": "peak=1 ok=3", "tasks": "ok=3", "jobs": "ok=3"},
    "04": {"all": "useful=3", "first": "useful>=1", "mine": "useful>=1"},
    "05": {"unbounded": "s429=0 ok=4", "sem": "peak<=2 s429=0 ok=4",
           "mine": "peak<=2 s429=0 ok=4", "curl": "peak<=2 s429=0 ok=4"},
    "06": {"none": "stuck=1 ok=4 cut=0 open=0", "batch": "stuck=1 ok<=3 cut>=1 open=0",
           "mine": "stuck=1 ok<=3 cut>=1 open=0"},
    "07": {"none": "slow=2 sent=1 winner=0 answered=1 cancelled=0 open=0",
           "wait-all": "slow=2 failed=0 cancelled=0 open=0",
           "mine": "slow=2 failed=0 cancelled>=1 open=0"},
    "08": {"unbounded": "sent=13 processed=13 failed=0",
           "bounded": "sent=13 processed=13 failed=0 held<=5",
           "mine": "sent=13 processed=13 failed=0 held<=5"},
    "09": {"blocking": "on_loop=9 cpu_peak=1 write_peak=1 ok=3 open=0",
           "to_thread-all": "on_loop=0 cpu_peak<=3 ok=3 open=0",
           "mine": "on_loop=0 cpu_peak=1 ok=3 open=0"},
    "10": {"global": "distinct=2 requests=2 ok=8 failed=0 wrong=0 open=0",
           "nolock": "distinct=2 requests=8 ok=8 failed=0 wrong=0 open=0",
           "mine": "distinct=2 requests=2 ok=8 failed=0 wrong=0 open=0"},
    "11": {"once": "sent=4 ok=0 failed=4 fast=0",
           "retry": "sent=12 ok=0 failed=4 fast=0",
           "breaker": "sent=2 ok=0 failed=4 fast=2"},
    "12": {"seq": "peak=1 sent=13 pages=13 fetched=13 k_peak=1",
           "mine": "peak<=3 sent=13 pages=13 fetched=13 k_peak<=3"},
    "13": {"seq": "peak=1 sent=13 fine=13 broken=0 held<=4",
           "c4": "peak<=4 sent=13 fine=13 broken=0 held<=4",
           "c16": "peak<=4 sent=13 fine=13 broken=0 held<=4",
           "c64": "peak<=4 sent=13 fine=13 broken=0 held<=4",
           "slurp": "sent=13 fine=13 broken=0 held=13"},
}


def fail(msg):
    sys.exit(f"[pykit-selftest] {msg}")


def c_fields(main_c):
    """The C row's field names, in order, from its printf("mode=...")."""
    s = open(main_c).read()
    i = s.find('printf("mode=')
    if i < 0:
        fail(f"{main_c} has no printf(\"mode=...\") of its row")
    text = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', s[i:s.index(");", i)]))
    return re.findall(r"([a-z0-9_]+)=%", text)


def run(prog, argv):
    """prog run as `python3 prog ARGV` would run it: (exit status, stdout, stderr)."""
    out, err, rc = io.StringIO(), io.StringIO(), 0
    saved = sys.argv
    sys.argv = [prog] + argv
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            runpy.run_path(prog, run_name="__main__")
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException as e:          # noqa: B902 - a crash is a failure, reported below
        rc, err = 1, io.StringIO(f"{type(e).__name__}: {e}")
    finally:
        sys.argv = saved
    return rc, out.getvalue(), err.getvalue()


checked = 0
for prog in sorted(glob.glob("lessons/*/python/main.py")):
    lesson_dir = prog[: -len("/python/main.py")]
    n = os.path.basename(lesson_dir).split("-")[0]
    fields = c_fields(f"{lesson_dir}/main.c")
    rc, out, err = run(prog, ["--help"])
    if rc != 0 or "--mode" not in out:
        fail(f"lesson {n}'s {prog} --help ended with exit {rc}: {' '.join(err.strip().splitlines()[-3:])}")
    mk = open(f"{lesson_dir}/lesson.mk").read()
    m = re.search(r"^BENCH_MODES\s*:=\s*(.*)$", mk, re.M)
    if not m or not m.group(1).split():
        fail(f"lesson {n}: its lesson.mk names no BENCH_MODES")
    for mode in m.group(1).split():
        argv = ["--url", url, "--mode", mode] + ARGS.get(n, "--n 3 --delay 20").split()
        what = f"lesson {n}'s {prog} {' '.join(argv[2:])}"
        rc, out, err = run(prog, argv)
        if rc != 0:
            fail(f"{what} ended with exit {rc}: {' '.join(err.strip().splitlines()[-3:])}")
        lines = out.splitlines()
        if len(lines) != 1:
            fail(f"{what} printed {len(lines)} lines on stdout, not one row: {out!r}")
        row = dict(pair.split("=", 1) for pair in lines[0].split())
        if list(row) != fields:
            fail(f"{what}: its row has the fields {' '.join(row)}; the C program's (main.c) "
                 f"{' '.join(fields)}")
        if row["mode"] != mode:
            fail(f"{what}: its row says mode={row['mode']}")
        for f in ["wall_s", "cpu_s", "theory_s"] + (["peak"] if "peak" in fields else []):
            if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", row[f]):
                fail(f"{what}: {f} is not a number against delayd: {lines[0]}")
        for want in WANT.get(n, {}).get(mode, "").split():
            k, op, v = re.fullmatch(r"([a-z0-9_]+)(<=|>=|=)([0-9]+)", want).groups()
            got = row.get(k, "")
            holds = got.isdigit() and {"=": int(got) == int(v), "<=": int(got) <= int(v),
                                       ">=": int(got) >= int(v)}[op]
            if not holds:
                fail(f"{what}: expected {k}{op}{v}, the row says {k}={got}: {lines[0]}")
        checked += 1
if checked == 0:
    fail("no lesson has a python/main.py")
print(f"pykit selftest: {checked} runs of the asyncio programs, each row with its C program's "
      f"fields and the lesson's counts")
PY
