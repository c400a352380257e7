#!/bin/sh
# The shipped nightly job, night after night, on a state directory made
# from the samples: forms arriving in pieces, a night with nothing, a
# resubmission of requests already proposed, a file with a column a clerk
# added and a file that cannot be read, the same night run again, a night
# where every form is rejected. Checked against what each night should
# have done: the samples' own notes say which rows are good (Python's csv,
# Miller), the letters are read back with Python's mailbox.
. "$(dirname "$0")/lib.sh"
need_samples
. "$(dirname "$0")/nightly-fixture.sh"
N1=$(day 0) N2=$(day 1) N3=$(day 2) N4=$(day 3)
hdr() { head -n 1 "$1" | cut -d, -f1; }
proposed() { mlr --icsv --onidx cut -f request_id "$S/runs/$1/proposal.csv"; }

# Night 1: the first 20 forms.
forms_part a $(ids_from 1 20)
exit_is 0 "night 1: the nightly job succeeds" nightly_run "$N1"
is "$(proposed "$N1" | sort)" "$(good_ids | grep -x -F "$(ids_from 1 20)" | sort)" \
    "night 1: the proposal list holds the good forms among the first 20"
ok "night 1: the forms moved to forms/processed/$N1" test -f "$S/forms/processed/$N1/a.csv" -a ! -e "$S/forms/incoming/a.csv"
ok "night 1: the proposal list's signature verifies (openssl cms)" \
    openssl cms -verify -binary -inform PEM -in "$S/runs/$N1/proposal.csv.p7s" -content "$S/runs/$N1/proposal.csv" \
        -CAfile "$SAMPLES/ca-chain.pem" -purpose any -out /dev/null

# Night 2: nothing came in.
exit_is 0 "night 2, no forms: the job succeeds all the same" nightly_run "$N2"
is "$(wc -l <"$S/runs/$N2/proposal.csv")" 1 "night 2: the proposal list is empty"
is "$(hdr "$S/runs/$N2/proposal.csv")" request_id "night 2: and keeps its header"
is "$(hdr "$S/runs/$N2/form-rejects.csv")" request_id "night 2: the rejects list is empty with its header"
ok "night 2: the empty list is signed too" test -s "$S/runs/$N2/proposal.csv.p7s"
ok "night 2: the certificates found good on night 1 were known (the trust cache)" \
    grep -q '"line":"scan-expiry: [1-9][0-9]* certificates known from --trust-cache' "$S/log/nightly-renewal.jsonl"
scan-expiry --as-of "$N2" --all --ca "$S/ca/roots.pem" --chain "$S/ca/chain.pem" --crl "$S/ca/crl.pem" \
    "$S/certs" >"$T/n2-plain.csv" 2>/dev/null
ok "night 2: and its inventory is that of a scan without the cache" cmp "$S/runs/$N2/all-certs.csv" "$T/n2-plain.csv"

# Night 3: the other 25 forms in two files, one with a clerk's column;
# three requests of night 1 sent again; a file that cannot be read.
forms_part b $(ids_from 21 35)
EXTRA="Ghi chú" forms_part c $(ids_from 36 45)
forms_part r LD-GH-0001 LD-GH-0002 LD-GH-0003
printf 'request_id,form,full_name\nLD-GH-9001,"03,Nguyễn Văn Hỏng\n' >"$S/forms/incoming/x.csv"
exit_is 0 "night 3: one unreadable file does not fail the night" nightly_run "$N3"
is "$(proposed "$N3" | sort)" "$(good_ids | grep -x -F "$(ids_from 21 45)" | sort)" \
    "night 3: the good forms of both files are proposed, the file with an extra column included"
ok "night 3: the clerk's column passes through to the proposal list" sh -c "head -n 1 '$S/runs/$N3/proposal.csv' | grep -q 'Ghi chú'"
is "$(mlr --icsv --onidx cut -f request_id then sort -f request_id "$S/runs/$N3/already-proposed.csv")" \
    "$(printf 'LD-GH-0001\nLD-GH-0002\nLD-GH-0003\nLD-GH-0045')" \
    "night 3: the resubmitted requests, and the one renewing a certificate proposed on night 1, are filtered"
like "$(mlr --icsv --onidx filter '$request_id == "LD-GH-0001"' then cut -f reject_reason "$S/runs/$N3/already-proposed.csv")" \
    "đã được đề nghị ngày $N1" "night 3: the reason says when it was proposed, in Vietnamese"
python3 - "$S/log/nightly-renewal.jsonl" "$N3" >"$T/intake.txt" <<'PY'
import json, sys
last = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r['event'] == 'step' and r['stage'] == 'proposal' and r['step'] == 'requests' and sys.argv[2] in r['command']:
        last = r
print(last['in'], last['out'], last['rejected'], last['filtered'])
PY
is "$(cat "$T/intake.txt")" "29 24 1 4" \
    "night 3: the intake counts 29 rows in (28 forms and the unreadable one), 24 out, 1 rejected, 4 filtered (nothing dropped silently)"
like "$(cat "$S/runs/$N3/unreadable-forms.csv")" "x.csv" "night 3: the unreadable file is listed with its reason"
ok "night 3: every file handled moved to forms/processed/$N3" \
    test -f "$S/forms/processed/$N3/b.csv" -a -f "$S/forms/processed/$N3/c.csv" -a -f "$S/forms/processed/$N3/r.csv" -a -z "$(ls "$S/forms/incoming")"

# Night 3 again: a no-op.
cp "$S/runs/$N3/proposal.csv" "$T/proposal-n3.csv"
cp "$S/requests.csv" "$T/requests-n3.csv"
letters=$(ls "$S/mail/new" | wc -l)
exit_is 0 "night 3 run again: succeeds" nightly_run "$N3"
ok "night 3 run again: the same proposal list" cmp "$T/proposal-n3.csv" "$S/runs/$N3/proposal.csv"
ok "night 3 run again: the request ledger is unchanged" cmp "$T/requests-n3.csv" "$S/requests.csv"
is "$(ls "$S/mail/new" | wc -l)" "$letters" "night 3 run again: no letter is sent again"

# Night 4: two rejected forms sent again unchanged; nothing else.
forms_part d LD-GH-0005 LD-GH-0015
exit_is 0 "night 4, every form rejected: the job succeeds" nightly_run "$N4"
is "$(wc -l <"$S/runs/$N4/proposal.csv")" 1 "night 4: the proposal list is empty, with its header"
is "$(mlr --icsv --onidx cut -f request_id then sort -f request_id "$S/runs/$N4/form-rejects.csv")" \
    "$(printf 'LD-GH-0005\nLD-GH-0015')" "night 4: both are rejected again"

# Night 5: Excel's copy of seven forms already proposed (Vietnamese
# labels, BOM, CRLF): recognised by their request ids and filtered.
N5=$(day 4)
cp "$SAMPLES/forms/renewal-vi.csv" "$S/forms/incoming/excel.csv"
exit_is 0 "night 5, a workbook's export with Vietnamese headers: the job succeeds" nightly_run "$N5"
is "$(mlr --icsv --onidx count "$S/runs/$N5/already-proposed.csv")" 7 \
    "night 5: its seven requests, all proposed before, are filtered by their Mã hồ sơ"
is "$(wc -l <"$S/runs/$N5/proposal.csv")" 1 "night 5: nothing is proposed again"

# Over the five nights.
all=$(for n in "$N1" "$N2" "$N3" "$N4" "$N5"; do proposed "$n"; done | sort)
is "$all" "$(good_ids | sort)" "over the nights every good form was proposed exactly once"
python3 - "$S/requests.csv" >"$T/events.txt" <<'PY'
import csv, sys, collections
c = collections.Counter()
for r in csv.DictReader(open(sys.argv[1], encoding='utf-8', newline='')):
    if r['event'] == 'proposed':
        c[r['request_id']] += 1
print(len(c), max(c.values()))
PY
is "$(cat "$T/events.txt")" "$(good_ids | wc -l) 1" "the request ledger records each good request proposed once"
rejection_letters | sort >"$T/letters.txt"
is "$(cut -f1 "$T/letters.txt" | sort | uniq -d)" "" "each rejected request is in one rejection letter only, over five nights"
is "$(cut -f1 "$T/letters.txt" | sort -u)" "$(printf 'LD-GH-0005\nLD-GH-0015\nLD-GH-0025\nLD-GH-0036')" \
    "the letters name exactly the rejected requests"
python3 - "$SAMPLES/forms/renewal.csv" "$T/letters.txt" <<'PY' >"$T/addr.txt"
import csv, sys
rows = {r['request_id']: r for r in csv.DictReader(open(sys.argv[1], encoding='utf-8', newline=''))}
for line in open(sys.argv[2], encoding='utf-8'):
    rid, to, greet = line.rstrip('\n').split('\t')
    r = rows[rid]
    if to.lower() != r['email'].strip().lower() or greet != 'Ông/Bà ' + r['full_name'].strip():
        print(rid, to, greet)
PY
is "$(cat "$T/addr.txt")" "" "each letter goes to the applicant's address and is addressed to the applicant by name"
mv "$S" "$T/moved"
requests pending -q --ledger "$T/moved/requests.csv" -o "$T/pending.csv"
is "$(mlr --icsv --onidx cut -f request_id then sort -f request_id "$T/pending.csv")" "$(good_ids | sort)" \
    "the state directory moved elsewhere still knows every request waiting for its certificate"
mv "$T/moved" "$S"
ok "the reasons in the letters are Vietnamese" sh -c "! grep -rlE 'days of validity|identification number|is empty' '$S/mail/new'"
done_testing
