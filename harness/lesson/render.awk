# Render the runner's per-test lines for the student. Input: harness/tap.awk's full=1 records
#   STATUS  SUITE::TEST  DIAGNOSTIC  MORE  WHERE
# Variables:
#   view=full    one line a test, the diagnostic under each failure (make lesson-NN test)
#   view=watch   only failures: the first in full, the others by name (make lesson-NN watch)
#   view=one     as full, for the first record only (the test run ahead of the others)
#   seen=FILE    diagnostics already shown in an earlier call, one "NAME<tab>KEY" a line; the
#                ones shown now are appended, so that a repeat can name the test it repeats
#   shownfull=1  a failure was already shown in full: show the others in short
#   lesson=NN logfile=FILE crash=TEXT (lines joined by \037: what the sanitizer said, for the first
#   crash shown in full)
# A diagnostic's continuation lines are shown indented, up to `cap` of them except for the first
# failure, which is shown whole, with where its check is and how to run it alone.
function pretty(n,   s) { s = n; sub(/::/, ": ", s); gsub(/_/, " ", s); return s }
function filter(n,   s) { s = n; sub(/::/, "/", s); return s }
function emit(line) { print line; fflush() }
function diag_of(status, d) {
  if (status == "timeout")
    return "[timeout] it did not finish in time: something waits forever (a deadlock, or a loop that never ends)."
  if (status == "crash" && d == "")
    return "[crashed] the test process died before the test could report (a crash, a sanitizer error, or exit() in your code)."
  return d
}
BEGIN {
  FS = "\t"
  if (cap == "") cap = 15
  if (seen != "") {
    while ((getline l < seen) > 0) {
      split(l, p, "\t")
      if (!(p[2] in said)) said[p[2]] = p[1]
    }
    close(seen)
  }
  shown = shownfull + 0
  others = 0
}
{
  status = $1; name = $2; d = diag_of(status, $3); more = $4; where = $5
  if (status == "skip") next
  if (view == "one" && ++ones > 1) next
  if (status == "pass") {
    if (view != "watch") emit("  PASS  " pretty(name))
    next
  }
  if (view == "watch" && shown) {
    # Watch mode names the other failures only; make lesson-NN test shows their diagnostics.
    if (others++ == 0) emit("\nAlso failing:")
    emit("  " pretty(name) (d ~ /^\[[a-z0-9-]+\]/ ? "  " substr(d, 1, index(d, "]")) : ""))
    next
  }
  emit("  FAIL  " pretty(name))
  key = d "\037" more
  if (key in said) {
    emit("        (the same diagnostic as " pretty(said[key]) ")")
    next
  }
  said[key] = name
  if (seen != "") print name "\t" key >>seen
  emit("        " d)
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
    emit("        (this test alone: make lesson-" lesson " test ONLY=" filter(name) ")")
  }
  shown = 1
}
END { if (shownfile != "" && shown) print 1 >shownfile }
