#!/bin/sh
# Hostile CSV, in every program that reads CSV (issue 13): a NUL byte in a
# field is a reject (never a field cut short at the NUL), a NUL in a header
# name or a UTF-16 file (with or without its byte order mark) is a data error
# that says what the file is, and a header of 100,000 columns is refused at
# once. The bytes are written here with printf; what is expected comes from
# reading them by hand.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-batch-fixture.sh"
export CB_TEMPLATES="${CB_TEMPLATES:-$TOP/templates}"
make_ca >/dev/null 2>&1
today=$(TZ=UTC-7 date +%Y-%m-%d)

# One clean record and one whose e-mail holds a NUL, for each program.
printf 'serial,subject_cn,email,expiry_date,days_left,status,agency\n0A,Nguyễn Văn An,h@lamdong.gov.vn\0evil@x.com,2027-01-01,30,expiring,Sở Y tế\n0B,Trần Thị Bình,binh@lamdong.gov.vn,2027-01-01,30,expiring,Sở Y tế\n' >"$T/nul.csv"
printf 'request_id,request_type,full_name,received_date,agency_key,email\nGH-1,issue,Nguyễn Văn An,%s,so y te,h@lamdong.gov.vn\0evil@x.com\n' "$today" >"$T/nul-req.csv"

run_rej() {  # PROGRAM ARGS...: runs it with --rejects $T/rej.csv
    _p=$1; shift
    rm -f "$T/rej.csv"
    "$_p" --rejects "$T/rej.csv" "$@" >"$T/out" 2>"$T/err"
    echo $? >"$T/rc"
}

run_rej notify --template expiring --as-of 2026-12-01 --from 'CA <ca@lamdong.gov.vn>' --dry-run "$T/nul.csv"
is "$(cat "$T/rc")" 0 "notify: a record with a NUL byte is a reject, not a stop"
is "$(csv_col "$T/rej.csv" serial)" "0A" "notify: the record with the NUL is the one rejected"
like "$(csv_col "$T/rej.csv" reject_reason)" "email.*NUL" "notify: the reason names the column and the NUL byte"
like "$(cat "$T/err")" "2 in, 1 out, 1 rejected" "notify: 2 in = 1 out + 1 rejected"
is "$(csv_col "$T/out" recipient)" "binh@lamdong.gov.vn" "notify: the one letter goes to the clean record, none to the address cut at the NUL"

run_rej aggregate-by-agency "$T/nul.csv"
like "$(cat "$T/err")" "2 in, 1 out, 1 rejected" "aggregate-by-agency: the record with a NUL byte is rejected"
is "$(csv_col "$T/rej.csv" email)" "h@lamdong.gov.vn?evil@x.com" "the rejected record keeps the whole field, its NUL shown as ?"

run_rej validate-form --as-of 2026-12-01 "$T/nul.csv"
like "$(cat "$T/err")" "2 in, 0 out, 2 rejected" "validate-form: the record with a NUL byte is among the rejects"
like "$(grep '^0A' "$T/rej.csv")" "NUL" "validate-form: its reason is the NUL byte"

rm -f "$T/rej.csv"
sign-batch issue --rejects "$T/rej.csv" --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" --pass-file "$T/ca-pass.txt" \
    --key-dir "$T/issued" "$T/nul-req.csv" >"$T/out" 2>"$T/err"
like "$(cat "$T/err")" "1 in, 0 out, 1 rejected" "sign-batch: a request with a NUL byte is rejected, nothing issued"
like "$(csv_col "$T/rej.csv" reject_reason)" "email.*NUL" "sign-batch: the reason names the e-mail column"

printf 'serial,subj\0ect_cn,email\n0A,An,a@b.vn\n' >"$T/nulhdr.csv"
printf 'form,full_name\n01,An\n' | iconv -f UTF-8 -t UTF-16LE >"$T/u16le.csv"
printf 'form,full_name\n01,An\n' | iconv -f UTF-8 -t UTF-16BE >"$T/u16be.csv"
printf 'form,full_name\n01,An\n' | iconv -f UTF-8 -t UTF-16 >"$T/u16bom.csv"
python3 -c 'import sys; sys.stdout.write(",".join("c%d" % i for i in range(100000)) + "\n" + ",".join("v" * 1 for i in range(100000)) + "\n")' >"$T/wide.csv"
for p in validate-form aggregate-by-agency notify sign-batch; do
    case $p in
        notify) set -- notify --template expiring --from 'CA <ca@lamdong.gov.vn>' --dry-run ;;
        sign-batch) set -- sign-batch issue --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" --pass-file "$T/ca-pass.txt" --key-dir "$T/iss-$p" ;;
        *) set -- "$p" ;;
    esac
    exit_is 65 "$p: a NUL byte in a header name is a data error" "$@" "$T/nulhdr.csv"
    like "$(cat "$T/.err")" "nulhdr.csv:1: the header row holds a NUL byte" "$p: which says so, at line 1"
    for f in u16le u16be u16bom; do
        exit_is 65 "$p: UTF-16 text ($f) is a data error" "$@" "$T/$f.csv"
        like "$(cat "$T/.err")" "is UTF-16 text, not UTF-8" "$p: reported as UTF-16 ($f)"
    done
    exit_is 65 "$p: a header of 100,000 columns is refused" "$@" "$T/wide.csv"
    like "$(cat "$T/.err")" "wide.csv:1: the header row has 100000 columns, more than the 1024" "$p: the message gives the count and the limit"
done

done_testing
