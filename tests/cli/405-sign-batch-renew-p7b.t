#!/bin/sh
# sign-batch renew --old-certs reads the old certificates with the library's
# one reader: a PKCS#7 bundle (.p7b, DER or PEM, as openssl crl2pkcs7 makes
# it) serves like the directory of PEM files.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-batch-fixture.sh"

make_ca
make_old_cert 0A1B2C3D4E5F6071 "Nguyễn Văn An" 400
make_old_cert 1122334455667788 "Trần Thị Bình" 400
cat "$T"/old/*.pem >"$T/old-bundle.pem"
openssl crl2pkcs7 -nocrl -certfile "$T/old-bundle.pem" -outform DER -out "$T/old.p7b"
openssl crl2pkcs7 -nocrl -certfile "$T/old-bundle.pem" -out "$T/old-pem.p7b"
today=$(TZ=UTC-7 date +%Y-%m-%d)
cat >"$T/renew.csv" <<CSV
request_id,request_type,old_serial,full_name,received_date,agency_key
GH-001,renew,0A1B2C3D4E5F6071,Nguyễn Văn An,$today,so noi vu
GH-002,renew,1122334455667788,Trần Thị Bình,$today,so noi vu
CSV
sb() { sign-batch renew --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" --pass-file "$T/ca-pass.txt" "$@"; }

for f in old.p7b old-pem.p7b; do
    ok "renew with --old-certs $f" sb --old-certs "$T/$f" -o "$T/$f.out.pem" "$T/renew.csv"
    like "$(cat "$T/.err")" "sign-batch: 2 in, 2 out, 0 rejected" "$f: both old certificates are found in the bundle"
    csplit -s -z -f "$T/$f.new" "$T/$f.out.pem" '/BEGIN CERTIFICATE/' '{*}'
    is "$(openssl x509 -in "$T/$f.new00" -noout -pubkey)" "$(openssl x509 -in "$T/old/0A1B2C3D4E5F6071.pem" -noout -pubkey)" \
        "$f: the renewed certificate keeps the old public key"
done
done_testing
