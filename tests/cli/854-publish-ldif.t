#!/bin/sh
# publish: directory.ldif loads into a real OpenLDAP server (slapadd into a
# throw-away database, slapd on 127.0.0.1), and ldapsearch finds each holder
# by mail with the certificate that was issued.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ca.sh"
. "$(dirname "$0")/publish-fixture.sh"
. "$(dirname "$0")/slapd.sh"

if ! command -v slapd >/dev/null 2>&1 && [ ! -x /usr/sbin/slapd ]; then
    echo "1..0 # SKIP slapd is not installed"
    exit 0
fi
PATH=$PATH:/usr/sbin
make_published_fixture || echo "# fixture failed"
cat >"$T/req.csv" <<'CSV'
request_id,agency,handed_over_date,received_date
CB-01,Sở Nội vụ tỉnh Lâm Đồng,12/02/2026,13/02/2026
CB-02,Sở Tài chính tỉnh Lâm Đồng,12/02/2026,13/02/2026
CB-03,Sở Nội vụ tỉnh Lâm Đồng,12/02/2026,13/02/2026
CSV
ok "publish three certificates" publish --ledger "$T/ledger.csv" --issued "$T/issued.pem" \
    --out "$T/www" --as-of 2026-02-23T09:00:00+07:00 --ldap-base ou=certificates,dc=ca,dc=gov,dc=vn "$T/req.csv"
ok "a throw-away slapd database" slapd_init "$T/ldap" dc=ca,dc=gov,dc=vn
ok "slapadd loads directory.ldif" slapd_load "$T/ldap" "$T/www/directory.ldif"
ok "slapd starts on 127.0.0.1" slapd_start "$T/ldap"

# value ATTR: the first value of ATTR in ldapsearch's LDIF on stdin, decoded
value() {
    python3 -c '
import sys, base64
a = sys.argv[1]
for line in sys.stdin.read().split("\n"):
    if line.startswith(a + ":: "):
        sys.stdout.buffer.write(base64.b64decode(line[len(a) + 3:])); break
    if line.startswith(a + ": "):
        sys.stdout.buffer.write(line[len(a) + 2:].encode()); break' "$1"
}
for who in hoa:hoa.nt@lamdong.gov.vn:"Nguyễn Thị Hoà" bao:bao.tv@lamdong.gov.vn:"Trần Văn Bảo" \
    duc:thuy.dd@lamdong.gov.vn:"Đặng Đức Thuỷ"; do
    name=${who%%:*} rest=${who#*:}
    mail=${rest%%:*} cn=${rest#*:}
    ldapsearch -x -LLL -o ldif-wrap=no -H "$SLAPD_URL" -b dc=ca,dc=gov,dc=vn "(mail=$mail)" >"$T/$name.ldif" 2>"$T/.err"
    is "$(value cn <"$T/$name.ldif")" "$cn" "ldapsearch finds $cn by mail"
    value 'userCertificate;binary' <"$T/$name.ldif" >"$T/$name.der"
    openssl x509 -in "$T/ca/$name.pem" -outform DER -out "$T/$name.want"
    ok "and the directory holds the certificate issued to $cn" cmp "$T/$name.der" "$T/$name.want"
done
is "$(value o <"$T/bao.ldif")" "Sở Tài chính tỉnh Lâm Đồng" "the entry names the agency (o)"
is "$(value title <"$T/bao.ldif")" "Phó Giám đốc" "and the position (title)"
is "$(ldapsearch -x -LLL -H "$SLAPD_URL" -b ou=certificates,dc=ca,dc=gov,dc=vn -s one '(objectClass=inetOrgPerson)' dn | grep -c '^dn')" 3 \
    "one entry per holder"
done_testing
