#!/usr/bin/env bash
# check-output.sh DIR: the self-test of run.sh's output (make check-benchmark). It checks the
# CSV's shape and that the charts are real PNG and SVG files; it never judges a speed.
set -u
dir=${1:?usage: check-output.sh DIR (where run.sh --out wrote)}
csv=$dir/data/benchmark.csv
problems=0

# Report one problem: a diagnostic id, then what was seen and what was expected.
bad() {
    echo "[$1] $2" >&2
    problems=$((problems + 1))
}

if [ ! -s "$csv" ]; then
    bad csv-missing "$csv is missing or empty; run.sh should always write it, even when runs fail."
    exit 1
fi

# The header: comment lines naming the machine, tools and commit, then the column names.
for key in machine cpu compiler python libcurl go node commit date; do
    grep -q "^# $key: " "$csv" ||
        bad csv-header "no '# $key: ...' line in the header of $csv; the header must say where and when the numbers were taken."
done
first_data=$(grep -v '^#' "$csv" | head -n 1)
[ "$first_data" = "benchmark,implementation,value,unit" ] ||
    bad csv-columns "the first line after the comments is '$first_data', expected 'benchmark,implementation,value,unit'."
awk '/^#/ { if (seen) exit 1; next } { seen = 1 }' "$csv" ||
    bad csv-header "a '#' line comes after the data starts; comments belong in the header only."

# Every row: a known benchmark and implementation, a positive number and the benchmark's unit.
rows=$(grep -v '^#' "$csv" | tail -n +2)
bad_rows=$(echo "$rows" | awk -F, '
    BEGIN {
        split("yield_roundtrip:ns spawn_join:ns sem_handoff:ns sleep_10k_100ms:ms tasks_100k_rss:MiB " \
              "http_1000x100ms:ms http_keepalive_rps:req/s wait_for_ready:ns", pairs, " ")
        for (i in pairs) { split(pairs[i], kv, ":"); unit[kv[1]] = kv[2] }
        unit["group_gather"] = "ns"
        unit["tasks_100k_rss_compact"] = "MiB"; unit["yield_roundtrip_compact"] = "ns"
        unit["spawn_join_compact"] = "ns"; unit["sleep_10k_100ms_compact"] = "ms"
        unit["http_1000x100ms_compact"] = "ms"
    }
    NF != 4 || !($1 in unit) || $4 != unit[$1] || $2 !~ /^(aio|asyncio|go|node|curl_multi|curl_socket|epoll_raw)$/ ||
    $3 !~ /^[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$/ || $3 + 0 <= 0 { print NR ": " $0 }')
[ -z "$bad_rows" ] ||
    bad csv-row "these rows are not 'benchmark,implementation,positive number,unit of that benchmark': $bad_rows"

# The peers the header says were measured (go and node are left out when their tools are
# missing, and the header then says "not measured").
peers="asyncio"
grep -q '^# go: go version' "$csv" && peers="$peers go"
grep -q '^# node: v[0-9]' "$csv" && peers="$peers node"

# Every benchmark has its aio row and one per peer; the HTTP ones also the three floors; no duplicates.
for name in yield_roundtrip spawn_join sem_handoff sleep_10k_100ms tasks_100k_rss http_1000x100ms http_keepalive_rps group_gather wait_for_ready \
    tasks_100k_rss_compact yield_roundtrip_compact spawn_join_compact sleep_10k_100ms_compact \
    http_1000x100ms_compact; do
    impls="aio $peers"
    case $name in
    http_*_compact) impls="aio curl_multi" ;;
    *_compact) impls="aio" ;;
    http_*) impls="aio $peers curl_multi curl_socket epoll_raw" ;;
    esac
    for impl in $impls; do
        count=$(echo "$rows" | grep -c "^$name,$impl,")
        [ "$count" = 1 ] ||
            bad csv-coverage "$count rows for $name/$impl, expected exactly 1; a run that failed says why in the header's '# failed:' lines."
    done
done

# The charts: a PNG starts with the 8-byte signature 89 50 4E 47 0D 0A 1A 0A.
png=$dir/benchmark.png
sig=$(head -c 8 "$png" 2>/dev/null | od -An -tx1 | tr -d ' \n')
[ "$sig" = "89504e470d0a1a0a" ] ||
    bad png-signature "$png starts with '${sig:-nothing}', expected the PNG signature 89504e470d0a1a0a; did gnuplot fail (see run.sh's output)?"
grep -q '<svg' "$dir/benchmark.svg" 2>/dev/null ||
    bad svg-missing "$dir/benchmark.svg has no <svg element; gnuplot's svg terminal should have written it."
# The chart draws every implementation: each one's name is a tick label in the SVG.
for impl in aio $peers curl_multi curl_socket epoll_raw; do
    grep -q ">$impl<" "$dir/benchmark.svg" 2>/dev/null ||
        bad svg-bars "$dir/benchmark.svg has no '$impl' tick label, expected a bar for every implementation in the CSV; did benchmark.gp get the lists from run.sh?"
done

if [ "$problems" -gt 0 ]; then
    echo "check-output: $problems problem(s) in $dir" >&2
    exit 1
fi
echo "check-output: $csv has every row in shape (aio, peers: $peers, HTTP floors); the PNG and SVG charts are valid"
