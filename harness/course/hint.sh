#!/usr/bin/env bash
# `make hint-NN`: show the next hint of a lesson's ladder, gentlest first.
set -uo pipefail
. harness/lesson/progress.sh
n=$1; shift
name=$(printf '%s\n' "$@" | grep "^$n-" | head -n 1)
if [ -z "$name" ]; then
  echo "There is no lesson $n. The lessons are: $*" >&2
  exit 2
fi
hints=(lessons/"$name"/hints/*.md)
[ -e "${hints[0]}" ] || { echo "Lesson $n has no hints."; exit 0; }
# The counter lives with the progress, outside the build folder: make clean keeps it.
mkdir -p "$KIT_PROGRESS"
counter=$KIT_PROGRESS/hints-$n
seen=$(cat "$counter" 2>/dev/null || echo 0)
i=$(( seen < ${#hints[@]} ? seen : ${#hints[@]} - 1 ))
echo "Hint $((i + 1)) of ${#hints[@]} for lesson $n:"
echo
sed 's/^/  /' "${hints[$i]}"
echo
echo $((i + 1)) >"$counter"
if [ $((i + 1)) -lt ${#hints[@]} ]; then
  echo "(make hint-$n again for the next one)"
else
  echo "(that was the last hint; make lesson-$n solution shows the reference once your files pass)"
fi
