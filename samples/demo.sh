#!/bin/sh
# make demo: the whole cycle on the sample PKI of samples/make-samples.sh,
# through the shipped pipelines, in a state directory like the one a
# provincial office and the central agency keep:
#   1. the province's nightly run: warn holders, check the renewal forms,
#      the per-agency proposal list, signed;
#   2. the central agency renews the proposed certificates (sign-batch
#      renew) and returns one update file;
#   3. the province splits it per agency and holder and tells them;
#   4. the central agency's issuance batch for new certificates;
#   5. the agencies hand the devices over and ask for the certificates to
#      take effect: the central agency publishes them and lists what is
#      still open (pipelines/central-publication.yaml).
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
O=$TOP/samples/out
S=$O/demo
PATH=$TOP/bin:$PATH
export PATH
D=$(cat "$O/as-of.txt")
rm -rf "$S"
mkdir -p "$S/ca" "$S/forms/incoming" "$S/updates/incoming" "$S/batches/$D/forms"

# The state directory: the province's certificates, the CA chain and CRL,
# the forms received, and a signing certificate for the office (one of the
# sample organisation certificates).
ln -s "$O/certs" "$S/certs"
cp "$O/roots.pem" "$O/chain.pem" "$S/ca/"
cp "$O/crls.pem" "$S/ca/crl.pem"
cp "$O/forms/renewal.csv" "$S/forms/incoming/"
office=$(mlr --icsv --onidx filter '$kind == "organization" && $revoked == "no"' then head -n 1 then cut -f serial "$O/manifest.csv")
cp "$O/certs/$office.pem" "$S/ca/office-signer.pem"
install -m 0600 "$O/keys/$office.key" "$S/ca/office-signer.key"
: >"$S/ca/office-signer.pass"
cp "$O/issuing-ca.pem" "$S/ca/"
install -m 0600 "$O/issuing-ca-enc.key" "$S/ca/issuing-ca.key"
install -m 0600 "$O/ca-pass.txt" "$S/ca/issuing-ca.pass"
cp "$O/forms/issuance.csv" "$S/batches/$D/forms/"

echo "== 1. province, nightly: run-pipeline pipelines/nightly-renewal.yaml (as of $D)"
run-pipeline --as-of "$D" --set state="$S" "$TOP/pipelines/nightly-renewal.yaml"
R=$S/runs/$D
echo
echo "== 2. central agency: sign-batch renew on the proposal list -> one update file"
openssl cms -verify -binary -inform PEM -in "$R/proposal.csv.p7s" -content "$R/proposal.csv" \
    -CAfile "$O/ca-chain.pem" -purpose any -out /dev/null 2>&1 | sed 's/^/   openssl: /'
sign-batch renew --ca-cert "$O/issuing-ca.pem" --ca-key "$S/ca/issuing-ca.key" \
    --pass-file "$S/ca/issuing-ca.pass" --old-certs "$O/certs" --ledger "$S/central-ledger.csv" \
    -o "$S/updates/incoming/update.pem" "$R/proposal.csv"
echo
echo "== 3. province: run-pipeline pipelines/return-updates.yaml"
run-pipeline --as-of "$D" --set state="$S" "$TOP/pipelines/return-updates.yaml"
echo
echo "== 4. central agency: run-pipeline pipelines/central-issuance.yaml"
run-pipeline --as-of "$D" --set state="$S" "$TOP/pipelines/central-issuance.yaml"
echo
echo "== 5. central agency: run-pipeline pipelines/central-publication.yaml"
mkdir -p "$S/effective/$D/requests"
mlr --csv put "\$handed_over_date = \"$D\"; \$received_date = \"$D\"" \
    then cut -o -f request_id,agency,handed_over_date,received_date \
    "$S/batches/$D/valid.csv" >"$S/effective/$D/requests/agencies.csv"
run-pipeline --as-of "$D" --set state="$S" --set operators=vanhanh@cuc.gov.vn \
    "$TOP/pipelines/central-publication.yaml"
audit-verify --ca "$O/roots.pem" "$S/ca/audit.csv"

echo
echo "Results are in $S:"
echo "  runs/$D/expiring.csv          certificates with 60 days or less (the holders were mailed)"
echo "  runs/$D/valid-requests.csv    renewal forms that passed validate-form"
echo "  runs/$D/form-rejects.csv      the forms rejected, with the reasons"
echo "  runs/$D/proposal.csv(.p7s)    the per-agency proposal list and its CMS signature"
echo "  updates/processed/$D/update.pem the renewed certificates (sign-batch renew), handled"
echo "  requests.csv                    each request's life: received, rejected, proposed, renewed, delivered"
echo "  forms/processed/$D/           the forms the night handled"
echo "  delivered/<agency>/             each renewed certificate for its holder"
echo "  batches/$D/issued.pem         new certificates; keys/ has the PKCS#12 files and pins.csv"
echo "  www/chung-thu-so/index.html     the public list of published certificates (and certs/, index.csv/json, directory.ldif)"
echo "  effective/$D/open-requests.csv what is still open, with due dates (track)"
echo "  effective/$D/operators-digest.csv the operators' daily letter of what is late and due (none when nothing is)"
echo "  mail/new/                       the letters (Maildir); log/*.jsonl the run logs"
echo
(cd "$S" && find . -path ./certs -prune -o -type f -print | sort | sed 's/^/  /' | head -n 60)
