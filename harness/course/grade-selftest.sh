#!/usr/bin/env bash
# Self-test of the grader, run by `make check`: a small class made on the spot from lesson 01's
# solution (correct), a known mistake (partial), a crashing copy, one that does not compile and
# one that handed nothing in; each must get the score it deserves, in every output file.
set -uo pipefail
class=$(mktemp -d "${TMPDIR:-/tmp}/kit-grade-selftest.XXXXXX")
grades=$class/grades
trap 'rm -rf "$class"' EXIT
fail() { echo "[grade-selftest] $*" >&2; exit 1; }

sol=solutions/01-sync-vs-async
mkdir -p "$class/subs/correct/lessons" "$class/subs/partial/01-sync-vs-async" \
         "$class/subs/crashing/01-sync-vs-async" "$class/subs/broken/01-sync-vs-async" "$class/subs/absent"
cp -r "$sol" "$class/subs/correct/lessons/" && rm -rf "$class/subs/correct/lessons/01-sync-vs-async/mistakes"
cp "$sol/fetch.c" "$class/subs/partial/01-sync-vs-async/"
patch --batch -s -p1 -d "$class/subs/partial/01-sync-vs-async" <"$sol/mistakes/spin.patch" || fail "cannot apply spin.patch"
# Crashing: both functions abort the process.
cat >"$class/subs/crashing/01-sync-vs-async/fetch.c" <<'C'
#include "fetch.h"
#include <stdlib.h>
int fetch_sequential(const char *const *urls, size_t n, struct fetch_result *results)
{ (void)urls; (void)n; (void)results; abort(); }
int fetch_concurrent(const char *const *urls, size_t n, struct fetch_result *results)
{ (void)urls; (void)n; (void)results; abort(); }
C
printf 'int fetch_sequential(void) { return nope }\n' >"$class/subs/broken/01-sync-vs-async/fetch.c"

GRADES=$grades GRADE_LESSONS=01 harness/course/grade.sh "$class/subs" >"$class/log" 2>&1 || { cat "$class/log"; fail "grade.sh failed"; }
expect() {   # expect STUDENT SCORE
  grep -q "^$1,$2,$2," "$grades/summary.csv" || fail "$1: expected $2 in summary.csv, got: $(grep "^$1," "$grades/summary.csv")"
  local s=${2%%/*}
  grep -q "^{\"score\": $s," "$grades/$1/results.json" || fail "$1: results.json does not say score $s"
}
# Lesson 01 has n tests, each worth a point (its lesson.mk sets no POINTS).
n=$(cat lessons/01-sync-vs-async/tests/*.c | grep -c '^Test(')
expect correct "$n/$n"
expect partial "$((n - 1))/$n"
expect crashing "0/$n"
expect broken "0/$n"
expect absent "0/$n"
grep -q '^partial,01,concurrent::sleeps_while_waiting,fail,0,1,"\[busy-loop\]' "$grades/class.csv" \
  || fail "partial: the lost point is not the busy-loop test with its diagnostic"
grep -q '^crashing,01,.*,crash,0,1,' "$grades/class.csv" || fail "crashing: no test is marked crash"
grep -q '^broken,01,.*,no-build,0,1,"the code does not compile: ' "$grades/class.csv" || fail "broken: not marked no-build"
grep -q '^absent,01,.*,missing,0,1,' "$grades/class.csv" || fail "absent: not marked missing"
[ "$(head -c 8 "$grades/class.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "class.png is not a PNG"
echo "grade selftest: correct $n/$n, partial $((n - 1))/$n, crashing, broken and absent 0/$n, in every output"
