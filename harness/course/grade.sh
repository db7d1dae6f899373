#!/usr/bin/env bash
# `make grade`: grade your own lessons. `make grade SUBMISSIONS=dir`: grade a class, one folder
# a student in dir (any name), each laid out like this kit (lessons/NN-topic/fetch.c) or with the
# lesson folders at its top (NN-topic/fetch.c). Every test is worth 1 point unless the lesson's
# lesson.mk says otherwise (POINTS := suite::test=3 ...). A submission that does not compile,
# hangs or crashes gets 0 for what it could not pass, and grading goes on.
#
# Each student's lesson is built and tested in a sandbox of its own (bubblewrap): a read-only
# copy of the kit without solutions, the lesson's EXERCISE files from the submission and nothing
# else, a private build folder, its own PID and network namespaces, a non-root user, limits on
# time, CPU, processes, file size and memory. A test counts as passed only when Criterion's
# report says so AND the test's own end-of-test proof arrived (harness/kit/proof.c). The design,
# and each attack it answers, is in harness/course/GRADING.md.
#
# A lesson whose lesson.mk sets PERF_POINTS also gets points for speed: its program, built from
# the submission, against the reference solution's, in the same run (harness/course/perf.py).
#
# Writes grades/class.csv (one line a test), grades/summary.csv (one line a student),
# grades/KEY/results.json (Gradescope's format), logs, and grades/class.png.
# Environment: SUBMISSIONS (or $1), GRADES (the output folder), GRADE_LESSONS="01 03",
# GRADE_BUILD_LIMIT and GRADE_TEST_LIMIT (seconds), GRADE_CPU_LIMIT (CPU seconds a process),
# GRADE_FILE_LIMIT (bytes a file), GRADE_TMP_SIZE (bytes of the sandbox's /tmp), GRADE_NPROC (processes), GRADE_MEMORY (bytes, a cgroup limit
# where cgroups can be written), GRADE_UID (the sandbox's user when run as root),
# KIT_GRADE_UNSANDBOXED=1 (grade without a sandbox: for trusted code only), GRADE_PERF=0 (no
# performance component), GRADE_PERF_RUNS (runs of each program, 5), GRADE_NICE (the builds' and
# tests' nice value, 5: the timed programs run at 0), GRADE_TEST_FORK_HANG=N (the
# kit's own test, grade-selftest.sh: in a lesson's first N rounds every fork of the test runner
# sticks, as one that copied a lock of the sanitizer's allocator does).
set -uo pipefail
. harness/lib.sh
subs=${1:-${SUBMISSIONS:-}}
out=${GRADES:-grades}
build_limit=${GRADE_BUILD_LIMIT:-180}
test_limit=${GRADE_TEST_LIMIT:-${KIT_SUITE_LIMIT:-240}}
cpu_limit=${GRADE_CPU_LIMIT:-300}
file_limit=${GRADE_FILE_LIMIT:-67108864}
log_cap=${GRADE_LOG_CAP:-1048576}
nproc=${GRADE_NPROC:-256}
memory=${GRADE_MEMORY:-2147483648}
box_uid=${GRADE_UID:-60100}
fork_hang=${GRADE_TEST_FORK_HANG:-0}
# The builds and the tests run niced: the lesson programs timed for the performance component
# (mostly asleep, waiting on the server) then get a core as soon as they wake, where three lanes
# of tests keep both cores busy.
box_nice=${GRADE_NICE:-5}
say() { printf '%s\n' "$*" >&2; }

if [ -n "$subs" ] && [ ! -d "$subs" ]; then
  say "[submissions] SUBMISSIONS=$subs is not a folder"
  exit 2
fi
# The output folder: never the kit itself or a folder that is not an earlier grades folder.
case $out in ''|/|.|..|./|../) say "[grades-folder] GRADES=$out would delete more than grades; name a folder of its own."; exit 2 ;; esac
if [ -e "$out" ] && [ -n "$(ls -A -- "$out" 2>/dev/null)" ] && [ ! -f "$out/.kit-grades" ] && [ ! -f "$out/summary.csv" ]; then
  say "[grades-folder] $out exists and is not an earlier grades folder (no .kit-grades in it); grades go to a folder of their own."
  exit 2
fi
rm -rf -- "$out" 2>/dev/null
if ! mkdir -p -- "$out" 2>/dev/null || ! : 2>/dev/null >"$out/.write-test"; then
  say "[grades-folder] cannot write to $out: nothing was graded."
  exit 2
fi
rm -f -- "$out/.write-test"
echo "made by make grade (harness/course/grade.sh); the next grading replaces this folder" >"$out/.kit-grades"
out=$(cd -- "$out" && pwd)

kit_vars || exit 1
lessons=$LESSONS
if [ -n "${GRADE_LESSONS:-}" ]; then   # e.g. GRADE_LESSONS="01 03": grade only these
  lessons=$(for name in $lessons; do [[ " $GRADE_LESSONS " == *" ${name%%-*} "* ]] && echo "$name"; done)
fi

# ---- the sandbox --------------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/kit-grade.XXXXXX") || exit 2
chmod 755 "$work"
cg=()
cleanup_grade() {
  local c
  for c in "${cg[@]}"; do rmdir "$c" 2>/dev/null; done
  rm -rf "$work"
}
trap 'cleanup_grade; kit_cleanup' EXIT

root_run=0; [ "$(id -u)" -eq 0 ] && root_run=1
# The command that starts a sandboxed process: limits, then (as root) the sandbox's own user,
# one a lane (students are graded GRADE_JOBS at a time, each lane as its own user and cgroup, so
# a lane's process limit counts its own processes only). The default: a lane a core, and one
# more, since a test spends much of its time waiting on the server.
jobs=${GRADE_JOBS:-$(($(nproc 2>/dev/null || echo 1) + 1))}
case $jobs in ''|*[!0-9]*|0) jobs=1 ;; esac
[ "$jobs" -gt 64 ] && jobs=64
# Each lane's user: the first of GRADE_UID, GRADE_UID + 1, ... that no other batch holds. A
# batch holds its users by a lock (flock) on /run/kit-grade/uid-N, open in the grader and in the
# lane that grades as N (never in the sandbox): two batches at once never share a user, and a
# user is free again once the batch that held it is gone, however it ended.
lane_uid=() lane_lock=()
if [ "$root_run" -eq 1 ]; then
  mkdir -p -m 700 /run/kit-grade 2>/dev/null
  for ((u = box_uid; ${#lane_uid[@]} < jobs && u < box_uid + 4096; u++)); do
    : 2>/dev/null >>"/run/kit-grade/uid-$u" && exec {fd}<"/run/kit-grade/uid-$u" || continue
    # (A user with processes is in use too: by a batch of an older grader, or anything else.)
    if flock -n "$fd" && ! pgrep -U "$u" >/dev/null 2>&1; then lane_uid+=("$u") lane_lock+=("$fd"); else exec {fd}<&-; fi
  done
  if [ "${#lane_uid[@]}" -lt "$jobs" ]; then
    say "[sandbox-users] no free user for the sandbox from GRADE_UID=$box_uid on (locks in /run/kit-grade): is /run writable, or are 4096 batches running?"
    exit 2
  fi
  [ "${lane_uid[0]}" -eq "$box_uid" ] || say "note: users from $box_uid on are in use (another batch?); this one grades as ${lane_uid[*]}"
  [ -z "$subs" ] || echo "sandbox users: ${lane_uid[*]}"
else
  exec {fd}</dev/null
  for ((u = 0; u < jobs; u++)); do lane_uid+=("$((box_uid + u))") lane_lock+=("$fd"); done
fi
lane_box() {   # lane_box LANE: sets as_box and my_lock (the lane's lock, closed for the sandbox)
  as_box=(prlimit --cpu="$cpu_limit" --fsize="$file_limit" --core=0)
  if [ "$root_run" -eq 1 ]; then
    as_box+=(--nproc="$nproc" setpriv --reuid="${lane_uid[$1]}" --regid="${lane_uid[$1]}" --clear-groups --)
  fi
  my_lock=${lane_lock[$1]}
}
lane_box 0
# bwrap's view of the machine: the system read-only, nothing of the host's home or /tmp.
sys_binds=(--ro-bind /usr /usr)
for l in /bin /lib /lib64 /sbin /lib32 /libx32; do
  if [ -L "$l" ]; then sys_binds+=(--symlink "$(readlink "$l")" "$l")
  elif [ -d "$l" ]; then sys_binds+=(--ro-bind "$l" "$l"); fi
done
for e in /etc/alternatives /etc/ld.so.cache /etc/ld.so.conf /etc/ld.so.conf.d /etc/localtime \
         /etc/passwd /etc/group /etc/hosts /etc/nsswitch.conf; do
  [ -e "$e" ] && sys_binds+=(--ro-bind "$e" "$e")
done
bwrap=${KIT_GRADE_BWRAP:-bwrap}
bwrap_base=("$bwrap" --unshare-all --die-with-parent --new-session --cap-drop ALL
            "${sys_binds[@]}" --proc /proc --dev /dev --size "${GRADE_TMP_SIZE:-268435456}" --tmpfs /tmp)
sandbox=1
if ! command -v "$bwrap" >/dev/null 2>&1; then
  why="bubblewrap (bwrap) is not installed (Debian: apt-get install bubblewrap; make grade installs it when it can)"
elif ! why=$("${as_box[@]}" "${bwrap_base[@]}" -- /bin/true 2>&1); then
  why="bwrap cannot create its namespaces here: ${why:-no message} (user namespaces may be disabled: sysctl kernel.unprivileged_userns_clone, user.max_user_namespaces)"
else
  why=
fi
if [ -n "$why" ]; then
  sandbox=0
  if [ -n "$subs" ] && [ "${KIT_GRADE_UNSANDBOXED:-}" != 1 ]; then
    say "[no-sandbox] $why."
    say "Grading a class runs every student's code; without the sandbox one submission could change another's grade or harm this machine, so nothing was graded."
    say "To grade trusted code anyway: make grade SUBMISSIONS=... KIT_GRADE_UNSANDBOXED=1"
    exit 2
  fi
  if [ -n "$subs" ]; then
    say "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    say "[no-sandbox] WARNING: $why."
    say "KIT_GRADE_UNSANDBOXED=1: grading WITHOUT a sandbox. Every submission runs as $(id -un) with"
    say "this machine's files and network; a hostile submission can change grades or do harm."
    say "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  else
    say "[no-sandbox] note: $why; your own files are graded without a sandbox."
  fi
fi
# A cgroup (v1, as root) a lane bounds the sandbox's memory (tmpfs included) and processes.
join_cg=()
lane_cgroups() {   # lane_cgroups LANE: sets join_cg
  local ctl c lane_cg=()
  join_cg=()
  [ "$sandbox" -eq 1 ] && [ "$root_run" -eq 1 ] || return 0
  for ctl in memory pids; do
    c=/sys/fs/cgroup/$ctl/kit-grade-$$-$1
    mkdir "$c" 2>/dev/null || continue
    lane_cg+=("$c")
    case $ctl in
      memory) echo "$memory" >"$c/memory.limit_in_bytes" 2>/dev/null ;;
      pids) echo "$nproc" >"$c/pids.max" 2>/dev/null ;;
    esac
  done
  if [ ${#lane_cg[@]} -gt 0 ]; then
    # (sh, not bash: it starts in a third of the time, twice a lesson.)
    join_cg=(sh -c 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ >"$1/cgroup.procs" || exit 1; shift; n=$((n - 1)); done; exec "$@"' join "${#lane_cg[@]}" "${lane_cg[@]}")
  fi
}
for ((lane = 0; lane < jobs; lane++)); do
  for ctl in memory pids; do cg+=("/sys/fs/cgroup/$ctl/kit-grade-$$-$lane"); done
done

# ---- a pristine copy of the kit: no solutions, no mistakes, no build ---------------------------
kit=$work/kit
base=$work/base
mkdir -p "$kit" "$base"
cp -a Makefile harness lessons "$kit/" || { say "[grade-copy] cannot copy the kit to $kit"; exit 2; }
rm -rf "$kit"/lessons/*/mistakes "$kit/.compile_commands.config"
# The shared parts already built (make grade built them) are reused when up to date, and so are
# a lesson's given files and tests and its own exercise files (given/, student/) when the kit
# built them: make, in the copy, builds again whatever is older than its sources. Nothing here
# comes from a submission.
for d in bin delayd kit aio; do [ -d "$BUILD/$d" ] && cp -a "$BUILD/$d" "$base/"; done
for name in $lessons; do
  for d in given student; do
    [ -d "$BUILD/$name/$d" ] && mkdir -p "$base/$name" && cp -a "$BUILD/$name/$d" "$base/$name/"
  done
done
touch "$base/.deps-ok-$(basename "${CC%% *}")"
kmake() { (cd "$kit" && env -u FROM -u SOLUTION -u TESTS -u MAKEFLAGS BUILD="$base" COMPDB_LISTING=1 GRADE_HIDDEN=1 make -s --no-print-directory "$@"); }
cores=$(nproc 2>/dev/null || echo 1)
kmake vars >/dev/null || { say "[grade-copy] the kit's copy does not load"; exit 2; }
chmod -R a+rX "$kit" "$base"

# ---- an instructor's own tests (make grade TESTS=dir): dir/NN-topic/*.c (or dir/NN/*.c) -----
# Built here, outside the sandbox, with the flags of the lesson's own tests, into
# base/NN-topic/hidden/san/ (GRADE_HIDDEN=1 links them into the lesson's test runner); their
# sources never enter the sandbox. dir/NN-topic/visibility gives each test's visibility in
# Gradescope's terms ("PATTERN VISIBILITY" lines, PATTERN a glob over SUITE::TEST, the first
# line that matches wins): by default the kit's tests are visible and these after_due_date.
hidden=${GRADE_TESTS:-}
declare -A hidden_src
if [ -n "$hidden" ]; then
  [ -d "$hidden" ] || { say "[hidden-tests] TESTS=$hidden is not a folder (a folder NN-topic a lesson, holding Criterion test files)"; exit 2; }
  hidden=$(cd -- "$hidden" && pwd)
  found=0
  for name in $lessons; do
    n=${name%%-*} hd=
    for d in "$hidden/$name" "$hidden/$n"; do [ -d "$d" ] && { hd=$d; break; }; done
    [ -n "$hd" ] || continue
    hidden_src[$n]=$hd
    srcs=("$hd"/*.c)
    [ -e "${srcs[0]}" ] || { say "[hidden-tests] $hd holds no .c test file"; exit 2; }
    if [ -f "$hd/visibility" ] && bad=$(awk '!/^[ \t]*(#|$)/ && $2 !~ /^(visible|hidden|after_due_date|after_published)$/ { print FILENAME ":" FNR ": " $0; exit }' "$hd/visibility") && [ -n "$bad" ]; then
      say "[hidden-tests] $bad: each line is a test pattern and one of visible, hidden, after_due_date, after_published"
      exit 2
    fi
    # The compile command of one of the lesson's own tests, from the kit's compilation database.
    cmd=$(kmake lesson-$n compdb-entries | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    if e["file"].startswith("lessons/" + sys.argv[1] + "/tests/"):
        c = e["command"]
        print(c[:c.rindex(" -c ")])
        break' "$name")
    [ -n "$cmd" ] || { say "[hidden-tests] lesson $n has no test of its own to take the compile command from"; exit 2; }
    mkdir -p "$base/$name/hidden/san"
    for src in "${srcs[@]}"; do
      obj=$base/$name/hidden/san/hidden-$(basename "$src" .c).o
      if ! (cd "$kit" && eval "$cmd -I\"\$hd\" -c \"\$src\" -o \"\$obj\"") >"$work/hidden-$n.log" 2>&1; then
        say "[hidden-tests] $src does not compile against lesson $n:"
        head -n 20 "$work/hidden-$n.log" >&2
        exit 2
      fi
    done
    rm -f "$base/$name/hidden/san/"*.d
    chmod -R a+rX "$base/$name/hidden"
    found=1
  done
  [ "$found" -eq 1 ] || say "note: TESTS=$hidden has no folder for the lessons graded ($lessons); only the kit's tests count."
fi

# ---- the performance component (GRADING.md, "The performance component") ---------------------
# Where it can run: without a sandbox, in this machine's network; with one, as root, in a network
# namespace of its own (unshare --net) that delayd and the sandboxes share and nothing else.
perf_how=
if [ "${GRADE_PERF:-1}" = 0 ]; then
  perf_why="GRADE_PERF=0"
elif [ "$sandbox" -eq 0 ]; then
  perf_how=host
elif [ "$root_run" -eq 1 ] && unshare --net -- true 2>/dev/null; then
  perf_how=netns
else
  perf_why="the sandboxed programs need a network namespace shared with the grader's server, which takes root here (unshare --net)"
fi
perf_runs=${GRADE_PERF_RUNS:-5}
case $perf_runs in ''|*[!0-9]*|0) perf_runs=5 ;; esac
perf_noted=
# perf_config N NAME VARS: the lesson's performance component (perf_of[N]: its points; the rest
# in $work/perf-N), and its reference program built from solutions/, outside the sandbox, once a
# batch.
perf_config() {
  local n=$1 name=$2 vars=$3 PERF_POINTS PERF_ARGS PERF_PEAK PERF_FULL PERF_ZERO PERF_ZERO_WHY PROG w mode= count= delay= i f
  mapfile -d '' f < <(PERF_POINTS= PERF_ARGS= PERF_PEAK= PERF_FULL= PERF_ZERO= PERF_ZERO_WHY=; eval "$vars"
                      printf '%s\0' "$PERF_POINTS" "$PERF_ARGS" "$PERF_PEAK" "$PERF_FULL" "$PERF_ZERO" "$PERF_ZERO_WHY")
  PERF_POINTS=${f[0]:-} PERF_ARGS=${f[1]:-} PERF_PEAK=${f[2]:-} PERF_FULL=${f[3]:-1.1} PERF_ZERO=${f[4]:-} PERF_ZERO_WHY=${f[5]:-}
  case $PERF_POINTS in ''|0) return 0 ;; esac
  if [ -z "$perf_how" ]; then
    [ -n "$perf_noted" ] || say "note: no performance component in this batch: $perf_why."
    perf_noted=1
    return 0
  fi
  if [ ! -d "solutions/$name" ]; then
    say "note: lesson $n's performance component needs the reference solution (solutions/$name), which this copy of the kit has not: no perf points for lesson $n."
    return 0
  fi
  read -r -a w <<<"$PERF_ARGS"
  for ((i = 0; i + 1 < ${#w[@]}; i++)); do
    case ${w[$i]} in --mode) mode=${w[$((i + 1))]} ;; --n) count=${w[$((i + 1))]} ;; --delay) delay=${w[$((i + 1))]} ;; esac
  done
  if ! [[ $PERF_POINTS =~ ^[0-9]+(\.[0-9]+)?$ && $count =~ ^[0-9]+$ && $delay =~ ^[0-9]+$ && -n $mode && $PERF_ZERO =~ ^[0-9]+(\.[0-9]+)?$ && $PERF_FULL =~ ^[0-9]+(\.[0-9]+)?$ ]] ||
     ! awk -v f="$PERF_FULL" -v z="$PERF_ZERO" 'BEGIN { exit !(z > f) }'; then
    say "[lesson-mk] lessons/$name/lesson.mk: PERF_POINTS ($PERF_POINTS) needs PERF_ARGS with --mode, --n and --delay ($PERF_ARGS) and PERF_ZERO above PERF_FULL ($PERF_ZERO, $PERF_FULL); see GRADING.md."
    return 1
  fi
  PROG=$(env -u FROM -u MISTAKE -u TESTS -u MAKEFLAGS make -s --no-print-directory LESSON="$n" SOLUTION=1 vars | sed -n "s/^PROG='\(.*\)'$/\1/p")
  mkdir -p "$work/ref-$n"
  if [ -z "$PROG" ] || ! env -u FROM -u MISTAKE -u TESTS -u MAKEFLAGS make -s --no-print-directory LESSON="$n" SOLUTION=1 "$PROG" >"$work/ref-$n.log" 2>&1 ||
     ! cp "$PROG" "$work/ref-$n/prog"; then
    say "[kit-broken] lesson $n's reference program does not build (make LESSON=$n SOLUTION=1 $PROG):"
    tail -n 20 "$work/ref-$n.log" >&2
    return 1
  fi
  chmod -R a+rX "$work/ref-$n"
  printf '%s\0' "$PERF_POINTS" "$PERF_ARGS" "${PERF_PEAK:-1 1000000}" "$PERF_FULL" "$PERF_ZERO" "$PERF_ZERO_WHY" "$mode" "$count" "$delay" >"$work/perf-$n"
  perf_of[$n]=$PERF_POINTS
}
# The base build makes the lesson program's given parts too, when it has a performance component.
build_goal() { if [ -n "${perf_of[$1]:-}" ]; then echo build; else echo build-tests; fi; }

echo "student,lesson,test,status,points,max_points,diagnostic" >"$out/class.csv"
# Each lesson's test list comes from its tests: Criterion's --list on the test binary built from
# the lesson as it is in the kit (the skeleton, or your own files), never from the solution.
declare -A tests_of points_of exercise_of lname_of perf_of
for name in $lessons; do
  n=${name%%-*}
  vars=$(kmake lesson-$n vars) || exit 1
  perf_config "$n" "$name" "$vars" || exit 1
  # (With a performance component, the lesson's program too: build, not only build-tests.)
  if ! kmake -j"$cores" lesson-$n "$(build_goal "$n")" >"$work/base-$n.log" 2>&1; then
    if [ -n "${hidden_src[$n]:-}" ]; then
      say "[hidden-tests] lesson $n's tests do not build with those of ${hidden_src[$n]} (a test named like one of the kit's?):"
    else
      say "[kit-broken] lesson $n's tests do not build in a clean copy of the kit, so there is nothing to grade against:"
    fi
    tail -n 20 "$work/base-$n.log" >&2
    exit 1
  fi
  tests_of[$n]=$(LESSON_NAME=; TEST_BIN=; POINTS=; EXERCISE=; eval "$vars"
                 "$base/${TEST_BIN#"$base/"}" --list 2>&1 |
                 awk '/^[^ ├└│].*: [0-9]+ tests?$/ { suite = $1; sub(/:$/, "", suite); next }
                      /^[├└]/ { t = $0; sub(/^[^ ]+ /, "", t); print suite "::" t }')
  [ -n "${tests_of[$n]}" ] || { say "[kit-broken] lesson $n's test binary lists no tests"; exit 1; }
  points_of[$n]=$(eval "$vars"; echo "$POINTS")
  exercise_of[$n]=$(eval "$vars"; echo "$EXERCISE")
  lname_of[$n]=$name
  # The symbols of every shared library the tests link: an exercise may not define one.
  bin=$(eval "$vars"; echo "$TEST_BIN")
  # (One nm for all of them, and once for a set of libraries several lessons share.)
  libs=$(ldd "$bin" 2>/dev/null | awk '$3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
  libs_key=$(printf '%s\n' "$libs" | cksum | tr -d ' ')
  [ -s "$work/libsyms.$libs_key" ] ||
    nm -D --defined-only $libs 2>/dev/null | awk 'NF >= 3 { sub(/@.*/, "", $NF); print $NF }' | sort -u >"$work/libsyms.$libs_key"
  ln -sf "libsyms.$libs_key" "$work/libsyms-$n"
  # Each test's visibility: the instructor's tests after_due_date and the kit's visible, unless
  # a line of the visibility file says otherwise.
  # (A test of an instructor's file is one whose SUITE_TEST_meta, Criterion's record of it, one
  # of its objects defines.)
  : >"$work/hidden-names-$n"
  [ -n "${hidden_src[$n]:-}" ] && nm --defined-only "$base/$name/hidden/san/"*.o 2>/dev/null |
    awk '$NF ~ /_meta$/ && $NF !~ /^__/ { print substr($NF, 1, length($NF) - 5) }' >"$work/hidden-syms-$n" &&
    printf '%s\n' "${tests_of[$n]}" | awk -v syms="$work/hidden-syms-$n" '
      BEGIN { while ((getline l < syms) > 0) s[l] = 1 }
      { k = $0; sub(/::/, "_", k); if (k in s) print }' >"$work/hidden-names-$n"
  printf '%s\n' "${tests_of[$n]}" | awk -v visfile="${hidden_src[$n]:+${hidden_src[$n]}/visibility}" -v hiddenf="$work/hidden-names-$n" '
    function glob2re(g,   r, i, c) {
      r = "^"
      for (i = 1; i <= length(g); i++) {
        c = substr(g, i, 1)
        if (c == "*") r = r ".*"; else if (c == "?") r = r "."
        else if (index(".+^$(){}|[]\\/", c)) r = r "\\" c; else r = r c
      }
      return r "$"
    }
    BEGIN { while (visfile != "" && (getline l < visfile) > 0) { if (l ~ /^[ \t]*(#|$)/) continue; split(l, f, " "); pat[++np] = glob2re(f[1]); val[np] = f[2] }
            while ((getline l < hiddenf) > 0) hid[l] = 1 }
    { v = ($0 in hid) ? "after_due_date" : "visible"
      for (i = 1; i <= np; i++) if ($0 ~ pat[i]) { v = val[i]; break }
      print $0, v }' >"$work/vis-$n"
  # The mount point of a submission's build folder (make's VARIANT for FROM=/sub).
  mkdir -p "$base/$name/student-from_sub"
done

# Where a student's files for a lesson are: a folder holding at least one of its exercise files
# (sets dir; empty when there is none).
lesson_dir() {   # lesson_dir ROOT NAME
  local root=$1 name=$2 n=${2%%-*} cand f
  dir=
  for cand in "$root/lessons/$name" "$root/$name"; do
    for f in ${exercise_of[$n]}; do
      { [ -f "$cand/$f" ] || [ -L "$cand/$f" ]; } && { dir=$cand; return; }
    done
  done
}

# json STRING: a JSON string literal.
json() {
  awk -v s="$1" 'BEGIN { gsub(/\\/, "&&", s); gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s);
                         gsub(/\r/, "\\r", s); gsub(/\n/, "\\n", s);
                         gsub(/[\001-\037]/, " ", s); printf "\"%s\"", s }'
}
# csv STRING: a CSV field, always quoted.
csv() { local s=${1//\"/\"\"}; printf '"%s"' "${s//$'\n'/ }"; }

# cap FILE DEST [FILE DEST]...: the first log_cap bytes of each FILE, and a note when there was
# more (one stat for them all).
cap() {
  local files=() dests=() sizes=() i
  while [ $# -ge 2 ]; do
    files+=("$1") dests+=("$2")
    shift 2
  done
  [ ${#files[@]} -gt 0 ] || return 0
  mapfile -t sizes < <(stat -c %s -- "${files[@]}" 2>/dev/null)
  for i in "${!files[@]}"; do
    head -c "$log_cap" -- "${files[$i]}" >"${dests[$i]}" 2>/dev/null
    if [ "${sizes[$i]:-0}" -gt "$log_cap" ]; then
      printf '\n[log-truncated] the log was longer than %s bytes; the rest was dropped.\n' "$log_cap" >>"${dests[$i]}"
    fi
  done
}

# box JOB LIMIT MODE CMD...: run CMD in the sandbox with a time limit (MODE build or test; without
# a sandbox, build_lesson and run_lesson run it themselves). The kit is /kit (read-only), the base
# build /build (read-only), the submission's build folder JOB/vdir at its place under /build
# (writable only in the build step), its files /sub. The tests' runner is watched (watch_runner).
box() {
  local job=$1 limit=$2 mode=$3
  shift 3
  local args=()
  args=("${bwrap_base[@]}" --ro-bind "$kit" /kit --ro-bind "$base" /build
        --ro-bind "$job/sub" /sub --chdir /kit --clearenv
        --setenv PATH /usr/local/bin:/usr/bin:/bin --setenv HOME /tmp --setenv TMPDIR /tmp
        --setenv LANG C.UTF-8 --setenv BUILD /build --setenv COMPDB_LISTING 1 --setenv FROM /sub --setenv GRADE_HIDDEN 1
        --setenv CC "$CC" --setenv KIT_DELAYD /build/bin/delayd --setenv LESSON "$lesson_n")
  # What make asks the machine once (the compiler's kind, uname) and exports: the same in the
  # sandbox, so its make does not ask again (four processes a build).
  [ -n "${KIT_UNAME:-}" ] && args+=(--setenv KIT_UNAME "$KIT_UNAME")
  [ "${KIT_CC_ASKED-}" = "$CC" ] && args+=(--setenv KIT_CC_ASKED "$CC" --setenv KIT_CC_IS_CLANG "${KIT_CC_IS_CLANG-}")
  if [ "$mode" = build ]; then
    args+=(--bind "$job/vdir" "/build/$lesson_name/student-from_sub")
  else
    args+=(--ro-bind "$job/vdir" "/build/$lesson_name/student-from_sub"
           --size 1048576 --tmpfs /run/kit --file 5 /run/kit/nonce
           --setenv KIT_PROOF_DIR /run/kit --setenv KIT_PROOF_FD 3 --setenv KIT_RUN_ROUND "${run_round:-1}"
           --setenv ASAN_OPTIONS "${ASAN_OPTIONS:-detect_leaks=1}")
    [ "${run_round:-1}" -le "$fork_hang" ] && args+=(--setenv KIT_PROOF_FORK_HANG 1 --setenv KIT_PROOF_SPAWN_MS 1500)
  fi
  if [ "$mode" = test ]; then
    watch_start
    timeout --kill-after=5 "$limit" nice -n "$box_nice" "${join_cg[@]}" "${as_box[@]}" "${args[@]}" -- "$@" 5<"$job/nonce" {my_lock}<&- {watch_end}<&- &
    watch_runner "$job" $!
  else
    timeout --kill-after=5 "$limit" nice -n "$box_nice" "${join_cg[@]}" "${as_box[@]}" "${args[@]}" -- "$@" 5<"$job/nonce" {my_lock}<&- &
    wait $!
  fi
}

# watch_start: before a lesson's tests start, the two ends of the lane's FIFO ($work/ended-LANE):
# watch_end, read here, and watch_w, which only the process started next (the tests' `timeout`)
# holds, and through it the sandbox. When the last of them ends, watch_end reads end-of-file:
# the lane learns at once that the tests are over, without waking often to look. (Opened in
# that order so that no open waits: read-write, read, write, then read-write closed.)
watch_start() {
  local rw
  if [ -n "${watch_fifo:-}" ] && exec {rw}<>"$watch_fifo" {watch_end}<"$watch_fifo" {watch_w}>"$watch_fifo" {rw}<&-; then
    watch_child=1
  else
    exec {watch_end}<> <(:)   # no FIFO: a pipe nobody writes, a sleep without a process
    watch_child=0
  fi
}

# watch_runner JOB PID: wait for PID (the `timeout` that runs a lesson's tests, started after
# watch_start) and return its status; meanwhile, every half second, and at once when the tests
# end (watch_end's end-of-file), find the test runner under it (the first process named
# test-runner down the line of first children: timeout, bwrap, the sandbox's bwrap, the runner)
# and, if it has stayed stopped (SIGSTOP from the code under test, which no process in the
# sandbox can undo) for 2 s, end the lesson's tests and leave JOB/runner-stopped. The runner's
# own watchdog cannot help: it is a thread of the stopped process. Without this, such a lesson
# held its lane until the time limit. (It woke every tenth of a second before the FIFO told it
# of the end: 1.6 s of CPU a student.)
watch_runner() {
  local job=$1 pid=$2 p first kids comm stat state stopped=0 tick= rc
  [ "$watch_child" -eq 0 ] || exec {watch_w}>&-
  while kill -0 "$pid" 2>/dev/null; do
    if read -r -t 0.5 -u "$watch_end" _; then
      # Something in the sandbox wrote on it (the tests' code can): wait all the same, on a pipe
      # nobody writes.
      [ -n "$tick" ] || exec {tick}<> <(:)
      read -r -t 0.5 -u "$tick" _
    else
      rc=$?
      [ "$rc" -gt 128 ] || break   # end of file: every holder of the write end has ended
    fi
    p=$pid first= state=
    for _ in 1 2 3 4 5; do   # (read, not $(<...): no fork of this shell at each tick)
      kids=
      { read -r kids <"/proc/$p/task/$p/children"; } 2>/dev/null
      p=${kids%% *}
      [ -n "$p" ] || break
      first=${first:-$p}
      comm=
      { read -r comm <"/proc/$p/comm"; } 2>/dev/null
      if [ "$comm" = test-runner ]; then
        stat=
        { read -r stat <"/proc/$p/stat"; } 2>/dev/null
        state=${stat##*) } state=${state%% *}
        break
      fi
    done
    # T only: 't' (a tracing stop) is also LeakSanitizer's, which stops every thread of the
    # runner with ptrace while it scans for leaks at the runner's exit, as long as that takes.
    if [ "$state" = T ]; then stopped=$((stopped + 1)); else stopped=0; fi
    if [ "$stopped" -ge 4 ]; then
      : >"$job/runner-stopped"
      kill -KILL "$first" 2>/dev/null
      break
    fi
  done
  exec {watch_end}<&-
  [ -z "$tick" ] || exec {tick}<&-
  wait "$pid" 2>/dev/null   # (no "Killed" line from bash for a runner ended here)
}

# check_objects DIR [FLAVOUR]: the exercise objects (FLAVOUR san, the tests', by default; opt, the
# program's) may not run code before main (constructors, IFUNC resolvers), interpose a library's
# symbol, or reach into Criterion or the proof. Returns 1 and sets objects_bad to the first
# problem found. One readelf for all the objects (sections, symbols, relocations), read by awk;
# the only table entries let through are AddressSanitizer's own (it registers an object's
# globals from .init_array.00099 and .fini_array.00099: one entry each, a function that calls
# __asan_* only, which one objdump for all the objects checks).
check_objects() {
  local objdir=$1 fl=${2:-san} f o objs=() found checks
  objects_bad=
  for f in ${exercise_of[$lesson_n]}; do
    case $f in *.c) ;; *) continue ;; esac
    o=$objdir/$fl/${f%.c}.o
    [ -f "$o" ] || { objects_bad="$f was not compiled"; return 1; }
    objs+=("$o")
  done
  [ ${#objs[@]} -gt 0 ] || return 0
  # (readelf names each file, "File: PATH", only when it reads more than one.)
  found=$(readelf -SsrW -- "${objs[@]}" 2>/dev/null | awk -v first="${objs[0]}" -v libsyms="$work/libsyms-$lesson_n" '
    function source(path,   s) { s = path; sub(/.*\//, "", s); sub(/\.o$/, ".c", s); return s }
    function bad(msg) { print "bad\t" msg; done = 1; exit }
    function tables_end(   sec) {   # the previous object: its constructor and destructor tables
      for (sec in tables) {
        if ((sec != ".init_array.00099" && sec != ".fini_array.00099") || entries[sec] != 1 || target[sec] !~ / \.text$/)
          bad(f " has code that runs before main or after it (section " sec ": a constructor or destructor)")
        split(target[sec], t, " "); sub(/^\+/, "", t[1])
        print "check\t" path "\t" sec "\t" t[1]
      }
      split("", tables); split("", entries); split("", target); part = ""
    }
    BEGIN { while ((getline l < libsyms) > 0) lib[l] = 1; path = first; f = source(path) }
    /^File: / { tables_end(); path = substr($0, 7); f = source(path); next }
    /^Section Headers:/ { part = "S"; next }
    /^Relocation section / { part = "R"; rs = $3; gsub(/\047/, "", rs); sub(/^\.rela?/, "", rs); next }
    /^Symbol table / { part = "Y"; next }
    part == "S" && match($0, /\.(init_array|fini_array|preinit_array|ctors|dtors)[^ ]*/) {
      sec = substr($0, RSTART, RLENGTH); tables[sec] = 1 }
    part == "R" && (rs in tables) && /R_X86_64_64|R_AARCH64_ABS64/ { entries[rs]++; target[rs] = $NF " " $(NF - 2) }
    part == "Y" && $4 == "IFUNC" { bad(f " defines an IFUNC (" $8 "), code that runs while the program loads") }
    part == "Y" && $7 == "UND" && $8 ~ /^(criterion_|cr_|bxf|nn_|__wrap_|__real_|kit_proof)/ {
      bad(f " uses " $8 ", a part of the test framework") }
    part == "Y" && $7 != "UND" && ($5 == "GLOBAL" || $5 == "WEAK") && $8 ~ /^__(asan|ubsan|lsan|sanitizer|interceptor)_/ {
      bad(f " defines " $8 ", a part of the sanitizers (it would replace theirs: UBSan\047s runtime is linked into the program)") }
    part == "Y" && $7 != "UND" && ($5 == "GLOBAL" || $5 == "WEAK") && ($8 in lib) {
      bad(f " defines " $8 ", which a library the tests use defines too (it would replace the library\047s)") }
    END { if (!done) tables_end() }')
  # (A problem ends awk's output: its last line.)
  case ${found##*$'\n'} in bad$'\t'*) objects_bad=${found##*$'\n'bad$'\t'}; objects_bad=${objects_bad#bad$'\t'}; return 1 ;; esac
  [ -n "$found" ] || return 0
  # Each entry's function, from its first instruction on (96 bytes at most, or to its ret): every
  # call or jump in it goes to one of AddressSanitizer's registration functions.
  checks=$(printf '%s\n' "$found" | awk -F'\t' '$1 == "check" { print $2 }' | sort -u)
  mapfile -t objs <<<"$checks"
  objects_bad=$(objdump -dr --section=.text -- "${objs[@]}" 2>/dev/null | awk -v checks="$found" '
    function hex(s,   i, v) { v = 0; s = tolower(s); for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
    function source(path,   s) { s = path; sub(/.*\//, "", s); sub(/\.o$/, ".c", s); return s }
    function fail(k) { print source(obj[k]) " has code that runs before main or after it (section " sec[k] ": a constructor or destructor)"; done = 1; exit }
    BEGIN {
      nc = split(checks, lines, "\n")
      for (i = 1; i <= nc; i++) { split(lines[i], w, "\t"); obj[i] = w[2]; sec[i] = w[3]; at[i] = hex(w[4]); state[i] = "wait" }
    }
    /:[ \t]+file format / { file = $0; sub(/:[ \t]+file format .*/, "", file); next }
    /^ +[0-9a-f]+:\t/ {
      a = $1; sub(/:$/, "", a); a = hex(a)
      for (k = 1; k <= nc; k++) {
        if (obj[k] != file || state[k] == "done") continue
        if (state[k] == "wait") { if (a != at[k]) continue; state[k] = "on"; want[k] = 0 }
        if (a >= at[k] + 96) { if (want[k]) fail(k); state[k] = "done"; continue }
        if (want[k]) fail(k)
        if ($0 ~ /\t(call|jmp|bnd jmp|notrack)/) want[k] = 1
        if ($0 ~ /\tret/) state[k] = "done"
      }
      next
    }
    /R_X86_64_(PLT32|PC32)/ {
      for (k = 1; k <= nc; k++) {
        if (obj[k] != file || state[k] != "on" || !want[k]) continue
        if ($NF !~ /^__asan_(init|version_mismatch_check_v[0-9]+|register_globals|unregister_globals)-0x4$/) fail(k)
        want[k] = 0
      }
    }
    END {
      # (An entry whose function was never found, or that ended waiting on a call: the same.)
      if (!done) for (k = 1; k <= nc; k++) if (state[k] == "wait" || want[k]) fail(k)
    }')
  [ -z "$objects_bad" ]
}

# add VAR B: VAR += B, whole or with the decimals a perf score has (bash's own arithmetic for
# whole numbers, the common case: four of these a lesson, and a fork costs 3 ms on a VM).
add() {
  local -n add_sum=$1
  if [[ $add_sum =~ ^(0|[1-9][0-9]{0,14})$ && $2 =~ ^(0|[1-9][0-9]{0,14})$ ]]; then add_sum=$((add_sum + $2))
  else add_sum=$(awk -v a="$add_sum" -v b="$2" 'BEGIN { printf "%.10g\n", a + b }'); fi
}

# perf_entry INDEX STATUS POINTS MAX DIAGNOSTIC: the perf component's line in class.csv and its
# test in results.json (sets perf_got).
perf_entry() {
  local index=$1 st=$2 pts=$3 pmax=$4 diag=$5
  perf_got=$pts
  printf '%s,%s,%s,%s,%s,%s,%s\n' "$key" "$lesson_n" perf::speed "$st" "$pts" "$pmax" "$(csv "$diag")" >>"$work/rows/$index.class"
  printf '{"name": %s, "score": %s, "max_score": %s, "status": "%s", "output": %s, "visibility": "visible"}\n' \
    "$(json "$lesson_n perf::speed")" "$pts" "$pmax" "$([ "$st" = pass ] && echo passed || echo failed)" \
    "$(json "$st: $diag")" >>"$work/rows/$index.json"
}

# perf_cmd DIR FILE: the command that runs DIR/prog with the lesson's PERF_ARGS (in a sandbox of
# its own, sharing only the grader's network namespace, where delayd waits; @URL@ is its
# address), NUL-separated in FILE. The reference and the student's program run alike.
perf_cmd() {
  local dir=$1 file=$2 a
  read -r -a a <<<"${perf_f[1]}"
  if [ "$sandbox" -eq 1 ]; then
    printf '%s\0' "${join_cg[@]}" "${as_box[@]}" "${bwrap_base[@]}" --share-net --ro-bind "$dir" /prog \
      --chdir /tmp --clearenv --setenv PATH /usr/local/bin:/usr/bin:/bin --setenv HOME /tmp \
      --setenv TMPDIR /tmp --setenv LANG C.UTF-8 -- /prog/prog --url @URL@ "${a[@]}" >"$file"
  else
    printf '%s\0' "$dir/prog" --url @URL@ "${a[@]}" >"$file"
  fi
}

# perf_lesson JOB INDEX: the reference and the submission's program, interleaved, against a
# fresh delayd each run (harness/course/perf.py); their entry in the rows.
perf_lesson() {
  local job=$1 index=$2 runner st pts pmax diag
  mapfile -d '' perf_f <"$work/perf-$lesson_n"   # points args peak full zero why mode n delay
  mkdir -p "$job/perf" "$job/pbin"
  # (In a folder of its own, like the reference's; the file make linked, never what a link names.)
  [ -f "$job_obj/opt/prog" ] && [ ! -L "$job_obj/opt/prog" ] && cp "$job_obj/opt/prog" "$job/pbin/prog"
  chmod -R a+rX "$job/pbin"
  perf_cmd "$work/ref-$lesson_n" "$job/ref.cmd"
  perf_cmd "$job/pbin" "$job/student.cmd"
  if [ "$perf_how" = netns ]; then runner=(unshare --net -- python3 harness/course/perf.py --netns --server-uid 65534)
  else runner=(python3 harness/course/perf.py); fi
  IFS=$'\t' read -r st pts pmax diag < <("${runner[@]}" --delayd "$base/bin/delayd" --ref "$job/ref.cmd" \
      --student "$job/student.cmd" --tmp "$job/perf" --log "$job/perf.log" --runs "$perf_runs" \
      --mode "${perf_f[6]}" --n "${perf_f[7]}" --delay "${perf_f[8]}" --peak "${perf_f[2]}" \
      --points "${perf_f[0]}" --full "${perf_f[3]}" --zero "${perf_f[4]}" --zero-why "${perf_f[5]}" 2>"$job/perf.err")
  if [ -z "$st" ] || [ -z "$pts" ]; then
    say "[perf-grader-failed] $key, lesson $lesson_n: the perf runner failed: $(tail -n 3 "$job/perf.err" | tr '\n' ' ')"
    st=error pts=0 diag="[perf-grader-failed] the grader could not time the program (its fault, not yours); the perf points need a new grading."
  elif [ "$st" = error ]; then
    say "$key, lesson $lesson_n: $diag"
  fi
  perf_entry "$index" "$st" "$pts" "${perf_of[$lesson_n]}" "$diag"
}

slot=0
lane=0
grade_one() {   # grade_one INDEX KEY FOLDER ROOT: the student's lines in $work/rows/INDEX.*
  local index=$1 key=$2 folder=$3 root=$4 name n dir total=0 max=0 f job why line got of nop logs
  local row=() started=$SECONDS
  local score=(awk -v key="$key" -v classf="$work/rows/$index.class" -v jsonf="$work/rows/$index.json" -f harness/course/grade-score.awk)
  mkdir -p "$out/$key"
  for name in $lessons; do
    n=${name%%-*}
    lesson_n=$n lesson_name=$name
    slot=$((slot + 1))
    job=$work/job-$lane-$slot
    objdir "$job"
    # (The grader's own processes count: a class of 100 grades 1,300 lessons, and each process
    # started here costs 3 to 5 ms on a VM. One mkdir, one stat and one cp a lesson.)
    mkdir -p -m 755 "$job" "$job/sub" "$job/vdir"
    if [ -z "$root" ]; then dir=$PWD/lessons/$name; else lesson_dir "$root" "$name"; fi
    why=
    if [ -n "$dir" ]; then
      # Only the declared exercise files, as plain files (a symbolic link is not handed in) of
      # at most 1 MB.
      local plain=() sizes=() i
      for f in ${exercise_of[$n]}; do
        if [ -L "$dir/$f" ]; then why="$f is a symbolic link; hand in the file itself"
        elif [ -f "$dir/$f" ]; then plain+=("$dir/$f"); fi
      done
      if [ ${#plain[@]} -gt 0 ]; then
        mapfile -t sizes < <(stat -c %s -- "${plain[@]}")
        for i in "${!plain[@]}"; do
          [ "${sizes[$i]:-0}" -le 1048576 ] || why="${plain[$i]##*/} is larger than 1 MB"
        done
        # (Readable in the sandbox whatever their mode was: install, not cp.)
        [ -n "$why" ] || install -m 644 "${plain[@]}" "$job/sub/"
      fi
    fi
    # The proof channel's nonce, 192 random bits (bash's SRANDOM: the kernel's getrandom).
    if (( BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] >= 501 )); then
      printf -v nonce '%08x' "$SRANDOM" "$SRANDOM" "$SRANDOM" "$SRANDOM" "$SRANDOM" "$SRANDOM"
    else
      nonce=$(od -An -N24 -tx1 /dev/urandom); nonce=${nonce//[$' \n']/}
    fi
    printf '%s\n' "$nonce" >"$job/nonce"
    : >"$job/build.log"; : >"$job/test.log"; : >"$job/proofs"; : >"$job/tap"
    [ "$root_run" -eq 1 ] && [ "$sandbox" -eq 1 ] && chown -R "${lane_uid[$lane]}:${lane_uid[$lane]}" "$job/vdir" "$job/build.log" "$job/test.log" "$job/proofs" "$job/tap"
    local sc=("${score[@]}" -v lesson="$n" -v tests="${tests_of[$n]//$'\n'/ }" -v points="${points_of[$n]}" -v visfile="$work/vis-$n")
    nop=   # why the program was not timed (its perf entry's status and diagnostic)
    if [ -n "$why" ]; then
      read -r got of < <(GRADE_DIAG="[not-handed-in] $why." "${sc[@]}" -v status=rejected </dev/null)
      nop="rejected	[not-handed-in] $why."
    elif [ -n "$root" ] && [ -z "$dir" ]; then
      read -r got of < <(GRADE_DIAG="no files were handed in for lesson $n" "${sc[@]}" -v status=missing </dev/null)
      nop="missing	no files were handed in for lesson $n"
    elif ! build_lesson "$job:build-tests" >>"$job/build.log" 2>&1; then
      line=$(grep -a -m1 -E 'error:|\[build-timeout\]' "$job/build.log" | cut -c1-300)
      read -r got of < <(GRADE_DIAG="the code does not compile: ${line:-see lesson-$n.build.log}" "${sc[@]}" -v status=no-build </dev/null)
      nop="no-build	the code does not compile, so there is no program to time."
    elif ! check_objects "$job_obj"; then
      why=$objects_bad
      read -r got of < <(GRADE_DIAG="[forbidden-code] $why. The grader runs only code the tests call." "${sc[@]}" -v status=rejected </dev/null)
      nop="rejected	[forbidden-code] $why."
    else
      run_lesson "$job" 1
      # A test that could not set up its own scene ([test-waited], [test-premise]: the machine
      # too busy) says nothing of the student's code: the lesson runs once more, whole, and only
      # that round counts. The first round's log is kept beside it.
      if kit_scene_unset "$job/tap"; then
        cp "$job/test.log" "$job/test.first.log"
        : >"$job/test.log"; : >"$job/proofs"; : >"$job/tap"
        say "[rerun] $key, lesson $n: a test could not set up its scene (the machine too busy?); the lesson runs again and that round counts (the first: lesson-$n.first-round.log)"
        run_lesson "$job" 2
        cap "$job/test.first.log" "$out/$key/lesson-$n.first-round.log"
      fi
      # A fork of the runner that never reached its test ("kit-proof NONCE spawn-stuck": a lock
      # of the sanitizer's allocator copied by fork, harness/kit/proof.c) ended the runner early,
      # through no fault of the code: the lesson runs again, twice at most, and the last round
      # counts. Only the runner writes on the proof channel, so the code cannot ask for this.
      spawn_reruns=0
      while [ "$spawn_reruns" -lt 2 ] && grep -aqx "kit-proof $nonce spawn-stuck" "$job/proofs"; do
        spawn_reruns=$((spawn_reruns + 1))
        cp "$job/test.log" "$job/test.stuck-$spawn_reruns.log"
        : >"$job/test.log"; : >"$job/proofs"; : >"$job/tap"
        say "[rerun] $key, lesson $n: the test runner's fork of a test process stuck on a lock of the sanitizer's allocator (the kit's tools, not the code); the lesson runs again and that round counts (the stuck round: lesson-$n.stuck-round-$spawn_reruns.log)"
        run_lesson "$job" $((run_round + 1))
        cap "$job/test.stuck-$spawn_reruns.log" "$out/$key/lesson-$n.stuck-round-$spawn_reruns.log"
      done
      # The lesson's time limit struck: the tests it left unreported did not crash, they were
      # stopped (Criterion ends a test that runs too long itself, so this is a process that
      # stopped itself, SIGSTOP, or a runner that stalled).
      unreported= stuck=
      [ "$run_rc" -eq 124 ] || [ "$run_rc" -eq 137 ] &&
        unreported="[time-limit] this test had not reported when the lesson's tests reached the grader's time limit ($test_limit s) and were stopped: does your code stop or suspend its own process (SIGSTOP, raise), or wait for something that never comes?"
      [ -f "$job/runner-stopped" ] &&
        unreported="[runner-stopped] this test had not reported when the test runner itself was stopped (SIGSTOP) and stayed stopped, so the grader ended the lesson's tests: does your code stop its parent process (kill(getppid(), SIGSTOP)) or its process group?"
      if grep -aqx "kit-proof $nonce spawn-stuck" "$job/proofs"; then
        stuck="[runner-fork-stuck] the test runner could not start or finish this test: its fork of a test process stuck on a lock of the sanitizer's allocator, in every round the grader ran. That is a fault of the kit's tools, not of your code: ask for a regrade."
        unreported=$stuck
        say "[runner-fork-stuck] $key, lesson $n: the test runner's forks stuck in all $((spawn_reruns + 1)) rounds; the tests it could not run score 0 with a diagnostic that asks for a regrade."
      fi
      read -r got of < <(kit_verdicts tsv "$job/tap" "${tests_of[$n]//$'\n'/ }" "$unreported" |
                         "${sc[@]}" -v proofs="$job/proofs" -v nonce="$nonce" -v stuck="$stuck")
      # Correctness first: a program that passes none of the lesson's tests is not timed.
      [ "${got:-0}" != 0 ] || nop="fail	no test of lesson $n passed; speed counts only for a program that passes some of them."
    fi
    # The performance component: its own entry, after the tests'.
    if [ -n "${perf_of[$n]:-}" ]; then
      # (The program is built, and its objects checked, only for a submission that is timed.)
      if [ -z "$nop" ] && ! build_lesson "$job:build" >>"$job/build.log" 2>&1; then
        nop="no-build	the lesson program does not build (see lesson-$n.build.log)."
      elif [ -z "$nop" ] && ! check_objects "$job_obj" opt; then
        why=$objects_bad
        nop="rejected	[forbidden-code] $why."
      fi
      if [ -z "$nop" ]; then
        perf_lesson "$job" "$index"
        [ -s "$job/perf.log" ] && cap "$job/perf.log" "$out/$key/lesson-$n.perf.log"
      else
        perf_entry "$index" "${nop%%	*}" 0 "${perf_of[$n]}" "[perf] not timed: ${nop#*	}"
      fi
      got=${got:-0} of=${of:-0}
      add got "$perf_got"; add of "${perf_of[$n]}"
    fi
    logs=()
    [ -s "$job/build.log" ] && logs+=("$job/build.log" "$out/$key/lesson-$n.build.log")
    [ -s "$job/test.log" ] && logs+=("$job/test.log" "$out/$key/lesson-$n.log")
    [ -s "$job/tap" ] && logs+=("$job/tap" "$out/$key/lesson-$n.tap")
    cap "${logs[@]}"
    [ "$sandbox" -eq 1 ] || rm -rf "$job_obj"
    rm -rf "$job"
    row+=("${got:-0}/${of:-0}")
    add total "${got:-0}"; add max "${of:-0}"
  done
  {
    printf '{"score": %s, "output": %s, "tests": [\n' "$total" "$(json "submission: $folder")"
    [ -f "$work/rows/$index.json" ] && sed '$!s/$/,/; s/^/  /' "$work/rows/$index.json"
    printf ']}\n'
  } >"$out/$key/results.json"
  { printf '%s' "$key"; printf ',%s' "${row[@]}"; printf ',%s/%s,%s\n' "$total" "$max" "$(csv "$folder")"; } >"$work/rows/$index.summary"
  printf '%-20s' "$key"; printf ' %9s' "${row[@]}" "$total/$max"; printf '  (%s s)\n' "$((SECONDS - started))"
}

# build_lesson JOB: make's build of the tests in the sandbox, FROM=/sub (through the environment:
# make never sees a student's folder name).
build_lesson() {   # build_lesson JOB:GOAL: GOAL build-tests, or build for the program too
  local job=${1%:*} goal=${1##*:} rc
  if [ "$sandbox" -eq 1 ]; then
    box "$job" "$build_limit" build make -s --no-print-directory "lesson-$lesson_n" "$goal"
  else
    (cd "$kit" && BUILD=$base FROM=$job/sub COMPDB_LISTING=1 timeout --kill-after=5 "$build_limit" nice -n "$box_nice" \
       make -s --no-print-directory "lesson-$lesson_n" "$goal")
  fi
  rc=$?
  [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && echo "[build-timeout] the build took longer than $build_limit s and was stopped."
  return $rc
}

# objdir JOB: sets job_obj, where make puts the submission's objects (its VARIANT folder for FROM).
objdir() {
  if [ "$sandbox" -eq 1 ]; then job_obj=$1/vdir
  else job_obj=$base/$lesson_name/student-from${1//\//_}_sub; fi
}

# run_lesson JOB ROUND: the tests, with the proof channel: fd 3 (only the runner holds it), the
# TAP report on fd 4, the log on 1 and 2, each a file outside the sandbox. ROUND (1, or 2 for a
# rerun) reaches the tests as KIT_RUN_ROUND.
run_lesson() {
  local job=$1 bin="build/$lesson_name/student-from_sub/san/test-runner" tag hang=()
  run_round=$2
  rm -f "$job/runner-stopped"
  if [ "$sandbox" -eq 1 ]; then
    box "$job" "$test_limit" test "/$bin" --jobs=2 --tap=/dev/fd/4 \
      >"$job/test.log" 2>&1 3>>"$job/proofs" 4>>"$job/tap"
    run_rc=$?
  else
    mkdir -p "$job/proof" && cp "$job/nonce" "$job/proof/nonce"
    tag=grade.$$.$RANDOM
    [ "$run_round" -le "$fork_hang" ] && hang=(KIT_PROOF_FORK_HANG=1 KIT_PROOF_SPAWN_MS=1500)
    watch_start
    env "${hang[@]}" KIT_RUN_TAG=$tag KIT_DELAYD=$base/bin/delayd KIT_PROOF_DIR=$job/proof KIT_PROOF_FD=3 LESSON=$lesson_n KIT_RUN_ROUND=$run_round \
      ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} timeout --kill-after=5 "$test_limit" nice -n "$box_nice" \
      "$job_obj/san/test-runner" --jobs=2 --tap="$job/tap" >"$job/test.log" 2>&1 3>>"$job/proofs" {watch_end}<&- &
    watch_runner "$job" $!
    run_rc=$?
    kit_reap "$tag"
  fi
}

# A student's key: the folder's name when it is plain, else its plain characters and a digest of
# the whole name (two folders never share a key; `Doe, Jane` is Doe__Jane-1a2b3c4d).
student_key() {
  local s=$1 k
  k=${s//[^A-Za-z0-9_.@-]/_}
  k=${k#.}
  if [ "$k" != "$1" ] || [ -z "$k" ]; then
    k="${k:0:40}-$(printf '%s' "$1" | sha256sum | cut -c1-8)"
  fi
  printf '%s\n' "$k"
}

{ printf 'student'; for name in $lessons; do printf ',%s' "${name%%-*}"; done; echo ",total,folder"; } >"$out/summary.csv"
printf '%-20s' student; for name in $lessons; do printf ' %9s' "${name%%-*}"; done; printf ' %9s\n' total
declare -A used
keys=() folders=() roots=()
if [ -z "$subs" ]; then
  keys=("$(student_key "${USER:-you}")") folders=("${USER:-you}") roots=("")
else
  subs_abs=$(cd -- "$subs" && pwd)
  for d in "$subs"/*/ "$subs"/.[!.]*/; do
    [ -d "$d" ] && [ ! -L "${d%/}" ] || continue
    s=${d%/}; s=${s##*/}
    key=$(student_key "$s")
    # Two names with one key (which needs a digest collision, or a folder named like another's
    # key): the later gets a number, and both are graded.
    k=$key; i=2
    while [ -n "${used[$k]:-}" ]; do k=$key-$i; i=$((i + 1)); done
    [ "$k" = "$key" ] || say "[key-collision] $s and ${used[$key]} would share the key $key; $s is graded as $k."
    key=$k
    used[$key]=$s
    keys+=("$key") folders+=("$s") roots+=("$subs_abs/$s")
  done
fi
mkdir -p "$work/rows"
# The lanes, GRADE_JOBS of them; rows are put back in the class's order.
[ "${#keys[@]}" -lt "$jobs" ] && jobs=${#keys[@]}
# A lane takes the next student when it is free (a queue, not a fixed share: one student's
# time limit does not hold up the others of a lane).
echo 0 >"$work/next"
next_student() {
  local i
  { flock 8; i=$(<"$work/next"); echo $((i + 1)) >"$work/next"; } 8>>"$work/next.lock"
  [ "$i" -lt "${#keys[@]}" ] && printf '%s\n' "$i"
}
lane_pids=()
for ((lane = 0; lane < jobs; lane++)); do
  (
    lane_box "$lane"
    lane_cgroups "$lane"
    watch_fifo=$work/ended-$lane
    mkfifo -m 600 "$watch_fifo" 2>/dev/null || watch_fifo=
    # Only this lane's lock stays open here (the sandbox gets none).
    for fd in "${lane_lock[@]}"; do [ "$fd" = "$my_lock" ] || exec {fd}<&-; done
    while i=$(next_student); do
      grade_one "$i" "${keys[$i]}" "${folders[$i]}" "${roots[$i]}"
    done
  ) &
  lane_pids+=($!)
done
for p in "${lane_pids[@]}"; do wait "$p"; done
for ((i = 0; i < ${#keys[@]}; i++)); do
  if [ -f "$work/rows/$i.summary" ]; then
    cat "$work/rows/$i.class" >>"$out/class.csv"
    cat "$work/rows/$i.summary" >>"$out/summary.csv"
  else
    say "[grade-lost] ${folders[$i]} was not graded (the grader itself failed); see above."
    lost=1
  fi
done
[ -z "${lost:-}" ] || exit 1

# The class at a glance: each student's total as a share of the points, and, where lessons have
# a performance component, the share of its points beside it.
if [ "$(wc -l <"$out/summary.csv")" -gt 1 ]; then
  awk -F, 'NR == FNR { if (FNR > 1 && $3 == "perf::speed") { pg[$1] += $5; pm[$1] += $6; any = 1 } next }
           FNR > 1 { split($(NF - 1), t, "/"); printf "%s %.1f %s\n", $1, t[2] ? 100 * t[1] / t[2] : 0,
                     any ? sprintf("%.1f", pm[$1] ? 100 * pg[$1] / pm[$1] : 0) : "" }' \
    "$out/class.csv" "$out/summary.csv" >"$out/totals.dat"
  if [ "$(awk '{ print NF; exit }' "$out/totals.dat")" -eq 3 ]; then
    plot="plot f using (\$0 - 0.2):2:xtic(1) with boxes lc rgb '#3b8a55' title 'all points', f using (\$0 + 0.2):3 with boxes lc rgb '#3b6ea8' title 'performance points'"
    width=0.4 key="set key top right"
  else
    plot="plot f using 0:2:xtic(1) with boxes lc rgb '#3b8a55'" width=0.6 key="unset key"
  fi
  GRADE_PNG=$out/class.png GRADE_DAT=$out/totals.dat gnuplot -e "set terminal pngcairo size 900,500 noenhanced; set output system('printf %s \"\$GRADE_PNG\"');
              set title 'Class results (share of points)'; set ylabel '%'; set yrange [0:115];
              set style fill solid 0.7; set boxwidth $width; set xtics rotate by -45; $key;
              f = system('printf %s \"\$GRADE_DAT\"'); $plot" 2>/dev/null
fi
echo "grades: $out/summary.csv (a line a student), $out/class.csv (a line a test), $out/*/results.json (Gradescope), $out/class.png"
