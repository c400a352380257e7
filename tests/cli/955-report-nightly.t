#!/bin/sh
# The nightly pipeline writes the morning page runs/DATE/report.html and,
# with report_to set, mails it: one message to each address, the page
# attached byte for byte, a short summary in the body whose counts Python's
# csv module finds in the night's files; a re-run of the night mails it
# no second time; without report_to nothing is mailed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/report-fixture.sh"
need_samples
need_chromium
readmail() { /usr/bin/python3 "$TOP/tests/cli/notify_mail.py" "$@"; }
D=$(cat "$SAMPLES/as-of.txt")
DVN=$(/usr/bin/python3 -c 'import datetime,sys; print(datetime.date.fromisoformat(sys.argv[1]).strftime("%d/%m/%Y"))' "$D")

night_on_samples "$T/quiet"
ok "without report_to the night still writes the page" test -s "$R/report.html"
readmail maildir "$T/quiet/mail" >"$T/quiet.mail"
is "$(grep -c "^subject: Báo cáo chứng thư số ngày $DVN\$" "$T/quiet.mail")" "0" "without report_to no report is mailed"

night_on_samples "$T/state" --set report_to=office@lamdong.gov.vn,vanthu@lamdong.gov.vn
ok "with report_to the night runs" grep -q 'nightly-renewal: done' "$T/night.err"
ok "the page is runs/DATE/report.html" test -s "$R/report.html"
dump_dom "$R/report.html" "$T/report.dom"
# The night keeps the province's request ledger, which the page reads too.
LEDGER=""
[ -f "$T/state/requests.csv" ] && LEDGER="--ledger $T/state/requests.csv"
oracle "$T/report.dom" "$D" --certs "$R/all-certs.csv" --valid "$R/valid-requests.csv" \
    --rejects "$R/form-rejects.csv" --proposal "$R/proposal.csv" \
    --notices "$R/expiring-notices.csv" --notices "$R/expired-notices.csv" --notices "$R/rejected-notices.csv" $LEDGER

readmail maildir "$T/state/mail" >"$T/mail.txt"
# The report's messages, one block each (notify_mail.py's format).
/usr/bin/python3 -c '
import sys
blocks = open(sys.argv[1], encoding="utf-8").read().split("\n--\n")
for b in blocks:
    if ("subject: Báo cáo chứng thư số ngày " + sys.argv[2]) in b:
        print(b.replace("\n", "\x1f"))' "$T/mail.txt" "$DVN" >"$T/report.mail"
is "$(wc -l <"$T/report.mail")" "2" "one report message for each of the two addresses"
is "$(tr '\037' '\n' <"$T/report.mail" | grep '^to_addr:' | sort | tr '\n' ' ')" \
    "to_addr: office@lamdong.gov.vn to_addr: vanthu@lamdong.gov.vn " "addressed to report_to"
sha=$(sha256sum "$R/report.html" | cut -d' ' -f1)
is "$(tr '\037' '\n' <"$T/report.mail" | grep '^attachment:' | sort -u)" "attachment: report.html text/html $sha" \
    "each carries the page as report.html (text/html), the same bytes"
# The summary's counts, recomputed from all-certs.csv and form-rejects.csv.
want=$(/usr/bin/python3 -c '
import csv, datetime, sys
today = datetime.date.fromisoformat(sys.argv[2])
valid = le60 = 0
for r in csv.DictReader(open(sys.argv[1] + "/all-certs.csv", newline="", encoding="utf-8")):
    if r["status"] in ("valid", "expiring", "expired"):
        d = (datetime.date.fromisoformat(r["expiry_date"]) - today).days
        valid += d >= 0
        le60 += 0 <= d <= 60
rej = len(list(csv.DictReader(open(sys.argv[1] + "/form-rejects.csv", newline="", encoding="utf-8"))))
print(f"body: Còn hiệu lực: {valid:,}; hết hạn trong 60 ngày: {le60:,} ".replace(",", ".") + "|" + f"{rej} hồ sơ bị từ chối đêm qua")' "$R" "$D")
body=$(tr '\037' '\n' <"$T/report.mail" | grep '^body:')
like "$body" "^${want%%|*}" "the body gives the valid and the 60-day counts"
like "$body" "${want#*|}" "and the number of forms rejected last night"
ok "the message log is runs/DATE/report-mail.csv" grep -q '^office@lamdong.gov.vn,.*,sent,' "$R/report-mail.csv"

run-pipeline --as-of "$D" --set state="$T/state" --set report_to=office@lamdong.gov.vn,vanthu@lamdong.gov.vn \
    "$TOP/pipelines/nightly-renewal.yaml" >/dev/null 2>&1
readmail maildir "$T/state/mail" >"$T/mail2.txt"
is "$(grep -c "^subject: Báo cáo chứng thư số ngày $DVN\$" "$T/mail2.txt")" "2" "a re-run of the night does not mail the report again"
report -q --run "$R" --as-of "$D" -o "$T/page.html" --mail-to office@lamdong.gov.vn --mail-records "$T/rec.csv"
exit_is 66 "notify --attach-file naming a missing file stops the run (66)" \
    notify --template report --attach-file "$T/nope.html" "$T/rec.csv"
done_testing
