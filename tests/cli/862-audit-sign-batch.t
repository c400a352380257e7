#!/bin/sh
# The audit log through a CA's day: sign-batch issue, renew and sign, then
# publish, all into one log; audit-verify accepts it, and each line names
# the certificate openssl sees.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-batch-fixture.sh"

make_ca
make_old_cert 0A1B2C3D4E5F6071 "Nguyễn Văn An" 400
today=$(TZ=UTC-7 date +%Y-%m-%d)
cat >"$T/issue.csv" <<CSV
request_id,form,full_name,birth_date,id_number,position,agency,province,email,phone,confirmed_by,received_date,request_type,subject_type
CB-01,01,Nguyễn Thị Hoà,1990-05-01,068190000123,Chuyên viên,Sở Nội vụ tỉnh Lâm Đồng,Lâm Đồng,hoa.nt@lamdong.gov.vn,0912345678,Giám đốc Sở,$today,issue,individual
CB-02,01,Trần Văn Bảo,1985-01-02,068085000456,Chuyên viên,Sở Nội vụ tỉnh Lâm Đồng,Lâm Đồng,bao.tv@lamdong.gov.vn,0987654321,Giám đốc Sở,$today,issue,individual
CSV
cat >"$T/renew.csv" <<CSV
request_id,request_type,old_serial,full_name,received_date,agency_key
GH-001,renew,0A1B2C3D4E5F6071,Nguyễn Văn An,$today,so noi vu
CSV
sb() {
    _m=$1; shift
    CB_ACTOR=clerk sign-batch "$_m" --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" --pass-file "$T/ca-pass.txt" \
        --ledger "$T/ledger.csv" --audit "$T/audit.csv" "$@"
}
ok "issue with an audit log" sb issue --key-alg ec-p256 --key-dir "$T/keys" -o "$T/issued.pem" "$T/issue.csv"
ok "renew into the same log" sb renew --old-certs "$T/old" -o "$T/renewed.pem" "$T/renew.csv"
ok "a re-run issues nothing and adds nothing" sb issue --key-alg ec-p256 --key-dir "$T/keys" --pins "$T/p2.csv" \
    -o /dev/null "$T/issue.csv"
ok "sign the batch file" env CB_ACTOR=clerk sign-batch sign --cert "$T/ca.pem" --key "$T/ca.key" \
    --pass-file "$T/ca-pass.txt" --audit "$T/audit.csv" -o "$T/issue.csv.p7s" "$T/issue.csv"
printf 'request_id,agency,handed_over_date,received_date\nCB-01,Sở Nội vụ tỉnh Lâm Đồng,%s,%s\n' "$today" "$today" >"$T/req.csv"
ok "publish into the same log" env CB_ACTOR=clerk publish --ledger "$T/ledger.csv" --issued "$T/issued.pem" \
    --out "$T/www" --audit "$T/audit.csv" --audit-cert "$T/ca.pem" --audit-key "$T/ca.key" \
    --pass-file "$T/ca-pass.txt" -o /dev/null "$T/req.csv"
is "$(csv_col "$T/audit.csv" action | tr '\n' ' ')" \
    "issue issue checkpoint renew checkpoint sign checkpoint publish checkpoint " \
    "issue, renew, sign and publish, each batch closed by a checkpoint"
csplit -s -z -f "$T/c" "$T/issued.pem" '/BEGIN CERTIFICATE/' '{*}'
is "$(csv_col "$T/audit.csv" sha256 | head -1)" \
    "$(openssl x509 -in "$T/c00" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d :)" \
    "the issue line carries the certificate's SHA-256"
is "$(csv_col "$T/audit.csv" serial | head -1)" "$(openssl x509 -in "$T/c00" -noout -serial | cut -d= -f2)" \
    "and its serial"
like "$(grep ',renew,' "$T/audit.csv")" "old_serial=0A1B2C3D4E5F6071" "the renewal names the old certificate"
is "$(grep ',sign,' "$T/audit.csv" | python3 -c 'import csv,sys; print(next(csv.reader(sys.stdin))[6])')" \
    "$(openssl dgst -sha256 -r "$T/issue.csv" | cut -d' ' -f1)" "the sign line carries the signed file's SHA-256"
is "$(csv_col "$T/audit.csv" actor | sort -u)" "clerk" "who did it"
ok "audit-verify accepts the day's log" audit-verify --ca "$T/ca.pem" "$T/audit.csv"
like "$(cat "$T/.out")" "10 lines, 4 signed checkpoints verify" "with its four checkpoints"
ok "audit-verify --lang vi" audit-verify --lang vi --ca "$T/ca.pem" "$T/audit.csv"
like "$(cat "$T/.out")" "10 dòng, 4 điểm kiểm tra" "says it in Vietnamese"
done_testing
