#!/bin/sh
# sign-batch renew: same subject and public key, a new serial, validity
# extended; the rules of Nghị định 130/2018 Điều 63 and 68/2024 Điều 9.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-batch-fixture.sh"

make_ca
make_old_cert 0A1B2C3D4E5F6071 "Nguyễn Văn An" 400
make_old_cert 1122334455667788 "Trần Thị Bình" 400
make_old_cert 00AB00CD00EF0011 "Lê Văn Cường" 30
make_old_cert 2233445566778899 "Phạm Thị Dung" 400
mkdir "$T/other" && (T=$T/other; make_ca; make_old_cert 5555666677778888 "Hồ Văn Em" 400) >/dev/null 2>&1
cp "$T/other/old/5555666677778888.pem" "$T/old/"
cat "$T"/old/*.pem >"$T/old-bundle.pem"
today=$(TZ=UTC-7 date +%Y-%m-%d)

cat >"$T/renew.csv" <<CSV
request_id,request_type,old_serial,full_name,received_date,agency_key
GH-001,renew,0A1B2C3D4E5F6071,Nguyễn Văn An,$today,so noi vu
GH-002,renew,11:22:33:44:55:66:77:88,Trần Thị Bình,$today,so noi vu
GH-003,renew,00AB00CD00EF0011,Lê Văn Cường,$today,so noi vu
GH-004,renew,DEADBEEF,Không Có,$today,so noi vu
GH-005,renew,5555666677778888,Hồ Văn Em,$today,so noi vu
GH-006,issue,2233445566778899,Phạm Thị Dung,$today,so noi vu
GH-007,renew,,Không Số,$today,so noi vu
GH-008,renew,0a1b2c3d4e5f6071,Nguyễn Văn An,$today,so noi vu
CSV

# plus_months DATE N: DATE plus N calendar months in Vietnam time, in seconds.
plus_months() {
    _d=$(TZ=UTC-7 date -d "$1" +%Y-%m-%d)
    _t=$(TZ=UTC-7 date -d "$1" +%H:%M:%S)
    date -d "$(date -d "$_d +$2 months" +%Y-%m-%d) $_t +0700" +%s
}

sb() { sign-batch renew --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" --pass-file "$T/ca-pass.txt" "$@"; }

printf 'not it\n' >"$T/wrong.txt"
exit_is 65 "a wrong CA passphrase stops the run" sign-batch renew --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" \
    --pass-file "$T/wrong.txt" --old-certs "$T/old" --ledger "$T/ledger.csv" -o "$T/out.pem" "$T/renew.csv"
ok "nothing is written after a wrong passphrase (no ledger, no output)" \
    sh -c "test ! -e '$T/ledger.csv' && test ! -e '$T/out.pem'"
exit_is 65 "a CA key that is not the CA certificate's is refused" sign-batch renew --ca-cert "$T/ca.pem" \
    --ca-key "$T/other/ca-plain.key" --old-certs "$T/old" "$T/renew.csv"
exit_is 64 "renew without --old-certs is a usage error" sb "$T/renew.csv"
exit_is 64 "--extend-months above 36 is refused (Nghị định 68/2024 Điều 9)" sb --old-certs "$T/old" --extend-months 37 "$T/renew.csv"

ok "renew a batch" sb --old-certs "$T/old" --ledger "$T/ledger.csv" --manifest "$T/manifest.csv" \
    --rejects "$T/rejects.csv" -o "$T/update.pem" "$T/renew.csv"
like "$(cat "$T/.err")" "sign-batch: 8 in, 2 out, 6 rejected" "the summary counts 8 in = 2 out + 6 rejected"
is "$(grep -c 'BEGIN CERTIFICATE' "$T/update.pem")" 2 "the update file holds the two renewed certificates"

csplit -s -z -f "$T/new" "$T/update.pem" '/BEGIN CERTIFICATE/' '{*}'
ok "openssl verify accepts the first renewed certificate" openssl verify -CAfile "$T/ca.pem" "$T/new00"
ok "openssl verify accepts the second renewed certificate" openssl verify -CAfile "$T/ca.pem" "$T/new01"
is "$(openssl x509 -in "$T/new00" -noout -pubkey)" "$(openssl x509 -in "$T/old/0A1B2C3D4E5F6071.pem" -noout -pubkey)" \
    "the renewed certificate keeps the old public key"
is "$(openssl x509 -in "$T/new00" -noout -subject -nameopt utf8)" \
    "$(openssl x509 -in "$T/old/0A1B2C3D4E5F6071.pem" -noout -subject -nameopt utf8)" \
    "the renewed certificate keeps the old subject"
newserial=$(openssl x509 -in "$T/new00" -noout -serial | cut -d= -f2)
ok "the renewed certificate has a new serial" test "$newserial" != 0A1B2C3D4E5F6071
like "$newserial" '^[0-9A-F]{32}$' "the new serial is 16 random bytes (at least 64 bits of entropy)"
old_end=$(openssl x509 -in "$T/old/0A1B2C3D4E5F6071.pem" -noout -enddate | cut -d= -f2)
want=$(plus_months "$old_end" 36)
got=$(date -d "$(openssl x509 -in "$T/new00" -noout -enddate | cut -d= -f2)" +%s)
is "$got" "$want" "notAfter is the old notAfter plus 36 months"
ok "the old e-mail stays in subjectAltName" sh -c \
    "openssl x509 -in '$T/new00' -noout -ext subjectAltName | grep -q 'email:old@lamdong.gov.vn'"
ext=$(openssl x509 -in "$T/new00" -noout -text)
like "$ext" "Subject Key Identifier" "the renewed certificate has subjectKeyIdentifier"
like "$ext" "Authority Key Identifier" "the renewed certificate has authorityKeyIdentifier"
like "$ext" "Digital Signature, Non Repudiation" "key usage is digitalSignature and nonRepudiation"

is "$(csv_col "$T/rejects.csv" request_id | tr '\n' ' ')" "GH-003 GH-004 GH-005 GH-006 GH-007 GH-008 " \
    "the rejects are the six requests that cannot be renewed"
like "$(grep '^GH-003' "$T/rejects.csv")" "days of validity left.*at least 60" "fewer than 60 days left is rejected (Nghị định 130/2018 Điều 63)"
like "$(grep '^GH-004' "$T/rejects.csv")" "no certificate with serial DEADBEEF" "an unknown old serial is rejected"
like "$(grep '^GH-005' "$T/rejects.csv")" "not issued by this CA" "a certificate of another CA is rejected"
like "$(grep '^GH-006' "$T/rejects.csv")" "use sign-batch issue" "an issue request in a renewal batch is rejected"
like "$(grep '^GH-007' "$T/rejects.csv")" ",old_serial," "a missing old serial is rejected naming the column"
like "$(grep '^GH-008' "$T/rejects.csv")" "asked for twice.*line 2" "the same certificate twice in a batch: the second is rejected"
is "$(csv_col "$T/rejects.csv" reject_line | tr '\n' ' ')" "4 5 6 7 8 9 " "rejects carry the input line numbers"

is "$(csv_col "$T/manifest.csv" serial | head -1)" "$newserial" "the manifest gives the new serial"
is "$(csv_col "$T/ledger.csv" request_id | tr '\n' ' ')" "GH-001 GH-002 " "the ledger has one line per renewed certificate"
is "$(csv_col "$T/ledger.csv" old_serial | head -1)" "0A1B2C3D4E5F6071" "the ledger names the old serial"
fp=$(openssl x509 -in "$T/new00" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d :)
is "$(csv_col "$T/ledger.csv" sha256 | head -1)" "$fp" "the ledger's sha256 is the certificate's fingerprint"

ok "running the same batch again" sb --old-certs "$T/old" --ledger "$T/ledger.csv" \
    --rejects "$T/rejects2.csv" -o "$T/update2.pem" "$T/renew.csv"
like "$(cat "$T/.err")" "8 in, 2 out, 6 rejected" "a re-run writes the whole batch again: the two renewed are out"
like "$(cat "$T/.err")" "GH-001 was already issued as serial $newserial.*not issued twice" "the re-run names the serial issued before"
is "$(csv_col "$T/ledger.csv" request_id | wc -l | tr -d ' ')" 2 "the ledger did not grow"
is "$(openssl crl2pkcs7 -nocrl -certfile "$T/update2.pem" | openssl pkcs7 -print_certs -noout | grep subject | sort)" \
    "$(openssl crl2pkcs7 -nocrl -certfile "$T/update.pem" | openssl pkcs7 -print_certs -noout | grep subject | sort)" \
    "the re-run's update file holds the same certificates as the first run's"
is "$(openssl x509 -in "$T/update2.pem" -noout -fingerprint -sha256)" "$(openssl x509 -in "$T/new00" -noout -fingerprint -sha256)" \
    "the same certificate, byte for byte: nothing was issued twice"

cp "$T/new00" "$T/old/renewed.pem"
printf 'request_id,old_serial\nGH-101,%s\nGH-102,0A1B2C3D4E5F6071\n' "$newserial" >"$T/again.csv"
ok "a second renewal batch" sb --old-certs "$T/old" --ledger "$T/ledger.csv" --rejects "$T/rejects3.csv" \
    -o "$T/again.pem" "$T/again.csv"
like "$(grep '^GH-101' "$T/rejects3.csv")" "itself a renewal.*only once" "a renewed certificate cannot be renewed again"
like "$(grep '^GH-102' "$T/rejects3.csv")" "already renewed \\(request GH-001\\)" "a certificate renewed before cannot be renewed again"
exit_is 65 "--strict turns any reject into exit 65" sb --strict --old-certs "$T/old" -o "$T/strict.pem" "$T/renew.csv"

printf 'request_id,old_serial,validity_months\nGH-201,1122334455667788,37\nGH-202,2233445566778899,12\n' >"$T/months.csv"
ok "rows may ask for fewer months" sb --old-certs "$T/old-bundle.pem" --rejects "$T/rej-m.csv" -o "$T/m.pem" "$T/months.csv"
like "$(grep '^GH-201' "$T/rej-m.csv")" "at most 36 months" "a row asking 37 months is rejected"
old_end=$(openssl x509 -in "$T/old/2233445566778899.pem" -noout -enddate | cut -d= -f2)
want=$(plus_months "$old_end" 12)
got=$(date -d "$(openssl x509 -in "$T/m.pem" -noout -enddate | cut -d= -f2)" +%s)
is "$got" "$want" "validity_months 12 extends by 12 months (old certificates from a bundle file)"

# A CA that expires in 500 days: the renewal stops at its notAfter.
mkdir "$T/short" && (T=$T/short; make_ca >/dev/null 2>&1
    openssl req -new -x509 -config "$T/ca.cnf" -extensions ca_ext -key "$T/ca-plain.key" -days 500 -sha256 -out "$T/ca.pem"
    make_old_cert 7777 "Đỗ Văn Giang" 400) >/dev/null 2>&1
printf 'request_id,old_serial\nGH-301,7777\n' >"$T/short.csv"
ok "renewal under a CA that expires sooner" sign-batch renew --ca-cert "$T/short/ca.pem" --ca-key "$T/short/ca-plain.key" \
    --old-certs "$T/short/old" -o "$T/short.pem" "$T/short.csv"
is "$(openssl x509 -in "$T/short.pem" -noout -enddate)" "$(openssl x509 -in "$T/short/ca.pem" -noout -enddate)" \
    "the renewed certificate never outlives the CA certificate"

done_testing
