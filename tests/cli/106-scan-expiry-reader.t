#!/bin/sh
# scan-expiry reads certificates with the library's one reader: PKCS#7
# bundles (.p7b/.p7c, DER or PEM) as well as PEM and DER, each certificate
# labelled FILE#N; a subject with two e-mail addresses gives one address; a
# subject CN that is not UTF-8 is a reject, never a row with an empty name.
# Expectations come from openssl pkcs7 -print_certs, openssl x509 and
# Python's UTF-8 decoder.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ca.sh"
CA=$T/ca
make_ca "$CA" "TEST reader CA"
issue "$CA" one 20250101000000Z 20270101000000Z 1001
issue "$CA" two 20250101000000Z 20270301000000Z 1002
cat "$CA/one.pem" "$CA/two.pem" >"$T/both.pem"
openssl crl2pkcs7 -nocrl -certfile "$T/both.pem" -outform DER -out "$T/bundle.p7b"
openssl crl2pkcs7 -nocrl -certfile "$T/both.pem" -out "$T/bundle-pem.p7c"
want=$(openssl pkcs7 -inform DER -in "$T/bundle.p7b" -print_certs -noout 2>/dev/null | sed -n 's/^subject=.*CN *= *\([^,]*\).*/\1/p' | tr '\n' ' ')

scan-expiry --all --as-of 2026-06-01 -q "$T/bundle.p7b" >"$T/p7.csv"
is "$(csv_col "$T/p7.csv" subject_cn | tr '\n' ' ')" "$want" "a DER .p7b bundle gives its certificates, in openssl's order"
is "$(csv_col "$T/p7.csv" source | tr '\n' ' ')" "$T/bundle.p7b#1 $T/bundle.p7b#2 " "each labelled FILE#N"
scan-expiry --all --as-of 2026-06-01 -q "$T/bundle-pem.p7c" >"$T/p7p.csv"
is "$(csv_col "$T/p7p.csv" subject_cn | tr '\n' ' ')" "$want" "a PEM PKCS7 block gives them too"
scan-expiry --all --as-of 2026-06-01 -q <"$T/bundle.p7b" >"$T/p7s.csv"
is "$(csv_col "$T/p7s.csv" serial | tr '\n' ' ')" "1001 1002 " "a .p7b on stdin"
is "$(csv_col "$T/p7.csv" sha256 | tr '\n' ' ')" \
   "$(for c in one two; do openssl x509 -in "$CA/$c.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g'; done | tr '\n' ' ')" \
   "the fingerprints are those of the certificates themselves"
mkdir -p "$T/dir"
cp "$T/bundle.p7b" "$T/dir/b.p7b"
cp "$CA/one.pem" "$T/dir/a.pem"
openssl x509 -in "$CA/two.pem" -outform DER -out "$T/dir/c.cer"
scan-expiry --all --as-of 2026-06-01 -q "$T/dir" >"$T/dir.csv"
is "$(csv_col "$T/dir.csv" source | sed "s|$T/dir/||" | tr '\n' ' ')" "a.pem#1 b.p7b#1 b.p7b#2 c.cer#1 " \
    "a directory mixing PEM, PKCS#7 and DER is read in name order"

# Two emailAddress attributes in one subject.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/m.key" -config "$CA/ca.cnf" \
    -subj "/CN=Two Mails/emailAddress=test2@test.local/emailAddress=test3@test.local" -out "$T/m.csr" 2>/dev/null
openssl ca -batch -config "$CA/ca.cnf" -startdate 20250101000000Z -enddate 20270101000000Z -notext \
    -in "$T/m.csr" -out "$T/m.pem" 2>/dev/null
is "$(openssl x509 -in "$T/m.pem" -noout -email | tr '\n' ' ')" "test2@test.local test3@test.local " \
    "(openssl sees two addresses in the subject)"
scan-expiry --all --as-of 2026-06-01 "$T/m.pem" >"$T/m.csv" 2>"$T/m.err"
is "$(csv_col "$T/m.csv" email)" "test2@test.local" "the email column holds one address, the first"
like "$(cat "$T/m.err")" "m.pem#1: the subject has 1 more e-mail address" "and a warning says the other was left out"

# A subject CN whose UTF8String is not UTF-8: the bytes of a made
# certificate changed in place (its signature no longer matters here).
issue "$CA" QQQQBADQ 20250101000000Z 20270101000000Z 1004
openssl x509 -in "$CA/QQQQBADQ.pem" -outform DER -out "$T/q.der"
perl -pe 's/QQQQBADQ/\xff\xfeQQ\xc3\x28QQ/g' "$T/q.der" >"$T/bad.der"
ok "(Python's decoder refuses the new CN bytes as UTF-8)" /usr/bin/python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
i = d.index(b"\xff\xfeQQ")
try:
    d[i:i + 8].decode("utf-8")
    sys.exit(1)
except UnicodeDecodeError:
    pass' "$T/bad.der"
scan-expiry --all --as-of 2026-06-01 --rejects "$T/rej.csv" "$T/bad.der" >"$T/bad.csv" 2>/dev/null
is "$(mlr --icsv --onidx count "$T/bad.csv")" "0" "a CN that is not UTF-8 gives no row"
like "$(csv_col "$T/rej.csv" reject_reason)" "certificate 1: the certificate's CN is not valid text" "it is a reject saying why"
is "$(csv_col "$T/rej.csv" source)" "$T/bad.der#1" "naming the certificate"
done_testing
