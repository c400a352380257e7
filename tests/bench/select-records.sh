#!/bin/sh
# Benchmark: select-records choosing the expiring certificates from a
# nation-sized inventory (scan-expiry --all's columns, 1,000,000 records,
# Vietnamese names, 5% expiring), against in the same run Miller's filter
# (what the nightly used before, with the record batch it needed to stay
# under 256 MB) and Python's csv module. Checks that all three keep the same
# records; prints the times, MB/s, peak memory and the ratios. No timed
# assertion.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CB_BIN:-$TOP/bin}
N=${N:-1000000}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
/usr/bin/python3 - "$N" >"$W/all.csv" <<'PY'
import sys
n = int(sys.argv[1])
names = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thu Dung", "Hoàng Minh Em"]
print("serial,subject_cn,subject_o,subject_ou,subject_l,subject_st,email,uid,issuer_cn,not_before,not_after,"
      "expiry_date,days_left,status,sha256,source,trust_problem")
for i in range(n):
    st = "expiring" if i % 20 == 0 else ("expired" if i % 37 == 0 else "valid")
    print(f"7B{i:014X},{names[i % 5]} {i},Sở Tài chính,,,Lâm Đồng,user{i}@lamdong.gov.vn,CCCD:0680{i:08d},"
          f"\"TEST CA chuyên dùng Chính phủ G3, (TEST)\",2025-07-31T05:00:00+07:00,2028-07-30T05:00:00+07:00,"
          f"2028-07-30,{i % 900},{st},{i:064X},/var/lib/certbatch/certs/part-{i // 1000:05d}.pem#{i % 1000 + 1},")
PY
bytes=$(wc -c <"$W/all.csv")
cat >"$W/base.py" <<'PY'
import csv, sys
r = csv.reader(open(sys.argv[1], encoding="utf-8", newline=""))
w = csv.writer(sys.stdout, lineterminator="\n")
head = next(r)
col = head.index("status")
w.writerow(head)
for row in r:
    if row[col] == "expiring":
        w.writerow(row)
PY
measure() {  # NAME OUT CMD...: "seconds peak-KB" of CMD, stdout to OUT
    _n=$1 _o=$2; shift 2
    /usr/bin/time -f '%e %M' -o "$W/$_n.time" "$@" >"$_o"
    cat "$W/$_n.time"
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
ours=$(measure ours "$W/ours.csv" "$BIN/select-records" -q --where status=expiring "$W/all.csv")
mlr=$(measure mlr "$W/mlr.csv" mlr --records-per-batch 50 --icsv --ocsv filter '$status == "expiring"' "$W/all.csv")
py=$(measure py "$W/py.csv" /usr/bin/python3 "$W/base.py" "$W/all.csv")
echo "load average after : $(cut -d' ' -f1-3 /proc/loadavg)"
kept=$(($(wc -l <"$W/py.csv") - 1))
/usr/bin/python3 - "$W/ours.csv" "$W/mlr.csv" "$W/py.csv" <<'PY' || { echo "select-records bench: the three selections differ" >&2; exit 1; }
import csv, sys
a, b, c = ([r for r in csv.reader(open(f, encoding="utf-8", newline=""))] for f in sys.argv[1:4])
sys.exit(0 if a == b == c else 1)
PY
echo "$ours $mlr $py" | awk -v n="$N" -v bytes="$bytes" -v kept="$kept" '{
    printf "select-records: %d records (%.0f MB), %d kept; the three selections are the same record for record\n", n, bytes / 1e6, kept
    printf "select-records : %6.2f s, %6.0f MB/s, peak %4.0f MB\n", $1, bytes / 1e6 / $1, $2 / 1024
    printf "mlr filter     : %6.2f s, %6.0f MB/s, peak %4.0f MB   (select-records is %.1fx)\n", $3, bytes / 1e6 / $3, $4 / 1024, $3 / $1
    printf "python csv     : %6.2f s, %6.0f MB/s, peak %4.0f MB   (select-records is %.1fx)\n", $5, bytes / 1e6 / $5, $6 / 1024, $5 / $1 }'
