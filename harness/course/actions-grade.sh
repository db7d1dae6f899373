#!/usr/bin/env bash
# What the students' GitHub Actions workflow (.github/workflows/grade.yml, written by
# `make actions` and put in the students' copy by `make dist-student`) runs on every push: `make
# grade` on the student's own files (GRADE_LESSONS="03 04" for some lessons only; every lesson of
# the copy by default), then the score as Markdown tables in the job's summary
# ($GITHUB_STEP_SUMMARY: a line a lesson and the total, then the tests that lost points with
# their diagnostics). The grades folder (GRADES, default grades) is what the workflow uploads.
# Run it anywhere with GITHUB_STEP_SUMMARY=file to see the summary it writes.
set -uo pipefail
grades=${GRADES:-grades}
summary=${GITHUB_STEP_SUMMARY:-/dev/stdout}
GRADES=$grades make -s --no-print-directory grade
rc=$?
if [ ! -s "$grades/summary.csv" ]; then
  {
    echo "## Grade"
    echo
    echo "[grade-failed] make grade stopped before it wrote any grade (exit status $rc); the job's log says why."
  } >>"$summary"
  exit 1
fi
python3 - "$grades" >>"$summary" <<'PY'
import csv, sys
grades = sys.argv[1]
rows = list(csv.reader(open(f"{grades}/summary.csv", newline="")))
head, me = rows[0], rows[1]
lessons = head[1:-2]
def md(s):
    return str(s).replace("|", "\\|").replace("\n", " ")
print(f"## Grade: {me[-2]} points")
print()
print("| Lesson | Points |")
print("|---|---:|")
for name, got in zip(lessons, me[1:-2]):
    print(f"| {md(name)} | {md(got)} |")
print(f"| **total** | **{md(me[-2])}** |")
lost = [r for r in csv.DictReader(open(f"{grades}/class.csv", newline="")) if r["status"] != "pass"]
if lost:
    print()
    print(f"<details><summary>{len(lost)} tests lost points</summary>")
    print()
    print("| Lesson | Test | Status | Diagnostic |")
    print("|---|---|---|---|")
    for r in lost:
        print(f"| {md(r['lesson'])} | {md(r['test'])} | {md(r['status'])} | {md(r['diagnostic'][:300])} |")
    print()
    print("</details>")
PY
exit "$rc"
