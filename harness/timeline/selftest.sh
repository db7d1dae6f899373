#!/usr/bin/env bash
# Self-test of `make lesson-NN timeline`, run by `make check` (check-timeline): lesson 01's and
# lesson 03's reference programs at a tiny point, then the files are checked: the PNG and SVG
# exist, the Chrome trace is valid JSON with complete events (python3's json module), the server
# lanes show the staircase (seq: no two requests overlap) against the block (conc: all at once),
# lesson 03's tasks wait for their transfers and main for its joins, and the text fits 80 columns.
# The programs are built in a private build folder seeded with copies of the shared libraries
# (make check builds the same lessons beside this test: no object is written by both).
set -uo pipefail
out=$(mktemp -d "${TMPDIR:-/tmp}/kit-timeline-selftest.XXXXXX")
trap 'rm -rf "$out"' EXIT
BUILD=${BUILD:-build}
fail() { echo "[timeline-selftest] $*" >&2; exit 1; }
command -v python3 >/dev/null || { echo "skip: python3 is not installed, so the Chrome trace cannot be validated (apt-get install python3)"; exit 0; }

b=$out/build
mkdir -p "$b/aio"
cp -a "$BUILD/bin" "$BUILD/delayd" "$BUILD/kit" "$b/" && cp -a "$BUILD/aio/opt" "$b/aio/" &&
  cp -a "$BUILD"/.deps-ok-* "$b/" || fail "the shared build ($BUILD/bin, kit, aio/opt) is missing: make all first"

# timeline NN ARGS: the goal for lesson NN's reference; its output in $out/NN.log.
timeline() {
  make -s --no-print-directory BUILD="$b" KIT_DELAYD="$b/bin/delayd" COMPDB= lesson-"$1" timeline SOLUTION=1 \
    TIMELINE_ARGS="$2" TIMELINE_PNG="$out/$1.png" TIMELINE_JSON="$out/$1.json" >"$out/$1.log" 2>&1 ||
    { cat "$out/$1.log" >&2; fail "make lesson-$1 timeline failed (its output is above)"; }
  for f in "$out/$1.png" "$out/$1.svg" "$out/$1.json"; do [ -s "$f" ] || fail "lesson $1: $f was not written"; done
  [ "$(head -c 8 "$out/$1.png" | od -An -c | tr -d ' \n')" = '211PNG\r\n032\n' ] || fail "lesson $1: the PNG is not a PNG"
  grep -q '<svg' "$out/$1.svg" || fail "lesson $1: the SVG has no <svg> element"
  grep -q '^one column = ' "$out/$1.log" || fail "lesson $1: no text lanes were printed"
  awk '/^one column = /, /^timeline: / { if (!/^timeline: / && length($0) > 80) { print "line " NR " is " length($0) " columns: " $0; bad = 1 } }
       END { exit bad }' "$out/$1.log" ||
    fail "lesson $1: the text lanes do not fit 80 columns"
}

# Side by side (each has its own server): they share no file. Requests of 400 ms, so that "all
# at once" (each starts before any ends) holds through a stall of almost 0.4 s between
# two starts, which a loaded CI machine can make (a 100 ms request could be overtaken).
timeline 01 "--n 3 --delay 400" & p01=$!
timeline 03 "--n 3 --delay 400" & p03=$!
wait "$p01"; r01=$?
wait "$p03"; r03=$?
[ "$r01" -eq 0 ] && [ "$r03" -eq 0 ] || exit 1

# Lesson 03's modes (await, tasks, jobs today): each fetches 3 URLs.
modes03=$(make -s --no-print-directory lesson-03 vars SOLUTION=1 | sed -n "s/^BENCH_MODES='\(.*\)'$/\1/p" | wc -w)
python3 - "$out" "$modes03" <<'PY' || fail "a Chrome trace is wrong (the message is above)"
import json, sys
out = sys.argv[1]
modes03 = int(sys.argv[2])

def load(nn):
    with open(f"{out}/{nn}.json") as f:
        doc = json.load(f)
    evs = doc["traceEvents"]
    assert isinstance(evs, list) and evs, f"lesson {nn}: traceEvents is empty"
    for e in evs:
        assert e["ph"] in ("X", "M"), f"lesson {nn}: an event of phase {e['ph']}"
        assert isinstance(e["pid"], int) and isinstance(e["tid"], int) and e["name"]
        if e["ph"] == "X":
            assert e["ts"] >= 0 and e["dur"] >= 0, f"lesson {nn}: negative time in {e}"
    return [e for e in evs if e["ph"] == "X"]

def server(evs, pid):
    return sorted((e["ts"], e["ts"] + e["dur"]) for e in evs if e["pid"] == pid and e["cat"] == "server")

for nn in ("01", "03"):
    evs = load(nn)
    seq, conc = server(evs, 1), server(evs, 2)
    assert len(seq) == 3 and len(conc) == 3, f"lesson {nn}: {len(seq)} and {len(conc)} server lanes, expected 3 and 3"
    for a, b in zip(seq, seq[1:]):
        assert b[0] >= a[1], f"lesson {nn}: one after another, yet request spans {a} and {b} overlap"
    assert max(s for s, _ in conc) < min(e for _, e in conc), f"lesson {nn}: all at once, yet the requests {conc} do not overlap"

evs = load("03")
tasks = [e for e in evs if e["pid"] == 2]
causes = {e["args"]["cause"] for e in tasks if e["cat"].startswith("wait")}
assert {"http", "join"} <= causes, f"lesson 03, tasks mode: waits for {sorted(causes)}; expected http (the tasks) and join (main)"
lanes = {e["tid"] for e in tasks if e["cat"] == "running"}
assert len(lanes) == 4, f"lesson 03, tasks mode: {len(lanes)} task lanes ran; expected 4 (main and 3 downloads)"
http = [e for e in evs if e["cat"] == "http"]
assert modes03 >= 2 and len({e["pid"] for e in evs if e["cat"] == "server"}) == modes03, f"lesson 03: server lanes for {len({e['pid'] for e in evs if e['cat'] == 'server'})} modes; BENCH_MODES has {modes03}"
assert len(http) == 3 * modes03, f"lesson 03: {len(http)} HTTP transfers in the trace; expected {3 * modes03} (3 in each of its {modes03} modes)"
PY
echo "timeline self-test: lessons 01 and 03 drawn, traces valid"
