#!/bin/sh
# split-updates: names in the data never act as paths. Slashes, "..",
# newlines, control characters and very long names all stay inside DIR as one
# safe file-name component each; Vietnamese letters are kept.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/split-updates-fixture.sh"
su_ca ca "Test CA"
su_holder h6 "Ngô Sáu" sau@a.gov.vn
su_holder h7 "Đỗ Bảy" bay@a.gov.vn
su_holder h8 "Vũ Tám" tam@a.gov.vn
su_holder h9 '..\/..\/..\/tmp\/evil' evil@a.gov.vn   # "/" escaped for -subj
mkdir -p "$T/old" "$T/work"
for i in 6 7 8; do su_cert h$i ca 0x100$i 30 "$T/old/h$i.pem"; su_cert h$i ca 0x200$i 365 "$T/new-h$i.pem"; done
su_cert h9 ca 0x2009 365 "$T/new-h9.pem"
cat "$T"/new-h*.pem >"$T/update.pem"
long=$(printf 'Ủy ban nhân dân xã %.0s' $(seq 1 20))      # 20 x 19 characters
longname=$(printf 'Nguyễn %.0s' $(seq 1 50))               # 350 characters
{
    echo "request_id,full_name,email,agency,old_serial"
    echo "R6,../../passwd,sau@a.gov.vn,../../etc,1006"
    printf 'R7,"Đỗ\tBảy\001",bay@a.gov.vn,"Phòng\nKế toán / Tài vụ",1007\n'
    echo "R8,$longname,tam@a.gov.vn,$long,1008"
} >"$T/requests.csv"

touch "$T/work/marker"
(cd "$T/work" && split-updates -q --out out --ca "$T/ca.pem" --requests "$T/requests.csv" --old-certs "$T/old" \
    "$T/update.pem" >"$T/manifest.csv" 2>"$T/err")
is "$?" 0 "(the run succeeds)"
is "$(find "$T" -newer "$T/work/marker" -type f ! -path "$T/work/out/*" ! -name manifest.csv ! -name err | wc -l | tr -d ' ')" 0 \
    "no file is written outside DIR"
ok "an agency named ../../etc becomes the folder 'etc' inside DIR" test -f "$T/work/out/etc/passwd-2006.pem"
ok "a holder with a tab and a control character, an agency with a newline and a slash: one plain folder and file" \
    test -f "$T/work/out/phòng-kế-toán-tài-vụ/Đỗ-Bảy-2007.pem"
ok "a certificate whose CN is ../../../tmp/evil stays in DIR/_unmatched" test -f "$T/work/out/_unmatched/tmp-evil-2009.pem"
ok "(nothing at /tmp/evil-2009.pem)" test ! -e /tmp/evil-2009.pem
f8=$(find "$T/work/out" -name '*-2008.pem')
ok "the 350-character name gives a file inside DIR" test -n "$f8"
maxlen=$(find "$T/work/out" -mindepth 1 | while IFS= read -r p; do basename "$p" | LC_ALL=C wc -c; done | sort -n | tail -1)
ok "every folder and file name is short enough for the file system (at most 255 bytes): $maxlen" test "$maxlen" -le 255
is "$(find "$T/work/out" -mindepth 1 | grep -c '[[:cntrl:]]')" 0 "no path has a control character"
is "$(find "$T/work/out" -mindepth 1 | sed "s|^$T/work/out/||" | grep -c -e '^\.' -e '/\.')" 0 "no name starts with a dot"
is "$(find "$T/work/out" -mindepth 2 -maxdepth 2 -type d | wc -l | tr -d ' ')" 0 "no deeper folders: DIR/<agency>/<file> only"
is "$(mlr --icsv --onidx filter '$request_id == "R8"' then cut -f path "$T/manifest.csv" | wc -l | tr -d ' ')" 1 \
    "the manifest gives the long holder's path"

# A folder replaced by a link must not lead outside DIR.
mkdir -p "$T/elsewhere" "$T/w2/out"
ln -s "$T/elsewhere" "$T/w2/out/etc"
(cd "$T/w2" && split-updates -q --out out --ca "$T/ca.pem" --requests "$T/requests.csv" --old-certs "$T/old" \
    "$T/new-h6.pem" >"$T/m2.csv" 2>"$T/err2")
is "$(ls "$T/elsewhere" | wc -l | tr -d ' ')" 0 "an agency folder that is a symbolic link is not written through"
like "$(cat "$T/err2")" "not a directory" "... and the run says why"
done_testing
