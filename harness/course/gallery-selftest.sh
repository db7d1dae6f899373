#!/usr/bin/env bash
# `make check-gallery`: the gallery (gallery.sh) from every lesson's metadata and made-up bench
# data, in a scratch folder: a section, a chart and a table a lesson, the summary chart and its
# ratios. With Chromium present (or CHECK_BROWSER=1, which installs it), the page is also opened
# in it and every image must load (gallery-check.sh).
set -uo pipefail
. harness/lib.sh
kit_vars || { echo "[no-metadata] make vars failed" >&2; exit 1; }
export GALLERY_DIR=$KIT_TMP/gallery
mkdir -p "$GALLERY_DIR/data"
fail() { echo "[gallery-selftest] $*" >&2; exit 1; }

# A stand-in program: the first mode takes x times 0.1 s, the others 0.1 s (made up, instantly).
cat >"$KIT_TMP/prog" <<'PROG'
#!/usr/bin/env bash
first=$1 swept=--$2; shift 2
while [ $# -gt 0 ]; do case $1 in --mode) m=$2; shift ;; "$swept") x=$2; shift ;; esac; shift; done
t=$(awk -v x="$x" -v a="$m" -v f="$first" 'BEGIN { printf "%.4f", (a == f ? x : 1) * 0.1 }')
echo "mode=$m wall_s=$t cpu_s=0.0010 peak=$x theory_s=$t"
PROG
chmod +x "$KIT_TMP/prog"

count=0
for name in $LESSONS; do
  n=${name%%-*}
  kit_vars "$n" SOLUTION=1 || fail "make lesson-$n vars failed"
  first=${BENCH_MODES%% *}
  printf '#!/bin/sh\nexec %s %s %s "$@"\n' "$KIT_TMP/prog" "$first" "$BENCH_X" >"$KIT_TMP/prog-$n" && chmod +x "$KIT_TMP/prog-$n"
  ( set -a; kit_vars "$n" SOLUTION=1; set +a
    PROG=$KIT_TMP/prog-$n BENCH_POINTS="1 2 4" BENCH_REPEAT=3 BENCH_CSV=$GALLERY_DIR/data/lesson-$n.csv \
      BENCH_PNG=$GALLERY_DIR/lesson-$n.png URL=http://127.0.0.1:9 harness/lesson/bench.sh ) >"$KIT_TMP/bench-$n.log" 2>&1 ||
    { cat "$KIT_TMP/bench-$n.log"; fail "lesson $n: bench.sh failed with the stand-in program"; }
  count=$((count + 1))
done

harness/course/gallery.sh >"$KIT_TMP/gallery.log" 2>&1 || { cat "$KIT_TMP/gallery.log"; fail "gallery.sh failed"; }
page=$GALLERY_DIR/index.html
for name in $LESSONS; do
  n=${name%%-*}
  grep -q "<section id=\"lesson-$n\">" "$page" || fail "lesson $n has no section on the page"
  grep -q "src=\"lesson-$n.svg\"" "$page" || fail "lesson $n's chart is not on the page (as a relative path)"
done
[ "$(grep -c '<table>' "$page")" -eq $((count + 1)) ] || fail "expected a table a lesson and the summary's"
[ -s "$GALLERY_DIR/summary.svg" ] && [ -s "$GALLERY_DIR/summary.png" ] || fail "the summary chart was not drawn"
# Made-up data: the first mode at x=4 takes 0.4 s, the last 0.1 s, so every ratio is 4.000.
bad=$(awk -F, 'NR > 1 && ($8 != "4.000" || $9 != "4.000")' "$GALLERY_DIR/data/summary.csv")
[ -z "$bad" ] || fail "summary ratios should be 4.000 (0.4 s against 0.1 s): $bad"
[ "$(tail -n +2 "$GALLERY_DIR/data/summary.csv" | wc -l)" -eq "$count" ] || fail "the summary should have a row a lesson"
grep -qE '(src|href)="(/|file:|https?:)' "$page" && fail "the page refers to a file or server by absolute address; it must work opened from disk"

if [ "${CHECK_BROWSER:-0}" = 1 ] || command -v chromium >/dev/null 2>&1; then
  harness/course/gallery-check.sh || fail "the page does not load whole in Chromium"
else
  echo "gallery: $count lessons, the page's structure checked; Chromium is not here (CHECK_BROWSER=1 installs it and opens the page)"
fi
