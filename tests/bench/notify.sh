#!/bin/sh
# notify benchmark: N certificate records rendered with the shipped
# "expiring" template into an mbox, a Maildir and an SMTP server (aiosmtpd
# on 127.0.0.1, counting its connections), against a baseline that builds
# the same messages with Python's email package (EmailMessage, UTF-8, RFC
# 2047) into an mbox. The Maildir runs are read against the disk's own
# rate, measured in the same run on the same file system: a bare C loop
# creating as many files of the letters' average size in one directory
# (tests/bench/files-baseline.c). Prints the times, letters a second and
# the ratios; no timed assertion.
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
cc -std=c11 -Wall -Wextra -Werror -O2 -o "$T/files-baseline" "$TOP/tests/bench/files-baseline.c"
# measure OUT CMD...: runs CMD with stdout to OUT, prints "wall cpu" in
# seconds (cpu: user + system of CMD, which a loaded machine changes less).
measure() {
    /usr/bin/python3 -c '
import resource, subprocess, sys, time
t = time.time()
rc = subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "wb")).returncode
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f %.3f" % (time.time() - t, u.ru_utime + u.ru_stime))
sys.exit(rc)' "$@"
}
export CB_TEMPLATES="$TOP/templates"
FROM='Sở KH&CN Lâm Đồng <ca@lamdong.gov.vn>'
mbox=$(measure /dev/null "$BIN/notify" -q --template expiring --from "$FROM" -o "$T/ours.mbox" "$T/certs.csv")
size=$(($(wc -c <"$T/ours.mbox") / N))
# The disk's bare rate just before ours and just after, each in a
# directory of its own: ext4 without a journal scans, for each new file,
# the inodes of its block group freed in the last minutes (it does not
# reuse them at once), so the rate depends on what the machine deleted
# lately and where the directory landed: ours is read against both.
bare=$("$T/files-baseline" "$T/bare" "$N" "$size")
md=$(measure /dev/null "$BIN/notify" -q --template expiring --from "$FROM" --maildir "$T/md" \
    --ledger "$T/md-ledger.csv" "$T/certs.csv")
bare2=$("$T/files-baseline" "$T/bare2" "$N" "$size")
base=$(measure /dev/null /usr/bin/python3 "$T/base.py" "$T/certs.csv" "$T/body.txt" "$T/base.mbox")
# The same on a tmpfs, when there is one: the program's own cost, without
# the disk's (a cache flush per sync, ext4's inode allocation).
shm=""
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    S=$(mktemp -d /dev/shm/notify-bench.XXXXXX)
    shm_bare=$("$T/files-baseline" "$S/bare" "$N" "$size")
    shm=$(measure /dev/null "$BIN/notify" -q --template expiring --from "$FROM" --maildir "$S/md" \
        --ledger "$S/ledger.csv" "$T/certs.csv")
    rm -rf "$S"
fi
got=$(ls "$T/md/new" | wc -l)
[ "$got" -eq "$N" ] || { echo "notify bench: $got letters in the Maildir, not $N" >&2; exit 1; }

# SMTP: one server, counting the connections notify opens.
mkdir "$T/smtp"
/usr/bin/python3 "$TOP/tests/cli/smtp_count.py" "$T/port" "$T/smtp" --discard &
SMTPD=$!
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
smtp=$(measure /dev/null "$BIN/notify" -q --template expiring --from "$FROM" \
    --smtp "smtp://127.0.0.1:$(cat "$T/port")" "$T/certs.csv")
conns=$(cat "$T/smtp/connections")
msgs=$(cat "$T/smtp/messages")
echo "$mbox $md $smtp $base" | awk -v n="$N" -v conns="$conns" -v msgs="$msgs" '{
    printf "notify: %d messages to mbox: notify %.2f s, python email baseline %.2f s, ratio (baseline/notify) %.1fx\n",
        n, $1, $7, $7 / $1
    printf "notify: letters/s (wall):       mbox %6.0f, Maildir with --ledger %6.0f, SMTP %6.0f; python baseline (mbox) %6.0f\n",
        n / $1, n / $3, n / $5, n / $7
    printf "notify: letters/s (cpu second): mbox %6.0f, Maildir with --ledger %6.0f, SMTP %6.0f; python baseline (mbox) %6.0f\n",
        n / $2, n / $4, n / $6, n / $8
    printf "notify: ratio to the baseline (wall): mbox %.1fx, Maildir %.1fx, SMTP %.1fx; Maildir/mbox %.2f\n",
        $7 / $1, $7 / $3, $7 / $5, $1 / $3
    printf "notify: SMTP: %d messages over %d connection(s)\n", msgs, conns }'
echo "$md $bare $bare2" | awk -v n="$N" -v size="$size" '{
    printf "notify: this disk bare: %.0f files of %d bytes a second (wall) before the Maildir run, %.0f after; Maildir/bare %.2f and %.2f (wall)\n",
        n / $3, size, n / $5, $3 / $1, $5 / $1 }'
[ -z "$shm" ] || echo "$shm $shm_bare" | awk -v n="$N" '{
    printf "notify: Maildir with --ledger on /dev/shm (tmpfs): %.0f letters/s (wall), %.0f a cpu second\n", n / $1, n / $2
    printf "notify: /dev/shm bare: %.0f files a second (wall); Maildir/bare %.2f (wall)\n", n / $3, $3 / $1 }'
