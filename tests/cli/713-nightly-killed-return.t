#!/bin/sh
# A night killed at any instant (every process of the run, as a power cut
# would) and run again ends as an uninterrupted night: the same proposal
# list, the same request ledger, the forms filed, every letter sent. Then
# the central agency's update file comes back: return-updates takes the
# pending requests from the ledger, delivers, records, and writes one
# letter per agency to the agency; run again it is a no-op; a return with
# nothing to deliver exits 0 with empty outputs that keep their headers.
. "$(dirname "$0")/lib.sh"
need_samples
. "$(dirname "$0")/nightly-fixture.sh"
N1=$(day 0)
forms_part all $(ids_from 1 45)
cp -a "$S" "$T/ref"
(S=$T/ref; nightly_run "$N1") >/dev/null 2>&1
is "$?" 0 "the uninterrupted night succeeds"

# The ledger's events without the instant they were written, the state
# directory's name taken out.
events() {
    python3 - "$1/requests.csv" "$1" <<'PY'
import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding='utf-8', newline='')):
    print(r['night'], r['event'], r['request_id'], r['old_serial'], r['detail'].replace(sys.argv[2], 'STATE'))
PY
}
letters() { python3 "$TOP/tests/cli/notify_mail.py" maildir "$1/mail" | grep -E '^(to_addr|subject):' | paste - - | sort -u; }

# kill_night DELAY: starts the night in its own session, kills every
# process of that session after DELAY seconds.
kill_night() {
    setsid sh -c 'echo $$ >"$0"; exec run-pipeline -q --as-of "$1" --set state="$2" "$3" >/dev/null 2>&1' \
        "$T/sid" "$N1" "$S" "$TOP/pipelines/nightly-renewal.yaml" &
    sleep "$1"
    sid=$(cat "$T/sid")
    # Until the session is empty: a process forked between the listing and
    # the kills (likely on a loaded machine) would live on, holding a lock.
    # (zombies, dead already and waiting for their parent, are not counted)
    while pids=$(ps -e -o pid= -o sid= -o stat= | awk -v s="$sid" '$2 == s && $3 !~ /^Z/ { print $1 }')
          [ -n "$pids" ]; do
        kill -KILL $pids 2>/dev/null
        sleep 0.05
    done
    wait
}
for delay in 0.2 0.5 0.9; do
    kill_night "$delay"
done
exit_is 0 "the night killed three times, run once more, succeeds" nightly_run "$N1"
ok "the same proposal list as the uninterrupted night" cmp "$T/ref/runs/$N1/proposal.csv" "$S/runs/$N1/proposal.csv"
is "$(events "$S" | sort -u)" "$(events "$T/ref" | sort -u)" "the same events in the request ledger"
is "$(events "$S" | grep -c ' proposed ')" "$(events "$T/ref" | grep -c ' proposed ')" "each request proposed once"
ok "the forms are filed in forms/processed/$N1" test -f "$S/forms/processed/$N1/all.csv" -a -z "$(ls "$S/forms/incoming")"
is "$(letters "$T/ref" | comm -23 - "$(letters "$S" >"$T/l.txt"; echo "$T/l.txt")")" "" \
    "every letter of the uninterrupted night was sent"

# The central agency renews the proposal list and sends one update file.
mkdir -p "$S/updates/incoming"
sign-batch renew -q --ca-cert "$SAMPLES/issuing-ca.pem" --ca-key "$SAMPLES/issuing-ca-enc.key" \
    --pass-file "$SAMPLES/ca-pass.txt" --old-certs "$SAMPLES/certs" --ledger "$T/central-ledger.csv" \
    -o "$S/updates/incoming/update.pem" "$S/runs/$N1/proposal.csv"
R1=$(day 3)
return_run() { run-pipeline -q --as-of "$1" --set state="$S" "$TOP/pipelines/return-updates.yaml"; }
before=$(ls "$S/mail/new" | wc -l)
exit_is 0 "return-updates takes the pending requests from the state and succeeds" return_run "$R1"
proposed=$(mlr --icsv --onidx count "$S/runs/$N1/proposal.csv")
is "$(events "$S" | grep -c " delivered ")" "$proposed" "every proposed request is recorded delivered"
is "$(events "$S" | grep -c " renewed ")" "$proposed" "and renewed"
want=$(mlr --icsv --onidx count-distinct -f agency_email then count "$S/runs/$R1/delivered.csv")
python3 "$TOP/tests/cli/notify_mail.py" maildir "$S/mail" | awk '/^subject: .*đã được gia hạn/ { n++ } END { print n + 0 }' >"$T/n.txt"
is "$(cat "$T/n.txt")" "$want" "one renewal letter per agency"
is "$(($(ls "$S/mail/new" | wc -l) - before))" "$want" "and no other letter"
python3 "$TOP/tests/cli/notify_mail.py" maildir "$S/mail" | awk '/^to_addr:/ { to = $2 } /^subject: .*đã được gia hạn/ { print to }' | sort -u >"$T/to.txt"
is "$(grep -vc '^vanthu\.' "$T/to.txt")" 0 "the renewal letters go to the agencies' addresses, not the holders'"
ok "the update file handled moved to updates/processed/$R1" test -f "$S/updates/processed/$R1/update.pem"

cp "$S/requests.csv" "$T/req.csv"
n=$(ls "$S/mail/new" | wc -l)
exit_is 0 "return-updates run again the same day succeeds" return_run "$R1"
ok "run again, the request ledger is unchanged" cmp "$T/req.csv" "$S/requests.csv"
is "$(ls "$S/mail/new" | wc -l)" "$n" "run again, no letter is sent twice"

R2=$(day 4)
exit_is 0 "a return day with no update file exits 0" return_run "$R2"
is "$(wc -l <"$S/runs/$R2/delivered.csv")" 1 "its delivered list is empty, with its header"
is "$(wc -l <"$S/runs/$R2/pending-requests.csv")" 1 "nothing is pending any more"
cp "$S/updates/processed/$R1/update.pem" "$S/updates/incoming/again.pem"
R3=$(day 5)
exit_is 0 "an update file that matches no pending request: exits 0" return_run "$R3"
is "$(wc -l <"$S/runs/$R3/delivered.csv")" 1 "nothing is delivered"
is "$(ls "$S/mail/new" | wc -l)" "$n" "and nobody is written to"
done_testing
