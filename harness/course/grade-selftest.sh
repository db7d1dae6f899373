#!/usr/bin/env bash
# Self-test of the grader, run by `make check`: a small class made on the spot from lesson 01's
# solution (correct), a known mistake (partial), a crashing copy, one that does not compile and
# one that handed nothing in; each must get the score it deserves, in every output file. Then a
# hostile class (harness/course/GRADING.md lists each attack): each must score no more than its
# honest work and harm nothing (the kit, the other submissions, the grades, no process left).
# Lesson 01's performance component is graded too (3 runs a program): the reference's speed
# earns its points, a lesson program that goes one request after another none, a slow one that
# prints a fake fast row only what its real time earns.
set -uo pipefail
class=$(mktemp -d "${TMPDIR:-/tmp}/kit-grade-selftest.XXXXXX")
grades=$class/grades
trap '[ -n "${KEEP:-}" ] || rm -rf "$class"' EXIT
fail() { echo "[grade-selftest] $*" >&2; exit 1; }

sol=solutions/01-sync-vs-async
mkdir -p "$class/subs/correct/lessons" "$class/subs/partial/01-sync-vs-async" \
         "$class/subs/crashing/01-sync-vs-async" "$class/subs/broken/01-sync-vs-async" "$class/subs/absent"
cp -r "$sol" "$class/subs/correct/lessons/" && rm -rf "$class/subs/correct/lessons/01-sync-vs-async/mistakes"
# (Readable by its owner only: the grader's copy must still be readable in the sandbox, whose
# user, as root, is not the grader's. It scored 0 once: "/sub/fetch.c: Permission denied".)
chmod 600 "$class/subs/correct/lessons/01-sync-vs-async/fetch.c"
cp "$sol/fetch.c" "$class/subs/partial/01-sync-vs-async/"
patch --batch -s -p1 -d "$class/subs/partial/01-sync-vs-async" <"$sol/mistakes/spin.patch" || fail "cannot apply spin.patch"
# Crashing: both functions abort the process.
cat >"$class/subs/crashing/01-sync-vs-async/fetch.c" <<'C'
#include "fetch.h"
#include <stdlib.h>
int fetch_sequential(const char *const *urls, size_t n, struct fetch_result *results)
{ (void)urls; (void)n; (void)results; abort(); }
int fetch_concurrent(const char *const *urls, size_t n, struct fetch_result *results)
{ (void)urls; (void)n; (void)results; abort(); }
C
printf 'int fetch_sequential(void) { return nope }\n' >"$class/subs/broken/01-sync-vs-async/fetch.c"


# ---- the hostile class: each scores no more than its honest work (0 here: its code is the
# skeleton's stubs) and harms nothing. harness/course/GRADING.md explains each defence.
stub() {   # stub STUDENT [C declarations and statements run by both functions]
  mkdir -p "$class/subs/$1/01-sync-vs-async"
  cat >"$class/subs/$1/01-sync-vs-async/fetch.c" <<C
#include "fetch.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
${3:-}
static void attack(void) { $2 }
int fetch_sequential(const char *const *urls, size_t n, struct fetch_result *results)
{ (void)urls; (void)n; (void)results; attack(); return -ENOSYS; }
int fetch_concurrent(const char *const *urls, size_t n, struct fetch_result *results)
{ (void)urls; (void)n; (void)results; attack(); return -ENOSYS; }
C
}
# A constructor that writes a passing report for every test and exits before main.
stub ctor-forgery "" '__attribute__((constructor)) static void forge(void) {
  for (int i = 1; i <= 40; i++) printf("ok %d - concurrent::t%d\n", i, i);
  printf("[====] Synthesis: Tested: 13 | Passing: 13 | Failing: 0 | Crashing: 0\n"); _exit(0); }'
# exit(0) and _exit(0) inside the exercise: Criterion alone reports each test as passed.
stub exit-zero "if (getpid() % 2) exit(0); else _exit(0);"
# The reference solution, included by a path or linked to.
stub include-solution "" "#include \"$PWD/solutions/01-sync-vs-async/fetch.c\""
mkdir -p "$class/subs/symlink-solution/01-sync-vs-async"
ln -s "$PWD/$sol/fetch.c" "$class/subs/symlink-solution/01-sync-vs-async/fetch.c"
# Headers that replace the assertion macros and the kit's test helpers.
stub header-override ""
mkdir -p "$class/subs/header-override/01-sync-vs-async/criterion"
printf '#define cr_assert(...) ((void)0)\n' >"$class/subs/header-override/01-sync-vs-async/criterion/criterion.h"
printf '#define cr_assert(...) ((void)0)\n#define cr_assert_eq(...) ((void)0)\n' >"$class/subs/header-override/01-sync-vs-async/kit_test.h"
# Replacing Criterion's own function that records a failed check.
stub interpose "" 'struct criterion_assert_stats; void criterion_send_assert(struct criterion_assert_stats *s); void criterion_send_assert(struct criterion_assert_stats *s) { (void)s; }'
# Silencing UBSan: its runtime is linked into the program (gcc's -static-libubsan), so an
# exercise that defines every handler of the runtime's ubsan_handlers.o links, and its own
# empty handlers would take the reports' place.
ubsan_defs=$(nm --defined-only "$(gcc -print-file-name=libubsan.a)" 2>/dev/null |
  awk '/^ubsan_handlers.o:$/ { m = 1; next } /:$/ { m = 0 } m && $2 == "T" && $3 ~ /^__ubsan_handle_/ { printf "void %s(void); void %s(void) {}\n", $3, $3 }')
[ -n "$ubsan_defs" ] || ubsan_defs='void __ubsan_handle_add_overflow_abort(void); void __ubsan_handle_add_overflow_abort(void) {}'
stub ubsan-override "volatile int big = 2147483647; big += (int)(getpid() > 0);" "$ubsan_defs"
# kill(-1) (what BoxFort does when a fork fails; from a folder whose name make would expand,
# below) and a fork bomb.
stub fork-bomb "for (int i = 0; i < 100000; i++) if (fork() < 0) break;"
# A test process that stops itself (Criterion's own time limit cannot end a stopped process):
# the runner ends each one after a second stopped (harness/kit/proof.c, proof_watchdog), and
# each test says [stopped]; the lesson ends long before its time limit.
stub 0-stopper "raise(SIGSTOP);"
# For the two below: whether pid runs as the worker factory, and pid's parent.
factory_helpers='__attribute__((unused)) static int is_factory(pid_t p) { char f[64], c[32] = {0}; snprintf(f, sizeof f, "/proc/%d/cmdline", (int)p);
  FILE *h = fopen(f, "r"); if (h) { (void)!fread(c, 1, sizeof c - 1, h); fclose(h); } return strcmp(c, "boxfort-worker") == 0; }
__attribute__((unused)) static pid_t parent_of(pid_t p) { char f[64], l[512] = {0}; int pp = 0; snprintf(f, sizeof f, "/proc/%d/stat", (int)p);
  FILE *h = fopen(f, "r"); if (h) { (void)!fgets(l, sizeof l, h); fclose(h); } char *q = strrchr(l, 0x29); if (q) sscanf(q + 4, "%d", &pp); return pp; }' 
# A test process that stops the runner itself: nothing inside the sandbox is left to end it, so
# the grader, which watches the runner from outside (grade.sh, watch_runner), ends the lesson's
# tests 2 s later, and each test left unreported says [runner-stopped], not [crashed] or
# [time-limit]. (Named to be graded first, from when its lane waited out the time limit.) The
# runner is the parent of a test's process, or, when the runner's worker factory made it
# (harness/kit/proof.c), its grandparent: the factory runs as "boxfort-worker".
stub 0-runner-stopper "pid_t r = getppid(); if (is_factory(r)) r = parent_of(r); kill(r, SIGSTOP);" \
  "$factory_helpers"
# A test process that stops its parent when that is the worker factory (never the runner): the
# factory can then neither start nor reap a test, so the runner's watchdog kills it after a
# second ([factory-stopped]), the tests it made end, and the next ones are exec'd; the lesson
# ends long before its time limit.
stub 0-factory-stopper "if (is_factory(getppid())) kill(getppid(), SIGSTOP);" "$factory_helpers"
# A process left running, spinning, that tries to rewrite the grades, and one that steals the
# proof's secret and writes passes for every test.
# Each left behind notes its pid in the sandbox's /tmp; each test first prints how many of those
# left by the tests before it still run ([lingering-alive N]): the runner kills them as each test
# ends (harness/kit/proof.c, proof_sweep), so N stays small where it would grow with each test.
stub lingering "lingering_alive(); if (fork() == 0) { setsid(); if (fork() == 0) { FILE *p = fopen(\"/tmp/kit-lingering\", \"a\"); if (p) { fprintf(p, \"%d\\n\", (int)getpid()); fclose(p); }
  for (long k = 0;; k++) { FILE *f = fopen(\"$grades/summary.csv\", \"w\"); if (f) { fputs(\"lingering,13/13,13/13\\n\", f); fclose(f); } } } _exit(0); }" \
  "static void lingering_alive(void) { int n = 0, pid; char st[64], line[256]; FILE *p = fopen(\"/tmp/kit-lingering\", \"r\");
  while (p && fscanf(p, \"%d\", &pid) == 1) { snprintf(st, sizeof st, \"/proc/%d/stat\", pid); FILE *f = fopen(st, \"r\");
    if (f && fgets(line, sizeof line, f) && !strstr(line, \") Z \")) { n++; }
    if (f) { fclose(f); } }
  if (p) { fclose(p); }
  printf(\"[lingering-alive %d]\\n\", n); fflush(stdout); }"
stub proof-thief "char b[200] = {0}; int c = socket(AF_UNIX, SOCK_STREAM, 0); struct sockaddr_un a = { .sun_family = AF_UNIX };
  const char *d = getenv(\"KIT_PROOF_DIR\"); snprintf(a.sun_path, sizeof a.sun_path, \"%s/sock\", d ? d : \"/run/kit\");
  if (connect(c, (struct sockaddr *)&a, sizeof a) == 0 && write(c, \"get\\n\", 4) == 4) (void)!read(c, b, sizeof b - 1);
  char p[64]; snprintf(p, sizeof p, \"/proc/%d/fd/3\", getppid()); int fd = open(p, O_WRONLY | O_APPEND);
  dprintf(fd >= 0 ? fd : 1, \"kit-proof %s runner-end\\n\", b); exit(0);"
# The same through a clone(CLONE_PARENT) child, a child of the runner too.
names=$(grep -ho '^Test([a-z_0-9]*, *[a-z_0-9]*' lessons/01-sync-vs-async/tests/*.c | sed 's/^Test(//; s/, */::/; s/.*/"&",/' | tr -d '\n')
stub clone-thief 'steal();' "#include <sys/syscall.h>
#include <poll.h>
#include <sched.h>
static int ask(const char *req, char *b, size_t size) {
  int c = socket(AF_UNIX, SOCK_STREAM, 0), k = -1; struct sockaddr_un a = { .sun_family = AF_UNIX };
  const char *d = getenv(\"KIT_PROOF_DIR\"); snprintf(a.sun_path, sizeof a.sun_path, \"%s/sock\", d ? d : \"/run/kit\");
  if (connect(c, (struct sockaddr *)&a, sizeof a) == 0 && write(c, req, strlen(req)) > 0) k = (int)read(c, b, size);
  close(c); return k; }
static void steal(void) {
  static const char *names[] = { $names };
  char b[200] = {0}, req[600]; int fds[2]; if (pipe(fds) != 0) return;
  ask(\"get\\n\", b, sizeof b - 1);   /* refused: this worker was served before the test began */
  struct sockaddr_un a = { .sun_family = AF_UNIX }; const char *d = getenv(\"KIT_PROOF_DIR\");
  snprintf(a.sun_path, sizeof a.sun_path, \"%s/sock\", d ? d : \"/run/kit\");
  long cp = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
  if (cp == 0) {   /* a child of the runner: raw system calls only */
    long c = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0), k = 0;
    if (syscall(SYS_connect, c, &a, sizeof a) == 0 && syscall(SYS_write, c, \"get\\n\", 4) == 4) k = syscall(SYS_read, c, b, 199);
    if (k > 0) syscall(SYS_write, fds[1], b, k);
    syscall(SYS_exit, 0); }
  close(fds[1]); struct pollfd pf = { .fd = fds[0], .events = POLLIN }; int k = 0;
  if (poll(&pf, 1, 3000) == 1) { k = (int)read(fds[0], b, sizeof b - 1); }
  if (k < 0) { k = 0; }
  b[k] = 0;
  /* The runner reaps the child it did not make (BoxFort alone would spin on its end for ever). */
  char st[64]; int gone = 0; snprintf(st, sizeof st, \"/proc/%ld/stat\", cp);
  for (int w = 0; w < 500 && !gone && cp > 0; w++) { int f = open(st, O_RDONLY); if (f < 0) gone = 1; else { close(f); usleep(10000); } }
  printf(\"%s\\n\", gone ? \"[stranger-reaped]\" : \"[stranger-left]\"); fflush(stdout);
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    snprintf(req, sizeof req, \"proof %s test %s failed=0\\n\", b, names[i]); ask(req, b + 150, 40); }
  char p[64]; snprintf(p, sizeof p, \"/proc/%d/fd/3\", getppid()); int fd = open(p, O_WRONLY | O_APPEND);
  dprintf(fd >= 0 ? fd : 1, \"kit-proof %s runner-end\\n\", b); exit(0); }"
# Vandalism: the other students' folders, the kit's tests, the grades, anything writable.
stub vandal "(void)!system(\"rm -rf /sub/* /kit/lessons/*/tests/*.c /build/* $class/subs/*/ ../* 2>/dev/null; echo '#error vandal' >> /kit/lessons/01-sync-vs-async/tests/test_fetch.c\");"
# Folder names that are not plain: each graded under a key of its own; none runs a command.
mkdir -p "$class/subs/Doe, Jane/lessons" "$class/subs/o'brien/01-sync-vs-async" "$class/subs/m_\$(shell touch PWNED)/01-sync-vs-async"
cp -r "$sol" "$class/subs/Doe, Jane/lessons/" && rm -rf "$class/subs/Doe, Jane/lessons/01-sync-vs-async/mistakes"
# Two of them differ from the reference in the lesson program alone (the tests' build, with
# AddressSanitizer, is the reference's, so their tests pass): Doe, Jane's program fetches one URL
# after another; o'brien's is 300 ms late and prints, last, a row that claims 0.1 ms.
perf_variant() {   # perf_variant FILE DEFINITION-OF-fetch_concurrent
  { sed 's/^int fetch_concurrent(/static int conc_all(/' "$sol/fetch.c"
    printf '#ifdef __SANITIZE_ADDRESS__\n%s\n#else\n%s\n#endif\n' \
      'int fetch_concurrent(const char *const *urls, size_t n, struct fetch_result *results) { return conc_all(urls, n, results); }' "$2"
  } >"$1"
}
perf_variant "$class/subs/Doe, Jane/lessons/01-sync-vs-async/fetch.c" '
int fetch_concurrent(const char *const *urls, size_t n, struct fetch_result *results)
{ (void)conc_all; return fetch_sequential(urls, n, results); }'
perf_variant "$class/subs/o'brien/01-sync-vs-async/fetch.c" '
#include <stdio.h>
#include <time.h>
static void fake_row(void)
{ printf("mode=conc n=8 delay_ms=200 wall_s=0.0001 cpu_s=0.0000 server=delayd peak=8 ok=8 theory_s=0.2000\n"); }
int fetch_concurrent(const char *const *urls, size_t n, struct fetch_result *results)
{
  int rc = conc_all(urls, n, results);
  struct timespec late = { 0, 300000000 };
  nanosleep(&late, NULL);
  atexit(fake_row);
  return rc;
}'
stub kill-all "kill(-1, SIGKILL);" && mv "$class/subs/kill-all/01-sync-vs-async/fetch.c" "$class/subs/m_\$(shell touch PWNED)/01-sync-vs-async/" && rm -r "$class/subs/kill-all"
# An instructor's hidden tests (TESTS=dir): one the reference passes and the skeleton does not,
# one that fails even the reference (it must cost the point), each with its visibility.
mkdir -p "$class/hidden/01-sync-vs-async"
cat >"$class/hidden/01-sync-vs-async/hidden.c" <<'C'
#include "fetch.h"
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
/* Its scene cannot be set in the grader's first round (KIT_RUN_ROUND: the stand-in for a
 * machine too busy): the grader must run the lesson again and count the second round. */
Test(hidden, an_empty_list_is_no_error)
{
    const char *round = getenv("KIT_RUN_ROUND");
    cr_assert_eq(fetch_sequential(NULL, 0, NULL), 0, "[hidden-empty] an empty list of URLs is no error");
    cr_assert(round != NULL && strcmp(round, "1") != 0, "[test-premise] the first round cannot set this test up");
}
Test(hidden, stricter_than_the_reference)
{ cr_assert_eq(fetch_sequential(NULL, 0, NULL), 1, "[hidden-strict] no solution returns 1 here"); }
C
printf '# which tests students see, and when\nhidden::stricter_* hidden\n' >"$class/hidden/01-sync-vs-async/visibility"
before=$(cd "$class/subs" && find . -type f -o -type l | sort | xargs -d '\n' sha256sum 2>/dev/null | sha256sum)
kit_before=$(git status --porcelain -- lessons harness solutions Makefile | sha256sum)

# Refusals, before anything is graded: an output folder that cannot be written, a folder that is
# not an earlier grades folder, and a class without a sandbox.
GRADES=/proc/kit-grades harness/course/grade.sh "$class/subs" >"$class/refuse.log" 2>&1
[ $? -eq 2 ] && grep -q '^\[grades-folder\] cannot write' "$class/refuse.log" || fail "an unwritable GRADES folder is not an error: $(cat "$class/refuse.log")"
GRADES=$class/subs harness/course/grade.sh "$class/subs" >"$class/refuse.log" 2>&1
[ $? -eq 2 ] && grep -q '^\[grades-folder\].*not an earlier grades folder' "$class/refuse.log" || fail "GRADES naming a folder of other files is not refused"
GRADES=$class/nobox KIT_GRADE_BWRAP=/nonexistent/bwrap harness/course/grade.sh "$class/subs" >"$class/refuse.log" 2>&1
[ $? -eq 2 ] && grep -q '^\[no-sandbox\]' "$class/refuse.log" || fail "a class is graded without a sandbox: $(cat "$class/refuse.log")"

start=$(date +%s)
# As root, another batch holds the first sandbox user (its lock): this one must take others.
uid0=${GRADE_UID:-60100}
if [ "$(id -u)" -eq 0 ]; then
  mkdir -p -m 700 /run/kit-grade && : >>"/run/kit-grade/uid-$uid0" && exec {held}<"/run/kit-grade/uid-$uid0" && flock -n "$held" || held=
fi
GRADES=$grades GRADE_LESSONS=01 GRADE_PERF_RUNS=${GRADE_PERF_RUNS:-3} GRADE_JOBS=${GRADE_JOBS:-2} GRADE_TEST_LIMIT=${GRADE_TEST_LIMIT:-30} GRADE_NPROC=${GRADE_NPROC:-96} GRADE_TESTS=$class/hidden \
  harness/course/grade.sh "$class/subs" >"$class/log" 2>&1 || { cat "$class/log"; fail "grade.sh failed"; }
if [ -n "${held:-}" ]; then
  exec {held}<&-
  grep -q "^sandbox users: " "$class/log" && ! grep -qE "^sandbox users: (.* )?$uid0( |\$)" "$class/log" ||
    fail "a batch took the sandbox user $uid0 that another batch holds: $(grep '^sandbox users' "$class/log")"
fi
users=$(sed -n 's/^sandbox users: //p' "$class/log")
# Lesson 01 has k tests of its own, each worth a point (its lesson.mk sets no POINTS), and the
# two hidden ones: n in all; the reference loses the hidden one that nothing passes. Its
# performance component adds P points: N in all.
k=$(cat lessons/01-sync-vs-async/tests/*.c | grep -c '^Test(')
n=$((k + 2))
P=$(make -s --no-print-directory lesson-01 vars | sed -n "s/^PERF_POINTS='\(.*\)'$/\1/p")
[ -n "$P" ] || fail "lesson 01 has no performance component (PERF_POINTS in its lesson.mk)"
# Not root, with the sandbox, the grader leaves the performance component out and says why
# (grade.sh: its programs need a network namespace shared with the server); as root it must not.
with_perf=1
if grep -q '^note: no performance component in this batch: the sandboxed programs need a network namespace' "$class/log"; then
  [ "$(id -u)" -ne 0 ] || fail "as root the batch left out the performance component: $(grep '^note: no performance' "$class/log")"
  with_perf=0 P=0
fi
N=$((n + P))
perf() {   # perf KEY FIELD: the student's perf::speed line's points (5), status (4) or diagnostic (7)
  awk -F, -v k="$1" -v f="$2" '$1 == k && $3 == "perf::speed" { if (f == 7) { for (i = 1; i <= 6; i++) sub(/^[^,]*,/, ""); print } else print $f }' "$grades/class.csv"
}
expect() {   # expect KEY TESTS: the tests' points plus the perf entry's, in summary.csv and results.json
  local p t
  p=$(perf "$1" 5)
  if [ "$with_perf" -eq 0 ]; then
    [ -z "$p" ] || fail "$1: a perf::speed line in class.csv in a batch without the performance component"
    p=0
  fi
  [ -n "$p" ] || fail "$1: no perf::speed line in class.csv"
  t=$(awk -v a="$2" -v b="$p" 'BEGIN { printf "%g", a + b }')
  grep -q "^$1,$t/$N,$t/$N," "$grades/summary.csv" || fail "$1: expected $t/$N ($2 and $p for speed) in summary.csv, got: $(grep "^$1," "$grades/summary.csv")"
  grep -q "^{\"score\": $t," "$grades/$1/results.json" || fail "$1: results.json does not say score $t"
}
expect correct "$((n - 1))"
expect partial "$((n - 2))"
expect crashing 0
expect broken 0
expect absent 0
# The reference's speed earns the perf points (the ratio of the fastest runs; this batch times
# 3 runs a program beside the other check units, so a tenth of a point is let go); crashing,
# broken and absent get none, each with its reason.
[ "$with_perf" -eq 0 ] || {
awk -v p="$(perf correct 5)" -v P="$P" 'BEGIN { exit !(p >= P - 0.1) }' ||
  fail "correct: the reference solution's speed earned $(perf correct 5) of $P perf points: $(perf correct 7)"
[ "$(perf crashing 5)" = 0 ] && perf crashing 7 | grep -q 'not timed: no test' || fail "crashing: perf entry: $(perf crashing 7)"
[ "$(perf broken 4)" = no-build ] && [ "$(perf absent 4)" = missing ] || fail "broken, absent: no perf entry of status no-build, missing"
}
grep -q '^partial,01,concurrent::sleeps_while_waiting,fail,0,1,"\[busy-loop\]' "$grades/class.csv" \
  || fail "partial: the lost point is not the busy-loop test with its diagnostic"
# A test that could not set up its scene in the first round: the lesson ran again, that round
# counted (expect above), and the first round's log is kept.
grep -q '^\[rerun\] correct, lesson 01: ' "$class/log" && grep -aq '\[test-premise\]' "$grades/correct/lesson-01.first-round.log" &&
  ! grep -aq '\[test-premise\]' "$grades/correct/lesson-01.log" && ! grep -q '^\[rerun\] crashing' "$class/log" ||
  fail "correct: a test that could not set up its scene was not run again, or its first round is not kept: $(grep -a 'rerun\|test-premise' "$class/log" "$grades/correct/"*.log | head -n 3)"
grep -q '^correct,01,hidden::stricter_than_the_reference,fail,0,1,"\[hidden-strict\]' "$grades/class.csv" &&
  grep -q '^correct,01,hidden::an_empty_list_is_no_error,pass,1,1,' "$grades/class.csv" ||
  fail "correct: the hidden tests did not run, or did not cost the point they should"
python3 - "$grades/correct/results.json" <<'PY' || fail "results.json does not carry each test's visibility (above)"
import json, sys
r = json.load(open(sys.argv[1]))
vis = {t["name"].split(" ", 1)[1]: t.get("visibility") for t in r["tests"]}
assert vis.pop("hidden::stricter_than_the_reference") == "hidden", vis
assert vis.pop("hidden::an_empty_list_is_no_error") == "after_due_date", vis
assert set(vis.values()) == {"visible"}, vis
assert abs(r["score"] - sum(t["score"] for t in r["tests"])) < 1e-6, r["score"]
PY
grep -q '^crashing,01,.*,crash,0,1,' "$grades/class.csv" || fail "crashing: no test is marked crash"
grep -q '^broken,01,.*,no-build,0,1,"the code does not compile: ' "$grades/class.csv" || fail "broken: not marked no-build"
grep -q '^absent,01,.*,missing,0,1,' "$grades/class.csv" || fail "absent: not marked missing"
[ "$(head -c 8 "$grades/class.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "class.png is not a PNG"

key() { awk -F, -v f="$1" 'NR > 1 { line = $0; sub(/^[^,]*,[^,]*,[^,]*,/, "", line); gsub(/^"|"$/, "", line); gsub(/""/, "\"", line); if (line == f) print $1 }' "$grades/summary.csv"; }
attackers=(ctor-forgery exit-zero include-solution symlink-solution header-override interpose
           ubsan-override fork-bomb lingering proof-thief clone-thief vandal 0-stopper
           0-runner-stopper 0-factory-stopper "m_\$(shell touch PWNED)")
for s in "${attackers[@]}"; do
  k=$(key "$s")
  [ -n "$k" ] || fail "$s: not in summary.csv (every student must be graded)"
  grep -q "^$k,0/$N,0/$N," "$grades/summary.csv" || fail "$s: expected 0/$N, got: $(grep "^$k," "$grades/summary.csv")"
  grep -q '^{"score": 0,' "$grades/$k/results.json" || fail "$s: results.json does not say score 0"
done
for s in "Doe, Jane" "o'brien"; do
  k=$(key "$s")
  [ -n "$k" ] && [ "$k" != "$s" ] || fail "$s: no key of its own in summary.csv"
  expect "$k" "$((n - 1))"
done
# Doe, Jane's program goes one request after another: the server's peak is 1, no perf points.
# o'brien's is late and claims 0.1 ms: it gets what its measured ratio earns on the curve
# (PERF_FULL 1.1 to PERF_ZERO 4 of lesson 01), which is less than full.
[ "$with_perf" -eq 0 ] || {
k=$(key "Doe, Jane")
[ "$(perf "$k" 5)" = 0 ] && perf "$k" 7 | grep -q 'perf-not-correct.*peak in flight was 1;' ||
  fail "Doe, Jane (one request after another): perf entry $(perf "$k" 5): $(perf "$k" 7)"
k=$(key "o'brien")
ratio=$(perf "$k" 7 | sed -n 's/.*: ratio \([0-9.]*\)\. .*/\1/p')
awk -v p="$(perf "$k" 5)" -v r="$ratio" -v P="$P" 'BEGIN { want = P * (4 - r) / (4 - 1.1); want = want > P ? P : want < 0 ? 0 : want
  exit !(r >= 1.5 && p < P - 0.5 && p - want < 0.03 && want - p < 0.03) }' ||
  fail "o'brien (300 ms late, a fake fast row): perf entry $(perf "$k" 5) at ratio ${ratio:-none}: $(perf "$k" 7)"
k=$(key exit-zero)
perf "$k" 7 | grep -q 'not timed: no test of lesson 01 passed' || fail "exit-zero (a fake row, no test passed): perf entry: $(perf "$k" 7)"
}
grep -q '^ctor-forgery,01,.*,rejected,0,1,"\[forbidden-code\] fetch.c has code that runs before main or after it' "$grades/class.csv" || fail "ctor-forgery: not rejected as [forbidden-code]"
grep -q '^interpose,01,.*,rejected,0,1,"\[forbidden-code\] fetch.c defines criterion_send_assert, which a library the tests use defines too' "$grades/class.csv" || fail "interpose: not rejected as [forbidden-code]"
grep -q '^ubsan-override,01,.*,rejected,0,1,"\[forbidden-code\] fetch.c defines __ubsan_handle_[a-z_0-9]*, a part of the sanitizers' "$grades/class.csv" || fail "ubsan-override: not rejected as [forbidden-code]"
grep -q '^exit-zero,01,.*,crash,0,1,"\[exited\]' "$grades/class.csv" || fail "exit-zero: no test is marked [exited]"
grep -q '^proof-thief,01,.*,crash,0,1,"\[exited\]' "$grades/class.csv" || fail "proof-thief: its attack did not run (no test is marked [exited])"
# The processes left behind by tests that ended were killed when those tests ended: at most the
# one of the test beside (two run at once) and one being killed, where without it the count
# reaches the number of tests before (about 15).
k=$(key lingering)
most=$(grep -aoE '\[lingering-alive [0-9]+\]' "$grades/$k/lesson-01.log" | tr -dc '0-9\n' | sort -n | tail -n 1)
[ -n "$most" ] && [ "$most" -le 3 ] ||
  fail "lingering: the processes left behind by ended tests kept running (at most ${most:-no count} at once; see proof_sweep in harness/kit/proof.c)"
k=$(key clone-thief)
grep -aq '\[stranger-reaped\]' "$grades/$k/lesson-01.log" && ! grep -aq '\[stranger-left\]' "$grades/$k/lesson-01.log" ||
  fail "clone-thief: a child of the runner that the runner did not make was left unreaped (BoxFort then spins on it: see waitid() in harness/kit/proof.c): $(grep -ac 'stranger-left' "$grades/$k/lesson-01.log") tests saw it"
grep -q '^0-runner-stopper,01,.*,crash,0,1,"\[runner-stopped\] this test had not reported' "$grades/class.csv" &&
  ! grep -qE '^0-runner-stopper,01,.*\[(crashed|time-limit)\]' "$grades/class.csv" ||
  fail "0-runner-stopper: the tests its stopped runner left unreported are not marked [runner-stopped] (the grader must see the runner stopped and end its tests, not wait for the lesson's time limit: watch_runner in grade.sh)"
k=$(key 0-factory-stopper)
grep -aq '\[factory-stopped\]' "$grades/$k/lesson-01.log" ||
  fail "0-factory-stopper: the runner's log does not say [factory-stopped] (a worker factory stopped by a test must be killed by the runner's watchdog: proof_check_factory in harness/kit/proof.c)"
! grep -qE '^0-factory-stopper,01,.*\[(time-limit|runner-stopped|no-report)\]' "$grades/class.csv" ||
  fail "0-factory-stopper: its lesson waited for a time limit or lost its runner, where the runner should have killed the stopped factory and gone on: $(grep -E '^0-factory-stopper,01,' "$grades/class.csv" | head -3)"
# Every one of 0-stopper's tests was ended by the runner, none by the lesson's time limit.
n_stopped=$(grep -c '^0-stopper,01,.*,crash,0,1,"\[stopped\] ' "$grades/class.csv")
n_all=$(grep '^0-stopper,01,' "$grades/class.csv" | grep -vc '^0-stopper,01,perf::')
[ "$n_stopped" -gt 0 ] && [ "$n_stopped" = "$n_all" ] ||
  fail "0-stopper: $n_stopped of its $n_all tests are marked [stopped] (a test process that stays stopped must be ended by the runner: proof_watchdog in harness/kit/proof.c)"
grep -q '^symlink-solution,01,.*,rejected,0,1,"\[not-handed-in\]' "$grades/class.csv" || fail "symlink-solution: not refused"
[ ! -e PWNED ] && [ ! -e "$class/PWNED" ] && [ ! -e "$class/subs/PWNED" ] || fail "a folder name ran a command (PWNED exists)"
after=$(cd "$class/subs" && find . -type f -o -type l | sort | xargs -d '\n' sha256sum 2>/dev/null | sha256sum)
[ "$before" = "$after" ] || fail "the submissions changed while they were graded"
[ "$kit_before" = "$(git status --porcelain -- lessons harness solutions Makefile | sha256sum)" ] || fail "the kit's files changed while grading"
if [ "$(id -u)" -eq 0 ]; then
  sleep 1
  # Zombies (state Z) are left out: they run nothing, and where PID 1 does not reap orphans
  # (some containers) an exited sandbox process stays listed as <defunct>.
  left=$(ps -eo uid=,pid=,stat=,args= | awk -v users=" $users " 'index(users, " " $1 " ") && $3 !~ /^Z/')
  [ -z "$left" ] || fail "processes of the sandbox's user outlived the grading: $left"
fi
grep -q '^lingering,' "$grades/summary.csv" && [ "$(grep -c '^lingering,' "$grades/summary.csv")" -eq 1 ] || fail "summary.csv was rewritten"
echo "grade selftest: correct $((n - 1))/$n (a hidden test fails it), partial $((n - 2))/$n, crashing, broken and absent 0/$n, in every output; visibility in results.json;"
echo "  hostile class ($(($(date +%s) - start)) s): ${#attackers[@]} attacks scored 0/$N and harmed nothing; odd folder names graded under keys of their own;"
if [ "$with_perf" -eq 1 ]; then
  echo "  perf: the reference's speed $(perf correct 5)/$P, one request after another 0/$P, 300 ms late with a fake row $(perf "$(key "o'brien")" 5)/$P (ratio $ratio)"
else
  echo "  perf: left out of the batch, as it must be when not root (no perf::speed line, no points in the maximum); as root it is checked"
fi
