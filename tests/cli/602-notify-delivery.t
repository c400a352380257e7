#!/bin/sh
# notify: what data may do to a message (nothing to its headers), and the
# local deliveries: mbox, Maildir (tmp then new), sendmail without a shell,
# certificate attachments.
. "$(dirname "$0")/lib.sh"
readmail() { /usr/bin/python3 "$TOP/tests/cli/notify_mail.py" "$@"; }
export CB_TEMPLATES="${CB_TEMPLATES:-$TOP/templates}"

printf 'Subject: Notice for {{subject_cn}}\nTo-Name: {{subject_cn}}\n\nFrom the office: certificate {{serial}}.\n' >"$T/plain.txt"
printf 'serial,subject_cn,email,expiry_date,days_left\n' >"$T/inj.csv"
printf '01,"Evil\r\nBcc: spy@evil.example",a@lamdong.gov.vn,2026-03-15,54\n' >>"$T/inj.csv"
printf '02,"Name\nX-Injected: yes\n\nfake body",b@lamdong.gov.vn,2026-03-15,54\n' >>"$T/inj.csv"
printf '03,Ok,"c@lamdong.gov.vn\r\nBcc: spy@evil.example",2026-03-15,54\n' >>"$T/inj.csv"
printf '04,Ok,"d@lamdong.gov.vn, spy@evil.example",2026-03-15,54\n' >>"$T/inj.csv"
printf '05,Ok,Spy <spy@evil.example>,2026-03-15,54\n' >>"$T/inj.csv"
printf '06,Ok,e@lamdong.gov.vn>\0x,2026-03-15,54\n' | tr -d '\0' >>"$T/inj.csv"
notify --template "$T/plain.txt" --from ca@lamdong.gov.vn --rejects "$T/inj.rej" "$T/inj.csv" >"$T/inj.mbox" 2>"$T/err"
readmail mbox "$T/inj.mbox" >"$T/inj.out"
is "$(grep -c '^--$' "$T/inj.out")" 2 "only the two records with plain addresses are sent"
is "$(grep -c 'bcc' "$T/inj.out")" 0 "a name with CR/LF and 'Bcc:' adds no Bcc header"
is "$(grep -c 'x-injected' "$T/inj.out")" 0 "a name with LF and a header line adds no header"
is "$(grep '^to_count:' "$T/inj.out" | sort -u)" "to_count: 1" "each message has exactly one recipient"
is "$(grep '^subject:' "$T/inj.out" | head -1)" "subject: Notice for Evil Bcc: spy@evil.example" "the line break in the subject became a space"
is "$(grep -c '^body: fake body' "$T/inj.out")" 0 "a blank line in a name cannot start the body early"
is "$(csv_col "$T/inj.rej" serial | tr '\n' ' ')" "03 04 05 06 " "addresses with CR/LF, a comma, a display name or '>' are rejects"
is "$(csv_col "$T/inj.rej" reject_field | sort -u)" "email" "the reject names the email column"
like "$(cat "$T/err")" '6 in, 2 out, 4 rejected' "summary: 6 in, 2 out, 4 rejected"
is "$(grep -c '^body: >*From the office' "$T/inj.out")" 2 "a body line starting 'From ' does not split the mbox"

printf 'serial,subject_cn,email,expiry_date,days_left\n01,An,a@lamdong.gov.vn,2026-03-15,54\n02,Bình,b@lamdong.gov.vn,2026-03-16,55\n03,Cúc,c@lamdong.gov.vn,2026-03-17,56\n' >"$T/three.csv"
notify --template expiring --from ca@lamdong.gov.vn --maildir "$T/Maildir" "$T/three.csv" >"$T/log.csv" 2>"$T/err"
is "$(ls "$T/Maildir/new" | wc -l | tr -d ' ')" 3 "Maildir: three messages in new/"
is "$(ls "$T/Maildir/tmp" | wc -l | tr -d ' ')" 0 "Maildir: nothing left in tmp/"
ok "Maildir: cur/ exists" test -d "$T/Maildir/cur"
readmail maildir "$T/Maildir" >"$T/md.out"
is "$(grep '^to_addr:' "$T/md.out" | sort | tr '\n' ' ')" "to_addr: a@lamdong.gov.vn to_addr: b@lamdong.gov.vn to_addr: c@lamdong.gov.vn " "Maildir: one message per holder"
is "$(grep '^message_id:' "$T/md.out" | sort -u | wc -l | tr -d ' ')" 3 "every message has its own Message-ID"
is "$(head -1 "$T/log.csv")" "recipient,subject,message_id,records,status,detail" "the log has a header"
is "$(csv_col "$T/log.csv" status | sort -u)" "sent" "the log says each was sent"
is "$(csv_col "$T/log.csv" message_id | sort | tr '\n' ' ')" "$(grep '^message_id:' "$T/md.out" | sed 's/^message_id: <\(.*\)>$/\1/' | sort | tr '\n' ' ')" "the log's message ids are those of the messages"

cat >"$T/fake-sendmail" <<EOF
#!/bin/sh
n=\$(ls "$T/sm" | grep -c eml)
printf '%s\n' "\$@" >"$T/sm/\$n.args"
cat >"$T/sm/\$n.eml"
EOF
chmod +x "$T/fake-sendmail"
mkdir "$T/sm"
notify --template expiring --from ca@lamdong.gov.vn --sendmail="$T/fake-sendmail -t -oi ;touch:$T/pwned" "$T/three.csv" >/dev/null 2>"$T/err"
is "$(ls "$T/sm" | grep -c 'eml$')" 3 "sendmail: run once per message"
is "$(cat "$T/sm/0.args" | tr '\n' ' ')" "-t -oi ;touch:$T/pwned " "sendmail: arguments passed as they are, no shell"
ok "sendmail: nothing a shell would run happened" test ! -e "$T/pwned"
is "$(readmail dir "$T/sm" | grep -c '^--$')" 3 "sendmail: it received whole messages"
exit_is 69 "a sendmail that cannot be run stops the run (69)" notify --template expiring --sendmail="$T/no-such-sendmail" "$T/three.csv"
printf '#!/bin/sh\ncat >/dev/null\nexit 67\n' >"$T/refusing"; chmod +x "$T/refusing"
exit_is 0 "sendmail refusing (exit 67) rejects the records, the run goes on" notify --template expiring --sendmail="$T/refusing" "$T/three.csv"
like "$(cat "$T/.err")" '3 in, 0 out, 3 rejected' "and counts them as rejected"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=Hoàng Văn Em" -days 30 \
    -keyout "$T/k.pem" -out "$T/5C3D.pem" 2>/dev/null
want=$(openssl x509 -in "$T/5C3D.pem" -outform DER | sha256sum | cut -d' ' -f1)
printf 'request_id,serial,subject_cn,email,agency,path,not_after,status\nGH-01,5C3D,Hoàng Văn Em,em@lamdong.gov.vn,Sở Tài chính,%s,2029-02-28,ok\nGH-02,5C3E,Bà B,b@lamdong.gov.vn,Sở Tài chính,%s,2029-02-28,ok\n' "$T/5C3D.pem" "$T/missing.pem" >"$T/man.csv"
notify --template renewal-ready --attach path --rejects "$T/att.rej" "$T/man.csv" 2>/dev/null | readmail mbox /dev/stdin >"$T/att.out"
is "$(grep '^attachment:' "$T/att.out")" "attachment: 5C3D.cer application/pkix-cert $want" "--attach: the certificate as DER (same hash as openssl x509 -outform DER)"
is "$(csv_col "$T/att.rej" request_id)" "GH-02" "--attach: a certificate file that is not there is a reject"
# Letters into an mbox or a Maildir are built a batch at a time on two
# threads and sent in input order: 400 records, every 9th with a bad
# address (rejected when read) and every 13th naming a file that is no
# certificate (rejected when its letter is made); the letters, the log and
# the rejects keep the records' order.
echo 'not a certificate' >"$T/junk.pem"
/usr/bin/python3 - "$T/5C3D.pem" "$T/junk.pem" >"$T/order.csv" <<'PY'
import sys
print("serial,subject_cn,email,expiry_date,days_left,path")
for i in range(1, 401):
    mail = "bad address %d" % i if i % 9 == 0 else "u%03d@lamdong.gov.vn" % i
    path = sys.argv[2] if i % 13 == 0 else sys.argv[1]
    print("S%03d,Người %d,%s,2026-03-15,30,%s" % (i, i, mail, path))
PY
want_sent=$(/usr/bin/python3 -c 'print(" ".join("u%03d@lamdong.gov.vn" % i for i in range(1, 401) if i % 9 and i % 13))')
want_rej=$(/usr/bin/python3 -c 'print(" ".join("S%03d" % i for i in range(1, 401) if i % 9 == 0 or i % 13 == 0))')
notify --template expiring --attach path --rejects "$T/order-mbox.rej" "$T/order.csv" >"$T/order.mbox" 2>/dev/null
is "$(/usr/bin/python3 -c '
import mailbox, sys
print(" ".join(str(m["To"]).split("<")[-1].rstrip(">") for m in mailbox.mbox(sys.argv[1])))' "$T/order.mbox")" \
    "$want_sent" "mbox: the letters in the records' order"
is "$(csv_col "$T/order-mbox.rej" serial | paste -sd' ' -)" "$want_rej" "mbox: the rejects in the records' order"
notify --template expiring --attach path --ledger "$T/order-ledger.csv" --maildir "$T/order-md" \
    --rejects "$T/order-md.rej" -o "$T/order.log" "$T/order.csv" 2>/dev/null
is "$(csv_col "$T/order.log" recipient | paste -sd' ' -)" "$want_sent" "Maildir: the log in the records' order"
is "$(csv_col "$T/order-ledger.csv" recipient | paste -sd' ' -)" "$want_sent" "Maildir: the ledger in the records' order"
is "$(csv_col "$T/order-md.rej" serial | paste -sd' ' -)" "$want_rej" "Maildir: the rejects in the records' order"
is "$(/usr/bin/python3 -c '
import mailbox, sys
print(len(mailbox.Maildir(sys.argv[1], factory=None, create=False)))' "$T/order-md")" 329 "Maildir: each letter once (Python mailbox)"
done_testing
