#!/bin/sh
# notify: data that looks like RFC 2047 encoded-words (=?charset?q?...?=)
# must not turn into another address or another subject in the letter's
# headers (issue 13). The messages are read back with Python's email
# package, which decodes encoded-words wherever it finds them: the test
# expects the data's own text, with its "=?" broken, and one recipient.
. "$(dirname "$0")/lib.sh"
readmail() { /usr/bin/python3 "$TOP/tests/cli/notify_mail.py" "$@"; }
export CB_TEMPLATES="${CB_TEMPLATES:-$TOP/templates}"
FROM='Sở Khoa học và Công nghệ Lâm Đồng <chungthu@lamdong.gov.vn>'

cat >"$T/evil.csv" <<'CSV'
serial,subject_cn,email,expiry_date,days_left,status
0A,=?utf-8?q?x?= <evil@x.com>,h@lamdong.gov.vn,2027-01-01,30,expiring
0B,Nguyễn =?utf-8?b?ZXZpbEB4LmNvbQ==?= An,an@lamdong.gov.vn,2027-01-01,30,expiring
CSV
cat >"$T/echo.txt" <<'TPL'
Subject: Thư cho {{subject_cn}}
To-Name: {{subject_cn}}

Kính gửi {{subject_cn}}.
TPL

notify --template expiring --as-of 2026-12-01 --from "$FROM" "$T/evil.csv" >"$T/a.mbox" 2>"$T/err"
readmail mbox "$T/a.mbox" >"$T/a.txt"
is "$(grep '^to_count:' "$T/a.txt" | tr '\n' ' ')" "to_count: 1 to_count: 1 " "each letter has one recipient"
is "$(grep '^to_addr:' "$T/a.txt" | tr '\n' ' ')" "to_addr: h@lamdong.gov.vn to_addr: an@lamdong.gov.vn " \
    "sent to the records' addresses, never to evil@x.com"
is "$(grep '^to_name:' "$T/a.txt" | sed -n 1p)" "to_name: = ?utf-8?q?x?= <evil@x.com>" \
    "the display name reads as the data's text, not decoded to 'x <evil@x.com>'"
is "$(grep '^to_name:' "$T/a.txt" | sed -n 2p)" "to_name: Nguyễn = ?utf-8?b?ZXZpbEB4LmNvbQ== ?= An" \
    "a Vietnamese name around an encoded-word: each =? of it broken to = ?, so it stays inert"

notify --template "$T/echo.txt" --as-of 2026-12-01 --from "$FROM" "$T/evil.csv" >"$T/b.mbox" 2>"$T/err"
readmail mbox "$T/b.mbox" >"$T/b.txt"
is "$(grep '^subject:' "$T/b.txt" | sed -n 1p)" "subject: Thư cho = ?utf-8?q?x?= <evil@x.com>" \
    "a subject made from the data keeps the data's text"
is "$(grep '^subject:' "$T/b.txt" | sed -n 2p)" "subject: Thư cho Nguyễn = ?utf-8?b?ZXZpbEB4LmNvbQ== ?= An" \
    "and does not decode the encoded-word the data carried"
is "$(grep '^body:' "$T/b.txt" | sed -n 1p)" "body: Kính gửi =?utf-8?q?x?= <evil@x.com>." \
    "the body, which no reader decodes, keeps the data as written"
ok "no header of either letter names evil@x.com outside a quoted display name" \
    sh -c "! grep -E '^(To|Cc|Bcc|Reply-To|From):' '$T/a.mbox' '$T/b.mbox' | grep -v '\"' | grep -q evil"

done_testing
