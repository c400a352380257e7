#!/bin/sh
# aggregate-by-agency on hand-built request records: spelling variants of
# one agency, abbreviations, agency codes, counts checked by hand, merge of
# partial summaries, split files, hostile names and rejects.
. "$(dirname "$0")/lib.sh"

# "Sở Tài chính" decomposed (NFD): o + U+031B horn + U+0309 hook above,
# a + U+0300 grave, i + U+0301 acute.
NFD=$(printf 'So\314\233\314\211 Ta\314\200i chi\314\201nh')
cat >"$T/req.csv" <<EOF
request_id,agency,agency_code,province,request_type,subject_type,old_not_after,due_date
R1,Sở Tài chính,,Lâm Đồng,renew,individual,2027-01-20,2026-11-26
R2,SỞ TÀI CHÍNH,,Lâm Đồng,renew,individual,2027-01-10,2026-11-27
R3,$NFD,,Lâm Đồng,renew,organization,2027-02-01,2026-11-26
R4,Sở Tài chính,,Lâm Đồng,issue,individual,,2026-11-30
R5,UBND tỉnh Lâm Đồng,,Lâm Đồng,renew,organization,2027-01-05,2026-11-26
R6,Uỷ ban nhân dân Tỉnh Lâm Đồng,,Lâm Đồng,renew,individual,2027-01-15,2026-11-26
R7,Ủy ban nhân dân tỉnh Lâm Đồng,,Lâm Đồng,issue,individual,,2026-11-27
R8,Sở Y tế,000.00.15.H41,Lâm Đồng,renew,individual,2027-01-02,2026-11-25
R9,Sở Y Tế tỉnh Lâm Đồng,000.00.15.h41,Lâm Đồng,issue,individual,,2026-11-28
R10,,,Lâm Đồng,renew,individual,2027-01-01,2026-11-26
R11,Sở Y tế,000.00.15.H41,Lâm Đồng,renew,organization,2027-03-01,2026-11-27
EOF

aggregate-by-agency --rejects "$T/rej.csv" "$T/req.csv" >"$T/sum.csv" 2>"$T/sum.err"
get() {  # agency-display column -> value of column
    mlr --icsv --onidx --ofs tab filter "\$agency == \"$1\"" then cut -f "$2" "$T/sum.csv"
}
is "$(mlr --icsv --onidx cut -f agency "$T/sum.csv" | tr '\n' '|')" "Sở Y tế|Sở Tài chính|UBND tỉnh Lâm Đồng|TOTAL|" \
   "three agencies and a total row: NFC, upper case and NFD spellings are one agency"
# Sở Tài chính: R1, R2, R3 (NFD), R4 -> renew individual R1, R2; renew org R3; issue individual R4.
is "$(get 'Sở Tài chính' total)" "4" "Sở Tài chính: 4 requests in three spellings"
is "$(get 'Sở Tài chính' renew_individual)" "2" "Sở Tài chính: 2 individual renewals"
is "$(get 'Sở Tài chính' renew_organization)" "1" "Sở Tài chính: 1 organisation renewal"
is "$(get 'Sở Tài chính' issue_individual)" "1" "Sở Tài chính: 1 new certificate"
is "$(get 'Sở Tài chính' earliest_expiry)" "2027-01-10" "Sở Tài chính: earliest old-certificate expiry 10 Jan 2027 (R2)"
is "$(get 'Sở Tài chính' earliest_due)" "2026-11-26" "Sở Tài chính: earliest due date 26 Nov 2026"
# UBND = Ủy ban nhân dân, Uỷ = Ủy: R5, R6, R7 are one agency; each spelling once,
# the tie goes to the first in byte order ("UBND..." < "Uỷ..." < "Ủy...").
is "$(get 'UBND tỉnh Lâm Đồng' total)" "3" "UBND, Uỷ ban and Ủy ban nhân dân are one agency"
# Agency code wins over the name: R8, R9 and R11 share 000.00.15.H41 (case
# aside); "Sở Y tế" is written twice, so it is the name shown.
is "$(get 'Sở Y tế' total)" "3" "an agency code groups whatever the name says"
is "$(get 'Sở Y tế' agency_code)" "000.00.15.H41" "the code is shown"
is "$(get TOTAL total)" "10" "the total row counts the 10 records with an agency"
is "$(get TOTAL earliest_expiry)" "2027-01-02" "the total row has the earliest expiry of all"
is "$(csv_col "$T/rej.csv" request_id)" "R10" "a record with no agency is rejected"
like "$(csv_col "$T/rej.csv" reject_reason)" "names no agency" "with a reason"
like "$(cat "$T/sum.err")" "11 in, 10 out, 1 rejected" "records in = out + rejected"
exit_is 65 "--strict makes a reject exit 65" aggregate-by-agency -q --strict "$T/req.csv"

# --merge: summaries of three parts add up to the summary of the whole.
head -n 1 "$T/req.csv" >"$T/h"
{ cat "$T/h"; sed -n 2,4p "$T/req.csv"; } >"$T/p1.csv"
{ cat "$T/h"; sed -n 5,8p "$T/req.csv"; } >"$T/p2.csv"
{ cat "$T/h"; sed -n 9,12p "$T/req.csv"; } >"$T/p3.csv"
for p in p1 p2 p3; do aggregate-by-agency -q "$T/$p.csv" >"$T/$p.sum" 2>/dev/null; done
aggregate-by-agency -q --merge "$T/p1.sum" "$T/p2.sum" "$T/p3.sum" >"$T/merged.csv"
aggregate-by-agency -q "$T/req.csv" >"$T/whole.csv" 2>/dev/null
ok "--merge of the parts' summaries equals the summary of the whole" cmp "$T/merged.csv" "$T/whole.csv"
ok "the merge runs under GNU parallel the same way" sh -c "ls '$T'/p?.csv | parallel -k 'aggregate-by-agency -q {} 2>/dev/null' | aggregate-by-agency -q --merge | cmp - '$T/whole.csv'"
ls "$T"/p?.csv | parallel -k 'aggregate-by-agency -q {} 2>/dev/null' | aggregate-by-agency --merge >/dev/null 2>"$T/merge.err"
like "$(cat "$T/merge.err")" "^aggregate-by-agency: [0-9]+ in, [0-9]+ out, 0 rejected" \
    "the parts' header lines in a concatenated stream are headers, not rejected rows"
exit_is 65 "--merge of something that is not a summary is a clear error" aggregate-by-agency --merge "$T/req.csv"
like "$(cat "$T/.err")" "not a summary of aggregate-by-agency: the column 'agency_key' is missing" "the error names the missing column"

# --detail: grouped, stable, batch_seq per agency.
aggregate-by-agency -q --detail "$T/req.csv" >"$T/detail.csv" 2>/dev/null
is "$(mlr --icsv --onidx --ofs : cut -o -f request_id,batch_seq "$T/detail.csv" | tr '\n' ' ')" \
   "R8:1 R9:2 R11:3 R1:1 R2:2 R3:3 R4:4 R5:1 R6:2 R7:3 " "--detail groups the records by agency, in input order, with batch_seq"

# --split-dir: one file per agency, re-read they equal the input.
aggregate-by-agency -q --split-dir "$T/split" "$T/req.csv" >"$T/manifest.csv" 2>/dev/null
is "$(ls "$T/split" | tr '\n' ' ')" "000.00.15.H41.csv Sở-Tài-chính.csv UBND-tỉnh-Lâm-Đồng.csv " \
   "one file per agency, named by the code or the agency's name"
mlr --icsv --ocsv cat "$T"/split/*.csv | mlr --icsv --ocsv cut -x -f batch_seq then sort -f request_id >"$T/reread.csv"
mlr --icsv --ocsv filter '$request_id != "R10"' then sort -f request_id "$T/req.csv" >"$T/orig.csv"
ok "the split files re-read equal the input (the rejected record aside)" cmp "$T/reread.csv" "$T/orig.csv"
is "$(mlr --icsv --onidx cut -f records "$T/manifest.csv" | tr '\n' ' ')" "3 4 3 " "the manifest counts the records of each file"

printf 'request_id,agency,request_type,subject_type\nH1,../../etc,renew,individual\nH2,a/b\\c,renew,individual\nH3,..,renew,individual\n' >"$T/hostile.csv"
mkdir "$T/hs"
aggregate-by-agency -q --split-dir "$T/hs/out" "$T/hostile.csv" >"$T/hm.csv" 2>/dev/null
is "$(find "$T/hs" -type f | wc -l | tr -d ' ')" "3" "hostile agency names give three files"
is "$(find "$T/hs" -type f ! -path "$T/hs/out/*" | wc -l | tr -d ' ')" "0" "all of them inside the split directory"
ok "no file name starts with a dot" sh -c "! ls -a '$T/hs/out' | grep -v '^\.\.\?$' | grep -q '^\.'"
done_testing
