#!/bin/sh
# split-updates: re-running on the same update file changes nothing; a
# different certificate where one is already delivered is a conflict and is
# never written over; two certificates for one request: the second is a
# duplicate; every input certificate appears exactly once in the manifest.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/split-updates-fixture.sh"
su_standard
OUT=$T/out
route() {  # manifest input...
    _m=$1; shift
    split-updates --out "$OUT" --ca "$T/ca.pem" --requests "$T/requests.csv" --old-certs "$T/old" \
        --rejects "$T/$_m.rej" -o "$T/$_m" "$@" 2>"$T/$_m.err"
}
snapshot() { (cd "$OUT" && find . | sort && find . -type f | sort | xargs sha256sum && find . -type f | sort | xargs stat -c '%n %Y %i'); }

route m1.csv "$T/update.pem"
snapshot >"$T/snap1"
sleep 1
route m2.csv "$T/update.pem"
is "$?" 0 "the re-run exits 0"
snapshot >"$T/snap2"
ok "the re-run changes no file, not even its time or inode" cmp "$T/snap1" "$T/snap2"
is "$(mlr --icsv --onidx --ofs , filter '$status != "missing"' then cut -o -f request_id,status "$T/m2.csv")" \
"R1,unchanged
R2,unchanged
R3,unchanged
R5,unchanged" "the second manifest says each certificate was already there"
like "$(cat "$T/m2.csv.err")" "4 in, 4 out, 0 rejected" "unchanged certificates count as out"

# A different certificate with the same serial for An: a conflict.
su_cert h1 ca 0x2001 700 "$T/other-h1.pem"
ok "(the other certificate really differs)" sh -c "! cmp -s '$T/other-h1.pem' '$T/new-h1.pem'"
route m3.csv "$T/other-h1.pem"
is "$?" 0 "(a conflict is a reject, not a failure)"
is "$(mlr --icsv --onidx --ofs , filter '$status != "missing"' then cut -o -f request_id,serial,status "$T/m3.csv")" \
    "R1,2001,conflict" "a different certificate where one is already delivered is a conflict"
ok "the delivered file is not overwritten" cmp "$OUT/sở-tài-chính/Nguyễn-Văn-An-2001.pem" "$T/new-h1.pem"
like "$(mlr --icsv --onidx cut -f reject_reason "$T/m3.csv.rej")" "already exists and holds another certificate" \
    "the reject says a different certificate is already there"

# Two certificates for one request in one file.
su_cert h2 ca 0x3002 1095 "$T/again-h2.pem"
cat "$T/new-h2.pem" "$T/again-h2.pem" "$T/new-h2.pem" >"$T/dup.pem"
rm -rf "$OUT"
route m4.csv "$T/dup.pem"
is "$(mlr --icsv --onidx --ofs , filter '$status != "missing"' then cut -o -f request_id,serial,status "$T/m4.csv")" \
"R2,2002,delivered
R2,3002,duplicate
R2,2002,duplicate" "the second and third certificates for Bình's request are duplicates"
ok "a duplicate is kept in DIR/_unmatched, not handed to the holder" test -f "$OUT/_unmatched/Trần-Thị-Bình-3002.pem"
ok "... and not in the agency's folder" test ! -e "$OUT/sở-tài-chính/Trần-Thị-Bình-3002.pem"
like "$(cat "$T/m4.csv.err")" "3 in, 1 out, 2 rejected" "the summary: 3 in = 1 out + 2 rejected"

# Every certificate of a mixed file appears exactly once.
su_ca forger "Test CA chuyên dùng"
su_cert h3 forger 0x6663 1095 "$T/forged.pem"
su_holder stranger "Người Lạ" la@x.gov.vn
su_cert stranger ca 0x7777 365 "$T/stranger.pem"
cat "$T/update.pem" "$T/forged.pem" "$T/stranger.pem" "$T/again-h2.pem" >"$T/all.pem"
rm -rf "$OUT"
route m5.csv "$T/all.pem"
want=$(grep -- '-----BEGIN CERTIFICATE-----' "$T/all.pem" | wc -l | tr -d ' ')
got=$(mlr --icsv --onidx filter '$status != "missing"' then count "$T/m5.csv")
is "$got" "$want" "the manifest has one record for each of the $want certificates"
is "$(for f in "$T"/new-h1.pem "$T"/new-h2.pem "$T"/new-h3.pem "$T"/new-h5.pem "$T/forged.pem" "$T/stranger.pem" "$T/again-h2.pem"; do su_serial "$f"; done | sort | tr '\n' ' ')" \
   "$(mlr --icsv --onidx filter '$status != "missing"' then cut -f serial "$T/m5.csv" | sort | tr '\n' ' ')" \
   "the serials in the manifest are those openssl reads from the input, each once"
is "$(mlr --icsv --onidx --ofs , filter '$status != "missing"' then cut -o -f serial,status "$T/m5.csv" | tail -3 | tr '\n' ' ')" \
   "6663,untrusted 7777,unmatched 3002,duplicate " "forged, unknown and duplicate certificates each get their status"
like "$(cat "$T/m5.csv.err")" "7 in, 4 out, 3 rejected" "7 in = 4 out + 3 rejected"
is "$(mlr --icsv --onidx count "$T/m5.csv.rej")" 3 "the three rejects are in the rejects file"

# Two different certificates under one name in one file: the second cannot
# take the name, whatever batch it is written in.
su_cert stranger ca 0x7777 200 "$T/stranger2.pem"
cat "$T/stranger.pem" "$T/stranger2.pem" >"$T/same-name.pem"
rm -rf "$OUT"
route m6.csv "$T/same-name.pem"
is "$(mlr --icsv --onidx --ofs , filter '$status != "missing"' then cut -o -f serial,status "$T/m6.csv" | tr '\n' ' ')" \
   "7777,unmatched 7777,conflict " "a second, different certificate with the same holder and serial is a conflict"
ok "the first one keeps the name" cmp "$OUT/_unmatched/Người-Lạ-7777.pem" "$T/stranger.pem"
is "$(find "$OUT" -name '.*' | wc -l | tr -d ' ')" 0 "no temporary file is left behind"

# A long file (more certificates than one write batch) keeps input order.
repeat_file() { awk -v n="$1" '{ a[NR] = $0 } END { for (i = 0; i < n; i++) for (j = 1; j <= NR; j++) print a[j] }' "$2"; }
{ repeat_file 700 "$T/new-h1.pem"; cat "$T/new-h2.pem"; repeat_file 700 "$T/new-h3.pem"; cat "$T/new-h5.pem"; } >"$T/long.pem"
rm -rf "$OUT"
route m7.csv "$T/long.pem"
is "$(mlr --icsv --onidx filter '$status != "missing"' then count "$T/m7.csv")" 1402 "1402 certificates in, 1402 manifest records"
is "$(mlr --icsv --onidx --ofs , filter '$status == "delivered"' then put '$n = NR' then cut -o -f request_id,source "$T/m7.csv" | sed "s|$T/||" | tr '\n' ' ')" \
   "R1,long.pem#1 R2,long.pem#701 R3,long.pem#702 R5,long.pem#1402 " "the manifest keeps input order across write batches"
is "$(mlr --icsv --onidx filter '$status == "duplicate"' then count "$T/m7.csv")" 1398 "the 1398 repeats are duplicates"
like "$(cat "$T/m7.csv.err")" "1402 in, 4 out, 1398 rejected" "1402 in = 4 out + 1398 rejected"
done_testing
