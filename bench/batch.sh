#!/usr/bin/env bash
# Benchmark of `ketascreen batch` against the CSV parse floor (docs/batch.md, "Performance").
#
# For each row count it generates a synthetic intake CSV (examples/gen_intake.rs: an id column
# and every default question's column, ~2% blank cells, every verdict), then times, in the
# same run and interleaved so that background load hits all of them alike:
#   floor   the csv crate alone reading the file and counting rows (examples/parse_floor.rs)
#   csv     ketascreen batch FILE --format csv    > /dev/null
#   ndjson  ketascreen batch FILE --format ndjson > /dev/null
# and reports median and best wall time, median CPU time (user + system), the ratios to the
# floor, and the peak resident memory ("Maximum resident set size" from /usr/bin/time -v).
# Memory is also measured on the same file without its id column, where nothing at all grows
# with the row count (the duplicate-id pre-scan keeps 8 bytes per row with an id).
#
# With BASE_BIN set to another ketascreen binary (e.g. one built from an older commit in its
# own worktree), that binary is timed too, interleaved in the same loop (csv-base,
# ndjson-base), and each format's ratio to it is printed ("x base").
#
# To compare with a binary that predates the current ruleset, screen the older ruleset's file
# with both: GEN=<that build's gen_intake> writes the file, RULES=<the older ruleset> is given
# to BIN with --rules (BASE_BIN uses its own built-in ruleset), and BENCH_DIR keeps the files apart.
#
# Usage: bench/batch.sh [ROWS...]        default: 100000 1000000
# Env:   RUNS (default 5), BENCH_DIR (default target/bench),
#        KETASCREEN_THREADS (screening threads, default one per CPU), BIN, BASE_BIN, GEN, RULES
set -euo pipefail
cd "$(dirname "$0")/.."

rows_list=("$@")
[ ${#rows_list[@]} -gt 0 ] || rows_list=(100000 1000000)
runs=${RUNS:-5}
dir=${BENCH_DIR:-target/bench}
mkdir -p "$dir"

# BIN: time this binary instead of building target/release/ketascreen (the examples are
# still taken from target/release/examples, built if missing).
if [ -z "${BIN:-}" ] || [ ! -x target/release/examples/parse_floor ]; then
    cargo build --release --quiet --bin ketascreen --example gen_intake --example parse_floor
fi
bin=${BIN:-target/release/ketascreen}
gen=${GEN:-target/release/examples/gen_intake}
rules=()
[ -z "${RULES:-}" ] || rules=(--rules "$RULES")
floor=target/release/examples/parse_floor
[ -x /usr/bin/time ] || { echo "bench/batch.sh needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "ketascreen $("$bin" --version | cut -d' ' -f2), threads: ${KETASCREEN_THREADS:-one per CPU}, runs: $runs"

# measure NAME CMD... : appends "wall user sys maxrss_kb" of one run to $dir/NAME.times
measure() {
    local name=$1; shift
    /usr/bin/time -f "%e %U %S %M" -o "$dir/time.tmp" "$@" > /dev/null 2> "$dir/stderr.tmp" \
        || { cat "$dir/stderr.tmp" >&2; exit 1; }
    tail -n1 "$dir/time.tmp" >> "$dir/$name.times"
}

# median FILE : the median of a column of numbers
median() {
    sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# stats NAME : "median_wall best_wall median_cpu max_rss_kb"
stats() {
    local t="$dir/$1.times"
    echo "$(cut -d' ' -f1 "$t" | median) $(cut -d' ' -f1 "$t" | sort -n | head -n1)" \
        "$(awk '{ print $2 + $3 }' "$t" | median) $(cut -d' ' -f4 "$t" | sort -n | tail -n1)"
}

printf '\n%-9s %-8s %10s %10s %10s %11s %10s %10s\n' rows command "wall med" "wall best" "cpu med" "x floor" "x cpu" "max RSS"
for rows in "${rows_list[@]}"; do
    file="$dir/intake-$rows.csv"
    noid="$dir/intake-$rows-noid.csv"
    [ -s "$file" ] || "$gen" "$rows" > "$file"
    [ -s "$noid" ] || "$gen" "$rows" --no-id > "$noid"
    rm -f "$dir"/{floor,csv,ndjson,csv-noid,ndjson-noid,csv-base,ndjson-base}.times
    "$floor" "$file" > /dev/null # warm the page cache
    for _ in $(seq "$runs"); do
        measure floor "$floor" "$file"
        measure csv "$bin" batch "${rules[@]}" "$file" --format csv
        measure ndjson "$bin" batch "${rules[@]}" "$file" --format ndjson
        if [ -n "${BASE_BIN:-}" ]; then
            measure csv-base "$BASE_BIN" batch "$file" --format csv
            measure ndjson-base "$BASE_BIN" batch "$file" --format ndjson
        fi
    done
    measure csv-noid "$bin" batch "${rules[@]}" "$noid" --format csv
    measure ndjson-noid "$bin" batch "${rules[@]}" "$noid" --format ndjson
    read -r f_wall f_best f_cpu f_rss < <(stats floor)
    for name in floor csv ndjson; do
        read -r wall best cpu rss < <(stats "$name")
        printf '%-9s %-8s %9.3fs %9.3fs %9.3fs %10.2fx %9.2fx %7.1f MB\n' "$rows" "$name" \
            "$wall" "$best" "$cpu" "$(awk "BEGIN { print $wall / $f_wall }")" \
            "$(awk "BEGIN { print $cpu / $f_cpu }")" "$(awk "BEGIN { print $rss / 1024 }")"
    done
    if [ -n "${BASE_BIN:-}" ]; then
        for name in csv ndjson; do
            read -r wall _ cpu rss < <(stats "$name")
            read -r bwall _ bcpu brss < <(stats "$name-base")
            printf '%-9s %-12s base wall %.3fs cpu %.3fs rss %.1f MB; x base: wall %.2fx cpu %.2fx\n' \
                "$rows" "$name" "$bwall" "$bcpu" "$(awk "BEGIN { print $brss / 1024 }")" \
                "$(awk "BEGIN { print $wall / $bwall }")" "$(awk "BEGIN { print $cpu / $bcpu }")"
        done
    fi
    for name in csv-noid ndjson-noid; do
        read -r _ _ _ rss < <(stats "$name")
        printf '%-9s %-12s %58.1f MB\n' "$rows" "$name" "$(awk "BEGIN { print $rss / 1024 }")"
    done
done
rm -f "$dir/time.tmp" "$dir/stderr.tmp"
