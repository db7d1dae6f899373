#!/usr/bin/env bash
# `make` (the course map) and `make progress`: the lessons, how each went for this student,
# and what to type next.
set -uo pipefail
progress=0
[ "${1:-}" = --progress ] && { progress=1; shift; }

status_of() {   # status_of NN: what the last `make lesson-NN test` on the student's files said
  local f=build/progress/$1
  [ -f "$f" ] || { echo "not tried yet"; return; }
  read -r result when <"$f"
  case $result in
    pass) echo "passed ($(date -d "@$when" '+%b %d %H:%M' 2>/dev/null))" ;;
    *) echo "not passing yet (last tried $(date -d "@$when" '+%b %d %H:%M' 2>/dev/null))" ;;
  esac
}

echo "Async I/O, taught in C"
echo
printf '  %-4s %-28s %s\n' "" "lesson" "your status"
next=
done_count=0
for name in "$@"; do
  n=${name%%-*}
  title=$(sed -n 's/^TITLE *:*= *//p' "lessons/$name/lesson.mk")
  status=$(status_of "$n")
  printf '  %-4s %-28s %s\n' "$n" "$title" "$status"
  case $status in passed*) done_count=$((done_count + 1)) ;; *) [ -n "$next" ] || next=$n ;; esac
done
if [ "$progress" -eq 0 ]; then
  echo "  (coming: 04 gather, 05 semaphores, 06 timeouts, 07 cancellation, 08 queues,"
  echo "   09 blocking pitfalls, 10+ locks, an HTTP client with retries, a crawler, a URL checker)"
fi
echo
echo "$done_count of $# lessons pass."
if [ -n "$next" ]; then
  echo "Next: read lessons/$(printf '%s\n' "$@" | grep "^$next-")/README.md, then: make lesson-$next test"
  echo "      (make hint-$next for a hint; make lesson-$next test SOLUTION=1 runs the reference)"
fi
if [ "$progress" -eq 0 ]; then
  cat <<'MORE'

Also:  make demo          sequential vs concurrent downloads, timed and charted (no internet)
       make check         the kit's self-test
       make lesson-NN run | bench | plot     one run | a timed sweep | its chart
       make server PORT=8080                 the bundled test server, in the foreground
       make benchmark     the aio runtime against Python asyncio, on this machine
       make grade [SUBMISSIONS=dir]          points per lesson and test, for you or a class
MORE
fi
