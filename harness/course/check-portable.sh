#!/usr/bin/env bash
# `make check-portable`: the code written for macOS and other systems without epoll, built and
# tested here on Linux. A PORTABLE=1 build (harness/README.md) swaps every Linux-only path for
# the one macOS takes: the runtime's poll() poller and ucontext switch, a pipe instead of an
# eventfd (the runtime's thread pool, delayd's timer thread), delayd's poll() hang-up watch,
# mprotect() guard pages, /dev/fd. It runs:
#   - the harness's own test binaries (the runtime, delayd, the kit) against that build, with
#     the portable delayd as their server;
#   - every lesson's reference solution: its tests, then its program in each mode.
# What it cannot prove: Apple's linker (no -Wl,--wrap, which the tests' call counting needs) and
# Apple's libc. README.md, "Where the kit runs", keeps that list.
set -uo pipefail
. harness/lib.sh
pb=${BUILD:-build}/portable
kit_vars BUILD="$pb" PORTABLE=1 || { echo "[no-metadata] make vars failed" >&2; exit 1; }
export KIT_DELAYD=$DELAYD
mkdir -p "$pb/check"
passed=0
failed=0
say() { printf '%s\n' "$*"; }
m() { make -s --no-print-directory BUILD="$pb" PORTABLE=1 "$@"; }

run() {
  local label=$1 bin=$2 log
  log=$pb/check/${label//[ \/]/-}.log
  kit_run_tests "$bin" "$log"
  if [ "$SYNTHESIS" -eq 1 ] && [ "$PASSING" -eq "$TESTED" ] && [ "$TESTED" -gt 0 ]; then
    say "PASS  portable $label: all $TESTED tests pass"; passed=$((passed + TESTED))
  else
    say "FAIL  portable $label: $PASSING of $TESTED pass (see $log)"
    grep -a -E '^\[----\].*(\[|Assert|Timed|signal)' "$log" | head -n 5 | sed 's/^/      /'
    passed=$((passed + PASSING)); failed=$((failed + (TESTED > PASSING ? TESTED - PASSING : 1)))
  fi
}

# The build must really be the portable one: no epoll, eventfd or madvise guard anywhere in it.
if ! m all $HARNESS_TESTS >"$pb/check/build.log" 2>&1; then
  say "FAIL  portable build: the harness does not compile with PORTABLE=1 (see $pb/check/build.log)"
  tail -n 15 "$pb/check/build.log" | sed 's/^/      /'
  say "$passed passed, $((failed + 1)) failed"
  exit 1
fi
linux_only=$(nm -u "$DELAYD" "$pb"/aio/opt/libaio.a 2>/dev/null |
  grep -E -o '\b(epoll_[a-z_]+|eventfd|madvise|prctl|accept4)\b' | sort -u | tr '\n' ' ')
if [ -z "$linux_only" ]; then
  say "PASS  portable build: the runtime and delayd build with PORTABLE=1 and call nothing Linux-only (no epoll, eventfd, madvise, prctl)"
  passed=$((passed + 1))
else
  say "FAIL  portable build: it still calls $linux_only(a Linux-only path not guarded by KIT_PORTABLE)"
  failed=$((failed + 1))
fi

for bin in $HARNESS_TESTS; do
  case $bin in *-poll) continue ;; esac   # the same poll build again, when PORTABLE=1
  run "${bin#"$pb"/}" "$bin"
done

kit_start_server || { say "FAIL  portable: its delayd did not start"; say "$passed passed, $((failed + 1)) failed"; exit 1; }
for name in $LESSONS; do
  n=${name%%-*}
  if ! m lesson-$n build SOLUTION=1 >"$pb/check/$name-build.log" 2>&1; then
    say "FAIL  portable lesson $n: the solution does not build (see $pb/check/$name-build.log)"
    failed=$((failed + 1)); continue
  fi
  kit_vars "$n" BUILD="$pb" PORTABLE=1 SOLUTION=1
  run "lesson $n solution" "$TEST_BIN"
  args=$(sed -E 's/--mode [^ ]+//' <<<"$RUN_ARGS")  # make lesson-NN run's arguments, every mode
  for mode in $BENCH_MODES; do
    # shellcheck disable=SC2086  # a list of options
    row=$(timeout -k 5 60 "$PROG" --url "$SERVER_URL" --mode "$mode" $args 2>"$KIT_TMP/prog.err")
    rc=$?
    if [ "$rc" -eq 0 ] && kit_field wall_s "$row" >/dev/null && kit_field theory_s "$row" >/dev/null; then
      say "PASS  portable lesson $n program --mode $mode: $row"; passed=$((passed + 1))
    else
      say "FAIL  portable lesson $n program --mode $mode: exit $rc, row '${row}'"
      head -n 3 "$KIT_TMP/prog.err" | sed 's/^/      /'
      failed=$((failed + 1))
    fi
  done
done
say "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
