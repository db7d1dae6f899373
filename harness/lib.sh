# Shell helpers shared by the harness scripts (sourced, not run): a private delayd, and running
# a Criterion test binary with its outcome counted.

KIT_DELAYD=${KIT_DELAYD:-build/bin/delayd}
KIT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kit.XXXXXX")
SERVER_PID=
SERVER_URL=

kit_cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=
  fi
  rm -rf "$KIT_TMP"
}
trap kit_cleanup EXIT
trap 'exit 130' INT TERM

# kit_start_server [delayd flags...]: start a private server on a free port; sets SERVER_URL.
kit_start_server() {
  "$KIT_DELAYD" --host 127.0.0.1 --port 0 "$@" >"$KIT_TMP/server.out" 2>"$KIT_TMP/server.err" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    SERVER_URL=$(grep -o 'http://[0-9.:]*' "$KIT_TMP/server.out" 2>/dev/null | head -n 1)
    [ -n "$SERVER_URL" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "kit: the test server ($KIT_DELAYD) did not start:" >&2
  cat "$KIT_TMP/server.err" >&2
  return 1
}

# kit_run_tests BIN LOG [criterion flags...]: run a test binary with an overall time limit,
# output to LOG. Sets TESTED PASSING FAILING CRASHING TIMEDOUT and SYNTHESIS (1 when Criterion
# printed its summary, i.e. the runner itself ended cleanly). Returns the binary's exit code.
kit_run_tests() {
  local bin=$1 log=$2 rc line
  shift 2
  KIT_DELAYD=$KIT_DELAYD ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    timeout --kill-after=5 "${KIT_SUITE_LIMIT:-240}" "$bin" --jobs=2 "$@" >"$log" 2>&1
  rc=$?
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
