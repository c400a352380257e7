#!/bin/sh
# Excel workbooks in: the sheets clerks send, written by openpyxl (an
# independent writer) from the samples' forms: title rows above the header,
# Vietnamese labels, the agency merged down over its rows, dates as date
# cells, identity and phone numbers typed as numbers (their leading 0
# lost). Each must give what the CSV form gives.
. "$(dirname "$0")/lib.sh"
need_samples
D=$(cat "$SAMPLES/as-of.txt")
PY=/usr/bin/python3
FX=$TOP/tests/cli/xlsx_fixture.py
vf() { validate-form --as-of "$D" "$@"; }

for form in issuance renewal; do
    lost=$($PY "$FX" form "$SAMPLES/forms/$form.csv" "$T/$form.xlsx" "$T/$form-sorted.csv")
    n=$(mlr --icsv --onidx count "$T/$form-sorted.csv")
    vf -q --rejects "$T/$form-crej.csv" "$T/$form-sorted.csv" >"$T/$form-want.csv"
    vf --rejects "$T/$form-xrej.csv" "$T/$form.xlsx" >"$T/$form-got.csv" 2>"$T/$form.err"
    ok "$form workbook: the same valid rows as the CSV form" cmp "$T/$form-got.csv" "$T/$form-want.csv"
    like "$(tail -n 1 "$T/$form.err")" "^validate-form: $n in, " "$form workbook: the title rows are not records ($n in)"
    # the rejects of the CSV, each on the row of its request in the sheet
    # (the header on row 4, the requests from row 5 in order)
    want=$($PY - "$T/$form-sorted.csv" "$T/$form-crej.csv" <<'EOF'
import csv, sys
row = {r["request_id"]: i + 5 for i, r in enumerate(csv.DictReader(open(sys.argv[1], encoding="utf-8")))}
for r in csv.DictReader(open(sys.argv[2], encoding="utf-8")):
    print(f'{r["request_id"]}|{row[r["request_id"]]}|{r["reject_field"]}')
EOF
)
    is "$(mlr --icsv --onidx --ofs '|' cut -o -f request_id,reject_line,reject_field "$T/$form-xrej.csv")" "$want" \
       "$form workbook: the same rejects, reject_line the sheet's row"
    is "$(grep -c 'was stored as a number and lost its leading 0' "$T/$form.err")" "$lost" \
       "$form workbook: each number that lost its leading 0 ($lost) gets it back with a warning"
done
like "$(cat "$T/issuance.err")" "issuance.xlsx:[0-9]+: cell E[0-9]+ \\(id_number\\): [0-9]{11} was stored as a number and lost its leading 0; read as 0[0-9]{11}" \
   "the warning names the cell, the column and both numbers"
like "$(cat "$T/issuance.err")" "cell M[0-9]+ \\(phone\\): [0-9]{9} was stored" "a 9-digit phone number too"
vf --lang vi --rejects /dev/null "$T/issuance.xlsx" 2>&1 >/dev/null | grep -q "được lưu dạng số nên mất số 0 ở đầu"
ok "under --lang vi the warning is in Vietnamese" test $? = 0

cp "$T/issuance.xlsx" "$T/looks-like.csv"
vf -q --rejects /dev/null "$T/looks-like.csv" >"$T/named.csv" 2>/dev/null
ok "a workbook is found by its content, whatever its name" cmp "$T/named.csv" "$T/issuance-want.csv"
vf -q --rejects /dev/null <"$T/issuance.xlsx" >"$T/stdin.csv" 2>/dev/null
ok "a workbook on standard input" cmp "$T/stdin.csv" "$T/issuance-want.csv"
vf -q --rejects /dev/null "$T/issuance.xlsx" >"$T/again.csv" 2>/dev/null
ok "run twice: the same output" cmp "$T/again.csv" "$T/issuance-got.csv"

# A workbook whose first sheet is the instructions: --sheet picks the form.
$PY - "$T/issuance.xlsx" "$T/two-sheets.xlsx" <<'EOF'
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb.create_sheet("Hướng dẫn", 0)
ws["A1"] = "Hướng dẫn điền mẫu"
ws["A2"] = "Ghi ngày theo dạng dd/mm/yyyy"
wb.save(sys.argv[2])
EOF
vf -q --sheet "Danh sách" --rejects /dev/null "$T/two-sheets.xlsx" >"$T/sheet.csv" 2>/dev/null
ok "--sheet 'Danh sách' reads that sheet" cmp "$T/sheet.csv" "$T/issuance-want.csv"
exit_is 65 "a sheet the workbook does not have is a data error" vf --sheet "Sheet9" "$T/two-sheets.xlsx"
like "$(cat "$T/.err")" "no sheet named 'Sheet9' \\(the sheets: 'Hướng dẫn', 'Danh sách'\\)" "naming the sheets it has"

# Cells of every kind, in a workbook dated from 1904 (Excel for Mac).
$PY - "$T/kinds.xlsx" <<'EOF'
import sys, datetime, openpyxl
from openpyxl.utils.datetime import CALENDAR_MAC_1904
wb = openpyxl.Workbook()
wb.epoch = CALENDAR_MAC_1904
ws = wb.active
ws.append(["request_id", "count", "ratio", "flag", "received_date", "note", "id_number", "phone"])
ws.append(["K1", 12.0, 3.5, True, datetime.datetime(2026, 2, 12), "a\nb", 68090001201, 912345678])
ws["E2"].number_format = "dd/mm/yyyy"
ws.append(["K2", 1234567890123, 0.1, False, datetime.datetime(1904, 1, 2), 7, "068090001202", 84912345678])
ws["E3"].number_format = "[$-42A]d mmmm yyyy"
wb.save(sys.argv[1])
EOF
aggregate-by-agency -q --detail --by request_id "$T/kinds.xlsx" >"$T/kinds.csv" 2>"$T/kinds.err"
is "$(mlr --icsv --ojson cut -x -f batch_seq "$T/kinds.csv" | tr -d ' \n')" \
'[{"request_id":"K1","count":12,"ratio":3.5,"flag":"TRUE","received_date":"2026-02-12","note":"a\nb","id_number":"068090001201","phone":"0912345678"},{"request_id":"K2","count":1234567890123,"ratio":0.1,"flag":"FALSE","received_date":"1904-01-02","note":7,"id_number":"068090001202","phone":84912345678}]' \
   "numbers without .0, booleans, dates from 1904 in any date format, text as typed; 11-digit id_number and 9-digit phone get their 0 back"

# aggregate-by-agency reads validate-form's rows from a workbook.
$PY - "$T/issuance-want.csv" "$T/valid.xlsx" <<'EOF'
import csv, sys, openpyxl
wb = openpyxl.Workbook()
ws = wb.active
for r in csv.reader(open(sys.argv[1], encoding="utf-8")):
    ws.append(r)
wb.save(sys.argv[2])
EOF
aggregate-by-agency -q "$T/issuance-want.csv" >"$T/sum-csv.csv"
aggregate-by-agency -q "$T/valid.xlsx" >"$T/sum-xlsx.csv"
ok "aggregate-by-agency on a workbook: the same summary as on the CSV" cmp "$T/sum-xlsx.csv" "$T/sum-csv.csv"

# Broken workbooks are data errors with a reason.
head -c 2000 "$T/issuance.xlsx" >"$T/cut.xlsx"
exit_is 65 "a workbook cut short is a data error" vf "$T/cut.xlsx"
like "$(cat "$T/.err")" "cut.xlsx: not a readable workbook" "saying it is not a readable workbook"
(cd "$T" && mkdir z && echo hi >z/a.txt && $PY -c "import zipfile; zipfile.ZipFile('notxl.zip','w').write('z/a.txt')")
exit_is 65 "a zip that is not a workbook is a data error" vf "$T/notxl.zip"
like "$(cat "$T/.err")" "not an Excel workbook" "saying so"
done_testing
