#!/bin/sh
# Benchmark: validate-form on generated Form 03 rows (default 1,000,000,
# CB_BENCH_ROWS to change), in the same run as
#   - a bare libcsv parse loop (tests/bench/csv-baseline.c), the floor;
#   - Miller (`mlr --icsv --ocsv filter`) doing a comparable per-row check:
#     id_number 12 digits, official e-mail, mobile phone, received_date a
#     DD/MM/YYYY date not after today, old certificate 60 days past it.
# Prints MB/s of each, the ratios, and peak memory (/usr/bin/time -v, the
# maximum resident set) at a tenth of the rows and at all of them, and the
# bytes a row between the two. Targets (issue 16): validate-form at
# 150 MB/s or more (48 MB/s before it), at least 3x Miller's throughput;
# its memory grows only with the duplicate checks (request ids, persons,
# old serials seen), at most 40 bytes a request.
# Then the --certs inventory: scan-expiry records of CB_BENCH_CERTS
# certificates (default 500,000) loaded beside an empty batch, peak memory
# at a tenth and at all of them: at most 64 bytes a certificate.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
N=${CB_BENCH_ROWS:-1000000}
NC=${CB_BENCH_CERTS:-500000}
VF=${CB_BIN:-$TOP/bin}/validate-form
[ -x "$VF" ] || { echo "validate-form.sh: build $VF first (make)" >&2; exit 1; }

cc -std=c11 -O2 -o "$W/baseline" "$TOP/tests/bench/csv-baseline.c" -lcsv

gen() {  # gen N: N valid renewal rows, each person and serial once
    awk -v n="$1" 'BEGIN {
        print "request_id,form,full_name,id_number,id_issue_date,id_issue_place,position,agency,province,email,phone,old_serial,old_not_after,device_type,confirmed_by,received_date"
        split("Nguyễn Văn An|Trần Thị Bình|Lê Hoàng Cường|Phạm Thu Dung|Võ Minh Đức", nm, "|")
        split("Sở Y tế|Sở Tài chính|\"Sở Giáo dục và Đào tạo, tỉnh Lâm Đồng\"|UBND tỉnh Lâm Đồng|Sở Nội vụ", ag, "|")
        split("Lâm Đồng|Tỉnh Lâm Đồng|Bình Thuận|Đắk Nông", pv, "|")
        for (i = 1; i <= n; i++)
            printf "HS-%07d,03,%s,0681%02d%06d,%02d/%02d/2021,Cục Cảnh sát QLHC về TTXH,Chuyên viên,%s,%s,u%d@lamdong.gov.vn,09%08d,%X,%02d/06/2026,TOKEN,Phạm Văn Dũng,02/03/2026\n",
                i, nm[i % 5 + 1], 50 + i % 40, i % 1000000, i % 28 + 1, i % 12 + 1, ag[i % 5 + 1],
                pv[i % 4 + 1], i, i % 100000000, 1048576 + i, i % 28 + 1
    }'
}
gen "$N" >"$W/rows.csv"
gen $((N / 10)) >"$W/small.csv"
size=$(wc -c <"$W/rows.csv")
echo "input: $N rows, $size bytes (load average $(cut -d' ' -f1-3 /proc/loadavg): MB/s are of a shared machine)"

now() { date +%s.%N; }
secs() { t0=$(now); "$@" >"$W/out" 2>"$W/err"; t1=$(now); echo "$t0 $t1" | awk '{print $2 - $1}'; }
best() {  # best of three
    b=1e9
    for k in 1 2 3; do t=$(secs "$@"); b=$(echo "$b $t" | awk '{ print ($2 < $1) ? $2 : $1 }'); done
    echo "$b"
}
mbs() { echo "$size $1" | awk '{ printf "%.0f", $1 / 1e6 / $2 }'; }

tb=$(best "$W/baseline" "$W/rows.csv")
tv=$(best "$VF" -q --as-of 2026-03-10 "$W/rows.csv")
nv=$(($(wc -l <"$W/out") - 1))
[ "$nv" = "$N" ] || { echo "validate-form.sh: $nv rows out of $N" >&2; cat "$W/err" >&2; exit 1; }
echo "bare libcsv loop:     $(mbs "$tb") MB/s"
echo "validate-form:        $(mbs "$tv") MB/s ($nv rows valid; target >= 150, 48 before issue 16:" \
     "$(echo "$(mbs "$tv")" | awk '{ printf "%.1f", $1 / 48 }')x that)"
if command -v mlr >/dev/null 2>&1; then
    # strptime gives seconds; 60 days are 5184000 s; "today" is 2026-03-10.
    tm=$(secs mlr --icsv --ocsv filter '
        $request_id != "" && $id_number =~ "^[0-9]{12}$" &&
        $email =~ "@([a-z0-9-]+\.)*gov\.vn$" && $phone =~ "^0[35789][0-9]{8}$" &&
        strptime($received_date, "%d/%m/%Y") <= strptime("2026-03-10", "%Y-%m-%d") &&
        strptime($old_not_after, "%d/%m/%Y") - strptime($received_date, "%d/%m/%Y") >= 5184000' "$W/rows.csv")
    nm=$(($(wc -l <"$W/out") - 1))
    echo "miller filter:        $(mbs "$tm") MB/s ($nm rows kept)"
    echo "validate-form/miller: $(echo "$tm $tv" | awk '{ printf "%.1f", $1 / $2 }') (target >= 3)"
fi
echo "validate-form/bare:   $(echo "$tb $tv" | awk '{ printf "%.2f", $1 / $2 }')"
rss() {  # rss CMD...: the command's maximum resident set, in KB
    /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ { print $2 }'
}
per() {  # per KB1 KB2 N: bytes an item between a tenth of N and N
    echo "$1 $2 $3" | awk '{ printf "%.0f", ($2 - $1) * 1024 / ($3 * 0.9) }'
}
m1=$(rss "$VF" -q --as-of 2026-03-10 "$W/small.csv")
m2=$(rss "$VF" -q --as-of 2026-03-10 "$W/rows.csv")
echo "peak memory:          $m1 KB at $((N / 10)) rows, $m2 KB at $N rows" \
     "($(per "$m1" "$m2" "$N") bytes a request; target <= 40, 143 before issue 16)"

gencerts() {  # gencerts N: scan-expiry records, 16-byte serials
    awk -v n="$1" 'BEGIN {
        print "serial,subject_cn,subject_o,subject_ou,subject_l,subject_st,email,uid,issuer_cn,not_before,not_after,expiry_date,days_left,status,sha256,source,trust_problem"
        split("Nguyễn Văn An|Trần Thị Bình|Lê Hoàng Cường|Phạm Thu Dung|Võ Minh Đức", nm, "|")
        for (i = 1; i <= n; i++)
            printf "%08X%08X%08X%08X,%s,Sở Y tế tỉnh Lâm Đồng,Phòng %d,Đà Lạt,Lâm Đồng,u%d@lamdong.gov.vn,CCCD:0681%08d,VGCA CA,2024-01-01T00:00:00+07:00,2027-%02d-%02dT00:00:00+07:00,2027-%02d-%02d,400,%s,%064d,certs.pem:%d,\n",
                1193046 + i, i * 7, i * 13, i, nm[i % 5 + 1], i % 50, i, i, i % 12 + 1, i % 28 + 1,
                i % 12 + 1, i % 28 + 1, i % 97 ? "valid" : "revoked", i, i
    }'
}
gencerts "$NC" >"$W/certs.csv"
gencerts $((NC / 10)) >"$W/certs-small.csv"
head -1 "$W/rows.csv" >"$W/empty.csv"
tc=$(secs "$VF" -q --as-of 2026-03-10 --certs "$W/certs.csv" "$W/empty.csv")
c1=$(rss "$VF" -q --as-of 2026-03-10 --certs "$W/certs-small.csv" "$W/empty.csv")
c2=$(rss "$VF" -q --as-of 2026-03-10 --certs "$W/certs.csv" "$W/empty.csv")
echo "--certs inventory:    $NC certificates loaded in $tc s; $c1 KB at $((NC / 10)), $c2 KB at $NC" \
     "($(per "$c1" "$c2" "$NC") bytes a certificate; target <= 64, 314 before issue 16)"
