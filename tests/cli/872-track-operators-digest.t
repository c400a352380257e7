#!/bin/sh
# The central agency's operators get one letter a day, in Vietnamese, from
# pipelines/central-publication.yaml: the requests that are late first, then
# those due that day, each with its step and due date (track --due, then
# notify's digest). Read back with Python's email package, from a Maildir
# and from a real SMTP server (aiosmtpd on 127.0.0.1), over two days in a
# row, each run twice: a re-run of a day sends no second letter.
. "$(dirname "$0")/lib.sh"
need_samples
export CB_TEMPLATES="${CB_TEMPLATES:-$TOP/templates}"
PL=$TOP/pipelines/central-publication.yaml
PY=/usr/bin/python3
OPS=vanhanh@cuc.gov.vn

# The working days of March 2026 (no holiday): Mon 2, Tue 3, Wed 4, Thu 5,
# Fri 6, Mon 9, Tue 10, Wed 11, Thu 12, Fri 13. Issue due 3 working days
# after receipt, the whole procedure 4 (the day of receipt not counted):
#   HS-TODAY  received Thu 5/3:  issue due Tue 10/3, procedure Wed 11/3
#   HS-LATE   received Mon 2/3:  issue due Thu 5/3,  procedure Fri 6/3
#   HS-LATER  received Mon 9/3:  issue due Thu 12/3, procedure Fri 13/3
#   HS-WED    received Fri 6/3:  issue due Wed 11/3, procedure Thu 12/3
#   HS-ISSUED received Wed 4/3:  issued Fri 6/3 (on time), waits for the
#             agency; procedure due Tue 10/3
# On Tue 10/3: late HS-LATE (5/3); due today HS-TODAY, HS-ISSUED.
# On Wed 11/3: late HS-TODAY (10/3), HS-LATE (5/3), HS-ISSUED (10/3);
#              due today HS-WED.
make_state() {  # DIR
    mkdir -p "$1/ca" "$1/batches/b1"
    cp "$SAMPLES/issuing-ca.pem" "$1/ca/"
    install -m 0600 "$SAMPLES/issuing-ca-enc.key" "$1/ca/issuing-ca.key"
    install -m 0600 "$SAMPLES/ca-pass.txt" "$1/ca/issuing-ca.pass"
    cat >"$1/batches/b1/valid.csv" <<'EOF'
request_id,form,full_name,email,agency,received_date,request_type,subject_type
HS-TODAY,01,Trần Văn Bảo,bao.tv@lamdong.gov.vn,Sở Tài chính tỉnh Lâm Đồng,2026-03-05,issue,individual
HS-LATE,01,Nguyễn Thị Hoà,hoa.nt@lamdong.gov.vn,Sở Nội vụ tỉnh Lâm Đồng,2026-03-02,issue,individual
HS-LATER,01,Lê Văn Cường,cuong.lv@lamdong.gov.vn,Sở Y tế tỉnh Lâm Đồng,2026-03-09,issue,individual
HS-WED,01,Phạm Thị Dung,dung.pt@lamdong.gov.vn,Sở Y tế tỉnh Lâm Đồng,06/03/2026,issue,individual
HS-ISSUED,01,Đặng Đức Thuỷ,thuy.dd@lamdong.gov.vn,Sở Nội vụ tỉnh Lâm Đồng,2026-03-04,issue,individual
EOF
    cat >"$1/issued-ledger.csv" <<'EOF'
request_id,request_type,old_serial,serial,subject,not_after,sha256,issued_at
HS-ISSUED,issue,,3A01,CN=Đặng Đức Thuỷ,2029-03-06T06:59:59+07:00,,2026-03-06T10:00:00+07:00
EOF
}
run_day() {  # STATE DAY [--set ...]
    _s=$1 _d=$2; shift 2
    run-pipeline --as-of "$_d" --set state="$_s" --set operators=$OPS "$@" "$PL"
}
# Each letter: "to|subject", then one line a request: "due_text|request_id|due".
letters() {  # maildir DIR | dir DIR
    $PY - "$@" <<'EOF'
import email, email.policy, mailbox, os, re, sys
kind, path = sys.argv[1], sys.argv[2]
if kind == "maildir":
    raws = [m.as_bytes() for m in mailbox.Maildir(path, factory=None, create=False)]
else:
    raws = [open(os.path.join(path, n), "rb").read() for n in sorted(os.listdir(path)) if n.endswith(".eml")]
out = []
for raw in raws:
    m = email.message_from_bytes(raw, policy=email.policy.default)
    body = m.get_body(preferencelist=("plain",)).get_content()
    items = re.findall(r"^\d+\. \[([^\]]+)\] Mã hồ sơ: (\S+) .*\n.*\n   Hạn: (\d\d/\d\d/\d{4});", body, re.M)
    out.append("%s|%s\n%s" % (m["To"].addresses[0].addr_spec, m["Subject"],
                              "\n".join("|".join(i) for i in items)))
print("\n--\n".join(sorted(out, key=lambda s: s.split("\n", 1)[0])))
EOF
}

S=$T/st
make_state "$S"
exit_is 0 "day 1 (Tue 10/3/2026): central-publication runs, with nothing to publish" run_day "$S" 2026-03-10
is "$(letters maildir "$S/mail")" "$OPS|Hồ sơ quá hạn và đến hạn ngày 10/03/2026 (3 hồ sơ)
QUÁ HẠN|HS-LATE|05/03/2026
đến hạn hôm nay|HS-TODAY|10/03/2026
đến hạn hôm nay|HS-ISSUED|10/03/2026" \
   "one letter to the operators: the late request first, then the two due today, each with its due date"
$PY - "$S/mail" >"$T/body1.txt" <<'EOF'
import email, email.policy, mailbox, sys
for m in mailbox.Maildir(sys.argv[1], factory=None, create=False):
    print(email.message_from_bytes(m.as_bytes(), policy=email.policy.default).get_body(("plain",)).get_content())
EOF
like "$(cat "$T/body1.txt")" "HS-LATE – Nguyễn Thị Hoà, Sở Nội vụ tỉnh Lâm Đồng
   Bước hiện tại: đã tiếp nhận hồ sơ, chờ cấp chứng thư số \\(từ ngày 02/03/2026\\)
   Hạn: 05/03/2026; hạn hoàn thành thủ tục: 06/03/2026" "each request with its holder, agency, step in Vietnamese and both due dates"
like "$(cat "$T/body1.txt")" "HS-ISSUED .*
   Bước hiện tại: đã cấp chứng thư số, chờ cơ quan quản lý bàn giao thiết bị và đề nghị thời điểm có hiệu lực \\(từ ngày 06/03/2026\\)" \
   "an issued request waits for the agency's hand-over, said so"
is "$(mlr --icsv --onidx cut -f records "$S/effective/2026-03-10/operators-digest.csv")" "3" "the day's log: one letter of three requests"

exit_is 0 "day 1 run again" run_day "$S" 2026-03-10
is "$(ls "$S/mail/new" | wc -l | tr -d ' ')" "1" "the re-run sends no second letter for the same day"

exit_is 0 "day 2 (Wed 11/3/2026)" run_day "$S" 2026-03-11
is "$(letters maildir "$S/mail" | sed -n '/11\/03\/2026 (/,$p')" "$OPS|Hồ sơ quá hạn và đến hạn ngày 11/03/2026 (4 hồ sơ)
QUÁ HẠN|HS-TODAY|10/03/2026
QUÁ HẠN|HS-LATE|05/03/2026
QUÁ HẠN|HS-ISSUED|10/03/2026
đến hạn hôm nay|HS-WED|11/03/2026" \
   "the next day a new letter: yesterday's due ones are late now, listed first, then the one due today"
exit_is 0 "day 2 run again" run_day "$S" 2026-03-11
is "$(ls "$S/mail/new" | wc -l | tr -d ' ')" "2" "two days, two letters, whatever the re-runs"

# No operators' address: the pipeline runs, no letter.
S0=$T/st0
make_state "$S0"
exit_is 0 "without --set operators the pipeline runs" \
    run-pipeline --as-of 2026-03-10 --set state="$S0" "$PL"
is "$(find "$S0" -path '*/mail/new/*' -type f | wc -l | tr -d ' ')" "0" "and mails nobody"

# track --due by itself: the late ones first, nothing else, the counts kept.
track --ledger "$S/issued-ledger.csv" --as-of 2026-03-10 --due "$S/batches/b1/valid.csv" >"$T/due.csv" 2>"$T/due.err"
is "$(mlr --icsv --onidx --ofs '|' cut -o -f request_id,overdue,due_text,due_on "$T/due.csv")" "HS-LATE|yes|LATE|2026-03-05
HS-TODAY|no|due today|2026-03-10
HS-ISSUED|no|due today|2026-03-10" "track --due: late first, then due today (in English without --lang vi)"
like "$(cat "$T/due.err")" "track: 5 in, 3 out, 0 rejected, 2 filtered" "the two not due yet are filtered, none lost"
track --ledger "$S/issued-ledger.csv" --as-of 2026-03-10 --due --mail-to= "$S/batches/b1/valid.csv" >/dev/null 2>"$T/none.err"
like "$(cat "$T/none.err")" "5 in, 0 out, 0 rejected, 5 filtered" "--mail-to '': every row filtered, no letter to make"
: >"$T/empty.csv"
track --ledger "$S/issued-ledger.csv" --as-of 2026-03-10 --due --mail-to $OPS "$T/empty.csv" >"$T/empty-out.csv" 2>"$T/empty.err"
is "$?:$(grep -c . "$T/empty-out.csv")" "0:1" "an empty input: exit 0, the header only"

# The same letters through a real SMTP server.
if ! $PY -c 'import aiosmtpd' 2>/dev/null; then
    skip "the letters by SMTP" "Debian's python3-aiosmtpd is not installed"
    done_testing
    exit
fi
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir "$T/inbox"
PYTHONPATH="$TOP/tests/cli" $PY -m aiosmtpd -n -l "127.0.0.1:$PORT" \
    -c notify_smtpd.Handler "$T/inbox" nobody@example.invalid 2>"$T/smtpd.err" &
SMTPD=$!
trap 'kill $SMTPD 2>/dev/null; rm -rf "$T"' EXIT INT TERM
i=0
until $PY -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1
done
S2=$T/st2
make_state "$S2"
for d in 2026-03-10 2026-03-10 2026-03-11 2026-03-11; do
    run_day "$S2" $d --set deliver=smtp://127.0.0.1:$PORT >/dev/null 2>&1 || echo "# run of $d failed"
done
is "$(letters dir "$T/inbox")" "$(letters maildir "$S/mail")" \
   "by SMTP, two days each run twice: the same two letters as in the Maildir, once each"
is "$(cat "$T/inbox"/*.rcpt | sort -u)" "$OPS" "sent to the operators' address"
kill $SMTPD; wait $SMTPD 2>/dev/null
done_testing
