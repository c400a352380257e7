#!/bin/sh
# notify benchmark: N certificate records rendered with the shipped
# "expiring" template into an mbox, a Maildir and an SMTP server (aiosmtpd
# on 127.0.0.1, counting its connections), against a baseline that builds
# the same messages with Python's email package (EmailMessage, UTF-8, RFC
# 2047) into an mbox. Prints the times, letters a second and the ratios;
# no timed assertion.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CB_BIN:-$TOP/bin}
N=${N:-5000}
T=$(mktemp -d)
SMTPD=""
trap '[ -n "$SMTPD" ] && kill $SMTPD 2>/dev/null; rm -rf "$T"' EXIT
/usr/bin/python3 - "$N" >"$T/certs.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("serial,subject_cn,email,expiry_date,days_left,status")
for i in range(n):
    print("%06X,Nguyễn Văn Người %d,user%d@lamdong.gov.vn,2026-03-%02d,%d,expiring" % (i, i, i, 1 + i % 28, 40 + i % 20))
PY
cat >"$T/base.py" <<'PY'
import sys, csv, mailbox, email.utils, time
from email.message import EmailMessage
body = open(sys.argv[2], encoding="utf-8").read()
out = mailbox.mbox(sys.argv[3])
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    m = EmailMessage()
    m["From"] = email.utils.formataddr(("Sở KH&CN Lâm Đồng", "ca@lamdong.gov.vn"))
    m["To"] = email.utils.formataddr((r["subject_cn"], r["email"]))
    m["Subject"] = "Thông báo: chứng thư số sắp hết hạn sử dụng"
    m["Date"] = email.utils.format_datetime(email.utils.localtime())
    m["Message-ID"] = email.utils.make_msgid(domain="lamdong.gov.vn")
    d = r["expiry_date"].split("-")
    m.set_content(body.replace("{{subject_cn}}", r["subject_cn"]).replace("{{serial}}", r["serial"])
                  .replace("{{expiry_date|date}}", "/".join(reversed(d))).replace("{{days_left}}", r["days_left"]))
    out.add(m)
out.flush()
PY
sed '1,/^$/d' "$TOP/templates/expiring.txt" >"$T/body.txt"
now() { date +%s.%N; }
notify() {
    CB_TEMPLATES="$TOP/templates" "$BIN/notify" -q --template expiring \
        --from 'Sở KH&CN Lâm Đồng <ca@lamdong.gov.vn>' "$@"
}
t0=$(now)
notify -o "$T/ours.mbox" "$T/certs.csv"
t1=$(now)
notify --maildir "$T/md" --ledger "$T/md-ledger.csv" "$T/certs.csv" >/dev/null
t2=$(now)
/usr/bin/python3 "$T/base.py" "$T/certs.csv" "$T/body.txt" "$T/base.mbox"
t3=$(now)
got=$(ls "$T/md/new" | wc -l)
[ "$got" -eq "$N" ] || { echo "notify bench: $got letters in the Maildir, not $N" >&2; exit 1; }

# SMTP: one server, counting the connections notify opens.
mkdir "$T/smtp"
/usr/bin/python3 "$TOP/tests/cli/smtp_count.py" "$T/port" "$T/smtp" --discard &
SMTPD=$!
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
t4=$(now)
notify --smtp "smtp://127.0.0.1:$(cat "$T/port")" "$T/certs.csv" >/dev/null
t5=$(now)
conns=$(cat "$T/smtp/connections")
msgs=$(cat "$T/smtp/messages")
awk -v n="$N" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v t3="$t3" -v t4="$t4" -v t5="$t5" \
    -v conns="$conns" -v msgs="$msgs" 'BEGIN {
    mbox = t1 - t0; md = t2 - t1; base = t3 - t2; smtp = t5 - t4
    printf "notify: %d messages to mbox: notify %.2f s, python email baseline %.2f s, ratio (baseline/notify) %.1fx\n",
        n, mbox, base, base / mbox
    printf "notify: letters/s: mbox %.0f, Maildir (with --ledger) %.0f, SMTP %.0f; python baseline (mbox) %.0f\n",
        n / mbox, n / md, n / smtp, n / base
    printf "notify: ratio to the baseline: mbox %.1fx, Maildir %.1fx, SMTP %.1fx; Maildir/mbox %.2f\n",
        base / mbox, base / md, base / smtp, mbox / md
    printf "notify: SMTP: %d messages over %d connection(s)\n", msgs, conns }'
