#!/usr/bin/env bash
# `make actions [ACTIONS_DIR=dir]`: the GitHub Actions workflow that grades a student's
# repository on every push, written to dir/.github/workflows/grade.yml (default: $BUILD/actions;
# `make dist-student` puts it in the students' copy). On an ubuntu-latest runner it installs the
# kit's Debian packages with apt-get (the list is deps.sh's, read when the file is written), runs
# harness/course/actions-grade.sh (make grade on the student's own files, the score as a table in
# the job's summary) and uploads the grades folder as the artifact `grades`. The repository's
# variable GRADE_LESSONS (Settings, Variables) limits it to some lessons.
set -euo pipefail
BUILD=${BUILD:-build}
dir=${ACTIONS_DIR:-$BUILD/actions}
# deps.sh's packages (the required ones and the grader's sandbox), one word each.
pkgs=$(awk '/^packages=\(/ { on = 1; next } on && /^\)/ { on = 0 } on { print $1 }' harness/course/deps.sh | tr '\n' ' ')
[ -n "$pkgs" ] || { echo "[actions] cannot read the package list of harness/course/deps.sh" >&2; exit 1; }
mkdir -p -- "$dir/.github/workflows"
cat >"$dir/.github/workflows/grade.yml" <<EOF
# Grades this repository on every push: make grade on your own files, the score in the run's
# summary, the grades folder as an artifact. Written by make actions (harness/course/actions.sh).
name: Grade
on:
  push:
  workflow_dispatch:
permissions:
  contents: read
concurrency:
  group: grade-\${{ github.ref }}
  cancel-in-progress: true
jobs:
  grade:
    runs-on: ubuntu-latest
    timeout-minutes: 60
    env:
      GRADE_LESSONS: \${{ vars.GRADE_LESSONS }}
    steps:
      - uses: actions/checkout@v4
      - name: Install the kit's packages
        run: |
          sudo apt-get update -q
          sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \\
            make gcc libc6-dev bubblewrap ${pkgs% }
      - name: Grade
        run: harness/course/actions-grade.sh
      - name: Keep the grades
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: grades
          path: grades/
          if-no-files-found: warn
EOF
echo "actions: $dir/.github/workflows/grade.yml (on push: make grade, the score in the job summary, the grades as an artifact)"
