#!/bin/sh
# notify: one digest per recipient, the ledger that sends each notice once
# across nightly runs (60, 30 and 7 days), and --dry-run.
. "$(dirname "$0")/lib.sh"
readmail() { /usr/bin/python3 "$TOP/tests/cli/notify_mail.py" "$@"; }
export CB_TEMPLATES="${CB_TEMPLATES:-$TOP/templates}"

cat >"$T/certs.csv" <<'CSV'
serial,subject_cn,email,agency,expiry_date,days_left,status
A1,Nguyễn Văn An,vanthu@soyte.lamdong.gov.vn,Sở Y tế,2026-03-15,54,expiring
B2,Trần Thị Bình,binh@sotc.lamdong.gov.vn,Sở Tài chính,2026-02-10,21,expiring
C3,Lê Văn Cường,VANTHU@soyte.lamdong.gov.vn,Sở Y tế,2026-01-25,5,expiring
D4,Phạm Thị Dung,vanthu@soyte.lamdong.gov.vn,Sở Y tế,2026-05-30,130,valid
CSV
notify --template expiring --digest-by email --as-of 2026-01-20 "$T/certs.csv" 2>"$T/err" | readmail mbox /dev/stdin >"$T/dig.out"
is "$(grep -c '^--$' "$T/dig.out")" 2 "digest by email: two recipients, two messages"
is "$(grep '^to_addr:' "$T/dig.out" | head -1)" "to_addr: vanthu@soyte.lamdong.gov.vn" "the first message goes to the first recipient met"
is "$(sed -n '1,/^--$/p' "$T/dig.out" | grep -c 'Số hiệu (serial):')" 3 "its letter lists the recipient's three certificates (address case ignored)"
is "$(sed -n '1,/^--$/p' "$T/dig.out" | grep '^body: [0-9]\. ' | tr '\n' '|')" \
   "body: 1. Chứng thư số cấp cho: Nguyễn Văn An|body: 2. Chứng thư số cấp cho: Lê Văn Cường|body: 3. Chứng thư số cấp cho: Phạm Thị Dung|" \
   "numbered in input order"
is "$(sed -n '/^--$/,$p' "$T/dig.out" | grep -c 'Số hiệu (serial): B2')" 1 "the second message has the other recipient's certificate"
like "$(cat "$T/err")" '4 in, 4 out, 0 rejected' "all four records are out, in two messages"
notify --template expiring --digest-by agency --dry-run --as-of 2026-01-20 "$T/certs.csv" >"$T/dry.csv" 2>/dev/null
is "$(csv_col "$T/dry.csv" records | tr '\n' ' ')" "3 1 " "digest by agency: one message per agency and address"

# The nightly run: 60/30/7-day notices, each once.
L="$T/ledger.csv"
night() {  # as-of days_left-of-A1 days_left-of-B2
    printf 'serial,subject_cn,email,expiry_date,days_left\nA1,An,an@lamdong.gov.vn,2026-03-15,%s\nB2,Bình,binh@lamdong.gov.vn,2026-02-10,%s\n' "$2" "$3" >"$T/n.csv"
    notify --template expiring --ledger "$L" --thresholds 60,30,7 --as-of "$1" --maildir "$T/md" "$T/n.csv" >"$T/n.log" 2>"$T/n.err"
}
night 2026-01-05 69 36
is "$(csv_col "$T/n.log" recipient)" "binh@lamdong.gov.vn" "69 and 36 days left: only the one within 60 days gets its notice"
night 2026-01-05 69 36
is "$(csv_col "$T/n.log" recipient)" "" "run again the same night: the 60-day notice is not sent twice"
like "$(cat "$T/n.err")" '2 in, 0 out, 0 rejected, 2 filtered' "the summary counts both as filtered"
night 2026-01-14 60 27
is "$(csv_col "$T/n.log" recipient | tr '\n' ' ')" "an@lamdong.gov.vn binh@lamdong.gov.vn " "60 days for A1 and 27 for B2: A1's 60-day notice and B2's 30-day reminder"
night 2026-01-15 59 26
is "$(csv_col "$T/n.log" recipient)" "" "the next night: nothing new"
night 2026-02-04 39 6
is "$(csv_col "$T/n.log" recipient)" "binh@lamdong.gov.vn" "6 days left: the 7-day reminder"
night 2026-02-20 23 -10
is "$(csv_col "$T/n.log" recipient)" "an@lamdong.gov.vn" "A1 at 23 days gets its 30-day reminder; B2 expired gets nothing more"
is "$(ls "$T/md/new" | wc -l | tr -d ' ')" 5 "five notices delivered over the nights"
is "$(csv_col "$L" event_key | sort | tr '\n' ' ')" "expiring:A1:30 expiring:A1:60 expiring:B2:30 expiring:B2:60 expiring:B2:7 " "the ledger holds one row per notice"
like "$(csv_col "$L" sent_at | head -1)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+07:00$' "sent_at is an instant in +07:00"

cp "$L" "$T/ledger.before"
notify --template expiring --ledger "$L" --dry-run --maildir "$T/md2" "$T/certs.csv" >"$T/dry2.csv" 2>/dev/null
is "$(csv_col "$T/dry2.csv" status | sort -u)" "dry-run" "--dry-run: the log says what would be sent"
is "$(csv_col "$T/dry2.csv" recipient | tr '\n' ' ')" "vanthu@soyte.lamdong.gov.vn binh@sotc.lamdong.gov.vn VANTHU@soyte.lamdong.gov.vn vanthu@soyte.lamdong.gov.vn " "--dry-run: and to whom"
ok "--dry-run: nothing delivered" test ! -e "$T/md2"
ok "--dry-run: the ledger is untouched" cmp "$L" "$T/ledger.before"

printf 'serial,subject_cn,email,expiry_date,days_left\nA1,An,an@lamdong.gov.vn,2026-03-15,soon\n' >"$T/bad.csv"
exit_is 0 "a days_left that is not a number is a reject" notify -q --template expiring --ledger "$L" --thresholds 60,30,7 --rejects "$T/bad.rej" "$T/bad.csv"
is "$(csv_col "$T/bad.rej" reject_field)" "days_left" "naming days_left"
exit_is 65 "with --strict any reject is exit 65" notify -q --strict --template expiring --ledger "$L" --thresholds 60,30,7 "$T/bad.csv"
exit_is 64 "--thresholds without --ledger is a usage error" notify --template expiring --thresholds 60,30,7 "$T/bad.csv"
exit_is 64 "--thresholds must be days" notify --template expiring --ledger "$L" --thresholds 60,x "$T/bad.csv"
done_testing
