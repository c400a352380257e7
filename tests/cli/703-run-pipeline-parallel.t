#!/bin/sh
# A stage with parallel: N runs its steps once per input file under GNU
# parallel and joins the results: the output must be the serial run's, byte
# for byte, with the CSV header once, and the counts in the log must add up.
. "$(dirname "$0")/lib.sh"
need_samples
P=$TESTDATA/pipelines
D=2025-06-01
# A dozen certificate files: GNU parallel costs a fraction of a second a job.
mkdir -p "$T/certs"
ls "$SAMPLES"/certs/*.pem | head -n 12 | while read -r f; do cp "$f" "$T/certs/"; done
files=12

ok "the serial run" run-pipeline --as-of $D --set certs="$T/certs" --set dir="$T" --log "$T/s.jsonl" "$P/scan-serial.yaml"
ok "the parallel run, 4 jobs" run-pipeline --as-of $D --set certs="$T/certs" --set dir="$T" --log "$T/p.jsonl" "$P/scan-parallel.yaml"
is "$(($(wc -l <"$T/serial.csv") - 1))" "$files" "the serial run has one record per certificate file"
ok "parallel equals serial" cmp "$T/serial.csv" "$T/parallel.csv"
is "$(grep -c '^serial,' "$T/parallel.csv")" "1" "the CSV header appears once"
ok "parallel with a merge step (over --sshlogin :) equals serial" cmp "$T/serial-sorted.csv" "$T/parallel-sorted.csv"
like "$(grep '"event":"step","stage":"scan"' "$T/p.jsonl")" "\"in\":$files,\"out\":$files,\"rejected\":0" "the log adds up the jobs' summary lines"
like "$(grep '"event":"step","stage":"scan"' "$T/p.jsonl")" '"parallel":true' "and says the step ran in parallel"
ok "one job at a time" run-pipeline --as-of $D --set certs="$T/certs" --set dir="$T/one" --set jobs=1 --log "$T/p1.jsonl" "$P/scan-parallel.yaml"
ok "equals serial too" cmp "$T/serial.csv" "$T/one/parallel.csv"
run-pipeline --dry-run --as-of $D --set certs="$T/certs" --set dir="$T/dry" "$P/scan-parallel.yaml" >"$T/par.sh"
like "$(cat "$T/par.sh")" "PARALLEL_SHELL=/bin/bash parallel --will-cite -j 4 --results" "--dry-run shows the parallel command"
mkdir -p "$T/dry"
ok "the dry-run script of the parallel pipeline runs" bash "$T/par.sh"
ok "and gives the same result" cmp "$T/serial.csv" "$T/dry/parallel.csv"
done_testing
