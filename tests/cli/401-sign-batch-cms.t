#!/bin/sh
# sign-batch sign / verify: detached CMS signatures over batch files, checked
# both ways against openssl cms.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-batch-fixture.sh"

make_ca
make_signer officer
printf 'request_id,agency\nR1,Sở Nội vụ\nR2,"Ủy ban, tỉnh"\n' >"$T/batch.csv"
export CB_CA_PASS=

ok "--help exits 0" sign-batch --help
is "$(sign-batch --version)" "sign-batch certbatch 0.1.0" "--version names the program and the release"
exit_is 64 "an unknown mode is a usage error" sign-batch frobnicate

ok "sign a batch file" sign-batch sign --cert "$T/officer.pem" --key "$T/officer.key" \
    -o "$T/batch.csv.p7s" "$T/batch.csv"
like "$(head -1 "$T/batch.csv.p7s")" '^-----BEGIN CMS-----$' "the signature is PEM"
ok "openssl cms -verify accepts our signature" \
    openssl cms -verify -binary -inform PEM -in "$T/batch.csv.p7s" -content "$T/batch.csv" \
    -CAfile "$T/ca.pem" -purpose any -out /dev/null
ok "openssl says the signature is detached (no content inside)" \
    sh -c "openssl cms -cmsout -print -inform PEM -in '$T/batch.csv.p7s' | grep -q 'eContent: <ABSENT>'"

ok "sign reads the batch from stdin" sh -c \
    "sign-batch sign -q --cert '$T/officer.pem' --key '$T/officer.key' <'$T/batch.csv' >'$T/stdin.p7s'"
ok "the stdin signature verifies with openssl" \
    openssl cms -verify -binary -inform PEM -in "$T/stdin.p7s" -content "$T/batch.csv" \
    -CAfile "$T/ca.pem" -purpose any -out /dev/null

ok "we accept our own signature" sign-batch verify --ca "$T/ca.pem" --sig "$T/batch.csv.p7s" "$T/batch.csv"
like "$(cat "$T/.err")" "good signature by .*CN=officer" "verify names the signer"

openssl cms -sign -binary -in "$T/batch.csv" -signer "$T/officer.pem" -inkey "$T/officer.key" \
    -outform PEM -out "$T/openssl-bin.p7s"
ok "we accept openssl cms -sign -binary" \
    sign-batch verify --ca "$T/ca.pem" --sig "$T/openssl-bin.p7s" "$T/batch.csv"
openssl cms -sign -in "$T/batch.csv" -signer "$T/officer.pem" -inkey "$T/officer.key" \
    -outform DER -out "$T/openssl-text.der"
ok "we accept openssl cms -sign in text mode, DER" \
    sign-batch verify --ca "$T/ca.pem" --sig "$T/openssl-text.der" "$T/batch.csv"
ok "verify reads the batch from stdin" \
    sh -c "sign-batch verify --ca '$T/ca.pem' --sig '$T/batch.csv.p7s' <'$T/batch.csv'"

# One byte changed: R2 becomes R3.
sed 's/R2/R3/' "$T/batch.csv" >"$T/tampered.csv"
exit_is 65 "a one-byte change to the file fails verification" \
    sign-batch verify --ca "$T/ca.pem" --sig "$T/batch.csv.p7s" "$T/tampered.csv"
like "$(cat "$T/.err")" "changed after signing" "the message says the file or signature was changed"
ok "openssl agrees the changed file does not verify" sh -c \
    "! openssl cms -verify -binary -inform PEM -in '$T/batch.csv.p7s' -content '$T/tampered.csv' -CAfile '$T/ca.pem' -purpose any -out /dev/null 2>/dev/null"
exit_is 65 "a one-byte change to the openssl text-mode signature's file fails too" \
    sign-batch verify --ca "$T/ca.pem" --sig "$T/openssl-text.der" "$T/tampered.csv"

# A changed byte in the signature itself (inside the base64 body).
awk 'NR == 5 { c = substr($0, 10, 1); r = (c == "A") ? "B" : "A"; $0 = substr($0, 1, 9) r substr($0, 11) } { print }' \
    "$T/batch.csv.p7s" >"$T/bad.p7s"
exit_is 65 "a changed signature fails verification" \
    sign-batch verify --ca "$T/ca.pem" --sig "$T/bad.p7s" "$T/batch.csv"

# A signer from another CA.
mkdir "$T/other" && (T=$T/other; make_ca; make_signer stranger) >/dev/null 2>&1
sign-batch sign -q --cert "$T/other/stranger.pem" --key "$T/other/stranger.key" "$T/batch.csv" >"$T/stranger.p7s"
exit_is 65 "a signer the CA did not certify is refused" \
    sign-batch verify --ca "$T/ca.pem" --sig "$T/stranger.p7s" "$T/batch.csv"
like "$(cat "$T/.err")" "cannot be trusted" "the message says the signer is not trusted"

exit_is 65 "a key that does not belong to the certificate is refused" \
    sign-batch sign --cert "$T/officer.pem" --key "$T/ca-plain.key" "$T/batch.csv"

# Encrypted key: passphrase from a file, a descriptor, the environment.
ok "an encrypted key with --pass-file" sign-batch sign --cert "$T/ca.pem" --key "$T/ca.key" \
    --pass-file "$T/ca-pass.txt" -o "$T/ca-signed.p7s" "$T/batch.csv"
ok "an encrypted key with --pass-fd" sh -c \
    "sign-batch sign --cert '$T/ca.pem' --key '$T/ca.key' --pass-fd 3 '$T/batch.csv' 3<'$T/ca-pass.txt' >/dev/null"
ok "an encrypted key with CB_CA_PASS" env CB_CA_PASS="$CA_PASS" \
    sign-batch sign --cert "$T/ca.pem" --key "$T/ca.key" -o "$T/env.p7s" "$T/batch.csv"
ok "the CA-signed file verifies with openssl" \
    openssl cms -verify -binary -inform PEM -in "$T/ca-signed.p7s" -content "$T/batch.csv" \
    -CAfile "$T/ca.pem" -purpose any -out /dev/null
printf 'wrong\n' >"$T/wrong.txt"
exit_is 65 "a wrong passphrase is a clear error" sign-batch sign --cert "$T/ca.pem" --key "$T/ca.key" \
    --pass-file "$T/wrong.txt" -o "$T/never.p7s" "$T/batch.csv"
like "$(cat "$T/.err")" "wrong passphrase" "the message says the passphrase is wrong"
ok "nothing is written after a wrong passphrase" test ! -e "$T/never.p7s"
exit_is 66 "a missing batch file is reported" sign-batch sign --cert "$T/officer.pem" \
    --key "$T/officer.key" "$T/nope.csv"
exit_is 64 "sign without --cert is a usage error" sign-batch sign --key "$T/officer.key" "$T/batch.csv"

done_testing
