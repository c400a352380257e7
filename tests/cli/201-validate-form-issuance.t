#!/bin/sh
# validate-form on new-certificate requests (Forms 01 and 02, procedure
# 1.010847): one hand-made row a rule, each expectation worked out from
# FORMS.md. All rows received Thursday 12/02/2026, run as of 20/02/2026.
. "$(dirname "$0")/lib.sh"

COLS="request_id,form,request_type,subject_type,full_name,birth_date,id_number,id_issue_date,id_issue_place,position,agency,agency_code,province,email,phone,device_type,carrier,validity_months,confirmed_by,received_date"
BASE="X|01|||Nguyễn Văn An|15/03/1990|068090001200|10/05/2021|Cục Cảnh sát QLHC về TTXH|Chuyên viên|Sở Tài chính tỉnh Lâm Đồng|000.00.15.H41|Lâm Đồng|an@lamdong.gov.vn|0912345678|TOKEN||60|Trần Văn Bình|12/02/2026"
# row ID [column=value]...: the base row with request_id ID and the changes.
# CCCD 068 0 90 ...: born in Lâm Đồng (068), male, 1900s (0), 1990 (90).
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

{
    echo "$COLS"
    row ok-base                                                   # line 2
    row ok-form02 form=02 id_number=068090001201
    row ok-18-today birth_date=12/02/2008 id_number=068208001202   # 18 exactly on 12/02/2026
    row ok-passport id_number=C1234567
    row ok-former-province id_number=068090001204 "province=Tỉnh Bình Thuận"
    row ok-intl-phone id_number=068090001205 "phone=+84 912 345 678"
    row ok-sim id_number=068090001206 device_type=sim carrier=Viettel
    row ok-no-form form= request_type=issue subject_type=individual id_number=068090001207
    row bad-name-digit "full_name=Nguyễn Văn 2" id_number=068090001208
    row bad-name-short full_name=A id_number=068090001209
    row bad-birth-date birth_date=30/02/1988 id_number=068088001210
    row bad-under-18 birth_date=13/02/2008 id_number=068208001211
    row bad-no-birth birth_date= id_number=068090001212
    row bad-cccd-11 id_number=06809000121
    row bad-cccd-province id_number=003090001214
    row bad-cccd-century id_number=068290001215
    row bad-cccd-year id_number=068091001216
    row bad-passport-lower id_number=c1234567
    row bad-issued-before-birth id_number=068090001218 id_issue_date=01/01/1989
    row bad-issued-after-received id_number=068090001219 id_issue_date=13/02/2026
    row bad-no-issue-place id_number=068090001220 id_issue_place=
    row bad-no-position id_number=068090001221 position=
    row bad-no-agency id_number=068090001222 agency=
    row bad-agency-code id_number=068090001223 agency_code=000.00.15.41
    row bad-province id_number=068090001224 "province=Tỉnh Xyz"
    row bad-email-domain id_number=068090001225 email=an@gmail.com
    row bad-email-shape id_number=068090001226 email=an.lamdong.gov.vn
    row bad-landline id_number=068090001227 phone=02633821234
    row bad-sim-carrier id_number=068090001228 device_type=SIM
    row bad-device id_number=068090001229 device_type=USB
    row bad-validity id_number=068090001230 validity_months=72
    row bad-unconfirmed id_number=068090001231 confirmed_by=
    row bad-received-future id_number=068090001232 received_date=21/02/2026
    row bad-received-date id_number=068090001233 received_date=30/02/2026
    row bad-form id_number=068090001234 form=05
    row bad-no-form form= id_number=068090001235
    row bad-revoke form= request_type=revoke subject_type=individual id_number=068090001236
    row bad-form-mismatch request_type=renew id_number=068090001237
    row bad-same-person                                           # line 40: base's id_number
    row ok-base id_number=068090001239                             # line 41: base's request id
    row bad-two-faults id_number=068090001240 position= email=an@gmail.com
} >"$T/in.csv"

validate-form --as-of 2026-02-20 --rejects "$T/rej.csv" -o "$T/out.csv" "$T/in.csv" 2>"$T/err"
is "$?" 0 "rejects are a normal outcome: exit 0"

# val FILE ID COLUMN
val() { mlr --icsv --onidx filter -S "\$request_id == \"$2\"" then cut -f "$3" "$1" | head -1; }
rej() { val "$T/rej.csv" "$1" reject_field; }
why() { val "$T/rej.csv" "$1" reject_reason; }

is "$(csv_col "$T/out.csv" request_id | tr '\n' ' ')" \
   "ok-base ok-form02 ok-18-today ok-passport ok-former-province ok-intl-phone ok-sim ok-no-form " \
   "the valid requests come out, in their order"
is "$(($(wc -l <"$T/rej.csv") - 1))" 33 "the other 33 of the 41 rows are rejected"
like "$(cat "$T/err")" "41 in, 8 out, 33 rejected" "summary: 41 in = 8 out + 33 rejected"

is "$(val "$T/out.csv" ok-base request_type),$(val "$T/out.csv" ok-base subject_type)" "issue,individual" \
   "form 01 is a new certificate for an individual"
is "$(val "$T/out.csv" ok-form02 request_type),$(val "$T/out.csv" ok-form02 form)" "issue,02" \
   "form 02 is a new certificate too"
is "$(val "$T/out.csv" ok-base due_date)" 2026-02-25 \
   "received Thu 12/02/2026: day 1 is Fri 13/02, Tết 14-22/02, due Wed 25/02 (4 working days)"
is "$(val "$T/out.csv" ok-base birth_date),$(val "$T/out.csv" ok-base id_issue_date),$(val "$T/out.csv" ok-base received_date)" \
   "1990-03-15,2021-05-10,2026-02-12" "dates typed DD/MM/YYYY are written ISO"
is "$(val "$T/out.csv" ok-base agency_key)" "sở tài chính tỉnh lâm đồng" "agency_key is the agency's comparison key"
is "$(val "$T/out.csv" ok-18-today request_id)" ok-18-today "a person who turns 18 on the day received may ask"
is "$(val "$T/out.csv" ok-passport id_number)" C1234567 "a passport number (a capital letter and 7 digits) is accepted"
is "$(val "$T/out.csv" ok-former-province province)" "Lâm Đồng" "former province Bình Thuận is written as Lâm Đồng, the unit it merged into"
is "$(val "$T/out.csv" ok-intl-phone phone)" 0912345678 "phone +84 912 345 678 is written 0912345678"
is "$(val "$T/out.csv" ok-sim device_type)" SIM "device type sim is written SIM"
is "$(val "$T/out.csv" ok-no-form request_type)" issue "without form, request_type and subject_type say what is asked"

is "$(rej bad-name-digit)" full_name "a name with a digit is rejected"
is "$(rej bad-name-short)" full_name "a one-letter name is rejected"
is "$(rej bad-birth-date)" birth_date "30/02/1988 is not a real date of birth"
is "$(rej bad-under-18)" birth_date "a person born 13/02/2008 is 17 on 12/02/2026: rejected"
like "$(why bad-under-18)" "under 18" "the reason says the person is under 18"
is "$(rej bad-no-birth)" birth_date "a new certificate needs the date of birth"
is "$(rej bad-cccd-11)" id_number "an 11-digit identification number is rejected"
is "$(rej bad-cccd-province)" id_number "003 is not the code of a province: rejected"
is "$(rej bad-cccd-century)" id_number "digit 4 = 2 means born 2000-2099, but born 1990: rejected"
is "$(rej bad-cccd-year)" id_number "digits 5-6 = 91 but born 1990: rejected"
is "$(rej bad-passport-lower)" id_number "a passport number in lower case is rejected"
is "$(rej bad-issued-before-birth)" id_issue_date "an ID issued before the birth is rejected"
is "$(rej bad-issued-after-received)" id_issue_date "an ID issued after the request was received is rejected"
is "$(rej bad-no-issue-place)" id_issue_place "the ID issue place is required"
is "$(rej bad-no-position)" position "the position is required"
is "$(rej bad-no-agency)" agency "the agency is required"
is "$(rej bad-agency-code)" agency_code "agency code 000.00.15.41 lacks the letter group: rejected"
is "$(rej bad-province)" province "an unknown province is rejected"
is "$(rej bad-email-domain)" email "a gmail.com address is not official: rejected"
is "$(rej bad-email-shape)" email "an address without @ is rejected"
is "$(rej bad-landline)" phone "a landline number (0263...) is not a mobile: rejected"
is "$(rej bad-sim-carrier)" carrier "a SIM without its carrier is rejected"
is "$(rej bad-device)" device_type "device type USB is rejected"
is "$(rej bad-validity)" validity_months "72 months for a new certificate (5 years at most) is rejected"
is "$(rej bad-unconfirmed)" confirmed_by "a request nobody confirmed is rejected"
is "$(rej bad-received-future)" received_date "received 21/02/2026, after today 20/02/2026: rejected"
is "$(rej bad-received-date)" received_date "received 30/02/2026 is not a real date"
is "$(rej bad-form)" form "form 05 does not exist"
is "$(rej bad-no-form)" form "without form nor request type the request is rejected"
is "$(rej bad-revoke)" request_type "revocation is not handled yet: rejected with a clear reason"
like "$(why bad-revoke)" "not handled yet" "the reason says revoke is not handled yet"
is "$(rej bad-form-mismatch)" request_type "form 01 with request_type renew is rejected"
is "$(rej bad-same-person)" id_number "the same person twice: the later one is rejected"
like "$(why bad-same-person)" "line 2" "the reason names the earlier line (2)"
is "$(val "$T/rej.csv" ok-base reject_field)" request_id "the same request id twice: the later one is rejected"
like "$(val "$T/rej.csv" ok-base reject_reason)" "line 2" "the reason names the line of the first use"
is "$(val "$T/rej.csv" ok-base reject_line)" 41 "reject_line is the line of the rejected row"
is "$(rej bad-two-faults)" position "two faults: reject_field is the first (position comes before email)"
like "$(why bad-two-faults)" "position is missing; .*official domain" "two faults: both are in the reason"

done_testing
