#!/bin/sh
# Under --lang vi a clerk reads every message in Vietnamese, those about a
# broken workbook (written by openpyxl, then damaged with Python's zipfile)
# and a broken agency registry included; and a header label the forms do
# not know gets one warning only when it looks like a known label a clerk
# mistyped, never when the column is simply extra ("STT", "Ghi chú").
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
D=2026-03-02
vf() { validate-form --as-of "$D" "$@"; }

# ---- header labels ----

# A sheet as clerks make it: a title row, then the header on row 3 with a
# running number, a note and the phone column labelled short.
$PY - "$T" <<'EOF'
import sys, openpyxl
def sheet(path, labels):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Danh sách"
    ws["A1"] = "DANH SÁCH ĐỀ NGHỊ GIA HẠN CHỨNG THƯ SỐ"
    ws.merge_cells("A1:F1")
    ws["A3"] = None
    for j, label in enumerate(labels, 1):
        ws.cell(row=3, column=j, value=label)
    for j, v in enumerate([1, "HS-1", "03", "Nguyễn Văn An", "0912345678", "gấp"], 1):
        ws.cell(row=4, column=j, value=v)
    wb.save(path)
d = sys.argv[1]
sheet(d + "/short-phone.xlsx", ["STT", "Mã hồ sơ", "Mẫu", "Họ và tên", "Số điện thoại", "Ghi chú"])
sheet(d + "/extra.xlsx", ["STT", "Mã hồ sơ", "Mẫu", "Họ và tên", "Số điện thoại di động", "Ghi chú"])
sheet(d + "/both-phones.xlsx", ["Số điện thoại", "Mã hồ sơ", "Mẫu", "Họ và tên", "Số điện thoại di động", "Ghi chú"])
sheet(d + "/longer.xlsx", ["Địa chỉ thường trú", "Mã hồ sơ", "Mẫu", "Họ và tên", "Mã hồ sơ cũ", "Ngày cấp lại"])
EOF
vf --rejects /dev/null "$T/short-phone.xlsx" >/dev/null 2>"$T/short.err"
is "$(grep -c "is not a column of the forms" "$T/short.err")" "1" \
   "a workbook with 'Số điện thoại' for the mobile number, 'STT' and 'Ghi chú': one warning"
like "$(cat "$T/short.err")" "short-phone.xlsx:3: column 'Số điện thoại' is not a column of the forms \\(nearest: 'Số điện thoại di động' \\(phone\\)\\)" \
   "it names the label, the header's row in the sheet (3, under the title) and the nearest known label"
is "$(grep -c "'STT'\\|'Ghi chú'" "$T/short.err")" "0" "'STT' and 'Ghi chú' are extra columns: no warning"
vf --lang vi --rejects /dev/null "$T/short-phone.xlsx" >/dev/null 2>"$T/short-vi.err"
like "$(cat "$T/short-vi.err")" "short-phone.xlsx:3: cột 'Số điện thoại' không phải cột nào của mẫu đơn \\(gần nhất: 'Số điện thoại di động' \\(phone\\)\\)" \
   "under --lang vi the warning is in Vietnamese"
vf --rejects /dev/null "$T/extra.xlsx" >/dev/null 2>"$T/extra.err"
is "$(grep -c "not a column" "$T/extra.err")" "0" "a workbook whose only unknown columns are 'STT' and 'Ghi chú': no warning"
vf --rejects /dev/null "$T/both-phones.xlsx" >/dev/null 2>"$T/both.err"
is "$(grep -c "not a column" "$T/both.err")" "0" \
   "'Số điện thoại' beside 'Số điện thoại di động' is another column, not a typo: no warning"
vf --rejects /dev/null "$T/longer.xlsx" >/dev/null 2>"$T/longer.err"
is "$(grep -c "not a column" "$T/longer.err")" "0" \
   "labels that say more than a known one ('Địa chỉ thường trú', 'Mã hồ sơ cũ', 'Ngày cấp lại'): no warning"
printf 'request_id,form,STT,Ghi chú,Số thứ tự,Giới tính,Quê quán,Recieved_date\n' >"$T/csv-labels.csv"
vf "$T/csv-labels.csv" >/dev/null 2>"$T/csv-labels.err"
is "$(grep "not a column" "$T/csv-labels.err" | sed "s/.*column '\\([^']*\\)'.*/\\1/")" "Recieved_date" \
   "in a CSV form of six extra columns only the mistyped 'Recieved_date' is warned about"
vf "$T/csv-labels.csv" >/dev/null 2>"$T/csv-labels2.err"
ok "run twice: the same warnings" cmp "$T/csv-labels.err" "$T/csv-labels2.err"

# ---- a workbook that cannot be read, in Vietnamese ----

$PY - "$T" <<'EOF'
import sys, zipfile, openpyxl
d = sys.argv[1]
wb = openpyxl.Workbook()
wb.active.title = "Danh sách"
wb.active.append(["Mã hồ sơ", "Mẫu"])
wb.active.append(["HS-1", "03"])
wb.save(d + "/good.xlsx")
# the same archive with the sheet's XML cut in the middle of a row
with zipfile.ZipFile(d + "/good.xlsx") as src, zipfile.ZipFile(d + "/badxml.xlsx", "w") as dst:
    for item in src.infolist():
        data = src.read(item.filename)
        if item.filename == "xl/worksheets/sheet1.xml":
            data = data[: data.index(b"<row") + 12]
        dst.writestr(item, data)
# an archive that is no workbook
with zipfile.ZipFile(d + "/notxl.xlsx", "w") as z:
    z.writestr("word/document.xml", "<w:document/>")
EOF
head -c 300 "$T/good.xlsx" >"$T/cut.xlsx"
exit_is 65 "--lang vi: a workbook cut short is a data error" vf --lang vi "$T/cut.xlsx"
like "$(cat "$T/.err")" "cut.xlsx: không phải tệp Excel đọc được" "said in Vietnamese"
exit_is 65 "--lang vi: a zip that is not a workbook is a data error" vf --lang vi "$T/notxl.xlsx"
like "$(cat "$T/.err")" "notxl.xlsx: tệp nén zip nhưng không phải tệp Excel \\(không có xl/workbook.xml\\)" "said in Vietnamese"
exit_is 65 "--lang vi: a sheet the workbook lacks is a data error" vf --lang vi --sheet "Sheet9" "$T/good.xlsx"
like "$(cat "$T/.err")" "good.xlsx: không có trang tính \\(sheet\\) nào tên 'Sheet9' \\(các trang tính: 'Danh sách'\\)" \
   "said in Vietnamese, naming the sheets it has"
exit_is 65 "--lang vi: a sheet that is not well-formed XML is a data error" vf --lang vi "$T/badxml.xlsx"
like "$(cat "$T/.err")" "badxml.xlsx: trang tính 'Danh sách' không phải XML đúng cú pháp, gần dòng [0-9]+" "said in Vietnamese"
exit_is 65 "without --lang vi the same sheet" vf "$T/badxml.xlsx"
like "$(cat "$T/.err")" "badxml.xlsx: sheet 'Danh sách' is not well-formed XML near line [0-9]+" "is said in English"

# ---- an agency registry that cannot be used, in Vietnamese ----

printf 'request_id,form,agency\nHS-1,03,Sở Nội vụ\n' >"$T/in.csv"
GOOD='agency_code,name,aliases,email,province,parent_code
000.00.02.H41,Sở Nội vụ,SNV,sonoivu@lamdong.gov.vn,Lâm Đồng,
000.00.04.H41,Sở Tài chính,,stc@lamdong.gov.vn,Lâm Đồng,'
registry() {  # NAME LINE: the good registry with LINE added
    printf '%s\n%s\n' "$GOOD" "$2" >"$T/$1.csv"
}
registry dup '000.00.02.H41,Sở Xây dựng,,sxd@lamdong.gov.vn,Lâm Đồng,'
registry alias '000.00.05.H41,Sở Tư pháp,SỞ NỘI VỤ,stp@lamdong.gov.vn,Lâm Đồng,'
registry badcode '000.0.02.H41,Sở Y tế,,syt@lamdong.gov.vn,Lâm Đồng,'
registry badmail '000.00.06.H41,Sở Y tế,,syt-at-lamdong.gov.vn,Lâm Đồng,'
registry noname '000.00.07.H41,,,syt@lamdong.gov.vn,Lâm Đồng,'
registry quote '000.00.08.H41,"Sở Công Thương,,sct@lamdong.gov.vn,Lâm Đồng,'
printf 'code,agency\n000.00.02.H41,Sở Nội vụ\n' >"$T/nocols.csv"
check_vi() {  # FILE REGEX NAME
    exit_is 65 "--lang vi: $3 stops the run" vf --lang vi --agencies "$T/$1.csv" "$T/in.csv"
    like "$(cat "$T/.err")" "^validate-form: --agencies: $T/$1.csv:$2" "and is said in Vietnamese"
}
check_vi dup "4: mã cơ quan 000.00.02.H41 có hai lần trong danh mục \\(dòng 2\\)" "a code listed twice"
check_vi alias "4: tên 'SỞ NỘI VỤ' cũng là tên của cơ quan 'Sở Nội vụ' \\(dòng 2\\)" "an alias that is another agency's name"
check_vi badcode "4: mã cơ quan '000.0.02.H41' không phải mã định danh cơ quan dạng 000.00.15.H41" "a malformed code"
check_vi badmail "4: 'syt-at-lamdong.gov.vn' không phải địa chỉ thư điện tử" "a malformed mailbox"
check_vi noname "4: cơ quan không có tên" "an agency without a name"
check_vi quote "4: một trường mở dấu ngoặc kép ở dòng này không bao giờ được đóng" "a quote never closed (the CSV reader's message)"
check_vi nocols "1: danh mục cơ quan phải có các cột agency_code và name" "a registry without its columns"
exit_is 65 "without --lang vi a code listed twice" vf --agencies "$T/dup.csv" "$T/in.csv"
like "$(cat "$T/.err")" "dup.csv:4: agency code 000.00.02.H41 is listed twice \\(line 2\\)" "is said in English"

# A registry kept as a workbook: its row numbers, and its reader's messages.
$PY - "$T/dup.csv" "$T/dup.xlsx" <<'EOF'
import csv, sys, openpyxl
wb = openpyxl.Workbook()
for r in csv.reader(open(sys.argv[1], encoding="utf-8")):
    wb.active.append(r)
wb.save(sys.argv[2])
EOF
exit_is 65 "--lang vi: a registry workbook with a code listed twice stops the run" \
    vf --lang vi --agencies "$T/dup.xlsx" "$T/in.csv"
like "$(cat "$T/.err")" "dup.xlsx:4: mã cơ quan 000.00.02.H41 có hai lần trong danh mục \\(dòng 2\\)" \
   "said in Vietnamese with the sheet's rows"
cp "$T/cut.xlsx" "$T/cut-registry.xlsx"
exit_is 65 "--lang vi: a registry workbook cut short stops the run" vf --lang vi --agencies "$T/cut-registry.xlsx" "$T/in.csv"
like "$(cat "$T/.err")" "cut-registry.xlsx: không phải tệp Excel đọc được" "said in Vietnamese"
printf '%s\n' "$GOOD" >"$T/good-registry.csv"
exit_is 0 "the good registry, under --lang vi, is used" vf --lang vi --agencies "$T/good-registry.csv" "$T/in.csv"
: >"$T/empty-registry.csv"
exit_is 65 "--lang vi: an empty registry file has no columns: a data error" \
    vf --lang vi --agencies "$T/empty-registry.csv" "$T/in.csv"
like "$(cat "$T/.err")" "danh mục cơ quan phải có các cột agency_code và name" "said in Vietnamese"
done_testing
