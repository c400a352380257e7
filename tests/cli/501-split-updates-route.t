#!/bin/sh
# split-updates: renewed certificates reach the right agency and holder, by
# the old certificate's public key or by e-mail and name; the manifest lists
# every certificate once, and the requests that got nothing back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/split-updates-fixture.sh"
su_standard
OUT=$T/out
split-updates --out "$OUT" --ca "$T/ca.pem" --requests "$T/requests.csv" --old-certs "$T/old" \
    -o "$T/manifest.csv" "$T/update.pem" 2>"$T/err"
is "$?" 0 "a clean update file is routed with exit status 0"

s1=$(su_serial "$T/new-h1.pem"); s3=$(su_serial "$T/new-h3.pem"); s5=$(su_serial "$T/new-h5.pem")
is "$s1" 2001 "(the openssl CLI prints the renewed serial as 2001)"
f1="$OUT/sở-tài-chính/Nguyễn-Văn-An-2001.pem"
ok "An's renewed certificate is in the folder of Sở Tài chính (its agency key) under his name and serial" test -f "$f1"
is "$(cat "$f1")" "$(openssl x509 -in "$T/new-h1.pem")" "the delivered file is the certificate openssl issued, byte for byte"
ok "Bình's (old serial typed as 10:02, agency typed SỞ TÀI CHÍNH) is in the same folder" test -f "$OUT/sở-tài-chính/Trần-Thị-Bình-2002.pem"
ok "Cường's is in the folder of Sở Y tế" test -f "$OUT/sở-y-tế/Lê-Văn-Cường-$s3.pem"
ok "Em's new certificate (no old one) is found by e-mail and name, case aside; Sở GD&ĐT is Sở Giáo dục và Đào tạo" \
    test -f "$OUT/sở-giáo-dục-và-đào-tạo/HOÀNG-VĂN-EM-$s5.pem"
is "$(find "$OUT" -type f | wc -l | tr -d ' ')" 4 "exactly four files are written, nothing else"
is "$(find "$OUT" -name '.*' | wc -l | tr -d ' ')" 0 "no temporary file is left behind"

is "$(mlr --icsv --onidx --ofs , cut -o -f request_id,serial,status,matched_by "$T/manifest.csv")" \
"R1,2001,delivered,public_key
R2,2002,delivered,public_key
R3,2003,delivered,public_key
R5,2005,delivered,email_name
R4,,missing," "the manifest says which request each certificate answers, and how it was matched"
is "$(mlr --icsv --onidx cut -f path then filter '$path != ""' "$T/manifest.csv" | while read -r p; do test -f "$p" && echo y; done | wc -l | tr -d ' ')" 4 \
    "every path in the manifest names a file that exists"
na=$(openssl x509 -in "$T/new-h1.pem" -noout -enddate -dateopt iso_8601 | sed 's/notAfter=//')
want=$(TZ=Asia/Ho_Chi_Minh date -d "$(echo "$na" | sed 's/Z$/ UTC/')" +%Y-%m-%dT%H:%M:%S+07:00)
is "$(mlr --icsv --onidx filter '$request_id == "R1"' then cut -f not_after "$T/manifest.csv")" "$want" \
    "not_after is the certificate's expiry in Vietnam time"
is "$(mlr --icsv --onidx filter '$request_id == "R2"' then cut -o -f agency,email "$T/manifest.csv")" \
    "SỞ TÀI CHÍNH binh.tt@stc.lamdong.gov.vn" "agency and e-mail come from the request, for notify"
like "$(cat "$T/err")" "split-updates: 4 in, 4 out, 0 rejected" "the summary line counts four in, four out"
like "$(cat "$T/err")" "1 of 5 requests got no certificate back" "the request with no certificate is reported"

# Without the old certificates, renewals are matched by e-mail and name.
split-updates -q --out "$T/out2" --ca "$T/ca.pem" --requests "$T/requests.csv" <"$T/update.pem" >"$T/m2.csv"
is "$(mlr --icsv --onidx --ofs , cut -o -f request_id,status,matched_by "$T/m2.csv" | head -4)" \
"R1,delivered,email_name
R2,delivered,email_name
R3,delivered,email_name
R5,delivered,email_name" "without --old-certs the same requests are found by e-mail and name (stdin input)"

# --format both: a .cer (DER) next to each .pem.
split-updates -q --format both --out "$T/out3" --ca "$T/ca.pem" --requests "$T/requests.csv" \
    --old-certs "$T/old" "$T/update.pem" >/dev/null
openssl x509 -in "$T/new-h3.pem" -outform DER -out "$T/h3.der"
ok "--format both writes the DER copy openssl would write" cmp "$T/h3.der" "$T/out3/sở-y-tế/Lê-Văn-Cường-2003.cer"
ok "... and the PEM one" test -f "$T/out3/sở-y-tế/Lê-Văn-Cường-2003.pem"
split-updates -q --format der --out "$T/out4" --ca "$T/ca.pem" --requests "$T/requests.csv" "$T/update.pem" >"$T/m4.csv"
is "$(find "$T/out4" -name '*.pem' | wc -l | tr -d ' ')" 0 "--format der writes no PEM files"
is "$(mlr --icsv --onidx filter '$request_id == "R3"' then cut -f path "$T/m4.csv")" "$T/out4/sở-y-tế/Lê-Văn-Cường-2003.cer" \
    "--format der puts the .cer path in the manifest"

# A bundle with text between the blocks and a private key is still read.
{ echo "Bundle returned on 2026-11-20"; cat "$T/new-h1.pem"; cat "$T/h1.key"; echo junk; cat "$T/new-h2.pem"; } >"$T/mixed.pem"
split-updates -q --out "$T/out5" --ca "$T/ca.pem" --requests "$T/requests.csv" --old-certs "$T/old" "$T/mixed.pem" >"$T/m5.csv"
is "$(mlr --icsv --onidx --ofs , filter '$status != "missing"' then cut -o -f request_id,status "$T/m5.csv")" \
"R1,delivered
R2,delivered" "text and other PEM blocks between certificates are ignored"

# A tone mark typed the old way in the certificate ("Thuỷ") and the new way
# in the form ("Thủy"): the same name.
su_holder h6 "Nguyễn Thị Thuỷ" thuy.nt@stc.lamdong.gov.vn
su_cert h6 ca 0x2006 1095 "$T/new-h6.pem"
printf 'request_id,full_name,email,agency\nR6,Nguyễn Thị Thủy,thuy.nt@stc.lamdong.gov.vn,Sở Tài chính\n' >"$T/r6.csv"
split-updates -q --out "$T/out6" --ca "$T/ca.pem" --requests "$T/r6.csv" "$T/new-h6.pem" >"$T/m6.csv"
is "$(mlr --icsv --onidx --ofs , cut -o -f request_id,status "$T/m6.csv")" "R6,delivered" \
    "Thuỷ in the certificate matches Thủy in the form"
done_testing
