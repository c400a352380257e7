#!/bin/sh
# make install PREFIX=P, then the nightly job run the way cron runs it:
# env -i PATH=/usr/bin:/bin, from another directory. run-pipeline runs the
# programs installed beside it, notify finds the installed templates, the
# compiled-in data directory is P's, the pipelines (with their profiles),
# man pages, data and the systemd and cron examples are where the README
# says, naming the installed paths.
. "$(dirname "$0")/lib.sh"
need_samples
command -v make >/dev/null 2>&1 || { echo "1..0 # SKIP no make"; exit 0; }
P=$T/prefix
D=$(cat "$SAMPLES/as-of.txt")
# make runs on the real clock even when the suite runs under faketime
# (check-later): files built with dates 400 days ahead would never be
# rebuilt afterwards.
realmake() { env -u LD_PRELOAD -u FAKETIME -u FAKETIME_NO_CACHE make "$@"; }
ok "make install PREFIX=P succeeds" realmake -s -C "$TOP" install PREFIX="$P"
# The checkout's own programs are built again for the default prefix.
realmake -s -C "$TOP" programs >/dev/null 2>&1
for prog in scan-expiry validate-form aggregate-by-agency sign-batch split-updates notify run-pipeline requests select-records; do
    ok "$prog is installed, with its man page" test -x "$P/bin/$prog" -a -f "$P/share/man/man1/$prog.1"
done
for f in pipelines/nightly-renewal.yaml pipelines/return-updates.yaml pipelines/central-issuance.yaml \
         pipelines/profiles/default.yaml templates/rejected.txt data/provinces.csv \
         contrib/certbatch-nightly.service contrib/certbatch-nightly.timer contrib/certbatch.cron; do
    ok "share/certbatch/$f is installed" test -f "$P/share/certbatch/$f"
done
ok "the data directory compiled into notify is P's" grep -q "$P/share/certbatch" "$P/bin/notify"
ok "the systemd service runs the installed run-pipeline on the installed pipeline" \
    grep -q "^ExecStart=$P/bin/run-pipeline .*$P/share/certbatch/pipelines/nightly-renewal.yaml" "$P/share/certbatch/contrib/certbatch-nightly.service"
ok "the timer starts it every night at 01:30 Vietnam time" \
    grep -q '^OnCalendar=\*-\*-\* 01:30:00 Asia/Ho_Chi_Minh' "$P/share/certbatch/contrib/certbatch-nightly.timer"
ok "the cron example names the installed paths" \
    grep -q "^30  *1 .* $P/bin/run-pipeline .*$P/share/certbatch/pipelines/nightly-renewal.yaml" "$P/share/certbatch/contrib/certbatch.cron"
if command -v systemd-analyze >/dev/null 2>&1; then
    ok "systemd-analyze accepts the timer's calendar" systemd-analyze calendar '*-*-* 01:30:00 Asia/Ho_Chi_Minh'
else
    skip "systemd-analyze accepts the timer's calendar" "no systemd-analyze"
fi

# A state directory made from the samples, run as cron would.
S=$T/state
mkdir -p "$S/ca" "$S/forms/incoming"
ln -s "$SAMPLES/certs" "$S/certs"
cp "$SAMPLES/roots.pem" "$SAMPLES/chain.pem" "$S/ca/" && cp "$SAMPLES/crls.pem" "$S/ca/crl.pem"
cp "$SAMPLES/forms/renewal.csv" "$S/forms/incoming/"
office=$(mlr --icsv --onidx filter '$kind == "organization" && $revoked == "no"' then head -n 1 then cut -f serial "$SAMPLES/manifest.csv")
cp "$SAMPLES/certs/$office.pem" "$S/ca/office-signer.pem"
install -m 0600 "$SAMPLES/keys/$office.key" "$S/ca/office-signer.key"
: >"$S/ca/office-signer.pass"
mkdir "$T/elsewhere"
(cd "$T/elsewhere" && env -i PATH=/usr/bin:/bin "$P/bin/run-pipeline" -q --as-of "$D" --set state="$S" \
    "$P/share/certbatch/pipelines/nightly-renewal.yaml") >"$T/cron.out" 2>"$T/cron.err"
is "$?" 0 "the installed nightly job runs under cron's PATH=/usr/bin:/bin"
want=$(mlr --icsv --onidx filter '$note == ""' then count "$SAMPLES/forms/renewal.csv")
is "$(mlr --icsv --onidx count "$S/runs/$D/proposal.csv")" "$want" "it proposes every good form of the samples"
ok "the proposal list's signature verifies (openssl cms)" \
    openssl cms -verify -binary -inform PEM -in "$S/runs/$D/proposal.csv.p7s" -content "$S/runs/$D/proposal.csv" \
        -CAfile "$SAMPLES/ca-chain.pem" -purpose any -out /dev/null
ok "the letters are in the state's Maildir" test -n "$(ls "$S/mail/new")"
ok "the forms moved to forms/processed/DATE" test -f "$S/forms/processed/$D/renewal.csv" -a ! -e "$S/forms/incoming/renewal.csv"
done_testing
