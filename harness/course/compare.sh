#!/usr/bin/env bash
# `make compare A=run1.csv B=run2.csv`: two runs side by side (a student's bench against the
# reference, two machines, before and after a change). Either two lesson bench CSVs of the same
# lesson and axis (plots/data/lesson-NN*.csv): each point's median wall time in A and B, the
# ratio B/A, and the CPU share of each; or two runtime benchmarks (plots/data/benchmark.csv):
# each benchmark's value in A and B and the ratio. A table on the terminal, and a chart,
# COMPARE_PNG (default plots/compare.png) and the SVG beside it.
set -uo pipefail
. harness/lib.sh
a=${A:-} b=${B:-}
png=${COMPARE_PNG:-plots/compare.png}
svg=${png%.png}.svg

if [ -z "$a" ] || [ -z "$b" ]; then
  echo "[compare-usage] make compare needs two CSV files: make compare A=plots/data/lesson-02.csv B=plots/data/lesson-02-busy-loop.csv (or two benchmark.csv)." >&2
  exit 2
fi
for f in "$a" "$b"; do
  [ -s "$f" ] || { echo "[compare-missing] $f does not exist or is empty; give a CSV that make lesson-NN bench (plots/data/lesson-NN.csv) or make benchmark (plots/data/benchmark.csv) wrote." >&2; exit 1; }
done

# kind FILE: "lesson NN X" for a lesson bench, "benchmark" for the runtime's, else nothing.
kind() {
  local cols lesson
  cols=$(grep -v '^#' "$1" | head -n 1)
  if [ "$cols" = "benchmark,implementation,value,unit" ]; then echo benchmark; return; fi
  lesson=$(sed -n '1s/^# kit bench: lesson \([0-9]*\) .*/\1/p' "$1")
  case $cols in
    mode,*,runs,wall_median_s,wall_min_s,wall_max_s,cpu_median_s,peak_median,theory_s*)
      [ -n "$lesson" ] && echo "lesson $lesson $(cut -d, -f2 <<<"$cols")" ;;
  esac
}
ka=$(kind "$a") kb=$(kind "$b")
for f in a b; do
  k=k$f
  [ -n "${!k}" ] || { echo "[compare-not-bench] ${!f} is not a bench CSV: its header should start '# kit bench: lesson NN' with the columns mode,X,runs,wall_median_s,... (make lesson-NN bench), or be benchmark,implementation,value,unit (make benchmark)." >&2; exit 1; }
done
if [ "${ka%% *}" != "${kb%% *}" ]; then
  echo "[compare-kinds] $a is a ${ka%% *} CSV and $b a ${kb%% *} one; compare two lesson benches or two runtime benchmarks." >&2
  exit 1
fi
if [ "$ka" != benchmark ]; then
  read -r _ la xa <<<"$ka"; read -r _ lb xb <<<"$kb"
  [ "$la" = "$lb" ] || { echo "[compare-lessons] $a is lesson $la's bench and $b lesson $lb's; only runs of the same lesson compare." >&2; exit 1; }
  [ "$xa" = "$xb" ] || { echo "[compare-axes] $a sweeps $xa and $b sweeps $xb; the points do not match. Bench both with the same lesson.mk (BENCH_X)." >&2; exit 1; }
fi

# describe FILE: where and when a run was taken, from its header.
describe() {
  local variant commit date machine
  variant=$(sed -n '1s/^# kit bench: lesson [0-9]* ([^)]*), \([^,]*\),.*/\1/p' "$1")
  commit=$(sed -n 's/^# commit: //p' "$1" | head -n 1); commit=${commit/ (with uncommitted changes*)/-dirty}
  date=$(sed -n 's/^# date: //p' "$1" | head -n 1)
  machine=$(sed -n 's/^# machine: //p; s/^# cpu: //p' "$1" | paste -sd ' ')
  variant=${variant/#*from_*mistake-src_/known mistake }
  echo "${variant:+$variant, }commit ${commit:-?}, ${date:-?}; ${machine:-unknown machine}"
}
mkdir -p "$(dirname "$png")"
q() { printf "'%s'" "${1//\'/\'\'}"; }
echo "A = $a ($(describe "$a"))"
echo "B = $b ($(describe "$b"))"
[ "$(sed -n 's/^# machine: //p' "$a")" = "$(sed -n 's/^# machine: //p' "$b")" ] ||
  echo "(two machines: the ratio compares them as much as the code)"
la_=$(basename "$a") lb_=$(basename "$b")
[ "$la_" = "$lb_" ] && { la_="A: $a"; lb_="B: $b"; } || { la_="A: $la_"; lb_="B: $lb_"; }

if [ "$ka" = benchmark ]; then
  # Each benchmark and implementation in either file; the ratio where both have it, same unit.
  joined=$KIT_TMP/joined.csv
  awk -F, 'FNR == 1 { f++ } /^#/ || $1 == "benchmark" { next }
    { k = $1 "," $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
      v[f, k] = $3; u[f, k] = $4 }
    END { for (i = 1; i <= n; i++) { k = order[i]
      if ((1, k) in u && (2, k) in u && u[1, k] != u[2, k]) { printf "unit %s %s %s\n", k, u[1, k], u[2, k] > "/dev/stderr"; bad = 1 }
      r = ((1, k) in v && (2, k) in v && v[1, k] > 0) ? sprintf("%.3f", v[2, k] / v[1, k]) : "nan"
      printf "%s,%s,%s,%s,%s\n", k, ((1, k) in v) ? v[1, k] : "nan", ((2, k) in v) ? v[2, k] : "nan", r, (1, k) in u ? u[1, k] : u[2, k] }
      exit bad }' "$a" "$b" >"$joined" 2>"$KIT_TMP/units" ||
    { echo "[compare-units] the two benchmarks measure a point in different units ($(head -n 1 "$KIT_TMP/units" | cut -d' ' -f2-)); they were not taken by the same benchmark." >&2; exit 1; }
  printf '%-22s %-12s %14s %14s %9s  %s\n' benchmark implementation A B B/A unit
  awk -F, '{ printf "%-22s %-12s %14s %14s %9s  %s\n", $1, $2, $3, $4, ($5 == "nan" ? "-" : sprintf("%.2fx", $5)), $6 }' "$joined"
  gnuplot -e "in=$(q "$joined"); out_png=$(q "$png"); out_svg=$(q "$svg"); la=$(q "$la_"); lb=$(q "$lb_")" \
    -e "set datafile separator ','; set datafile missing 'nan'; set title 'B against A, benchmark by benchmark (below 1: B needs less)';
        set ylabel 'B / A (log scale)'; set logscale y 10; set style fill solid 0.8 border -1; set grid ytics lc rgb '#dddddd';
        set xtics rotate by -30 noenhanced; set key top right box opaque noenhanced; set bmargin 9; set xrange [-0.6:*]; set offsets 0, 0.6, graph 0.1, graph 0.1;
        set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lc rgb '#444444';
        set label 1 sprintf('%s;  %s', la, lb) at screen 0.99, screen 0.02 right font ',8' tc rgb '#777777' noenhanced;
        chart = \"plot in using 0:5:(0.7):xtic(sprintf('%s %s', stringcolumn(1), stringcolumn(2))) with boxes lc rgb '#3366cc' title 'B / A'\";
        set terminal pngcairo size 960,540 font ',10' noenhanced; set output out_png; eval chart;
        set terminal svg size 960,540 dynamic font ',10' noenhanced; set output out_svg; eval chart; set output" ||
    { echo "[compare-chart] gnuplot could not draw the comparison" >&2; exit 1; }
  echo "chart: $png and $svg"
  exit 0
fi

# Two lesson benches: one block a mode and run (A's modes, then B's), every column kept, and a
# table of the points joined on (mode, x).
lesson=$la x=$xa
kit_vars "$lesson" >/dev/null 2>&1 || { PLOT_TITLE="Lesson $lesson"; PLOT_XLABEL=$x; PLOT_LOGX=0; PLOT_LOGY=0; }
body() { grep -v '^#' "$1" | tail -n +2; }
header() { grep -v '^#' "$1" | head -n 1; }
colof() { awk -F, -v h="$2" '{ for (i = 1; i <= NF; i++) if ($i == h) { print i; exit } }' <<<"$(header "$1")"; }
pa=$(colof "$a" cpu_pct_median) pb=$(colof "$b" cpu_pct_median)
modes=$( { body "$a"; body "$b"; } | cut -d, -f1 | awk '!seen[$0]++' | tr '\n' ' ')
data=$KIT_TMP/data.csv
ratios=$KIT_TMP/ratios.csv
: >"$data"
for m in $modes; do
  for f in "$a" "$b"; do
    p=$pa; [ "$f" = "$b" ] && p=$pb
    # (A mode one run lacks still gets its block, of one empty point: gnuplot counts blocks.)
    body "$f" | awk -F, -v OFS=, -v m="$m" -v p="${p:-0}" '$1 == m { print $1, $2, $4, $5, $6, (p ? $p : "nan"); k++ }
      END { if (!k) print m, "nan", "nan", "nan", "nan", "nan" }'
    printf '\n\n'
  done
done >"$data"
awk -F, -v OFS=, -v pa="${pa:-0}" -v pb="${pb:-0}" 'FNR == 1 { f++ } /^#/ { next } !h[f]++ { next }
  { k = $1 SUBSEP $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k }
    if (!($1 in mseen)) { mseen[$1] = ++nm; mode[nm] = $1 }
    w[f, k] = $4; c[f, k] = (f == 1 ? (pa ? $pa : "nan") : (pb ? $pb : "nan")) }
  END { for (j = 1; j <= nm; j++) for (i = 1; i <= n; i++) { k = order[i]; split(k, mx, SUBSEP); if (mx[1] != mode[j]) continue
    wa = ((1, k) in w) ? w[1, k] : "nan"; wb = ((2, k) in w) ? w[2, k] : "nan"
    r = (wa != "nan" && wb != "nan" && wa > 0) ? sprintf("%.3f", wb / wa) : "nan"
    print mx[1], mx[2], wa, wb, r, ((1, k) in c) ? c[1, k] : "nan", ((2, k) in c) ? c[2, k] : "nan" } }' "$a" "$b" >"$ratios"
printf '%-10s %6s %11s %11s %8s %9s %9s\n' mode "$x" "A wall (s)" "B wall (s)" B/A "A CPU %" "B CPU %"
awk -F, '{ printf "%-10s %6s %11s %11s %8s %9s %9s\n", $1, $2, ($3 == "nan" ? "-" : $3), ($4 == "nan" ? "-" : $4),
           ($5 == "nan" ? "-" : sprintf("%.2fx", $5)), ($6 == "nan" || $6 == "" ? "-" : sprintf("%.1f", $6)), ($7 == "nan" || $7 == "" ? "-" : sprintf("%.1f", $7)) }' "$ratios"
# The ratios a mode, as blocks for the chart's middle panel.
for m in $modes; do awk -F, -v m="$m" '$1 == m' "$ratios"; printf '\n\n'; done >"$KIT_TMP/ratio-blocks.csv"
cpu=0; [ -n "$pa" ] && [ -n "$pb" ] && cpu=1
short() { describe "$1" | cut -d';' -f1 | sed 's/, [0-9-]* [0-9:]* UTC$//; s/commit //'; }
note="$la_ ($(short "$a"));  $lb_ ($(short "$b"))"
gnuplot -e "data=$(q "$data"); ratios=$(q "$KIT_TMP/ratio-blocks.csv"); modes=$(q "$modes"); out_png=$(q "$png"); out_svg=$(q "$svg");
            title=$(q "$PLOT_TITLE: A against B"); xlabel=$(q "${PLOT_XLABEL:-$x}"); la=$(q "$la_"); lb=$(q "$lb_");
            logx=${PLOT_LOGX:-0}; logy=${PLOT_LOGY:-0}; cpu=$cpu; note=$(q "$note")" harness/course/compare.gp \
            2>"$KIT_TMP/gnuplot.err" ||   # (a mode only one run has leaves the other's block empty: a warning)
  { cat "$KIT_TMP/gnuplot.err" >&2; echo "[compare-chart] gnuplot could not draw the comparison" >&2; exit 1; }
echo "chart: $png and $svg"
