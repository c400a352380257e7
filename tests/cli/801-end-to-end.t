#!/bin/sh
# The whole cycle on the sample PKI, the way `make demo` runs it, checked
# with the openssl CLI and the samples' own manifest: the nightly proposal
# list is signed, the central agency renews what it proposes keeping each
# holder's key, the returned update file reaches every requester, and the
# issuance batch makes certificates openssl verifies, in PKCS#12 files that
# open with their PINs.
. "$(dirname "$0")/lib.sh"
need_samples
O=$SAMPLES
D=$(cat "$O/as-of.txt")
S=$T/state
mkdir -p "$S/ca" "$S/forms/incoming" "$S/updates/incoming" "$S/requests" "$S/batches/$D/forms"
ln -s "$O/certs" "$S/certs"
cp "$O/roots.pem" "$O/chain.pem" "$O/issuing-ca.pem" "$S/ca/"
cp "$O/crls.pem" "$S/ca/crl.pem"
cp "$O/forms/renewal.csv" "$S/forms/incoming/"
office=$(mlr --icsv --onidx filter '$kind == "organization" && $revoked == "no"' then head -n 1 then cut -f serial "$O/manifest.csv")
cp "$O/certs/$office.pem" "$S/ca/office-signer.pem"
cp "$O/keys/$office.key" "$S/ca/office-signer.key"
: >"$S/ca/office-signer.pass"
cp "$O/issuing-ca-enc.key" "$S/ca/issuing-ca.key"
cp "$O/ca-pass.txt" "$S/ca/issuing-ca.pass"
cp "$O/forms/issuance.csv" "$S/batches/$D/forms/"

exit_is 0 "the nightly pipeline runs" run-pipeline -q --as-of "$D" --set state="$S" "$TOP/pipelines/nightly-renewal.yaml"
R=$S/runs/$D
ok "openssl cms -verify accepts the signature of the proposal list" \
    openssl cms -verify -binary -inform PEM -in "$R/proposal.csv.p7s" -content "$R/proposal.csv" \
        -CAfile "$O/ca-chain.pem" -purpose any -out /dev/null
# The samples mark each bad form with a note: the others are the valid ones.
good=$(mlr --icsv --onidx filter 'is_empty($note)' then count "$O/forms/renewal.csv")
is "$(mlr --icsv --onidx count "$R/proposal.csv")" "$good" "the proposal list has every form without a note ($good)"
is "$(mlr --icsv --onidx filter 'is_not_empty($note)' then cut -f request_id then sort -f request_id "$O/forms/renewal.csv" | tr '\n' ' ')" \
   "$(mlr --icsv --onidx cut -f request_id then sort -f request_id "$R/form-rejects.csv" | tr '\n' ' ')" \
   "the rejected forms are exactly those with a note"

exit_is 0 "the central agency renews the proposal" sign-batch renew -q --ca-cert "$O/issuing-ca.pem" \
    --ca-key "$S/ca/issuing-ca.key" --pass-file "$S/ca/issuing-ca.pass" --old-certs "$O/certs" \
    -o "$S/updates/incoming/update.pem" "$R/proposal.csv"
U=$S/updates/incoming/update.pem
is "$(grep -c 'BEGIN CERTIFICATE' "$U")" "$good" "one renewed certificate per proposed request"
ok "openssl verifies every renewed certificate against the chain" sh -c "
    openssl storeutl -noout -certs '$U' >/dev/null &&
    awk '/BEGIN CERT/{n++; f=sprintf(\"$T/u%03d.pem\", n)} f{print > f} /END CERT/{close(f); f=\"\"}' '$U' &&
    for f in '$T'/u*.pem; do openssl verify -CAfile '$O/ca-chain.pem' \"\$f\" >/dev/null || exit 1; done"
# Each renewed certificate keeps the key of the certificate it renews.
mlr --icsv --onidx --ofs ' ' cut -o -f old_serial "$R/proposal.csv" >"$T/olds"
same=0
for f in "$T"/u*.pem; do
    k=$(openssl x509 -in "$f" -noout -pubkey | openssl sha256 | cut -d' ' -f2)
    for s in $(cat "$T/olds"); do
        o=$(openssl x509 -in "$O/certs/$s.pem" -noout -pubkey | openssl sha256 | cut -d' ' -f2)
        if [ "$k" = "$o" ]; then same=$((same + 1)); break; fi
    done
done
is "$same" "$good" "every renewed certificate has the public key of an old certificate it renews"

cp "$R/proposal.csv" "$S/requests/pending.csv"
exit_is 0 "the return of updates runs" run-pipeline -q --as-of "$D" --set state="$S" "$TOP/pipelines/return-updates.yaml"
M=$R/update-manifest.csv
is "$(mlr --icsv --onidx filter '$status == "delivered"' then count "$M")" "$good" "every renewed certificate is delivered"
is "$(find "$S/delivered" -name '*.pem' | wc -l | tr -d ' ')" "$good" "one file per delivered certificate"
ok "each delivered file is the certificate its manifest row names" sh -c "
    mlr --icsv --onidx --ofs ' ' cut -o -f path,serial '$M' | while read p s; do
        [ \"\$(openssl x509 -in \"\$p\" -noout -serial)\" = \"serial=\$s\" ] || exit 1
    done"
ok "holders got their letters" test "$(ls "$S/mail/new" | wc -l)" -gt 0

exit_is 0 "the central issuance batch runs" run-pipeline -q --as-of "$D" --set state="$S" "$TOP/pipelines/central-issuance.yaml"
B=$S/batches/$D
gi=$(mlr --icsv --onidx filter 'is_empty($note)' then count "$O/forms/issuance.csv")
is "$(grep -c 'BEGIN CERTIFICATE' "$B/issued.pem")" "$gi" "one new certificate per valid issuance form ($gi)"
is "$(ls "$B/keys"/*.p12 | wc -l | tr -d ' ')" "$gi" "one PKCS#12 file per new certificate"
is "$(stat -c %a "$B/keys/pins.csv")" "600" "the PIN list is readable by its owner only"
ok "every PKCS#12 opens with its PIN, and its certificate verifies" sh -c "
    mlr --icsv --onidx --ofs ' ' cut -o -f file,pin '$B/keys/pins.csv' | while read f p; do
        case \$f in /*) ;; *) f='$B/keys/'\$f ;; esac
        printf '%s\n' \"\$p\" >'$T/pin'
        openssl pkcs12 -in \"\$f\" -passin file:'$T/pin' -nokeys -clcerts -out '$T/p12cert.pem' 2>/dev/null || exit 1
        openssl verify -CAfile '$O/ca-chain.pem' '$T/p12cert.pem' >/dev/null || exit 1
    done"
done_testing
