#!/usr/bin/env bash
# `make check`: the kit's self-test. It proves that every solution passes its tests, every
# skeleton fails them cleanly, every known mistake is rejected with its own diagnostic, and the
# harness's own tests pass. One line a check; logs in $BUILD/check/; the last line counts.
set -uo pipefail
. harness/lib.sh
export KIT_DELAYD
kit_vars || { echo "[no-metadata] make vars failed: the Makefile or a fragment is broken" >&2; exit 1; }
logs=$BUILD/check; [ "${CHECK_SET:-core}" = core ] || logs=$BUILD/check-${CHECK_SET}
rm -rf "$logs" && mkdir -p "$logs"
passed=0
failed=0
start=$(date +%s)

pass() { passed=$((passed + ${2:-1})); printf 'PASS  %s\n' "$1"; }
fail() { failed=$((failed + ${2:-1})); printf 'FAIL  %s\n' "$1"; }
m() { make -s --no-print-directory "$@"; }

# build_vars LOG GOALS...: make GOALS and then `vars` in one run of make (each run reads the whole
# Makefile first: a fifth of a CPU-second, a hundred times over in a check), the build's output in
# LOG, the variables set as kit_vars sets them. Fails as the build fails.
build_vars() {
  local log=$1 out
  shift
  out=$(m "$@" vars 2>&1)
  local rc=$?
  grep -v -E "^[A-Z_][A-Z0-9_]*='" <<<"$out" >"$log"
  [ "$rc" -eq 0 ] || return "$rc"
  eval "$(grep -E "^[A-Z_][A-Z0-9_]*='" <<<"$out")"
}

# expect_all_pass LABEL BIN LOG: run a test binary whose every test must pass; each test counts.
expect_all_pass() {
  local label=$1 bin=$2 log=$3 rc bad torn
  kit_run_tests "$bin" "$log"
  rc=$?
  # A test that could not set up its own scene ([test-waited], [test-premise]: the machine too
  # busy, never the code under test) says nothing: the binary runs once more, whole, and only
  # that round counts, as the grader does (the first round's log is kept beside it).
  if [ "$rc" -ne 0 ] && kit_scene_unset "$log"; then
    mv "$log" "${log%.log}.first-round.log"
    printf 'NOTE  %s: a test could not set up its scene (the machine too busy); a second round counts (first: %s)\n' \
      "$label" "${log%.log}.first-round.log"
    kit_run_tests "$bin" "$log"
    rc=$?
  fi
  # Criterion counts a test whose teardown crashed (kit_fini_leaks stops a test that leaked)
  # as passed, and only warns: here it fails.
  torn=$(grep -ac 'crashed during its setup or teardown' "$log")
  if [ "$SYNTHESIS" -eq 1 ] && [ "$rc" -eq 0 ] && [ "$PASSING" -eq "$TESTED" ] && [ "$TESTED" -gt 0 ] &&
     [ "$torn" -eq 0 ]; then
    pass "$label: all $TESTED tests pass" "$TESTED"
    return
  fi
  if [ "$torn" -gt 0 ]; then
    fail "$label: $torn of $TESTED tests crashed in their teardown (see $log)" "$torn"
    passed=$((passed + PASSING - torn))
    grep -a -B3 'crashed during its setup or teardown' "$log" | grep -a -E '\[[a-z-]+\]|Warning' | head -n 6 | sed 's/^/      /'
    return
  fi
  bad=$((TESTED - PASSING)); [ "$bad" -gt 0 ] || bad=1
  fail "$label: $PASSING of $TESTED tests pass, exit $rc (see $log)" "$bad"
  passed=$((passed + PASSING))
  grep -a -E '^\[----\].*(\[|Assert|Timed|signal)' "$log" | head -n 6 | sed 's/^/      /'
}

# Two tiers: `make check` (CHECK_SET=core) runs what students and instructors rely on, the
# lessons, the runtime on this machine's poller, delayd, the kit and the grader; `make
# check-more` (CHECK_SET=more) the rest (CHECK_MORE: the runtime's poll() builds, the tools'
# own self-tests); CI runs both. CHECK_UNITS='03-tasks h:aio/*' keeps only the units matching
# one of its globs (a lesson's unit is its folder name).
in_set() {
  local u=$1 name=${1#?:} m tier=core g
  for m in $CHECK_MORE; do [ "$name" = "${m#"$BUILD"/}" ] && tier='more'; done
  case ${CHECK_SET:-core} in all) ;; "$tier") ;; *) return 1 ;; esac
  [ -n "${CHECK_UNITS:-}" ] || return 0
  for g in $CHECK_UNITS; do
    # shellcheck disable=SC2053  # a glob, on purpose
    [[ $u == $g ]] && return 0
  done
  return 1
}
# ---- 1. everything builds with -Werror ---------------------------------------------------------
# The kit's libraries, delayd and the harness test binaries this run's units use (not the other
# tier's).
harness_tests=
for bin in $HARNESS_TESTS; do in_set "h:${bin#"$BUILD"/}" && harness_tests+=" $bin"; done
if m -j"$(( $(nproc 2>/dev/null || echo 1) + 1 ))" all $harness_tests >"$logs/build.log" 2>&1; then
  pass "build: the harness and its tests compile warning-free"
else
  fail "build: the harness does not compile (see $logs/build.log)"
  tail -n 20 "$logs/build.log"
fi

# ---- 2. the harness's own tests, beside the lessons --------------------------------------------
# One unit a test binary (h:NAME) and one a fragment's check goal (g:TARGET, a script's self-test).
check_harness_bin() {
  local bin=$1 name=${1#"$BUILD"/}
  passed=0; failed=0
  expect_all_pass "harness: $name" "$bin" "$logs/${name//\//_}.log"
  echo "$passed $failed" >"$logs_unit/counts"
}

check_goal() {
  local target=$1 log=$logs/$1.log
  passed=0; failed=0
  if m "$target" >"$log" 2>&1; then pass "harness: $target"; else fail "harness: $target (see $log)"; tail -n 5 "$log" | sed 's/^/      /'; fi
  echo "$passed $failed" >"$logs_unit/counts"
}

# The grader's self-test, a unit of its own (a sample class and a hostile one, each sandboxed).
check_grader() {
  passed=0; failed=0
  if harness/course/grade-selftest.sh >"$logs/grade-selftest.log" 2>&1; then
    pass "harness: the grader scores a sample class right (correct, partial, crashing, broken, absent) and a hostile class no more than its honest work, harming nothing"
  else
    fail "harness: the grader self-test (see $logs/grade-selftest.log)"
    tail -n 3 "$logs/grade-selftest.log" | sed 's/^/      /'
  fi
  echo "$passed $failed" >"$logs_unit/counts"
}

# ---- 3. every lesson: solution passes, skeleton fails cleanly, mistakes are rejected -----------
# check_lesson NAME: one lesson's checks, its lines on stdout, "PASSED FAILED" in its counts file.
# The harness's tests and the lessons run side by side (CHECK_JOBS at a time, default 3): each
# builds its own variants, and the tests witness with counts, not with the clock, so the load of
# a neighbour changes no verdict. Their reports are printed in order, each when it is whole.
check_lesson() {
  local name=$1 n dir patch mistake want copy bin rc got t0 secs
  passed=0; failed=0
  n=${name%%-*}
  dir=$logs/$name
  mkdir -p "$dir"

  if build_vars "$dir/solution-build.log" lesson-$n build SOLUTION=1; then
    # Every test must ask LeakSanitizer (harness/kit/proof.c fails one that passed without).
    KIT_REQUIRE_LEAK_CHECK=1 expect_all_pass "lesson $n: the solution" "$TEST_BIN" "$dir/solution.log"
  else
    fail "lesson $n: the solution does not build (see $dir/solution-build.log)"
  fi

  # The skeleton must compile with -Werror and fail every test by assertion: no crash, no
  # timeout, no test that already passes (a test the skeleton passes cannot tell it from a
  # finished exercise).
  if build_vars "$dir/skeleton-build.log" lesson-$n build; then
    bin=$TEST_BIN
    t0=$(date +%s)
    kit_run_tests "$bin" "$dir/skeleton.log"
    secs=$(( $(date +%s) - t0 ))
    if [ "$SYNTHESIS" -eq 1 ] && [ "$PASSING" -eq 0 ] && [ "$CRASHING" -eq 0 ] && [ "$TIMEDOUT" -eq 0 ] && [ "$TESTED" -gt 0 ]; then
      pass "lesson $n: the skeleton fails all $TESTED tests cleanly in ${secs}s"
    else
      fail "lesson $n: the skeleton: $TESTED tests, $PASSING passed, $CRASHING crashed, $TIMEDOUT timed out (see $dir/skeleton.log)"
    fi
  else
    fail "lesson $n: the skeleton does not compile warning-free (see $dir/skeleton-build.log)"
  fi

  for patch in solutions/$name/mistakes/*.patch; do
    [ -e "$patch" ] || continue
    mistake=$(basename "$patch" .patch)
    want=$(sed -n 's/^Diagnostic: *//p' "$patch" | head -n 1)
    copy=$dir/mistakes/$mistake
    rm -rf "$copy" && mkdir -p "$copy" && cp -r solutions/$name/. "$copy/" && rm -rf "$copy/mistakes"
    if [ -z "$want" ]; then
      fail "lesson $n: mistake $mistake names no 'Diagnostic:' line"
      continue
    fi
    if ! patch --batch -s -p1 -d "$copy" <"$patch" >"$dir/$mistake-patch.log" 2>&1; then
      fail "lesson $n: mistake $mistake does not apply to the solution (see $dir/$mistake-patch.log)"
      continue
    fi
    if ! build_vars "$dir/$mistake-build.log" lesson-$n build-tests SOLUTION=1 FROM="$copy"; then
      fail "lesson $n: mistake $mistake does not build (see $dir/$mistake-build.log)"
      continue
    fi
    bin=$TEST_BIN
    # The test named on the patch's Rejected-by line runs alone first; if it does not reject the
    # mistake with its diagnostic (renamed, changed), every test runs, as without the line.
    by=$(sed -n 's/^Rejected-by: *//p' "$patch" | head -n 1)
    rc=0
    if [ -n "$by" ]; then
      KIT_STOP_AT="[$want]" kit_run_tests "$bin" "$dir/$mistake.log" --filter="$by"
      rc=$?
      grep -aqF "[$want]" "$dir/$mistake.log" || rc=0
    fi
    if [ "$rc" -eq 0 ]; then
      KIT_STOP_AT="[$want]" kit_run_tests "$bin" "$dir/$mistake.log"
      rc=$?
    fi
    if [ "$rc" -ne 0 ] && grep -aqF "[$want]" "$dir/$mistake.log"; then
      pass "lesson $n: mistake $mistake is rejected with [$want]"
    elif [ "$rc" -eq 0 ]; then
      fail "lesson $n: mistake $mistake passes every test: the tests cannot see it"
    else
      # (Not the rows of AddressSanitizer's shadow-memory map, where "[fd]" marks a byte.)
      got=$(grep -avE '^(=>)? *0x[0-9a-f]+:' "$dir/$mistake.log" | grep -aoE '\[[a-z0-9-]+\]' | grep -v -- '----' | sort -u | tr '\n' ' ')
      fail "lesson $n: mistake $mistake is rejected, but not with [$want] (saw: ${got:-no diagnostic})"
    fi
  done
  echo "$passed $failed" >"$logs_unit/counts"
}

# The longest units first, so the last to start are short. A unit's length is the last check's
# measure of it (kept in $BUILD/check-durations), else an estimate: a lesson's grows with its
# known mistakes (about 6 s each here, on 30 s of solution and skeleton).
units=
for bin in $harness_tests; do in_set "h:${bin#"$BUILD"/}" && units+=" h:${bin#"$BUILD"/}"; done
for target in $HARNESS_CHECK_TARGETS; do in_set "g:$target" && units+=" g:$target"; done
for unit in grader $LESSONS; do in_set "$unit" && units+=" $unit"; done
if [ -z "$units" ]; then
  echo "[no-units] no check unit matches CHECK_SET='${CHECK_SET:-core}' CHECK_UNITS='${CHECK_UNITS:-}' (units: h:aio/tests, g:check-gallery, grader, 03-tasks, ...)"
  echo "0 passed, 1 failed"
  exit 1
fi
unit_dir() { local u=${1//\//_}; echo "$logs/${u//:/_}"; }
run_order=$(
  for unit in $units; do
    est=$(awk -v u="$unit" '$1 == u { print $2 }' "$BUILD/check-durations" 2>/dev/null)
    # A fresh clone: the measure a CI run of the kit took (harness/course/check-order).
    [ -n "$est" ] || est=$(awk -v u="$unit" '$1 == u { print $2 }' harness/course/check-order 2>/dev/null)
    if [ -z "$est" ]; then
      case $unit in
        grader) est=130 ;;
        h:*|g:*) est=20 ;;
        *) est=$((30 + 6 * $(ls solutions/"$unit"/mistakes/*.patch 2>/dev/null | wc -l))) ;;
      esac
    fi
    echo "$est $unit"
  done | sort -rn -k1,1 | cut -d' ' -f2)
# The lessons' solution and skeleton builds, made before any unit starts. The units build the
# same variants in the same folders: a lesson's unit both, the grader's self-test lesson 01's
# reference program (to time it) and copies of its objects, the tools' self-tests every lesson's
# program. Two makes writing one object at once leave one of them linking, or copying, a file
# the other is still writing ("main.o: file is empty" in a fresh clone, lesson 01's unit beside
# the grader's). Built here once, the units find them up to date. A build that fails here fails
# again in its unit, which says so.
prebuild=
for unit in $units; do
  case $unit in
    grader) prebuild+=" 01" ;;
    g:*) prebuild+=" $(for l in $LESSONS; do printf '%s ' "${l%%-*}"; done)" ;;
    h:*) ;;
    *) prebuild+=" ${unit%%-*}" ;;
  esac
done
for n in $(tr ' ' '\n' <<<"$prebuild" | sort -u); do
  while [ "$(jobs -rp | wc -l)" -ge "$(nproc 2>/dev/null || echo 2)" ]; do wait -n; done
  { m lesson-"$n" build SOLUTION=1 && m lesson-"$n" build; } >"$logs/prebuild-$n.log" 2>&1 &
done
wait
# A unit's CPU time (its processes', user + system), read from bash's own accounting as it ends.
unit_cpu() {
  times >"$logs_unit/times"
  awk -v u="$unit" 'NR == 2 {
    split($1, a, /[ms]/); split($2, b, /[ms]/); printf "%s %d\n", u, a[1] * 60 + a[2] + b[1] * 60 + b[2] }' "$logs_unit/times" >"$logs_unit/cpu"
}
declare -A pid_of
# Stopped early (Ctrl+C, a kill, an error in this script), the units' processes stop too: no
# test run is left behind to write into the next check's logs. Either way its scratch folder
# ($KIT_TMP, which lib.sh's own trap would have removed) goes.
finished=0
trap '[ "$finished" -eq 1 ] || for p in "${pid_of[@]}"; do kill_tree "$p"; done; kit_cleanup' EXIT
trap 'exit 130' INT TERM
for unit in $run_order; do
  dir=$(unit_dir "$unit")
  mkdir -p "$dir"
  while [ "$(jobs -rp | wc -l)" -ge "${CHECK_JOBS:-4}" ]; do wait -n; done
  (
    logs_unit=$dir
    case $unit in
      h:*) check_harness_bin "$BUILD/${unit#h:}" ;;
      g:*) check_goal "${unit#g:}" ;;
      grader) check_grader ;;
      *) check_lesson "$unit" ;;
    esac >"$dir/report" 2>&1
    unit_cpu
  ) &
  pid_of[$unit]=$!
  date +%s >"$dir/start"
done
for unit in $units; do
  dir=$(unit_dir "$unit")
  wait "${pid_of[$unit]}"
  cat "$dir/report"
  echo "$unit $(( $(stat -c %Y "$dir/report") - $(cat "$dir/start") )) $(cut -d' ' -f2 "$dir/cpu" 2>/dev/null)" >>"$logs/durations"
  if read -r p f <"$dir/counts" 2>/dev/null; then
    passed=$((passed + p)); failed=$((failed + f))
  else
    fail "$unit: its checks ended before they counted (see $dir/report)"
  fi
done
# The measures kept for the next run's order: this run's, and the last known of every unit it
# did not run.
{ cat "$logs/durations"; awk 'NR == FNR { seen[$1] = 1; next } !($1 in seen)' "$logs/durations" "$BUILD/check-durations" 2>/dev/null; } >"$logs/durations.all"
mv "$logs/durations.all" "$BUILD/check-durations"
echo "make check took $(( $(date +%s) - start )) s (the longest: $(sort -k2,2nr "$logs/durations" | head -n 3 |
  awk '{ printf "%s%s %d s", (NR > 1 ? ", " : ""), $1, $2 }'); CPU time $(awk '{ t += $3 } END { print t }' "$logs/durations") s, see $logs/durations); logs in $logs/"
finished=1
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
