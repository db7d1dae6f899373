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
wa=$(kit_field wall_s "$a") wb=$(kit_field wall_s "$b") ta=$(kit_field theory_s "$a") tb=$(kit_field theory_s "$b")
awk -v wa="$wa" -v wb="$wb" -v ta="$ta" -v tb="$tb" -v m1="${modes[0]}" -v m2="${modes[-1]}" -v args="$SPEEDUP_ARGS" '
  BEGIN { if (wa == "" || wb == "" || wb == 0 || tb == 0) exit
          printf "Speedup (%s): %s %.3f s, %s %.3f s: %.1fx (ideal %.1fx).\n", args, m1, wa, m2, wb, wa / wb, ta / tb }'
