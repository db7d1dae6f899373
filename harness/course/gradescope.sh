#!/usr/bin/env bash
# `make gradescope [GRADE_LESSONS="04 05"]`: a Gradescope autograder bundle,
# $BUILD/gradescope/autograder.zip, to upload as a programming assignment's autograder:
#   setup.sh        runs once when Gradescope builds the image: installs what the kit needs
#                   (Debian/Ubuntu packages, with bubblewrap) and builds the kit's harness
#   run_autograder  runs for each submission: the student's files graded by `make grade`, in
#                   the students' copy of the kit (no solutions), its results.json copied to
#                   /autograder/results/results.json
#   kit/            the students' copy of the kit (make dist-student), and GRADE_LESSONS
#   hidden/         TESTS=dir: the instructor's own tests (make grade TESTS=dir), graded too
# A submission may hold the lesson folders (04-gather/gather.c ...), the kit's layout
# (lessons/04-gather/gather.c ...) or, for a single lesson, the exercise files at its top.
# AUTOGRADER=dir runs the bundle against a layout of your own instead of /autograder (the
# self-test does: harness/course/gradescope-selftest.sh).
set -euo pipefail
BUILD=${BUILD:-build}
out=$BUILD/gradescope
rm -rf -- "$out"
mkdir -p -- "$out/bundle"
DIST="$out/bundle/kit" harness/course/dist-student.sh >/dev/null
# Which lessons this assignment grades (default: every lesson of the kit).
printf '%s\n' "${GRADE_LESSONS:-}" >"$out/bundle/kit/.gradescope-lessons"
# An instructor's hidden tests (TESTS=dir, as for make grade): in the bundle beside the kit, never
# in the students' copy; each test's visibility (dir/NN-topic/visibility) reaches results.json.
hidden=${GRADE_TESTS:-${TESTS:-}}
if [ -n "$hidden" ]; then
  [ -d "$hidden" ] || { echo "[hidden-tests] TESTS=$hidden is not a folder" >&2; exit 2; }
  cp -r -- "$hidden/." "$out/bundle/hidden/"
fi

cat >"$out/bundle/setup.sh" <<'EOF'
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends make gcc libc6-dev git ca-certificates
cd "$here/kit"
# The kit installs the rest itself (harness/course/deps.sh), bubblewrap with it, then builds
# its harness so that each submission only builds its own lesson.
make deps && make -s build/.deps-ok-grade all
EOF

cat >"$out/bundle/run_autograder" <<'EOF'
#!/usr/bin/env bash
# Gradescope runs this for each submission. AUTOGRADER=dir replaces /autograder (for a test).
set -uo pipefail
root=${AUTOGRADER:-/autograder}
kit=$root/source/kit
results=$root/results/results.json
work=$(mktemp -d)
mkdir -p "$root/results" "$work/class/submission"
fail() {   # a results.json that says what went wrong, so the student sees it
  python3 - "$results" "$1" <<'PY' 2>/dev/null || printf '{"score": 0, "output": "%s", "tests": []}\n' "$1" >"$results"
import json, sys
json.dump({"score": 0, "output": sys.argv[2], "tests": []}, open(sys.argv[1], "w"))
PY
  exit 0
}
[ -d "$root/submission" ] || fail "The submission folder is missing: nothing was graded."
cp -r "$root/submission/." "$work/class/submission/"
lessons=$(cat "$kit/.gradescope-lessons" 2>/dev/null || true)
cd "$kit" || fail "The autograder's copy of the kit is missing."
# One lesson and the exercise files at the top of the submission: put them in the lesson's folder.
if [ -n "$lessons" ] && [ "$(wc -w <<<"$lessons")" -eq 1 ]; then
  name=$(basename "$(ls -d lessons/"$lessons"-* 2>/dev/null | sed -n 1p)")
  if [ -n "$name" ] && [ ! -d "$work/class/submission/$name" ] && [ ! -d "$work/class/submission/lessons" ]; then
    mkdir -p "$work/class/submission/$name"
    find "$work/class/submission" -maxdepth 1 -type f -exec mv {} "$work/class/submission/$name/" \;
  fi
fi
# Gradescope already gives each submission a container of its own; the kit's own sandbox goes
# inside it where the container allows namespaces, and the container alone is the wall where not.
if ! bwrap --ro-bind / / --unshare-pid --unshare-net --dev /dev true 2>/dev/null; then
  export KIT_GRADE_UNSANDBOXED=1
fi
[ -d "$root/source/hidden" ] && export GRADE_TESTS="$root/source/hidden"
SUBMISSIONS="$work/class" GRADES="$work/grades" GRADE_LESSONS="$lessons" make -s --no-print-directory grade \
  >"$work/grade.log" 2>&1
if [ -s "$work/grades/submission/results.json" ]; then
  cp "$work/grades/submission/results.json" "$results"
else
  fail "The grader could not grade this submission: $(tail -n 3 "$work/grade.log" | tr '\n' ' ')"
fi
rm -rf "$work"
EOF
chmod +x "$out/bundle/setup.sh" "$out/bundle/run_autograder"
rm -f "$out/autograder.zip"
if command -v zip >/dev/null 2>&1; then
  (cd "$out/bundle" && zip -q -r ../autograder.zip .)
else
  python3 -c 'import shutil, sys; shutil.make_archive(sys.argv[1], "zip", sys.argv[2])' "$out/autograder" "$out/bundle"
fi
echo "gradescope: $out/autograder.zip (setup.sh, run_autograder, the students' copy of the kit; lessons: ${GRADE_LESSONS:-all})"
