#!/bin/sh
# sign-batch issue: key pairs and certificates for new requests, PKCS#12
# files under fresh PINs, subscriber CSRs, the profile, the ledger, -j.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-batch-fixture.sh"

make_ca
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/sub.key" 2>/dev/null
openssl req -new -key "$T/sub.key" -subj "/CN=whatever the subscriber wrote" -out "$T/sub.csr"
# A CSR whose signature no longer matches: one byte of the subject changed.
openssl req -in "$T/sub.csr" -outform DER -out "$T/sub.der"
python3 -c "
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = d.find(b'whatever')
d[i] ^= 1
open(sys.argv[2], 'wb').write(d)" "$T/sub.der" "$T/bad.csr"

H=request_id,form,full_name,birth_date,id_number,position,agency,org_name,province,email,phone,confirmed_by,received_date,validity_months,csr_file,request_type,subject_type,due_date,agency_key
cat >"$T/issue.csv" <<CSV
$H
CB-01,01,Nguyễn Thị Hoa,1990-05-01,068190000123,Chuyên viên,Sở Nội vụ tỉnh Lâm Đồng,,Lâm Đồng,hoa.nt@lamdong.gov.vn,0912345678,Giám đốc Sở,2026-02-10,,,issue,individual,2026-02-25,so noi vu tinh lam dong
CB-02,02,Trần Văn Bảo,1985-01-02,068085000456,Phó Giám đốc,"Sở Tài chính, tỉnh Lâm Đồng",,Lâm Đồng,bao.tv@lamdong.gov.vn,0987654321,Giám đốc Sở,2026-02-10,24,,issue,individual,2026-02-25,so tai chinh
CB-03,04,,,,,UBND tỉnh Lâm Đồng,Văn phòng UBND tỉnh Lâm Đồng,Lâm Đồng,vp@lamdong.gov.vn,,Chánh Văn phòng,2026-02-10,,,issue,organization,2026-02-25,ubnd
CB-04,01,Lê Văn Không Thư,1990-05-01,068190000999,Chuyên viên,Sở Nội vụ tỉnh Lâm Đồng,,Lâm Đồng,,0912345678,Giám đốc Sở,2026-02-10,,,issue,individual,2026-02-25,so noi vu
CB-05,01,,1990-05-01,068190000998,Chuyên viên,Sở Nội vụ tỉnh Lâm Đồng,,Lâm Đồng,a@lamdong.gov.vn,0912345678,Giám đốc Sở,2026-02-10,,,issue,individual,2026-02-25,so noi vu
CB-06,03,Phạm Văn Gia Hạn,1990-05-01,068190000997,Chuyên viên,Sở Nội vụ tỉnh Lâm Đồng,,Lâm Đồng,b@lamdong.gov.vn,0912345678,Giám đốc Sở,2026-02-10,,,renew,individual,2026-02-25,so noi vu
CB-07,01,Võ Thị Lâu,1990-05-01,068190000996,Chuyên viên,Sở Nội vụ tỉnh Lâm Đồng,,Lâm Đồng,c@lamdong.gov.vn,0912345678,Giám đốc Sở,2026-02-10,61,,issue,individual,2026-02-25,so noi vu
CB-08,01,Đặng Văn Khóa,1990-05-01,068190000995,Chuyên viên,Sở Nội vụ tỉnh Lâm Đồng,,Lâm Đồng,d@lamdong.gov.vn,0912345678,Giám đốc Sở,2026-02-10,,$T/sub.csr,issue,individual,2026-02-25,so noi vu
CB-09,01,Bùi Văn Sai,1990-05-01,068190000994,Chuyên viên,Sở Nội vụ tỉnh Lâm Đồng,,Lâm Đồng,e@lamdong.gov.vn,0912345678,Giám đốc Sở,2026-02-10,,$T/bad.csr,issue,individual,2026-02-25,so noi vu
CSV

sb() { sign-batch issue --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" --pass-file "$T/ca-pass.txt" "$@"; }

exit_is 64 "issue without --key-dir is a usage error" sb "$T/issue.csv"
exit_is 64 "an unknown --key-alg is a usage error" sb --key-dir "$T/keys" --key-alg dsa1024 "$T/issue.csv"
ok "issue a batch" sb --key-alg ec-p256 --key-dir "$T/keys" --ledger "$T/ledger.csv" \
    --manifest "$T/manifest.csv" --rejects "$T/rejects.csv" -o "$T/issued.pem" "$T/issue.csv"
like "$(cat "$T/.err")" "sign-batch: 9 in, 4 out, 5 rejected" "the summary counts 9 in = 4 out + 5 rejected"
is "$(csv_col "$T/rejects.csv" request_id | tr '\n' ' ')" "CB-04 CB-05 CB-06 CB-07 CB-09 " "five requests are rejected"
like "$(grep '^CB-04' "$T/rejects.csv")" ",email,.*e-mail" "a request without e-mail is rejected"
like "$(grep '^CB-05' "$T/rejects.csv")" ",full_name," "a request without a name is rejected"
like "$(grep '^CB-06' "$T/rejects.csv")" "use sign-batch renew" "a renewal in an issue batch is rejected"
like "$(grep '^CB-07' "$T/rejects.csv")" "at most 60 months" "more than 5 years of validity is rejected (Nghị định 68/2024 Điều 9)"
like "$(grep '^CB-09' "$T/rejects.csv")" "signature does not verify" "a CSR whose signature fails is rejected"

csplit -s -z -f "$T/c" "$T/issued.pem" '/BEGIN CERTIFICATE/' '{*}'
for f in "$T"/c0*; do
    ok "openssl verify accepts $(basename "$f")" openssl verify -CAfile "$T/ca.pem" "$f"
done
text=$(openssl x509 -in "$T/c00" -noout -text -nameopt utf8,sep_comma_plus_space)
like "$text" "Subject: C=VN, ST=Lâm Đồng, O=Sở Nội vụ tỉnh Lâm Đồng, title=Chuyên viên, UID=068190000123, CN=Nguyễn Thị Hoa" \
    "the subject is C=VN, the province, the agency and the person's name"
like "$text" "email:hoa.nt@lamdong.gov.vn" "the e-mail address is in subjectAltName"
like "$text" "Digital Signature, Non Repudiation" "key usage digitalSignature, nonRepudiation"
like "$text" "TLS Web Client Authentication, E-mail Protection" "extended key usage from the default profile"
like "$text" "Subject Key Identifier" "subjectKeyIdentifier is present"
like "$text" "Authority Key Identifier" "authorityKeyIdentifier is present"
like "$text" "CA:FALSE" "the certificate is not a CA"
like "$text" "ASN1 OID: prime256v1" "--key-alg ec-p256 makes P-256 keys"
months_between() {  # CERT: months from notBefore to notAfter (same day, Vietnam time)
    _b=$(TZ=UTC-7 date -d "$(openssl x509 -in "$1" -noout -startdate | cut -d= -f2)" +%Y-%m-%d)
    _a=$(TZ=UTC-7 date -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%Y-%m-%d)
    for m in 12 24 36 48 60; do
        [ "$(date -d "$_b +$m months" +%Y-%m-%d)" = "$_a" ] && { echo $m; return; }
    done
    echo "$_b..$_a"
}
is "$(months_between "$T/c00")" 36 "the default profile gives 36 months"
is "$(months_between "$T/c01")" 24 "a row asking 24 months gets 24"
like "$(openssl x509 -in "$T/c02" -noout -subject -nameopt utf8,sep_comma_plus_space)" \
    "O=UBND tỉnh Lâm Đồng, CN=Văn phòng UBND tỉnh Lâm Đồng" "an organisation's certificate names the organisation"
is "$(openssl x509 -in "$T/c03" -noout -pubkey)" "$(openssl pkey -in "$T/sub.key" -pubout)" \
    "a certificate for a CSR carries the CSR's public key"
like "$(openssl x509 -in "$T/c03" -noout -subject -nameopt utf8)" "CN ?= ?Đặng Văn Khóa" \
    "the subject comes from the request, not from the CSR"

ok "no private key on stdout" sh -c "! grep -q 'PRIVATE KEY' '$T/issued.pem'"
ok "no private key on stderr" sh -c "! grep -q 'PRIVATE KEY' '$T/.err'"
is "$(ls "$T/keys" | tr '\n' ' ')" "CB-01.p12 CB-02.p12 CB-03.p12 pins.csv " \
    "one PKCS#12 file per generated key, none for the CSR, and the PIN file"
is "$(stat -c %a "$T/keys/CB-01.p12") $(stat -c %a "$T/keys/pins.csv")" "600 600" "key and PIN files are mode 0600"
is "$(stat -c %a "$T/keys")" 700 "the key directory is created 0700"
is "$(csv_col "$T/keys/pins.csv" request_id | tr '\n' ' ')" "CB-01 CB-02 CB-03 " "the PIN file names each request"
n=0
for id in CB-01 CB-02 CB-03; do
    pin=$(awk -F, -v id=$id '$1 == id { print $3 }' "$T/keys/pins.csv")
    printf '%s\n' "$pin" >"$T/pin.txt"
    ok "openssl pkcs12 opens $id.p12 with its PIN" \
        openssl pkcs12 -in "$T/keys/$id.p12" -passin file:"$T/pin.txt" -nokeys -clcerts -out "$T/p12cert.pem"
    is "$(openssl x509 -in "$T/p12cert.pem" -noout -fingerprint -sha256)" \
        "$(openssl x509 -in "$T/c0$n" -noout -fingerprint -sha256)" "$id.p12 holds the certificate on stdout"
    openssl pkcs12 -in "$T/keys/$id.p12" -passin file:"$T/pin.txt" -nocerts -nodes 2>/dev/null |
        openssl pkey -pubout >"$T/p12pub.pem"
    is "$(cat "$T/p12pub.pem")" "$(openssl x509 -in "$T/c0$n" -noout -pubkey)" "$id.p12 holds the certificate's private key"
    n=$((n + 1))
done
printf 'WRONGPIN\n' >"$T/pin.txt"
ok "a wrong PIN does not open the PKCS#12" sh -c \
    "! openssl pkcs12 -in '$T/keys/CB-01.p12' -passin file:'$T/pin.txt' -nokeys -out /dev/null 2>/dev/null"
ok "PINs differ between requests" sh -c \
    "test \$(csv_col() { awk -F, 'NR>1{print \$3}' \"\$1\"; }; csv_col '$T/keys/pins.csv' | sort -u | wc -l) = 3"

is "$(csv_col "$T/manifest.csv" key_file | head -1)" "$T/keys/CB-01.p12" "the manifest names the key file"
is "$(csv_col "$T/ledger.csv" request_id | tr '\n' ' ')" "CB-01 CB-02 CB-03 CB-08 " "the ledger has one line per certificate"

cp "$T/keys/pins.csv" "$T/pins-before.csv"
ok "the same command run again" sb --key-dir "$T/keys" --ledger "$T/ledger.csv" --manifest "$T/manifest2.csv" \
    --rejects "$T/rej1.csv" -o "$T/issued1.pem" "$T/issue.csv"
ok "a second run leaves the PIN file as it was" cmp "$T/keys/pins.csv" "$T/pins-before.csv"
is "$(grep -c 'BEGIN CERTIFICATE' "$T/issued1.pem")" 4 "the second run's output is the whole batch again"
ok "byte for byte the certificates issued the first time" cmp "$T/issued1.pem" "$T/issued.pem"
is "$(csv_col "$T/manifest2.csv" key_file | tr '\n' ' ')" "$T/keys/CB-01.p12 $T/keys/CB-02.p12 $T/keys/CB-03.p12  " \
    "the second manifest names the same key files"
ok "a re-run with another PIN file" sb --key-dir "$T/keys" --pins "$T/pins2.csv" --ledger "$T/ledger.csv" \
    --rejects "$T/rej2.csv" -o "$T/again.pem" "$T/issue.csv"
like "$(cat "$T/.err")" "9 in, 4 out, 5 rejected" "requests in the ledger are written out again, not issued twice"
is "$(csv_col "$T/ledger.csv" request_id | wc -l | tr -d ' ')" 4 "the ledger did not grow"
ok "no PIN file when nothing was issued" test ! -e "$T/pins2.csv"

printf '%s\n' "$(head -1 "$T/issue.csv")" >"$T/one.csv"
sed -n 2p "$T/issue.csv" | sed 's/^CB-01/CB-11/' >>"$T/one.csv"
ok "a key file that exists already is not overwritten" sh -c "cp '$T/keys/CB-01.p12' '$T/keys/CB-11.p12'"
sb --key-dir "$T/keys" --pins "$T/pins3.csv" --rejects "$T/rej3.csv" -o /dev/null "$T/one.csv" 2>/dev/null
like "$(cat "$T/rej3.csv")" "already exists" "a request whose key file exists is rejected"

ok "--key-alg rsa2048 makes RSA keys" sb --key-alg rsa2048 --key-dir "$T/rsa" -o "$T/rsa.pem" "$T/one.csv"
like "$(openssl x509 -in "$T/rsa.pem" -noout -text)" "Public-Key: \\(2048 bit\\)" "the RSA key has 2048 bits"

cat >"$T/profile.yaml" <<'YAML'
name: test
validity_months: 12
key_alg: ec-p256
key_usage: [digitalSignature]
extended_key_usage: [emailProtection, 1.3.6.1.4.1.311.10.3.12]
policies:
  - 2.16.704.1.2.2.1
crl_urls: [http://crl.example.gov.vn/ca.crl]
ocsp_urls: http://ocsp.example.gov.vn
ca_issuers_urls: [http://ca.example.gov.vn/ca.crt]
YAML
ok "a profile sets validity and extensions" sb --profile "$T/profile.yaml" --key-dir "$T/prof" -o "$T/prof.pem" "$T/one.csv"
text=$(openssl x509 -in "$T/prof.pem" -noout -text)
is "$(months_between "$T/prof.pem")" 12 "validity_months 12 from the profile"
like "$text" "Policy: 2.16.704.1.2.2.1" "the certificate policy OID from the profile"
like "$text" "URI:http://crl.example.gov.vn/ca.crl" "the CRL distribution point from the profile"
like "$text" "OCSP - URI:http://ocsp.example.gov.vn" "the OCSP URL from the profile"
like "$text" "CA Issuers - URI:http://ca.example.gov.vn/ca.crt" "the CA issuers URL from the profile"
like "$text" "E-mail Protection, 1.3.6.1.4.1.311.10.3.12" "extended key usage by name and by OID"
ok "the profile key usage is digitalSignature alone" sh -c \
    "openssl x509 -in '$T/prof.pem' -noout -ext keyUsage | grep -qx ' *Digital Signature'"
printf 'validity_months: 12\nkey_usage: [digitalSignature]\nvalidty: 3\n' >"$T/bad.yaml"
exit_is 65 "a profile with an unknown key is refused" sb --profile "$T/bad.yaml" --key-dir "$T/x" "$T/one.csv"
like "$(cat "$T/.err")" "bad.yaml:3: unknown key 'validty'" "the error names the profile's line"
ok "the shipped default profile loads" sb --profile "$TOP/pipelines/profiles/default.yaml" --key-alg ec-p256 \
    --key-dir "$T/shipped" -o "$T/shipped.pem" "$T/one.csv"
ok "a certificate from the shipped profile verifies" openssl verify -CAfile "$T/ca.pem" "$T/shipped.pem"

# -j: the same order as the input.
{ head -1 "$T/issue.csv"; for i in $(seq 1 24); do
    printf 'J-%02d,01,Người Số %d,1990-05-01,0681900%05d,Chuyên viên,Sở Nội vụ,,Lâm Đồng,n%d@lamdong.gov.vn,0912345678,GĐ,2026-02-10,,,issue,individual,2026-02-25,so noi vu\n' $i $i $i $i
done; } >"$T/many.csv"
ok "-j 4 issues a batch" sb -j 4 --key-alg ec-p256 --key-dir "$T/many" -o "$T/many.pem" "$T/many.csv"
want=$(for i in $(seq 1 24); do printf 'Người Số %d ' $i; done)
rm -f "$T"/m0* "$T"/m1* "$T"/m2*
csplit -s -z -f "$T/m" "$T/many.pem" '/BEGIN CERTIFICATE/' '{*}'
is "$(for f in "$T"/m[0-9]*; do openssl x509 -in "$f" -noout -subject -nameopt utf8,sep_comma_plus_space | sed 's/.*CN=//'; done | tr '\n' ' ')" \
    "$want" "-j 4 writes the certificates in input order"
is "$(csv_col "$T/many/pins.csv" request_id | tr '\n' ' ')" "$(seq -f 'J-%02g' 1 24 | tr '\n' ' ')" "-j 4 writes the PINs in input order"

done_testing
