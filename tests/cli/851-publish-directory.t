#!/bin/sh
# publish: certificates issued by sign-batch are published into a public
# directory once the managing agency asks; the files are checked with the
# openssl CLI, Python's csv and json, and Miller.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-batch-fixture.sh"

make_ca
TODAY=$(TZ=UTC-7 date +%Y-%m-%d)
H=request_id,form,full_name,birth_date,id_number,position,agency,org_name,province,email,phone,confirmed_by,received_date,request_type,subject_type
cat >"$T/issue.csv" <<CSV
$H
CB-01,01,Nguyễn Thị Hoà,1990-05-01,068190000123,Chuyên viên,Sở Nội vụ tỉnh Lâm Đồng,,Lâm Đồng,hoa.nt@lamdong.gov.vn,0912345678,Giám đốc Sở,$TODAY,issue,individual
CB-02,02,Trần Văn <Bảo> & Co,1985-01-02,068085000456,Phó Giám đốc,"Sở Tài chính, tỉnh Lâm Đồng",,Lâm Đồng,bao.tv@lamdong.gov.vn,0987654321,Giám đốc Sở,$TODAY,issue,individual
CB-03,01,Đặng Văn Đức,1990-05-01,068190000995,Chuyên viên,Sở Nội vụ tỉnh Lâm Đồng,,Lâm Đồng,duc.dv@lamdong.gov.vn,0912345678,Giám đốc Sở,$TODAY,issue,individual
CB-04,01,Lê Thị Chưa,1990-05-01,068190000996,Chuyên viên,Sở Nội vụ tỉnh Lâm Đồng,,Lâm Đồng,chua.lt@lamdong.gov.vn,0912345678,Giám đốc Sở,$TODAY,issue,individual
CSV
sign-batch issue --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" --pass-file "$T/ca-pass.txt" \
    --key-alg ec-p256 --key-dir "$T/keys" --ledger "$T/ledger.csv" -q -o "$T/issued.pem" "$T/issue.csv" ||
    echo "# sign-batch failed"
cp "$T/ledger.csv" "$T/ledger.before"

cat >"$T/req.csv" <<CSV
request_id,agency,handed_over_date,received_date
CB-01,Sở Nội vụ tỉnh Lâm Đồng,$TODAY,$TODAY
CB-02,"SỞ TÀI CHÍNH, TỈNH LÂM ĐỒNG",$TODAY,$TODAY
CB-03,Sở Nội vụ tỉnh Lâm Đồng,$TODAY,$TODAY
CB-09,Sở Nội vụ tỉnh Lâm Đồng,$TODAY,$TODAY
CB-04,Sở Tài chính tỉnh Lâm Đồng,$TODAY,$TODAY
CSV
pub() { publish --ledger "$T/ledger.csv" --issued "$T/issued.pem" --out "$T/www" "$@"; }

exit_is 64 "publish without --out is a usage error" publish --ledger "$T/ledger.csv" --issued "$T/issued.pem" "$T/req.csv"
exit_is 66 "a missing issuance ledger is 66" publish --ledger "$T/nope.csv" --issued "$T/issued.pem" --out "$T/www" "$T/req.csv"
ok "--help lists every option" sh -c "publish --help | grep -q -- --ldap-base && publish --help | grep -q -- --published"
ok "publish the requests" pub --rejects "$T/rej.csv" -o "$T/published.csv" "$T/req.csv"
like "$(cat "$T/.err")" "publish: 5 in, 3 out, 2 rejected \\(" "the summary counts 5 in = 3 out + 2 rejected"
is "$(csv_col "$T/rej.csv" request_id | tr '\n' ' ')" "CB-09 CB-04 " "an unknown request and one asked by another agency are rejected"
like "$(grep '^CB-04' "$T/rej.csv")" "belongs to Sở Nội vụ tỉnh Lâm Đồng" "the reject says whose certificate it is"
is "$(csv_col "$T/published.csv" request_id | tr '\n' ' ')" "CB-01 CB-02 CB-03 " "the published requests are listed for notify"
is "$(csv_col "$T/published.csv" late | sort -u)" "no" "published the day the request came: not late"
ok "the issuance ledger is not changed" cmp "$T/ledger.before" "$T/ledger.csv"
ok "the publication ledger is beside it" test -s "$T/ledger-published.csv"
eff=$(csv_col "$T/published.csv" effective_at | head -1)
like "$eff" "^${TODAY}T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\\+07:00$" "effective_at is the publication instant, Vietnam time"
is "$(csv_col "$T/ledger-published.csv" effective_at | head -1)" "$eff" "the publication ledger records effective_at"

# The DER and PEM files are the certificates sign-batch issued.
csplit -s -z -f "$T/c" "$T/issued.pem" '/BEGIN CERTIFICATE/' '{*}'
for f in "$T"/c0*; do
    s=$(openssl x509 -in "$f" -noout -serial | cut -d= -f2)
    openssl x509 -in "$f" -outform DER -out "$T/want.der"
    case $f in
    *c03) ok "a certificate not asked for is not published" test ! -e "$T/www/certs/$s.cer" ;;
    *)
        ok "certs/$s.cer is the issued certificate in DER" cmp "$T/want.der" "$T/www/certs/$s.cer"
        is "$(openssl x509 -in "$T/www/certs/$s.pem" -noout -fingerprint -sha256)" \
            "$(openssl x509 -in "$f" -noout -fingerprint -sha256)" "certs/$s.pem is the same certificate"
        ok "certs/$s.html is its page" grep -q "href=\"$s.cer\"" "$T/www/certs/$s.html"
        ;;
    esac
done

# index.csv and index.json, read with Python.
cat >"$T/check.py" <<'PY'
import csv, json, sys, subprocess
d = sys.argv[1]
rows = list(csv.DictReader(open(d + '/index.csv', encoding='utf-8')))
js = json.load(open(d + '/index.json', encoding='utf-8'))
assert js['count'] == len(rows) == len(js['certificates']), 'counts'
for r, j in zip(rows, js['certificates']):
    for k in ('serial', 'holder', 'agency', 'sha256', 'effective_at', 'not_after'):
        assert r[k] == j[k], k
    fp = subprocess.run(['openssl', 'x509', '-inform', 'DER', '-in', d + '/' + r['der'],
                         '-noout', '-fingerprint', '-sha256'], capture_output=True, text=True).stdout
    assert fp.strip().split('=')[1].replace(':', '') == r['sha256'], 'sha256 ' + r['serial']
print(' | '.join(r['holder'] for r in rows))
PY
is "$(python3 "$T/check.py" "$T/www" 2>&1)" "Đặng Văn Đức | Nguyễn Thị Hoà | Trần Văn <Bảo> & Co" \
    "index.csv and index.json agree, digests match openssl, grouped by agency then name"

html=$(cat "$T/www/index.html")
like "$html" "Trần Văn &lt;Bảo&gt; &amp; Co" "a name with < and & is escaped in the page"
ok "no raw markup from a name" sh -c "! grep -q '<Bảo>' '$T/www/index.html' '$T/www/certs/'*.html"
like "$html" '<html lang="vi">' "the page is in Vietnamese"
like "$html" "<h2>Sở Nội vụ tỉnh Lâm Đồng</h2>" "one group per agency"
like "$html" 'data-key="dang van duc chuyen vien so noi vu' "each row carries its text without tone marks for the search"

# Publishing twice is a no-op.
ino=$(stat -c %i "$T/www")
cp "$T/ledger-published.csv" "$T/pubs.before"
ok "publish the same requests again" pub -o "$T/again.csv" "$T/req.csv"
like "$(cat "$T/.err")" "5 in, 0 out, 2 rejected, 3 filtered" "already published requests are filtered"
ok "the publication ledger is unchanged" cmp "$T/pubs.before" "$T/ledger-published.csv"
is "$(stat -c %i "$T/www")" "$ino" "the directory is not rebuilt"
is "$(wc -l <"$T/again.csv")" 1 "nothing is listed as published"

# A later request is published; the old directory is swapped out whole.
printf 'request_id,agency,handed_over_date,received_date\nCB-04,Sở Nội vụ tỉnh Lâm Đồng,%s,%s\n' "$TODAY" "$TODAY" >"$T/req2.csv"
ok "publish one more" pub -o "$T/p2.csv" "$T/req2.csv"
is "$(csv_col "$T/www/index.csv" serial | wc -l)" 4 "the directory lists all four"
ok "no building directory is left beside it" sh -c "! ls -a '$T' | grep -q building"
is "$(csv_col "$T/ledger-published.csv" effective_at | head -1)" "$eff" "an earlier effective_at is kept"

# Empty input, a crash before the swap, and the lock.
echo 'request_id,agency,handed_over_date,received_date' >"$T/empty.csv"
ok "a request file with no requests publishes nothing" pub -o "$T/e.csv" "$T/empty.csv"
like "$(cat "$T/.err")" "0 in, 0 out, 0 rejected" "and says so"
rm -rf "$T/www"
ok "a lost directory is rebuilt from the publication ledger" pub -o "$T/e.csv" "$T/empty.csv"
ok "with every certificate" test "$(ls "$T/www/certs" | grep -c '\.cer$')" = 4
mkdir "$T/.www.building" && echo junk >"$T/.www.building/x"
printf 'x' >>"$T/ledger-published.csv"
ok "a re-run after a crash mid-build" pub -o "$T/e.csv" "$T/req.csv"
ok "the torn line of the crash is gone" sh -c "tail -c 1 '$T/ledger-published.csv' | od -c | grep -q '\\\\n'"
ok "the unfinished build is gone" test ! -e "$T/.www.building"
exit_is 75 "another run holding the publication ledger is 75" \
    flock "$T/ledger-published.csv" sh -c "publish --ledger '$T/ledger.csv' --issued '$T/issued.pem' --out '$T/www' '$T/req.csv'"
ok "--lang vi gives Vietnamese reasons" pub --lang vi "$T/req.csv"
like "$(cat "$T/.err")" "chưa được cấp chứng thư số" "the reason is in Vietnamese"
done_testing
