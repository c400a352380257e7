#!/bin/sh
# validate-form on renewal requests (Forms 03 and 04): the 60 days of
# NĐ 130/2018 Điều 63, "renewed only once", the old certificate looked up in
# scan-expiry records (--certs) and in sign-batch's ledger (--ledger), the
# 3-year limit of NĐ 68/2024. Every expectation is worked out by hand in
# the comments. Received Monday 02/03/2026, run as of 10/03/2026.
. "$(dirname "$0")/lib.sh"

COLS="request_id,form,full_name,id_number,id_issue_date,id_issue_place,position,agency,org_name,org_address,budget_code,tax_code,province,email,phone,old_serial,old_not_after,device_type,carrier,validity_months,confirmed_by,received_date,renewal_count"
BASE="X|03|Lê Thị Cúc|068190001300|10/05/2021|Cục Cảnh sát QLHC về TTXH|Chuyên viên|Sở Y tế tỉnh Lâm Đồng|||||Lâm Đồng|cuc@lamdong.gov.vn|0987654321|0A00|01/05/2026|TOKEN|||Phạm Văn Dũng|02/03/2026|"
row() {
    printf '%s\n' "$@" | awk -v cols="$COLS" -v base="$BASE" '
        NR == 1 { id = $0; next }
        { i = index($0, "="); ov[substr($0, 1, i - 1)] = substr($0, i + 1) }
        END {
            n = split(cols, c, ","); split(base, b, "|"); b[1] = id
            for (i = 1; i <= n; i++) {
                v = (c[i] in ov) ? ov[c[i]] : b[i]
                if (v ~ /[",]/) { gsub(/"/, "\"\"", v); v = "\"" v "\"" }
                printf "%s%s", (i > 1 ? "," : ""), v
            }
            print ""
        }'
}
org() {  # org ID [column=value]...: a Form 04 row
    _id=$1; shift
    row "$_id" form=04 full_name= id_number= id_issue_date= id_issue_place= position= phone= \
        "org_name=Sở Y tế tỉnh Lâm Đồng" "org_address=36 Trần Phú, Đà Lạt" \
        budget_code=1234567 tax_code=5800123456-001 "$@"
}
val() { mlr --icsv --onidx filter -S "\$request_id == \"$2\"" then cut -f "$3" "$1" | head -1; }

# --- the row alone ---------------------------------------------------------
# 02/03 -> 01/04 is 30 days (March has 31), 01/04 -> 01/05 another 30: 60.
{
    echo "$COLS"
    row ok-60 old_serial=1001 id_number=068190001301                    # line 2
    row bad-59 old_serial=1002 id_number=068190001302 old_not_after=30/04/2026
    row bad-expired old_serial=1003 id_number=068190001303 old_not_after=01/03/2026
    org ok-org old_serial=1004
    org bad-org-address old_serial=1005 org_address=
    org bad-org-name old_serial=1006 org_name=
    org bad-budget old_serial=1007 budget_code=123456
    org bad-tax old_serial=1008 tax_code=58001234
    row bad-no-serial old_serial= id_number=068190001309
    row bad-serial-hex old_serial=XYZ id_number=068190001310
    row ok-serial-colons old_serial=0a:bc:de id_number=068190001311     # line 12
    row bad-dup-serial old_serial=ABCDE id_number=068190001312
    row bad-no-not-after old_serial=1013 id_number=068190001313 old_not_after=
    row bad-renewed old_serial=1014 id_number=068190001314 renewal_count=1
    row ok-count-0 old_serial=1015 id_number=068190001315 renewal_count=0
    row bad-validity old_serial=1016 id_number=068190001316 validity_months=48
    row ok-validity-36 old_serial=1017 id_number=068190001317 validity_months=36
    row ok-instant old_serial=1018 id_number=068190001318 old_not_after=2026-05-01T23:59:59+07:00
    row bad-instant-utc old_serial=1019 id_number=068190001319 old_not_after=2026-04-30T16:59:59Z
} >"$T/in.csv"
validate-form -q --as-of 2026-03-10 --rejects "$T/rej.csv" "$T/in.csv" >"$T/out.csv"
is "$?" 0 "rejects are a normal outcome: exit 0"
rej() { val "$T/rej.csv" "$1" reject_field; }

is "$(csv_col "$T/out.csv" request_id | tr '\n' ' ')" \
   "ok-60 ok-org ok-serial-colons ok-count-0 ok-validity-36 ok-instant " "the valid renewals come out"
is "$(val "$T/out.csv" ok-60 request_type),$(val "$T/out.csv" ok-60 subject_type)" "renew,individual" \
   "form 03 is a renewal for an individual"
is "$(val "$T/out.csv" ok-org request_type),$(val "$T/out.csv" ok-org subject_type)" "renew,organization" \
   "form 04 is a renewal for an organization"
is "$(val "$T/out.csv" ok-60 due_date)" 2026-03-05 "received Mon 02/03/2026, 3 working days: due Thu 05/03/2026"
is "$(val "$T/out.csv" ok-60 old_not_after)" 2026-05-01 "old_not_after 01/05/2026 is written ISO"
is "$(val "$T/out.csv" ok-serial-colons old_serial)" 0ABCDE "serial 0a:bc:de is written 0ABCDE, as openssl prints it"
is "$(rej bad-59)" old_not_after "expires 30/04/2026: 59 days left on 02/03/2026, fewer than 60: rejected"
like "$(val "$T/rej.csv" bad-59 reject_reason)" "only 59 days" "the reason says how many days were left"
is "$(rej bad-expired)" old_not_after "a certificate expired the day before it was received is rejected"
is "$(rej bad-org-address)" org_address "an organization's renewal needs its address"
is "$(rej bad-org-name)" org_name "an organization's renewal needs its name"
is "$(rej bad-budget)" budget_code "budget relation code 123456 (6 digits) is rejected"
is "$(rej bad-tax)" tax_code "tax code 58001234 (8 digits) is rejected"
is "$(rej bad-no-serial)" old_serial "a renewal must name the old certificate's serial"
is "$(rej bad-serial-hex)" old_serial "serial XYZ is not hexadecimal: rejected"
is "$(rej bad-dup-serial)" old_serial "the same certificate twice (ABCDE = 0A:BC:DE): the later one is rejected"
like "$(val "$T/rej.csv" bad-dup-serial reject_reason)" "line 12" "the reason names the earlier line (12)"
is "$(rej bad-no-not-after)" old_not_after "without --certs a renewal must give the old certificate's expiry"
is "$(rej bad-renewed)" renewal_count "a certificate renewed once already is rejected"
is "$(rej bad-validity)" validity_months "48 months for a renewal (3 years at most) is rejected"
is "$(rej bad-instant-utc)" old_not_after "expires 30/04 16:59:59Z = 23:59:59 in Vietnam, 59 days: rejected"

# --- Quốc khánh 2026: 29/08-02/09 off, so a deadline stretches -------------
# Received Thu 27/08/2026: Fri 28/08 is day 1, Sat 29 - Wed 02/09 are off,
# Thu 03/09 day 2, Fri 04/09 day 3.
{ echo "$COLS"; row qk old_serial=2001 received_date=27/08/2026 old_not_after=2027-01-01; } >"$T/qk.csv"
validate-form -q --as-of 2026-09-10 "$T/qk.csv" >"$T/qk-out.csv"
is "$(val "$T/qk-out.csv" qk due_date)" 2026-09-04 "received Thu 27/08/2026 across Quốc khánh: due Fri 04/09/2026"

# --- --certs: scan-expiry's records of the old certificates ----------------
cat >"$T/certs.csv" <<'CSV'
serial,subject_cn,subject_o,subject_ou,subject_l,subject_st,email,uid,issuer_cn,not_before,not_after,expiry_date,days_left,status,sha256,source
C001,Lê Thị Cúc,Sở Y tế tỉnh Lâm Đồng,,,,cuc@lamdong.gov.vn,CCCD:068190001400,CA,2024-01-01T00:00:00+07:00,2026-12-31T23:59:59+07:00,2026-12-31,296,valid,00,a#1
C002,Lê Thị Cúc,Sở Y tế tỉnh Lâm Đồng,,,,cuc@lamdong.gov.vn,CCCD:068190001401,CA,2024-01-01T00:00:00+07:00,2026-12-31T23:59:59+07:00,2026-12-31,296,revoked,00,a#2
C003,Trần Văn Đông,Sở Y tế tỉnh Lâm Đồng,,,,dong@lamdong.gov.vn,CCCD:068190001402,CA,2024-01-01T00:00:00+07:00,2026-12-31T23:59:59+07:00,2026-12-31,296,valid,00,a#3
C004,Lê Thị Cúc,Sở Y tế tỉnh Lâm Đồng,,,,cuc@lamdong.gov.vn,CCCD:068190009999,CA,2024-01-01T00:00:00+07:00,2026-12-31T23:59:59+07:00,2026-12-31,296,valid,00,a#4
C005,LÊ THỊ CÚC,Sở Y tế tỉnh Lâm Đồng,,,,cuc@lamdong.gov.vn,CCCD:068190001404,CA,2024-01-01T00:00:00+07:00,2026-12-31T23:59:59+07:00,2026-12-31,296,valid,00,a#5
C006,Lê Thị Cúc,Sở Y tế tỉnh Lâm Đồng,,,,cuc@lamdong.gov.vn,CCCD:068190001405,CA,2024-01-01T00:00:00+07:00,2026-04-15T23:59:59+07:00,2026-04-15,36,expiring,00,a#6
C007,Sở Y tế tỉnh Lâm Đồng,Sở Y tế tỉnh Lâm Đồng,,,,syt@lamdong.gov.vn,MST:5800123456-001,CA,2024-01-01T00:00:00+07:00,2026-12-31T23:59:59+07:00,2026-12-31,296,valid,00,a#7
CSV
NFD=$(printf 'Le\314\202 Thi\314\243 Cu\314\201c')   # Lê Thị Cúc typed with combining marks
{
    echo "$COLS"
    row c-ok old_serial=C001 id_number=068190001400 old_not_after=
    row c-unknown old_serial=C0FF id_number=068190001406 old_not_after=
    row c-revoked old_serial=C002 id_number=068190001401 old_not_after=
    row c-name old_serial=C003 id_number=068190001402 old_not_after=
    row c-id old_serial=C004 id_number=068190001403 old_not_after=
    row c-nfd old_serial=c005 id_number=068190001404 "full_name=$NFD" old_not_after=
    row c-44 old_serial=C006 id_number=068190001405 old_not_after=
    org c-org old_serial=C007 old_not_after=
} >"$T/c.csv"
validate-form -q --as-of 2026-03-10 --certs "$T/certs.csv" --rejects "$T/c-rej.csv" "$T/c.csv" >"$T/c-out.csv"
is "$?" 0 "with --certs: exit 0"
is "$(csv_col "$T/c-out.csv" request_id | tr '\n' ' ')" "c-ok c-nfd c-org " \
   "with --certs: a known certificate of the same person passes"
is "$(val "$T/c-out.csv" c-nfd full_name)" "Lê Thị Cúc" "a name typed with combining marks is written NFC"
is "$(val "$T/c-rej.csv" c-unknown reject_field)" old_serial "a serial --certs does not know is rejected"
is "$(val "$T/c-rej.csv" c-revoked reject_field)" old_serial "a revoked certificate is rejected"
like "$(val "$T/c-rej.csv" c-revoked reject_reason)" revoked "the reason says the certificate is revoked"
is "$(val "$T/c-rej.csv" c-name reject_field)" full_name "a certificate in another person's name is rejected"
is "$(val "$T/c-rej.csv" c-id reject_field)" id_number "a certificate with another identity number is rejected"
is "$(val "$T/c-rej.csv" c-44 reject_field)" old_not_after \
   "--certs says it expires 15/04/2026: 44 days left on 02/03/2026: rejected"

# --- --ledger: sign-batch's record of what it issued -------------------------
cat >"$T/ledger.csv" <<'CSV'
request_id,request_type,old_serial,serial,subject,not_after,sha256,issued_at
LD-1,renew,AAAA01,BBBB02,CN=Lê Thị Cúc,2029-01-01T00:00:00+07:00,00,2026-01-05T10:00:00+07:00
LD-2,issue,,DDDD04,CN=Lê Thị Cúc,2029-01-01T00:00:00+07:00,00,2026-01-05T10:00:00+07:00
CSV
{
    echo "$COLS"
    row l-renewed old_serial=AAAA01 id_number=068190001501
    row l-product old_serial=BBBB02 id_number=068190001502
    row l-ok old_serial=CCCC03 id_number=068190001503
    row l-issued old_serial=DDDD04 id_number=068190001504
} >"$T/l.csv"
validate-form -q --as-of 2026-03-10 --ledger "$T/ledger.csv" --rejects "$T/l-rej.csv" "$T/l.csv" >"$T/l-out.csv"
is "$(csv_col "$T/l-out.csv" request_id | tr '\n' ' ')" "l-ok l-issued " \
   "with --ledger: certificates not renewed before pass"
is "$(val "$T/l-rej.csv" l-renewed reject_field)" old_serial "a certificate the ledger shows renewed already is rejected"
is "$(val "$T/l-rej.csv" l-product reject_field)" old_serial "a certificate that is itself a renewal is rejected (renewed only once)"
like "$(val "$T/l-rej.csv" l-product reject_reason)" "only once" "the reason says a certificate is renewed only once"

# The ledger before anything was issued, and a ledger that cannot be read.
head -1 "$T/ledger.csv" >"$T/ledger-new.csv"
: >"$T/ledger-empty.csv"
for L in ledger-new ledger-empty; do
    validate-form -q --as-of 2026-03-10 --ledger "$T/$L.csv" --rejects "$T/$L-rej.csv" "$T/l.csv" >"$T/$L-out.csv"
    is "$(csv_col "$T/$L-out.csv" request_id | tr '\n' ' ')" "l-renewed l-product l-ok l-issued " \
       "a ledger with nothing issued yet ($L): every renewal passes"
done
{
    head -2 "$T/ledger.csv"
    printf '%s\n' 'LD-3,renew,"EEEE05,FFFF06,CN=X,2029-01-01T00:00:00+07:00,00,2026-01-06T10:00:00+07:00'
} >"$T/ledger-torn.csv"
exit_is 65 "a damaged ledger stops the run (65)" \
    validate-form -q --as-of 2026-03-10 --ledger "$T/ledger-torn.csv" "$T/l.csv"
like "$(cat "$T/.err")" "ledger-torn.csv:3: damaged ledger line" "and names the ledger and its line"
printf 'request_id,request_type,old_serial,serial\nLD-1,renew,AAAA01,BBBB02\nLD-2,renew,XYZ,CCCC03\n' >"$T/ledger-bad.csv"
exit_is 65 "a ledger serial that is not hexadecimal stops the run (65)" \
    validate-form -q --as-of 2026-03-10 --ledger "$T/ledger-bad.csv" "$T/l.csv"
like "$(cat "$T/.err")" "ledger-bad.csv:3: old_serial 'XYZ' is not hexadecimal" "and names the ledger, its line and the serial"
printf 'request_id,serial\nLD-1,BBBB02\n' >"$T/ledger-cols.csv"
exit_is 65 "a file without the ledger's columns stops the run (65)" \
    validate-form -q --as-of 2026-03-10 --ledger "$T/ledger-cols.csv" "$T/l.csv"
like "$(cat "$T/.err")" "ledger-cols.csv:1: not a sign-batch ledger: no column request_type" "and says which column is missing"
exit_is 66 "a ledger that is not there is a missing input (66), as to track and publish" \
    validate-form -q --as-of 2026-03-10 --ledger "$T/nope.csv" "$T/l.csv"

done_testing
