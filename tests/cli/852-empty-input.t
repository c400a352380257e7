#!/bin/sh
# An input with no bytes at all is zero records, not an error (DESIGN.md,
# issue 15 "empty is normal"): every program that reads CSV exits 0 with
# the summary "0 in, 0 out, 0 rejected" and writes its outputs with the
# headers it knows. Each is run twice: on an empty file and on empty stdin.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-batch-fixture.sh"
export CB_TEMPLATES="${CB_TEMPLATES:-$TOP/templates}"
make_ca >/dev/null 2>&1
: >"$T/empty.csv"
FROM='Sở Khoa học và Công nghệ Lâm Đồng <chungthu@lamdong.gov.vn>'

empty_run() {  # NAME COMMAND...: runs it on the empty file, then on empty stdin
    _name=$1; shift
    exit_is 0 "$_name: an empty file is no error" "$@" "$T/empty.csv"
    like "$(cat "$T/.err")" ": 0 in, 0 out, 0 rejected" "$_name: the summary says 0 in, 0 out, 0 rejected"
    cp "$T/.out" "$T/stdout.1"
    "$@" <"$T/empty.csv" >"$T/.out" 2>"$T/.err"
    is "$?" 0 "$_name: empty stdin is no error either"
    is "$(cat "$T/.out")" "$(cat "$T/stdout.1")" "$_name: and gives the same output"
}

empty_run "validate-form" validate-form --as-of 2026-12-01 --rejects "$T/vf-rej.csv"
is "$(cat "$T/stdout.1")" "request_type,subject_type,received_date,due_date,agency_key" \
    "validate-form: the output is the header of the columns it computes"
is "$(cat "$T/vf-rej.csv")" "reject_line,reject_field,reject_reason" "validate-form: the rejects file has its header"

empty_run "aggregate-by-agency --summary" aggregate-by-agency
is "$(sed -n 1p "$T/stdout.1")" \
    "agency_key,agency_code,agency,province,issue_individual,issue_organization,renew_individual,renew_organization,other,total,earliest_expiry,earliest_due,spellings" \
    "aggregate-by-agency: the summary has its header"
is "$(mlr --icsv --ojson filter '$agency == "TOTAL"' then cut -f total "$T/stdout.1" | tr -d ' \n')" '[{"total":0}]' \
    "and a TOTAL row of zero"
empty_run "aggregate-by-agency --merge" aggregate-by-agency --merge
empty_run "aggregate-by-agency --split-dir" aggregate-by-agency --split-dir "$T/split"
is "$(cat "$T/stdout.1")" "agency_key,agency_code,agency,file,records" "aggregate-by-agency --split-dir: the index has its header"

empty_run "select-records" select-records --where status=expiring
is "$(wc -c <"$T/stdout.1")" 0 "select-records: nothing to select, nothing written (no header is known)"

empty_run "notify" notify --template expiring --from "$FROM" --dry-run
is "$(cat "$T/stdout.1")" "recipient,subject,message_id,records,status,detail" "notify: the log has its header"
exit_is 0 "notify to an mbox with a ledger: no letter, no error" \
    notify --template expiring --from "$FROM" --ledger "$T/ledger.csv" --log "$T/log.csv" -o "$T/out.mbox" "$T/empty.csv"
is "$(wc -c <"$T/out.mbox")" 0 "notify: the mbox is empty"
is "$(cat "$T/log.csv")" "recipient,subject,message_id,records,status,detail" "notify: the log file has its header"

empty_run "sign-batch issue" sign-batch issue --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" \
    --pass-file "$T/ca-pass.txt" --key-dir "$T/keys" --manifest "$T/man.csv"
is "$(wc -c <"$T/stdout.1")" 0 "sign-batch issue: no certificate"
is "$(sed -n 1p "$T/man.csv")" "serial,subject,not_before,not_after,sha256,key_file" "sign-batch issue: the manifest has its header"
empty_run "sign-batch renew" sign-batch renew --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" \
    --pass-file "$T/ca-pass.txt" --old-certs "$T/old" --ledger "$T/sb-ledger.csv"

# The central agency's day with no request: track and publish read nothing.
printf 'request_id,request_type,old_serial,serial,subject,not_after,sha256,issued_at\n' >"$T/issued-ledger.csv"
empty_run "track" track --ledger "$T/issued-ledger.csv" --as-of 2026-12-01 --open
is "$(cat "$T/stdout.1")" "step,step_at,step_due,procedure_due,overdue,late,serial,effective_at" \
    "track: the output is the header of the columns it computes"
empty_run "track --due --mail-to" track --ledger "$T/issued-ledger.csv" --as-of 2026-12-01 --due --mail-to ops@cuc.gov.vn
empty_run "publish" publish --ledger "$T/issued-ledger.csv" --out "$T/www" --as-of 2026-12-01
is "$(cat "$T/stdout.1")" "serial,request_id,effective_at,publish_due_date,late" "publish: the list has its header"

# Side inputs read as CSV: an empty one is zero rows too.
printf 'form,request_id\n' >"$T/forms.csv"
exit_is 0 "validate-form --certs and --ledger that are empty files: no certificate known, no error" \
    validate-form --as-of 2026-12-01 --certs "$T/empty.csv" --ledger "$T/empty.csv" "$T/forms.csv"
: >"$T/update.pem"
exit_is 0 "split-updates with an empty --requests file and an empty update: no error" \
    split-updates --out "$T/deliver" --ca "$T/ca.pem" --requests "$T/empty.csv" "$T/update.pem"

# An empty file among others adds nothing and takes nothing away.
printf 'agency,request_type\nSở Y tế,issue\n' >"$T/one.csv"
exit_is 0 "aggregate-by-agency: an empty file before a real one" aggregate-by-agency "$T/empty.csv" "$T/one.csv" "$T/empty.csv"
like "$(cat "$T/.err")" "1 in, 1 out, 0 rejected" "the real file's record is counted"

# Bytes that are not a header are still a data error: only no bytes is empty.
printf '\n\n' >"$T/blank.csv"
exit_is 65 "a file of blank lines has no header: a data error" aggregate-by-agency "$T/blank.csv"

done_testing
