#!/usr/bin/env bash
# `make lesson-NN run [URL=BASE | URLS=FILE]`: run the lesson program once with the given
# arguments, against a private server (or yours), show its row, stop the server.
set -uo pipefail
. harness/lib.sh

kit_target "$PROG" || exit 1
echo "running: $PROG ${TARGET_ARGS[*]} $*"
row=$("$PROG" "${TARGET_ARGS[@]}" "$@")
rc=$?
if [ $rc -ne 0 ] || [ -z "$row" ]; then
  echo "[program-failed] the lesson program ended with exit $rc${row:+ and printed: $row}; it should print one row of key=value pairs. Its messages are above." >&2
  exit 1
fi
echo "$row"
# Numbers where the row has them: against another server, theory and peak are "unknown".
num() { [[ $1 =~ ^[0-9.]+$ ]]; }
wall=$(kit_field wall_s "$row"); cpu=$(kit_field cpu_s "$row")
theory=$(kit_field theory_s "$row"); peak=$(kit_field peak "$row")
LC_ALL=C printf 'took %.3f s of wall time and %.3f s of CPU' "$wall" "$cpu"
if num "$theory"; then LC_ALL=C printf '; theory says %.3f s' "$theory"; fi
if num "$peak"; then printf '; the server saw at most %s request%s in flight at once' "$peak" "$([ "$peak" = 1 ] || echo s)"
else printf '; the server cannot say how many requests it had in flight (only delayd counts)'; fi
echo .
echo "next: make lesson-$LESSON bench   (the whole sweep, timed, and its chart)"
