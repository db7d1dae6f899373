#!/usr/bin/env bash
# `make lesson-NN run`: start a private server, run the lesson program once with the given
# arguments, show its row, stop the server.
set -uo pipefail
. harness/lib.sh

kit_start_server || exit 1
echo "server: $SERVER_URL"
echo "running: $PROG --url $SERVER_URL $*"
row=$("$PROG" --url "$SERVER_URL" "$@")
rc=$?
if [ $rc -ne 0 ] || [ -z "$row" ]; then
  echo "[program-failed] the lesson program ended with exit $rc${row:+ and printed: $row}; it should print one row of key=value pairs. Its messages are above." >&2
  exit 1
fi
echo "$row"
peak=$(kit_field peak "$row")
LC_ALL=C printf 'took %.3f s of wall time and %.3f s of CPU; theory says %.3f s%s.\n' \
  "$(kit_field wall_s "$row")" "$(kit_field cpu_s "$row")" "$(kit_field theory_s "$row")" \
  "${peak:+; the server saw at most $peak requests in flight at once}"
echo "next: make lesson-$LESSON bench   (the whole sweep, timed, and its chart)"
