# shellcheck shell=bash
# Helpers shared by the benchmarks. Source after setting W (a work dir).

# rss NAME PREP CMD: peak RSS (KiB) of one more run of CMD after PREP.
rss() {
    bash -c "$2"
    /usr/bin/time -f %M -o "$W/rss-$1" bash -c "$3"
    cat "$W/rss-$1"
}

# mean NAME / sd NAME: a result's mean and stddev (s) in hyperfine's
# JSON export $BENCH_JSON.
mean() { jq -r --arg n "$1" '.results[] | select(.command == $n) | .mean' "$BENCH_JSON"; }
sd() { jq -r --arg n "$1" '.results[] | select(.command == $n) | .stddev' "$BENCH_JSON"; }
