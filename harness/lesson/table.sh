#!/usr/bin/env bash
# Print a bench CSV as a table: one line per point, each mode's median wall time, and the
# speedup of the last mode over the first against the ideal one (the theory's ratio). Modes
# "py:MODE" (the asyncio program) get columns of their own, and their speedup a column beside.
set -euo pipefail
csv=$1
awk -F, '
  /^#/ { next }
  !header { header = 1; x = $2; next }
  {
    if (!($1 in seen)) { seen[$1] = 1; modes[++nm] = $1 }
    if (!($2 in xs)) { xs[$2] = 1; order[++nx] = $2 }
    wall[$1, $2] = $4; theory[$1, $2] = $9
  }
  END {
    for (m = 1; m <= nm; m++) if (modes[m] !~ /^py:/) { if (first == "") first = modes[m]; last = modes[m] }
    pyfirst = "py:" first; pylast = "py:" last
    haspy = (pyfirst in seen) && (pylast in seen) && first != last
    printf "%8s", x
    for (m = 1; m <= nm; m++) printf "  %12s", modes[m] " (s)"
    printf "  %9s  %7s  %7s%s\n", "speedup", "ideal", "of ideal", haspy ? "    asyncio" : ""
    for (i = 1; i <= nx; i++) {
      p = order[i]; printf "%8s", p
      for (m = 1; m <= nm; m++) printf "  %12s", ((modes[m], p) in wall) ? sprintf("%.3f", wall[modes[m], p]) : "-"
      if (((first, p) in wall) && ((last, p) in wall) && wall[last, p] > 0 && theory[last, p] > 0) {
        s = wall[first, p] / wall[last, p]; ideal = theory[first, p] / theory[last, p]
        printf "  %8.1fx  %6.1fx  %6.0f%%", s, ideal, 100 * s / ideal
      } else printf "  %9s  %7s  %7s", "-", "-", "-"
      if (haspy && ((pyfirst, p) in wall) && ((pylast, p) in wall) && wall[pylast, p] > 0)
        printf "  %8.1fx", wall[pyfirst, p] / wall[pylast, p]
      else if (haspy) printf "  %9s", "-"
      printf "\n"
    }
  }' "$csv"
