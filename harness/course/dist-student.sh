#!/usr/bin/env bash
# `make dist-student [DIST=dir]`: the copy students get: the kit as committed (HEAD), without the
# reference solutions and their known mistakes (solutions/), the mutation baseline and the kit's
# own CI. Its lessons are the skeletons, so every test fails cleanly with [not-done]; `make grade`
# works in it (the test lists come from the tests). It carries .github/workflows/grade.yml (make
# actions): a push to the student's repository grades it. Default folder: $BUILD/dist-student.
set -euo pipefail
BUILD=${BUILD:-build}
dist=${DIST:-$BUILD/dist-student}
git rev-parse --verify -q HEAD >/dev/null || { echo "[dist-student] needs the kit's git history (it copies HEAD)" >&2; exit 1; }
case $dist in ''|/|.|..) echo "[dist-student] DIST=$dist would replace more than a copy" >&2; exit 2 ;; esac
if [ -e "$dist" ] && [ ! -f "$dist/.kit-student-copy" ]; then
  echo "[dist-student] $dist exists and is not an earlier student copy; give DIST a new folder." >&2
  exit 2
fi
rm -rf -- "$dist"
mkdir -p -- "$dist"
git archive --format=tar HEAD | tar -x -C "$dist"
rm -rf -- "$dist/solutions" "$dist/.ci" "$dist/harness/course/mutants-baseline.txt"
echo "a student copy of the kit, made by make dist-student from $(git rev-parse --short HEAD)" >"$dist/.kit-student-copy"
# The workflow that grades the student's repository on every push (make actions).
ACTIONS_DIR=$dist harness/course/actions.sh >/dev/null
left=$(cd "$dist" && find . -path ./solutions -prune -o \( -name '*.patch' -o -name mutants.txt \) -print | sed -n 1,3p)
[ -z "$left" ] || { echo "[dist-student] instructor files left in the copy: $left" >&2; exit 1; }
echo "student copy: $dist ($(cd "$dist" && find . -type f | wc -l) files, no solutions/; uncommitted changes are not in it)"
