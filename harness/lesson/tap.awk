# Every test's verdict, worded once for the test runner and the grader (through kit_verdicts in
# harness/lib.sh). Reads Criterion's TAP report (several, one after another, are read as one).
# Variables:
#   format=tsv     (default) one line a test, tab-separated: STATUS  SUITE::TEST  DIAGNOSTIC
#   format=full    the same and two more fields: MORE (the diagnostic's other lines, joined by
#                  \037) and WHERE (file:line of its check; for a crash, of the last check that
#                  passed)
#   format=report  what `make lesson-NN test` prints: PASS or FAIL and the test's name, the
#                  diagnostic under each failure with its continuation lines indented (up to
#                  `cap`, 15, except for the first failure, which is shown whole with where its
#                  check is and how to run it alone); a diagnostic already shown names the test
#                  it was shown for instead.
#     view=all     (default) every test; view=one: the first test only; view=watch: the
#                  failures only, the first in full and the others by name
#     seen=FILE    diagnostics shown by an earlier call ("TEST<tab>KEY" lines; the ones shown
#                  now are added), shownfull=1 when that call showed a failure in full
#     lesson=NN logfile=FILE also=" FROM=dir"  for the sentences; crash=TEXT: the sanitizer's report (lines
#                  joined by \037) for the first failure if it crashed
#   tests="a::b c::d"  the tests that should be in the report; any missing is a crash (the
#                  runner died before it could report them), worded by missing=TEXT if given
# STATUS is pass, fail, timeout, crash (a failed test that reported no assertion: it died, or
# a sanitizer stopped it) or skip (not run: left out by --filter). DIAGNOSTIC is the test's
# first failed assertion (the earliest: Criterion lists them newest first), or the wording below.
BEGIN {
  TIMEOUT = "[timeout] it did not finish in time: something waits forever (a deadlock, or a loop that never ends)."
  CRASHED = "[crashed] the test process died before the test could report (a crash, a sanitizer error, or exit() in your code). The full log says where."
  if (cap == "") cap = 15
  if (view == "") view = "all"
  if (seen != "") {
    while ((getline l < seen) > 0) {
      split(l, p, "\t")
      if (!(p[2] in said)) said[p[2]] = p[1]
    }
    close(seen)
  }
  shown = shownfull + 0
}
function pretty(n,   s) { s = n; sub(/::/, ": ", s); gsub(/_/, " ", s); return s }
function emit(line) { print line; fflush() }
function verdict(status, name, msg, more, where) {
  if (status == "timeout") { msg = TIMEOUT; more = "" }
  else if (status == "crash" && msg == "") msg = CRASHED
  seen_test[name] = 1
  if (format == "report") report(status, name, msg, more, where)
  else if (format == "full") printf "%s\t%s\t%s\t%s\t%s\n", status, name, msg, more, where
  else printf "%s\t%s\t%s\n", status, name, msg
}
function report(status, name, msg, more, where,   key, n, m, i, limit, k, c, filter) {
  if (status == "skip") return
  if (view == "one" && reported++) return
  if (status == "pass") {
    if (view != "watch") emit("  PASS  " pretty(name))
    return
  }
  if (view == "watch" && shown) {
    # Watch mode names the other failures only; make lesson-NN test shows their diagnostics.
    if (others++ == 0) emit("\nAlso failing:")
    emit("  " pretty(name) (msg ~ /^\[[a-z0-9-]+\]/ ? "  " substr(msg, 1, index(msg, "]")) : ""))
    return
  }
  emit("  FAIL  " pretty(name))
  key = msg "\037" more
  if (key in said) {
    emit("        (the same diagnostic as " pretty(said[key]) ")")
    return
  }
  said[key] = name
  if (seen != "") print name "\t" key >>seen
  emit("        " msg)
  n = (more == "") ? 0 : split(more, m, "\037")
  limit = shown ? cap : n
  for (i = 1; i <= n && i <= limit; i++)
    emit("          " m[i])
  if (n > limit)
    emit("          (" n - limit " more line" (n - limit == 1 ? "" : "s") " in " logfile ")")
  if (!shown) {
    if (status == "crash" && crash != "") {
      k = split(crash, c, "\037")
      emit("        The sanitizers said:")
      for (i = 1; i <= k; i++)
        emit("          " c[i])
    }
    if (where != "")
      emit("        (" (status == "crash" ? "the last check that passed is at " : "the check is at ") where ")")
    filter = name; sub(/::/, "/", filter)
    emit("        (this test alone: make lesson-" lesson " test ONLY=" filter also ")")
  }
  shown = 1
}
function flush() {
  if (name == "")
    return
  if (status == "fail" && nf == 0)
    status = "crash"
  verdict(status, name, nf ? first[nf] : "", nf ? more[nf] : "", nf ? at[nf] : where)
  name = ""
}
/^(not )?ok / {
  flush()
  line = $0
  sub(/^(not )?ok( [0-9]+)? - /, "", line)
  name = line; sub(/ .*/, "", name)
  rest = substr(line, length(name) + 2)
  status = ($1 == "ok") ? "pass" : "fail"
  nf = 0; where = ""
  if (status == "pass" && rest ~ /# SKIP/)
    status = "skip"
  if (status == "fail" && rest ~ /^ *([Tt]imed out|timeout)/)
    status = "timeout"
  if (status == "fail" && rest ~ /^ *unexpected signal after /) {
    status = "crash"
    where = rest; sub(/^ *unexpected signal after /, "", where)
  }
  next
}
/^#/ { next }
# A failed assertion: "  - FILE:LINE: |+", then its message, six spaces in, a line each.
/^  - .*: \|\+$/ && name != "" {
  nf++
  at[nf] = substr($0, 5); sub(/: \|\+$/, "", at[nf])
  first[nf] = ""; more[nf] = ""; lines[nf] = 0
  next
}
/^      / && nf > 0 {
  l = substr($0, 7); gsub(/\t/, " ", l)
  if (lines[nf]++ == 0) {
    sub(/^Assertion failed: /, "", l)
    first[nf] = l
  } else {
    more[nf] = more[nf] == "" ? l : more[nf] "\037" l
  }
  next
}
END {
  flush()
  n = split(tests, want, " ")
  for (i = 1; i <= n; i++)
    if (!(want[i] in seen_test)) verdict("crash", want[i], missing, "", "")
}
