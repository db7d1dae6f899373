#!/usr/bin/env bash
# The chart gallery: plots/index.html, one page with every lesson's chart, the sentence under it
# that says what it shows (PLOT_CAPTION), the numbers behind it as a table, and a summary chart
# (plots/summary.png and .svg): each lesson's last mode against its first at the largest point
# measured, beside the theory's ratio. Reads the bench CSVs that `make lesson-NN bench` wrote;
# `make plots` runs every bench first. The page has no script from elsewhere and no server: it
# works opened from disk. GALLERY_DIR=dir: the page, and the benches it shows, under dir instead.
set -uo pipefail
. harness/lib.sh
kit_vars || { echo "[no-metadata] make vars failed" >&2; exit 1; }
out=${GALLERY_DIR:-plots}
mkdir -p "$out/data"
html=$out/index.html
summary=$out/data/summary.csv

# size FILE: the width and height of a chart ("960 600"): an SVG's viewBox (gnuplot's "dynamic"
# SVG has no width or height), a PNG's header.
size() {
  case $1 in
    *.svg) sed -n 's/.*viewBox="0 0 \([0-9.]*\) \([0-9.]*\)".*/\1 \2/p' "$1" 2>/dev/null | head -n 1 | grep . ;;
    *.png) od -An -tu1 -j16 -N8 "$1" 2>/dev/null | awk 'NF == 8 { print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4, $5 * 16777216 + $6 * 65536 + $7 * 256 + $8 }' | grep . ;;
  esac || echo "960 600"
}

esc() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' <<<"$1"; }
rel() { realpath -m --relative-to="$out" "$1"; }

sections=$KIT_TMP/sections.html
: >"$sections"
echo "lesson,title,x,first_mode,last_mode,first_s,last_s,speedup,ideal,asyncio_speedup" >"$summary"
shown=0
missing=()
for name in $LESSONS; do
  n=${name%%-*}
  kit_vars "$n" SOLUTION=1 || continue
  csv=$BENCH_CSV
  png=$BENCH_PNG
  # GALLERY_DIR=dir: the page of the benches written under dir (dir/data/lesson-NN.csv, dir/lesson-NN.png).
  if [ -n "${GALLERY_DIR:-}" ]; then csv=$out/data/lesson-$n.csv; png=$out/lesson-$n.png; fi
  svg=${png%.png}.svg
  if [ ! -s "$csv" ]; then missing+=("$n"); continue; fi
  img=$svg; [ -s "$img" ] || img=$png
  basename_csv=$(basename "$csv")
  rows=$(grep -v '^#' "$csv" | tail -n +2)
  # The C program's first and last modes (asyncio's "py:" modes are compared among themselves).
  first=$(cut -d, -f1 <<<"$rows" | grep -v '^py:' | head -n 1)
  last=$(cut -d, -f1 <<<"$rows" | grep -v '^py:' | awk '!seen[$0]++' | tail -n 1)
  # The largest x both the first and the last mode reached.
  x=$(awk -F, -v a="$first" -v b="$last" '$1 == a { A[$2] = 1 } $1 == b && ($2 in A) { if (!s || $2 + 0 > m + 0) { m = $2; s = 1 } } END { if (s) print m }' <<<"$rows")
  if [ -n "$x" ] && [ "$first" != "$last" ]; then
    awk -F, -v a="$first" -v b="$last" -v x="$x" -v n="$n" -v t="$TITLE" '
      $1 == a && $2 == x { fa = $4; ta = $9 } $1 == b && $2 == x { fb = $4; tb = $9 }
      $1 == "py:" a && $2 == x { pa = $4 } $1 == "py:" b && $2 == x { pb = $4 }
      END { if (fb > 0 && tb > 0) printf "%s,%s,%s,%s,%s,%s,%s,%.3f,%.3f,%s\n", n, t, x, a, b, fa, fb, fa / fb, ta / tb,
                                         (pb > 0 ? sprintf("%.3f", pa / pb) : "nan") }' <<<"$rows" >>"$summary"
  fi
  caption=${PLOT_CAPTION:-"The lesson program in each of its modes ($BENCH_MODES) against $PLOT_XLABEL: a solid line is the median of the runs at each point, its bar the fastest and slowest run, and the dashed line of the same colour the time theory gives.${PLOT_PANELS:+ The panels under it: $PLOT_PANELS, the same modes in the same colours.}"}
  # The table: the fixed columns, the CPU share, and the median of each panel's field.
  header=$(grep -v '^#' "$csv" | head -n 1)
  extra=()
  for f in $PLOT_PANELS; do
    case $f in cpu|cpu_s|peak) ;; *) grep -q ",${f}_median" <<<"$header" && extra+=("$f") ;; esac
  done
  read -r w h <<<"$(size "$img")"
  {
    printf '<section id="lesson-%s">\n<h2>%s</h2>\n' "$n" "$(esc "$PLOT_TITLE")"
    printf '<img src="%s" alt="%s" width="%s" height="%s">\n' "$(esc "$(rel "$img")")" "$(esc "$PLOT_TITLE")" "$w" "$h"
    printf '<p class="caption">%s</p>\n' "$(esc "$caption")"
    printf '<p class="meta">%s</p>\n' "$(esc "$(grep '^# \(machine\|commit\|date\|fixed\|server\):' "$csv" | sed 's/^# //' | paste -sd ';' | sed 's/;/; /g')")"
    printf '<table>\n<tr><th>mode</th><th>%s</th><th>runs</th><th>median (s)</th><th>min (s)</th><th>max (s)</th><th>CPU (s)</th><th>CPU %%</th><th>peak</th><th>theory (s)</th>' "$(esc "$BENCH_X")"
    for f in "${extra[@]}"; do printf '<th>%s</th>' "$(esc "$f")"; done
    printf '</tr>\n'
    # Each row's cells: the fixed columns by place, the CPU share and the fields by name.
    awk -F, -v fields="${extra[*]}" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; nf = split(fields, f, " "); next }
      { printf "<tr>"; for (i = 1; i <= 7; i++) printf "<td>%s</td>", $i
        printf "<td>%s</td>", ("cpu_pct_median" in c) ? $c["cpu_pct_median"] : "-"
        printf "<td>%s</td><td>%s</td>", $8, $9
        for (j = 1; j <= nf; j++) printf "<td>%s</td>", ((f[j] "_median") in c) ? $c[f[j] "_median"] : "-"
        print "</tr>" }' <(grep -v '^#' "$csv" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g')
    printf '</table>\n<p class="data">Data: <a href="%s">%s</a></p>\n' "$(esc "$(rel "$csv")")" "$(esc "$basename_csv")"
    # The known mistakes this lesson draws beside its chart, when their bench has run.
    for mistake in $PLOT_MISTAKES; do
      mcsv=${csv%.csv}-$mistake.csv mpng=${png%.png}-$mistake.png
      msvg=${mpng%.png}.svg
      [ -s "$mcsv" ] || continue
      mimg=$msvg; [ -s "$mimg" ] || mimg=$mpng
      read -r w h <<<"$(size "$mimg")"
      what=$(sed -n '1p' "solutions/$LESSON_NAME/mistakes/$mistake.patch" 2>/dev/null)
      printf '<h3>The same bench with a known mistake: %s</h3>\n' "$(esc "$mistake")"
      printf '<img src="%s" alt="%s" width="%s" height="%s">\n' "$(esc "$(rel "$mimg")")" "$(esc "lesson $n, $mistake")" "$w" "$h"
      printf '<p class="caption">%s Its chart against the one above, point by point: <code>make compare A=%s B=%s</code>.</p>\n' \
        "$(esc "$what")" "$(esc "$csv")" "$(esc "$mcsv")"
      printf '<p class="data">Data: <a href="%s">%s</a></p>\n' "$(esc "$(rel "$mcsv")")" "$(esc "$(basename "$mcsv")")"
    done
    printf '</section>\n'
  
  } >>"$sections"
  shown=$((shown + 1))
done

if [ "$shown" -eq 0 ]; then
  echo "[no-bench-data] no lesson has bench data yet: run make plots (every lesson's bench, then this page) or make lesson-NN bench first." >&2
  exit 1
fi

# The summary chart: one pair of bars a lesson, measured and ideal ratio, on a log axis.
summary_img=
if [ "$(wc -l <"$summary")" -gt 1 ]; then
  py=$(awk -F, 'NR > 1 && $10 != "nan" && $10 != "" { print 1; exit }' "$summary")
  gnuplot -e "in='$summary'; out_png='$out/summary.png'; out_svg='$out/summary.svg'; py=${py:-0}" harness/course/summary.gp &&
    summary_img=summary.svg
fi

title="Async I/O in C: the lessons' charts"
{
  cat <<EOF
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>$(esc "$title")</title>
<style>
body { font-family: sans-serif; max-width: 1000px; margin: 2em auto; color: #222; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.caption { font-size: 1.05em; }
.meta, .data { color: #666; font-size: 0.8em; }
section { margin-bottom: 3em; }
</style>
</head>
<body>
<h1>$(esc "$title")</h1>
<p>Each chart below was drawn by <code>make lesson-NN bench</code> from the run's own data (the
table under it). Generated $(date -u '+%Y-%m-%d %H:%M UTC') on $(esc "$(kit_machine)"), commit
$(esc "$(kit_commit)").</p>
EOF
  if [ -n "$summary_img" ]; then
    read -r w h <<<"$(size "$out/$summary_img")"
    printf '<section id="summary">\n<h2>Every lesson in one chart</h2>\n<img src="%s" alt="summary" width="%s" height="%s">\n' "$summary_img" "$w" "$h"
    printf '<p class="caption">For each lesson, how many times faster its last mode ran than its first, at the largest point measured, beside what the theory allows. A bar below 1 is a lesson whose point is not speed (lesson 05 caps the requests in flight to stay under the server&#39;s limit, which costs time).</p>\n'
    printf '<table>\n<tr><th>lesson</th><th>at</th><th>first mode</th><th>last mode</th><th>first (s)</th><th>last (s)</th><th>ratio</th><th>ideal</th></tr>\n'
    tail -n +2 "$summary" | while IFS=, read -r n t x a b fa fb r i _; do
      printf '<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n' \
        "$(esc "$n $t")" "$(esc "$x")" "$(esc "$a")" "$(esc "$b")" "$(esc "$fa")" "$(esc "$fb")" "$(esc "$r")" "$(esc "$i")"
    done
    printf '</table>\n</section>\n'
  fi
  cat "$sections"
  [ ${#missing[@]} -gt 0 ] && printf '<p class="meta">No bench data yet for lesson(s) %s: <code>make lesson-NN bench</code> draws them.</p>\n' "${missing[*]}"
  # The page checks itself: how many of its images loaded (read by make gallery-check, or by you).
  cat <<'EOF'
<p id="image-check" class="meta">images: not checked yet</p>
<script>
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;
  document.getElementById('image-check').textContent = 'images: ' + ok + ' of ' + imgs.length + ' loaded';
});
</script>
</body>
</html>
EOF
} >"$html"
echo "gallery: $html ($shown lesson chart(s)$( [ -n "$summary_img" ] && echo ' and the summary'))"
[ ${#missing[@]} -eq 0 ] || echo "  no bench data yet for lesson(s) ${missing[*]}"
