#!/usr/bin/env bash
# Self-test of the lesson pipeline's timing half (bench.sh, table.sh, plot.sh), run by `make check`.
# A stand-in lesson program answers instantly with made-up timings, and fails on purpose at one
# point, so the test is quick and proves that a failed run is reported and the rest is kept.
set -uo pipefail
out=$(mktemp -d "${TMPDIR:-/tmp}/kit-bench-selftest.XXXXXX")
trap 'rm -rf "$out"' EXIT

cat >"$out/prog" <<'PROG'
#!/usr/bin/env bash
# --url U --mode M --n N --delay D: a row like a lesson program's; n=3 in mode "b" fails.
while [ $# -gt 0 ]; do case $1 in --mode) m=$2; shift ;; --n) n=$2; shift ;; esac; shift; done
[ "$m" = b ] && [ "$n" = 3 ] && { echo "made-up failure" >&2; exit 1; }
w=$(awk -v n="$n" -v m="$m" -v r=$RANDOM 'BEGIN { printf "%.4f", (m == "a" ? n : 1) * 0.1 + r / 1e7 }')
t=$(awk -v n="$n" -v m="$m" 'BEGIN { printf "%.4f", (m == "a" ? n : 1) * 0.1 }')
echo "mode=$m n=$n wall_s=$w cpu_s=0.0010 peak=$n s429=$((n - 1)) theory_s=$t"
PROG
chmod +x "$out/prog"

fail() { echo "[bench-selftest] $*" >&2; exit 1; }

LESSON=00 TITLE="self-test" VARIANT=solution PROG="$out/prog" BENCH_MODES="a b" BENCH_X=n \
  BENCH_POINTS="1 2 3 4" BENCH_ARGS="--delay 100" BENCH_REPEAT=3 BENCH_CSV="$out/data.csv" \
  BENCH_PNG="$out/chart.png" PLOT_LOGX=1 PLOT_LOGY=1 PLOT_PANELS="cpu peak s429" PLOT_LIMIT_peak="3 a limit" \
  harness/lesson/bench.sh >"$out/log" 2>&1 \
  || { cat "$out/log"; fail "bench.sh failed"; }

csv=$out/data.csv
for key in machine compiler commit date; do
  grep -q "^# $key: ." "$csv" || fail "the CSV header does not name the $key"
done
grep -qx 'mode,n,runs,wall_median_s,wall_min_s,wall_max_s,cpu_median_s,peak_median,theory_s,cpu_min_s,cpu_max_s,cpu_pct_median,cpu_pct_min,cpu_pct_max,peak_min,peak_max,s429_median,s429_min,s429_max' "$csv" \
  || fail "the CSV's column line is missing or changed"
# The panels' fields: the row's s429 is n - 1 (min = median = max), and a 1 ms CPU time of a
# 0.1 s run is 1% of it.
awk -F, '!/^#/ && $1 == "a" && $2 == 4 { exit !($17 == 3 && $18 == 3 && $19 == 3 && $12 > 0.1 && $12 < 10) }' "$csv" \
  || fail "the s429 panel's field or the CPU share is wrong in the CSV (a, n=4: s429 should be 3, CPU about 0.25%)"
grep -q '<svg' "$out/chart.svg" && grep -q '<g id="gnuplot_plot_1d"' "$out/chart.svg" \
  || fail "the SVG should hold the wall-time chart and the cpu, peak and s429 panels"
rows=$(grep -vc '^#' "$csv")
[ "$rows" -eq 8 ] || fail "expected 7 data rows and the column line (4 points x 2 modes, one failed), found $((rows - 1)) rows"
grep -q '^# b n=3: no successful run' "$csv" || fail "the failed point is not recorded in the CSV"
grep -q 'b n=3 run 1 failed: made-up failure' "$out/log" || fail "the failed run was not reported with its error"
awk -F, '!/^#/ && NR > 1 && $1 != "mode" {
  if ($3 != 3) { print "runs is " $3 " for " $1 "," $2; bad = 1 }
  if (!($5 <= $4 && $4 <= $6)) { print "min <= median <= max fails for " $1 "," $2; bad = 1 }
} END { exit bad }' "$csv" || fail "the CSV's statistics are inconsistent"
grep -q '4 *0\.[0-9]* *0\.[0-9]* *[0-9.]*x *4\.0x' "$out/log" || fail "the table has no speedup line for n=4 with ideal 4.0x"
[ "$(head -c 8 "$out/chart.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] \
  || fail "the chart is not a PNG"
grep -q '<svg' "$out/chart.svg" || fail "the SVG chart is missing"

# The asyncio rows: a stand-in python/main.py beside the stand-in program, run as modes "py:a"
# and "py:b", in the first BENCH_PYTHON_REPEAT rounds only (default 1), their speedup a column.
python=${PYTHON:-python3}
pynote="; no asyncio rows: $python cannot import aiohttp"
if "$python" -c 'import aiohttp' 2>/dev/null; then
  pynote="; asyncio rows once a point"
  mkdir -p "$out/lesson/python"
  cat >"$out/lesson/python/main.py" <<'PY'
import sys
a = dict(zip(sys.argv[1::2], sys.argv[2::2]))
n, m = int(a["--n"]), a["--mode"]
w = (n if m == "a" else 1) * 0.1
print(f"mode={m} n={n} wall_s={w + 0.001:.4f} cpu_s=0.0020 peak=unknown s429={n - 1} theory_s={w:.4f}")
PY
  LESSON=00 TITLE="self-test" VARIANT=solution PROG="$out/prog" LESSON_DIR="$out/lesson" PYTHON="$python" \
    BENCH_MODES="a b" BENCH_X=n BENCH_POINTS="4" BENCH_ARGS="--delay 100" BENCH_REPEAT=3 \
    BENCH_CSV="$out/py.csv" BENCH_PNG="$out/py.png" PLOT_TERMINAL=0 PLOT_PANELS="cpu s429" \
    harness/lesson/bench.sh >"$out/pylog" 2>&1 || { cat "$out/pylog"; fail "bench.sh with an asyncio program failed"; }
  awk -F, '!/^#/ && $1 ~ /^py:/ { rows++; if ($3 != 1) bad = 1 } !/^#/ && $1 == "a" && $3 != 3 { bad = 1 }
           END { exit !(rows == 2 && !bad) }' "$out/py.csv" ||
    fail "the asyncio rows should be py:a and py:b, 1 run each (C's 3): $(grep -v '^#' "$out/py.csv" | cut -d, -f1-3 | tr '\n' ' ')"
  grep -q 'asyncio' "$out/pylog" || fail "the table has no asyncio speedup column"
  [ -s "$out/py.png" ] || fail "the chart with asyncio rows was not drawn"
fi
echo "bench selftest: CSV, table, PNG and SVG as expected; the failed run was reported and skipped$pynote"
