#!/bin/sh
# publish --ldap: the entries go into a real OpenLDAP server (a throw-away
# slapd on 127.0.0.1) through libldap, and ldapsearch reads them back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ca.sh"
. "$(dirname "$0")/publish-fixture.sh"
. "$(dirname "$0")/slapd.sh"

PATH=$PATH:/usr/sbin
if ! command -v slapd >/dev/null 2>&1; then
    echo "1..0 # SKIP slapd is not installed"
    exit 0
fi
make_published_fixture || echo "# fixture failed"
BASE=ou=certificates,dc=ca,dc=gov,dc=vn
ok "a throw-away slapd database" slapd_init "$T/ldap" dc=ca,dc=gov,dc=vn
ok "slapd starts on 127.0.0.1" slapd_start "$T/ldap"
H=request_id,agency,handed_over_date,received_date
printf '%s\nCB-01,Sở Nội vụ tỉnh Lâm Đồng,12/02/2026,13/02/2026\nCB-02,Sở Tài chính tỉnh Lâm Đồng,12/02/2026,13/02/2026\n' "$H" >"$T/r1.csv"
printf '%s\nCB-03,Sở Nội vụ tỉnh Lâm Đồng,12/02/2026,13/02/2026\n' "$H" >"$T/r2.csv"
pub() {
    publish --ledger "$T/ledger.csv" --issued "$T/issued.pem" --out "$T/www" --as-of 2026-02-23T09:00:00+07:00 \
        --ldap-base "$BASE" "$@"
}
printf 'wrong\n' >"$T/wrong.pass"
exit_is 77 "a refused bind is 77" pub --ldap "$SLAPD_URL" --ldap-bind "cn=admin,dc=ca,dc=gov,dc=vn" \
    --ldap-pass-file "$T/wrong.pass" -o /dev/null "$T/r1.csv"
like "$(cat "$T/.err")" "published on the site, but the directory: .*cannot bind" "and says the site was published"
ok "publish into the directory" pub --ldap "$SLAPD_URL" --ldap-bind "cn=admin,dc=ca,dc=gov,dc=vn" \
    --ldap-pass-file "$T/ldap/admin.pass" -o /dev/null "$T/r1.csv"
like "$(cat "$T/.err")" "2 entries added, 0 replaced" "two holders added"

search() { ldapsearch -x -LLL -o ldif-wrap=no -H "$SLAPD_URL" -b "$BASE" "$@"; }
cert_of() {  # MAIL: the DER of its userCertificate;binary
    search "(mail=$1)" 'userCertificate;binary' | sed -n 's/^userCertificate;binary:: //p' | head -1 | base64 -d
}
for p in hoa:hoa.nt@lamdong.gov.vn bao:bao.tv@lamdong.gov.vn; do
    name=${p%%:*} mail=${p#*:}
    cert_of "$mail" >"$T/$name.got"
    openssl x509 -in "$T/ca/$name.pem" -outform DER -out "$T/$name.want"
    ok "ldapsearch finds $mail with the issued certificate" cmp "$T/$name.got" "$T/$name.want"
done
like "$(search '(mail=bao.tv@lamdong.gov.vn)' title | sed -n 's/^title:: //p' | base64 -d)" "Phó Giám đốc" \
    "the entry has the holder's position"
ok "a later batch" pub --ldap "$SLAPD_URL" --ldap-bind "cn=admin,dc=ca,dc=gov,dc=vn" \
    --ldap-pass-file "$T/ldap/admin.pass" -o /dev/null "$T/r2.csv"
like "$(cat "$T/.err")" "1 entries added, 2 replaced" "adds the new holder and rewrites the others unchanged"
is "$(search '(objectClass=inetOrgPerson)' dn | grep -c '^dn')" 3 "three entries, none twice"
ok "publishing again changes nothing" pub --ldap "$SLAPD_URL" --ldap-bind "cn=admin,dc=ca,dc=gov,dc=vn" \
    --ldap-pass-file "$T/ldap/admin.pass" -o /dev/null "$T/r2.csv"
is "$(search '(objectClass=inetOrgPerson)' dn | grep -c '^dn')" 3 "still three entries"
cert_of thuy.dd@lamdong.gov.vn >"$T/duc.got"
openssl x509 -in "$T/ca/duc.pem" -outform DER -out "$T/duc.want"
ok "the later holder's certificate is there" cmp "$T/duc.got" "$T/duc.want"
exit_is 65 "a base DN the directory lacks is 65" publish --ledger "$T/ledger.csv" --issued "$T/issued.pem" \
    --out "$T/www" --ldap-base ou=nope,dc=ca,dc=gov,dc=vn --ldap "$SLAPD_URL" \
    --ldap-bind "cn=admin,dc=ca,dc=gov,dc=vn" --ldap-pass-file "$T/ldap/admin.pass" -o /dev/null "$T/r2.csv"
like "$(cat "$T/.err")" "base DN does not exist" "and says so"
kill "$SLAPD_PID"; wait "$SLAPD_PID" 2>/dev/null
exit_is 75 "a directory that cannot be reached is 75 (try again)" pub --ldap "$SLAPD_URL" \
    --ldap-bind "cn=admin,dc=ca,dc=gov,dc=vn" --ldap-pass-file "$T/ldap/admin.pass" -o /dev/null "$T/r2.csv"
done_testing
