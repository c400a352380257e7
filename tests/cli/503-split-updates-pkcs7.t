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

# A bundle exported with its certification path also holds the CA.
openssl crl2pkcs7 -nocrl -certfile "$T/ca.pem" -certfile "$T/update.pem" -outform DER -out "$T/withca.p7b"
split-updates -q --out "$T/wc" --ca "$T/ca.pem" --requests "$T/requests.csv" --old-certs "$T/old" "$T/withca.p7b" >"$T/wc.csv" 2>"$T/wc.err"
is "$(mlr --icsv --onidx --ofs , filter '$status != "missing"' then cut -o -f subject_cn,status "$T/wc.csv" | head -1)" \
   "Test CA chuyên dùng,chain" "the CA certificate in the bundle is listed as chain"
is "$(find "$T/wc" -type f | wc -l | tr -d ' ')" 4 "it is not written anywhere; the four holders' certificates are"
is "$(cat "$T/wc.err")" "" "and it is no reject"
su_ca other "Test CA chuyên dùng"
openssl crl2pkcs7 -nocrl -certfile "$T/other.pem" -certfile "$T/update.pem" -outform DER -out "$T/withother.p7b"
split-updates -q --out "$T/wo" --ca "$T/ca.pem" --requests "$T/requests.csv" --old-certs "$T/old" "$T/withother.p7b" >"$T/wo.csv" 2>/dev/null
is "$(mlr --icsv --onidx filter '$status != "missing"' then head -n 1 then cut -f status "$T/wo.csv")" "untrusted" \
   "a CA certificate in the bundle that is not ours is untrusted, a reject"
done_testing
