#!/bin/sh
# The shipped pipelines (pipelines/*.yaml): each loads and its --dry-run
# shows the programs wired the way DESIGN.md says; those whose programs exist
# are run for real on the samples.
. "$(dirname "$0")/lib.sh"
need_samples
PL=$TOP/pipelines
D=$(cat "$SAMPLES/as-of.txt")

for p in nightly-renewal return-updates central-issuance; do
    exit_is 0 "$p: loads and --dry-run prints its script" run-pipeline --dry-run --as-of "$D" --set state="$T/st" "$PL/$p.yaml"
    cp "$T/.out" "$T/$p.sh"
    ok "$p: the script is valid bash" bash -n "$T/$p.sh"
done
like "$(cat "$T/nightly-renewal.sh")" "scan-expiry --as-of $D --days 60 --all .* > $T/st/runs/$D/all-certs.csv" "nightly: scan-expiry reads every certificate once"
is "$(grep -c '^scan-expiry ' "$T/nightly-renewal.sh")" 1 "nightly: and only once a night"
like "$(cat "$T/nightly-renewal.sh")" "select-records --where status=expiring $T/st/runs/$D/all-certs.csv < /dev/null \| tee $T/st/runs/$D/expiring.csv \| notify --template expiring" "nightly: the expiring certificates are selected from it for notify, the list kept"
like "$(cat "$T/nightly-renewal.sh")" "requests intake .* \| validate-form --as-of $D .* \| tee $T/st/runs/$D/valid-requests.csv \| aggregate-by-agency --detail > $T/st/runs/$D/proposal.csv" "nightly: the forms go through the request ledger, validate-form and aggregate-by-agency into the proposal list"
like "$(cat "$T/nightly-renewal.sh")" "sign-batch sign .* $T/st/runs/$D/proposal.csv < /dev/null > $T/st/runs/$D/proposal.csv.p7s" "nightly: the proposal list is signed"
like "$(cat "$T/return-updates.sh")" "split-updates --out $T/st/delivered --ca " "return-updates: split-updates routes the update file"
like "$(cat "$T/return-updates.sh")" "notify --template renewal-ready .*--to agency_email --digest-by agency" "return-updates: one letter per agency, to the agency"
like "$(cat "$T/central-issuance.sh")" "sign-batch issue .* $T/st/batches/$D/valid.csv < /dev/null > $T/st/batches/$D/issued.pem" "central-issuance: sign-batch issues from the valid forms"
like "$(cat "$T/central-issuance.sh")" "notify --template issued-ready" "central-issuance: new holders are told"

# nightly-renewal for real, as far as its programs exist.
S=$T/state
mkdir -p "$S/ca" "$S/forms/incoming"
ln -s "$SAMPLES/certs" "$S/certs"
cp "$SAMPLES/roots.pem" "$SAMPLES/chain.pem" "$S/ca/"
cp "$SAMPLES/crls.pem" "$S/ca/crl.pem"
cp "$SAMPLES/forms/renewal.csv" "$S/forms/incoming/"
run-pipeline --as-of "$D" --set state="$S" "$PL/nightly-renewal.yaml" >"$T/n.out" 2>"$T/n.err"
R=$S/runs/$D
# Expected by the samples' own manifest (made with the openssl CLI): not
# revoked, 0..60 days left on the as-of day.
want=$(mlr --icsv --onidx filter '$revoked == "no" && $days_left >= 0 && $days_left <= 60' then count "$SAMPLES/manifest.csv")
is "$(mlr --icsv --onidx count "$R/expiring.csv")" "$want" "nightly: the expiring list has the certificates with 0-60 days left"
is "$(ls "$S/mail/new" | wc -l)" "$(($(mlr --icsv --onidx count "$R/expiring.csv") + $(mlr --icsv --onidx count "$R/expired.csv")))" "nightly: one letter per expiring or expired certificate"
ok "nightly: the log records the expiring stage" grep -q '"event":"stage_end","stage":"expiring","status":0' "$S/log/nightly-renewal.jsonl"
ok "nightly: the proposal list is made" test -s "$R/proposal.csv"
run-pipeline --as-of "$D" --set state="$S" "$PL/nightly-renewal.yaml" >/dev/null 2>&1
is "$(ls "$S/mail/new" | wc -l)" "$(($(mlr --icsv --onidx count "$R/expiring.csv") + $(mlr --icsv --onidx count "$R/expired.csv")))" "nightly: a second run the same day sends no notice twice"

# return-updates for real, on the split-updates test fixture (openssl CLI):
# its requests are recorded as proposed in the request ledger, the update
# file put where the office puts it.
. "$(dirname "$0")/split-updates-fixture.sh"
su_standard
U=$T/ru
mkdir -p "$U/ca" "$U/updates/incoming"
cp "$T/ca.pem" "$U/ca/roots.pem"
: >"$U/ca/chain.pem"
ln -s "$T/old" "$U/certs"
mlr --icsv --ocsv put '$agency_email = "vanthu@" . sub($agency_code, "[^0-9]", "") . ".lamdong.gov.vn"' "$T/requests.csv" >"$U/proposal.csv"
requests record -q --ledger "$U/requests.csv" --event proposed --detail "$U/proposal.csv" -o /dev/null "$U/proposal.csv"
cp "$T/update.pem" "$U/updates/incoming/"
# The fixture's certificates begin now, so this run is as of today.
TODAY=$(TZ=UTC-7 date +%Y-%m-%d)
exit_is 0 "return-updates runs" run-pipeline --as-of "$TODAY" --set state="$U" "$PL/return-updates.yaml"
M=$U/runs/$TODAY/update-manifest.csv
is "$(mlr --icsv --onidx filter '$status == "delivered"' then count "$M")" "4" "return-updates: the four returned certificates are delivered"
is "$(mlr --icsv --onidx filter '$status == "missing"' then count "$M")" "1" "return-updates: the request with no certificate back is listed missing"
is "$(find "$U/delivered" -name '*.pem' | wc -l)" "4" "return-updates: four certificate files delivered"
# One letter per agency, to the agency's address: the fixture's four
# delivered certificates belong to three agencies (agency codes 15, 16 and
# none: Sở Giáo dục's request has no code, so no address).
want=$(mlr --icsv --onidx filter '$request_id != "R5" && $agency_code != ""' then count-distinct -f agency_code then count "$T/requests.csv")
is "$(ls "$U/mail/new" | wc -l)" "$want" "return-updates: one letter for each agency with an address"
ok "return-updates: the letters go to the agencies, not the holders" sh -c "! grep -l '^To:.*@s[a-z]*\.lamdong' '$U/mail/new/'*"
done_testing
