#!/usr/bin/env bash
# `make lesson-NN reset`: put the lesson's exercise files back as the kit shipped them, from git,
# after copying the student's versions into backups/lesson-NN-YYYYmmdd-HHMMSS/.
# The shipped version is the one at the commit the kit was last updated from (where the branch
# meets its upstream), or at HEAD when there is no upstream; AT=COMMIT names another.
set -uo pipefail
. harness/lesson/progress.sh

if [ "$VARIANT" != student ]; then
  echo "reset puts back your own files in lessons/$LESSON_NAME/; run it without SOLUTION=1 or FROM=." >&2
  exit 2
fi
read -r -a names <<<"$EXERCISE"
paths=()
for f in "${names[@]}"; do paths+=("$LESSON_DIR/$f"); done

if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "This copy of the kit is not a git checkout, so reset has no shipped version to put back."
  echo "To start lesson $LESSON again, copy ${names[*]} from a fresh copy of the kit (the archive or"
  echo "clone you got it from) into $LESSON_DIR/. Your files are untouched."
  exit 1
fi

if [ -n "${AT:-}" ]; then
  base=$(git rev-parse -q --verify "${AT}^{commit}") || { echo "AT=$AT is not a commit of this repository." >&2; exit 2; }
  why="the commit you named"
elif up=$(git rev-parse -q --verify '@{upstream}' 2>/dev/null) && base=$(git merge-base HEAD "$up" 2>/dev/null); then
  why="where your branch meets $(git rev-parse --abbrev-ref '@{upstream}' 2>/dev/null), the kit as you got it"
else
  base=$(git rev-parse -q --verify HEAD) || { echo "This git checkout has no commit yet, so there is no shipped version to put back." >&2; exit 1; }
  why="HEAD, your last commit"
fi
short=$(git log -1 --format='%h "%s"' "$base")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kit-reset.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
differ=()
for i in "${!paths[@]}"; do
  p=${paths[$i]}
  if ! git show "$base:./$p" >"$tmp/$i" 2>/dev/null; then
    echo "$p is not in commit $short, so reset cannot put it back." >&2
    echo "Name the commit that has it: make lesson-$LESSON reset AT=COMMIT (git log --oneline -- $p lists them)." >&2
    exit 1
  fi
  cmp -s "$tmp/$i" "$p" || differ+=("$i")
done
if [ "${#differ[@]}" -eq 0 ]; then
  echo "Lesson $LESSON's ${names[*]} $([ "${#names[@]}" -eq 1 ] && echo is || echo are) already as shipped at $short: nothing to reset."
  exit 0
fi

stamp=$(date +%Y%m%d-%H%M%S)
backup=backups/lesson-$LESSON-$stamp
k=1
while [ -e "$backup" ]; do k=$((k + 1)); backup=backups/lesson-$LESSON-$stamp-$k; done
mkdir -p "$backup"
saved=()
for i in "${differ[@]}"; do
  p=${paths[$i]}
  if [ -e "$p" ]; then cp -p "$p" "$backup/" && saved+=("${p##*/}"); fi
done
for i in "${differ[@]}"; do
  p=${paths[$i]}
  cat "$tmp/$i" >"$p"
done
rm -f "$(progress_file "$LESSON")"

restored=$(for i in "${differ[@]}"; do printf '%s ' "${paths[$i]##*/}"; done)
echo "Lesson $LESSON is back to its skeleton: ${restored% } as shipped at $short ($why)."
if [ "${#saved[@]}" -gt 0 ]; then
  echo "Your version is kept in $backup/ (${saved[*]})."
else
  rmdir "$backup" 2>/dev/null
fi
if [ -z "${AT:-}" ] && [ "$why" = "HEAD, your last commit" ]; then
  echo "(If you had committed your own work, HEAD is not the shipped version: name the kit's commit with"
  echo " make lesson-$LESSON reset AT=COMMIT; git log --oneline -- ${paths[0]} lists them.)"
fi
echo "Next: make lesson-$LESSON test, or make lesson-$LESSON watch."
