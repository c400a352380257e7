#!/bin/sh
# Effective from publication (Quyết định 1924/QĐ-BQP, step 4): given the
# issuance ledger, split-updates says in its manifest (cert_status) that a
# certificate issued but not yet published is not_yet_effective, the way
# scan-expiry does, after not_yet_valid in the order of statuses; it is
# still filed for its holder (the device is handed over before the
# certificate is published).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ca.sh"
. "$(dirname "$0")/publish-fixture.sh"

make_published_fixture || echo "# fixture failed"
# One more issued certificate that starts only in 2027, also in the ledger
# and not published: not yet valid comes before not yet effective.
issue "$T/ca" later 20270101000000Z 20300101000000Z 2B00 \
    "/C=VN/O=Sở Nội vụ tỉnh Lâm Đồng/CN=Phạm Văn Sau/emailAddress=sau.pv@lamdong.gov.vn" || echo "# issue failed"
cat "$T/ca/later.pem" >>"$T/issued.pem"
echo "CB-04,issue,,2B00,CN=Phạm Văn Sau,2030-01-01T07:00:00+07:00,,2026-02-11T10:00:00+07:00" >>"$T/ledger.csv"
is "$(openssl crl2pkcs7 -nocrl -certfile "$T/issued.pem" | openssl pkcs7 -print_certs -noout |
      grep -c '^subject=')" "4" "(the update file holds four certificates, as openssl reads it)"

printf 'request_id,agency,handed_over_date,received_date\nCB-01,Sở Nội vụ tỉnh Lâm Đồng,12/02/2026,13/02/2026\n' >"$T/req.csv"
ok "CB-01 (1A2B) is published at 09:00 on 23/2/2026" publish --ledger "$T/ledger.csv" --issued "$T/issued.pem" \
    --out "$T/www" --as-of 2026-02-23T09:00:00+07:00 -o /dev/null "$T/req.csv"

cat >"$T/pending.csv" <<'EOF'
request_id,full_name,email,agency
CB-01,Nguyễn Thị Hoà,hoa.nt@lamdong.gov.vn,Sở Nội vụ tỉnh Lâm Đồng
CB-02,Trần Văn Bảo,bao.tv@lamdong.gov.vn,Sở Tài chính tỉnh Lâm Đồng
CB-03,Đặng Đức Thuỷ,thuy.dd@lamdong.gov.vn,Sở Nội vụ tỉnh Lâm Đồng
CB-04,Phạm Văn Sau,sau.pv@lamdong.gov.vn,Sở Nội vụ tỉnh Lâm Đồng
EOF
split() {  # AS-OF DIR [more options]: the manifest on stdout
    _asof=$1 _dir=$2; shift 2
    split-updates --out "$_dir" --ca "$T/ca/ca.pem" --requests "$T/pending.csv" --as-of "$_asof" "$@" "$T/issued.pem"
}
states() {  # MANIFEST: serial=status/cert_status
    mlr --icsv --onidx --ofs = put -q 'print $serial . "=" . $status . "/" . $cert_status' "$1" | tr '\n' ' '
}
split 2026-03-01 "$T/out" --ledger "$T/ledger.csv" >"$T/m.csv" 2>"$T/m.err"
is "$(states "$T/m.csv")" "1A2B=delivered/valid 1A2C=delivered/not_yet_effective 1A2D=delivered/not_yet_effective 2B00=delivered/not_yet_valid " \
   "on 1/3/2026 the published one is valid, the two unpublished not_yet_effective, the one starting in 2027 not_yet_valid; all four are filed"
like "$(cat "$T/m.err")" "4 in, 4 out, 0 rejected" "not yet effective is no reject"
is "$(find "$T/out" -name '*.pem' | wc -l | tr -d ' ')" "4" "four files are written for their holders"
is "$(head -n 1 "$T/m.csv" | tr ',' '\n' | tail -n 1)" "cert_status" "cert_status is the manifest's last column"

# The day of publication: effective at some time of that day.
split 2026-02-23 "$T/out23" --ledger "$T/ledger.csv" >"$T/m23.csv" 2>/dev/null
is "$(states "$T/m23.csv" | cut -d' ' -f1)" "1A2B=delivered/valid" "on 23/2, the day it was published, 1A2B is effective"
split 2026-02-22 "$T/out22" --ledger "$T/ledger.csv" >"$T/m22.csv" 2>/dev/null
is "$(states "$T/m22.csv" | cut -d' ' -f1)" "1A2B=delivered/not_yet_effective" "on 22/2, the day before, it is not yet"

# The same verdicts as scan-expiry's, which reads the same ledger.
want=$(scan-expiry --ledger "$T/ledger.csv" --all --as-of 2026-03-01 "$T/issued.pem" 2>/dev/null |
       mlr --icsv --onidx --ofs = cut -o -f serial,status | tr '\n' ' ')
is "$(mlr --icsv --onidx --ofs = cut -o -f serial,cert_status "$T/m.csv" | tr '\n' ' ')" "$want" \
   "each certificate's cert_status is the status scan-expiry gives it"

split 2026-03-01 "$T/out0" >"$T/m0.csv" 2>/dev/null
is "$(states "$T/m0.csv")" "1A2B=delivered/valid 1A2C=delivered/valid 1A2D=delivered/valid 2B00=delivered/not_yet_valid " \
   "without --ledger nothing is judged by publication"

split 2026-03-01 "$T/out" --ledger "$T/ledger.csv" >"$T/m2.csv" 2>/dev/null
is "$(states "$T/m2.csv")" "1A2B=unchanged/valid 1A2C=unchanged/not_yet_effective 1A2D=unchanged/not_yet_effective 2B00=unchanged/not_yet_valid " \
   "run twice: the files are there already (unchanged), the same cert_status"

: >"$T/empty.pem"
split-updates --out "$T/out-e" --ca "$T/ca/ca.pem" --ledger "$T/ledger.csv" --as-of 2026-03-01 "$T/empty.pem" >"$T/me.csv" 2>"$T/me.err"
is "$?:$(cat "$T/me.csv")" "0:$(head -n 1 "$T/m.csv")" "an empty update file with --ledger: exit 0, the manifest's header only"

exit_is 66 "a missing ledger is 66" split 2026-03-01 "$T/out-x" --ledger "$T/nope.csv"
like "$(cat "$T/.err")" "nope.csv" "naming it"
ok "--help lists --ledger" sh -c "split-updates --help | grep -q -- '--ledger FILE'"
done_testing
