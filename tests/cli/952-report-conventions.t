#!/bin/sh
# report keeps the programs' conventions: --help and --version, usage errors
# 64, a missing input 66, an input without the columns it needs 65, an
# output it cannot create 73, a write error 74, rows it cannot use reported
# and counted; the province's request ledger read when the night's state
# directory has one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/report-fixture.sh"
need_chromium
D=2030-06-15
cat >"$T/certs.csv" <<'CSV'
serial,subject_cn,subject_o,subject_ou,expiry_date,days_left,status
0A,Lê Văn An,Sở Y tế,,2030-06-20,5,expiring
0B,Trần Văn Bình,Sở Y tế,,2030-07-10,25,expiring
0C,Phạm Thị Cúc,Sở Tư pháp,,2030-07-30,45,expiring
0D,Võ Văn Dũng,Sở Tư pháp,,2030-08-05,51,expiring
0E,Đỗ Thị Em,Sở Tư pháp,,2031-02-01,231,valid
CSV

exit_is 0 "--help exits 0" report --help
help=$(cat "$T/.out")
for o in --run --certs --valid --rejects --proposal --requests-ledger --notices --as-of --mail-to --mail-records --lang -o -q; do
    like "$help" "(^| )$o( |,|$)" "--help lists $o"
done
exit_is 0 "--version exits 0" report --version
like "$(cat "$T/.out")" "^report certbatch " "--version names the program"
exit_is 64 "no --run and no --certs is a usage error" report -q
exit_is 64 "an unknown option is a usage error" report --colour --certs "$T/certs.csv"
exit_is 64 "a bad --as-of is a usage error" report --as-of 31/02/2030 --certs "$T/certs.csv"
exit_is 64 "--lang other than en or vi is a usage error" report --lang fr --certs "$T/certs.csv"
exit_is 64 "a file argument is a usage error (inputs are named by option)" report --certs "$T/certs.csv" "$T/certs.csv"
exit_is 66 "a missing --certs file is 66" report -q --certs "$T/nope.csv" -o "$T/x.html"
like "$(cat "$T/.err")" "nope.csv" "and the message names it"
ok "and no page is left behind" test ! -e "$T/x.html"
mkdir "$T/emptyrun"
exit_is 66 "a --run directory without all-certs.csv is 66" report -q --run "$T/emptyrun"
printf 'serial,subject_cn\n01,A\n' >"$T/nocols.csv"
exit_is 65 "certificates without expiry_date are 65" report -q --certs "$T/nocols.csv"
like "$(cat "$T/.err")" "expiry_date" "and the message names the column"
exit_is 73 "an output in a missing directory is 73" report -q --as-of "$D" --certs "$T/certs.csv" -o "$T/no/such/dir/r.html"
if [ -w /dev/full ]; then
    exit_is 74 "a full disk is 74" report -q --as-of "$D" --certs "$T/certs.csv" -o /dev/full
fi
echo old >"$T/r.html"
exit_is 0 "-o replaces an existing page" report -q --as-of "$D" --certs "$T/certs.csv" -o "$T/r.html"
ok "with the new page" grep -q '^<!DOCTYPE html>' "$T/r.html"

# Rows the report cannot use: told on stderr with file and line, counted.
cp "$T/certs.csv" "$T/bad.csv"
printf '0F,X,Sở Y tế,,someday,1,valid\n10,Y,Sở Y tế,,2030-07-01,16,sleeping\n' >>"$T/bad.csv"
exit_is 0 "rows it cannot use do not stop the page" report --as-of "$D" --certs "$T/bad.csv" -o "$T/bad.html"
like "$(cat "$T/.err")" "report: $T/bad.csv:7: expiry_date is not a date" "a row without a readable expiry date is told with its line"
like "$(cat "$T/.err")" "report: $T/bad.csv:8: unknown status" "a row with an unknown status is told with its line"
like "$(cat "$T/.err")" "^report: 7 in, 5 out, 2 rejected" "the summary: in = out + rejected"
ok "the page says how many rows could not be read" grep -q 'id="n-problems">2<' "$T/bad.html"
report --lang vi --as-of "$D" --certs "$T/bad.csv" -o "$T/bad.html" 2>"$T/vi.err"
like "$(cat "$T/vi.err")" "bad.csv:7: ngày hết hạn \(expiry_date\) không đọc được" "--lang vi tells it in Vietnamese"

: >"$T/empty.csv"
exit_is 0 "an empty inventory gives a page" report --as-of "$D" --certs "$T/empty.csv" -o "$T/e.html"
like "$(cat "$T/.err")" "^report: 0 in, 0 out, 0 rejected" "with zero records"
ok "whose counts are zero" grep -q 'id="n-total">0<' "$T/e.html"

# A state directory with the province's request ledger: runs/DATE/../../requests.csv.
S=$T/state
mkdir -p "$S/runs/$D"
cp "$T/certs.csv" "$S/runs/$D/all-certs.csv"
# The ledger as requests(1) keeps it: one event a line.
cat >"$S/requests.csv" <<'CSV'
recorded_at,night,event,request_id,old_serial,detail
2030-06-10T08:00:00+07:00,2030-06-10,received,R1,0A,forms/a.csv
2030-06-10T08:00:00+07:00,2030-06-10,received,R2,0B,forms/a.csv
2030-06-10T08:00:01+07:00,2030-06-10,rejected,R2,0B,no one confirmed the request
2030-06-01T08:00:00+07:00,2030-06-01,received,R3,00:0C,forms/b.csv
2030-06-01T08:00:01+07:00,2030-06-01,proposed,R3,0C,runs/2030-06-01/proposal.csv
2030-06-09T08:00:00+07:00,2030-06-09,renewed,R3,0C,7F01
2030-06-09T09:00:00+07:00,2030-06-09,renewed,R3,0C,7F01
2030-06-10T08:00:00+07:00,2030-06-10,delivered,R3,0C,delivered/so-tu-phap/7F01.pem
2030-06-05T08:00:00+07:00,2030-06-05,received,R4,0D,forms/c.csv
2030-06-05T08:00:01+07:00,2030-06-05,rejected,R4,0D,the date received is missing
2030-06-12T08:00:00+07:00,2030-06-12,received,R4,0D,forms/d.csv
2030-06-12T08:00:00+07:00,2030-06-12,renewed,R5,FF,7F02
CSV
exit_is 0 "report --run finds the ledger two levels up" report -q --run "$S/runs/$D" --as-of "$D" -o "$T/l.html"
dump_dom "$T/l.html" "$T/l.dom"
oracle "$T/l.dom" "$D" --certs "$T/certs.csv" --ledger "$S/requests.csv"
ok "a holder with a request in the ledger is not to chase" sh -c "! grep -q 'data-serial=\"0A\"' '$T/l.dom'"
ok "a holder whose only request was rejected is still to chase" grep -q 'data-serial="0B"' "$T/l.dom"
ok "a holder who sent the form again after a rejection is not to chase" sh -c "! grep -q 'data-serial=\"0D\"' '$T/l.dom'"
rm "$S/requests.csv"
mkdir -p "$T/x/y/z"
cp "$T/certs.csv" "$T/x/y/z/all-certs.csv"
echo 'not,a,ledger' >"$T/x/requests.csv"
exit_is 0 "a --run directory not under runs/ reads no requests.csv two levels up" report -q --run "$T/x/y/z" --as-of "$D" -o "$T/z.html"
report -q --run "$S/runs/$D" --as-of "$D" -o "$T/nl.html"
ok "without the ledger the page says the ledger columns are empty" grep -q 'id="no-ledger"' "$T/nl.html"

done_testing
