#!/bin/sh
# track: where each request stands, with its due dates computed by hand
# (working days, the day of receipt not counted) across Tết 2027 (5-11/2:
# the last day of the lunar year, 6/2 Tết, and 10-11/2 in compensation for
# the weekend 6-7/2) and 30/4-1/5/2027 (1/5 a Saturday: Monday 3/5 off).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ca.sh"
. "$(dirname "$0")/publish-fixture.sh"

make_published_fixture || echo "# fixture failed"
cat >"$T/table.csv" <<'CSV'
request_id,request_type,received_date,want_step_due,want_procedure_due
T-01,issue,29/01/2027,2027-02-03,2027-02-04
T-02,issue,01/02/2027,2027-02-04,2027-02-12
T-03,issue,03/02/2027,2027-02-15,2027-02-16
T-04,issue,04/02/2027,2027-02-16,2027-02-17
T-05,issue,08/02/2027,2027-02-16,2027-02-17
T-06,issue,28/04/2027,2027-05-05,2027-05-06
T-07,issue,29/04/2027,2027-05-06,2027-05-07
T-08,renew,03/02/2027,2027-02-15,2027-02-15
T-09,renew,29/04/2027,2027-05-06,2027-05-06
CSV
ok "track the table" track --ledger "$T/ledger.csv" --as-of 2027-02-15 -o "$T/table.out" "$T/table.csv"
is "$(mlr --icsv --onidx --ofs ' ' cut -o -f request_id,step_due,want_step_due,procedure_due,want_procedure_due "$T/table.out" |
    awk '$2 == $3 && $4 == $5 { n++ } END { print n + 0 }')" 9 "every due date agrees with the hand-computed table"
is "$(csv_col "$T/table.out" step | sort -u)" "received" "nothing issued yet: all at received"
is "$(mlr --icsv --onidx --ofs ' ' cut -o -f request_id,overdue "$T/table.out" | tr '\n' ';')" \
    "T-01 yes;T-02 yes;T-03 no;T-04 no;T-05 no;T-06 no;T-07 no;T-08 no;T-09 no;" \
    "on 15/2/2027 the requests due 3/2 and 4/2 are overdue, the one due 15/2 not yet"
ok "track again a day later" track --ledger "$T/ledger.csv" --as-of 2027-02-16 -o "$T/t2.out" "$T/table.csv"
is "$(mlr --icsv --onidx filter '$request_id == "T-03" || $request_id == "T-08"' then cut -f overdue "$T/t2.out" | tr '\n' ' ')" \
    "yes yes " "on 16/2/2027 the issue and the renewal due 15/2 are overdue"

# The steps, from the ledgers: CB-01 published, CB-02 asked to take effect,
# CB-03 issued only, CB-04 not issued. All received Tuesday 10/2/2026.
printf 'request_id,agency,handed_over_date,received_date\nCB-01,Sở Nội vụ tỉnh Lâm Đồng,12/02/2026,13/02/2026\n' >"$T/eff1.csv"
ok "CB-01 is published" publish --ledger "$T/ledger.csv" --issued "$T/issued.pem" --out "$T/www" \
    --as-of 2026-02-23T09:00:00+07:00 -o /dev/null "$T/eff1.csv"
printf 'request_id,agency,handed_over_date,received_date\nCB-02,Sở Tài chính tỉnh Lâm Đồng,23/02/2026,24/02/2026\n' >"$T/eff2.csv"
cat >"$T/req.csv" <<'CSV'
request_id,form,full_name,received_date,agency_email
CB-01,01,Nguyễn Thị Hoà,2026-02-10,vp@lamdong.gov.vn
CB-02,02,Trần Văn Bảo,2026-02-10,vp@lamdong.gov.vn
CB-03,01,Đặng Đức Thuỷ,2026-02-10,vp@lamdong.gov.vn
CB-04,01,Lê Chưa Cấp,2026-02-10,vp@lamdong.gov.vn
CB-05,05,Sai Mẫu,2026-02-10,vp@lamdong.gov.vn
CSV
ok "track the batch on 24/2/2026" track --ledger "$T/ledger.csv" --effective "$T/eff2.csv" --as-of 2026-02-24 \
    --rejects "$T/rej.csv" -o "$T/steps.out" "$T/req.csv"
like "$(cat "$T/.err")" "track: 5 in, 4 out, 1 rejected" "5 in = 4 out + 1 rejected"
like "$(cat "$T/rej.csv")" "CB-05.*neither issue nor renew" "a request of no known type is rejected"
is "$(mlr --icsv --onidx --ofs ' ' cut -o -f request_id,step,step_at "$T/steps.out" | tr '\n' ';')" \
    "CB-01 published 2026-02-23T09:00:00+07:00;CB-02 effective_requested 2026-02-24;CB-03 issued 2026-02-11T10:00:00+07:00;CB-04 received 2026-02-10;" \
    "each request's step and when it got there"
is "$(mlr --icsv --onidx --ofs ' ' cut -o -f request_id,step_due,procedure_due "$T/steps.out" | tr '\n' ';')" \
    "CB-01  2026-02-23;CB-02 2026-02-25 2026-02-23;CB-03  2026-02-23;CB-04 2026-02-13 2026-02-23;" \
    "publication due 1 working day after the agency's request; issue due 13/2; the whole due 23/2 (after Tết)"
is "$(mlr --icsv --onidx --ofs ' ' cut -o -f request_id,overdue,late "$T/steps.out" | tr '\n' ';')" \
    "CB-01 no no;CB-02 yes no;CB-03 yes no;CB-04 yes no;" "on 24/2 everything unfinished is overdue; CB-01 was on time"
is "$(csv_col "$T/steps.out" agency_email | sort -u)" "vp@lamdong.gov.vn" "the request's own columns pass through"
ok "--open lists only what is not finished" track --ledger "$T/ledger.csv" --as-of 2026-02-24 --open -o "$T/open.out" "$T/req.csv"
like "$(cat "$T/.err")" "5 in, 3 out, 1 rejected, 1 filtered" "the published one is filtered"
ok "on 20/2/2026 CB-03 is not overdue yet" track --ledger "$T/ledger.csv" --as-of 2026-02-20 -o "$T/early.out" "$T/req.csv"
is "$(mlr --icsv --onidx filter '$request_id == "CB-03"' then cut -f overdue "$T/early.out")" "no" "its procedure is due 23/2"
ok "track does not create a publication ledger" sh -c "rm -f '$T/ledger-published.csv' && track --ledger '$T/ledger.csv' -o /dev/null '$T/req.csv' 2>/dev/null; test ! -e '$T/ledger-published.csv'"
exit_is 66 "a missing ledger is 66" track --ledger "$T/nope.csv" "$T/req.csv"
exit_is 64 "no --ledger is a usage error" track "$T/req.csv"
ok "--lang vi" track --ledger "$T/ledger.csv" --lang vi --as-of 2026-02-24 -o /dev/null "$T/req.csv"
like "$(cat "$T/.err")" "không phải issue hay renew" "gives the reason in Vietnamese"
done_testing
