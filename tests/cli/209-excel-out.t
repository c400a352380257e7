#!/bin/sh
# Excel out: -o FILE.xlsx and --rejects FILE.xlsx write real workbooks
# (validate-form's valid rows and rejects, aggregate-by-agency's summary and
# the proposal list with a sheet per agency, split-updates' manifest), read
# back here with openpyxl: Vietnamese labels, the header frozen, columns as
# wide as their text, dates as Excel dates, identity numbers as text, the
# same values as the CSV. --excel-csv writes CSV for Excel (BOM, labels,
# CRLF), read back with Python's csv module.
. "$(dirname "$0")/lib.sh"
need_samples
D=$(cat "$SAMPLES/as-of.txt")
PY=/usr/bin/python3
FX=$TOP/tests/cli/xlsx_fixture.py
vf() { validate-form --as-of "$D" --agencies "$SAMPLES/agencies.csv" "$@"; }

vf -q --rejects "$T/rej.csv" "$SAMPLES/forms/issuance.csv" >"$T/valid.csv"
vf -q --rejects "$T/rej.xlsx" -o "$T/valid.xlsx" "$SAMPLES/forms/issuance.csv"
ok "validate-form -o FILE.xlsx exits 0" test $? = 0
$PY "$FX" read "$T/valid.xlsx" >"$T/valid.dump"
is "$(sed -n 1p "$T/valid.dump")" "sheets: Hồ sơ hợp lệ" "the valid rows are one sheet, 'Hồ sơ hợp lệ'"
is "$(sed -n 2p "$T/valid.dump")" "freeze: A2" "its header row is frozen"
is "$(sed -n 4p "$T/valid.dump" | cut -f 1-8 | tr '\t' '|')" \
   "Mã hồ sơ|Mẫu|Họ và tên|Ngày sinh|Số định danh cá nhân|Ngày cấp|Nơi cấp|Chức vụ" "the header carries the forms' Vietnamese labels"
like "$(sed -n 3p "$T/valid.dump")" "Ngày sinh=date .*Số định danh cá nhân=text .*Số điện thoại di động=text .*Ngày tiếp nhận=date .*Hạn giải quyết=date" \
   "dates are Excel dates; identity and phone numbers are text"
like "$(sed -n 3p "$T/valid.dump")" "Thời hạn đề nghị \\(tháng\\)=number" "months asked for are numbers"
is "$(sed -n '5,$p' "$T/valid.dump")" "$(mlr --icsv --otsv --headerless-csv-output cat "$T/valid.csv")" \
   "every cell holds what the CSV holds (dates read back as the same days)"
$PY - "$T/valid.xlsx" >"$T/widths" <<'EOF'
import sys, openpyxl
from openpyxl.utils import get_column_letter
ws = openpyxl.load_workbook(sys.argv[1]).worksheets[0]
for col in ws.iter_cols():
    letter = get_column_letter(col[0].column)
    longest = max(0 if c.value is None else 10 if hasattr(c.value, "year") else len(str(c.value)) for c in col)
    w = ws.column_dimensions[letter].width
    if w < min(longest, 58):
        print(f"{letter}: width {w} < {longest}")
EOF
is "$(cat "$T/widths")" "" "every column is as wide as its longest text (up to 60)"

$PY "$FX" read "$T/rej.xlsx" >"$T/rej.dump"
is "$(sed -n 1p "$T/rej.dump")" "sheets: Hồ sơ bị từ chối" "--rejects FILE.xlsx: a workbook, 'Hồ sơ bị từ chối'"
like "$(sed -n 4p "$T/rej.dump")" "	Dòng	Cột lỗi	Lý do từ chối$" "the reject columns' labels"
is "$(sed -n '5,$p' "$T/rej.dump" | wc -l)" "$(mlr --icsv --onidx count "$T/rej.csv")" "one row a reject"
is "$(sed -n '5,$p' "$T/rej.dump" | awk -F '\t' '{ print $NF }')" "$(mlr --icsv --onidx cut -f reject_reason "$T/rej.csv")" "with the same reasons"

# Read back by the programs: a workbook certbatch wrote is a valid input.
aggregate-by-agency -q "$T/valid.csv" >"$T/sum.csv"
aggregate-by-agency -q "$T/valid.xlsx" >"$T/sum-from-xlsx.csv"
ok "aggregate-by-agency reads validate-form's workbook as it reads its CSV" cmp "$T/sum-from-xlsx.csv" "$T/sum.csv"

# aggregate-by-agency: the summary, and the proposal list as one workbook.
aggregate-by-agency -q -o "$T/sum.xlsx" "$T/valid.csv"
$PY "$FX" read "$T/sum.xlsx" >"$T/sum.dump"
like "$(sed -n 4p "$T/sum.dump")" "^Khóa cơ quan	Mã định danh cơ quan	Cơ quan, tổ chức quản lý trực tiếp	Tỉnh/Thành phố	Cấp mới cá nhân" "the summary sheet's labels"
like "$(sed -n 3p "$T/sum.dump")" "Tổng số=number .*Hạn giải quyết sớm nhất=date" "counts are numbers, dates are dates"
is "$(sed -n '5,$p' "$T/sum.dump")" "$(mlr --icsv --otsv --headerless-csv-output cat "$T/sum.csv")" "the summary's cells are the CSV summary's"
aggregate-by-agency -q --detail -o "$T/proposal.xlsx" "$T/valid.csv"
aggregate-by-agency -q --detail "$T/valid.csv" >"$T/detail.csv"
$PY - "$T/proposal.xlsx" "$T/sum.csv" "$T/detail.csv" >"$T/proposal.check" <<'EOF'
import csv, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
summary = [r for r in csv.DictReader(open(sys.argv[2], encoding="utf-8")) if r["agency"] != "TOTAL"]
detail = list(csv.DictReader(open(sys.argv[3], encoding="utf-8")))
print("sheets", len(wb.sheetnames), "first", wb.sheetnames[0])
print("names", wb.sheetnames[1:] == [r["agency"][:31] for r in summary])
for r, name in zip(summary, wb.sheetnames[1:]):
    ws = wb[name]
    ids = [row[0] for row in ws.iter_rows(min_row=2, values_only=True)]
    want = [d["request_id"] for d in detail if d["agency_key"] == r["agency_key"]]
    if ids != want or ws.freeze_panes != "A2":
        print("differs", name, ids, want)
EOF
is "$(cat "$T/proposal.check")" "sheets $(( $(mlr --icsv --onidx count "$T/sum.csv") )) first Tổng hợp
names True" "--detail -o FILE.xlsx: a summary sheet, then one sheet per agency with its requests, in order"

# --excel-csv: CSV that Excel opens right.
vf -q --excel-csv --rejects /dev/null "$SAMPLES/forms/issuance.csv" >"$T/excel.csv"
is "$(head -c 3 "$T/excel.csv" | od -An -tx1 | tr -d ' ')" "efbbbf" "--excel-csv starts with a UTF-8 BOM"
is "$(tr -cd '\r' <"$T/excel.csv" | wc -c)" "$(wc -l <"$T/excel.csv")" "every line ends in CRLF"
$PY - "$T/excel.csv" "$T/valid.csv" >"$T/excel.check" <<'EOF'
import csv, sys
a = list(csv.reader(open(sys.argv[1], encoding="utf-8-sig", newline="")))
b = list(csv.reader(open(sys.argv[2], encoding="utf-8", newline="")))
print(a[0][:3], a[1:] == b[1:])
EOF
is "$(cat "$T/excel.check")" "['Mã hồ sơ', 'Mẫu', 'Họ và tên'] True" "Vietnamese labels, the same rows as the CSV"

# split-updates: the manifest as a workbook.
mlr --icsv --onidx --ofs tab head -n 4 then cut -o -f request_id,old_serial "$SAMPLES/forms/renewal.csv" >"$T/few.tsv"
n=0
while IFS="$(printf '\t')" read -r rid old; do
    old=$(echo "$old" | tr a-f A-F)
    [ -f "$SAMPLES/keys/$old.key" ] || continue
    openssl req -new -key "$SAMPLES/keys/$old.key" -subj "/CN=renewed" -out "$T/$old.csr" 2>/dev/null
    openssl x509 -req -in "$T/$old.csr" -CA "$SAMPLES/issuing-ca.pem" -CAkey "$SAMPLES/issuing-ca.key" \
        -set_serial "0x7E58$(printf '%04d' $n)" -days 1095 -out "$T/new-$n.pem" 2>/dev/null
    n=$((n + 1))
done <"$T/few.tsv"
cat "$T"/new-*.pem >"$T/update.pem"
split-updates -q --as-of "$D" --out "$T/out1" --ca "$SAMPLES/ca-chain.pem" --requests "$SAMPLES/forms/renewal.csv" \
    --old-certs "$SAMPLES/certs" -o "$T/manifest.csv" "$T/update.pem"
split-updates -q --as-of "$D" --out "$T/out2" --ca "$SAMPLES/ca-chain.pem" --requests "$SAMPLES/forms/renewal.csv" \
    --old-certs "$SAMPLES/certs" -o "$T/manifest.xlsx" "$T/update.pem"
$PY "$FX" read "$T/manifest.xlsx" >"$T/manifest.dump"
like "$(sed -n 4p "$T/manifest.dump")" "^Mã hồ sơ	Số hiệu chứng thư cũ	Số hiệu chứng thư	" "split-updates -o FILE.xlsx: the manifest with Vietnamese labels"
is "$(sed -n '5,$p' "$T/manifest.dump" | cut -f 1,2,3)" "$(mlr --icsv --otsv --headerless-csv-output cut -o -f request_id,old_serial,serial "$T/manifest.csv")" \
   "the same certificates as the CSV manifest"

# Conventions: atomic, nothing half-written, empty input, twice the same.
exit_is 73 "a workbook that cannot be created is exit 73" vf -o "$T/no/such/dir/x.xlsx" "$SAMPLES/forms/issuance.csv"
is "$(ls "$T" | grep -c '\.tmp\.')" "0" "no temporary file is left behind"
head -n 1 "$SAMPLES/forms/issuance.csv" >"$T/header-only.csv"
vf -q -o "$T/empty.xlsx" "$T/header-only.csv"
is "$($PY "$FX" read "$T/empty.xlsx" | sed -n '5,$p' | wc -l)" "0" "no rows in: a workbook with the header only"
vf -q --rejects /dev/null -o "$T/valid2.xlsx" "$SAMPLES/forms/issuance.csv"
$PY "$FX" read "$T/valid2.xlsx" >"$T/valid2.dump"
ok "run twice: the same workbook content" cmp "$T/valid2.dump" "$T/valid.dump"
done_testing
