#!/usr/bin/env bash
# `make lesson-NN bench`: run the lesson program over its parameter sweep, BENCH_REPEAT times
# a point, against one private server; write the medians to a CSV, print a table with the
# speedup of each mode over the first, and draw the chart. A failed run is reported and
# skipped; the sweep goes on. Besides wall time, the CSV keeps each point's spread (min, max) of
# CPU time, of CPU time as a share of wall time (cpu_pct), and of every row field the chart's
# panels draw (PLOT_PANELS).
set -uo pipefail
. harness/lib.sh

# BENCH_ONLY: some of the modes (make plots benches a known mistake in its last mode alone).
read -r -a modes <<<"${BENCH_ONLY:-$BENCH_MODES}"
read -r -a points <<<"$BENCH_POINTS"
read -r -a fixed <<<"$BENCH_ARGS"
repeat=${BENCH_REPEAT:-3}
csv=$BENCH_CSV
# The row fields drawn in panels of their own (cpu and cpu_s are always kept: see below).
fields=()
for f in ${PLOT_PANELS:-}; do
  case $f in cpu|cpu_s|wall_s) ;; *) [[ $f =~ ^[a-z0-9_]+$ ]] && fields+=("$f") ;; esac
done
mkdir -p "$(dirname "$csv")"
# The lesson's asyncio program (lessons/NN-topic/python/main.py), when it has one and Python can
# import aiohttp: measured in the same run, interleaved with the C program, as modes "py:MODE".
# BENCH_PYTHON: auto (every mode), 0 (none), or the modes to run in asyncio too. They run in the
# first BENCH_PYTHON_REPEAT rounds only (default 1): their slow modes wait as long as C's, so at
# BENCH_REPEAT runs each they would double the bench (and make plots) for a dotted line.
python=${PYTHON:-python3}
pyrepeat=${BENCH_PYTHON_REPEAT:-1}
[[ $pyrepeat =~ ^[0-9]+$ ]] || pyrepeat=1
pyprog=${LESSON_DIR:-/nonexistent}/python/main.py
pymodes=()
if [ "${BENCH_PYTHON:-auto}" != 0 ] && [ -f "$pyprog" ]; then
  if "$python" -c 'import aiohttp' 2>/dev/null; then
    want=${BENCH_PYTHON:-auto}; [ "$want" = auto ] && want=${BENCH_ONLY:-$BENCH_MODES}
    for mode in $want; do pymodes+=("py:$mode"); done
  else
    echo "(no asyncio beside C: $python cannot import aiohttp; sudo apt-get install python3-aiohttp, or PYTHON=/usr/bin/python3)" >&2
  fi
fi
# run_mode MODE X: one run of the program in MODE (C, or asyncio for py:MODE); its row on stdout.
run_mode() {
  if [[ $1 == py:* ]]; then
    "$python" "$pyprog" "${TARGET_ARGS[@]}" --mode "${1#py:}" "--$BENCH_X" "$2" "${fixed[@]}"
  else
    "$PROG" "${TARGET_ARGS[@]}" --mode "$1" "--$BENCH_X" "$2" "${fixed[@]}"
  fi
}

# median_min_max: read numbers, one a line; print "median min max".
median_min_max() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan nan nan"; exit }
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.4f %.4f %.4f\n", m, v[1], v[NR] }'
}

kit_target "$PROG" || exit 1
{
  echo "# kit bench: lesson $LESSON ($TITLE), $VARIANT, $repeat runs a point${pymodes[*]:+ (asyncio: $((pyrepeat < repeat ? pyrepeat : repeat)))}, median min max"
  echo "# machine: $(kit_machine)"
  echo "# compiler: $(${CC:-cc} --version | sed -n 1p)"
  [ ${#pymodes[@]} -eq 0 ] || echo "# python: $("$python" --version 2>&1), aiohttp $("$python" -c 'import aiohttp; print(aiohttp.__version__)'), $pyprog"
  echo "# commit: $(kit_commit)"
  echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "# fixed: ${BENCH_ARGS}"
  if [ -n "${URLS:-}" ]; then echo "# server: the URLs in $URLS"
  else echo "# server: ${URL:-delayd, private to this run}"; fi
  # The first nine columns never move (table.sh, gallery.sh and compare.sh read them by place);
  # the spreads and the panels' fields follow, read by name.
  cols="mode,$BENCH_X,runs,wall_median_s,wall_min_s,wall_max_s,cpu_median_s,peak_median,theory_s"
  cols+=",cpu_min_s,cpu_max_s,cpu_pct_median,cpu_pct_min,cpu_pct_max"
  for f in "${fields[@]}"; do
    [ "$f" = peak ] || cols+=",${f}_median"
    cols+=",${f}_min,${f}_max"
  done
  echo "$cols"
} >"$csv"

echo "lesson $LESSON bench: ${modes[*]}${pymodes[*]:+ and in asyncio ${pymodes[*]}} over $BENCH_X = ${points[*]}, $repeat run(s) each${pymodes[*]:+ (asyncio: $((pyrepeat < repeat ? pyrepeat : repeat)))}, ${BENCH_ARGS}"
modes+=("${pymodes[@]}")
failures=0
for x in "${points[@]}"; do
  declare -A walls=() cpus=() pcts=() peaks=() theory=() extra=()
  for ((r = 1; r <= repeat; r++)); do
    for mode in "${modes[@]}"; do   # modes interleaved, so a noisy moment hits them alike
      [[ $mode == py:* ]] && [ "$r" -gt "$pyrepeat" ] && continue
      row=$(run_mode "$mode" "$x" 2>"$KIT_TMP/err")
      if [ $? -ne 0 ] || ! kit_field wall_s "$row" >/dev/null; then
        echo "  $mode $BENCH_X=$x run $r failed: $(tail -n 2 "$KIT_TMP/err" | tr '\n' ' ')" >&2
        failures=$((failures + 1))
        continue
      fi
      walls[$mode]+="$(kit_field wall_s "$row")"$'\n'
      cpus[$mode]+="$(kit_field cpu_s "$row")"$'\n'
      pcts[$mode]+="$(awk -v c="$(kit_field cpu_s "$row")" -v w="$(kit_field wall_s "$row")" \
        'BEGIN { if (w > 0) printf "%.2f", 100 * c / w; else print "nan" }')"$'\n'
      for f in "${fields[@]}"; do extra[$mode.$f]+="$(kit_field "$f" "$row")"$'\n'; done
      peaks[$mode]+="$(kit_field peak "$row")"$'\n'
      theory[$mode]=$(kit_field theory_s "$row")
    done
  done
  for mode in "${modes[@]}"; do
    [ -n "${walls[$mode]:-}" ] || { echo "# $mode $BENCH_X=$x: no successful run" >>"$csv"; continue; }
    read -r wmed wmin wmax < <(printf '%s' "${walls[$mode]}" | median_min_max)
    read -r cmed cmin cmax < <(printf '%s' "${cpus[$mode]}" | median_min_max)
    read -r pctmed pctmin pctmax < <(printf '%s' "${pcts[$mode]}" | grep -E '^[0-9.]+$' | median_min_max)
    # A server other than delayd cannot say its peak: the rows say "unknown", and so does the CSV.
    read -r pmed _ _ < <(printf '%s' "${peaks[$mode]}" | grep -E '^[0-9.]+$' | median_min_max)
    [ "$pmed" = nan ] && pmed=unknown
    runs=$(printf '%s' "${walls[$mode]}" | grep -c .)
    line="$mode,$x,$runs,$wmed,$wmin,$wmax,$cmed,${pmed%.*},${theory[$mode]},$cmin,$cmax,$pctmed,$pctmin,$pctmax"
    for f in "${fields[@]}"; do
      # Numbers only: a field the row lacks, or "unknown", is nan (gnuplot leaves it out).
      read -r fmed fmin fmax < <(printf '%s' "${extra[$mode.$f]:-}" | grep -E '^-?[0-9.]+$' | median_min_max)
      [ "$f" = peak ] || line+=",$fmed"
      line+=",$fmin,$fmax"
    done
    echo "$line" >>"$csv"
  done
  unset walls cpus pcts peaks theory extra
  printf '  %s=%s done\n' "$BENCH_X" "$x"
done
kit_cleanup
trap - EXIT

harness/lesson/table.sh "$csv"
echo "data: $csv"
[ $failures -eq 0 ] || echo "$failures run(s) failed; their points are missing from the data." >&2
BENCH_CSV=$csv harness/lesson/plot.sh
