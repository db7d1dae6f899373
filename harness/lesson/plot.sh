#!/usr/bin/env bash
# `make lesson-NN plot`: draw a lesson's bench CSV as PNG and SVG, and small in the terminal.
# The chart (chart.gp) is the wall time against the swept parameter beside the theory, then one
# panel for each of PLOT_PANELS: `cpu` (CPU time as a share of wall time: 100% is a core busy
# the whole while), `cpu_s` (CPU time in seconds) or any numeric field of the program's row
# (bench.sh keeps its median, min and max). PLOT_LABEL_<field> names a panel's axis and
# PLOT_LIMIT_<field> ("VALUE words") draws a line across it.
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
header=$(grep -v -m 1 '^#' "$csv")
# One block per mode, two blank lines apart (gnuplot's `index`), so each line is unbroken.
modes=$(grep -v '^#' "$csv" | tail -n +2 | cut -d, -f1 | awk '!seen[$0]++' | tr '\n' ' ')
for mode in $modes; do
  grep -v '^#' "$csv" | tail -n +2 | awk -F, -v m="$mode" '$1 == m'
  printf '\n\n'
done >"$data"
# Colours: a mode keeps the colour of its place in the lesson's BENCH_MODES (so a chart of one
# mode, like a known mistake's, draws it as the lesson's chart does), and asyncio's "py:MODE"
# takes MODE's colour.
colours=$(awk -v all="${BENCH_MODES:-}" '{ n = split(all, a, " "); for (i = 1; i <= n; i++) c[a[i]] = i; k = n
                 for (i = 1; i <= NF; i++) if ($i !~ /^py:/ && !($i in c)) c[$i] = ++k
                 for (i = 1; i <= NF; i++) printf "%d ", ($i ~ /^py:/ && (substr($i, 4) in c)) ? c[substr($i, 4)] : (($i in c) ? c[$i] : ++k) }' <<<"$modes")
commit=$(sed -n 's/^# commit: //p' "$csv")
note="$(sed -n 's/^# machine: //p' "$csv"); commit ${commit/ (with uncommitted changes)/-dirty}; $(sed -n 's/^# date: //p' "$csv")"
q() { printf "'%s'" "${1//\'/\'\'}"; }   # a gnuplot string literal
col() { awk -F, -v h="$1" '{ for (i = 1; i <= NF; i++) if ($i == h) { print i; exit } }' <<<"$header"; }

# The panels: for each, its three columns (median, min, max), its label, a line and a floor.
panel_vars=
np=0
for f in ${PLOT_PANELS:-}; do
  label= limit= ceil=NaN plog=0
  case $f in
    # A log axis: a loop that sleeps uses well under 1% of a core, one that spins on a loaded
    # machine still 10% or more, and asyncio's share beside C's differs by as much.
    cpu) med=cpu_pct_median lo=cpu_pct_min hi=cpu_pct_max ceil=100 plog=1
         label="CPU time, % of wall time"; limit="100 one core busy the whole time" ;;
    cpu_s) med=cpu_median_s lo=cpu_min_s hi=cpu_max_s label="CPU time (s)" ;;
    peak) med=peak_median lo=peak_min hi=peak_max label="server's peak in flight" ;;
    *) med=${f}_median lo=${f}_min hi=${f}_max label=$f ;;
  esac
  lv=PLOT_LABEL_$f; [ -n "${!lv:-}" ] && label=${!lv}
  mv=PLOT_LIMIT_$f; [ -n "${!mv:-}" ] && limit=${!mv}
  cm=$(col "$med") cn=$(col "$lo") cx=$(col "$hi")
  if [ -z "$cm" ] || [ -z "$cn" ] || [ -z "$cx" ]; then
    echo "[no-panel-data] $csv has no $med, $lo and $hi columns, so its chart has no $f panel; run make lesson-$LESSON bench again to record them." >&2
    continue
  fi
  if ! awk -F, -v c="$cm" 'NR > 1 && $c ~ /^-?[0-9.]+$/ { found = 1; exit } END { exit !found }' <(grep -v '^#' "$csv"); then
    echo "(no $f panel: no row of $csv has a number for it)" >&2
    continue
  fi
  np=$((np + 1))
  lval=NaN ltext=
  if [ -n "$limit" ]; then lval=${limit%% *}; ltext=${limit#"$lval"}; ltext=${ltext# }; fi
  [[ $lval =~ ^-?[0-9.]+$ ]] || { [ "$lval" = NaN ] || echo "[plot-limit] PLOT_LIMIT_$f=$limit should start with a number; no line drawn." >&2; lval=NaN; }
  panel_vars+="pmed_$np=$cm; pmin_$np=$cn; pmax_$np=$cx; plabel_$np=$(q "$label"); plimit_$np=$lval;
               plimitlabel_$np=$(q "${ltext:-$limit}"); pceil_$np=$ceil; plog_$np=$plog; "
done

gnuplot -e "data=$(q "$data"); modes=$(q "$modes"); colours=$(q "$colours"); out_png=$(q "$png"); out_svg=$(q "$svg");
            title=$(q "${PLOT_TITLE:-lesson $LESSON}"); xlabel=$(q "${PLOT_XLABEL:-x}");
            ylabel=$(q "${PLOT_YLABEL:-seconds}"); logx=${PLOT_LOGX:-0}; logy=${PLOT_LOGY:-0};
            key=$(q "${PLOT_KEY:-top left}"); note=$(q "$note"); npanels=$np; $panel_vars" harness/lesson/chart.gp
# The same chart, small, in the terminal: measured medians only (PLOT_TERMINAL=0: not drawn).
[ "${PLOT_TERMINAL:-1}" = 0 ] || gnuplot -e "set datafile separator ','; set terminal dumb size 79,22; set key top left;
            $( [ "${PLOT_LOGX:-0}" = 1 ] && echo 'set logscale x 2;' ) $( [ "${PLOT_LOGY:-0}" = 1 ] && echo 'set logscale y 10;' )
            set title $(q "${PLOT_YLABEL:-seconds} against ${PLOT_XLABEL:-x}");
            modes=$(q "$modes");
            plot for [i=1:words(modes)] $(q "$data") index (i-1) using 2:4 with linespoints title word(modes,i)"
echo "chart: $png and $svg"
