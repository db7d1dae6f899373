#!/usr/bin/env bash
# `make lesson-NN plot`: draw a lesson's bench CSV as PNG and SVG, and small in the terminal.
set -euo pipefail
csv=$BENCH_CSV
png=$BENCH_PNG
svg=${png%.png}.svg

if [ ! -s "$csv" ]; then
  echo "[no-bench-data] $csv is missing: there is nothing to chart yet. Run make lesson-$LESSON bench first (it draws the chart too)." >&2
  exit 1
fi
mkdir -p "$(dirname "$png")"
data=$(mktemp)
trap 'rm -f "$data"' EXIT
# One block per mode, two blank lines apart (gnuplot's `index`), so each line is unbroken.
modes=$(grep -v '^#' "$csv" | tail -n +2 | cut -d, -f1 | awk '!seen[$0]++' | tr '\n' ' ')
for mode in $modes; do
  grep -v '^#' "$csv" | tail -n +2 | awk -F, -v m="$mode" '$1 == m'
  printf '\n\n'
done >"$data"
note="$(sed -n 's/^# machine: //p' "$csv"); commit $(sed -n 's/^# commit: //p' "$csv"); $(sed -n 's/^# date: //p' "$csv")"
q() { printf "'%s'" "${1//\'/\'\'}"; }   # a gnuplot string literal

gnuplot -e "data=$(q "$data"); modes=$(q "$modes"); out_png=$(q "$png"); out_svg=$(q "$svg");
            title=$(q "${PLOT_TITLE:-lesson $LESSON}"); xlabel=$(q "${PLOT_XLABEL:-x}");
            ylabel=$(q "${PLOT_YLABEL:-seconds}"); logx=${PLOT_LOGX:-0}; logy=${PLOT_LOGY:-0};
            key=$(q "${PLOT_KEY:-top left}"); note=$(q "$note")" harness/lesson/chart.gp
# The same chart, small, in the terminal: measured medians only.
gnuplot -e "set datafile separator ','; set terminal dumb size 79,22; set key top left;
            $( [ "${PLOT_LOGX:-0}" = 1 ] && echo 'set logscale x 2;' ) $( [ "${PLOT_LOGY:-0}" = 1 ] && echo 'set logscale y 10;' )
            set title $(q "${PLOT_YLABEL:-seconds} against ${PLOT_XLABEL:-x}");
            modes=$(q "$modes");
            plot for [i=1:words(modes)] $(q "$data") index (i-1) using 2:4 with linespoints title word(modes,i)"
echo "chart: $png and $svg"
