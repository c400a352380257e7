#!/bin/sh
# validate-form reads the sheets clerks export from Excel: Vietnamese column
# labels (FORMS.md) in any case, NFC or NFD, with spaces around them, a BOM
# and CRLF line ends; it writes canonical column names, LF, no BOM.
. "$(dirname "$0")/lib.sh"

# A Form 03 renewal: Lê Thị Cúc, CCCD 068 1 90 ... (Lâm Đồng, female, 1990),
# received Monday 02/03/2026; old certificate expires 01/05/2026 (60 days).
# Labels: "Họ và tên" in NFD, "MÃ HỒ SƠ" in capitals, " Mẫu " with spaces,
# "Tổ chức cấp 1..3" instead of the agency (the deepest given is the agency),
# an unknown column "Ghi chú" that must pass through unchanged.
NFD_NAME=$(printf 'Ho\314\243 va\314\200 te\314\202n')
printf '\357\273\277MÃ HỒ SƠ, Mẫu ,%s,Số CCCD,Ngày cấp,Nơi cấp,Chức vụ,Tổ chức cấp 1,Tổ chức cấp 2,Tổ chức cấp 3,Tỉnh/Thành phố,Địa chỉ thư điện tử công vụ,Số điện thoại di động,Serial CTS cũ,old_not_after,Loại thiết bị,Người xác nhận (thủ trưởng cơ quan),Ngày tiếp nhận,Ghi chú\r\n' "$NFD_NAME" >"$T/vi.csv"
printf 'HS-1,3,  Lê   Thị Cúc ,068190001300,10/05/2021,Cục Cảnh sát QLHC về TTXH,Chuyên viên,UBND tỉnh Lâm Đồng,Sở Y tế,Phòng Tổ chức cán bộ,Lâm Đồng,cuc@lamdong.gov.vn,0987 654 321,1a2b,01/05/2026,,Phạm Văn Dũng,2/3/2026,"ghi chú, có dấu phẩy"\r\n' >>"$T/vi.csv"

validate-form -q --as-of 2026-03-10 "$T/vi.csv" >"$T/out.csv" 2>"$T/err"
is "$?" 0 "a sheet with Vietnamese labels, BOM and CRLF is read"
is "$(head -1 "$T/out.csv")" \
   "request_id,form,full_name,id_number,id_issue_date,id_issue_place,position,agency_level_1,agency_level_2,agency_level_3,province,email,phone,old_serial,old_not_after,device_type,confirmed_by,received_date,Ghi chú,agency,request_type,subject_type,due_date,agency_key" \
   "the output header has the canonical names, the unknown column unchanged, the computed columns at the end"
is "$(head -c 3 "$T/out.csv" | od -An -tx1 | tr -d ' ')" "726571" "the output has no BOM (starts with 'req')"
is "$(tr -cd '\r' <"$T/out.csv" | wc -c)" 0 "the output has LF line ends, no CR"
is "$(csv_col "$T/out.csv" full_name)" "Lê Thị Cúc" "the name is trimmed, inner spaces made one"
is "$(csv_col "$T/out.csv" form)" "03" "form 3 (Excel drops the zero) is written 03"
is "$(csv_col "$T/out.csv" agency)" "Phòng Tổ chức cán bộ" "the deepest 'Tổ chức cấp N' given is the agency"
is "$(csv_col "$T/out.csv" received_date),$(csv_col "$T/out.csv" id_issue_date)" "2026-03-02,2021-05-10" \
   "dates 2/3/2026 and 10/05/2021 are written ISO"
is "$(csv_col "$T/out.csv" due_date)" 2026-03-05 "received Mon 02/03/2026: due Thu 05/03/2026 (3 working days)"
is "$(csv_col "$T/out.csv" phone)" 0987654321 "phone 0987 654 321 is written 0987654321"
is "$(csv_col "$T/out.csv" old_serial)" 1A2B "old serial 1a2b is written 1A2B"
is "$(csv_col "$T/out.csv" device_type)" TOKEN "an empty device type is TOKEN"
is "$(csv_col "$T/out.csv" 'Ghi chú')" "ghi chú, có dấu phẩy" "the unknown column's value passes through"

# Column names of the other kind: canonical names in capitals with spaces.
printf ' REQUEST_ID ,Form,Full_Name,ID_NUMBER,id_issue_date,id_issue_place,position,agency,province,email,phone,old_serial,old_not_after,confirmed_by,received_date\n' >"$T/caps.csv"
printf 'HS-2,03,Lê Thị Cúc,068190001301,2021-05-10,Cục Cảnh sát,Chuyên viên,Sở Y tế,Lâm Đồng,cuc@lamdong.gov.vn,0987654321,1A2C,2026-05-01,Phạm Văn Dũng,2026-03-02\n' >>"$T/caps.csv"
validate-form -q --as-of 2026-03-10 "$T/caps.csv" >"$T/caps-out.csv"
is "$(head -1 "$T/caps-out.csv" | cut -d, -f1-4)" "request_id,form,full_name,id_number" \
   "canonical names in capitals with spaces are recognised"

# The other labels of FORMS.md, one sheet each (renewal, form 04 or 01).
for label in "Họ tên" "Số định danh cá nhân" "Số CMND/CCCD/Hộ chiếu" "Cơ quan, tổ chức quản lý trực tiếp" \
             "Tên cơ quan, tổ chức công tác" "Mã định danh cơ quan" "Tên cơ quan, tổ chức" "Địa chỉ" \
             "Mã số thuế" "Mã quan hệ ngân sách" "Số hiệu chứng thư cũ" "Nhà mạng" "Ngày sinh" "Mẫu"; do
    printf '"%s"\n' "$label" >"$T/label.csv"
    got=$(validate-form -q --as-of 2026-03-10 "$T/label.csv" 2>/dev/null | head -1 | cut -d, -f1)
    case $label in
    "Họ tên") want=full_name ;; "Số định danh cá nhân"|"Số CMND/CCCD/Hộ chiếu") want=id_number ;;
    "Cơ quan, tổ chức quản lý trực tiếp"|"Tên cơ quan, tổ chức công tác") want=agency ;;
    "Mã định danh cơ quan") want=agency_code ;; "Tên cơ quan, tổ chức") want=org_name ;;
    "Địa chỉ") want=org_address ;; "Mã số thuế") want=tax_code ;; "Mã quan hệ ngân sách") want=budget_code ;;
    "Số hiệu chứng thư cũ") want=old_serial ;; "Nhà mạng") want=carrier ;; "Ngày sinh") want=birth_date ;;
    "Mẫu") want=form ;;
    esac
    is "$got" "$want" "label '$label' is column $want"
done

# Two columns meaning the same: which one to believe? Stop.
printf 'full_name,Họ và tên,request_id\nA,B,C\n' >"$T/twice.csv"
exit_is 65 "two columns meaning full_name stop the run (exit 65)" validate-form -q "$T/twice.csv"
like "$(cat "$T/.err")" "twice.csv:1: columns 'full_name' and 'Họ và tên' both mean full_name" \
     "the message names both columns and the line"

# Two files, one with canonical names, one exported from Excel with the
# Vietnamese labels (BOM, CRLF): the second is read onto the first's columns.
printf 'request_id,form,full_name\nA1,03,Nguyễn Văn An\n' >"$T/first.csv"
printf '\357\273\277Mã hồ sơ,Mẫu,Họ và tên\r\nB2,03,Trần Thị Bình\r\n' >"$T/second.csv"
validate-form -q --as-of 2026-11-23 --rejects "$T/two-rej.csv" "$T/first.csv" "$T/second.csv" >/dev/null
is "$(mlr --icsv --onidx --ofs : cut -o -f request_id,full_name "$T/two-rej.csv" | tr '\n' ' ')" \
   "A1:Nguyễn Văn An B2:Trần Thị Bình " "a second file with Vietnamese labels maps onto the first file's columns"

done_testing
