#!/usr/bin/env bash
# `make check-gallery`: the gallery (gallery.sh) from every lesson's metadata and made-up bench
# data, in a scratch folder: a section, a chart (with the lesson's panels) and a table a lesson,
# a known mistake's chart where the lesson names one (PLOT_MISTAKES), the summary chart and its
# ratios. The CSVs are written here, in bench.sh's columns, not measured (check-lesson-bench
# tests bench.sh itself), so the test takes seconds. With Chromium present (or CHECK_BROWSER=1,
# which installs it), the page is also opened in it and every image must load (gallery-check.sh).
set -uo pipefail
. harness/lib.sh
kit_vars || { echo "[no-metadata] make vars failed" >&2; exit 1; }
export GALLERY_DIR=$KIT_TMP/gallery
mkdir -p "$GALLERY_DIR/data"
fail() { echo "[gallery-selftest] $*" >&2; exit 1; }

# made_up CSV MODES: a bench CSV over x = 1 2 4, 3 runs a point: the first mode takes x times
# 0.1 s, the others 0.1 s; CPU 1 ms; every panel field 1 (its min 0, its max 2).
made_up() {
  local f cols="mode,$BENCH_X,runs,wall_median_s,wall_min_s,wall_max_s,cpu_median_s,peak_median,theory_s"
  cols+=",cpu_min_s,cpu_max_s,cpu_pct_median,cpu_pct_min,cpu_pct_max"
  local extra=0
  for f in $PLOT_PANELS; do
    case $f in cpu|cpu_s) ;; peak) cols+=",peak_min,peak_max"; extra=$((extra + 2)) ;;
      *) cols+=",${f}_median,${f}_min,${f}_max"; extra=$((extra + 3)) ;; esac
  done
  {
    echo "# kit bench: lesson $LESSON ($TITLE), solution, 3 runs a point, median min max"
    echo "# machine: made up"
    echo "# commit: $(kit_commit)"
    echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "$cols"
    awk -v modes="$2" -v extra="$extra" 'BEGIN { OFS = ","; n = split(modes, m, " ")
      for (x = 1; x <= 4; x *= 2) for (i = 1; i <= n; i++) {
        t = (i == 1 ? x : 1) * 0.1; line = m[i] OFS x OFS 3 OFS t OFS t * 0.9 OFS t * 1.1 OFS 0.001 OFS x OFS t
        line = line OFS 0.001 OFS 0.001 OFS 100 * 0.001 / t OFS 0 OFS 2
        for (k = 0; k < extra; k++) line = line OFS (k % 3 == 1 ? 0 : (k % 3 == 2 ? 2 : 1))
        print line } }'
  } >"$1"
}

count=0
mistakes=()
for name in $LESSONS; do
  n=${name%%-*}
  ( set -a; kit_vars "$n" SOLUTION=1 || exit 1; set +a
    made_up "$GALLERY_DIR/data/lesson-$n.csv" "$BENCH_MODES"
    PLOT_TERMINAL=0 BENCH_CSV=$GALLERY_DIR/data/lesson-$n.csv BENCH_PNG=$GALLERY_DIR/lesson-$n.png harness/lesson/plot.sh
    for m in $PLOT_MISTAKES; do
      made_up "$GALLERY_DIR/data/lesson-$n-$m.csv" "${BENCH_MODES##* }"
      PLOT_TERMINAL=0 BENCH_CSV=$GALLERY_DIR/data/lesson-$n-$m.csv BENCH_PNG=$GALLERY_DIR/lesson-$n-$m.png harness/lesson/plot.sh
      echo "mistake lesson-$n-$m" >&3
    done ) >"$KIT_TMP/plot-$n.log" 2>&1 3>>"$KIT_TMP/mistakes" ||
    { cat "$KIT_TMP/plot-$n.log"; fail "lesson $n: plot.sh failed on made-up data"; }
  grep -q 'no .* panel' "$KIT_TMP/plot-$n.log" && { cat "$KIT_TMP/plot-$n.log"; fail "lesson $n: a panel was left out of the chart"; }
  count=$((count + 1))
done
[ -f "$KIT_TMP/mistakes" ] && mapfile -t mistakes < <(sed -n 's/^mistake //p' "$KIT_TMP/mistakes")

harness/course/gallery.sh >"$KIT_TMP/gallery.log" 2>&1 || { cat "$KIT_TMP/gallery.log"; fail "gallery.sh failed"; }
page=$GALLERY_DIR/index.html
for name in $LESSONS; do
  n=${name%%-*}
  grep -q "<section id=\"lesson-$n\">" "$page" || fail "lesson $n has no section on the page"
  grep -q "src=\"lesson-$n.svg\"" "$page" || fail "lesson $n's chart is not on the page (as a relative path)"
done
for m in "${mistakes[@]}"; do
  grep -q "src=\"$m.svg\"" "$page" || fail "the known mistake's chart $m.svg is not on the page"
done
# A chart with panels is taller than 600 pixels, and the page says so (no squashed image).
grep -qE '<img src="lesson-[0-9]+.svg"[^>]* height="(8[0-9]{2}|[1-9][0-9]{3})"' "$page" || fail "no chart with panels has its real height on the page"
[ "$(grep -c '<table>' "$page")" -eq $((count + 1)) ] || fail "expected a table a lesson and the summary's"
[ -s "$GALLERY_DIR/summary.svg" ] && [ -s "$GALLERY_DIR/summary.png" ] || fail "the summary chart was not drawn"
# Made-up data: the first mode at x=4 takes 0.4 s, the last 0.1 s, so every ratio is 4.000.
bad=$(awk -F, 'NR > 1 && ($8 != "4.000" || $9 != "4.000")' "$GALLERY_DIR/data/summary.csv")
[ -z "$bad" ] || fail "summary ratios should be 4.000 (0.4 s against 0.1 s): $bad"
[ "$(tail -n +2 "$GALLERY_DIR/data/summary.csv" | wc -l)" -eq "$count" ] || fail "the summary should have a row a lesson"
grep -qE '(src|href)="(/|file:|https?:)' "$page" && fail "the page refers to a file or server by absolute address; it must work opened from disk"

if [ "${CHECK_BROWSER:-0}" = 1 ] || command -v chromium >/dev/null 2>&1; then
  GALLERY_SCREENSHOT=0 harness/course/gallery-check.sh || fail "the page does not load whole in Chromium"
else
  echo "gallery: $count lessons, the page's structure checked; Chromium is not here (CHECK_BROWSER=1 installs it and opens the page)"
fi
