#!/bin/sh
# report on a night of the samples: every figure of the page, as chromium
# renders it, recomputed from the night's CSV files by Python's csv module
# (report_oracle.py); the page made twice is the same; -o replaces the file
# whole.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/report-fixture.sh"
need_samples
need_chromium
D=$(cat "$SAMPLES/as-of.txt")
night_on_samples "$T/state"
ok "the nightly pipeline runs on the samples" test -s "$R/all-certs.csv"
# The night keeps the province's request ledger (state/requests.csv), which
# report --run reads beside the run directory.
LEDGER=""
[ -f "$T/state/requests.csv" ] && LEDGER="--ledger $T/state/requests.csv"

exit_is 0 "report --run reads the night's directory" report --run "$R" --as-of "$D" -o "$T/report.html"
# Records in: every row of every input (Python's csv module counts them).
rows=$(/usr/bin/python3 -c '
import csv, glob, sys
d = sys.argv[1]
files = [d + "/" + f for f in ("all-certs.csv", "valid-requests.csv", "form-rejects.csv", "proposal.csv")]
files += glob.glob(d + "/*-notices.csv")
files += glob.glob(d + "/../../requests.csv")
print(sum(len(list(csv.DictReader(open(f, newline="", encoding="utf-8")))) for f in files))' "$R")
like "$(cat "$T/.err")" "^report: $rows in, $rows out, 0 rejected \(" "the summary line counts every row of the night's files"
dump_dom "$T/report.html" "$T/report.dom"
oracle "$T/report.dom" "$D" --certs "$R/all-certs.csv" --valid "$R/valid-requests.csv" \
    --rejects "$R/form-rejects.csv" --proposal "$R/proposal.csv" \
    --notices "$R/expiring-notices.csv" --notices "$R/expired-notices.csv" --notices "$R/rejected-notices.csv" $LEDGER

report -q --run "$R" --as-of "$D" -o "$T/again.html"
ok "the page made twice from the same night is the same" cmp "$T/report.html" "$T/again.html"
is "$(ls -A "$T" | grep -c '^report\.html\..*\|^\.report\.html')" "0" "-o leaves no temporary file beside the page"

# Explicit options instead of --run, the page as stdout.
report -q --as-of "$D" --certs "$R/all-certs.csv" --valid "$R/valid-requests.csv" \
    --rejects "$R/form-rejects.csv" --proposal "$R/proposal.csv" >"$T/explicit.html"
ok "explicit input options write the page to stdout" grep -q '<h2[^>]*>Cần xử lý</h2>' "$T/explicit.html"
dump_dom "$T/explicit.html" "$T/explicit.dom"
oracle "$T/explicit.dom" "$D" --certs "$R/all-certs.csv" --valid "$R/valid-requests.csv" \
    --rejects "$R/form-rejects.csv" --proposal "$R/proposal.csv"

# A page of another day, from the same files: days left counted to that day.
L=$(/usr/bin/python3 -c 'import datetime,sys; print(datetime.date.fromisoformat(sys.argv[1]) + datetime.timedelta(days=20))' "$D")
report -q --run "$R" --as-of "$L" -o "$T/later.html"
dump_dom "$T/later.html" "$T/later.dom"
oracle "$T/later.dom" "$L" --certs "$R/all-certs.csv" --valid "$R/valid-requests.csv" \
    --rejects "$R/form-rejects.csv" --proposal "$R/proposal.csv" \
    --notices "$R/expiring-notices.csv" --notices "$R/expired-notices.csv" --notices "$R/rejected-notices.csv" $LEDGER
done_testing
