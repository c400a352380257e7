#!/bin/sh
# Forms saved as CSV by Excel: ';' as the separator (Excel's default where
# the decimal mark is a comma), tabs ("Unicode text"), a BOM and CRLF, the
# empty rows Excel keeps below the data (";;;;"), and a header label the
# program does not know. The sheets are written by Python's csv module from
# the samples' forms; each must give what the comma-separated form gives.
. "$(dirname "$0")/lib.sh"
need_samples
D=$(cat "$SAMPLES/as-of.txt")
F=$SAMPLES/forms/renewal.csv

# excel_csv IN OUT DELIM EMPTY_ROWS: IN re-written with DELIM, a BOM, CRLF,
# and EMPTY_ROWS rows of empty cells at the end.
excel_csv() {
    /usr/bin/python3 - "$1" "$2" "$3" "$4" <<'EOF'
import csv, sys
src, dst, delim, empty = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
delim = "\t" if delim == "tab" else delim
rows = list(csv.reader(open(src, encoding="utf-8-sig", newline="")))
with open(dst, "w", encoding="utf-8-sig", newline="") as f:
    w = csv.writer(f, delimiter=delim, lineterminator="\r\n")
    w.writerows(rows)
    w.writerows([[""] * len(rows[0])] * empty)
EOF
}
excel_csv "$F" "$T/semi.csv" ';' 5
excel_csv "$F" "$T/tab.csv" tab 3
excel_csv "$F" "$T/comma-empty.csv" ',' 4
is "$(tail -n 1 "$T/semi.csv" | tr -d '\r')" "$(head -n 1 "$F" | tr -cd ',' | tr ',' ';')" "the ';' sheet ends with rows of empty cells, as Excel saves them"
n=$(mlr --icsv --onidx count "$F")

vf() { validate-form -q --as-of "$D" "$@"; }
vf --rejects "$T/rej.csv" "$F" >"$T/want.csv"
vf --rejects "$T/rej-semi.csv" "$T/semi.csv" >"$T/got-semi.csv"
ok "a ';'-separated sheet: the same valid rows as the comma-separated form" cmp "$T/got-semi.csv" "$T/want.csv"
ok "and the same rejects" cmp "$T/rej-semi.csv" "$T/rej.csv"
validate-form --as-of "$D" --rejects /dev/null "$T/semi.csv" 2>"$T/semi.err" >/dev/null
like "$(cat "$T/semi.err")" "^validate-form: $n in, " "the empty rows at the end are not records: $n in, as many as the form's rows"
vf --rejects /dev/null "$T/tab.csv" >"$T/got-tab.csv"
ok "a tab-separated sheet: the same valid rows" cmp "$T/got-tab.csv" "$T/want.csv"
vf --rejects "$T/rej-ce.csv" "$T/comma-empty.csv" >"$T/got-ce.csv"
ok "a comma-separated sheet with empty rows at the end: the same rows, nothing rejected more" cmp "$T/rej-ce.csv" "$T/rej.csv"
vf --delimiter ';' --rejects /dev/null "$T/semi.csv" >"$T/got-semi2.csv"
ok "--delimiter ';' reads it the same" cmp "$T/got-semi2.csv" "$T/want.csv"
vf --delimiter ',' --rejects /dev/null "$T/semi.csv" >"$T/got-forced.csv" 2>/dev/null
is "$(mlr --icsv --onidx count "$T/got-forced.csv")" "0" "--delimiter ',' on a ';' sheet: no row passes"
exit_is 64 "--delimiter '|' is a usage error" validate-form --delimiter '|' "$F"
mlr --icsv --ocsv head -n 20 "$F" >"$T/part1.csv"
mlr --icsv --ocsv tail -n $((n - 20)) "$F" >"$T/part2.csv"
excel_csv "$T/part1.csv" "$T/part1-semi.csv" ';' 2
vf --rejects /dev/null "$T/part1-semi.csv" "$T/part2.csv" >"$T/two.csv"
is "$(mlr --icsv --onidx count "$T/two.csv")" "$(mlr --icsv --onidx count "$T/want.csv")" \
   "the first rows in a ';' sheet, the others in a ',' sheet, read together: each file's separator is its own"

# An empty row between records stays a record (an empty request).
printf 'request_id;form\r\nA;03\r\n;\r\nB;03\r\n;\r\n;\r\n' >"$T/mid.csv"
validate-form --as-of "$D" --rejects "$T/rej-mid.csv" "$T/mid.csv" >/dev/null 2>"$T/mid.err"
like "$(cat "$T/mid.err")" "3 in, 0 out, 3 rejected" "an empty row between two requests is a record, those after the last are not"
is "$(mlr --icsv --onidx cut -f reject_line "$T/rej-mid.csv" | tr '\n' ' ')" "2 3 4 " "with its line"

# A header label the program does not know, near a known one: one warning.
sed '1s/Số điện thoại di động/Số điện thoại/' "$SAMPLES/forms/renewal-vi.csv" >"$T/vi.csv"
validate-form --as-of "$D" --rejects /dev/null "$T/vi.csv" >/dev/null 2>"$T/vi.err"
is "$(grep -c "Số điện thoại'" "$T/vi.err")" "1" "an unknown label is one warning, not one a row"
like "$(cat "$T/vi.err")" "vi.csv:1: column 'Số điện thoại' is not a column of the forms \\(nearest: 'Số điện thoại di động' \\(phone\\)\\)" \
   "the warning names the label and the nearest known label"
validate-form --lang vi --as-of "$D" --rejects /dev/null "$T/vi.csv" >/dev/null 2>"$T/vi-vi.err"
like "$(cat "$T/vi-vi.err")" "cột 'Số điện thoại' không phải cột nào của mẫu đơn \\(gần nhất: 'Số điện thoại di động'" "in Vietnamese under --lang vi"
printf 'request_id,form,recieved_date,note\n' >"$T/typo.csv"
validate-form --as-of "$D" "$T/typo.csv" >/dev/null 2>"$T/typo.err"
like "$(cat "$T/typo.err")" "column 'recieved_date' is not a column of the forms \\(nearest: 'received_date'" "a mistyped canonical name is named too"
is "$(grep -c "'note'" "$T/typo.err")" "0" "a column like 'note', near no known label, passes through without a warning"

# aggregate-by-agency reads ';' too.
excel_csv "$T/want.csv" "$T/valid-semi.csv" ';' 2
aggregate-by-agency -q "$T/want.csv" >"$T/sum.csv"
aggregate-by-agency -q "$T/valid-semi.csv" >"$T/sum-semi.csv"
ok "aggregate-by-agency on a ';' sheet: the same summary" cmp "$T/sum-semi.csv" "$T/sum.csv"
done_testing
