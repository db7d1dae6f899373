#!/usr/bin/env bash
# `make lesson-NN test`: run a lesson's tests against private servers and print, for each test,
# whether it passed and, when not, the diagnostic. The full output is kept in a log.
set -uo pipefail
. harness/lib.sh

case $VARIANT in
  student) what="your files in lessons/$LESSON_NAME/" ;;
  solution) what="the reference solution in solutions/$LESSON_NAME/" ;;
  solution-from*) what="the files in $FROM (any missing there from the reference solution)" ;;
  *) what="the files in $FROM (any missing there from your lessons/$LESSON_NAME/)" ;;
esac
logdir=$(dirname "$TEST_BIN")
log=$logdir/test.log
tap=$logdir/test.tap
echo "lesson $LESSON ($TITLE): testing $what"
kit_run_tests "$TEST_BIN" "$log" --tap="$tap"
rc=$?

# One line a test, the diagnostic under each failure (harness/tap.awk reads the TAP report);
# a diagnostic already shown is not repeated.
awk -f harness/tap.awk "$tap" | awk -F'\t' '
  {
    shown = $2; gsub(/::/, ": ", shown); gsub(/_/, " ", shown)
    printf "  %s  %s\n", $1 == "pass" ? "PASS" : "FAIL", shown
    if ($1 == "pass") next
    if ($1 == "timeout") d = "[timeout] it did not finish in time: something waits forever (a deadlock, or a loop that never ends)"
    else if ($1 == "crash") d = "[crashed] the test process died before the test could report (a crash, a sanitizer error, or exit() in your code). The full log says where."
    else d = $3
    if (d in said) print "        (the same as above)"
    else print "        " d
    said[d] = 1
  }'
sanitizer=$(grep -a -m1 -E '^SUMMARY: (Address|UndefinedBehavior|Leak)Sanitizer|runtime error:' "$log")
[ -n "$sanitizer" ] && echo "The sanitizers reported (first of them): ${sanitizer#SUMMARY: }"

passed=$PASSING
failed=$((TESTED - PASSING))
mkdir -p build/progress
if [ "$SYNTHESIS" -ne 1 ]; then
  echo "The test run itself did not finish (exit $rc). The full output is in $log:" >&2
  tail -n 20 "$log" >&2
  [ "$VARIANT" = student ] && echo "fail $(date +%s)" >"build/progress/$LESSON"
  exit 1
fi
if [ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]; then
  echo "All $TESTED tests passed."
  [ "$VARIANT" = student ] && echo "pass $(date +%s)" >"build/progress/$LESSON"
  if [ -n "${SPEEDUP_ARGS:-}" ] && [ -n "${BENCH_MODES:-}" ] && kit_start_server; then
    read -r -a modes <<<"$BENCH_MODES"
    read -r -a args <<<"$SPEEDUP_ARGS"
    a=$("$PROG" --url "$SERVER_URL" --mode "${modes[0]}" "${args[@]}" 2>/dev/null)
    b=$("$PROG" --url "$SERVER_URL" --mode "${modes[-1]}" "${args[@]}" 2>/dev/null)
    awk -v a="$a" -v b="$b" -v m1="${modes[0]}" -v m2="${modes[-1]}" -v args="$SPEEDUP_ARGS" '
      function get(row, k,   n, f, i, kv) { n = split(row, f, " "); for (i = 1; i <= n; i++) { split(f[i], kv, "="); if (kv[1] == k) return kv[2] } return "" }
      BEGIN { wa = get(a, "wall_s"); wb = get(b, "wall_s"); ta = get(a, "theory_s"); tb = get(b, "theory_s")
              if (wa == "" || wb == "" || wb == 0 || tb == 0) exit
              printf "Speedup (%s): %s %.3f s, %s %.3f s: %.1fx (ideal %.1fx).\n", args, m1, wa, m2, wb, wa / wb, ta / tb }'
    echo "next: make lesson-$LESSON bench   (time the whole sweep and chart it)"
  fi
  exit 0
fi
echo "$passed of $TESTED tests passed, $failed failed. Full output: $log"
[ "$VARIANT" = student ] && echo "fail $(date +%s)" >"build/progress/$LESSON"
echo "Stuck? make hint-$LESSON shows the next hint; lessons/$LESSON_NAME/README.md lists the common mistakes."
exit 1
