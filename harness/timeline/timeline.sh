#!/usr/bin/env bash
# `make lesson-NN timeline`: run the lesson program once per mode (BENCH_MODES) at a small point
# (TIMELINE_ARGS), traced, against a private delayd that records its requests (--trace), and
# draw what happened: plots/lesson-NN-timeline.png and .svg (one Gantt panel per mode, on one
# time axis), plots/data/lesson-NN-timeline.json (the Chrome trace event format, for Perfetto
# or chrome://tracing), and text lanes here. TIMELINE_SOURCE says whose events make the lanes:
# aio (the runtime's AIO_TRACE: one lane per task), server (delayd's: one lane per request, on
# the server's clock), or both.
set -uo pipefail
. harness/lib.sh

here=harness/timeline
png=${TIMELINE_PNG:-plots/lesson-$LESSON-timeline.png}
svg=${png%.png}.svg
json=${TIMELINE_JSON:-plots/data/lesson-$LESSON-timeline.json}
source=${TIMELINE_SOURCE:-}
[ -n "$source" ] || source=$([ -n "${USES_AIO:-}" ] && echo aio || echo server)
case $source in aio|server|both) ;; *)
  echo "[timeline-source] TIMELINE_SOURCE=$source: expected aio, server or both" >&2; exit 2 ;; esac
if [ "$source" != server ] && [ -z "${USES_AIO:-}" ]; then
  echo "[timeline-source] lesson $LESSON's program does not use the aio runtime, so it writes no task trace; TIMELINE_SOURCE=server draws the server's lanes" >&2
  exit 2
fi
command -v gnuplot >/dev/null || { echo "[no-gnuplot] gnuplot is not installed; make deps installs it (or: apt-get install gnuplot-nox)" >&2; exit 1; }
[ -x "$PROG" ] || { echo "[no-program] $PROG is missing; make lesson-$LESSON build builds it" >&2; exit 1; }

kit_start_server --trace 100000 || exit 1
dir=$KIT_TMP/timeline
mkdir -p "$dir" "$(dirname "$png")" "$(dirname "$json")"
read -r -a args <<<"${TIMELINE_ARGS:-}"
rows=()
for mode in $BENCH_MODES; do
  curl -fsS -o /dev/null "$SERVER_URL/reset" || { echo "[server] the private delayd did not answer /reset" >&2; exit 1; }
  echo "running: $PROG --url $SERVER_URL --mode $mode ${args[*]}"
  row=$(AIO_TRACE=$dir/$mode.aio "$PROG" --url "$SERVER_URL" --mode "$mode" "${args[@]}")
  rc=$?
  if [ $rc -ne 0 ] || [ -z "$row" ]; then
    echo "[program-failed] the lesson program ended with exit $rc in mode $mode${row:+ and printed: $row}; it should print one row of key=value pairs. Its messages are above." >&2
    exit 1
  fi
  echo "  $row"
  rows+=("$row")
  curl -fsS -o "$dir/$mode.srv" "$SERVER_URL/trace" || { echo "[server] the private delayd did not answer /trace" >&2; exit 1; }
  if [ "$source" != server ] && [ ! -s "$dir/$mode.aio" ]; then
    echo "[timeline-no-trace] mode $mode wrote no aio trace to \$AIO_TRACE; does its program call aio_run?" >&2
    exit 1
  fi
done

awk -v dir="$dir" -v modes="$BENCH_MODES" -v source="$source" -v width=60 -f "$here/timeline.awk"
rc=$?
if [ $rc -eq 3 ]; then
  echo "[timeline-empty] no event was recorded in any mode (source: $source): the program made no request to the server and no task ran, so there is nothing to draw" >&2
  exit 1
elif [ $rc -ne 0 ]; then
  echo "[timeline-convert] the traces could not be converted (awk exit $rc); they are in $dir" >&2
  exit 1
fi
cp "$dir/trace.json" "$json"
q() { printf "'%s'" "${1//\'/\'\'}"; }   # a gnuplot string literal
title="Lesson $LESSON timeline: ${BENCH_MODES// / vs } (${args[*]})"
gnuplot -e "data=$(q "$dir/segments.dat"); panels=$(q "$dir/panels.gp"); out_png=$(q "$png"); out_svg=$(q "$svg"); title=$(q "$title")" "$here/timeline.gp" || {
  echo "[timeline-gnuplot] gnuplot could not draw the timeline (its message is above)" >&2; exit 1; }
echo "timeline: $png and $svg; Chrome trace (Perfetto, chrome://tracing): $json"
