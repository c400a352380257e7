#!/bin/sh
# split-updates: a PKCS#7 certificate bundle (.p7b / .p7c, DER or PEM) gives
# the same result as the PEM bundle it was made from.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/split-updates-fixture.sh"
su_standard
openssl crl2pkcs7 -nocrl -certfile "$T/update.pem" -outform DER -out "$T/update.p7b"
openssl crl2pkcs7 -nocrl -certfile "$T/update.pem" -outform PEM -out "$T/update.p7c"
is "$(openssl pkcs7 -inform DER -in "$T/update.p7b" -print_certs | grep -c '^subject=')" 4 \
    "(openssl sees four certificates in the .p7b)"

run() {  # name input...
    _o=$1; shift
    split-updates -q --out "$T/$_o" --ca "$T/ca.pem" --requests "$T/requests.csv" --old-certs "$T/old" "$@" \
        | mlr --icsv --ocsv cut -x -f source,path >"$T/$_o.csv"
    (cd "$T/$_o" && find . -type f | sort | xargs sha256sum) >"$T/$_o.files"
}
run pem "$T/update.pem"
run p7b "$T/update.p7b"
run p7c "$T/update.p7c"
run p7stdin - <"$T/update.p7b"
is "$(mlr --icsv --onidx filter '$status == "delivered"' then count "$T/pem.csv")" 4 "(the PEM bundle delivers four)"
ok "a DER .p7b gives the same manifest as the PEM bundle" cmp "$T/pem.csv" "$T/p7b.csv"
ok "a PEM .p7c gives the same manifest as the PEM bundle" cmp "$T/pem.csv" "$T/p7c.csv"
ok "a DER .p7b on stdin gives the same manifest" cmp "$T/pem.csv" "$T/p7stdin.csv"
ok "the .p7b run writes the same files, byte for byte" cmp "$T/pem.files" "$T/p7b.files"
ok "the .p7c run writes the same files, byte for byte" cmp "$T/pem.files" "$T/p7c.files"

# DER certificates one after the other.
for i in 1 2 3 5; do openssl x509 -in "$T/new-h$i.pem" -outform DER; done >"$T/update.der"
run der "$T/update.der"
ok "concatenated DER certificates give the same manifest" cmp "$T/pem.csv" "$T/der.csv"

# The certificates field is what counts, not the signers (there are none).
split-updates -q --out "$T/src" --ca "$T/ca.pem" --requests "$T/requests.csv" "$T/update.p7b" >"$T/src.csv"
is "$(mlr --icsv --onidx filter '$status != "missing"' then cut -f source "$T/src.csv" | tr '\n' ' ')" \
    "$T/update.p7b#1 $T/update.p7b#2 $T/update.p7b#3 $T/update.p7b#4 " "source names the bundle and the certificate's place in it"
done_testing
