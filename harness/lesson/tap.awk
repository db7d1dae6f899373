# Every test's verdict, worded once for the test runner and the grader (through kit_verdicts in
# harness/lib.sh). Reads Criterion's TAP report. Variables:
#   format=tsv     (default) one line a test, tab-separated: STATUS  SUITE::TEST  DIAGNOSTIC
#   format=report  what `make lesson-NN test` prints: PASS or FAIL and the test's name, the
#                  diagnostic under each failure (one already shown is not repeated)
#   tests="a::b c::d"  the tests that should be in the report; any missing is a crash (the
#                  runner died before it could report them)
# STATUS is pass, fail, timeout or crash (a failed test that reported no assertion: it died, or
# a sanitizer stopped it). DIAGNOSTIC is the first assertion message, or the wording below.
BEGIN {
  TIMEOUT = "[timeout] it did not finish in time: something waits forever (a deadlock, or a loop that never ends)."
  CRASHED = "[crashed] the test process died before the test could report (a crash, a sanitizer error, or exit() in your code). The full log says where."
}
function verdict(status, name, msg,   shown, d) {
  if (status == "timeout") msg = TIMEOUT
  else if (status == "crash") msg = CRASHED
  seen[name] = 1
  if (format != "report") {
    printf "%s\t%s\t%s\n", status, name, msg
    return
  }
  shown = name; gsub(/::/, ": ", shown); gsub(/_/, " ", shown)
  printf "  %s  %s\n", status == "pass" ? "PASS" : "FAIL", shown
  if (status == "pass") return
  print "        " (msg in said ? "(the same as above)" : msg)
  said[msg] = 1
}
function flush() {
  if (name == "")
    return
  if (status == "fail" && msg == "")
    status = "crash"
  verdict(status, name, msg)
  name = ""
}
/^(not )?ok / {
  flush()
  line = $0
  sub(/^(not )?ok( [0-9]+)? - /, "", line)
  name = line; sub(/ .*/, "", name)
  rest = substr(line, length(name) + 2)
  status = ($1 == "ok") ? "pass" : "fail"
  msg = ""
  if (status == "fail" && rest ~ /[Tt]imed out|timeout/)
    status = "timeout"
  next
}
/^ *#/ { next }
/^ +[^ ]/ && !/^ *(---|\.\.\.)$/ {
  l = $0; sub(/^ +/, "", l)
  if (l ~ /^(assertions|failures|at|duration|message|severity|data):/ || l ~ /\|\+$/) next
  sub(/^- /, "", l); sub(/^Assertion failed: /, "", l); gsub(/^"|"$/, "", l); gsub(/\t/, " ", l)
  if (msg == "") msg = l
}
END {
  flush()
  n = split(tests, want, " ")
  for (i = 1; i <= n; i++)
    if (!(want[i] in seen)) verdict("crash", want[i], "")
}
