#!/bin/sh
# Runs each libFuzzer harness for SECONDS on its seed corpus (made from the
# samples) and the inputs it found before, then replays the regression
# inputs of tests/fuzz/regress/TARGET/ (every crash found once, kept so it
# stays found). Prints one line a target: executions, executions a second,
# corpus size. Exits 1 when any target crashed, leaked or timed out.
# Usage: run.sh BUILD_DIR SECONDS TARGET...
set -u
B=$1
SECS=$2
shift 2
TOP=$(cd "$(dirname "$0")/../.." && pwd)
fail=0
mkdir -p "$B/found" "$B/artifacts" "$B/logs"
for t in "$@"; do
    bin=$B/fuzz_$t
    mkdir -p "$B/found/$t"
    log=$B/logs/$t.log
    "$bin" -max_total_time="$SECS" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -max_len=16384 -artifact_prefix="$B/artifacts/$t-" "$B/found/$t" "$B/seeds/$t" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    corpus=$(ls "$B/found/$t" | wc -l)
    status=ok
    if [ "$rc" != 0 ]; then
        status="CRASH (see $log; input in $B/artifacts/)"
        grep -E '^(==[0-9]+==ERROR|SUMMARY)|Test unit written' "$log" | sed "s/^/fuzz $t: /"
        fail=1
    fi
    reg=$TOP/tests/fuzz/regress/$t
    nreg=0
    if [ -d "$reg" ] && [ -n "$(ls "$reg")" ]; then
        nreg=$(ls "$reg" | wc -l)
        if ! "$bin" -timeout=10 -rss_limit_mb=2048 "$reg"/* >"$B/logs/$t-regress.log" 2>&1; then
            status="REGRESSION (see $B/logs/$t-regress.log)"
            fail=1
        fi
    fi
    printf 'fuzz %-9s %9s execs in %s s (%s/s), corpus %s + %s seeds, %s regression inputs: %s\n' \
        "$t" "${execs:-?}" "$SECS" "${rate:-?}" "$corpus" "$(ls "$B/seeds/$t" | wc -l)" "$nreg" "$status"
done
exit $fail
