#!/usr/bin/env bash
# Benchmark of `ketascreen batch --profile` against `batch` without one, on the same file in the
# same run (docs/performance.md). The file is the batch benchmark's (examples/gen_intake.rs: an
# id column and every default question's column); the profile (`gen_intake --profile`) recodes
# every column: each yes/no column's spellings and each choice's ids and labels through
# `values:`, each number column through `unit:`, with REDCap's 18 missing-data codes. Runs are
# interleaved so that background load hits both alike; reported: median and best wall time,
# median CPU time, the ratio with/without, and peak resident memory.
#
# Usage: bench/profile.sh [ROWS]        default: 1000000
# Env:   RUNS (default 5), BENCH_DIR (default target/bench), FORMAT (default ndjson),
#        KETASCREEN_THREADS (screening threads, default one per CPU)
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${1:-1000000}
runs=${RUNS:-5}
format=${FORMAT:-ndjson}
dir=${BENCH_DIR:-target/bench}
mkdir -p "$dir"

cargo build --release --quiet --bin ketascreen --example gen_intake
bin=target/release/ketascreen
gen=target/release/examples/gen_intake
[ -x /usr/bin/time ] || { echo "bench/profile.sh needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

file="$dir/intake-$rows.csv"
profile="$dir/recode-all.yaml"
[ -s "$file" ] || "$gen" "$rows" > "$file"
"$gen" --profile > "$profile"
"$bin" profile lint "$profile" > /dev/null

echo "machine: $(nproc) CPUs; ketascreen $("$bin" --version | cut -d' ' -f2), threads: ${KETASCREEN_THREADS:-one per CPU}, runs: $runs, rows: $rows, --format $format"

measure() {
    local name=$1; shift
    /usr/bin/time -f "%e %U %S %M" -o "$dir/time.tmp" "$@" > /dev/null 2> "$dir/stderr.tmp" \
        || { cat "$dir/stderr.tmp" >&2; exit 1; }
    tail -n1 "$dir/time.tmp" >> "$dir/$name.times"
}
median() {
    sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
stats() {
    local t="$dir/$1.times"
    echo "$(cut -d' ' -f1 "$t" | median) $(cut -d' ' -f1 "$t" | sort -n | head -n1)" \
        "$(awk '{ print $2 + $3 }' "$t" | median) $(cut -d' ' -f4 "$t" | sort -n | tail -n1)"
}

rm -f "$dir"/{plain,profile}.times
cat "$file" > /dev/null # warm the page cache
for _ in $(seq "$runs"); do
    measure plain "$bin" batch "$file" --format "$format"
    measure profile "$bin" batch "$file" --format "$format" --profile "$profile"
done
read -r p_wall _ p_cpu _ < <(stats plain)
printf '\n%-8s %10s %10s %10s %9s %9s %10s\n' run "wall med" "wall best" "cpu med" "x wall" "x cpu" "max RSS"
for name in plain profile; do
    read -r wall best cpu rss < <(stats "$name")
    printf '%-8s %9.3fs %9.3fs %9.3fs %8.2fx %8.2fx %7.1f MB\n' "$name" "$wall" "$best" "$cpu" \
        "$(awk "BEGIN { print $wall / $p_wall }")" "$(awk "BEGIN { print $cpu / $p_cpu }")" \
        "$(awk "BEGIN { print $rss / 1024 }")"
done
rm -f "$dir/time.tmp" "$dir/stderr.tmp"
