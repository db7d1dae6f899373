# The student's progress, kept outside build/ so that `make clean` forgets nothing: one file a
# lesson in .progress/ (KIT_PROGRESS overrides the folder; the self-test uses a scratch one).
# Sourced by the runner, the course map, hints, reset and solution; defines functions only.
#
# .progress/NN holds "key value" lines, written after every full run of the student's files:
#   result pass|fail   when EPOCH   tested N   passed N
#   hash H             a digest of the exercise files as they were tested
#   files PATH...      those files, so that the digest can be taken again without make
#   failing S/T...     the tests that failed, in Criterion's filter form (suite/test)

KIT_PROGRESS=${KIT_PROGRESS:-.progress}

progress_file() { echo "$KIT_PROGRESS/$1"; }

# exercise_hash PATH...: one digest of the files' names and contents ("missing" when one is gone).
exercise_hash() {
  local f
  for f in "$@"; do [ -f "$f" ] || { echo missing; return; }; done
  sha256sum -- "$@" | sha256sum | cut -c1-24
}

# progress_get NN KEY: the value recorded for KEY, or nothing.
progress_get() {
  local f
  f=$(progress_file "$1")
  [ -f "$f" ] || return 0
  awk -v k="$2" '$1 == k { sub(/^[^ ]+ ?/, ""); print; exit }' "$f"
}

# progress_record NN RESULT TESTED PASSED FAILING FILES...
progress_record() {
  local n=$1 result=$2 tested=$3 passed=$4 failing=$5 f tmp
  shift 5
  mkdir -p "$KIT_PROGRESS" || return 0
  f=$(progress_file "$n")
  tmp=$f.tmp.$$
  {
    echo "result $result"
    echo "when $(date +%s)"
    echo "tested $tested"
    echo "passed $passed"
    echo "hash $(exercise_hash "$@")"
    echo "files $*"
    echo "failing $failing"
  } >"$tmp" && mv -f "$tmp" "$f"
}

# progress_state NN: one word for the lesson now:
#   none     never run in full
#   pass     passed, and the files are as they were then
#   changed  passed, but the files changed since
#   fail     the last full run failed
progress_state() {
  local result files
  result=$(progress_get "$1" result)
  case $result in
    pass)
      read -r -a files <<<"$(progress_get "$1" files)"
      if [ "${#files[@]}" -gt 0 ] && [ "$(exercise_hash "${files[@]}")" = "$(progress_get "$1" hash)" ]; then
        echo pass
      else
        echo changed
      fi ;;
    fail) echo fail ;;
    *) echo none ;;
  esac
}

# plural N WORD: "1 test", "2 tests".
plural() { if [ "$1" -eq 1 ]; then echo "$1 $2"; else echo "$1 ${2}s"; fi; }

# progress_when NN: the last full run's time, e.g. "Dec 01 14:03".
progress_when() {
  local t
  t=$(progress_get "$1" when)
  [ -n "$t" ] && date -d "@$t" '+%b %d %H:%M' 2>/dev/null
}
