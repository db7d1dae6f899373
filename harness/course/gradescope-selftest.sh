#!/usr/bin/env bash
# `make check-gradescope`: the Gradescope bundle (gradescope.sh) run against a fake /autograder
# layout: lesson 01's reference fetch.c handed in as a student would (the file alone) must score
# every point in a valid results.json; a missing submission folder must still give one, with 0.
set -uo pipefail
. harness/lib.sh
fail() { echo "[gradescope-selftest] $*" >&2; exit 1; }
root=$KIT_TMP/autograder
BUILD=$KIT_TMP/build GRADE_LESSONS=01 harness/course/gradescope.sh >"$KIT_TMP/bundle.log" 2>&1 ||
  { cat "$KIT_TMP/bundle.log"; fail "the bundle was not made"; }
zip=$KIT_TMP/build/gradescope/autograder.zip
[ -s "$zip" ] || fail "no autograder.zip"
mkdir -p "$root/source" "$root/submission"
# Unpacked as unzip does it, modes included (Python's extractall drops them).
python3 - "$zip" "$root/source" <<'PY' || fail "autograder.zip does not unpack"
import os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for info in z.infolist():
    path = z.extract(info, sys.argv[2])
    mode = info.external_attr >> 16
    if mode & 0o777:
        os.chmod(path, mode & 0o777)
PY
for f in setup.sh run_autograder kit/Makefile; do [ -e "$root/source/$f" ] || fail "the bundle lacks $f"; done
[ -e "$root/source/kit/solutions" ] && fail "the bundle carries the solutions"
[ -x "$root/source/run_autograder" ] && [ -x "$root/source/kit/harness/course/deps.sh" ] ||
  fail "the bundle lost its files' modes (run_autograder and the kit's scripts must be executable)"

# A student's submission: the exercise file at the top, as Gradescope's upload form gives it.
cp solutions/01-sync-vs-async/fetch.c "$root/submission/"
AUTOGRADER=$root BUILD=build "$root/source/run_autograder" >"$KIT_TMP/run.log" 2>&1 ||
  { cat "$KIT_TMP/run.log"; fail "run_autograder failed"; }
python3 - "$root/results/results.json" <<'PY' || fail "results.json is wrong (above)"
import json, sys
r = json.load(open(sys.argv[1]))
tests = r.get("tests", [])
assert len(tests) >= 10, f"only {len(tests)} tests in results.json: {r.get('output')}"
for t in tests:
    for k in ("name", "score", "max_score", "status"):
        assert k in t, f"a test lacks {k}: {t}"
    assert t["status"] == "passed" and t["score"] == t["max_score"], f"the reference lost a point: {t}"
assert r["score"] == sum(t["score"] for t in tests), "score is not the sum of the tests"
print(f"results.json: {r['score']} of {sum(t['max_score'] for t in tests)} points, {len(tests)} tests")
PY
# No submission at all: still a results.json Gradescope can show.
rm -rf "$root/submission" "$root/results"
AUTOGRADER=$root "$root/source/run_autograder" >/dev/null 2>&1
python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["score"] == 0 and r["output"]' \
  "$root/results/results.json" 2>/dev/null || fail "a missing submission gives no valid results.json"
echo "gradescope: the bundle graded the reference 01 in a fake /autograder layout; a missing submission scored 0 with a message"
