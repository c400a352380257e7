#!/bin/sh
# report with names that carry HTML: they stay text in the page the browser
# builds (no element, no attribute of theirs); and a quiet night, nothing
# due and nothing rejected, gives a page that says so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/report-fixture.sh"
need_chromium
D=2030-06-15
# Inventory rows as scan-expiry writes them (the columns report reads),
# expiry dates fixed against the --as-of day.
cat >"$T/certs.csv" <<'CSV'
serial,subject_cn,subject_o,subject_ou,expiry_date,days_left,status
0A,<script>alert(1)</script>,"Sở ""Test"" <img src=x onerror=alert(2)>",</td></tr></table><h1>x,2030-06-25,10,expiring
0B,Nguyễn & Trần,UBND xã A'B,' onmouseover='alert(3),2030-07-25,40,expiring
0C,Lê Văn Chín,Sở Y tế,,2031-01-01,200,valid
CSV
cat >"$T/rejects.csv" <<'CSV'
request_id,full_name,agency,reject_line,reject_field,reject_reason
<b>R1</b>,<svg onload=alert(5)>,<script>x</script>,2,email,<iframe src=javascript:alert(4)></iframe>
CSV
exit_is 0 "report reads the hostile night" report -q --as-of "$D" --certs "$T/certs.csv" --rejects "$T/rejects.csv" -o "$T/h.html"
dump_dom "$T/h.html" "$T/h.dom"
for tag in script img iframe svg:not-ours; do
    case $tag in
    svg:not-ours) is "$(grep -o '<svg' "$T/h.dom" | wc -l)" "1" "the only svg element is the forecast" ;;
    *) is "$(grep -o "<$tag" "$T/h.dom" | wc -l)" "0" "no <$tag> element in the rendered page" ;;
    esac
done
is "$(grep -o '<h1' "$T/h.dom" | wc -l)" "1" "a name cannot close the table and open a heading"
onattrs=$(/usr/bin/python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import report_oracle as o
b = o.Builder(); b.feed(open(sys.argv[2], encoding="utf-8").read())
print(sum(1 for n in b.root.all() for a in n.attrs if a.startswith("on")))' "$TOP/tests/cli" "$T/h.dom")
is "$onattrs" "0" "no element has an event-handler attribute (onerror, onload, onmouseover)"
texts=$(/usr/bin/python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import report_oracle as o
b = o.Builder(); b.feed(open(sys.argv[2], encoding="utf-8").read())
for tr in b.root.all("tr"):
    for c in tr.children:
        if isinstance(c, o.Node) and c.attrs.get("data-k") in ("name", "agency", "unit", "reason", "id"):
            print(c.attrs["data-k"] + "=" + c.text())' "$TOP/tests/cli" "$T/h.dom")
like "$texts" '^name=<script>alert\(1\)</script>$' "the holder named <script>alert(1)</script> is shown as that text"
like "$texts" '^agency=Sở "Test" <img src=x onerror=alert\(2\)>$' "an agency name with an <img> is text"
like "$texts" "^unit=' onmouseover='alert\\(3\\)\$" "a unit with quotes is text"
like "$texts" '^unit=</td></tr></table><h1>x$' "a unit that closes the table is text"
like "$texts" '^reason=<iframe src=javascript:alert\(4\)></iframe>$' "a reason with an iframe is text"
like "$texts" '^name=Nguyễn & Trần$' "an ampersand is shown as it is"
oracle "$T/h.dom" "$D" --certs "$T/certs.csv" --rejects "$T/rejects.csv"

# A quiet night: nothing within 60 days, no form rejected, no form at all.
cat >"$T/quiet.csv" <<'CSV'
serial,subject_cn,subject_o,subject_ou,expiry_date,days_left,status
01,Lê Văn Chín,Sở Y tế,,2031-01-01,200,valid
02,Trần Thị Mai,Sở Y tế,,2030-08-20,66,valid
03,Phạm Văn Tư,Sở Tư pháp,,2030-06-14,-1,expired
04,Võ Thị Năm,Sở Tư pháp,,2030-09-01,78,revoked
CSV
printf 'request_id,full_name,agency,reject_line,reject_field,reject_reason\n' >"$T/no-rejects.csv"
: >"$T/no-valid.csv"
exit_is 0 "report on a quiet night" report --as-of "$D" --certs "$T/quiet.csv" --rejects "$T/no-rejects.csv" \
    --valid "$T/no-valid.csv" -o "$T/q.html" --mail-to office@lamdong.gov.vn --mail-records "$T/q.csv"
like "$(cat "$T/.err")" '^report: 4 in, 4 out, 0 rejected' "the summary counts the four certificates (the empty files have no rows)"
dump_dom "$T/q.html" "$T/q.dom"
ok "the page says nothing needs doing today" grep -q 'id="all-clear"[^>]*>Hôm nay không có việc cần xử lý' "$T/q.dom"
ok "the page says no certificate is due within 60 days" grep -q 'id="due-none"[^>]*>Không có chứng thư nào hết hạn trong 60 ngày tới' "$T/q.dom"
ok "the page says no form was rejected last night" grep -q 'id="rejected-none"[^>]*>Đêm qua không có hồ sơ nào bị từ chối' "$T/q.dom"
summary=$(/usr/bin/python3 -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
print(len(rows), rows[0]["email"], rows[0]["to_chase"], rows[0]["rejected"])
print(rows[0]["summary"])' "$T/q.csv")
like "$summary" '^1 office@lamdong.gov.vn 0 0$' "the mail record: one row for the address, nothing to chase, nothing rejected"
like "$summary" '^Hôm nay không có việc cần xử lý.$' "and its summary says nothing needs doing"
report -q --as-of "$D" --certs "$T/quiet.csv" -o "$T/q2.html" --mail-to= --mail-records "$T/q2.csv"
is "$(/usr/bin/python3 -c 'import csv,sys; print(len(list(csv.DictReader(open(sys.argv[1], newline="")))))' "$T/q2.csv")" "0" \
    "no address: the mail records are only the header"
exit_is 64 "--mail-records - with the page on stdout too is a usage error" report -q --as-of "$D" --certs "$T/quiet.csv" --mail-records -
oracle "$T/q.dom" "$D" --certs "$T/quiet.csv" --rejects "$T/no-rejects.csv" --valid "$T/no-valid.csv"
done_testing
