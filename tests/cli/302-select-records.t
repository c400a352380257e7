#!/bin/sh
# select-records: the night's lists selected from one scan. The records kept
# are checked against Python's csv module (an independent reader), the counts
# by hand; one value or several, "is not", several --where together, an empty
# value, a missing column (the run stops, -o untouched), malformed records
# (rejected, counted), an empty input, a workbook, run twice, killed half-way.
. "$(dirname "$0")/lib.sh"
need_samples

# The oracle: the rows of FILE (CSV) whose columns satisfy every condition
# "col=v1,v2" or "col!=v1,v2", as Python's csv reads them, one JSON list a row.
pyselect() {  # FILE CONDITION...
    /usr/bin/python3 - "$@" <<'PY'
import csv, json, sys
conds = []
for c in sys.argv[2:]:
    neg = "!=" in c.split("=", 1)[0] + "="
    col, vals = c.split("!=", 1) if neg else c.split("=", 1)
    conds.append((col, neg, vals.split(",")))
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8", newline="")))
head = rows[0]
print(json.dumps(head, ensure_ascii=False))
for r in rows[1:]:
    d = dict(zip(head, r + [""] * (len(head) - len(r))))
    if all((d[col] in vals) != neg for col, neg, vals in conds):
        print(json.dumps(r, ensure_ascii=False))
PY
}
rows() {  # FILE: the rows as Python's csv reads them, one JSON list a row
    /usr/bin/python3 -c '
import csv, json, sys
for r in csv.reader(open(sys.argv[1], encoding="utf-8", newline="")):
    print(json.dumps(r, ensure_ascii=False))' "$1"
}

# Hand-built records: quoted commas, a line break inside a field, Vietnamese
# names, an empty status.
cat >"$T/certs.csv" <<'EOF'
serial,subject_cn,subject_o,days_left,status,trust_problem
01,Nguyễn Văn An,"Sở Tài chính, Lâm Đồng",30,expiring,
02,Trần Thị Bình,Sở Y tế,-3,expired,
03,"Lê Văn
Cường",Sở Nội vụ,400,valid,
04,Phạm Thị Dung,"UBND ""tỉnh"" Lâm Đồng",12,expiring,
05,Hoàng Văn Em,Sở Tư pháp,20,untrusted,"CRL của ""TEST CA"" đã hết hạn"
06,Vũ Thị Giang,Sở Xây dựng,0,expiring,
07,Đỗ Văn Hùng,Sở Công Thương,,,
EOF

exit_is 0 "the expiring certificates are selected" select-records --where status=expiring "$T/certs.csv"
cp "$T/.out" "$T/expiring.csv"
is "$(rows "$T/expiring.csv")" "$(pyselect "$T/certs.csv" status=expiring)" \
    "the rows kept are those Python's csv module keeps, unchanged and in their order"
is "$(csv_col "$T/expiring.csv" serial | tr '\n' ' ')" "01 04 06 " "by hand: 01, 04 and 06 are expiring"
like "$(cat "$T/.err")" "^select-records: 7 in, 3 out, 0 rejected, 4 filtered \(" \
    "the summary: 7 in = 3 out + 4 filtered"

select-records -q --where status=expiring,expired "$T/certs.csv" >"$T/two.csv"
is "$(rows "$T/two.csv")" "$(pyselect "$T/certs.csv" status=expiring,expired)" "several values: a record with any one of them is kept"
select-records -q --where 'status!=valid,expiring' "$T/certs.csv" >"$T/not.csv"
is "$(csv_col "$T/not.csv" serial | tr '\n' ' ')" "02 05 07 " "!=: the records with none of the values (the empty status too)"
is "$(rows "$T/not.csv")" "$(pyselect "$T/certs.csv" 'status!=valid,expiring')" "and the same as Python's"
select-records -q --where status=expiring --where 'trust_problem=' --where 'subject_o!=Sở Y tế' "$T/certs.csv" >"$T/and.csv"
is "$(rows "$T/and.csv")" "$(pyselect "$T/certs.csv" status=expiring trust_problem= 'subject_o!=Sở Y tế')" \
    "several --where: a record is kept when every one holds"
select-records -q --where 'status=' "$T/certs.csv" >"$T/empty-status.csv"
is "$(csv_col "$T/empty-status.csv" serial)" "07" "COLUMN= keeps the records whose column is empty"
select-records -q --where 'subject_cn=Lê Văn
Cường' "$T/certs.csv" >"$T/nl.csv"
is "$(rows "$T/nl.csv")" "$(pyselect "$T/certs.csv" 'subject_cn=Lê Văn
Cường')" "a value with a line break matches the quoted field exactly"

# A column the input lacks stops the run: nothing written, -o keeps its old contents.
echo "old contents" >"$T/kept.csv"
exit_is 65 "a --where column the input lacks stops the run (exit 65)" \
    select-records --where state=expiring -o "$T/kept.csv" "$T/certs.csv"
like "$(cat "$T/.err")" "certs.csv:1: --where state=expiring: the input has no column 'state'" "the message names the file, the header line and the column"
is "$(cat "$T/kept.csv")" "old contents" "-o is left as it was"
exit_is 65 "the same in Vietnamese" select-records --lang vi --where state=expiring "$T/certs.csv"
like "$(cat "$T/.err")" "dữ liệu vào không có cột 'state'" "--lang vi: the message in Vietnamese"

# Usage errors.
exit_is 64 "no --where is a usage error" select-records "$T/certs.csv"
exit_is 64 "a --where without = is a usage error" select-records --where status "$T/certs.csv"
like "$(cat "$T/.err")" "--where status: is not COLUMN=VALUES" "and says why"
exit_is 64 "a --where without a column is a usage error" select-records --where =expiring "$T/certs.csv"
exit_is 0 "--help exits 0" select-records --help
for o in --where --delimiter --sheet --rejects --strict --lang -o --excel-csv -q --version; do
    like "$(cat "$T/.out")" -- "$o" "--help lists $o"
done

# Malformed records are rejected and counted, not lost.
printf 'serial,status\n01,expiring\n02,expiring,extra\n03,expired\n04,"expiring\n' >"$T/bad.csv"
exit_is 0 "malformed records are rejects, not an error" select-records --where status=expiring --rejects "$T/rej.csv" "$T/bad.csv"
is "$(csv_col "$T/.out" serial)" "01" "the good expiring record is kept"
like "$(cat "$T/.err")" "4 in, 1 out, 2 rejected, 1 filtered" "in = out + rejected + filtered"
is "$(/usr/bin/python3 -c 'import csv,sys; print(len(list(csv.DictReader(open(sys.argv[1])))))' "$T/rej.csv")" 2 \
    "the rejects file holds the two malformed records"
exit_is 65 "--strict: exit 65 when a record was rejected" select-records --strict --where status=expiring "$T/bad.csv"

# Empty input: zero records, no error; a header alone gives the header.
: >"$T/nothing.csv"
exit_is 0 "an input with no bytes is zero records" select-records --where status=expiring "$T/nothing.csv"
is "$(wc -c <"$T/.out")" 0 "and the output is empty"
like "$(cat "$T/.err")" ": 0 in, 0 out, 0 rejected" "the summary says 0 in"
exit_is 0 "empty stdin too" select-records --where status=expiring <"$T/nothing.csv"
sed -n 1p "$T/certs.csv" >"$T/header.csv"
exit_is 0 "a header alone is zero records" select-records --where status=expiring "$T/header.csv"
is "$(cat "$T/.out")" "$(cat "$T/header.csv")" "and the output is that header"

# Run twice into -o: the same bytes; killed half-way: -o keeps the last whole run.
select-records -q --where status=expiring -o "$T/o.csv" "$T/certs.csv"
cp "$T/o.csv" "$T/o1.csv"
select-records -q --where status=expiring -o "$T/o.csv" "$T/certs.csv"
ok "run twice, -o holds the same bytes" cmp "$T/o.csv" "$T/o1.csv"
mkfifo "$T/fifo"
select-records -q --where status=expired -o "$T/o.csv" "$T/fifo" &
pid=$!
exec 7>"$T/fifo"
head -n 3 "$T/certs.csv" >&7
sleep 0.3
kill -9 $pid
wait $pid 2>/dev/null
exec 7>&-
ok "killed half-way, -o keeps the last whole run" cmp "$T/o.csv" "$T/o1.csv"
select-records -q --where status=expired -o "$T/o.csv" "$T/certs.csv"
is "$(csv_col "$T/o.csv" serial)" "02" "and the run again writes the whole selection"

# A workbook written by openpyxl is read like CSV.
/usr/bin/python3 - "$T/certs.csv" "$T/certs.xlsx" <<'PY'
import csv, sys, openpyxl
wb = openpyxl.Workbook()
ws = wb.active
for r in csv.reader(open(sys.argv[1], encoding="utf-8", newline="")):
    ws.append(r)
wb.save(sys.argv[2])
PY
exit_is 0 "a workbook input" select-records --where status=expiring "$T/certs.xlsx"
is "$(csv_col "$T/.out" serial | tr '\n' ' ')" "01 04 06 " "gives the same selection"
select-records -q --where status=expiring -o "$T/sel.xlsx" "$T/certs.xlsx"
is "$(/usr/bin/python3 -c '
import openpyxl, sys
ws = openpyxl.load_workbook(sys.argv[1]).active
print(ws.title, " ".join(str(r[0]) for r in ws.iter_rows(min_row=2, values_only=True)))' "$T/sel.xlsx")" \
    "Bản ghi đã chọn 01 04 06" "-o FILE.xlsx: a workbook whose sheet is named in Vietnamese, the same rows (openpyxl)"

# The samples' real scan: the same selection as Python's, record for record.
scan-expiry --all --as-of "$(cat "$SAMPLES/as-of.txt")" --ca "$SAMPLES/roots.pem" --chain "$SAMPLES/chain.pem" \
    --crl "$SAMPLES/crls.pem" "$SAMPLES/certs" >"$T/all.csv" 2>/dev/null
for st in expiring expired valid; do
    select-records -q --where status=$st "$T/all.csv" >"$T/sel-$st.csv"
    is "$(rows "$T/sel-$st.csv")" "$(pyselect "$T/all.csv" status=$st)" "the samples' scan: the $st certificates as Python selects them"
done
ok "the samples have expiring certificates to select" test "$(wc -l <"$T/sel-expiring.csv")" -gt 1
done_testing
