#!/bin/sh
# notify over SMTP keeps one connection for all its letters (Debian's
# aiosmtpd on 127.0.0.1, on a port the kernel picks, counting connections):
# a refused recipient does not end the run, and a server that drops the
# connection now and then gets every letter once, on a new connection.
. "$(dirname "$0")/lib.sh"
export CB_TEMPLATES="${CB_TEMPLATES:-$TOP/templates}"
if ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
    echo "1..0 # SKIP Debian's python3-aiosmtpd is not installed"
    exit 0
fi
SMTPD=""
trap '[ -n "$SMTPD" ] && kill $SMTPD 2>/dev/null; rm -rf "$T"' EXIT INT TERM
serve() {  # DIR [smtp_count.py options...]: starts a server keeping its letters in DIR
    _d=$1
    shift
    [ -n "$SMTPD" ] && kill $SMTPD 2>/dev/null && wait $SMTPD 2>/dev/null
    mkdir "$_d"
    /usr/bin/python3 "$TOP/tests/cli/smtp_count.py" "$_d/port" "$_d" "$@" 2>"$_d/err" &
    SMTPD=$!
    _i=0
    while [ ! -s "$_d/port" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
    URL="smtp://127.0.0.1:$(cat "$_d/port")"
}
# The letters the server received: their recipients, one a line, sorted.
received() {
    /usr/bin/python3 - "$1" <<'PY'
import email, glob, sys
from email import policy
for f in sorted(glob.glob(sys.argv[1] + '/*.eml')):
    m = email.message_from_binary_file(open(f, 'rb'), policy=policy.default)
    print(m['To'].addresses[0].addr_spec)
PY
}
/usr/bin/python3 - >"$T/certs.csv" <<'PY'
print("serial,subject_cn,email,expiry_date,days_left")
for i in range(1, 31):
    print("S%02d,Người %d,n%02d@lamdong.gov.vn,2026-03-15,30" % (i, i, i))
PY
csv_col "$T/certs.csv" email | sort >"$T/all.txt"

serve "$T/one"
exit_is 0 "thirty letters over SMTP: the run succeeds" \
    notify --template expiring --smtp "$URL" --ledger "$T/one/ledger.csv" "$T/certs.csv"
is "$(received "$T/one" | sort | diff - "$T/all.txt" && echo same)" same "the server received each letter once"
is "$(cat "$T/one/connections")" 1 "over one connection"

serve "$T/refused" --refuse n07@lamdong.gov.vn
exit_is 0 "a recipient the server refuses in the middle: the run succeeds" \
    notify --template expiring --smtp "$URL" --rejects "$T/refused/rej.csv" "$T/certs.csv"
is "$(received "$T/refused" | sort | tr '\n' ' ')" "$(grep -v n07@ "$T/all.txt" | tr '\n' ' ')" \
    "the other twenty-nine letters arrive"
is "$(csv_col "$T/refused/rej.csv" serial)" "S07" "the refused one is rejected"
ok "the session goes on after the refusal (at most one new connection)" test "$(cat "$T/refused/connections")" -le 2

serve "$T/drops" --drop-after 10
exit_is 0 "a server that drops the connection after every tenth letter: the run succeeds" \
    notify --template expiring --smtp "$URL" --retries 2 --retry-delay 0 --ledger "$T/drops/ledger.csv" "$T/certs.csv"
is "$(received "$T/drops" | sort | diff - "$T/all.txt" && echo same)" same "every letter arrives once"
is "$(cat "$T/drops/connections")" 3 "on a new connection after each drop"
is "$(csv_col "$T/drops/ledger.csv" recipient | sort | diff - "$T/all.txt" && echo same)" same \
    "and the ledger records each once"

done_testing
