#!/bin/sh
# validate-form keeps the contract of DESIGN.md: malformed CSV rows are
# rejected with their line while the rows around them are handled, records
# in = out + rejected, the rejects file, --strict, --lang vi, -o, the exit
# codes, --official-domains and --holidays.
. "$(dirname "$0")/lib.sh"

H="request_id,form,full_name,id_number,id_issue_date,id_issue_place,position,agency,province,email,phone,old_serial,old_not_after,confirmed_by,received_date"
# good N: a valid Form 03 renewal (Lâm Đồng, female, 1990), received Monday
# 02/03/2026, old certificate expiring 01/05/2026 (60 days later).
good() { echo "HS-$1,03,Lê Thị Cúc,0681900013$1,2021-05-10,Cục Cảnh sát,Chuyên viên,Sở Y tế,Lâm Đồng,cuc@lamdong.gov.vn,0987654321,10$1,2026-05-01,Phạm Văn Dũng,2026-03-02"; }

# Line 3 has one field too many; line 5 is not UTF-8 (\377); line 7 opens
# a quote that is never closed, so the rest of the file is that record.
{
    echo "$H"; good 10; echo "$(good 11),extra"; good 12
    printf 'HS-13,03,L\377 Thị Cúc,068190001313,2021-05-10,Cục Cảnh sát,Chuyên viên,Sở Y tế,Lâm Đồng,cuc@lamdong.gov.vn,0987654321,1013,2026-05-01,Phạm Văn Dũng,2026-03-02\n'
    good 14; printf 'HS-15,03,"Lê Thị Cúc,068190001315\n'
} >"$T/bad.csv"
validate-form --as-of 2026-03-10 --rejects "$T/rej.csv" "$T/bad.csv" >"$T/out.csv" 2>"$T/err"
is "$?" 0 "malformed rows are rejects, not a failure of the run: exit 0"
is "$(csv_col "$T/out.csv" request_id | tr '\n' ' ')" "HS-10 HS-12 HS-14 " "the rows before and after the malformed ones are handled"
is "$(csv_col "$T/rej.csv" reject_line | tr '\n' ' ')" "3 5 7 " "each malformed row is rejected with its line"
like "$(cat "$T/err")" "6 in, 3 out, 3 rejected" "summary: 6 in = 3 out + 3 rejected"
is "$(head -1 "$T/rej.csv")" "$H,reject_line,reject_field,reject_reason" \
   "the rejects file has the row's columns and reject_line, reject_field, reject_reason"

# Without --rejects each reject is one line on stderr: prog: FILE:LINE: ...
{ echo "$H"; good 20 | sed 's/cuc@lamdong.gov.vn/cuc@gmail.com/'; } >"$T/one.csv"
validate-form --as-of 2026-03-10 "$T/one.csv" >"$T/out1.csv" 2>"$T/err1"
like "$(head -1 "$T/err1")" "^validate-form: .*/one.csv:2: email: " "without --rejects a reject is a diagnostic 'validate-form: FILE:LINE: field: reason'"
is "$(wc -l <"$T/out1.csv")" 1 "the output still has its header when every row is rejected"
exit_is 65 "--strict: any reject exits 65" validate-form -q --strict --as-of 2026-03-10 "$T/one.csv"
{ echo "$H"; good 21; } >"$T/ok.csv"
exit_is 0 "--strict with no reject exits 0" validate-form -q --strict --as-of 2026-03-10 "$T/ok.csv"

# --lang vi
validate-form -q --lang vi --as-of 2026-03-10 "$T/one.csv" 2>"$T/vi" >/dev/null
like "$(cat "$T/vi")" "không thuộc tên miền công vụ" "--lang vi gives the reason in Vietnamese"

# --official-domains
validate-form -q --official-domains gmail.com,gov.vn --as-of 2026-03-10 "$T/one.csv" >"$T/dom.csv"
is "$(csv_col "$T/dom.csv" request_id)" HS-20 "--official-domains gmail.com,gov.vn accepts cuc@gmail.com"

# -o writes the file whole, only at the end
validate-form -q --as-of 2026-03-10 -o "$T/o.csv" "$T/ok.csv"
is "$(csv_col "$T/o.csv" request_id)" HS-21 "-o FILE writes the valid rows to FILE"
is "$(ls -a "$T" | grep -c '^\.o\.csv\|o\.csv\..*tmp')" 0 "no temporary file is left behind"
exit_is 73 "-o into a missing directory: exit 73" validate-form -q --as-of 2026-03-10 -o "$T/nodir/o.csv" "$T/ok.csv"

# stdin, several files, -
good 22 | cat "$T/ok.csv" - >"$T/two.csv"
is "$(validate-form -q --as-of 2026-03-10 <"$T/two.csv" | csv_col /dev/stdin request_id | tr '\n' ' ')" "HS-21 HS-22 " "no FILE reads stdin"
{ echo "$H"; good 23; } >"$T/b.csv"
is "$(validate-form -q --as-of 2026-03-10 "$T/ok.csv" - <"$T/b.csv" | csv_col /dev/stdin request_id | tr '\n' ' ')" "HS-21 HS-23 " "FILE and - read one after the other"

# usage and exit codes
exit_is 0 "--help exits 0" validate-form --help
like "$(cat "$T/.out")" "usage: validate-form" "--help prints the usage"
exit_is 0 "--version exits 0" validate-form --version
is "$(cat "$T/.out")" "validate-form certbatch $(sed -n 's/#define CB_VERSION "\(.*\)"/\1/p' "$TOP/lib/core/cb_err.h")" "--version prints the version"
exit_is 64 "an unknown option exits 64" validate-form --bogus
exit_is 64 "--lang fr exits 64" validate-form --lang fr "$T/ok.csv"
exit_is 64 "--as-of not a date exits 64" validate-form --as-of 2026-02-30 "$T/ok.csv"
exit_is 66 "a missing input file exits 66" validate-form "$T/missing.csv"
exit_is 66 "a missing --certs file exits 66" validate-form --certs "$T/missing.csv" "$T/ok.csv"

# --holidays: a file covering 2026 replaces the built-in schedule. With
# only 05/03/2026 off, received Mon 02/03 gives Tue 03, Wed 04, Fri 06.
printf 'date,kind,name\n2026-03-05,holiday,Test holiday\n' >"$T/hol.csv"
validate-form -q --as-of 2026-03-10 --holidays "$T/hol.csv" "$T/ok.csv" >"$T/hol-out.csv"
is "$(csv_col "$T/hol-out.csv" due_date)" 2026-03-06 "--holidays: a day off on Thu 05/03/2026 moves the due date to Fri 06/03"
# 2027 has no official schedule: computed. Tết 2027 is Sat 06/02; off are
# Fri 05/02 (last day of the year) to Tue 09/02, plus Wed 10 and Thu 11 for
# the Saturday and Sunday. Received Thu 04/02/2027: Fri 12/02 is day 1,
# Mon 15/02 day 2, Tue 16/02 day 3.
{ echo "$H"; good 24 | sed 's/2026-05-01,/2027-06-01,/; s/2026-03-02$/2027-02-04/'; } >"$T/t27.csv"
validate-form -q --as-of 2027-02-05 "$T/t27.csv" >"$T/t27-out.csv"
is "$(csv_col "$T/t27-out.csv" due_date)" 2027-02-16 "received Thu 04/02/2027 before Tết 2027: due Tue 16/02/2027"

done_testing
