#!/usr/bin/env bash
# After a passing run: one point of the lesson's program in its first and last mode, and the
# speedup between them (SPEEDUP_ARGS, BENCH_MODES from lesson.mk). Silent when the lesson has none.
set -uo pipefail
. harness/lib.sh
[ -n "${SPEEDUP_ARGS:-}" ] && [ -n "${BENCH_MODES:-}" ] && [ -x "$PROG" ] || exit 0
kit_start_server || exit 0
read -r -a modes <<<"$BENCH_MODES"
read -r -a args <<<"$SPEEDUP_ARGS"
a=$("$PROG" --url "$SERVER_URL" --mode "${modes[0]}" "${args[@]}" 2>/dev/null)
b=$("$PROG" --url "$SERVER_URL" --mode "${modes[-1]}" "${args[@]}" 2>/dev/null)
awk -v a="$a" -v b="$b" -v m1="${modes[0]}" -v m2="${modes[-1]}" -v args="$SPEEDUP_ARGS" '
  function get(row, k,   n, f, i, kv) { n = split(row, f, " "); for (i = 1; i <= n; i++) { split(f[i], kv, "="); if (kv[1] == k) return kv[2] } return "" }
  BEGIN { wa = get(a, "wall_s"); wb = get(b, "wall_s"); ta = get(a, "theory_s"); tb = get(b, "theory_s")
          if (wa == "" || wb == "" || wb == 0 || tb == 0) exit
          printf "Speedup (%s): %s %.3f s, %s %.3f s: %.1fx (ideal %.1fx).\n", args, m1, wa, m2, wb, wa / wb, ta / tb }'
