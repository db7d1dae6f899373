#!/usr/bin/env bash
# `make` (the course map), `make progress` and `make help`: the lessons, how each went for this
# student, and what to type next; with --help, every goal of the kit as well.
set -uo pipefail
. harness/lib.sh
. harness/lesson/progress.sh
mode=map
case ${1:-} in --progress | --help) mode=${1#--}; shift ;; esac

status_of() {   # status_of NN: the student's files now, against the last full `make lesson-NN test`
  local n=$1 tested passed
  case $(progress_state "$n") in
    none) echo "not tried yet" ;;
    pass) echo "passed ($(progress_when "$n"))" ;;
    changed) echo "changed since it passed, run make lesson-$n test" ;;
    fail)
      tested=$(progress_get "$n" tested); passed=$(progress_get "$n" passed)
      echo "$passed of $(plural "${tested:-0}" test) pass (last tried $(progress_when "$n"))" ;;
  esac
}

echo "Async I/O, taught in C"
echo
printf '  %-4s %-28s %s\n' "" "lesson" "your status"
next=
done_count=0
for name in "$@"; do
  n=${name%%-*}
  title=$(kit_vars "$n" && echo "$TITLE")
  status=$(status_of "$n")
  printf '  %-4s %-28s %s\n' "$n" "$title" "$status"
  case $status in passed*) done_count=$((done_count + 1)) ;; *) [ -n "$next" ] || next=$n ;; esac
done
if [ "$mode" != progress ]; then
  # The lessons planned and not yet in the kit (a lesson that exists drops out by itself).
  coming=
  for planned in "08 queues" "09 blocking pitfalls" "10 locks" "11 an HTTP client with retries" \
                 "12 a crawler" "13 a URL checker"; do
    case " $* " in *" ${planned%% *}-"*) ;; *) coming="${coming:+$coming, }$planned" ;; esac
  done
  [ -z "$coming" ] || echo "  (coming: $coming)"
fi
echo
echo "$done_count of $# lessons pass."
if [ -n "$next" ]; then
  echo "Next: read lessons/$(printf '%s\n' "$@" | grep "^$next-")/README.md, then: make lesson-$next watch"
  echo "      (it tests again at every save; make hint-$next for a hint)"
fi
if [ "$mode" = map ]; then
  cat <<'MORE'

Also:  make demo          sequential vs concurrent downloads, timed and charted (no internet)
       make lesson-NN run | bench | plot     one run | a timed sweep | its chart
       make grade [SUBMISSIONS=dir]          points per lesson and test, for you or a class
       make help          every goal: building, checking, the server, the benchmark
MORE
elif [ "$mode" = help ]; then
  cat <<'MORE'

One lesson (add SOLUTION=1 for the reference solution, FROM=dir for files from elsewhere):
  make lesson-NN                what the lesson is and what to type
  make lesson-NN test           build (warnings are errors, ASan + UBSan) and run the tests
  make lesson-NN test ONLY=suite/test   one test (or a glob, in quotes: ONLY='suite/*')
  make lesson-NN watch          test again at every save: progress line, first failure in full
  make lesson-NN reset          your exercise files back to the skeleton (yours kept in backups/)
  make lesson-NN solution       the reference and a diff with yours, once your files pass
  make lesson-NN run [ARGS=..]  the lesson program once, against a private server
                                (URL=http://host:port/path or URLS=file: your server instead)
  make lesson-NN bench          a timed sweep (3 runs a point, medians), then the chart
  make lesson-NN plot           redraw the chart from the last bench
  make lesson-NN bench MISTAKE=name   the same with a known mistake (solutions/NN-*/mistakes/)
  make lesson-NN timeline       each mode once, traced: a Gantt chart of who waited when
  make lesson-NN build          build the tests and the program without running them
  make lesson-NN vars           the lesson's metadata as shell assignments (for scripts)
The course:
  make                          the course map
  make progress                 which lessons pass
  make hint-NN                  the next hint, gentlest first
  make grade [SUBMISSIONS=dir]  points per lesson and test, for you or a class (TESTS=dir adds
                                your own hidden tests)
  make dist-student             the students' copy of the kit: no solutions (build/dist-student)
  make gradescope               a Gradescope autograder bundle (GRADE_LESSONS="04" for one lesson)
  make actions                  a GitHub Actions workflow grading a student's repository on push
  make demo                     sequential vs concurrent downloads, timed and charted
  make plots                    every lesson's bench and chart, from the reference solutions,
                                and the gallery page plots/index.html with a summary chart
                                (PLOTS_JOBS lessons bench at once, default 4; 1 for the quietest)
  make gallery-check            open plots/index.html in headless Chromium: every chart loads
  make compare A=x.csv B=y.csv  two benches side by side: each point's ratio B/A, and a chart
  make server [PORT=8080]       the bundled test server, in the foreground
Building and maintaining:
  make all                      build the harness: kit, delayd, the aio runtime, the benchmark
  make check                    the kit's self-test (every solution passes, every skeleton and
                                known mistake fails); its last line is `N passed, N failed`;
                                CHECK_UNITS='05-semaphores h:kit/*' runs only those units
  make check-more               its second tier: the poll() builds and the tools' self-tests (CI runs both)
  make benchmark [ONLY=name]    the aio runtime against Python asyncio, Go and Node.js, on this machine
  make check-benchmark          the benchmark's quick self-test (shapes, never speeds)
  make check-aio-valgrind       the runtime under valgrind
  make check-lesson-bench       the lesson pipeline's bench, table and charts, from a stand-in program,
                                and each lesson's asyncio program (python/main.py) against its C row
  make check-arm64              everything cross-built for arm64 and tested under qemu-user
  make check-devcontainer       the dev container's image built (podman), make check inside it
  make check-portable           the macOS code paths (PORTABLE=1: poll, pipes, ucontext), tested here
  make compile_commands.json    the compilation database for clangd (make writes it anyway)
  make deps                     install what the kit needs (apt-get)
  make clean                    remove the build folder
Settings (on the command line or in the environment):
  CC=clang   CFLAGS, CPPFLAGS, LDFLAGS, LDLIBS (added after the kit's own)   PKG_CONFIG
  BUILD=dir  (where everything is built; default build)   PYTHON (the asyncio side of the benchmark and the lessons' charts)
  GO, NODE   (the benchmark's Go and Node.js peers; default go, node)
  V=1        (whole command lines)   PORTABLE=1 (the macOS code paths; the default off Linux)
MORE
fi
