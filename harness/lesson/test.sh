#!/usr/bin/env bash
# `make lesson-NN test`: run a lesson's tests against private servers and print, for each test,
# whether it passed and, when not, the diagnostic. The full output is kept in a log. The lesson's
# variables come from harness/lesson/lesson.mk, in the environment.
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
rm -f "$tap"
echo "lesson $LESSON ($TITLE): testing $what"
kit_run_tests "$TEST_BIN" "$log" --tap="$tap"
rc=$?

kit_verdicts report "$tap"
sanitizer=$(grep -a -m1 -E '^SUMMARY: (Address|UndefinedBehavior|Leak)Sanitizer|runtime error:' "$log")
[ -n "$sanitizer" ] && echo "The sanitizers reported (first of them): ${sanitizer#SUMMARY: }"

# The course map's status of the student's own files.
record() {
  [ "$VARIANT" = student ] || return 0
  mkdir -p "$BUILD/progress" && echo "$1 $(date +%s)" >"$BUILD/progress/$LESSON"
}

passed=$PASSING
failed=$((TESTED - PASSING))
if [ "$SYNTHESIS" -ne 1 ]; then
  echo "The test run itself did not finish (exit $rc). The full output is in $log:" >&2
  tail -n 20 "$log" >&2
  record fail
  exit 1
fi
if [ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]; then
  echo "All $TESTED tests passed."
  record pass
  if [ -n "${SPEEDUP_ARGS:-}" ] && [ -n "${BENCH_MODES:-}" ] && kit_start_server; then
    read -r -a modes <<<"$BENCH_MODES"
    read -r -a args <<<"$SPEEDUP_ARGS"
    a=$("$PROG" --url "$SERVER_URL" --mode "${modes[0]}" "${args[@]}" 2>/dev/null)
    b=$("$PROG" --url "$SERVER_URL" --mode "${modes[-1]}" "${args[@]}" 2>/dev/null)
    wa=$(kit_field wall_s "$a") wb=$(kit_field wall_s "$b") ta=$(kit_field theory_s "$a") tb=$(kit_field theory_s "$b")
    awk -v wa="$wa" -v wb="$wb" -v ta="$ta" -v tb="$tb" -v m1="${modes[0]}" -v m2="${modes[-1]}" -v args="$SPEEDUP_ARGS" '
      BEGIN { if (wa == "" || wb == "" || wb == 0 || tb == 0) exit
              printf "Speedup (%s): %s %.3f s, %s %.3f s: %.1fx (ideal %.1fx).\n", args, m1, wa, m2, wb, wa / wb, ta / tb }'
    echo "next: make lesson-$LESSON bench   (time the whole sweep and chart it)"
  fi
  exit 0
fi
echo "$passed of $TESTED tests passed, $failed failed. Full output: $log"
record fail
echo "Stuck? make hint-$LESSON shows the next hint; lessons/$LESSON_NAME/README.md lists the common mistakes."
exit 1
