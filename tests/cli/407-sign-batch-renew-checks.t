#!/bin/sh
# sign-batch renew certifies an old key again only when the old certificate
# is the CA's own, unchanged (its signature verifies, its signature
# algorithm agrees with the signed one), and its key meets the profile's key
# policy: no RSA key under 2048 bits, no EC key off P-256/P-384/P-521
# (issue 14). openssl verify and openssl x509 -text judge the same files.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-batch-fixture.sh"

make_ca
old_with_key() {  # SERIAL CN GENPKEY-ARGS...
    _s=$1 _cn=$2
    shift 2
    openssl genpkey "$@" -out "$T/old/$_s.key" 2>/dev/null
    openssl req -new -key "$T/old/$_s.key" -utf8 -subj "/C=VN/O=Sở Nội vụ/CN=$_cn" -out "$T/old/$_s.csr"
    openssl x509 -req -in "$T/old/$_s.csr" -CA "$T/ca.pem" -CAkey "$T/ca-plain.key" -set_serial "0x$_s" \
        -days 400 -sha256 -extfile "$T/ca.cnf" -extensions sub_ext -out "$T/old/$_s.pem" 2>/dev/null
    rm -f "$T/old/$_s.csr"
}
old_with_key 1001 "RSA Một Nghìn" -algorithm RSA -pkeyopt rsa_keygen_bits:1024
old_with_key 1002 "EC Một Chín Hai" -algorithm EC -pkeyopt ec_paramgen_curve:P-192
old_with_key 1003 "RSA Hai Nghìn" -algorithm RSA -pkeyopt rsa_keygen_bits:2048
old_with_key 1004 "EC Hai Năm Sáu" -algorithm EC -pkeyopt ec_paramgen_curve:P-256
old_with_key 1005 "Tamperx" -algorithm EC -pkeyopt ec_paramgen_curve:P-256
old_with_key 1006 "Sigalg" -algorithm EC -pkeyopt ec_paramgen_curve:P-256
like "$(openssl x509 -in "$T/old/1001.pem" -noout -text)" "Public-Key: \(1024 bit\)" "(openssl: 1001 has an RSA-1024 key)"
like "$(openssl x509 -in "$T/old/1002.pem" -noout -text)" "NIST CURVE: P-192|prime192v1" "(openssl: 1002 is on P-192)"
# 1005: one byte of the signed part changed; 1006: the outer signature
# algorithm changed from ecdsa-with-SHA256 to ecdsa-with-SHA384.
for s in 1005 1006; do openssl x509 -in "$T/old/$s.pem" -outform DER -out "$T/$s.der"; done
/usr/bin/python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
d = bytearray(open(t + "/1005.der", "rb").read())
i = d.index(b"Tamperx")
d[i + 6] = ord("y")
open(t + "/1005-bad.der", "wb").write(d)
d = bytearray(open(t + "/1006.der", "rb").read())
oid = bytes.fromhex("06082a8648ce3d040302")
i = d.rindex(oid)
d[i + len(oid) - 1] = 3
open(t + "/1006-bad.der", "wb").write(d)
PY
for s in 1005 1006; do openssl x509 -inform DER -in "$T/$s-bad.der" -out "$T/old/$s.pem"; done
for s in 1005 1006; do
    ok "(openssl verify refuses the changed certificate $s)" sh -c "! openssl verify -CAfile '$T/ca.pem' '$T/old/$s.pem' >/dev/null 2>&1"
done
today=$(TZ=UTC-7 date +%Y-%m-%d)
{
    echo "request_id,request_type,old_serial,full_name,received_date,agency_key"
    for s in 1001 1002 1003 1004 1005 1006; do echo "R$s,renew,$s,x,$today,so noi vu"; done
} >"$T/renew.csv"
ok "renew the batch" sign-batch renew --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" --pass-file "$T/ca-pass.txt" \
    --old-certs "$T/old" --rejects "$T/rejects.csv" -o "$T/new.pem" "$T/renew.csv"
is "$(grep -c 'BEGIN CERTIFICATE' "$T/new.pem")" 2 "two certificates renewed: the RSA-2048 and the P-256 ones"
is "$(csv_col "$T/rejects.csv" request_id | tr '\n' ' ')" "R1001 R1002 R1005 R1006 " "the weak keys and the changed certificates are rejects"
like "$(mlr --icsv --onidx filter '$request_id == "R1001"' then cut -f reject_reason "$T/rejects.csv")" \
    "RSA key has 1024 bits, fewer than the 2048" "RSA-1024: the reason gives its size"
like "$(mlr --icsv --onidx filter '$request_id == "R1002"' then cut -f reject_reason "$T/rejects.csv")" \
    "EC key is on prime192v1, not on P-256" "P-192: the reason names the curve"
like "$(mlr --icsv --onidx filter '$request_id == "R1005"' then cut -f reject_reason "$T/rejects.csv")" \
    "was not issued by this CA" "a changed byte of the signed part: not the CA's certificate"
like "$(mlr --icsv --onidx filter '$request_id == "R1006"' then cut -f reject_reason "$T/rejects.csv")" \
    "was not issued by this CA" "a changed signature algorithm: not the CA's certificate"
done_testing
