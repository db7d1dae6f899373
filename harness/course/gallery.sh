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

esc() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' <<<"$1"; }
rel() { realpath -m --relative-to="$out" "$1"; }

sections=$KIT_TMP/sections.html
: >"$sections"
echo "lesson,title,x,first_mode,last_mode,first_s,last_s,speedup,ideal" >"$summary"
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
  rows=$(grep -v '^#' "$csv" | tail -n +2)
  first=$(cut -d, -f1 <<<"$rows" | head -n 1)
  last=$(cut -d, -f1 <<<"$rows" | awk '!seen[$0]++' | tail -n 1)
  # The largest x both the first and the last mode reached.
  x=$(awk -F, -v a="$first" -v b="$last" '$1 == a { A[$2] = 1 } $1 == b && ($2 in A) { if (!s || $2 + 0 > m + 0) { m = $2; s = 1 } } END { if (s) print m }' <<<"$rows")
  if [ -n "$x" ] && [ "$first" != "$last" ]; then
    awk -F, -v a="$first" -v b="$last" -v x="$x" -v n="$n" -v t="$TITLE" '
      $1 == a && $2 == x { fa = $4; ta = $9 } $1 == b && $2 == x { fb = $4; tb = $9 }
      END { if (fb > 0 && tb > 0) printf "%s,%s,%s,%s,%s,%s,%s,%.3f,%.3f\n", n, t, x, a, b, fa, fb, fa / fb, ta / tb }' <<<"$rows" >>"$summary"
  fi
  caption=${PLOT_CAPTION:-"The lesson program in each of its modes ($BENCH_MODES) against $PLOT_XLABEL: a solid line is the median of the runs at each point, its bar the fastest and slowest run, and the dashed line of the same colour the time theory gives."}
  {
    printf '<section id="lesson-%s">\n<h2>%s</h2>\n' "$n" "$(esc "$PLOT_TITLE")"
    printf '<img src="%s" alt="%s" width="960" height="600">\n' "$(esc "$(rel "$img")")" "$(esc "$PLOT_TITLE")"
    printf '<p class="caption">%s</p>\n' "$(esc "$caption")"
    printf '<p class="meta">%s</p>\n' "$(esc "$(grep '^# \(machine\|commit\|date\|fixed\|server\):' "$csv" | sed 's/^# //' | paste -sd ';' | sed 's/;/; /g')")"
    printf '<table>\n<tr><th>mode</th><th>%s</th><th>runs</th><th>median (s)</th><th>min (s)</th><th>max (s)</th><th>CPU (s)</th><th>peak</th><th>theory (s)</th></tr>\n' "$(esc "$BENCH_X")"
    while IFS=, read -r mode px runs med mn mx cpu peak theory; do
      printf '<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n' \
        "$(esc "$mode")" "$(esc "$px")" "$(esc "$runs")" "$(esc "$med")" "$(esc "$mn")" "$(esc "$mx")" "$(esc "$cpu")" "$(esc "$peak")" "$(esc "$theory")"
    done <<<"$rows"
    printf '</table>\n<p class="data">Data: <a href="%s">%s</a></p>\n</section>\n' "$(esc "$(rel "$csv")")" "$(esc "$(basename "$csv")")"
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
  gnuplot -e "in='$summary'; out_png='$out/summary.png'; out_svg='$out/summary.svg'" harness/course/summary.gp &&
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
    printf '<section id="summary">\n<h2>Every lesson in one chart</h2>\n<img src="%s" alt="summary" width="960" height="540">\n' "$summary_img"
    printf '<p class="caption">For each lesson, how many times faster its last mode ran than its first, at the largest point measured, beside what the theory allows. A bar below 1 is a lesson whose point is not speed (lesson 05 caps the requests in flight to stay under the server&#39;s limit, which costs time).</p>\n'
    printf '<table>\n<tr><th>lesson</th><th>at</th><th>first mode</th><th>last mode</th><th>first (s)</th><th>last (s)</th><th>ratio</th><th>ideal</th></tr>\n'
    tail -n +2 "$summary" | while IFS=, read -r n t x a b fa fb r i; do
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
