#!/usr/bin/env bash
# `make feedback-bench [BENCH_LESSONS="01 03"] [ROUNDS=3]`: how long a student waits, from saving
# an exercise file to what the screen says. For each lesson, two copies of the reference in
# $BUILD/feedback-bench/: one with a known mistake applied (its first patch: some tests fail),
# one as it is (all pass). Each is watched (make lesson-NN watch FROM=copy, in the background);
# the bench saves the file ROUNDS times (a comment line added: a real change, so a real rebuild)
# and reads, from the watcher's trace, when the first failure and the whole verdict were shown.
# Then the same with `make lesson-NN test` typed after a save. Medians; goals: first failure
# 2 s or less, verdict 4 s or less. A benchmark, not a test: the figures depend on the machine
# and its load, which the report prints beside them.
set -uo pipefail
. harness/lib.sh
kit_vars || exit 1
rounds=${ROUNDS:-3}
out=$BUILD/feedback-bench
rm -rf "$out" && mkdir -p "$out"
lessons=
for name in $LESSONS; do
  n=${name%%-*}
  if [ -z "${BENCH_LESSONS:-}" ] || [[ " $BENCH_LESSONS " == *" $n "* ]]; then lessons="$lessons $name"; fi
done
now() { date +%s.%N; }
count() { grep -c "^$1 " "$2" 2>/dev/null; }
# nth_after EVENT TRACE T0: the time of the first EVENT logged after T0, as seconds since T0.
since() { awk -v e="$1" -v t0="$3" '$1 == e && $2 > t0 { printf "%.2f\n", $2 - t0; exit }' "$2"; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# wait_for EVENT TRACE N SECONDS: until TRACE logs EVENT N times; 1 when it did not in time.
wait_for() {
  local i
  for ((i = 0; i < $4 * 20; i++)); do
    [ "$(count "$1" "$2")" -ge "$3" ] && return 0
    sleep 0.05
  done
  return 1
}
save() { echo "/* saved by the feedback bench at $(now) */" >>"$1"; }

watcher=
stop_watcher() {
  if [ -n "$watcher" ]; then kill -TERM -- "-$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null; watcher=; fi
}
trap 'stop_watcher; kit_cleanup' EXIT
trap 'exit 130' INT TERM

echo "Feedback from a save, in seconds (medians of $rounds saves); machine: $(kit_machine)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-7s %-22s %-13s %14s %14s %14s\n' lesson files how "to build" "first failure" verdict
for name in $lessons; do
  n=${name%%-*}
  kit_vars "$n" SOLUTION=1 || continue
  patch_file=$(ls solutions/"$name"/mistakes/*.patch 2>/dev/null | head -n 1)
  for state in mistake solution; do
    dir=$out/$n-$state
    mkdir -p "$dir"
    for f in $EXERCISE; do cp "solutions/$name/$f" "$dir/"; done
    label="the reference"
    if [ "$state" = mistake ]; then
      [ -n "$patch_file" ] || continue
      patch --batch -s -p1 -d "$dir" <"$patch_file" >/dev/null 2>&1 || continue
      label="mistake $(basename "$patch_file" .patch)"
    fi
    file=$dir/${EXERCISE%% *}
    make -s --no-print-directory lesson-"$n" build SOLUTION=1 FROM="$dir" >/dev/null 2>&1

    # In watch mode.
    trace=$out/$n-$state.watch.trace
    : >"$trace"
    KIT_TRACE=$trace setsid make -s --no-print-directory lesson-"$n" watch SOLUTION=1 FROM="$dir" \
      >"$out/$n-$state.watch.out" 2>&1 </dev/null &
    watcher=$!
    builds=() firsts=() verdicts=()
    if wait_for waiting "$trace" 1 120; then
      for ((r = 1; r <= rounds; r++)); do
        t0=$(now)
        save "$file"
        wait_for waiting "$trace" $((r + 1)) 120 || break
        builds+=("$(since built "$trace" "$t0")")
        verdicts+=("$(since verdict "$trace" "$t0")")
        [ "$state" = mistake ] && firsts+=("$(since first-failure "$trace" "$t0")")
      done
    fi
    stop_watcher
    printf '%-7s %-22s %-13s %14s %14s %14s\n' "$n" "$label" "watch" \
      "$(printf '%s\n' "${builds[@]}" | median)" \
      "$([ "$state" = mistake ] && printf '%s\n' "${firsts[@]}" | median || echo -)" \
      "$(printf '%s\n' "${verdicts[@]}" | median)"

    # make lesson-NN test, typed after a save.
    trace=$out/$n-$state.test.trace
    : >"$trace"
    firsts=() verdicts=()
    for ((r = 1; r <= rounds; r++)); do
      save "$file"
      t0=$(now)
      KIT_TRACE=$trace make -s --no-print-directory lesson-"$n" test SOLUTION=1 FROM="$dir" \
        >"$out/$n-$state.test.out" 2>&1 </dev/null
      verdicts+=("$(since verdict "$trace" "$t0")")
      [ "$state" = mistake ] && firsts+=("$(since first-failure "$trace" "$t0")")
    done
    printf '%-7s %-22s %-13s %14s %14s %14s\n' "$n" "$label" "make test" "-" \
      "$([ "$state" = mistake ] && printf '%s\n' "${firsts[@]}" | median || echo -)" \
      "$(printf '%s\n' "${verdicts[@]}" | median)"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Goals: first failure on screen 2 s or less, whole verdict 4 s or less after a save (watch)."
echo "Traces and screens in $out/."
