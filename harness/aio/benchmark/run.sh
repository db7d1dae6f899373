#!/usr/bin/env bash
# run.sh: measure the aio runtime against its peers (Python asyncio/aiohttp, Go, Node.js and, for
# HTTP, libcurl's two loops without a runtime and a raw epoll client) on one private delayd; median of several
# runs; writes the CSV, prints a table of ratios and goals, draws the chart. `make benchmark`
# runs it; see harness/aio/benchmark/README.md.
set -u

usage() {
    cat <<'EOF'
usage: harness/aio/benchmark/run.sh [--quick] [--only NAME[,NAME...]] [--out DIR]
                                    [--bin DIR] [--delayd PATH] [--python PATH]
                                    [--go PATH] [--node PATH]
  --quick    tiny sizes and one run each (the self-test; numbers mean nothing)
  --only     run these benchmarks only; other rows of an existing CSV are kept
  --out      where benchmark.png/.svg and data/benchmark.csv go (default: plots)
  --bin      where bench_aio, bench_curl, bench_epoll and bench_go were built
             (default: $BUILD/benchmark)
  --delayd   the server binary (default: $BUILD/bin/delayd)
  --python   the interpreter for the asyncio side, with aiohttp (default: /usr/bin/python3)
  --go       the go command, for its version only (default: go)
  --node     the Node.js interpreter for the node side (default: node)
A peer whose tool is missing (go, node) is left out with one line saying how to install it.
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
quick=0
only=""
out=plots
bin=${BUILD:-build}/benchmark
delayd=${BUILD:-build}/bin/delayd
python=/usr/bin/python3 # Debian's python3: the pyenv one first in PATH has no aiohttp
go=go
node=node

while [ $# -gt 0 ]; do
    case $1 in
    --quick) quick=1 ;;
    --only) only=${2:-}; shift ;;
    --out) out=${2:-}; shift ;;
    --bin) bin=${2:-}; shift ;;
    --delayd) delayd=${2:-}; shift ;;
    --python) python=${2:-}; shift ;;
    --go) go=${2:-}; shift ;;
    --node) node=${2:-}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

ALL="yield_roundtrip spawn_join sem_handoff sleep_10k_100ms tasks_100k_rss http_1000x100ms http_keepalive_rps"
ALL="$ALL group_gather"   # lesson 04: aio_group beside asyncio.TaskGroup
ALL="$ALL wait_for_ready"  # lesson 06
ALL="$ALL tasks_100k_rss_compact yield_roundtrip_compact spawn_join_compact sleep_10k_100ms_compact"  # AIO_TASK_COMPACT
ALL="$ALL http_1000x100ms_compact"

# ---- what each benchmark runs, and its goal -------------------------------------------------

# Options for one run of benchmark $1 by implementation $2. aio gets more rounds than asyncio
# in the micro-benchmarks because each round is ~100x cheaper (Go and Node.js sit between): every
# run lasts a fraction of a second, and the figure is per round either way.
bench_args() {
    if [ "$quick" = 1 ]; then
        case $1 in
        yield_roundtrip) echo "--n 20000" ;;
        spawn_join) echo "--n 2000" ;;
        sem_handoff) echo "--n 2000" ;;
        group_gather) echo "--n 2000" ;;
        wait_for_ready) echo "--n 2000" ;;
        sleep_10k_100ms | sleep_10k_100ms_compact) echo "--n 200 --delay 20" ;;
        tasks_100k_rss | tasks_100k_rss_compact) echo "--n 2000" ;;
        yield_roundtrip_compact | spawn_join_compact) echo "--n 2000" ;;
        http_1000x100ms | http_1000x100ms_compact) echo "--n 20 --delay 20" ;;
        http_keepalive_rps) echo "--conns 4 --seconds 0.3" ;;
        esac
        return
    fi
    case $1:$2 in
    yield_roundtrip:aio) echo "--n 2000000" ;;
    yield_roundtrip:go | yield_roundtrip:node) echo "--n 1000000" ;;
    yield_roundtrip:*) echo "--n 100000" ;;
    spawn_join:aio) echo "--n 500000" ;;
    spawn_join:go | spawn_join:node) echo "--n 300000" ;;
    spawn_join:*) echo "--n 30000" ;;
    sem_handoff:aio) echo "--n 1000000" ;;
    sem_handoff:go | sem_handoff:node) echo "--n 500000" ;;
    sem_handoff:*) echo "--n 30000" ;;
    group_gather:aio) echo "--n 500000" ;;
    group_gather:go | group_gather:node) echo "--n 300000" ;;
    group_gather:*) echo "--n 30000" ;;
    wait_for_ready:aio) echo "--n 500000" ;;
    wait_for_ready:go | wait_for_ready:node) echo "--n 100000" ;;
    wait_for_ready:*) echo "--n 30000" ;;
    sleep_10k_100ms:* | sleep_10k_100ms_compact:*) echo "--n 10000 --delay 100" ;;
    tasks_100k_rss:* | tasks_100k_rss_compact:*) echo "--n 100000" ;;
    yield_roundtrip_compact:*) echo "--n 500000" ;;
    spawn_join_compact:*) echo "--n 500000" ;;
    http_1000x100ms:* | http_1000x100ms_compact:*) echo "--n 1000 --delay 100" ;;
    http_keepalive_rps:*) echo "--conns 100 --seconds 3" ;;
    esac
}

# Runs per implementation: 5 for the fast micro-benchmarks, 3 for the rest, 1 in quick mode.
bench_reps() {
    if [ "$quick" = 1 ]; then echo 1; return; fi
    case $1 in
    yield_roundtrip | spawn_join | sem_handoff | wait_for_ready) echo 5 ;;
    yield_roundtrip_compact | spawn_join_compact) echo 5 ;;
    *) echo 3 ;;
    esac
}

# The peers: what a user would pick instead of aio (asyncio always; go and node when their
# tools are here, found below). The best of them is the table's "best peer".
peers="asyncio"
# Implementations measured for benchmark $1: aio, the peers and, for HTTP, three floors that
# are not peers: curl_multi and curl_socket are libcurl with no runtime (its poll loop, and its
# socket API driven by a plain epoll loop: what aio is built on), epoll_raw no library at all
# (what delayd and the kernel allow on this machine).
bench_impls() {
    case $1 in
    # The same work as the row without _compact, by aio alone; the HTTP one also by libcurl's
    # poll loop again, interleaved, for the floor line under the table.
    http_*_compact) echo "aio curl_multi" ;;
    *_compact) echo "aio" ;;
    http_*) echo "aio $peers curl_multi curl_socket epoll_raw" ;;
    *) echo "aio $peers" ;;
    esac
}

# Goal of benchmark $1 as "BETTER LIMIT MIN_RATIO": BETTER is lower or higher, LIMIT the aio
# value to reach, MIN_RATIO the least advantage over asyncio (0: none asked).
bench_goal() {
    case $1 in
    yield_roundtrip) echo "lower 20 100" ;;
    spawn_join) echo "lower 1000 0" ;;
    sem_handoff) echo "lower 50 100" ;;
    group_gather) echo "lower 1000 0" ;;
    wait_for_ready) echo "lower 2000 10" ;;
    sleep_10k_100ms) echo "lower 105 0" ;;
    sleep_10k_100ms_compact) echo "lower 105 0" ;;   # warm; its cold round is the point (notes)
    tasks_100k_rss) echo "lower 1024 0" ;;
    tasks_100k_rss_compact) echo "lower 88 0" ;;   # Node.js's 0.82 KiB a task, over 7.4 MiB
    yield_roundtrip_compact) echo "lower 500 0" ;;
    spawn_join_compact) echo "lower 1000 0" ;;
    http_1000x100ms | http_1000x100ms_compact) echo "lower 130 0" ;;
    http_keepalive_rps) echo "higher 40000 10" ;;
    esac
}

# The command line of one run of benchmark $1 by implementation $2 against base URL $3.
bench_cmd() {
    local args url="" name=$1
    args=$(bench_args "$1" "$2")
    case $1 in http_*) url="--url $3" ;; esac
    [ "$2" = aio ] || name=${1%_compact}   # only aio has compact tasks; the others do the plain row
    set -- "$name" "$2" "${3:-}"
    case $2 in
    aio) echo "$bin/bench_aio $1 $args $url" ;;
    asyncio) echo "$python $here/bench_asyncio.py $1 $args $url" ;;
    go) echo "$bin/bench_go $1 $args $url" ;;
    node) echo "$node $here/bench_node.mjs $1 $args $url" ;;
    curl_multi) echo "$bin/bench_curl $1 $args $url" ;;
    curl_socket) echo "$bin/bench_curl $1 $args $url --api socket" ;;
    epoll_raw) echo "$bin/bench_epoll $1 $args $url" ;;
    esac
}

# ---- checks before anything runs ------------------------------------------------------------

selected=""
for name in ${only//,/ }; do
    case " $ALL " in
    *" $name "*) selected="$selected $name" ;;
    *) echo "run.sh: unknown benchmark '$name'; known: $ALL" >&2; exit 2 ;;
    esac
done
[ -n "$selected" ] || selected=$ALL

for f in "$bin/bench_aio" "$bin/bench_curl" "$bin/bench_epoll" "$delayd"; do
    if [ ! -x "$f" ]; then
        echo "run.sh: $f is missing; build it first (make benchmark builds everything)" >&2
        exit 2
    fi
done
if ! "$python" -c 'import aiohttp' 2>/dev/null; then
    echo "[python-no-aiohttp] $python cannot import aiohttp, which the asyncio side needs. Install python3-aiohttp, or name an interpreter that has it: make benchmark PYTHON=/path/to/python3" >&2
    exit 2
fi

# Go and Node.js: measured when here, else left out with one line (the table has no column).
# benchmark.mk builds bench_go only when the go command exists.
go_version="" node_version=""
if ! go_version=$("$go" version 2>/dev/null); then
    echo "[benchmark-peer-missing] go not found: apt-get install golang-go (the Go column is left out of this run; make benchmark GO=/path/to/go names another)"
    go_version=""
elif [ ! -x "$bin/bench_go" ]; then
    echo "[benchmark-peer-missing] $bin/bench_go is not built, though $go is here: make benchmark builds it (the Go column is left out of this run)"
    go_version=""
else
    peers="$peers go"
fi
if ! node_version=$("$node" --version 2>/dev/null); then
    echo "[benchmark-peer-missing] node not found: apt-get install nodejs (the Node.js column is left out of this run; make benchmark NODE=/path/to/node names another)"
    node_version=""
elif ! [ "$(echo "$node_version" | sed 's/^v//; s/\..*//')" -ge 18 ] 2>/dev/null; then
    echo "[benchmark-peer-missing] $node is Node.js $node_version; bench_node.mjs needs 18 or later (Debian 12's nodejs is 18): the Node.js column is left out of this run"
    node_version=""
else
    peers="$peers node"
fi

# 1,000 concurrent connections need ~2,000 descriptors between client and server.
ulimit -n "$(ulimit -Hn)" 2>/dev/null

# ---- the server: one delayd for the whole run, stopped on any exit (harness/lib.sh) ----------

KIT_DELAYD=$delayd
. "$here/../../lib.sh"
trap 'echo "run.sh: interrupted" >&2; exit 130' INT TERM
work=$KIT_TMP
kit_start_server || exit 1
server_pid=$SERVER_PID
base=$SERVER_URL

# The server's own counts, "peak=P connections=C", from /stats (JSON read loosely).
server_counts() {
    curl -s --max-time 5 "$base/stats" | tr -d ' \n' |
        awk -F'[,{}]' '{ for (i = 1; i <= NF; i++) { split($i, kv, ":"); gsub(/"/, "", kv[1]);
            if (kv[1] == "peak" || kv[1] == "connections") printf "%s=%s ", kv[1], kv[2] } }'
}

# CPU time (user + system, in clock ticks) delayd has used so far, from /proc/PID/stat (read
# by the shell itself: its name, "(delayd)", has no space, so the fields split plainly).
clk_tck=$(getconf CLK_TCK)
server_ticks() {
    local -a st=()
    read -r -a st <"/proc/$server_pid/stat" 2>/dev/null
    echo $((${st[13]:-0} + ${st[14]:-0}))
}

# ---- running ------------------------------------------------------------------------------

mkdir -p "$out/data" "$bin"
log=$bin/benchmark.log
: >"$log"
echo "benchmark: server $base; every run's row in $log"
declare -A warned median unit failed runs cold_runs cold_median cpu_runs cpu_median srv_runs srv_median
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# One run of benchmark $1 by $2: appends the value to runs[$1:$2], or records why it failed.
# Written with few child processes: on a loaded machine each one costs tens of milliseconds,
# and the quick self-test makes about 50 runs.
run_once() {
    local key=$1:$2 cmd line row="" value limit=120 rc s0=0 s1=0 per word loops conns
    local -A f=()
    [ "$quick" = 1 ] && limit=20
    bench_cmd "$1" "$2" "$base" >"$work/cmd"
    read -r cmd <"$work/cmd"
    case $1 in http_*) curl -s --max-time 5 "$base/reset" >/dev/null; s0=$(server_ticks) ;; esac
    # shellcheck disable=SC2086 # cmd is split into words on purpose
    timeout --foreground "$limit" $cmd >"$work/row" 2>"$work/err"
    rc=$?
    # A run killed by Ctrl+C (or a child that turned it into exit 130) ends the whole benchmark.
    if [ "$rc" = 130 ] || [ "$rc" = 143 ]; then
        echo "run.sh: interrupted during $2 $1" >&2
        exit 130
    fi
    while IFS= read -r line; do
        case $line in benchmark=*) row=$line ;; esac
    done <"$work/row"
    # The program's own fields (the first cpu_s is the client's; the server's is added below).
    for word in $row; do
        [ -z "${f[${word%%=*}]:-}" ] && f[${word%%=*}]=${word#*=}
    done
    case $1 in
    http_*)
        s1=$(server_ticks)
        row="$row server: $(server_counts)cpu_s=$(awk -v a="$s0" -v b="$s1" -v hz="$clk_tck" 'BEGIN { print (b - a) / hz }')"
        for word in $row; do
            case $word in peak=* | connections=*) f[${word%%=*}]=${word#*=} ;; esac
        done
        f[server_cpu_s]=${row##*cpu_s=}
        ;;
    esac
    echo "$2 $row" >>"$log"
    local last=""
    while IFS= read -r line; do
        echo "$line"
        last=$line
    done <"$work/err" >>"$log"
    value=${f[value]:-}
    if [ "$rc" != 0 ] || [ -z "$value" ]; then
        if [ "$rc" = 124 ]; then
            failed[$key]="timed out after $limit s"
        else
            failed[$key]="exit $rc: ${last:0:160}"
        fi
        return 1
    fi
    runs[$key]="${runs[$key]:-} $value"
    unit[$key]=${f[unit]:-}
    # sleep_10k_100ms also reports its first, cold round (fresh stacks); kept as a note.
    if [ -n "${f[cold_ms]:-}" ]; then
        cold_runs[$key]="${cold_runs[$key]:-} ${f[cold_ms]}"
    fi
    case $1 in
    http_*)
        # CPU microseconds per request, client and server, "client/server".
        per=$(awk -v n="${f[requests]:-0}" -v c="${f[cpu_s]:-}" -v s="${f[server_cpu_s]}" \
            'BEGIN { if (n > 0 && c != "") printf "%.0f/%.0f", c / n * 1e6, s / n * 1e6 }')
        [ -n "$per" ] && cpu_runs[$key]="${cpu_runs[$key]:-} $per"
        # The server's own counts, "peak/connections": the same check for every client.
        srv_runs[$key]="${srv_runs[$key]:-} ${f[peak]:-0}/${f[connections]:-0}"
        ;;
    esac
    # Keep-alive means each loop keeps its connection: about one per loop. A client that does
    # not reuse them opens one per request (thousands); up to two per loop is let pass, as Go's
    # transport now and then replaces a few (7 for 4 loops, once in 12 quick runs).
    loops=${f[loops]:-} conns=${f[connections]:-}
    if [ "$1" = http_keepalive_rps ] && [ -n "$loops" ] && [ -n "$conns" ] &&
        [ "$conns" -gt $((2 * loops)) ] && [ -z "${warned[$key]:-}" ]; then
        warned[$key]="[benchmark-no-reuse] $2 $1: delayd saw $conns connections for $loops request loops, expected about $loops (at most $((2 * loops))); the client did not keep its connections alive, so this row measures connecting too"
    fi
    return 0
}

# Median of the numbers given as arguments; each may be several numbers joined by "/"
# ("client/server"), and then the medians are taken side by side ("2/3" and "4/1": "3/2").
# One awk, no sort: the lists are short.
median_of() {
    awk 'BEGIN {
        n = ARGC - 1
        for (i = 1; i <= n; i++) {
            k = split(ARGV[i], parts, "/")
            for (j = 1; j <= k; j++) cols[i, j] = parts[j]
        }
        for (j = 1; j <= k; j++) {
            for (i = 1; i <= n; i++) { v[i] = cols[i, j]; s[i] = v[i] + 0 }
            for (i = 2; i <= n; i++)        # insertion sort by value, keeping the text
                for (m = i; m > 1 && s[m - 1] > s[m]; m--) {
                    t = s[m]; s[m] = s[m - 1]; s[m - 1] = t
                    t = v[m]; v[m] = v[m - 1]; v[m - 1] = t
                }
            out = out (j > 1 ? "/" : "") (n % 2 ? v[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2)
        }
        print out
        exit
    }' "$@"
}

any_failed=0
for name in $selected; do
    reps=$(bench_reps "$name")
    # Runs are interleaved (aio, asyncio, aio, ...) so a noisy moment hurts both sides alike.
    for rep in $(seq "$reps"); do
        for impl in $(bench_impls "$name"); do
            [ -n "${failed[$name:$impl]:-}" ] && continue
            run_once "$name" "$impl" || any_failed=1
        done
    done
    for impl in $(bench_impls "$name"); do
        key=$name:$impl
        if [ -n "${failed[$key]:-}" ]; then
            printf '  %-20s %-10s FAILED: %s\n' "$name" "$impl" "${failed[$key]}"
            continue
        fi
        # shellcheck disable=SC2086
        median[$key]=$(median_of ${runs[$key]})
        # shellcheck disable=SC2086
        if [ -n "${cold_runs[$key]:-}" ]; then
            cold_median[$key]=$(median_of ${cold_runs[$key]})
        fi
        # Each run gave "client/server" and "peak/connections"; medians side by side.
        if [ -n "${cpu_runs[$key]:-}" ]; then
            # shellcheck disable=SC2086
            cpu_median[$key]=$(median_of ${cpu_runs[$key]})
        fi
        if [ -n "${srv_runs[$key]:-}" ]; then
            # shellcheck disable=SC2086
            srv_median[$key]=$(median_of ${srv_runs[$key]})
        fi
        printf '  %-20s %-10s runs:%s -> median %s %s\n' "$name" "$impl" "${runs[$key]}" \
            "${median[$key]}" "${unit[$key]}"
    done
done

# ---- the CSV ------------------------------------------------------------------------------

csv=$out/data/benchmark.csv
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
# Only the code being measured matters: the runtime, the server and this folder.
if [ -n "$(git status --porcelain -- harness/aio harness/delayd 2>/dev/null)" ]; then
    commit="$commit (with uncommitted changes in harness/aio or harness/delayd)"
fi
{
    echo "# aio runtime vs its peers ($peers; HTTP floors curl_multi, curl_socket, epoll_raw): harness/aio/benchmark/run.sh, median of 3 runs (5 for the micro-benchmarks)$([ "$quick" = 1 ] && echo ', QUICK MODE: tiny sizes, 1 run, numbers mean nothing')"
    echo "# machine: $(uname -srmo)"
    echo "# cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), cores: $(nproc)"
    echo "# compiler: $(${CC:-cc} --version | head -n 1)"
    echo "# python: $("$python" --version 2>&1), aiohttp $("$python" -c 'import aiohttp; print(aiohttp.__version__)')"
    echo "# libcurl: $(curl-config --version 2>/dev/null || echo unknown) (aio, curl_multi and curl_socket)"
    if [ -n "$go_version" ]; then
        echo "# go: $go_version, GOMAXPROCS ${GOMAXPROCS:-$(nproc) (the default: one per core)}, net/http"
    else
        echo "# go: not measured (no go command or no bench_go)"
    fi
    if [ -n "$node_version" ]; then
        echo "# node: $node_version, http.Agent with keepAlive (the built-in fetch was slower here)"
    else
        echo "# node: not measured (no node 18 or later)"
    fi
    echo "# commit: $commit"
    echo "# date: $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
    echo "# load average (1, 5, 15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# yield_roundtrip: two tasks ping-pong, ns per yield; spawn_join: spawn then join at once, one after another; sem_handoff: two tasks pass one permit, ns per hand-over; group_gather: a task group of 1000 no-op children, ns per child"
    for name in $selected; do
        for impl in $(bench_impls "$name"); do
            [ -n "${failed[$name:$impl]:-}" ] && echo "# failed: $name $impl: ${failed[$name:$impl]}"
        done
    done
    for name in $selected; do
        notes=""
        for impl in $(bench_impls "$name"); do
            [ -n "${cold_median[$name:$impl]:-}" ] && notes="$notes $impl ${cold_median[$name:$impl]} ms,"
        done
        [ -n "$notes" ] && echo "# $name, first round in a fresh process (cold):${notes%,}"
        notes=""
        for impl in $(bench_impls "$name"); do
            [ -n "${cpu_median[$name:$impl]:-}" ] && notes="$notes $impl ${cpu_median[$name:$impl]},"
        done
        [ -n "$notes" ] && echo "# $name, CPU us per request, client/server:${notes%,}"
        notes=""
        for impl in $(bench_impls "$name"); do
            [ -n "${srv_median[$name:$impl]:-}" ] && notes="$notes $impl ${srv_median[$name:$impl]},"
        done
        [ -n "$notes" ] && echo "# $name, delayd's peak in flight/connections opened:${notes%,}"
        for impl in $(bench_impls "$name"); do
            [ -n "${warned[$name:$impl]:-}" ] && echo "# $name, warning: ${warned[$name:$impl]}"
        done
    done
    if [ -n "$only" ] && [ -f "$csv" ]; then
        kept=$(awk -F, -v sel=" $selected " '!/^#/ && $1 != "benchmark" && index(sel, " " $1 " ") == 0' "$csv")
        if [ -n "$kept" ]; then
            echo "# rows of other benchmarks kept from the earlier run of $(sed -n 's/^# date: //p' "$csv")"
            # ...with their notes (cold rounds, CPU per request, failures).
            for name in $ALL; do
                case " $selected " in *" $name "*) continue ;; esac
                grep -E "^# (failed: )?$name[ ,]" "$csv"
            done
        fi
    fi
    echo "benchmark,implementation,value,unit"
    # Rows in the canonical order, whichever ran now and whichever were kept.
    for name in $ALL; do
        [ -n "${kept:-}" ] && echo "$kept" | grep "^$name,"
        for impl in $(bench_impls "$name"); do
            [ -n "${median[$name:$impl]:-}" ] && echo "$name,$impl,${median[$name:$impl]},${unit[$name:$impl]}"
        done
    done
} >"$work/benchmark.csv"
mv "$work/benchmark.csv" "$csv"

# ---- the table ----------------------------------------------------------------------------

# Columns: aio, each peer, the three HTTP floors; then aio's ratio to asyncio (the kit's first
# claim), to the best peer on that row, the goal and the verdict.
columns="aio $peers curl_multi curl_socket epoll_raw"
echo
{
    printf '%-19s' benchmark
    for c in $columns; do printf ' %11s' "$c"; done
    printf ' %8s %-18s %-25s %s\n' "vs asyncio" "best peer" goal verdict
} | sed 's/ *$//'
behind=""
for name in $selected; do
    read -r better limit min_ratio <<<"$(bench_goal "$name")"
    values=""
    for c in $columns; do values="$values $c=${median[$name:$c]:-}"; done
    line=$(awk -v name="$name" -v values="$values" -v peers="$peers" \
        -v u="${unit[$name:aio]:-${unit[$name:asyncio]:-}}" \
        -v better="$better" -v limit="$limit" -v min_ratio="$min_ratio" -v quick="$quick" '
    function show(v) { return v == "" ? "-" : sprintf(v + 0 >= 1000 ? "%.0f %s" : "%.4g %s", v, u) }
    # How many times better aio is than a peer that got p: p/a for time and memory, a/p for rates.
    function times(a, p) { return better == "lower" ? p / a : a / p }
    BEGIN {
        nc = split(values, cols, " ")
        for (i = 1; i <= nc; i++) { split(cols[i], kv, "="); v[kv[1]] = kv[2]; order[i] = kv[1] }
        a = v["aio"]
        ratio = ""
        if (a != "" && v["asyncio"] != "" && a + 0 > 0 && v["asyncio"] + 0 > 0) ratio = times(a, v["asyncio"])
        # The best peer: the one aio is least ahead of (or most behind).
        np = split(peers, pl, " ")
        best = ""; best_ratio = ""
        for (i = 1; i <= np; i++) {
            p = v[pl[i]]
            if (a == "" || a + 0 <= 0 || p == "" || p + 0 <= 0) continue
            r = times(a, p)
            if (best == "" || r < best_ratio) { best = pl[i]; best_ratio = r }
        }
        goal = (better == "lower" ? "<= " : ">= ") limit " " (u == "" ? "" : u)
        if (min_ratio > 0) goal = goal ", >= " min_ratio "x"
        if (a == "") verdict = "FAILED (aio)"
        else if (quick) verdict = "(quick mode)"
        else {
            ok = better == "lower" ? a + 0 <= limit + 0 : a + 0 >= limit + 0
            if (min_ratio > 0 && (ratio == "" || ratio < min_ratio + 0)) ok = 0
            verdict = ok ? "met" : "NOT MET"
        }
        printf "%-19s", name
        for (i = 1; i <= nc; i++) printf " %11s", show(v[order[i]])
        printf " %8s %-18s %-25s %s\n", ratio == "" ? "-" : sprintf("%.3gx", ratio),
            best == "" ? "-" : sprintf("%s %.3gx%s", best, best_ratio, best_ratio < 1 ? " BEHIND" : ""),
            goal, verdict
        # For the summary under the table: "name best factor" when aio is behind.
        if (best != "" && best_ratio < 1) printf "BEHIND %s %s %.3g\n", name, best, 1 / best_ratio
    }')
    echo "$line" | grep -v '^BEHIND '
    behind="$behind$(echo "$line" | sed -n 's/^BEHIND //p')
"
done
# The HTTP rows against libcurl's poll loop, each against the curl_multi runs interleaved with
# its own. The goal, within 5%, says the runtime adds nothing that libcurl does not cost.
for name in $selected; do
    case $name in http_*) ;; *) continue ;; esac
    [ "$quick" = 1 ] && continue
    read -r better _ _ <<<"$(bench_goal "$name")"
    a=${median[$name:aio]:-} f=${median[$name:curl_multi]:-}
    [ -n "$a" ] && [ -n "$f" ] || continue
    awk -v name="$name" -v a="$a" -v f="$f" -v better="$better" 'BEGIN {
        # How far aio is behind the floor, in percent (negative: ahead of it).
        behind = better == "lower" ? (a / f - 1) * 100 : (f / a - 1) * 100
        printf "floor: on %s aio is %.1f%% %s curl_multi (goal: within 5%%): %s\n", name,
            behind < 0 ? -behind : behind, behind < 0 ? "ahead of" : "behind",
            behind <= 5 ? "met" : "NOT MET"
    }'
done
echo "vs asyncio, best peer: how many times better aio is (time, memory: peer/aio; req/s: aio/peer)."
echo "      The best peer is the best of: $peers (curl_multi, curl_socket and epoll_raw are floors, not peers)."
if [ -n "${behind//$'\n'/}" ]; then
    echo "$behind" | awk 'NF == 3 { printf "behind: on %s aio is %sx behind %s (README.md, \"Where the limits are\", says why)\n", $1, $3, $2 }'
fi
if grep -q '^# .*CPU us per request' "$csv"; then
    echo "note: CPU time per request (client process / delayd), in microseconds: a busy machine slows the"
    echo "      wall clock, not these; the client that spends less CPU per request is the faster runtime."
    grep '^# .*CPU us per request' "$csv" | sed 's/^# /      /'
fi
if grep -q "^# .*delayd's peak" "$csv"; then
    echo "note: what delayd itself saw (medians): requests in flight at the peak / connections opened."
    grep "^# .*delayd's peak" "$csv" | sed 's/^# /      /'
fi
grep '^# .*, warning: ' "$csv" | sed 's/^# [a-z_0-9]*, warning: //'
if grep -q '^# .*(cold):' "$csv"; then
    echo "note: sleep_10k_100ms (and _compact) above is each program's second round; the first, cold round also pays for fresh task memory:"
    grep '^# .*(cold):' "$csv" | sed 's/^# /      /'
fi

# ---- the chart ----------------------------------------------------------------------------

names="" units="" goals="" betters=""
for name in $ALL; do
    u=$(awk -F, -v n="$name" '$1 == n { print $4; exit }' "$csv")
    [ -n "$u" ] || continue
    read -r better limit _ <<<"$(bench_goal "$name")"
    names="$names $name" units="$units $u" goals="$goals $limit" betters="$betters $better"
done
# The bars of each kind of panel: the implementations the CSV has, in the table's order (rows
# kept from an earlier run with ONLY= may have a peer this run did not find).
csv_impls() {
    local c list=""
    for c in aio asyncio go node curl_multi curl_socket epoll_raw; do
        awk -F, -v c="$c" -v http="$1" '!/^#/ && $2 == c && (($1 ~ /^http_/) == http) { found = 1 }
            END { exit !found }' "$csv" && list="$list $c"
    done
    echo "${list# }"
}
if [ -n "$names" ]; then
    when=$(sed -n 's/^# date: //p' "$csv" | cut -c1-10)
    subtitle="$when, commit ${commit%% *}, $(nproc) cores, load average $load_start at start"
    [ "$quick" = 1 ] && subtitle="QUICK MODE: tiny sizes, numbers mean nothing. $subtitle"
    if gnuplot -e "csv='$csv'; png='$out/benchmark.png'; svg='$out/benchmark.svg'" \
        -e "subtitle='$subtitle'" \
        -e "names='$names'; units='$units'; goals='$goals'; betters='$betters'" \
        -e "micro_impls='$(csv_impls 0)'; http_impls='$(csv_impls 1)'" \
        "$here/benchmark.gp" 2>"$work/gnuplot.err"; then
        echo "chart: $out/benchmark.png, $out/benchmark.svg; data: $csv"
    else
        echo "run.sh: gnuplot failed:" >&2
        cat "$work/gnuplot.err" >&2
        any_failed=1
    fi
fi

if [ "$any_failed" = 1 ]; then
    echo "run.sh: some runs failed (see FAILED above and $log); the others are in $csv" >&2
    exit 1
fi
exit 0
