#!/usr/bin/env bash
# `make check-lesson-loop` (part of make check): the student's work loop, in a scratch copy of the
# kit (a git repository of its own, the build's harness parts copied in so nothing is rebuilt):
# the runner's wording (a repeat names the test it repeats, continuation lines, the first failure
# whole), ONLY running one test, solution refusing and then showing, progress after make clean
# and after a change, reset from git and without git, watch re-testing on a save.
set -uo pipefail
BUILD=${BUILD:-build}
scratch=$BUILD/check/loop
fails=0
ok() { echo "ok    $1"; }
bad() { echo "FAIL  $1"; fails=$((fails + 1)); [ -n "${2:-}" ] && sed 's/^/      /' <<<"$2" | head -n 30; }
# expect LABEL OUTPUT PATTERN...: every extended regex PATTERN occurs in OUTPUT.
expect() {
  local label=$1 out=$2 p
  shift 2
  for p in "$@"; do
    grep -qE -- "$p" <<<"$out" || { bad "$label (no line matches: $p)" "$out"; return 1; }
  done
  ok "$label"
}

# ---- 1. the runner's wording, from a made-up TAP report (no build needed) ------------------------
tap=$(mktemp)
trap 'rm -f "$tap"' EXIT
cat >"$tap" <<'EOF'
TAP version 13
1..5
# Running 5 tests from s
not ok - s::first  (0.01s)
  ---
  assertions: 2
  failures:
  - tests/t.c:20: |+
      Assertion failed: [later] a second check
  - tests/t.c:10: |+
      Assertion failed: [multi] the runtime printed:
      line one
      line two
  ...
not ok - s::second  (0.01s)
  ---
  assertions: 1
  failures:
  - tests/t.c:30: |+
      Assertion failed: [other] another diagnostic
  ...
not ok - s::third  (0.01s)
  ---
  assertions: 1
  failures:
  - tests/t.c:10: |+
      Assertion failed: [multi] the runtime printed:
      line one
      line two
  ...
not ok - s::fourth unexpected signal after tests/t.c:44
ok - s::fifth  # SKIP test was skipped
EOF
out=$(awk -v format=report -v lesson=99 -v logfile=LOG -f harness/lesson/tap.awk "$tap")
expect "report: the earliest failed check is the diagnostic, its continuation lines shown" "$out" \
  '^        \[multi\] the runtime printed:$' '^          line one$' '^          line two$' \
  'the check is at tests/t.c:10' 'this test alone: make lesson-99 test ONLY=s/first'
expect "report: a repeated diagnostic names the test it repeats" "$out" \
  '^        \(the same diagnostic as s: first\)$'
expect "report: a crash says where the last check passed only when shown in full; a skipped test is not listed" \
  "$out" '^  FAIL  s: fourth$' '\[crashed\]'
if grep -q 'fifth' <<<"$out" || grep -q '\[later\]' <<<"$out"; then bad "report: a skipped test or a later check was shown" "$out"; else ok "report: skipped tests and later checks stay out"; fi
tsv=$(awk -f harness/lesson/tap.awk "$tap")
expect "tsv (the grader's): one line a test, the skipped one as skip" "$tsv" \
  $'^fail\ts::first\t\\[multi\\] the runtime printed:$' $'^crash\ts::fourth\t\\[crashed\\]' $'^skip\ts::fifth'
long=$(printf 'not ok - s::a  (0.01s)\n  ---\n  failures:\n  - t.c:1: |+\n      Assertion failed: [x] first\n  ...\nnot ok - s::b  (0.01s)\n  ---\n  failures:\n  - t.c:2: |+\n      Assertion failed: [y] many lines:\n'; for i in $(seq 20); do echo "      line $i"; done; echo '  ...')
out=$(awk -v format=report -v lesson=99 -v logfile=LOG -f harness/lesson/tap.awk <<<"$long")
expect "report: a later failure's continuation is capped at 15 lines, with where the rest is" "$out" \
  '^          line 15$' '5 more lines in LOG'
grep -q 'line 16$' <<<"$out" && bad "report: line 16 of a later failure was shown" "$out"

# The sanitizer's report as the runner shows it for a crash (crash_excerpt, harness/lib.sh): the
# error, the frames outside the sanitizer (five at most), the summary, and a diagnostic the test
# printed as the process died; a bracketed line before the report is not one.
crash_log=$(mktemp)
cat >"$crash_log" <<'EOF'
[early] printed by the test before the crash
=================================================================
==42==ERROR: AddressSanitizer: heap-use-after-free on address 0x6040 at pc 0x55
    #0 0x1 in __interceptor_free ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:52
    #1 0x2 in job_drop offload.c:37
    #2 0x3 in record_offload offload.c:67
    #3 0x4 in call_record tests/test_offload.c:50
    #4 0x5 in aio__task_entry harness/aio/task.c:205
    #5 0x6 in aio__ctx_trampoline harness/aio/switch_x86_64.S:65
    #6 0x7 in six_deep offload.c:99

SUMMARY: AddressSanitizer: heap-use-after-free offload.c:37 in job_drop
==42==ABORTING
[freed-under-thread] AddressSanitizer stopped the test
EOF
got=$( . harness/lib.sh; crash_excerpt "$crash_log" | tr '\037' '|' )
want='==42==ERROR: AddressSanitizer: heap-use-after-free on address 0x6040 at pc 0x55|#1 0x2 in job_drop offload.c:37|#2 0x3 in record_offload offload.c:67|#3 0x4 in call_record tests/test_offload.c:50|#4 0x5 in aio__task_entry harness/aio/task.c:205|#5 0x6 in aio__ctx_trampoline harness/aio/switch_x86_64.S:65|SUMMARY: AddressSanitizer: heap-use-after-free offload.c:37 in job_drop|[freed-under-thread] AddressSanitizer stopped the test'
if [ "$got" = "$want" ]; then ok "a crash shows the report's error, five frames, its summary and the test's last word"
else bad "crash excerpt" "got:  $got
want: $want"; fi
sed -i '$d' "$crash_log"
if got=$( . harness/lib.sh; crash_excerpt "$crash_log" | tr '\037' '|' ) && [ "$got" = "${want%|*}" ]; then
  ok "a crash with no last word shows the report alone"
else bad "crash excerpt, no last word" "got:  $got"; fi
rm -f "$crash_log"

# ---- 2. the loop, in a scratch copy of the kit ---------------------------------------------------
lesson=02
name=$(cd lessons && ls -d "$lesson"-* | head -n 1)
exercise=$(make -s --no-print-directory lesson-$lesson vars | sed -n "s/^EXERCISE='\([^ ']*\).*/\1/p")
rm -rf "$scratch" && mkdir -p "$scratch/build"
cp -pr Makefile harness lessons solutions "$scratch/"
rm -rf "$scratch/harness/.git"
# The kit's built parts, copied in (again after make clean) so that no step waits on a rebuild.
seed_build() {
  local part
  mkdir -p "$scratch/build/$name"
  for part in kit bin delayd aio .deps-ok-* "$name/given" "$name/student"; do
    [ -e "$BUILD/$part" ] && [ ! -e "$scratch/build/$part" ] && cp -pr "$BUILD/$part" "$scratch/build/$part"
  done
  rm -f "$scratch/build/$name"/*/san/failing
}
seed_build
k() { (cd "$scratch" && env -u MAKEFLAGS -u MAKELEVEL BUILD=build KIT_DELAYD=build/bin/delayd \
        KIT_PROGRESS=.progress make -s --no-print-directory COMPDB= "$@" 2>&1); }
( cd "$scratch" && git init -q . && git add -A && git -c user.name=kit -c user.email=kit@localhost \
    commit -qm "the kit as shipped" ) || bad "a scratch git repository"
file=$scratch/lessons/$name/$exercise

out=$(k lesson-$lesson solution); rc=$?
if [ $rc -ne 0 ]; then expect "solution refuses before any test run" "$out" 'not been tested yet'; else bad "solution showed before any run (exit $rc)" "$out"; fi

one=$(k lesson-$lesson test ONLY='timers/*' | grep -c '^  FAIL ' ; true)
out=$(k lesson-$lesson test ONLY='timers: fire in deadline order not in the order added')
expect "ONLY runs one test (given as the runner prints it)" "$out" '0 of 1 test passed, 1 failed' \
  'only those matching timers/fire_in_deadline_order_not_in_the_order_added'
[ "$(grep -c '^  FAIL ' <<<"$out")" -eq 1 ] && [ "$one" -gt 1 ] && ok "ONLY with a glob runs several, with a name one" \
  || bad "ONLY: $(grep -c '^  FAIL ' <<<"$out") test(s) for one name, $one for timers/*" "$out"

out=$(k lesson-$lesson test)
expect "the skeleton fails, and the progress says how many pass" "$(k progress)" "^  $lesson .*0 of [0-9]+ tests pass"
out=$(k lesson-$lesson solution); rc=$?
if [ $rc -ne 0 ]; then expect "solution refuses while tests fail, saying how many" "$out" '^[0-9]+ tests of lesson 02 still fail'; else bad "solution showed while tests fail" "$out"; fi

cp "solutions/$name/$exercise" "$file"
out=$(k lesson-$lesson test)
expect "the reference copied in passes" "$out" '^All [0-9]+ tests passed'
out=$(k lesson-$lesson solution)
expect "solution shows the reference once the files pass" "$out" "==== solutions/$name/$exercise, the reference" "your $exercise is the same"
k clean >/dev/null
expect "progress after make clean still knows the lesson passed" "$(k progress)" "^  $lesson .*passed \("
seed_build
echo "/* a change */" >>"$file"
expect "progress after a change says so" "$(k progress)" "^  $lesson .*changed since it passed, run make lesson-$lesson test"
out=$(k lesson-$lesson solution); rc=$?
if [ $rc -ne 0 ]; then expect "solution refuses for files changed since they passed" "$out" 'changed since'; else bad "solution showed for changed files" "$out"; fi

out=$(k lesson-$lesson reset)
backup=$(sed -n 's/.*kept in \(backups\/lesson-[0-9]*-[0-9-]*\)\/.*/\1/p' <<<"$out")
if (cd "$scratch" && git diff --quiet -- "lessons/$name/$exercise") && [ -n "$backup" ] &&
   cmp -s "$scratch/$backup/$exercise" <(cat "solutions/$name/$exercise"; echo "/* a change */"); then
  ok "reset puts the shipped file back and keeps the student's in $backup/"
else
  bad "reset" "$out"
fi
expect "reset twice: nothing to do" "$(k lesson-$lesson reset)" 'nothing to reset'
rm -rf "$scratch/.git"
out=$(GIT_CEILING_DIRECTORIES=$(cd "$scratch/.." && pwd) k lesson-$lesson reset); rc=$?
if [ $rc -ne 0 ]; then expect "reset outside git says what to do instead" "$out" 'not a git checkout' 'fresh copy of the kit'; else bad "reset outside git (exit $rc)" "$out"; fi

# watch: two rounds, the second after a save, one test each (ONLY) to keep it short.
trace=$scratch/watch.trace
: >"$trace"
(cd "$scratch" && env -u MAKEFLAGS -u MAKELEVEL BUILD=build KIT_DELAYD=build/bin/delayd KIT_PROGRESS=.progress \
   KIT_TRACE="$PWD/watch.trace" KIT_WATCH_ROUNDS=2 timeout 120 make -s --no-print-directory \
   lesson-$lesson watch ONLY='timers/fire_in_deadline_order_not_in_the_order_added' >watch.out 2>&1 </dev/null) &
watcher=$!
for _ in $(seq 1200); do grep -q '^waiting ' "$trace" && break; sleep 0.1; done
echo "/* saved */" >>"$file"
wait "$watcher"
out=$(cat "$scratch/watch.out")
expect "watch tests, waits for a save, and tests again" "$out" 'watching loop.c, started' \
  "watching loop.c, loop.c saved at" 'Progress: \[\.+\] 0 of 1 test pass' '\[not-done\]'
[ "$(grep -c '^Progress:' <<<"$out")" -eq 2 ] && ok "watch ran exactly two rounds" || bad "watch rounds" "$out"

if [ "$fails" -eq 0 ]; then echo "the work loop: all checks pass"; exit 0; fi
echo "the work loop: $fails check(s) failed (scratch copy in $scratch)"
exit 1
