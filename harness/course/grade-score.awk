# One student's lesson, scored in one pass (harness/course/grade.sh): every listed test's status,
# points and diagnostic, from the verdicts of the TAP report (stdin: STATUS<tab>SUITE::TEST<tab>
# DIAGNOSTIC, from harness/lesson/tap.awk) and the end-of-test proofs (harness/kit/proof.c).
# Variables:
#   tests     the lesson's tests (SUITE::TEST, blank-separated), in the order they are reported
#   status    when set, every test gets this status and the diagnostic in the environment's
#             GRADE_DIAG (nothing ran:
#             missing, rejected, no-build); stdin is not read
#   proofs, nonce   the proof file and this run's nonce (a pass needs its proofs)
#   stuck     when set, the runner's fork of a test stuck in every round (grade.sh found
#             "spawn-stuck" in the proofs): the diagnostic of a pass that lost its runner's end
#   points    the lesson's POINTS (suite::test=3 ...; 1 for any other test)
#   visfile   "SUITE::TEST VISIBILITY" lines (Gradescope's visibility of each test), may be absent
#   key, lesson     the student's key and the lesson's number, for the rows
#   classf, jsonf   where the class.csv rows and the results.json test entries are appended
# Prints "POINTS MAX" on stdout.
function csv(s) { gsub(/"/, "\"\"", s); gsub(/[\r\n]/, " ", s); return "\"" s "\"" }
function json(s) {
  gsub(/\\/, "&&", s); gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s); gsub(/\r/, "\\r", s)
  gsub(/\n/, "\\n", s); gsub(/[\001-\037]/, " ", s)
  return "\"" s "\""
}
BEGIN {
  FS = "\t"
  n = split(tests, list, " ")
  np = split(points, pts, " ")
  for (i = 1; i <= np; i++) {
    eq = index(pts[i], "=")
    if (eq > 0) worth[substr(pts[i], 1, eq - 1)] = substr(pts[i], eq + 1) + 0
  }
  if (visfile != "") {
    while ((getline line < visfile) > 0) {
      split(line, v, " ")
      if (v[1] != "" && v[2] != "") vis[v[1]] = v[2]
    }
    close(visfile)
  }
  if (status != "") {
    diag = ENVIRON["GRADE_DIAG"]
    for (i = 1; i <= n; i++) { st[list[i]] = status; dg[list[i]] = diag }
    finish()
    exit
  }
}
status == "" && NF >= 2 { st[$2] = $1; dg[$2] = $3 }
END { if (status == "") { read_proofs(); judge(); finish() } }

function read_proofs(   line, rest, t, k) {
  runner_end = 0
  if (proofs == "") return
  while ((getline line < proofs) > 0) {
    if (line == "kit-proof " nonce " runner-end") { runner_end = 1; continue }
    if (index(line, "kit-proof " nonce " stopped ") == 1) {
      stopped[substr(line, length("kit-proof " nonce " stopped ") + 1)] = 1
      continue
    }
    if (index(line, "kit-proof " nonce " test ") != 1) continue
    rest = substr(line, length("kit-proof " nonce " test ") + 1)
    k = index(rest, " failed=")
    if (k == 0) continue
    t = substr(rest, 1, k - 1)
    if (substr(rest, k + 8) == "0") ok[t] = 1; else failedproof[t] = 1
  }
  close(proofs)
}

# A pass needs the test's proof (its teardown returned with no failed check) from a runner that
# reached its end. A test whose process the runner ended because it stayed stopped says so, and
# so does every test of a runner that ended because its fork of a test stuck (proof.c).
function judge(   i, t) {
  for (i = 1; i <= n; i++) {
    t = list[i]
    if (!(t in st)) { st[t] = "crash"; dg[t] = "" }
    if (t in stopped) {
      st[t] = "crash"
      dg[t] = "[stopped] the test's process stopped itself (SIGSTOP, raise(SIGSTOP)) and stayed stopped, so the test runner ended it after a second: does your code stop its own process?"
      continue
    }
    if (st[t] != "pass") continue
    if (!runner_end && stuck != "") {
      st[t] = "crash"
      dg[t] = stuck
    } else if (!runner_end) {
      st[t] = "crash"
      dg[t] = "[no-report] the test runner did not reach its end (it was stopped, or the process was ended from the code under test), so no result of this run counts."
    } else if (!(t in ok)) {
      st[t] = "crash"
      if (t in failedproof) dg[t] = "[failed-check] the report says this test passed, but one of its checks failed."
      else dg[t] = "[exited] the test's process ended before the test did (exit() or _exit() in your code?), so it did not pass."
    }
  }
}

function finish(   i, t, p, earned, got, of, out, entry) {
  got = 0; of = 0
  for (i = 1; i <= n; i++) {
    t = list[i]
    p = (t in worth) ? worth[t] : 1
    earned = (st[t] == "pass") ? p : 0
    got += earned; of += p
    printf "%s,%s,%s,%s,%s,%s,%s\n", key, lesson, t, st[t], earned, p, csv(dg[t]) >> classf
    out = st[t] (dg[t] != "" ? ": " dg[t] : "")
    entry = sprintf("{\"name\": %s, \"score\": %s, \"max_score\": %s, \"status\": \"%s\", \"output\": %s",
                    json(lesson " " t), earned, p, st[t] == "pass" ? "passed" : "failed", json(out))
    if (t in vis) entry = entry sprintf(", \"visibility\": \"%s\"", vis[t])
    print entry "}" >> jsonf
  }
  close(classf); close(jsonf)
  print got, of
}
