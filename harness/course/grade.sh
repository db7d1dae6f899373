#!/usr/bin/env bash
# `make grade`: grade your own lessons. `make grade SUBMISSIONS=dir`: grade a class, one folder
# a student in dir, each laid out like this kit (lessons/NN-topic/fetch.c) or with the lesson
# folders at its top (NN-topic/fetch.c). Every test is worth 1 point unless the lesson's
# lesson.mk says otherwise (POINTS := suite::test=3 ...). A submission that does not compile,
# hangs or crashes gets 0 for what it could not pass, and grading goes on.
# Writes grades/class.csv (one line a test), grades/summary.csv (one line a student),
# grades/STUDENT/results.json (Gradescope's format), logs, and grades/class.png.
set -uo pipefail
. harness/lib.sh
export KIT_DELAYD
subs=${1:-}
out=${GRADES:-grades}
m() { make -s --no-print-directory "$@"; }

if [ -n "$subs" ] && [ ! -d "$subs" ]; then
  echo "SUBMISSIONS=$subs is not a folder" >&2
  exit 2
fi
rm -rf "$out" && mkdir -p "$out"
kit_vars || exit 1
lessons=$LESSONS
if [ -n "${GRADE_LESSONS:-}" ]; then   # e.g. GRADE_LESSONS="01 03": grade only these
  lessons=$(for name in $lessons; do [[ " $GRADE_LESSONS " == *" ${name%%-*} "* ]] && echo "$name"; done)
fi
echo "student,lesson,test,status,points,max_points,diagnostic" >"$out/class.csv"

# Build each lesson's solution once: its test list is the list a submission is graded on.
declare -A tests_of points_of exercise_of
for name in $lessons; do
  n=${name%%-*}
  m lesson-$n build-tests SOLUTION=1 >/dev/null 2>&1 || { echo "[solution-broken] lesson $n's reference solution does not build, so there is nothing to grade against; run make check to see why." >&2; exit 1; }
  kit_vars "$n" SOLUTION=1
  tests_of[$n]=$("$TEST_BIN" --list 2>&1 |
                 awk '/^[^ ├└│].*: [0-9]+ tests?$/ { suite = $1; sub(/:$/, "", suite); next }
                      /^[├└]/ { t = $0; sub(/^[^ ]+ /, "", t); print suite "::" t }')
  points_of[$n]=$POINTS
  exercise_of[$n]=$EXERCISE
done

points_for() {   # points_for NN SUITE::TEST
  local p
  p=$(tr ' ' '\n' <<<"${points_of[$1]}" | sed -n "s/^$2=//p" | head -n 1)
  echo "${p:-1}"
}

# Where a student's files for a lesson are: FROM for make, or empty when there are none.
lesson_dir() {   # lesson_dir ROOT NAME
  local root=$1 name=$2 n=${2%%-*} cand f
  for cand in "$root/lessons/$name" "$root/$name"; do
    for f in ${exercise_of[$n]}; do
      [ -f "$cand/$f" ] && { echo "$cand"; return; }
    done
  done
}

# json STRING: a JSON string literal.
json() {
  awk -v s="$1" 'BEGIN { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s);
                         gsub(/\r/, "\\r", s); gsub(/\n/, "\\n", s); printf "\"%s\"", s }'
}

grade_one() {   # grade_one STUDENT ROOT
  local student=$1 root=$2 name n dir log tap total=0 max=0 status diag p line
  local -A result message
  local tests_json=() row=("$student")
  mkdir -p "$out/$student"
  for name in $lessons; do
    n=${name%%-*}
    log=$out/$student/lesson-$n.log
    tap=$out/$student/lesson-$n.tap
    result=() message=()
    if [ -z "$root" ]; then dir=; else dir=$(lesson_dir "$root" "$name"); fi
    if [ -n "$root" ] && [ -z "$dir" ]; then
      for t in ${tests_of[$n]}; do result[$t]=missing; message[$t]="no files were handed in for lesson $n"; done
    elif ! m lesson-$n build-tests ${dir:+FROM="$dir"} >"$log" 2>&1; then
      line=$(grep -m1 -E 'error:' "$log")
      for t in ${tests_of[$n]}; do result[$t]=no-build; message[$t]="the code does not compile: ${line:-see $log}"; done
    else
      kit_vars "$n" ${dir:+FROM="$dir"}
      rm -f "$tap"
      kit_run_tests "$TEST_BIN" "$log" --tap="$tap"
      while IFS=$'\t' read -r status t diag; do
        result[$t]=$status
        message[$t]=$diag
      done < <(kit_verdicts tsv "$tap" "${tests_of[$n]//$'\n'/ }")
    fi
    local got=0 of=0
    for t in ${tests_of[$n]}; do
      p=$(points_for "$n" "$t")
      status=${result[$t]}
      diag=${message[$t]}
      earned=0; [ "$status" = pass ] && earned=$p
      got=$((got + earned)); of=$((of + p))
      printf '%s,%s,%s,%s,%s,%s,"%s"\n' "$student" "$n" "$t" "$status" "$earned" "$p" "${diag//\"/\"\"}" >>"$out/class.csv"
      tests_json+=("{\"name\": $(json "$n $t"), \"score\": $earned, \"max_score\": $p, \"output\": $(json "$status${diag:+: $diag}")}")
    done
    row+=("$got/$of")
    total=$((total + got)); max=$((max + of))
  done
  row+=("$total/$max")
  {
    printf '{"score": %s, "tests": [\n' "$total"
    local i
    for i in "${!tests_json[@]}"; do
      printf '  %s%s\n' "${tests_json[$i]}" "$([ "$i" -lt $((${#tests_json[@]} - 1)) ] && echo ,)"
    done
    printf ']}\n'
  } >"$out/$student/results.json"
  echo "${row[*]}" | tr ' ' ',' >>"$out/summary.csv"
  printf '%-20s' "$student"; printf ' %9s' "${row[@]:1}"; echo
}

{ printf 'student'; for name in $lessons; do printf ',%s' "${name%%-*}"; done; echo ",total"; } >"$out/summary.csv"
printf '%-20s' student; for name in $lessons; do printf ' %9s' "${name%%-*}"; done; printf ' %9s\n' total
if [ -z "$subs" ]; then
  grade_one "${USER:-you}" ""
else
  for d in "$subs"/*/; do
    [ -d "$d" ] || continue
    s=$(basename "$d")
    grade_one "${s//[^A-Za-z0-9_.@-]/_}" "${d%/}"
  done
fi

# The class at a glance: each student's total as a share of the points.
if [ "$(wc -l <"$out/summary.csv")" -gt 1 ]; then
  awk -F, 'NR > 1 { split($NF, t, "/"); printf "%s %.1f\n", $1, t[2] ? 100 * t[1] / t[2] : 0 }' "$out/summary.csv" >"$out/totals.dat"
  gnuplot -e "set terminal pngcairo size 900,500 noenhanced; set output '$out/class.png';
              set title 'Class results (share of points)'; set ylabel '%'; set yrange [0:105];
              set style fill solid 0.7; set boxwidth 0.6; set xtics rotate by -45; unset key;
              plot '$out/totals.dat' using 0:2:xtic(1) with boxes lc rgb '#3b8a55'" 2>/dev/null
fi
echo "grades: $out/summary.csv (a line a student), $out/class.csv (a line a test), $out/*/results.json (Gradescope), $out/class.png"
