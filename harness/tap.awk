# Read Criterion's TAP report; print one line a test, tab-separated:
#   STATUS  SUITE::TEST  DIAGNOSTIC
# STATUS is pass, fail, timeout or crash (a failed test that reported no assertion: it died,
# or a sanitizer stopped it). DIAGNOSTIC is the first assertion message, or empty.
function flush() {
  if (name == "")
    return
  if (status == "fail" && msg == "")
    status = "crash"
  printf "%s\t%s\t%s\n", status, name, msg
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
END { flush() }
