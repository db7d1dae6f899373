#!/usr/bin/env bash
# `make plots`: every lesson's bench and chart (the reference solutions, or SOLUTION=0 for your
# own files), then, with the reference, the known mistakes a lesson draws beside its chart
# (PLOT_MISTAKES in its lesson.mk: the last mode only, the one such a mistake breaks), then the
# gallery page (gallery.sh).
set -uo pipefail
. harness/lib.sh
kit_vars || { echo "[no-metadata] make vars failed" >&2; exit 1; }
sol=${SOLUTION:-1}
m() { make -s --no-print-directory "$@"; }
for name in $LESSONS; do
  n=${name%%-*}
  m lesson-"$n" bench SOLUTION="$sol" || exit 1
  [ "$sol" = 1 ] || continue
  kit_vars "$n" SOLUTION=1 || exit 1
  for mistake in ${PLOT_MISTAKES:-}; do
    echo "lesson $n with the known mistake $mistake, in mode ${BENCH_MODES##* } only:"
    m lesson-"$n" bench MISTAKE="$mistake" BENCH_ONLY="${BENCH_MODES##* }" || exit 1
  done
done
harness/course/gallery.sh
