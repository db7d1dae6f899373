#!/usr/bin/env python3
"""The performance component of `make grade` (harness/course/grade.sh; GRADING.md, "The
performance component"): one student's lesson program against the reference, in the same run.

The student's program and the reference run in turn, RUNS times each (the student's first), each
run against a fresh delayd that this script starts with --trace. A run counts only when the
server's own trace shows the work was done: exactly N requests, each answered 200 after at
least D ms, all begun and ended while the program ran (its wall time, measured here from
outside the program and its sandbox), with a peak in flight (computed from the trace) within
the lesson's bounds; and when the program's row on stdout says mode, n and ok = N. A run's
figure is the time from the first request's arrival (the server's clock, CLOCK_MONOTONIC) to
the program's exit (this script's clock, the same one): the program's own wall_s is never read,
and the start of the sandbox and of the process (0.3 to 0.8 s here, with a spread larger than
a lesson's whole batch) is left out. The result is the ratio of the fastest runs (student's /
reference's): a busy machine only ever adds time to a run, so each program's fastest run is the
one least blurred by the load (every run counted has already shown, on the server's trace, that
it did the lesson's work with the concurrency asked); the points follow the curve: full at ratio
<= FULL, none at >= ZERO, linear between.

The commands come from files of NUL-separated arguments in which @URL@ stands for the server's
address. The network: grade.sh runs this script in a network namespace of its own (unshare
--net) where loopback is brought up here, and the sandboxes share it (bwrap --share-net): the
student's code reaches this delayd and nothing else; delayd runs as another user (--server-uid),
outside the sandbox's PID namespace, so the student's code can neither signal it nor read its
memory.

Prints one line, tab-separated: STATUS POINTS MAX DIAGNOSTIC (STATUS pass, partial, fail or
error), and writes what each run saw to --log.
"""
import argparse
import ctypes
import fcntl
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request

ROW_CAP = 1 << 20        # bytes of a program's stdout read for its row
ERR_CAP = 4096           # bytes of a failed run's stderr copied to the log


def lo_up():
    """Bring the loopback interface up (a new network namespace starts with it down)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s.fileno(), 0x8913, req))[1]   # SIOCGIFFLAGS
        fcntl.ioctl(s.fileno(), 0x8914, struct.pack("16sH14x", b"lo", flags | 0x1))  # SIOCSIFFLAGS, IFF_UP
    finally:
        s.close()


def die_with_parent():
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG


class Server:
    """A private delayd with its trace on, started for one run."""

    def __init__(self, delayd, uid, log):
        cmd = [delayd, "--host", "127.0.0.1", "--port", "0", "--trace", "100000"]
        if uid is not None:
            # (--pdeathsig after the change of user, which clears it.)
            cmd = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--pdeathsig", "KILL", "--"] + cmd
        # The server dies with this script, however it ends: nothing outlives the batch.
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                                     start_new_session=True, preexec_fn=die_with_parent)
        line = self.proc.stdout.readline().decode(errors="replace")
        m = re.match(r"delayd listening on (http://127\.0\.0\.1:\d+)", line)
        if not m:
            self.stop()
            raise RuntimeError(f"delayd did not start (it said: {line.strip()!r})")
        self.url = m.group(1)

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return r.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def read_trace(text):
    """(begin_us, end_us, status, answered, path) of each traced request; dropped count."""
    reqs, dropped = [], 0
    for line in text.splitlines():
        if line.startswith("# requests"):
            m = re.search(r"dropped (\d+)", line)
            dropped = int(m.group(1)) if m else 0
            continue
        if line.startswith("#"):
            continue
        f = line.split(" ", 4)
        if len(f) == 5 and all(x.isdigit() for x in f[:4]):
            reqs.append((int(f[0]), int(f[1]), int(f[2]), f[3] == "1", f[4]))
    return reqs, dropped


def peak_of(reqs):
    """The most requests in flight at once, from their intervals (an end before a begin at the
    same microsecond)."""
    events = sorted([(b, 1) for b, *_ in reqs] + [(e, -1) for _, e, *_ in reqs], key=lambda x: (x[0], x[1]))
    cur = top = 0
    for _, d in events:
        cur += d
        top = max(top, cur)
    return top


def parse_row(raw, mode, n):
    """The program's last row (a line starting "mode="): an error sentence, or None when it
    says mode, n and ok = n. Nothing the row says is trusted beyond that."""
    rows = [l for l in raw.decode("utf-8", errors="replace").splitlines() if l.startswith("mode=")]
    if not rows:
        return "it printed no row (a line mode=... on stdout)"
    kv = {}
    for pair in rows[-1].split():
        k, eq, v = pair.partition("=")
        if eq:
            kv.setdefault(k, v)
    if kv.get("mode") != mode or kv.get("n") != str(n):
        return f"its row is not the one asked for (mode={mode} n={n})"
    ok = kv.get("ok", "")
    if not ok.isdigit():
        return "its row has no ok=COUNT field"
    if int(ok) != n:
        return f"its row says ok={int(ok)}: not every one of the {n} requests answered 200"
    return None


def one_run(args, cmd_template, who, log):
    """Run one program once against a fresh server. Returns (span_s, wall_s, reason): span_s the
    time the server saw the requests take (None unless the run counts), wall_s the run's time
    from outside (None when it was stopped at the time limit), reason why the run does not
    count (None when it does)."""
    server = Server(args.delayd, args.server_uid, log)
    try:
        cmd = [a.replace("@URL@", server.url) for a in cmd_template]
        out_path = os.path.join(args.tmp, "stdout")
        err_path = os.path.join(args.tmp, "stderr")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            t0 = time.monotonic_ns()
            p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                 start_new_session=True, preexec_fn=die_with_parent)
            try:
                rc = p.wait(timeout=args.limit_now)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                return None, None, f"it was stopped after {args.limit_now:.1f} s"
            t1 = time.monotonic_ns()
        wall = (t1 - t0) / 1e9
        with open(out_path, "rb") as f:
            raw = f.read(ROW_CAP)
        # The server's evidence, read once the program and its sandbox are gone.
        reqs, dropped = read_trace(server.get("/trace"))
    finally:
        server.stop()
    with open(err_path, "rb") as f:
        err_text = f.read(ERR_CAP).decode("utf-8", errors="replace")

    def bad(reason):
        if err_text.strip():
            log.write(f"  {who}'s stderr (first {ERR_CAP} bytes):\n" +
                      "".join("    " + l + "\n" for l in err_text.splitlines()))
        return None, wall, reason

    if rc != 0:
        # (In the sandbox, a program killed by signal S makes bwrap exit with 128 + S.)
        return bad(f"it was killed by signal {rc - 128 if rc > 128 else -rc}" if rc < 0 or rc > 128
                   else f"it exited with status {rc}")
    why = parse_row(raw, args.mode, args.n)
    if why:
        return bad(why)
    t0_us, t1_us = t0 // 1000, t1 // 1000
    done = [r for r in reqs if r[2] == 200 and r[3] and r[1] != 0
            and r[1] - r[0] >= (args.delay - 1) * 1000 and t0_us <= r[0] and r[1] <= t1_us]
    if dropped or len(reqs) != args.n or len(done) != args.n:
        others = len(reqs) - len(done)
        return bad(f"the server saw {len(reqs) + dropped} request(s), {len(done)} of them answered 200 after "
                   f"{args.delay} ms while the program ran{f' ({others} other)' if others else ''}; "
                   f"the lesson asks for exactly {args.n}")
    peak = peak_of(done)
    if not args.peak_min <= peak <= args.peak_max:
        want = (f"{args.peak_min}" if args.peak_min == args.peak_max
                else f"between {args.peak_min} and {args.peak_max}")
        return bad(f"the server's peak in flight was {peak}; the lesson asks for {want}")
    # The figure: from the first request's arrival to the last answer, on the server's clock.
    return (t1_us - min(r[0] for r in done)) / 1e6, wall, None


def median(v):
    v = sorted(v)
    k = len(v)
    return v[k // 2] if k % 2 else (v[k // 2 - 1] + v[k // 2]) / 2


def fmt(x):
    return f"{x:.2f}".rstrip("0").rstrip(".")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--delayd", required=True)
    ap.add_argument("--server-uid", type=int)
    ap.add_argument("--netns", action="store_true", help="bring loopback up first")
    ap.add_argument("--ref", required=True, help="file: the reference's command, NUL-separated")
    ap.add_argument("--student", required=True, help="file: the student's command, NUL-separated")
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--delay", type=int, required=True)
    ap.add_argument("--peak", default="1 1000000")
    ap.add_argument("--points", type=float, required=True)
    ap.add_argument("--full", type=float, default=1.1)
    ap.add_argument("--zero", type=float, required=True)
    ap.add_argument("--zero-why", default="")
    ap.add_argument("--limit", type=float, default=30)
    args = ap.parse_args()
    lo, _, hi = args.peak.partition(" ")
    args.peak_min, args.peak_max = int(lo), int(hi or lo)
    ref = open(args.ref, "rb").read().split(b"\0")[:-1]
    student = open(args.student, "rb").read().split(b"\0")[:-1]
    ref = [a.decode() for a in ref]
    student = [a.decode() for a in student]
    P = args.points

    def say(status, points, diag):
        print(f"{status}\t{fmt(points)}\t{fmt(P)}\t{diag}")

    with open(args.log, "w") as log:
        if args.netns:
            lo_up()
        refs, mine, walls = [], [], []
        for r in range(1, args.runs + 1):
            # The student's program first: a run that does not count ends the measure at once.
            # Its time limit: far past the point where the curve gives nothing; before the
            # reference has run, four times the requests one after another, at least 10 s.
            first = max(10.0, 4 * args.n * args.delay / 1000)
            args.limit_now = min(args.limit, max(5.0, 2 * args.zero * median(walls)) if walls else first)
            span, wall, why = one_run(args, student, "your program", log)
            log.write(f"run {r} your program: {show(span, wall, why)}\n")
            log.flush()
            if wall is None:
                say("fail", 0, f"[perf-too-slow] your program's run {r} was stopped after {args.limit_now:.1f} s"
                    + (f" (the reference takes {median(walls):.3f} s)" if walls else "") + f": 0 of {fmt(P)} points.")
                return
            if why is not None:
                say("fail", 0, f"[perf-not-correct] run {r}: {why}. Speed counts only for a run that does "
                    f"what the lesson asks: 0 of {fmt(P)} points.")
                return
            mine.append(span)
            args.limit_now = args.limit
            for attempt in (1, 2):   # the reference again once: a failure there is the grader's
                span, wall, why = one_run(args, ref, "the reference", log)
                log.write(f"run {r} reference: {show(span, wall, why)}\n")
                if why is None:
                    break
            if why is not None:
                say("error", 0, f"[perf-reference-failed] the reference program failed in this run ({why}): "
                    "the grading machine's fault, not yours; the perf points need a new grading.")
                return
            refs.append(span)
            walls.append(wall)
        # The fastest runs, not the medians: the reference graded against itself, three lanes
        # on two cores, gave ratios of medians from 0.92 to 1.17 (46 gradings of lessons 01 and
        # 05; 3 over FULL, so identical code lost points) and ratios of the fastest runs from
        # 0.95 to 1.06.
        ratio = min(mine) / min(refs)
        share = min(1.0, max(0.0, (args.zero - ratio) / (args.zero - args.full)))
        points = round(P * share, 2)
        status = "pass" if share >= 1 else "partial" if points > 0 else "fail"
        zero_why = f" ({args.zero_why})" if args.zero_why else ""
        diag = (f"[perf] from its first request to its exit your program took {min(mine):.3f} s, the "
                f"reference {min(refs):.3f} s (the fastest of {args.runs} runs each, interleaved, in the same "
                f"grading run; a busy machine only adds time): ratio {ratio:.2f}. Full marks up to "
                f"{fmt(args.full)}, none from {fmt(args.zero)}"
                f"{zero_why}, linear between: {fmt(points)} of {fmt(P)} points.")
        log.write(f"medians: your program {median(mine):.3f} s, the reference {median(refs):.3f} s\n")
        log.write(diag + "\n")
        say(status, points, diag)


def show(span, wall, why):
    if wall is None:
        return why
    out = f"{wall:.3f} s from outside"
    if span is not None:
        out += f", {span:.3f} s from the first request (server's clock) to the exit"
    return out + (f": {why}" if why else "")


if __name__ == "__main__":
    main()
