#!/usr/bin/env bash
# `make lesson-NN test`, and each round of `make lesson-NN watch`: run a lesson's tests against
# private servers and print, for each test, whether it passed and, when not, the diagnostic.
# The test that failed first last time runs alone, beside the others in parallel, and its
# verdict is shown as soon as it is known. ONLY=suite/test (or a glob) runs just those.
# VIEW=watch prints watch mode's screen: the progress line, the first failure in full, the other
# failures by name. The full output is kept in a log. The lesson's variables come from
# harness/lesson/lesson.mk, in the environment.
set -uo pipefail
. harness/lib.sh
. harness/lesson/progress.sh

VIEW=${VIEW:-full}
JOBS=${KIT_JOBS:-4}
read -r -a exercise_paths <<<"${EXERCISE_PATHS:-}"
logdir=$(dirname "$TEST_BIN")
log=$logdir/test.log
tap=$logdir/test.tap
failing_cache=$logdir/failing
seen=$KIT_TMP/seen
: >"$seen"
trace() { if [ -n "${KIT_TRACE:-}" ]; then echo "$1 $(date +%s.%N)" >>"$KIT_TRACE"; fi; }
# render TAP... [awk variables]: the report lines (harness/lesson/tap.awk words every verdict).
# The goal's other variables, for the command that runs one test alone.
also=
case $VARIANT in solution*) also=" SOLUTION=1" ;; esac
[ -n "${FROM:-}" ] && also="$also FROM=$FROM"
render() { local t=$1; shift; awk -v format=report -v lesson="$LESSON" -v also="$also" -v logfile="$log" -v seen="$seen" "$@" -f harness/lesson/tap.awk "$t"; }
records() { awk -v format=full -f harness/lesson/tap.awk "$@"; }

# ONLY may be written as Criterion's filter (suite/test, a glob), as TAP names it (suite::test)
# or as this runner prints it ("suite: test name").
only=${ONLY:-}
if [ -n "$only" ]; then
  only=${only//::/\/}; only=${only//: /\/}; only=${only// /_}
fi

case $VARIANT in
  student) what="your files in lessons/$LESSON_NAME/" ;;
  solution) what="the reference solution in solutions/$LESSON_NAME/" ;;
  solution-from*) what="the files in $FROM (any missing there from the reference solution)" ;;
  *) what="the files in $FROM (any missing there from your lessons/$LESSON_NAME/)" ;;
esac
if [ "$VIEW" = full ]; then
  echo "lesson $LESSON ($TITLE): testing $what${only:+, only the tests matching $only}"
fi


tested=0; passing=0; synthesis=1; rc=0
# run_bg N [criterion flags...]: kit_run_tests in the background, into $log.N and $tap.N; its
# exit code and counts land in $KIT_TMP/run.N. collect N waits for it and adds them up.
bg_pids=()
run_bg() {
  local n=$1
  shift
  ( trap - EXIT INT TERM
    kit_run_tests "$TEST_BIN" "$log.$n" --tap="$tap.$n" "$@"
    echo "$? $SYNTHESIS $TESTED $PASSING" >"$KIT_TMP/run.$n" ) &
  bg_pids[$n]=$!
}
collect() {
  local r s t p
  wait "${bg_pids[$1]}"
  read -r r s t p <"$KIT_TMP/run.$1" || { r=1; s=0; t=0; p=0; }
  [ "$r" -ne 0 ] && rc=$r
  [ "$s" -eq 1 ] || synthesis=0
  tested=$((tested + t)); passing=$((passing + p))
  TESTED=$t
}
# Ctrl+C: the runs in the background do not see it (timeout gives them a process group of
# their own): stop them (their timeout, which passes the signal on), then leave.
on_interrupt() {
  local p
  for p in "${bg_pids[@]}"; do pkill -TERM -P "$p" 2>/dev/null; done
  exit 130
}
trap on_interrupt INT TERM

first=
if [ -z "$only" ] && [ -s "$failing_cache" ]; then read -r first _ <"$failing_cache"; fi
rm -f "$log".* "$tap".*
shown_full=0
crash=
filter=()
if [ -n "$only" ]; then filter=(--filter="$only")
elif [ -n "$first" ]; then filter=(--filter="!($first)")
fi
# The test that failed first last time runs alone (1), beside the others in parallel (2); its
# verdict goes on screen as soon as it is known.
[ -n "$first" ] && run_bg 1 --filter="$first" --jobs=1
run_bg 2 "${filter[@]}" --jobs="$JOBS"
if [ -n "$first" ]; then
  collect 1
  if [ "$TESTED" -eq 0 ]; then
    # That test is gone (renamed): the others were all of them.
    :
  else
    rec=$(records "$tap.1" | grep -v '^skip')
    if [ "${rec%%$'\t'*}" != pass ]; then
      crash=$(crash_excerpt "$log.1")
      render "$tap.1" -v view=one -v crash="$crash"
      [ "$VIEW" = full ] || echo "(it failed last time, so it ran first; the other tests are running...)"
      shown_full=1
      trace first-failure
    elif [ "$VIEW" = full ]; then
      render "$tap.1" -v view=one
    else
      name=$(cut -f2 <<<"$rec"); name=${name/::/: }
      echo "${name//_/ } passes now (it failed last time); the other tests are running..."
    fi
  fi
fi
collect 2
cat "$log".[12] >"$log" 2>/dev/null
cat "$tap".[12] >"$tap" 2>/dev/null
rm -f "$log".[12]
failed=$((tested - passing))

if [ -n "$only" ] && [ "$tested" -eq 0 ] && [ "$synthesis" -eq 1 ]; then
  echo "ONLY=$ONLY matches none of lesson $LESSON's tests. They are (ONLY takes a name or a glob, in quotes):"
  "$TEST_BIN" --list 2>/dev/null | awk '/^[^ │├└]/ { sub(/:.*/, ""); s = $0; next } { sub(/^[│├└─ ]+/, ""); print "  " s "/" $0 }'
  exit 1
fi

if [ "$VIEW" = full ]; then
  if [ -s "$tap.2" ]; then
    render "$tap.2" -v shownfull=$shown_full
  fi
  [ "$shown_full" -eq 1 ] || { [ "$failed" -gt 0 ] && trace first-failure; }
else
  # Watch: clear and redraw the screen now that the whole verdict is known.
  [ -t 1 ] && printf '\033[H\033[2J\033[3J%s' "${WATCH_HEADER:-}"
  bar=$(awk -v p="$passing" -v t="$tested" 'BEGIN { w = 30; k = t ? int(w * p / t + 0.5) : 0
          s = ""; for (i = 0; i < w; i++) s = s (i < k ? "#" : "."); print s }')
  echo "Progress: [$bar] $passing of $(plural "$tested" test) pass${only:+ (only $only)}"
  trace verdict
  if [ "$failed" -gt 0 ] && [ "$synthesis" -eq 1 ]; then
    echo
    : >"$seen"
    render "$tap" -v view=watch -v crash="$crash"
    [ "$shown_full" -eq 1 ] || trace first-failure
  fi
fi

sanitizer=$(grep -a -m1 -E '^SUMMARY: (Address|UndefinedBehavior|Leak)Sanitizer|runtime error:' "$log")
if [ -n "$sanitizer" ] && [ "$VIEW" = full ]; then
  echo "The sanitizers reported (the first report in $log): ${sanitizer#SUMMARY: }"
fi

# Remember what failed (the quickest of them runs first next time) and, for the student's own
# files, the verdict with a digest of the files it is about (make progress, make solution).
if [ -z "$only" ]; then
  if [ "$synthesis" -eq 1 ]; then
    # Quickest failure first (TAP gives each failed test's time), so that next time the test
    # that runs alone and ahead of the others answers soonest; ties keep the report's order.
    records "$tap" | awk -F'\t' -v tap="$tap" '
      BEGIN { while ((getline l < tap) > 0) if (l ~ /^not ok - /) {
                split(l, w, " "); d = w[5]; gsub(/[()s]/, "", d); if (d ~ /^[0-9.]+$/) secs[w[4]] = d + 0 } }
      $1 != "pass" && $1 != "skip" {
        k = ++n; name[k] = $2; t[k] = ($2 in secs) ? secs[$2] : 1e9
        while (k > 1 && t[k - 1] > t[k]) { x = t[k]; t[k] = t[k - 1]; t[k - 1] = x
                                            x = name[k]; name[k] = name[k - 1]; name[k - 1] = x; k-- } }
      END { for (i = 1; i <= n; i++) { s = name[i]; sub(/::/, "/", s); printf "%s ", s }; print "" }' >"$failing_cache"
  fi
  if [ "$VARIANT" = student ]; then
    stale=
    for p in "${exercise_paths[@]}"; do [ "$p" -nt "$TEST_BIN" ] && stale="$stale ${p##*/}"; done
    if [ -n "$stale" ]; then
      echo "(${stale# } changed while the tests ran: this verdict is for the version before, and is not recorded.)"
    else
      result=fail; [ "$synthesis" -eq 1 ] && [ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] && result=pass
      progress_record "$LESSON" "$result" "$tested" "$passing" "$(cat "$failing_cache" 2>/dev/null)" "${exercise_paths[@]}"
    fi
  fi
fi

if [ "$synthesis" -ne 1 ]; then
  echo "The test run itself did not finish (exit $rc). The full output is in $log:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
if [ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]; then
  if [ "$VIEW" = full ]; then
    if [ -n "$only" ]; then
      echo "$(plural "$tested" test) run, all passed (only those matching $only; run without ONLY for the lesson's verdict)."
    else
      echo "All $tested tests passed."
      trace verdict
      harness/lesson/speedup.sh
      echo "next: make lesson-$LESSON bench   (time the whole sweep and chart it)"
      [ "$VARIANT" = student ] && echo "      make lesson-$LESSON solution   (the reference solution beside yours)"
    fi
  fi
  exit 0
fi
if [ "$VIEW" = full ]; then
  echo "$passing of $(plural "$tested" test) passed, $failed failed${only:+ (only those matching $only)}. Full output: $log"
  trace verdict
  echo "Stuck? make hint-$LESSON shows the next hint; lessons/$LESSON_NAME/README.md lists the common mistakes."
fi
exit 1
