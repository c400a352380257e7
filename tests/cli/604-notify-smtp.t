#!/bin/sh
# notify: delivery to a real SMTP server (Debian's aiosmtpd on 127.0.0.1,
# with a handler that refuses one address), the refused recipient, and a
# server that is down (exit 75, records rejected, sent again next run).
. "$(dirname "$0")/lib.sh"
readmail() { /usr/bin/python3 "$TOP/tests/cli/notify_mail.py" "$@"; }
export CB_TEMPLATES="${CB_TEMPLATES:-$TOP/templates}"
if ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
    echo "1..0 # SKIP Debian's python3-aiosmtpd is not installed"
    exit 0
fi
free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
mkdir "$T/inbox"
PYTHONPATH="$TOP/tests/cli" /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$PORT" \
    -c notify_smtpd.Handler "$T/inbox" refused@lamdong.gov.vn 2>"$T/smtpd.err" &
SMTPD=$!
trap 'kill $SMTPD 2>/dev/null; rm -rf "$T"' EXIT INT TERM
i=0
until /usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1
done

cat >"$T/certs.csv" <<'CSV'
serial,subject_cn,email,expiry_date,days_left
A1,Nguyễn Văn An,an@lamdong.gov.vn,2026-03-15,54
R9,Người Bị Từ Chối,refused@lamdong.gov.vn,2026-03-16,55
B2,Trần Thị Bình,binh@lamdong.gov.vn,2026-02-10,21
CSV
notify --template expiring --from 'Sở KH&CN Lâm Đồng <chungthu@lamdong.gov.vn>' --smtp "smtp://127.0.0.1:$PORT" \
    --ledger "$T/ledger.csv" --rejects "$T/rej.csv" "$T/certs.csv" >"$T/log.csv" 2>"$T/err"
is "$?" 0 "a refused recipient is a reject, not a failed run"
readmail dir "$T/inbox" >"$T/got.txt"
is "$(grep -c '^--$' "$T/got.txt")" 2 "the server received the two accepted messages"
is "$(grep '^to_addr:' "$T/got.txt" | tr '\n' ' ')" "to_addr: an@lamdong.gov.vn to_addr: binh@lamdong.gov.vn " "each to its holder"
is "$(cat "$T/inbox/0001.eml.rcpt")" "an@lamdong.gov.vn" "the SMTP envelope recipient is the holder"
is "$(grep '^subject:' "$T/got.txt" | head -1)" "subject: Thông báo: chứng thư số sắp hết hạn sử dụng" "the subject arrives decodable"
is "$(grep -c '^body:    Ngày hết hạn: 10/02/2026 (còn 21 ngày)$' "$T/got.txt")" 1 "the body arrives intact"
is "$(csv_col "$T/log.csv" status | tr '\n' ' ')" "sent refused sent " "the log: sent, refused, sent"
is "$(csv_col "$T/rej.csv" serial)" "R9" "the refused recipient's record is rejected"
like "$(csv_col "$T/rej.csv" reject_reason)" '550' "with the server's answer"
is "$(csv_col "$T/ledger.csv" recipient | tr '\n' ' ')" "an@lamdong.gov.vn binh@lamdong.gov.vn " "only what was sent enters the ledger"
like "$(cat "$T/err")" '3 in, 2 out, 1 rejected' "summary: 3 in, 2 out, 1 rejected"

kill $SMTPD; wait $SMTPD 2>/dev/null
printf 'serial,subject_cn,email,expiry_date,days_left\nC3,Lê Cúc,cuc@lamdong.gov.vn,2026-03-01,40\nD4,Phạm Dung,dung@lamdong.gov.vn,2026-03-02,41\n' >"$T/more.csv"
exit_is 75 "the server down: exit 75 (temporary failure)" \
    notify --template expiring --smtp "smtp://127.0.0.1:$PORT" --retries 1 --retry-delay 0 \
    --ledger "$T/ledger.csv" --rejects "$T/rej2.csv" "$T/more.csv"
is "$(csv_col "$T/rej2.csv" serial | tr '\n' ' ')" "C3 D4 " "both records are rejected, none lost"
like "$(csv_col "$T/rej2.csv" reject_reason | head -1)" 'next run' "the reason says the next run will send it"
is "$(csv_col "$T/ledger.csv" recipient | wc -l | tr -d ' ')" 2 "the ledger does not record what was not sent"

PORT2=$(free_port)
mkdir "$T/inbox2"
PYTHONPATH="$TOP/tests/cli" /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$PORT2" \
    -c notify_smtpd.Handler "$T/inbox2" refused@lamdong.gov.vn 2>>"$T/smtpd.err" &
SMTPD=$!
i=0
until /usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $PORT2), 1)" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1
done
cat "$T/certs.csv" >"$T/all.csv"; sed 1d "$T/more.csv" >>"$T/all.csv"
notify --template expiring --smtp "smtp://127.0.0.1:$PORT2" --ledger "$T/ledger.csv" -q "$T/all.csv" >"$T/log3.csv" 2>/dev/null
is "$(csv_col "$T/log3.csv" recipient | tr '\n' ' ')" "refused@lamdong.gov.vn cuc@lamdong.gov.vn dung@lamdong.gov.vn " "the next run sends what failed, and not what was sent"
is "$(ls "$T/inbox2" | grep -c 'eml$')" 2 "the server got the two from the failed run"
printf 'login\n' >"$T/login"
exit_is 65 "a login file without a password line is a data error" \
    notify --template expiring --smtp "smtp://127.0.0.1:$PORT2" --smtp-login "$T/login" "$T/certs.csv"
kill $SMTPD; wait $SMTPD 2>/dev/null
done_testing
