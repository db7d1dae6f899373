#!/usr/bin/env bash
# `make check-arm64`: the runtime, the kit and every lesson's reference solution built for arm64
# (aarch64) with Debian's cross compiler and run under qemu-user, on an x86-64 Debian machine.
# The runtime switches tasks there with switch_aarch64.S; the ucontext fallback (macOS and every
# other machine) is proven natively by make check-portable (harness/course/check-portable.sh).
#
# What it needs, installed here when missing (as root, from Debian): gcc-aarch64-linux-gnu,
# qemu-user and qemu-user-binfmt, and the arm64 builds of libcurl and jansson (multiarch: they sit
# beside the native ones). Criterion's arm64 package cannot sit beside the native one (installing
# it removes libcriterion-dev:amd64), so its files are unpacked into $BUILD/arm64/sysroot
# instead. arm64 programs are started through the kernel's binfmt_misc entry for qemu-aarch64
# (Criterion starts each test in a fresh copy of its runner), which this script registers when
# the kernel has none.
#
# Sanitizers: UBSan only. ASan's shadow memory does not fit under qemu-user.
# The kit's bundled server runs natively (it is not under test here).
set -uo pipefail
. harness/lib.sh
kit_vars || { echo "[no-metadata] make vars failed" >&2; exit 1; }

cross=aarch64-linux-gnu
sysroot=$BUILD/arm64/sysroot
libdir=$sysroot/usr/lib/$cross
passed=0
failed=0
say() { printf '%s\n' "$*"; }
skip() { say "[arm64-skipped] $*"; say "0 passed, 0 failed"; exit 0; }

# ---- what it needs ------------------------------------------------------------------------------
need=()
command -v $cross-gcc >/dev/null || need+=(gcc-$cross)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
[ -d /usr/libexec/qemu-binfmt ] || need+=(qemu-user-binfmt)
[ -e /usr/lib/$cross/libcurl.so ] || need+=(libcurl4-openssl-dev:arm64)
[ -e /usr/lib/$cross/libjansson.so ] || need+=(libjansson-dev:arm64)
[ -e /usr/lib/$cross/libxml2.so ] || need+=(libxml2-dev:arm64)
[ -e /usr/lib/$cross/libgit2.so.1.5 ] || need+=(libgit2-1.5:arm64)
[ -e /usr/lib/$cross/libffi.so.8 ] || need+=(libffi8:arm64)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null ||
    skip "missing: ${need[*]}. As root on Debian: dpkg --add-architecture arm64 && apt-get update && apt-get install ${need[*]}"
  say "installing ${need[*]}"
  { dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64; } &&
    apt-get update -q >"$KIT_TMP/apt.log" 2>&1 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >>"$KIT_TMP/apt.log" 2>&1 ||
    { tail -n 5 "$KIT_TMP/apt.log"; skip "the packages above could not be installed"; }
fi
if [ ! -e "$libdir/libcriterion.so" ]; then
  mkdir -p "$BUILD/arm64/debs" "$sysroot"
  ( cd "$BUILD/arm64/debs" && apt-get download libcriterion3:arm64 libcriterion-dev:arm64 \
      libnanomsg5:arm64 libboxfort-dev:arm64 ) >"$KIT_TMP/download.log" 2>&1 ||
    { tail -n 3 "$KIT_TMP/download.log"; skip "Criterion's arm64 packages could not be downloaded"; }
  for deb in "$BUILD"/arm64/debs/*.deb; do dpkg -x "$deb" "$sysroot"; done
fi

# ---- running arm64 programs ---------------------------------------------------------------------
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  [ -e /proc/sys/fs/binfmt_misc/register ] ||
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null
  cat /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register 2>/dev/null ||
    skip "the kernel cannot start arm64 programs through qemu (binfmt_misc could not be set up; it needs root, or 'systemctl restart systemd-binfmt' on a full system)"
fi
printf 'int main(void) { return 42; }\n' >"$KIT_TMP/probe.c"
$cross-gcc "$KIT_TMP/probe.c" -o "$KIT_TMP/probe" && "$KIT_TMP/probe"
[ $? -eq 42 ] || skip "an arm64 program does not run here, even under qemu"

# ---- build ----------------------------------------------------------------------------------------
# pkg-config for arm64: the native one reading the arm64 .pc files. (Debian's cross wrapper,
# aarch64-linux-gnu-pkg-config, comes with pkgconf:arm64, which would replace the native pkgconf.)
pkgconfig=$BUILD/arm64/pkg-config
mkdir -p "$BUILD/arm64"
printf '#!/bin/sh\nPKG_CONFIG_LIBDIR=/usr/lib/%s/pkgconfig:/usr/share/pkgconfig exec pkg-config "$@"\n' \
  "$cross" >"$pkgconfig" && chmod +x "$pkgconfig"
m() { make -s --no-print-directory "$@"; }
m "$KIT_DELAYD" >"$KIT_TMP/delayd.log" 2>&1 || { cat "$KIT_TMP/delayd.log"; say "[arm64-build] the native delayd does not build"; exit 1; }
delayd=$(realpath "$KIT_DELAYD")
arm=(BUILD="$BUILD/arm64" CC=$cross-gcc PKG_CONFIG="$(realpath "$pkgconfig")" AIO_SWITCH=asm
     SAN_FLAGS="-O1 -fsanitize=undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
     CPPFLAGS="-I$sysroot/usr/include" LDFLAGS="-L$libdir -Wl,-rpath-link,$libdir"
     -o "$BUILD/arm64/bin/delayd")
# The cross toolchain's C library (where libubsan is too) goes with its own dynamic loader:
# QEMU_LD_PREFIX makes qemu, and every program it starts through binfmt_misc, take
# /lib/ld-linux-aarch64.so.1 from there. Mixed with the loader of Debian's libc6:arm64, Criterion's
# runner hangs before its first test.
export QEMU_LD_PREFIX=/usr/$cross
export LD_LIBRARY_PATH=$libdir:/usr/$cross/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} KIT_DELAYD=$delayd

# run LABEL BIN [criterion flags]: one test binary under qemu; each of its tests counts.
run() {
  local label=$1 bin=$2 log
  shift 2
  log=$BUILD/arm64/${label//[ \/]/-}.log
  kit_run_tests "$bin" "$log" "$@"
  if [ "$SYNTHESIS" -eq 1 ] && [ "$PASSING" -eq "$TESTED" ] && [ "$TESTED" -gt 0 ]; then
    say "PASS  $label: all $TESTED tests pass"; passed=$((passed + TESTED))
  else
    say "FAIL  $label: $PASSING of $TESTED pass (see $log)"
    grep -a -E '^\[FAIL\]' "$log" | head -n 5 | sed 's/^/      /'
    passed=$((passed + PASSING)); failed=$((failed + (TESTED > PASSING ? TESTED - PASSING : 1)))
  fi
}

# Can Criterion's runner work under this machine's qemu? It starts every test in a fresh copy of
# itself (exec through binfmt_misc) and talks to it over nanomsg; with a loader and C library that
# do not match (see QEMU_LD_PREFIX above) it hangs before its first test. One trivial test, 30 s
# at most, tells, so a machine where it still cannot work says so instead of hanging.
printf '#include <criterion/criterion.h>\nTest(probe, runs) { cr_assert(1); }\n' >"$KIT_TMP/probe-test.c"
criterion_runs=0
if $cross-gcc -I"$sysroot/usr/include" "$KIT_TMP/probe-test.c" -o "$KIT_TMP/probe-test" \
     -L"$libdir" -Wl,-rpath-link,"$libdir" -lcriterion 2>"$KIT_TMP/probe-test.log"; then
  KIT_SUITE_LIMIT=30 kit_run_tests "$KIT_TMP/probe-test" "$BUILD/arm64/probe-test.out"
  [ "$SYNTHESIS" -eq 1 ] && [ "$PASSING" -eq 1 ] && criterion_runs=1
fi

# qemu 7.2's user mode cannot fork a process that has threads and then run the child (its own
# assertions fail in the child): the runtime's debug-mode tests that fork a scenario after the
# thread pool started are left out, and so are two checks that need what qemu lacks (ASan; the
# socket queue sizes the HTTP fairness test reads), and the proof watchdog's stuck-fork test: it
# knows a fork short of its exec by a command line equal to the runner's, and under qemu-user a
# process reads its own /proc/PID/cmdline as the guest's but another's as qemu's, so the two never
# match (on arm64 hardware they do). For the first reason the test runners' worker factory is
# off here (KIT_ZYGOTE=0, harness/kit/proof.c): the relay it leaves for each test is a fork of
# the threaded runner that runs, without an exec, for as long as the test; so are the kit's tests
# that need the factory (a worker from it starts as an exec'd one; a change of environment).
# qemu's user mode also refuses clone(CLONE_PARENT) (EINVAL), which the kit's test of a process
# left beside a test makes.
export KIT_ZYGOTE=0
qemu_limits='debug/waiting_outside_a_task_is_reported|debug/a_job_left_running_is_counted_at_loop_end|debug/a_task_of_another_loop_is_stopped|debug/*another_loop*|http/fast_downloads_leave_the_loop_turning|kit_test/one_past_the_end_is_caught|kit_proof/a_fork_that_never_starts_is_ended_and_reported|kit_proof/a_worker_from_the_factory_starts_as_an_exec_would|kit_proof/a_changed_environment_is_execd|kit_proof/a_process_left_beside_a_test_is_killed'

tests="$BUILD/arm64/aio/tests $BUILD/arm64/aio/tests-poll $BUILD/arm64/aio/tests-http $BUILD/arm64/aio/tests-compact $BUILD/arm64/kit/tests $BUILD/arm64/benchmark/bench_aio"
if m "${arm[@]}" $tests >"$BUILD/arm64-build.log" 2>&1; then
  say "PASS  arm64 build: the runtime (the arm64 switch, epoll and poll backends), its benchmark, the kit and their tests"
  passed=$((passed + 1))
else
  say "FAIL  arm64 build: the runtime or the kit does not build (see $BUILD/arm64-build.log)"
  tail -n 5 "$BUILD/arm64-build.log" | sed 's/^/      /'
  failed=$((failed + 1)); tests=
fi
# The runtime's own benchmark under qemu: thousands of switches, spawns, joins, parks and
# sleeps through the arm64 switch, each run checked for its row (its figures are qemu's, not a
# real arm64 machine's: they are printed, not judged).
bench=$BUILD/arm64/benchmark/bench_aio
if [ -x "$bench" ]; then
  for b in "yield_roundtrip --n 20000" "spawn_join --n 5000" "sem_handoff --n 20000" \
           "sleep_10k_100ms --n 2000 --delay 100" "tasks_100k_rss --n 20000"; do
    # shellcheck disable=SC2086
    row=$(timeout -k 5 120 "$bench" $b 2>"$KIT_TMP/bench.err")
    if [ $? -eq 0 ] && [[ $row =~ value=[0-9.]+ ]]; then
      say "PASS  arm64 runtime under qemu: $row"; passed=$((passed + 1))
    else
      say "FAIL  arm64 runtime under qemu: bench_aio $b: '$row'"; head -n 3 "$KIT_TMP/bench.err" | sed 's/^/      /'
      failed=$((failed + 1))
    fi
  done
fi
tests=${tests% *}
if [ "$criterion_runs" -eq 1 ]; then
  for t in $tests; do run "arm64 ${t#"$BUILD"/arm64/}" "$t" --filter="!($qemu_limits)"; done
else
  say "FAIL  arm64 tests: Criterion's runner does not start under this machine's qemu-user (a one-test probe did not finish in 30 s; see $BUILD/arm64/probe-test.out); the test binaries are built, the lesson programs below still run"
  failed=$((failed + 1))
fi

# Every lesson: its solution's tests and program built for arm64; the program run under qemu in
# each of its modes against the native delayd, and its row read back.
kit_start_server || { say "FAIL  arm64: the native delayd did not start"; exit 1; }
for name in $LESSONS; do
  n=${name%%-*}
  if ! m "${arm[@]}" lesson-$n build SOLUTION=1 >"$BUILD/arm64/$name-build.log" 2>&1; then
    say "FAIL  arm64 lesson $n: the solution does not build (see $BUILD/arm64/$name-build.log)"
    failed=$((failed + 1)); continue
  fi
  say "PASS  arm64 lesson $n: the solution, its tests and its program build"; passed=$((passed + 1))
  [ "$criterion_runs" -eq 1 ] && run "arm64 lesson $n solution" "$BUILD/arm64/$name/solution/san/test-runner"
  kit_vars "$n" SOLUTION=1
  prog=$BUILD/arm64/${PROG#"$BUILD"/}
  args=$(sed -E 's/--mode [^ ]+//' <<<"$RUN_ARGS")  # make lesson-NN run's arguments, every mode
  for mode in $BENCH_MODES; do
    # shellcheck disable=SC2086  # a list of options
    row=$(timeout -k 5 120 "$prog" --url "$SERVER_URL" --mode "$mode" $args 2>"$KIT_TMP/prog.err")
    rc=$?
    if [ "$rc" -eq 0 ] && kit_field wall_s "$row" >/dev/null && kit_field theory_s "$row" >/dev/null; then
      say "PASS  arm64 lesson $n program --mode $mode: $row"; passed=$((passed + 1))
    else
      say "FAIL  arm64 lesson $n program --mode $mode: exit $rc, row '${row}'"
      head -n 3 "$KIT_TMP/prog.err" | sed 's/^/      /'
      failed=$((failed + 1))
    fi
  done
done
say "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
