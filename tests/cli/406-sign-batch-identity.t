#!/bin/sh
# sign-batch issue never certifies another identity than the request's: a
# field too long for the certificate is a reject naming it, never a
# certificate for a shortened name (issue 14); the e-mail address is checked
# with the library's one rule. Lengths are counted here with wc -c.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-batch-fixture.sh"

make_ca
l63=$(printf 'a%.0s' $(seq 63))
long_mail="an@$l63.$l63.$l63.$l63.$l63.gov.vn"
long_id=$(printf '0%.0s' $(seq 70))
is "$(printf '%s' "$long_mail" | wc -c | tr -d ' ')" 329 "(the long address has 329 bytes, more than the 319 kept)"
H=request_id,form,full_name,birth_date,id_number,position,agency,org_name,province,email,phone,confirmed_by,received_date,validity_months,csr_file,request_type,subject_type,due_date,agency_key
cat >"$T/issue.csv" <<CSV
$H
ID-01,01,Nguyễn Thị Hoa,1990-05-01,068190000123,Chuyên viên,Sở Nội vụ,,Lâm Đồng,hoa.nt@lamdong.gov.vn,0912345678,Giám đốc Sở,2026-02-10,,,issue,individual,2026-02-25,so noi vu
ID-02,01,Trần Văn Dài,1990-05-01,068190000124,Chuyên viên,Sở Nội vụ,,Lâm Đồng,$long_mail,0912345678,Giám đốc Sở,2026-02-10,,,issue,individual,2026-02-25,so noi vu
ID-03,01,Lê Văn Số,1990-05-01,$long_id,Chuyên viên,Sở Nội vụ,,Lâm Đồng,so.lv@lamdong.gov.vn,0912345678,Giám đốc Sở,2026-02-10,,,issue,individual,2026-02-25,so noi vu
ID-04,01,Phạm Văn Chấm,1990-05-01,068190000125,Chuyên viên,Sở Nội vụ,,Lâm Đồng,cham..pv@lamdong.gov.vn,0912345678,Giám đốc Sở,2026-02-10,,,issue,individual,2026-02-25,so noi vu
CSV
sb() { sign-batch issue --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" --pass-file "$T/ca-pass.txt" "$@"; }
ok "issue the batch" sb --key-alg ec-p256 --key-dir "$T/keys" --rejects "$T/rejects.csv" -o "$T/issued.pem" "$T/issue.csv"
is "$(grep -c 'BEGIN CERTIFICATE' "$T/issued.pem")" 1 "one certificate: the request whose fields fit"
is "$(mlr --icsv --onidx --ofs , cut -o -f request_id,reject_field "$T/rejects.csv" | tr '\n' ' ')" \
   "ID-02,email ID-03,id_number ID-04,email " "the too-long e-mail, the too-long identity number and the bad address are rejects"
like "$(mlr --icsv --onidx filter '$request_id == "ID-02"' then cut -f reject_reason "$T/rejects.csv")" \
    "email is longer than 319 bytes: a certificate is never issued for a shortened identity" "the reason says why"
ok "no certificate carries a cut address" sh -c "! grep -q aaaa '$T/issued.pem' && ! openssl x509 -in '$T/issued.pem' -noout -ext subjectAltName | grep -q '$l63'"
done_testing
