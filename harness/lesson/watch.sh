#!/usr/bin/env bash
# `make lesson-NN watch`: test the lesson again each time one of its exercise files is saved
# (EXERCISE_PATHS: the student's copies, or FROM's). Each round clears the screen, rebuilds what
# changed, runs first the test that failed first last time, and shows the progress line and the
# first failure in full. It waits with inotifywait (Debian: inotify-tools) where there is one,
# and otherwise looks at the files' times once a second. Ctrl+C stops it.
# KIT_WATCH_ROUNDS=N stops after N rounds (the self-test); KIT_TRACE=FILE logs when each step
# ended (harness/lesson/feedback-bench.sh reads it).
set -uo pipefail
. harness/lesson/progress.sh

read -r -a files <<<"${EXERCISE_PATHS:-}"
[ "${#files[@]}" -gt 0 ] || { echo "Lesson $LESSON names no exercise files (EXERCISE in its lesson.mk)." >&2; exit 2; }
names=$(for f in "${files[@]}"; do printf '%s ' "${f##*/}"; done)
names=${names% }
rounds=${KIT_WATCH_ROUNDS:-0}
tty=0; [ -t 1 ] && tty=1
# The sub-make sees the same variables as this one (SOLUTION, FROM, ONLY...), without -j's jobserver.
MAKEFLAGS=$(sed -E 's/(^| )--jobserver-[a-z]+=[^ ]*//g; s/(^| )-j[0-9]*( |$)/ /g' <<<"${MAKEFLAGS:-}")
export MAKEFLAGS
# COMPDB_LISTING=1: no compile_commands.json on each round (the make that started watch wrote it;
# an editor's swap file in the lesson's folder would otherwise have it rewritten at every save).
m() { make -s --no-print-directory COMPDB_LISTING=1 "lesson-$LESSON" "$@"; }
trace() { if [ -n "${KIT_TRACE:-}" ]; then echo "$1 $(date +%s.%N)" >>"$KIT_TRACE"; fi; }

inw_pid=
stop() {
  [ -n "$inw_pid" ] && kill "$inw_pid" 2>/dev/null
  if [ "${1:-}" = int ]; then
    echo
    echo "Stopped watching lesson $LESSON. (make lesson-$LESSON test runs the tests once.)"
  fi
  exit 0
}
trap 'stop int' INT TERM
trap 'stop' EXIT

# What the files look like now: name, modification time (ns), size, inode; a save changes one.
snapshot() { stat -c '%n %.9Y %s %i' -- "${files[@]}" 2>&1; }

# Wait until the files differ from snapshot $1. A burst of events (an editor writing a temporary
# file, then renaming it) counts once: wait until the events stop for 50 ms.
wait_change() {
  local now
  while :; do
    now=$(snapshot)
    if [ "$now" != "$1" ]; then
      # A file caught between an editor's delete and rename: give it a moment.
      for f in "${files[@]}"; do [ -e "$f" ] || { sleep 0.1; now=$(snapshot); break; }; done
      [ "$now" != "$1" ] && return 0
    fi
    if [ -n "$inw_pid" ]; then
      if read -r -t 5 -u "${INW[0]}" _; then
        while read -r -t 0.05 -u "${INW[0]}" _; do :; done
      elif ! kill -0 "$inw_pid" 2>/dev/null; then
        inw_pid=   # inotifywait died (too many watches?): poll from now on
      fi
    else
      sleep 1
    fi
  done
}

how="checking the files once a second; install inotify-tools to react at once"
if command -v inotifywait >/dev/null 2>&1; then
  dirs=$(for f in "${files[@]}"; do dirname -- "$f"; done | sort -u)
  mapfile -t dirs <<<"$dirs"
  coproc INW { exec inotifywait -m -q -e close_write -e moved_to -e create -e delete -e attrib --format '%f' "${dirs[@]}" 2>/dev/null; }
  inw_pid=$INW_PID
  how="reacts to every save"
fi

round=0
reason="started"
while :; do
  round=$((round + 1))
  seen=$(snapshot)
  header="lesson $LESSON ($TITLE): watching $names, $reason. Ctrl+C stops."$'\n'
  if [ "$tty" -eq 1 ]; then printf '\033[H\033[2J\033[3J%s' "$header"; else printf '\n---- round %d: %s' "$round" "$header"; fi
  echo "Building..."
  if ! out=$(m build-tests 2>&1); then
    trace built
    [ "$tty" -eq 1 ] && printf '\033[H\033[2J\033[3J%s' "$header"
    echo "Progress: does not compile yet (warnings count as errors here). The compiler said:"
    echo
    grep -v -E '^ *(CC|LINK) |^make(\[[0-9]+\])?: \*\*\*' <<<"$out" | sed 's/then run make again\./then save again./' | head -n 40
    trace verdict
  else
    trace built
    if VIEW=watch WATCH_HEADER="$header" harness/lesson/test.sh; then
      if [ -z "${ONLY:-}" ]; then
        m build >/dev/null 2>&1 && harness/lesson/speedup.sh
        echo "next: make lesson-$LESSON bench (time the whole sweep)$([ "$VARIANT" = student ] && echo "; make lesson-$LESSON solution (the reference beside yours)")"
      fi
    fi
  fi
  [ "$round" -eq "$rounds" ] && exit 0
  echo
  echo "Waiting for a save ($how)..."
  trace waiting
  wait_change "$seen"
  trace saved
  changed=
  now=$(snapshot)
  while read -r line; do
    grep -qxF -- "$line" <<<"$seen" || changed="$changed ${line%% *}"
  done <<<"$now"
  changed=$(for f in $changed; do printf '%s ' "${f##*/}"; done)
  reason="${changed% } saved at $(date +%H:%M:%S)"
done
