#!/bin/sh
# Benchmark: aggregate-by-agency --summary on 1,000,000 request records of
# about 220 bytes against `mlr --icsv --ocsv count -g agency` (Miller) in
# the same run, then peak memory on 1M and 10M records streamed from a
# generator. Targets (issue 4): at least 4x Miller, peak memory flat.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CB_BIN:-$TOP/bin}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

gen() {  # N: request records for 60 agencies in a few spellings each
    awk -v n="$1" 'BEGIN {
        split("Sở Tài chính|SỞ TÀI CHÍNH|Sở Y tế|UBND tỉnh Lâm Đồng|Ủy ban nhân dân tỉnh Lâm Đồng|Sở Nội vụ", base, "|")
        print "request_id,form,full_name,id_number,agency,province,email,phone,old_serial,old_not_after,request_type,subject_type,received_date,due_date"
        for (i = 1; i <= n; i++) {
            a = base[i % 6 + 1] " " (i % 10)
            printf "HS%08d,03,Nguyễn Văn An %d,068095%06d,%s,Lâm Đồng,an%d@lamdong.gov.vn,09%08d,5A1B2C3D4E5F%08X,2027-01-%02d,renew,individual,2026-11-20,2026-11-25\n", i, i % 1000, i % 1000000, a, i, i % 100000000, i, i % 28 + 1
        }
    }'
}
now() { date +%s.%N; }

gen 1000000 >"$W/1m.csv"
mb=$(du -m "$W/1m.csv" | cut -f1)
echo "input: 1,000,000 records, $mb MB"
t0=$(now); "$BIN/aggregate-by-agency" -q "$W/1m.csv" >"$W/ours.csv"; t1=$(now)
ours=$(echo "$t0 $t1" | awk '{print $2 - $1}')
t0=$(now); mlr --icsv --ocsv count -g agency "$W/1m.csv" >"$W/mlr.csv"; t1=$(now)
mlr=$(echo "$t0 $t1" | awk '{print $2 - $1}')
echo "aggregate-by-agency: $(echo "$ours" | awk '{printf "%.2f", $1}') s ($(echo "$mb $ours" | awk '{printf "%.0f", $1/$2}') MB/s)"
echo "mlr count -g agency: $(echo "$mlr" | awk '{printf "%.2f", $1}') s ($(echo "$mb $mlr" | awk '{printf "%.0f", $1/$2}') MB/s)"
echo "ratio: aggregate-by-agency is $(echo "$mlr $ours" | awk '{printf "%.1f", $1/$2}')x Miller (target 4x)"
echo "groups: ours $(($(wc -l <"$W/ours.csv") - 2)) agencies (spellings merged), Miller $(($(wc -l <"$W/mlr.csv") - 1)) distinct strings"

for n in 1000000 10000000; do
    gen "$n" | /usr/bin/time -f '%M' -o "$W/rss" "$BIN/aggregate-by-agency" -q >/dev/null
    echo "peak memory, $n records streamed: $(awk '{printf "%.1f", $1/1024}' "$W/rss") MB"
done
