#!/bin/sh
# validate-form --agencies: the province's agency registry. Each row's agency
# is found by its code or by its name or another name the registry lists,
# whatever the spelling; the row gets the registry's code as agency_key, its
# official name and its mailbox. A code that is another agency's than the
# name says, and an agency the registry does not know, are rejected.
# aggregate-by-agency then shows one line per agency.
. "$(dirname "$0")/lib.sh"

COLS="request_id,form,full_name,birth_date,id_number,id_issue_date,id_issue_place,position,agency,agency_code,province,email,phone,confirmed_by,received_date"
# row ID NUMBER AGENCY CODE: an issuance request valid in every other way
# (received Thursday 12/02/2026, run as of 20/02/2026).
row() {
    printf '%s,01,Nguyễn Văn An,15/03/1990,%s,10/05/2021,Cục Cảnh sát QLHC về TTXH,Chuyên viên,"%s",%s,Lâm Đồng,an@lamdong.gov.vn,0912345678,Trần Văn Bình,12/02/2026\n' "$1" "$2" "$3" "$4"
}
cat >"$T/agencies.csv" <<'EOF'
agency_code,name,aliases,email,province,parent_code
000.00.00.H41,UBND tỉnh Lâm Đồng,Ủy ban nhân dân tỉnh Lâm Đồng,ubndtinh@lamdong.gov.vn,Lâm Đồng,
000.00.02.H41,Sở Nội vụ,Sở Nội vụ tỉnh Lâm Đồng|SNV Lâm Đồng,sonoivu@lamdong.gov.vn,Lâm Đồng,000.00.00.H41
000.00.04.H41,Sở Tài chính,Sở Tài chính tỉnh Lâm Đồng,sotaichinh@lamdong.gov.vn,Lâm Đồng,000.00.00.H41
,Công an tỉnh Lâm Đồng,,congan@lamdong.gov.vn,Lâm Đồng,
EOF
# "Sở Nội vụ" decomposed (NFD): o + U+031B horn + U+0309 hook above,
# o + U+0323 dot below + U+0302 circumflex, u + U+0323 dot below.
NFD=$(printf 'So\314\233\314\211 No\314\243\314\202i vu\314\243')
{
    echo "$COLS"
    row R1 068090001201 "Sở Nội vụ" 000.00.02.H41          # line 2
    row R2 068090001202 "SỞ NỘI VỤ" ""                      # 3: name only, upper case
    row R3 068090001203 "$NFD" ""                           # 4: decomposed
    row R4 068090001204 "Sở Nội vụ tỉnh Lâm Đồng" ""       # 5: an alias
    row R5 068090001205 "SNV Lâm Đồng" 000.00.02.H41        # 6: an alias with the code
    row R6 068090001206 "Sở Tài chính" 000.00.02.H41        # 7: the code of Sở Nội vụ
    row R7 068090001207 "Sở Xây dựng" ""                    # 8: not in the registry
    row R8 068090001208 "Sở Nội vụ" 000.00.99.H41           # 9: a code not in the registry
    row R9 068090001209 "UBND tỉnh Lâm Đồng" ""             # 10: UBND = Ủy ban nhân dân
    row R10 068090001210 "Uỷ ban nhân dân Tỉnh Lâm Đồng" "" # 11: old tone placement
    row R11 068090001211 "Công an tỉnh Lâm Đồng" ""         # 12: an agency without a code
    row R12 068090001212 "Phòng Nội vụ" 000.00.04.H41       # 13: a name the registry does not know, a code it does
} >"$T/in.csv"

vf() { validate-form --as-of 2026-02-20 "$@"; }
vf --agencies "$T/agencies.csv" --rejects "$T/rej.csv" -o "$T/out.csv" "$T/in.csv" 2>"$T/err"
like "$(cat "$T/err")" "12 in, 9 out, 3 rejected" "12 rows: 9 agencies found, 3 rejected"
is "$(csv_col "$T/out.csv" request_id | tr '\n' ' ')" "R1 R2 R3 R4 R5 R9 R10 R11 R12 " "the rows that name a registered agency pass"
is "$(mlr --icsv --onidx --ofs '|' cut -o -f request_id,agency_key,agency_name,agency_email then head -n 5 "$T/out.csv")" \
"R1|000.00.02.H41|Sở Nội vụ|sonoivu@lamdong.gov.vn
R2|000.00.02.H41|Sở Nội vụ|sonoivu@lamdong.gov.vn
R3|000.00.02.H41|Sở Nội vụ|sonoivu@lamdong.gov.vn
R4|000.00.02.H41|Sở Nội vụ|sonoivu@lamdong.gov.vn
R5|000.00.02.H41|Sở Nội vụ|sonoivu@lamdong.gov.vn" \
   "code, upper case, NFD, an alias, a code in lower case: all Sở Nội vụ, keyed by its code, with its official name and mailbox"
is "$(mlr --icsv --onidx --ofs '|' filter '$request_id == "R9" || $request_id == "R10"' then cut -o -f agency_key,agency_name "$T/out.csv" | sort -u)" \
   "000.00.00.H41|UBND tỉnh Lâm Đồng" "UBND and Uỷ ban nhân dân are the People's Committee of the registry"
is "$(mlr --icsv --onidx --ofs '|' filter '$request_id == "R11"' then cut -o -f agency_key,agency_name,agency_email "$T/out.csv")" \
   "công an tỉnh lâm đồng|Công an tỉnh Lâm Đồng|congan@lamdong.gov.vn" "an agency without a code is keyed by its name"
is "$(mlr --icsv --onidx --ofs '|' filter '$request_id == "R12"' then cut -o -f agency,agency_key,agency_name "$T/out.csv")" \
   "Phòng Nội vụ|000.00.04.H41|Sở Tài chính" "a name the registry does not know beside a code it knows: the code's agency, the name kept as written"
is "$(mlr --icsv --onidx --ofs '|' cut -o -f request_id,reject_line,reject_field "$T/rej.csv")" \
"R6|7|agency_code
R7|8|agency
R8|9|agency_code" "the rejects: a code contradicting the name, an unknown agency, an unknown code"
is "$(mlr --icsv --onidx filter '$request_id == "R6"' then cut -f reject_reason "$T/rej.csv")" \
   "agency code '000.00.02.H41' is Sở Nội vụ in the agency registry, but the agency is 'Sở Tài chính' (000.00.04.H41)" \
   "a code contradicting the name: the reason names both agencies"
like "$(mlr --icsv --onidx filter '$request_id == "R7"' then cut -f reject_reason "$T/rej.csv")" \
   "agency 'Sở Xây dựng' is not in the agency registry" "an unknown agency: the reason names it"
vf --lang vi -q --agencies "$T/agencies.csv" --rejects "$T/rej-vi.csv" "$T/in.csv" >/dev/null
like "$(mlr --icsv --onidx filter '$request_id == "R6"' then cut -f reject_reason "$T/rej-vi.csv")" \
   "mã định danh cơ quan '000.00.02.H41' là của Sở Nội vụ trong danh mục cơ quan" "--lang vi: the reason in Vietnamese"

vf -q --agencies "$T/agencies.csv" --allow-unknown-agency --rejects "$T/rej-u.csv" -o "$T/out-u.csv" "$T/in.csv"
is "$(csv_col "$T/rej-u.csv" request_id | tr '\n' ' ')" "R6 " "--allow-unknown-agency: only the contradiction is rejected"
is "$(mlr --icsv --onidx --ofs '|' filter '$request_id == "R7" || $request_id == "R8"' then cut -o -f request_id,agency_key,agency_name,agency_email "$T/out-u.csv")" \
"R7|sở xây dựng|Sở Xây dựng|
R8|000.00.02.H41|Sở Nội vụ|sonoivu@lamdong.gov.vn" "--allow-unknown-agency: an unknown agency passes keyed by its name, without a mailbox; an unknown code beside a known name is that agency"

# Without a registry the output is what it always was.
vf -q --rejects "$T/rej-0.csv" -o "$T/out-0.csv" "$T/in.csv"
is "$(head -n 1 "$T/out-0.csv")" "$COLS,request_type,subject_type,due_date,agency_key" "without --agencies no agency_name or agency_email column"
is "$(csv_col "$T/rej-0.csv" request_id | wc -l)" "0" "without --agencies no row is rejected for its agency"
vf -q --agencies-if-present "$T/no-such.csv" -o "$T/out-p.csv" "$T/in.csv"
ok "--agencies-if-present with no file: as without a registry" cmp "$T/out-p.csv" "$T/out-0.csv"
vf -q --agencies-if-present "$T/agencies.csv" -o "$T/out-p2.csv" --rejects /dev/null "$T/in.csv"
ok "--agencies-if-present with the file: as --agencies" cmp "$T/out-p2.csv" "$T/out.csv"
vf -q --agencies "$T/agencies.csv" -o "$T/out-2.csv" --rejects /dev/null "$T/in.csv"
ok "run twice: the same output" cmp "$T/out-2.csv" "$T/out.csv"
echo "$COLS" >"$T/empty.csv"
exit_is 0 "a sheet with no rows, with a registry, is zero records" vf --agencies "$T/agencies.csv" "$T/empty.csv"
like "$(cat "$T/.err")" "0 in, 0 out, 0 rejected" "and says so"

# The registry itself is checked.
exit_is 66 "a missing registry is a missing input" vf --agencies "$T/nope.csv" "$T/in.csv"
like "$(cat "$T/.err")" "nope.csv" "and the message names it"
{ cat "$T/agencies.csv"; echo "000.00.02.H41,Sở Xây dựng,,sxd@lamdong.gov.vn,Lâm Đồng,"; } >"$T/dup.csv"
exit_is 65 "a code listed twice is an error" vf --agencies "$T/dup.csv" "$T/in.csv"
like "$(cat "$T/.err")" "dup.csv:6: agency code 000.00.02.H41 is listed twice \\(line 3\\)" "naming both lines"
{ cat "$T/agencies.csv"; echo "000.00.05.H41,Sở Tư pháp,SỞ NỘI VỤ,stp@lamdong.gov.vn,Lâm Đồng,"; } >"$T/amb.csv"
exit_is 65 "an alias that is another agency's name is an error" vf --agencies "$T/amb.csv" "$T/in.csv"
like "$(cat "$T/.err")" "amb.csv:6: the name 'SỞ NỘI VỤ' is also agency 'Sở Nội vụ' \\(line 3\\)" "naming the other agency"
printf 'agency_code,name\n000.0.02.H41,Sở Nội vụ\n' >"$T/badcode.csv"
exit_is 65 "a malformed code in the registry is an error" vf --agencies "$T/badcode.csv" "$T/in.csv"
printf 'code,agency\n' >"$T/nocols.csv"
exit_is 65 "a registry without agency_code and name columns is an error" vf --agencies "$T/nocols.csv" "$T/in.csv"

# aggregate-by-agency: one line per agency, its official name, its mailbox.
aggregate-by-agency -q "$T/out.csv" >"$T/sum.csv"
is "$(mlr --icsv --onidx --ofs '|' cut -o -f agency_key,agency_code,agency,total "$T/sum.csv")" \
"000.00.00.H41|000.00.00.H41|UBND tỉnh Lâm Đồng|2
000.00.02.H41|000.00.02.H41|Sở Nội vụ|5
000.00.04.H41|000.00.04.H41|Sở Tài chính|1
công an tỉnh lâm đồng||Công an tỉnh Lâm Đồng|1
||TOTAL|9" "aggregate-by-agency groups by agency_key and shows the official name and the code"
aggregate-by-agency -q --split-dir "$T/split" "$T/out.csv" >/dev/null
is "$(ls "$T/split" | tr '\n' ' ')" "000.00.00.H41.csv 000.00.02.H41.csv 000.00.04.H41.csv Công-an-tỉnh-Lâm-Đồng.csv " \
   "one file per agency, named by its code"

# The samples' registry: every agency of the sample forms is in it, and the
# renewals make one line per agency (the registry lists 11).
need_samples
D=$(cat "$SAMPLES/as-of.txt")
is "$(mlr --icsv --onidx count "$SAMPLES/agencies.csv")" "11" "the samples' registry lists 11 agencies"
scan-expiry -q --all --as-of "$D" --ca "$SAMPLES/ca-chain.pem" "$SAMPLES/certs" >"$T/certs.csv"
vf() { validate-form --as-of "$D" "$@"; }
vf -q --certs "$T/certs.csv" --rejects "$T/srej0.csv" "$SAMPLES/forms/renewal.csv" >/dev/null
vf -q --certs "$T/certs.csv" --agencies "$SAMPLES/agencies.csv" --rejects "$T/srej.csv" "$SAMPLES/forms/renewal.csv" >"$T/sout.csv"
ok "the samples' registry rejects no row that passed without it" cmp "$T/srej.csv" "$T/srej0.csv"
aggregate-by-agency -q "$T/sout.csv" >"$T/ssum.csv"
is "$(mlr --icsv --onidx filter '$agency != "TOTAL"' then count "$T/ssum.csv")" \
   "$(mlr --icsv --onidx uniq -g agency_name then count "$T/sout.csv")" "one summary line for each agency of the valid rows"
is "$(mlr --icsv --onidx filter '$agency == "Sở Nội vụ"' then cut -f total "$T/ssum.csv")" \
   "$(mlr --icsv --onidx filter '$agency_code == "000.00.02.H41" || $agency =~ "(?i)^ *s(ở|Ở) n(ộ|Ộ)i v(ụ|Ụ) *$"' then count "$T/sout.csv")" \
   "Sở Nội vụ's rows with and without its code are one line"
done_testing
