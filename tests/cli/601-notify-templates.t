#!/bin/sh
# notify: every shipped template rendered from sample records of the step it
# serves, read back with Python's email package (headers decoded, body text
# as written by hand here).
. "$(dirname "$0")/lib.sh"
readmail() { /usr/bin/python3 "$TOP/tests/cli/notify_mail.py" "$@"; }
export CB_TEMPLATES="${CB_TEMPLATES:-$TOP/templates}"
FROM='Sở Khoa học và Công nghệ Lâm Đồng <chungthu@lamdong.gov.vn>'

cat >"$T/certs.csv" <<'CSV'
serial,subject_cn,subject_o,email,not_after,expiry_date,days_left,status
4A1F09,Nguyễn Văn An,Sở Y tế tỉnh Lâm Đồng,an.nv@lamdong.gov.vn,2026-03-15T23:59:59+07:00,2026-03-15,54,expiring
CSV
notify --template expiring --as-of 2026-01-20 --from "$FROM" "$T/certs.csv" >"$T/exp.mbox" 2>"$T/err"
readmail mbox "$T/exp.mbox" >"$T/exp.txt"
is "$(grep -c '^--$' "$T/exp.txt")" 1 "one certificate record gives one letter"
is "$(grep '^subject:' "$T/exp.txt")" "subject: Thông báo: chứng thư số sắp hết hạn sử dụng" "expiring: Vietnamese subject decodes (RFC 2047)"
is "$(grep '^to_name:' "$T/exp.txt")" "to_name: Nguyễn Văn An" "expiring: holder's name in To decodes"
is "$(grep '^to_addr:' "$T/exp.txt")" "to_addr: an.nv@lamdong.gov.vn" "expiring: sent to the holder's address"
is "$(grep '^from_name:' "$T/exp.txt")" "from_name: Sở Khoa học và Công nghệ Lâm Đồng" "the sender's Vietnamese name decodes"
is "$(grep '^charset:' "$T/exp.txt")" "charset: utf-8" "the body is UTF-8 text/plain"
like "$(grep '^date:' "$T/exp.txt")" '\+0700$' "the Date is in Vietnam time (+0700)"
is "$(grep '^auto_submitted:' "$T/exp.txt")" "auto_submitted: auto-generated" "marked auto-generated so no auto-reply comes back"
is "$(grep -c '^body: Kính gửi Ông/Bà Nguyễn Văn An,$' "$T/exp.txt")" 1 "expiring: polite salutation with the holder's name"
is "$(grep -c '^body:    Ngày hết hạn: 15/03/2026 (còn 54 ngày)$' "$T/exp.txt")" 1 "expiring: expiry date printed 15/03/2026 with days left"
is "$(grep -c '^body:    Số hiệu (serial): 4A1F09$' "$T/exp.txt")" 1 "expiring: serial in the letter"
is "$(grep -c '^body: Ngày 20/01/2026$' "$T/exp.txt")" 1 "the letter is dated today (--as-of) as DD/MM/YYYY"
like "$(cat "$T/err")" '^notify: 1 in, 1 out, 0 rejected' "summary line counts the record"

cat >"$T/expired.csv" <<'CSV'
serial,subject_cn,email,expiry_date,days_left,status
7B,Lê Thị Cúc,cuc.lt@lamdong.gov.vn,2025-12-31,-20,expired
CSV
notify --template expired --as-of 2026-01-20 --from "$FROM" "$T/expired.csv" 2>/dev/null | readmail mbox /dev/stdin >"$T/expd.txt"
is "$(grep '^subject:' "$T/expd.txt")" "subject: Thông báo: chứng thư số đã hết hạn sử dụng" "expired: subject"
is "$(grep -c '^body:    Hết hạn từ ngày: 31/12/2025$' "$T/expd.txt")" 1 "expired: date it expired as 31/12/2025"
is "$(grep -c 'không thể gia hạn' "$T/expd.txt")" 1 "expired: says it cannot be renewed, a new one is needed"

cat >"$T/rej.csv" <<'CSV'
request_id,full_name,email,agency,reject_line,reject_field,reject_reason
HS-2026-017,Phạm Minh Đức,vanthu@soyte.lamdong.gov.vn,Sở Y tế,5,id_number,"the personal number must have 12 digits"
CSV
notify --template rejected --as-of 2026-01-20 --from "$FROM" "$T/rej.csv" 2>/dev/null | readmail mbox /dev/stdin >"$T/rej.txt"
is "$(grep '^subject:' "$T/rej.txt")" "subject: Thông báo: hồ sơ đề nghị chứng thư số chưa hợp lệ" "rejected: subject"
is "$(grep -c '^body: 1. Mã hồ sơ: HS-2026-017$' "$T/rej.txt")" 1 "rejected: names the request"
is "$(grep -c '^body: Kính gửi Ông/Bà Phạm Minh Đức,$' "$T/rej.txt")" 1 "rejected: the letter is addressed to the applicant by name"
is "$(grep -c '^body:    Lý do: the personal number must have 12 digits$' "$T/rej.txt")" 1 "rejected: gives the reason"

cat >"$T/manifest.csv" <<'CSV'
request_id,serial,subject_cn,email,agency,path,not_after,status
GH-01,5C3D,Hoàng Văn Em,vanthu@sotc.lamdong.gov.vn,Sở Tài chính tỉnh Lâm Đồng,out/5C3D.pem,2029-02-28T23:59:59+07:00,delivered
CSV
notify --template renewal-ready --as-of 2026-01-20 --from "$FROM" "$T/manifest.csv" 2>/dev/null | readmail mbox /dev/stdin >"$T/ren.txt"
is "$(grep '^subject:' "$T/ren.txt")" "subject: Thông báo: chứng thư số đã được gia hạn" "renewal-ready: subject"
is "$(grep '^to_name:' "$T/ren.txt")" "to_name: Sở Tài chính tỉnh Lâm Đồng" "renewal-ready: addressed to the agency"
is "$(grep -c '^body:    Có hiệu lực đến ngày: 28/02/2029$' "$T/ren.txt")" 1 "renewal-ready: new expiry from the instant, as 28/02/2029"
is "$(grep -c 'USB token' "$T/ren.txt")" 1 "renewal-ready: tells to bring the device or update it with the guide"

cat >"$T/issued.csv" <<'CSV'
request_id,full_name,email,agency
CM-09,Vũ Thị Giang,giang.vt@lamdong.gov.vn,Văn phòng UBND tỉnh Lâm Đồng
CSV
notify --template issued-ready --as-of 2026-01-20 --from "$FROM" \
    --set "collect_time=8 giờ 00, ngày 25/02/2026" --set "collect_place=Phòng 204, 36 Trần Phú, Đà Lạt" \
    "$T/issued.csv" 2>/dev/null | readmail mbox /dev/stdin >"$T/iss.txt"
is "$(grep '^to_name:' "$T/iss.txt")" "to_name: Vũ Thị Giang" "issued-ready: to the new holder"
is "$(grep -c '^body: Thời gian nhận: 8 giờ 00, ngày 25/02/2026$' "$T/iss.txt")" 1 "issued-ready: time to collect from --set"
is "$(grep -c '^body: Địa điểm nhận: Phòng 204, 36 Trần Phú, Đà Lạt$' "$T/iss.txt")" 1 "issued-ready: place to collect from --set"

exit_is 65 "a template column the input lacks stops the run before any letter" \
    notify --template issued-ready --from "$FROM" "$T/issued.csv"
like "$(cat "$T/.err")" "column 'collect_time'" "and the message names the missing column"
is "$(cat "$T/.out")" "" "and nothing is written"

printf 'serial,subject_cn,email,expiry_date,days_left\n01,,a@x.gov.vn,2026-03-15,54\n02,Bình,b@x.gov.vn,không rõ,10\n03,Cúc,c@x.gov.vn,2026-03-01,40\n' >"$T/blank.csv"
notify --template expiring --as-of 2026-01-20 --rejects "$T/blank.rej" "$T/blank.csv" >"$T/blank.mbox" 2>"$T/err"
is "$(csv_col "$T/blank.rej" reject_field | tr '\n' ' ')" "subject_cn expiry_date " "an empty name or a date that is not a date is a reject, not a blank in a letter"
like "$(cat "$T/err")" '3 in, 1 out, 2 rejected' "records in = out + rejected"
is "$(readmail mbox "$T/blank.mbox" | grep -c '^--$')" 1 "the good record is still sent"

exit_is 66 "an unknown template name is 'input missing'" notify --template no-such "$T/certs.csv"
exit_is 64 "no --template is a usage error" notify "$T/certs.csv"
exit_is 66 "a missing input file is 'input missing'" notify --template expiring "$T/none.csv"
ok "--help exits 0" notify --help
like "$(notify --version)" '^notify certbatch ' "--version names the program"
printf 'Subject: {{serial}}\n\nCert {{serial}} of {{subject_cn}}.\n' >"$T/own.txt"
notify --template "$T/own.txt" "$T/certs.csv" 2>/dev/null | readmail mbox /dev/stdin >"$T/own.out"
is "$(grep '^body:' "$T/own.out")" "body: Cert 4A1F09 of Nguyễn Văn An." "a template file of one's own works"
if [ -d "$BIN/../templates" ]; then
    ok "shipped templates are found next to the program" env -u CB_TEMPLATES notify --template expired "$T/expired.csv"
else
    ok "shipped templates are found through CB_TEMPLATES" env CB_TEMPLATES="$TOP/templates" notify --template expired "$T/expired.csv"
fi
done_testing
