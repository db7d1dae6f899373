# Shell helpers shared by the harness scripts (sourced, not run): a private delayd, a lesson's
# metadata, a program's key=value row, and running a Criterion test binary with its outcome
# counted. Every path comes from the environment (make exports BUILD and KIT_DELAYD), so
# `make BUILD=dir ...` works for every script.

BUILD=${BUILD:-build}
KIT_DELAYD=${KIT_DELAYD:-$BUILD/bin/delayd}
KIT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kit.XXXXXX")
SERVER_PID=
SERVER_URL=

# kit_stop_server: stop the server kit_start_server started, if any.
kit_stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=
  fi
}

kit_cleanup() {
  kit_stop_server
  rm -rf "$KIT_TMP"
}
trap kit_cleanup EXIT
trap 'exit 130' INT TERM

# kit_start_server [delayd flags...]: start a private delayd on a free port of 127.0.0.1 and wait
# (up to 5 s) until it says where it listens. Sets SERVER_URL and SERVER_PID; kit_cleanup (on
# exit) stops it. The server's output is in $KIT_TMP/server.out and server.err.
kit_start_server() {
  "$KIT_DELAYD" --host 127.0.0.1 --port 0 "$@" >"$KIT_TMP/server.out" 2>"$KIT_TMP/server.err" &
  SERVER_PID=$!
  SERVER_URL=
  for _ in $(seq 100); do
    SERVER_URL=$(sed -n '1s|^delayd listening on \(http://[0-9.]*:[0-9]*\).*|\1|p' "$KIT_TMP/server.out" 2>/dev/null)
    [ -n "$SERVER_URL" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "[server-not-started] the test server $KIT_DELAYD did not say where it listens within 5 s;" \
       "its output follows. Was it built (make $KIT_DELAYD)?" >&2
  cat "$KIT_TMP/server.out" "$KIT_TMP/server.err" >&2
  kit_stop_server
  return 1
}

# kit_target: where a lesson program sends its requests, for `run` and `bench`. URL=BASE (a
# server of your own) is used as it is; otherwise a private delayd is started. URLS=FILE (one URL
# a line) is passed as --urls, for the programs that take it (their --help says). Sets
# TARGET_ARGS (the program's arguments naming it) and prints one line saying which server it is.
kit_target() {
  local prog=$1
  if [ -n "${URLS:-}" ]; then
    [ -r "$URLS" ] || { echo "[urls-file] URLS=$URLS: no such file (or not readable); give a file with one URL a line." >&2; return 1; }
    "$prog" --help 2>/dev/null | grep -q -- '--urls' || {
      echo "[urls-unsupported] lesson $LESSON's program does not take a list of URLs (see $prog --help); use URL=BASE instead." >&2; return 1; }
    TARGET_ARGS=(--urls "$(realpath "$URLS")")
    echo "server: the URLs listed in $URLS (yours; the server's peak is unknown)"
    return 0
  fi
  if [ -n "${URL:-}" ]; then
    case $URL in http://*|https://*) ;; *) echo "[url] URL=$URL should start with http:// or https://" >&2; return 1 ;; esac
    TARGET_ARGS=(--url "$URL")
    echo "server: $URL (yours: its peak is reported only if it is a delayd)"
    return 0
  fi
  kit_start_server || return 1
  TARGET_ARGS=(--url "$SERVER_URL")
  echo "server: $SERVER_URL (the kit's delayd, private to this run)"
}

# kit_field KEY ROW: print the value of KEY in a program's row of key=value pairs ("mode=conc
# n=8 wall_s=0.2 ..."); returns 1, printing nothing, when the row has no KEY.
kit_field() {
  local pair pairs
  read -r -a pairs <<<"$2"
  for pair in "${pairs[@]}"; do
    if [ "${pair%%=*}" = "$1" ]; then
      printf '%s\n' "${pair#*=}"
      return 0
    fi
  done
  return 1
}

# kit_vars [NN] [make variables...]: load the course's metadata (BUILD, DELAYD, LESSONS,
# HARNESS_TESTS, ...) and, given a lesson number, that lesson's (TITLE, EXERCISE, TEST_BIN,
# POINTS, ...) into this shell, from `make vars` (harness/README.md lists them).
kit_vars() {
  local out goal=()
  if [ $# -gt 0 ] && [[ $1 != *=* ]]; then
    goal=("lesson-$1")
    shift
  fi
  out=$(make -s --no-print-directory "${goal[@]}" "$@" vars) || return 1
  eval "$out"
}

# crash_excerpt LOG: the sanitizer's report in a log of one test: its error line, the frames in
# the kit's or the student's code (five at most), its summary, and the lesson's own word on it
# when the test printed one as the process died (a line that starts with a [diagnostic-id],
# after the summary: lesson 09's kit_on_asan_death); lines joined by \037 for tap.awk.
crash_excerpt() {
  awk '/^==[0-9]+==ERROR|runtime error:/ && !err { err = 1; print; next }
       err == 1 && /^ +#[0-9]+ / { frames = 1; if ($0 !~ /libsanitizer|criterion|libc_start|sysdeps\/|_start / && shown++ < 5) print; next }
       err == 1 && /^ *$/ && frames { err = 2 }
       /^SUMMARY: / && !summary { print; summary = 1; next }
       summary && /^\[[a-z0-9-]+\] / { print; exit }' "$1" | head -n 8 | sed 's/^ *//' | paste -s -d $'\037'
}

# kit_run_tests BIN LOG [criterion flags...]: run a test binary with an overall time limit,
# output to LOG. Sets TESTED PASSING FAILING CRASHING TIMEDOUT and SYNTHESIS (1 when Criterion
# printed its summary, i.e. the runner itself ended cleanly). Returns the binary's exit code.
# With KIT_STOP_AT=TEXT, the run is stopped as soon as TEXT appears in LOG (make check stops a
# known mistake's run at its diagnostic: the rest of the run could only say more of the same);
# STOPPED is then 1 and the exit code that of the killed runner.
kit_run_tests() {
  local bin=$1 log=$2 rc line tag pid
  shift 2
  tag=$$.$BASHPID.$RANDOM.$RANDOM
  STOPPED=0
  if [ -z "${KIT_STOP_AT:-}" ]; then
    # (The braces keep bash's own "Killed" line, after a runner stopped by timeout, off stderr.)
    { KIT_RUN_TAG=$tag KIT_DELAYD=$KIT_DELAYD ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
        timeout --kill-after=5 "${KIT_SUITE_LIMIT:-240}" "$bin" --jobs=2 "$@" >"$log" 2>&1; } 2>/dev/null
    rc=$?
  else
    # In the background (which a script's Ctrl+C does not reach: only make check does this);
    # the braces keep bash's job notices ("Aborted", "Killed") off stderr.
    {
    : >"$log"
    KIT_RUN_TAG=$tag KIT_DELAYD=$KIT_DELAYD ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
      timeout --kill-after=5 "${KIT_SUITE_LIMIT:-240}" "$bin" --jobs=2 "$@" >"$log" 2>&1 &
    pid=$!
    # (Asked once in a shell: a check unit runs a dozen of these.)
    if [ -z "${KIT_GNU_TAIL:-}" ]; then
      KIT_GNU_TAIL=0
      tail --version 2>/dev/null | grep -q GNU && KIT_GNU_TAIL=1
    fi
    if [ "$KIT_GNU_TAIL" = 1 ]; then
      # One reader for the whole run: GNU tail follows the log (inotify) and ends with the
      # runner; grep stops at the text and ends the run, and the reader's status says whether
      # it did. (A grep and a sleep every tenth of a second cost about 12 ms of CPU a round on
      # a VM where a fork is dear.)
      tail -s 0.1 -n +1 -f --pid="$pid" -- "$log" 2>/dev/null |
        { grep -aqF -- "$KIT_STOP_AT" || exit 1; kit_reap "$tag"; cat >/dev/null; exit 0; }
      [ "${PIPESTATUS[1]}" -eq 0 ] && STOPPED=1
    else
      while kill -0 "$pid" 2>/dev/null; do
        if grep -aqF -- "$KIT_STOP_AT" "$log"; then
          STOPPED=1
          kit_reap "$tag"
          break
        fi
        sleep 0.1
      done
    fi
    wait "$pid"
    rc=$?
    } 2>/dev/null
  fi
  kit_reap "$tag"
  line=$(grep -a 'Synthesis: Tested:' "$log" | tail -n 1)
  SYNTHESIS=0; TESTED=0; PASSING=0; FAILING=0; CRASHING=0
  if [ -n "$line" ]; then
    SYNTHESIS=1
    TESTED=$(sed -E 's/.*Tested: *([0-9]+).*/\1/' <<<"$line")
    PASSING=$(sed -E 's/.*Passing: *([0-9]+).*/\1/' <<<"$line")
    FAILING=$(sed -E 's/.*Failing: *([0-9]+).*/\1/' <<<"$line")
    CRASHING=$(sed -E 's/.*Crashing: *([0-9]+).*/\1/' <<<"$line")
  fi
  TIMEDOUT=$(grep -ac 'Timed out' "$log")
  return $rc
}

# kit_reap TAG: kill what is left of a run whose environment carried KIT_RUN_TAG=TAG. Criterion's
# workers live in process groups of their own, so when `timeout` stops a runner they survive
# it, reparented to init, and some spin; the tag they inherited still finds them (one grep over
# /proc, Linux only; elsewhere it finds nothing). A runner killed here leaves its socket,
# /tmp/criterion_PID.sock (Criterion removes it only when the runner ends by itself): it goes
# too, or every stopped run of make check would leave one behind.
kit_reap() {
  local f pid
  for f in $(grep -lzx "KIT_RUN_TAG=$1" /proc/[0-9]*/environ 2>/dev/null); do
    pid=${f#/proc/}; pid=${pid%/environ}
    kill -KILL "$pid" 2>/dev/null
    f=/tmp/criterion_$pid.sock
    if [ -S "$f" ] && [ -O "$f" ]; then rm -f "$f"; fi
  done
  return 0
}

# kit_verdicts FORMAT TAP [TESTS]: each test's verdict from a Criterion TAP report, worded by
# harness/lesson/tap.awk (FORMAT tsv: STATUS, SUITE::TEST and the diagnostic, tab-separated;
# report: the lines `make lesson-NN test` prints). TESTS (suite::test names, blank-separated)
# adds the tests the report lacks, as crashes.
# kit_scene_unset FILE: whether a test in this log or report says it could not set up its own
# scene ([test-waited], [test-premise]: the machine too busy, never the code under test). The
# grader and make check then run the tests once more and count that round only.
kit_scene_unset() {
  grep -aqE '\[test-(waited|premise)\]' "$1"
}

kit_verdicts() {
  local tap=$2
  [ -f "$tap" ] || tap=/dev/null
  awk -v format="$1" -v tests="${3:-}" -v missing="${4:-}" -f harness/lesson/tap.awk "$tap"
}

# kit_machine: one line naming the machine, for the headers of result files.
kit_machine() {
  local cpu
  cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')
  echo "$(uname -srm), ${cpu:-unknown CPU}, $(nproc 2>/dev/null || echo '?') cores"
}

# kit_commit: the commit the results came from, marked when the tree has changes.
kit_commit() {
  local c
  c=$(git rev-parse --short HEAD 2>/dev/null) || { echo "no git"; return; }
  git diff --quiet HEAD 2>/dev/null || c="$c (with uncommitted changes)"
  echo "$c"
}

# kill_tree PID: stop a process and every process below it, children first (a script's
# background job: its make, the scripts make runs, their programs).
kill_tree() { local c; for c in $(pgrep -P "$1" 2>/dev/null); do kill_tree "$c"; done; kill "$1" 2>/dev/null; }
