#!/usr/bin/env bash
# `make check-compare`: make compare (compare.sh) on made-up CSVs: two lesson benches where B
# takes twice A's wall time, two runtime benchmarks, and each kind of bad input with its id.
set -uo pipefail
. harness/lib.sh
dir=$KIT_TMP/compare
mkdir -p "$dir"
fail() { echo "[compare-selftest] $*" >&2; exit 1; }

# lesson_csv FILE LESSON X FACTOR: a bench CSV of two modes over 1 2 4, wall times scaled by FACTOR.
lesson_csv() {
  {
    echo "# kit bench: lesson $2 (made up), solution, 3 runs a point, median min max"
    echo "# machine: a test machine"
    echo "# commit: abc1234"
    echo "# date: 2026-01-01 00:00 UTC"
    echo "mode,$3,runs,wall_median_s,wall_min_s,wall_max_s,cpu_median_s,peak_median,theory_s,cpu_min_s,cpu_max_s,cpu_pct_median,cpu_pct_min,cpu_pct_max"
    for x in 1 2 4; do
      awk -v x="$x" -v f="$4" 'BEGIN { OFS = ","
        w = 0.1 * x * f; print "seq", x, 3, w, w * 0.9, w * 1.1, 0.001, 1, 0.1 * x, 0.001, 0.001, 100 * 0.001 / w, 0, 2
        w = 0.1 * f; print "conc", x, 3, w, w * 0.9, w * 1.1, w * 0.95, x, 0.1, w * 0.9, w, 95 * (f > 1), 90 * (f > 1), 99 * (f > 1) }'
    done
  } >"$1"
}
lesson_csv "$dir/a.csv" 01 n 1
lesson_csv "$dir/b.csv" 01 n 2
COMPARE_PNG=$dir/cmp.png A=$dir/a.csv B=$dir/b.csv harness/course/compare.sh >"$dir/out" 2>&1 ||
  { cat "$dir/out"; fail "compare.sh failed on two benches of one lesson"; }
[ "$(grep -cE '^(seq|conc) +[124] .* 2\.00x' "$dir/out")" -eq 6 ] ||
  { cat "$dir/out"; fail "expected a ratio of 2.00x at each of the 6 points (B takes twice A's time)"; }
grep -qE '^conc +4 .* 95\.0$' "$dir/out" || { cat "$dir/out"; fail "the table should show B's CPU share (95.0%) beside A's"; }
[ "$(head -c 8 "$dir/cmp.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "the comparison chart is not a PNG"
grep -q '<svg' "$dir/cmp.svg" || fail "the comparison's SVG is missing"

# expect_error ID A B: compare.sh must fail and say [ID].
expect_error() {
  local id=$1
  A=$2 B=$3 COMPARE_PNG=$dir/x.png harness/course/compare.sh >"$dir/err" 2>&1 && fail "A=$2 B=$3 should fail with [$id]"
  grep -q "^\[$id\]" "$dir/err" || { cat "$dir/err"; fail "A=$2 B=$3 should say [$id]"; }
}
lesson_csv "$dir/other-lesson.csv" 02 n 1
lesson_csv "$dir/other-axis.csv" 01 k 1
printf 'benchmark,implementation,value,unit\nyield_roundtrip,aio,40,ns\nyield_roundtrip,asyncio,900,ns\nhttp_batch,aio,0.20,s\n' >"$dir/bench-a.csv"
printf '# a second machine\nbenchmark,implementation,value,unit\nyield_roundtrip,aio,80,ns\nyield_roundtrip,asyncio,900,ns\nhttp_batch,aio,0.10,s\n' >"$dir/bench-b.csv"
printf 'benchmark,implementation,value,unit\nyield_roundtrip,aio,0.1,us\n' >"$dir/bench-us.csv"
echo 'just,some,numbers' >"$dir/not-bench.csv"
expect_error compare-usage "$dir/a.csv" ""
expect_error compare-missing "$dir/a.csv" "$dir/none.csv"
expect_error compare-lessons "$dir/a.csv" "$dir/other-lesson.csv"
expect_error compare-axes "$dir/a.csv" "$dir/other-axis.csv"
expect_error compare-not-bench "$dir/a.csv" "$dir/not-bench.csv"
expect_error compare-kinds "$dir/a.csv" "$dir/bench-a.csv"
expect_error compare-units "$dir/bench-a.csv" "$dir/bench-us.csv"

COMPARE_PNG=$dir/bench.png A=$dir/bench-a.csv B=$dir/bench-b.csv harness/course/compare.sh >"$dir/out" 2>&1 ||
  { cat "$dir/out"; fail "compare.sh failed on two runtime benchmarks"; }
grep -qE '^yield_roundtrip +aio .* 2\.00x +ns$' "$dir/out" && grep -qE '^http_batch +aio .* 0\.50x +s$' "$dir/out" ||
  { cat "$dir/out"; fail "expected yield_roundtrip aio 2.00x and http_batch aio 0.50x"; }
[ -s "$dir/bench.png" ] && [ -s "$dir/bench.svg" ] || fail "the benchmarks' comparison chart was not drawn"
echo "compare: lesson benches (ratios, CPU share, chart), runtime benchmarks and 7 kinds of bad input as expected"
