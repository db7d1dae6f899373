#!/usr/bin/env bash
# Self-test of the grader's answer to a test runner whose fork of a test never starts (a copy of
# a lock of the sanitizer's allocator, harness/kit/proof.c), run by `make check-more`. The fault
# is made on purpose (GRADE_TEST_FORK_HANG=N: every fork of the runner sticks in a lesson's first
# N rounds). Lesson 01's reference, graded with the fault in its first round, must get every
# point, with the stuck round's log kept and a [rerun] line; graded with the fault in every
# round, it must lose its points with [runner-fork-stuck], which asks for a regrade, and the
# batch must still end with the student graded.
set -uo pipefail
class=$(mktemp -d "${TMPDIR:-/tmp}/kit-grade-rerun.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$class"' EXIT
fail() { echo "[grade-rerun-selftest] $*" >&2; exit 1; }

mkdir -p "$class/subs/honest/01-sync-vs-async"
cp solutions/01-sync-vs-async/fetch.c "$class/subs/honest/01-sync-vs-async/"
k=$(cat lessons/01-sync-vs-async/tests/*.c | grep -c '^Test(')

grade() {   # grade ROUNDS: the class graded with the fault in its first ROUNDS rounds
  GRADES=$class/grades-$1 GRADE_LESSONS=01 GRADE_PERF=0 GRADE_JOBS=1 GRADE_TEST_LIMIT=${GRADE_TEST_LIMIT:-60} \
    GRADE_NPROC=${GRADE_NPROC:-96} GRADE_TEST_FORK_HANG=$1 \
    harness/course/grade.sh "$class/subs" >"$class/log-$1" 2>&1 || { cat "$class/log-$1"; fail "grade.sh failed (fault in $1 rounds)"; }
}

# The fault in the first round only: the lesson runs again and that round counts, whole.
grade 1
g=$class/grades-1
grep -q "^honest,$k/$k,$k/$k," "$g/summary.csv" ||
  fail "honest, its runner's forks stuck in the first round only: expected $k/$k, got: $(grep '^honest,' "$g/summary.csv")"
grep -q '^\[rerun\] honest, lesson 01: the test runner.s fork of a test process stuck' "$class/log-1" ||
  fail "no [rerun] line for the stuck round: $(grep -a 'rerun\|stuck' "$class/log-1" | head -n 3)"
grep -aq '\[runner-fork-stuck\]' "$g/honest/lesson-01.stuck-round-1.log" && ! grep -aq '\[runner-fork-stuck\]' "$g/honest/lesson-01.log" ||
  fail "the stuck round's log is not kept beside the counted one (lesson-01.stuck-round-1.log)"
! grep -q 'runner-fork-stuck' "$g/class.csv" || fail "a test of the counted round carries [runner-fork-stuck]"

# The fault in every round the grader runs (the first and two more): the tests it could not
# run score 0, each saying why and asking for a regrade; nothing is marked the code's fault.
grade 3
g=$class/grades-3
grep -q "^honest,0/$k,0/$k," "$g/summary.csv" ||
  fail "honest, its runner's forks stuck in every round: expected 0/$k, got: $(grep '^honest,' "$g/summary.csv")"
[ "$(grep -c '^\[rerun\] honest, lesson 01: the test runner.s fork' "$class/log-3")" -eq 2 ] ||
  fail "expected 2 reruns for the stuck rounds, saw $(grep -c '^\[rerun\] honest' "$class/log-3"); the grader said: $(grep -av '^ *CC ' "$class/log-3" | tail -n 6); the first test's line: $(grep -m1 '^honest,01,' "$g/class.csv")"
grep -q '^\[runner-fork-stuck\] honest, lesson 01: ' "$class/log-3" || fail "the batch does not say the forks stuck in every round"
n_stuck=$(grep -c '^honest,01,[^,]*,crash,0,1,"\[runner-fork-stuck\] .*ask for a regrade' "$g/class.csv")
[ "$n_stuck" -eq "$k" ] ||
  fail "$n_stuck of lesson 01's $k tests say [runner-fork-stuck] in class.csv: $(grep '^honest,01,' "$g/class.csv" | grep -v 'runner-fork-stuck' | head -n 2)"
echo "grade rerun selftest: stuck forks in round 1 only: $k/$k after a rerun; in every round: 0/$k, each test [runner-fork-stuck]"
