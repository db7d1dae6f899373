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
  echo "the lesson program failed (exit $rc)${row:+; it printed: $row}" >&2
  exit 1
fi
echo "$row"
awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
     END { printf "took %.3f s of wall time and %.3f s of CPU; theory says %.3f s", v["wall_s"], v["cpu_s"], v["theory_s"];
           if ("peak" in v) printf "; the server saw at most %s requests in flight at once", v["peak"];
           print "." }' <<<"$row"
echo "next: make lesson-$LESSON bench   (the whole sweep, timed, and its chart)"
