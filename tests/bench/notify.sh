#!/bin/sh
# notify benchmark: 5000 certificate records rendered with the shipped
# "expiring" template into an mbox, against a baseline that builds the same
# messages with Python's email package (EmailMessage, UTF-8, RFC 2047) into
# an mbox. Prints both times and the ratio; no timed assertion.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CB_BIN:-$TOP/bin}
N=${N:-5000}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
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
t0=$(date +%s.%N)
CB_TEMPLATES="$TOP/templates" "$BIN/notify" -q --template expiring --from 'Sở KH&CN Lâm Đồng <ca@lamdong.gov.vn>' \
    -o "$T/ours.mbox" "$T/certs.csv"
t1=$(date +%s.%N)
/usr/bin/python3 "$T/base.py" "$T/certs.csv" "$T/body.txt" "$T/base.mbox"
t2=$(date +%s.%N)
awk -v n="$N" -v t0="$t0" -v t1="$t1" -v t2="$t2" 'BEGIN {
    printf "notify: %d messages to mbox: notify %.2f s, python email baseline %.2f s, ratio (baseline/notify) %.1fx\n",
        n, t1 - t0, t2 - t1, (t2 - t1) / (t1 - t0) }'
