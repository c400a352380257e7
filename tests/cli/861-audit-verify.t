#!/bin/sh
# The tamper-evident audit log (lib/pki/audit.c) as publish writes it, checked
# by audit-verify and independently by Python (the hash chain) and the
# openssl CLI (the checkpoints' CMS signatures): a log with one byte
# changed, one line removed or two lines swapped is caught at that line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ca.sh"
. "$(dirname "$0")/publish-fixture.sh"

make_published_fixture || echo "# fixture failed"
H=request_id,agency,handed_over_date,received_date
printf '%s\nCB-01,Sở Nội vụ tỉnh Lâm Đồng,2026-02-12,2026-02-13\nCB-02,Sở Tài chính tỉnh Lâm Đồng,2026-02-12,2026-02-13\n' "$H" >"$T/r1.csv"
printf '%s\nCB-03,Sở Nội vụ tỉnh Lâm Đồng,2026-02-12,2026-02-13\n' "$H" >"$T/r2.csv"
pub() {
    CB_ACTOR="Nguyễn Văn Vận hành" publish --ledger "$T/ledger.csv" --issued "$T/issued.pem" --out "$T/www" \
        --audit "$T/audit.csv" --audit-cert "$T/ca/ca.pem" --audit-key "$T/ca/ca.key" "$@"
}
exit_is 64 "--audit without a signing key is a usage error" publish --ledger "$T/ledger.csv" \
    --issued "$T/issued.pem" --out "$T/www" --audit "$T/audit.csv" "$T/r1.csv"
ok "a first batch is published with an audit log" pub --as-of 2026-02-23T09:00:00+07:00 -o /dev/null "$T/r1.csv"
ok "a second batch" pub --as-of 2026-02-24T09:00:00+07:00 -o /dev/null "$T/r2.csv"
ok "a run that publishes nothing adds nothing" pub --as-of 2026-02-24T10:00:00+07:00 -o /dev/null "$T/r2.csv"
is "$(csv_col "$T/audit.csv" action | tr '\n' ' ')" "publish publish checkpoint publish checkpoint " \
    "one line per publication and one checkpoint per batch"
is "$(csv_col "$T/audit.csv" seq | tr '\n' ' ')" "2 3 4 5 6 " "each line carries its line number"
is "$(csv_col "$T/audit.csv" actor | sort -u)" "Nguyễn Văn Vận hành" "who did it (CB_ACTOR)"
is "$(csv_col "$T/audit.csv" sha256 | head -1)" \
    "$(openssl x509 -in "$T/ca/hoa.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1 | tr a-f A-F)" \
    "a publication line carries the certificate's SHA-256"

cat >"$T/chain.py" <<'PY'
import hashlib, sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')[:-1]
for i in range(1, len(lines)):
    want = hashlib.sha256(lines[i - 1] + b'\n').hexdigest()
    got = lines[i].rsplit(b',', 1)[1].decode()
    if got != want:
        print('broken at line', i + 1); sys.exit(1)
print('chain of', len(lines), 'lines holds')
PY
is "$(python3 "$T/chain.py" "$T/audit.csv")" "chain of 6 lines holds" "Python finds each line's prev is the SHA-256 of the line before"

# Each checkpoint checked with the openssl CLI.
n=0
for l in 4 6; do
    line=$(sed -n "${l}p" "$T/audit.csv")
    detail=$(printf '%s\n' "$line" | python3 -c 'import csv,sys; print(next(csv.reader(sys.stdin))[8])')
    lines=$(printf '%s' "$detail" | sed 's/^lines=\([0-9]*\) .*/\1/')
    head=$(printf '%s' "$detail" | sed 's/.* head=\([0-9a-f]*\) .*/\1/')
    is "$lines" "$((l - 1))" "the checkpoint on line $l counts the $((l - 1)) lines before it"
    is "$head" "$(sed -n "$((l - 1))p" "$T/audit.csv" | openssl dgst -sha256 -r | cut -d' ' -f1)" \
        "its head is the SHA-256 of line $((l - 1))"
    printf 'certbatch-audit-checkpoint lines=%s head=%s\n' "$lines" "$head" >"$T/msg"
    printf '%s' "$detail" | sed 's/.* cms=//' | base64 -d >"$T/sig.der"
    ok "openssl cms verifies the checkpoint on line $l with the CA" \
        openssl cms -verify -binary -inform DER -in "$T/sig.der" -content "$T/msg" -CAfile "$T/ca/ca.pem" \
        -purpose any -out /dev/null
done

ok "audit-verify accepts the log" audit-verify --ca "$T/ca/ca.pem" "$T/audit.csv"
like "$(cat "$T/.out")" "6 lines, 2 signed checkpoints verify" "and says what it checked"
like "$(cat "$T/.err")" "audit-verify: 1 in, 1 out, 0 rejected" "the summary line"

# Tampering.
python3 -c '
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
l3 = bytearray(lines[2]); k = l3.index(b"publish"); l3[k] ^= 0x20   # one byte of line 3
lines[2] = bytes(l3)
open(sys.argv[2], "wb").write(b"\n".join(lines))' "$T/audit.csv" "$T/byte.csv"
ok "one byte differs" test "$(cmp -l "$T/audit.csv" "$T/byte.csv" | wc -l)" = 1
exit_is 65 "a log with one byte changed fails" audit-verify --ca "$T/ca/ca.pem" "$T/byte.csv"
like "$(cat "$T/.err")" "byte.csv:3: line 3 was changed" "and names line 3"

sed 3d "$T/audit.csv" >"$T/removed.csv"
exit_is 65 "a log with one line removed fails" audit-verify --ca "$T/ca/ca.pem" "$T/removed.csv"
like "$(cat "$T/.err")" "removed.csv:3: line 3 was removed" "and names line 3 as removed"

{ sed -n 1p "$T/audit.csv"; sed -n 3p "$T/audit.csv"; sed -n 2p "$T/audit.csv"; sed -n '4,$p' "$T/audit.csv"; } >"$T/swapped.csv"
exit_is 65 "a log with two lines swapped fails" audit-verify --ca "$T/ca/ca.pem" "$T/swapped.csv"
like "$(cat "$T/.err")" "swapped.csv:2: line 2 is out of order" "and names line 2 as out of order"

# Someone who can write the file but not sign: change line 5 and
# recompute every hash after it; the signed checkpoint on line 6 catches it.
python3 -c '
import hashlib, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
lines[4] = lines[4].replace(b"CB-03", b"CB-99")
for i in range(1, len(lines)):
    body = lines[i].rsplit(b",", 1)[0]
    lines[i] = body + b"," + hashlib.sha256(lines[i - 1] + b"\n").hexdigest().encode()
open(sys.argv[2], "wb").write(b"\n".join(lines) + b"\n")' "$T/audit.csv" "$T/rechained.csv"
is "$(python3 "$T/chain.py" "$T/rechained.csv")" "chain of 6 lines holds" "the forged chain holds for Python"
exit_is 65 "audit-verify still catches the forgery" audit-verify --ca "$T/ca/ca.pem" "$T/rechained.csv"
like "$(cat "$T/.err")" "rechained.csv:6: line 6: the checkpoint" "at the checkpoint that no longer matches"

make_ca "$T/other" "Other CA" >/dev/null 2>&1
exit_is 65 "checkpoints signed by a key the anchors do not know fail" audit-verify --ca "$T/other/ca.pem" "$T/audit.csv"
like "$(cat "$T/.err")" "line 4: the checkpoint's signature does not verify" "the first checkpoint is named"
exit_is 66 "a missing log is 66" audit-verify --ca "$T/ca/ca.pem" "$T/nope.csv"
exit_is 64 "no --ca is a usage error" audit-verify "$T/audit.csv"
printf 'x' >>"$T/audit.csv"
ok "a torn last line is cut by the next run" pub --as-of 2026-02-24T11:00:00+07:00 -o /dev/null "$T/r2.csv"
ok "and the log verifies again" audit-verify --ca "$T/ca/ca.pem" "$T/audit.csv"
done_testing
