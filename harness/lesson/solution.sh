#!/usr/bin/env bash
# `make lesson-NN solution`: the reference solution, and how it differs from the student's files,
# once the student's own files pass every test as they are now (the digest recorded with the
# last passing run must match the files). Before that, how many tests remain.
set -uo pipefail
. harness/lesson/progress.sh

if [ "$VARIANT" != student ]; then
  echo "solution compares the reference with your own files in lessons/$LESSON_NAME/; run it without SOLUTION=1 or FROM=." >&2
  exit 2
fi
read -r -a names <<<"$EXERCISE"
ref=solutions/$LESSON_NAME
case $(progress_state "$LESSON") in
  none)
    echo "The reference for lesson $LESSON opens once your own files pass all its tests,"
    echo "and they have not been tested yet: make lesson-$LESSON test (or make lesson-$LESSON watch)."
    exit 1 ;;
  fail)
    tested=$(progress_get "$LESSON" tested); passed=$(progress_get "$LESSON" passed)
    left=$((tested - passed))
    echo "$(plural "$left" test) of lesson $LESSON still $([ "$left" -eq 1 ] && echo fails || echo fail) ($passed of $tested pass, last run $(progress_when "$LESSON"))."
    echo "The reference opens once they all pass. make hint-$LESSON gives the next hint;"
    echo "make lesson-$LESSON watch re-tests at every save."
    exit 1 ;;
  changed)
    echo "Your files passed on $(progress_when "$LESSON"), but they have changed since."
    echo "The reference opens for the files as they are now: make lesson-$LESSON test, then this again."
    exit 1 ;;
esac

show() {
  local f
  for f in "${names[@]}"; do
    echo "==== $ref/$f, the reference ===="
    cat -- "$ref/$f"
    echo
    if cmp -s -- "$LESSON_DIR/$f" "$ref/$f"; then
      echo "==== your $f is the same ===="
    else
      echo "==== how it differs from yours (- your $LESSON_DIR/$f, + the reference) ===="
      diff -u --label "your $f" --label "reference $f" -- "$LESSON_DIR/$f" "$ref/$f"
    fi
    echo
  done
  echo "Both pass the same tests: the differences are choices. The lesson's README explains the reference's."
}
echo "All tests of lesson $LESSON pass with your files as they are now. The reference:"
if [ -t 1 ] && command -v less >/dev/null 2>&1; then
  show | less -FRX
else
  show
fi
