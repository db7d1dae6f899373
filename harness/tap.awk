# Read Criterion's TAP report; print one line a test, tab-separated:
#   STATUS  SUITE::TEST  DIAGNOSTIC
# STATUS is pass, fail, timeout, crash (a failed test that reported no assertion: it died,
# or a sanitizer stopped it) or skip (not run: left out by --filter, or skipped). DIAGNOSTIC is the first line of the test's first failed assertion
# (the earliest in time: Criterion lists a test's failures newest first), or empty.
# With -v full=1 two more fields follow:
#   MORE   the assertion's other lines, joined by the character \037 (unit separator)
#   WHERE  file:line of that assertion, or, for a crash, of the last assertion that passed
function flush() {
  if (name == "")
    return
  if (status == "fail" && n == 0)
    status = "crash"
  if (!full) {
    printf "%s\t%s\t%s\n", status, name, n ? first[n] : ""
  } else {
    printf "%s\t%s\t%s\t%s\t%s\n", status, name, n ? first[n] : "", n ? more[n] : "", n ? at[n] : where
  }
  name = ""
}
function clean(l) {
  gsub(/\t/, " ", l)
  return l
}
/^(not )?ok / {
  flush()
  line = $0
  sub(/^(not )?ok( [0-9]+)? - /, "", line)
  name = line; sub(/ .*/, "", name)
  rest = substr(line, length(name) + 2)
  status = ($1 == "ok") ? "pass" : "fail"
  n = 0; where = ""
  if (status == "pass" && rest ~ /# SKIP/)
    status = "skip"
  if (status == "fail" && rest ~ /^ *timed out/)
    status = "timeout"
  if (status == "fail" && rest ~ /^ *unexpected signal after /) {
    status = "crash"
    where = rest; sub(/^ *unexpected signal after /, "", where)
  }
  next
}
/^#/ { next }
# A failure: "  - FILE:LINE: |+", then its message, six spaces in, one line each.
/^  - .*: \|\+$/ {
  n++
  at[n] = substr($0, 5); sub(/: \|\+$/, "", at[n])
  first[n] = ""; more[n] = ""; lines[n] = 0
  next
}
/^      / && n > 0 {
  l = clean(substr($0, 7))
  if (lines[n]++ == 0) {
    sub(/^Assertion failed: /, "", l)
    first[n] = l
  } else {
    more[n] = more[n] == "" ? l : more[n] "\037" l
  }
  next
}
END { flush() }
