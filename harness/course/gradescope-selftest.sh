#!/usr/bin/env bash
# `make check-gradescope`: the Gradescope bundle (gradescope.sh) run against a fake /autograder
# layout: lesson 01's reference fetch.c handed in as a student would (the file alone) must score
# every point in a valid results.json; a missing submission folder must still give one, with 0.
set -uo pipefail
. harness/lib.sh
fail() { echo "[gradescope-selftest] $*" >&2; exit 1; }
root=$KIT_TMP/autograder
# An instructor's hidden test, in the bundle only: the reference passes it, and its visibility
# (after_published) must reach results.json.
mkdir -p "$KIT_TMP/hidden/01-sync-vs-async"
cat >"$KIT_TMP/hidden/01-sync-vs-async/extra.c" <<'C'
#include "fetch.h"
#include <criterion/criterion.h>
Test(extra, an_empty_list_is_no_error)
{ cr_assert_eq(fetch_sequential(NULL, 0, NULL), 0, "[extra-empty] an empty list of URLs is no error"); }
C
echo 'extra::* after_published' >"$KIT_TMP/hidden/01-sync-vs-async/visibility"
BUILD=$KIT_TMP/build GRADE_LESSONS=01 TESTS=$KIT_TMP/hidden harness/course/gradescope.sh >"$KIT_TMP/bundle.log" 2>&1 ||
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
[ -f "$root/source/hidden/01-sync-vs-async/extra.c" ] && [ -z "$(find "$root/source/kit" -name extra.c)" ] ||
  fail "the hidden test is not in the bundle, or it is in the students' copy"
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
vis = {t["name"]: t.get("visibility") for t in tests}
assert vis.get("01 extra::an_empty_list_is_no_error") == "after_published", f"the hidden test or its visibility is missing: {vis}"
assert all(v == "visible" for k, v in vis.items() if "extra::" not in k), vis
print(f"results.json: {r['score']} of {sum(t['max_score'] for t in tests)} points, {len(tests)} tests")
PY
# No submission at all: still a results.json Gradescope can show.
rm -rf "$root/submission" "$root/results"
AUTOGRADER=$root "$root/source/run_autograder" >/dev/null 2>&1
python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["score"] == 0 and r["output"]' \
  "$root/results/results.json" 2>/dev/null || fail "a missing submission gives no valid results.json"

# The GitHub Actions workflow of the students' copy (the bundle's kit is one): valid YAML that
# installs with apt-get, grades, writes the summary and uploads the grades; then the script it
# runs, here, on the copy's own (skeleton) lesson 01: the summary must hold the score's table.
wf=$root/source/kit/.github/workflows/grade.yml
[ -f "$wf" ] || fail "the students' copy has no .github/workflows/grade.yml"
python3 - "$wf" <<'PY' || fail "the workflow is not what GitHub Actions needs (above)"
import sys
text = open(sys.argv[1]).read()
try:
    import yaml
except ImportError:
    yaml = None
if yaml:
    w = yaml.safe_load(text)
    on = w.get("on", w.get(True))   # YAML 1.1 reads a bare `on` as true
    assert on is not None and "push" in on, f"not run on push: {on}"
    job = w["jobs"]["grade"]
    assert job["runs-on"] == "ubuntu-latest", job["runs-on"]
    steps = job["steps"]
    runs = " ".join(s.get("run", "") for s in steps)
    uses = [s.get("uses", "") for s in steps]
    assert "apt-get install" in runs and "libcriterion-dev" in runs, "no apt-get install of the kit's packages"
    assert "harness/course/actions-grade.sh" in runs, "the grading script is not run"
    assert any(u.startswith("actions/checkout@") for u in uses), "no checkout"
    up = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert up and up[0]["with"]["path"].startswith("grades"), "the grades are not uploaded"
    print("workflow: valid YAML (PyYAML), on push, ubuntu-latest, apt-get, grade, summary, artifact")
else:
    assert "\t" not in text, "a tab in YAML"
    for key in ("on:", "  push:", "jobs:", "runs-on: ubuntu-latest", "apt-get install", "actions-grade.sh", "actions/upload-artifact@"):
        assert key in text, f"the workflow lacks {key}"
    print("workflow: structure checked (no PyYAML)")
PY
summary=$KIT_TMP/step-summary.md
(cd "$root/source/kit" && GITHUB_STEP_SUMMARY=$summary GRADES=$KIT_TMP/actions-grades GRADE_LESSONS=01 BUILD=build \
   harness/course/actions-grade.sh) >"$KIT_TMP/actions.log" 2>&1 || { cat "$KIT_TMP/actions.log"; fail "actions-grade.sh failed"; }
grep -q '^| Lesson | Points |' "$summary" && grep -qE '^\| 01 \| 0/[0-9]+ \|' "$summary" && grep -q '^| \*\*total\*\* |' "$summary" ||
  { cat "$summary"; fail "the job summary has no table of the score"; }
echo "gradescope: the bundle graded the reference 01 in a fake /autograder layout (a hidden test and its visibility included); a missing submission scored 0 with a message"
echo "actions: the students' workflow is valid; its script wrote the score's table to GITHUB_STEP_SUMMARY"
