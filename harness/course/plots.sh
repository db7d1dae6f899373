#!/usr/bin/env bash
# `make plots`: every lesson's bench and chart (the reference solutions, or SOLUTION=0 for your
# own files), then, with the reference, the known mistakes a lesson draws beside its chart
# (PLOT_MISTAKES in its lesson.mk: the last mode only, the one such a mistake breaks), then the
# gallery page (gallery.sh).
#
# A bench spends its time waiting on its own private server (the lesson's delays), not on the
# CPU, so PLOTS_JOBS lessons (default 4) bench at once, the longest first (as the last run
# measured them), each in the background with its output kept and printed whole, in lesson
# order. Everything they build is built first, one lesson at a time (two makes must never build
# the same library at once). PLOTS_JOBS=1 benches one lesson at a time, the quietest figures,
# in about three times the time.
set -uo pipefail
. harness/lib.sh
kit_vars || { echo "[no-metadata] make vars failed" >&2; exit 1; }
sol=${SOLUTION:-1}
jobs=${PLOTS_JOBS:-4}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "[plots-jobs] PLOTS_JOBS must be a whole number from 1, not '$jobs'" >&2; exit 2; }
m() { make -s --no-print-directory "$@"; }
start=$(date +%s)
logs=$BUILD/plots
rm -rf "$logs" && mkdir -p "$logs"

# bench_lesson NAME: the lesson's bench, and its known mistakes' with the reference.
bench_lesson() {
  local name=$1 n=${1%%-*} mistake
  m lesson-"$n" bench SOLUTION="$sol" || return 1
  [ "$sol" = 1 ] || return 0
  kit_vars "$n" SOLUTION=1 || return 1
  for mistake in ${PLOT_MISTAKES:-}; do
    echo "lesson $n with the known mistake $mistake, in mode ${BENCH_MODES##* } only:"
    m lesson-"$n" bench MISTAKE="$mistake" BENCH_ONLY="${BENCH_MODES##* }" || return 1
  done
}

# The builds, one at a time: each lesson's program (and the mistakes' copies, built by their
# first bench, are only the lesson's own objects).
m all >"$logs/build.log" 2>&1 || { cat "$logs/build.log"; echo "[plots-build] the kit does not build (see above)" >&2; exit 1; }
for name in $LESSONS; do
  m lesson-"${name%%-*}" build SOLUTION="$sol" >>"$logs/build.log" 2>&1 ||
    { tail -n 20 "$logs/build.log"; echo "[plots-build] lesson ${name%%-*} does not build (see above)" >&2; exit 1; }
done

declare -A pid_of
# Stopped early (Ctrl+C, a failed build), the benches still running stop too.
stop_benches() { local p; for p in "${pid_of[@]}"; do kill_tree "$p"; done; }
trap 'stop_benches; kit_cleanup' EXIT
trap 'exit 130' INT TERM
status=0
read -r -a names <<<"$LESSONS"
shown=0
# show_done: print the lessons that have ended, in lesson order, up to the first still running.
show_done() {
  local name rc
  while [ "$shown" -lt "${#names[@]}" ]; do
    name=${names[$shown]}
    [ -n "${pid_of[$name]:-}" ] || return 0                  # not started yet
    kill -0 "${pid_of[$name]}" 2>/dev/null && return 0      # still running
    wait "${pid_of[$name]}"; rc=$?
    unset "pid_of[$name]"
    cat "$logs/$name.log"
    [ "$rc" -eq 0 ] || { echo "[plots-bench] lesson ${name%%-*}'s bench failed (above; its log: $logs/$name.log)" >&2; status=1; }
    shown=$((shown + 1))
  done
}
# The longest benches first, so the last to start are short: each lesson's seconds as the last
# run measured them ($BUILD/plots-durations), else as they were measured on 2 cores when this
# was written (a lesson missing from both counts 60 s).
durations=$BUILD/plots-durations
declare -A secs_of=([01-sync-vs-async]=125 [02-event-loop]=45 [03-tasks]=70 [04-gather]=110
  [05-semaphores]=65 [06-timeouts]=75 [07-cancellation]=60 [08-queues]=65 [09-blocking]=60
  [10-locks]=60 [11-retries]=40 [12-crawler]=110 [13-urlcheck]=120)
if [ -f "$durations" ]; then
  while read -r name secs; do [[ $secs =~ ^[0-9]+$ ]] && secs_of[$name]=$secs; done <"$durations"
fi
order=$(for name in "${names[@]}"; do echo "${secs_of[$name]:-60} $name"; done | sort -k1,1nr -k2 | cut -d' ' -f2)
declare -A began
for name in $order; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; show_done; done
  began[$name]=$(date +%s)
  { bench_lesson "$name"; rc=$?; date +%s >"$logs/$name.end"; exit "$rc"; } >"$logs/$name.log" 2>&1 &
  pid_of[$name]=$!
  show_done
done
while [ "$shown" -lt "${#names[@]}" ]; do wait -n; show_done; done
[ "$status" -eq 0 ] || exit 1
# Each bench's seconds, for the next run's order (each wrote the time it ended).
for name in "${names[@]}"; do
  echo "$name $(( $(cat "$logs/$name.end") - ${began[$name]} ))"
done >"$durations"
echo "the benches took $(( $(date +%s) - start )) s, $jobs lessons at a time (PLOTS_JOBS)"
harness/course/gallery.sh
