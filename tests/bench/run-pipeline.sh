#!/bin/sh
# Benchmark: what run-pipeline costs over the same steps run by bash with
# pipefail, in the same run: a three-step stage (cat | sort | tr) over
# 2,000,000 lines written atomically, and a stage of 1 short step repeated
# 20 times (the fixed cost per stage: fork/exec, log, fsync and rename).
# Prints the times and the ratios (run-pipeline / bash; 1.00 = no overhead).
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
PATH=$TOP/bin:$PATH
W=$(mktemp -d "${TMPDIR:-/tmp}/cbbench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export LC_ALL=C
seq 2000000 | awk '{ printf "%08x,agency %d,line %d\n", $1 * 2654435761 % 4294967296, $1 % 97, $1 }' >"$W/in.csv"
cat >"$W/big.yaml" <<YAML
name: bench-big
stages:
  - input: [$W/in.csv]
    steps: [cat, [sort, -t, ",", "-k1,1"], [tr, a-z, A-Z]]
    output: $W/out-rp.csv
YAML
{
    echo "name: bench-small"
    echo "stages:"
    i=0
    while [ $i -lt 20 ]; do
        echo "  - {name: s$i, input: [$W/small.txt], steps: [cat], output: $W/small-rp-$i.txt}"
        i=$((i + 1))
    done
} >"$W/small.yaml"
echo "one line" >"$W/small.txt"

now() { date +%s.%N; }
t0=$(now)
run-pipeline -q --log "$W/big.jsonl" "$W/big.yaml"
t1=$(now)
bash -c "set -o pipefail; cat '$W/in.csv' | sort -t , -k1,1 | tr a-z A-Z > '$W/out-sh.csv'"
t2=$(now)
cmp "$W/out-rp.csv" "$W/out-sh.csv"
run-pipeline -q --log "$W/small.jsonl" "$W/small.yaml"
t3=$(now)
i=0
while [ $i -lt 20 ]; do
    bash -c "set -o pipefail; cat '$W/small.txt' > '$W/small-sh-$i.txt'"
    i=$((i + 1))
done
t4=$(now)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v e="$t4" 'BEGIN {
    printf "run-pipeline, 3 steps over 2,000,000 lines: %.2f s; bash pipefail: %.2f s; ratio %.2f\n", b - a, c - b, (b - a) / (c - b)
    printf "run-pipeline, 20 one-step stages: %.2f s (%.0f ms a stage); bash: %.2f s; ratio %.2f\n", d - c, (d - c) * 50, e - d, (d - c) / (e - d)
}'
