#!/bin/sh
# requests follows the program conventions: --help lists every option and
# subcommand, usage errors are 64, an input with no bytes is zero records,
# a ledger held by another run is 75 (retry later), a damaged one 65 with
# its line, a missing proposal list 66; summaries add up (in = out +
# rejected + filtered). notify --deliver takes the transport as one word.
. "$(dirname "$0")/lib.sh"
L=$T/requests.csv

exit_is 0 "--help exits 0" requests --help
for w in intake record pending returned file-away --ledger --as-of --rejects --filtered --read-list \
         --lang --event --detail --detail-column --where --key-column --pending --to --list -o -q; do
    like "$(cat "$T/.out")" -- "$w" "--help mentions $w"
done
like "$(requests --version)" "^requests certbatch " "--version names the program"
exit_is 64 "no subcommand is a usage error" requests
exit_is 64 "an unknown subcommand is a usage error" requests renew --ledger "$L"
exit_is 64 "intake without --ledger is a usage error" requests intake
exit_is 64 "record without --event is a usage error" requests record --ledger "$L"
exit_is 64 "an unknown event is a usage error" requests record --ledger "$L" --event approved
exit_is 64 "--where without = is a usage error" requests record --ledger "$L" --event proposed --where status
exit_is 64 "a bad --as-of is a usage error" requests pending --ledger "$L" --as-of 2026-13-01

: >"$T/empty.csv"
exit_is 0 "record on an input with no bytes exits 0" requests record --ledger "$L" --event proposed "$T/empty.csv"
like "$(cat "$T/.err")" "requests: 0 in, 0 out, 0 rejected" "and counts zero records"
exit_is 0 "intake on an empty form file exits 0" requests intake --ledger "$L" "$T/empty.csv"
is "$(head -n 1 "$T/.out" | cut -d, -f1-3)" "request_id,form,full_name" "and writes the header of Forms 03/04"
exit_is 0 "pending on a ledger with nothing proposed exits 0" requests pending --ledger "$T/none.csv"
is "$(wc -l <"$T/.out")" 1 "with only the header"

printf 'request_id,old_serial,status\nR1,0A,delivered\nR2,0B,missing\nR3,0C,delivered\n' >"$T/in.csv"
exit_is 0 "record --where keeps the matching records" requests record --ledger "$L" --event delivered --where status=delivered "$T/in.csv"
is "$(cut -d, -f1 "$T/.out" | tr '\n' ' ')" "request_id R1 R3 " "the others are filtered"
like "$(cat "$T/.err")" "requests: 3 in, 2 out, 0 rejected, 1 filtered" "in = out + rejected + filtered"
exit_is 0 "record --key-column adds a key per request and detail" requests record --ledger "$L" --event rejected \
    --detail-column status --key-column letter_key "$T/in.csv"
is "$(mlr --icsv --onidx cut -f letter_key "$T/.out" | cut -d/ -f1 | tr '\n' ' ')" "R1 R2 R3 " "the key starts with the request id"
is "$(mlr --icsv --onidx cut -f letter_key "$T/.out" | sort -u | wc -l)" 3 "and differs per request"
is "$(grep -c ',rejected,' "$L")" 3 "three rejected events recorded"
requests record -q --ledger "$L" --event rejected --detail-column status "$T/in.csv" >/dev/null
is "$(grep -c ',rejected,' "$L")" 3 "recording them again adds nothing"

# A second writer: the ledger is locked while a writer holds it.
# The holder keeps the lock until told to let go (no timing involved).
python3 - "$L" "$T/held" "$T/release" <<'PY' &
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
open(sys.argv[2], 'w').close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
PY
while [ ! -e "$T/held" ]; do sleep 0.1; done
exit_is 75 "a ledger held by another run: exit 75, try again later" requests record --ledger "$L" --event proposed "$T/in.csv"
: >"$T/release"
wait
printf 'x,2026-12-01,approved,R9,,\n' >>"$L"
exit_is 65 "a damaged ledger: exit 65" requests pending --ledger "$L"
like "$(cat "$T/.err")" "requests.csv:[0-9]+: unknown event 'approved'" "with its line"
printf 'recorded_at,night,event,request_id,old_serial,detail\nx,2026-12-01,proposed,R1,0A,runs/gone.csv\n' >"$T/l2.csv"
exit_is 66 "a proposal list the ledger names but that is gone: exit 66" requests pending --ledger "$T/l2.csv"

# notify --deliver
printf 'serial,subject_cn,email,expiry_date,days_left,status\n7B,Lê Thị Cúc,cuc.lt@lamdong.gov.vn,2027-01-01,31,expiring\n' >"$T/c.csv"
exit_is 0 "notify --deliver maildir:DIR writes to that Maildir" notify --template expiring --deliver "maildir:$T/mail" "$T/c.csv"
is "$(ls "$T/mail/new" | wc -l)" 1 "one letter in it"
exit_is 64 "notify --deliver with an unknown transport is a usage error" notify --template expiring --deliver "ftp://x" "$T/c.csv"
exit_is 64 "notify --deliver with another transport is a usage error" notify --template expiring --deliver mbox --maildir "$T/m2" "$T/c.csv"
done_testing
