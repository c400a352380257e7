#!/bin/sh
# A disk that fills, standard output closed (`| head`, `>&-`), standard
# error that cannot be written: never a silent loss with exit 0. A
# diagnostic, reject, log line or ledger line that cannot be written is
# exit 74, and once there is room again the same command ends in the state
# of one uninterrupted run. The full disk is a small tmpfs mounted here
# (skipped, saying so, where mount is not permitted) or /dev/full.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sign-batch-fixture.sh"
export CB_TEMPLATES="${CB_TEMPLATES:-$TOP/templates}"
CHECK="python3 $TOP/tests/cli/crash_check.py"
P=$TESTDATA/pipelines
PATH=$P/bin:$PATH

F=$T/full
mkdir -p "$F"
mounted=0
if mount -t tmpfs -o size=256k,mode=0755 cbtest-full "$F" 2>/dev/null; then
    mounted=1
    trap 'umount "$F" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
fi
fill() {  # leaves the tmpfs with no room at all
    dd if=/dev/zero of="$F/.filler" bs=4k 2>/dev/null
    : 
}
unfill() { rm -f "$F/.filler"; }

# validate-form without --rejects, its standard error unwritable.
printf 'request_id,form,full_name\nX-1,99,A\nX-2,98,B\n' >"$T/bad.csv"
validate-form "$T/bad.csv" >/dev/null 2>/dev/full
is "$?" 74 "validate-form whose reject lines cannot be written to stderr exits 74"

# A clean run whose summary line cannot be written: the operator's count is lost.
: >"$T/empty-body.csv"
aggregate-by-agency "$T/empty-body.csv" >/dev/null 2>/dev/full
is "$?" 74 "aggregate-by-agency whose summary line cannot be written exits 74"
aggregate-by-agency -q "$T/empty-body.csv" >/dev/null 2>/dev/full
is "$?" 0 "and with -q, which asks for no summary, exits 0"

printf 'serial,subject_cn,email,expiry_date,days_left\nS1,An,not-an-address,2026-03-15,30\n' >"$T/bad-mail.csv"
notify --template expiring --dry-run "$T/bad-mail.csv" >/dev/null 2>/dev/full
is "$?" 74 "notify whose reject line cannot be written to stderr exits 74"

# run-pipeline whose log cannot be written.
exit_is 74 "run-pipeline whose run log cannot be written exits 74" \
    run-pipeline --as-of 2025-06-01 --set dir="$T" --log /dev/full "$P/basic.yaml"
like "$(cat "$T/.err")" "cannot write the run log /dev/full" "and says the log could not be written"
ok "and does not say done" sh -c "! grep -q 'done; log' '$T/.err'"

# sign-batch renew: stdout closed, then -o on a full disk.
make_ca >/dev/null 2>&1
for i in 1 2 3; do make_old_cert 0A1B2C3D4E5F600$i "Người Thứ $i" 400; done
printf 'request_id,old_serial\nGH-1,0A1B2C3D4E5F6001\nGH-2,0A1B2C3D4E5F6002\nGH-3,0A1B2C3D4E5F6003\n' >"$T/renew.csv"
sb() { sign-batch renew --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" --pass-file "$T/ca-pass.txt" \
    --old-certs "$T/old" --ledger "$T/ledger.csv" "$@" "$T/renew.csv"; }
sb 1</dev/null 2>"$T/ro.err"
is "$?" 74 "sign-batch renew whose standard output cannot be written exits 74"
rm -f "$T/ledger.csv" "$T/ledger.csv.certs.pem"
if [ -z "${LD_PRELOAD:-}" ]; then
    sb >&- 2>"$T/closed.err"
    is "$?" 74 "sign-batch renew with standard output closed exits 74"
else
    # libfaketime, preloaded, opens files before main: descriptor 1 is its.
    skip "sign-batch renew with standard output closed exits 74" "a preloaded library owns descriptor 1"
    sb 1</dev/null 2>"$T/closed.err"
fi
is "$(csv_col "$T/ledger.csv" request_id | wc -l | tr -d ' ')" 3 "the ledger holds the three renewals"
ok "and nothing but ledger lines (stdout's descriptor was not given to the ledger)" \
    sh -c "! grep -q CERTIFICATE '$T/ledger.csv'"
sb -o "$T/x.pem" 2>/dev/full
is "$?" 74 "sign-batch whose diagnostics cannot be written to stderr exits 74"
sb 2>/dev/null | head -c 100 >/dev/null
ok "a re-run into | head is not an error of the certificates (they are in the ledger's store)" \
    test "$(csv_col "$T/ledger.csv" request_id | wc -l | tr -d ' ')" = 3
sb -o "$T/update.pem" 2>"$T/re.err"
is "$?" 0 "the re-run with a working output succeeds"
is "$(openssl crl2pkcs7 -nocrl -certfile "$T/update.pem" | openssl pkcs7 -print_certs -noout | grep -c subject=)" 3 \
    "its update file holds all three renewed certificates (openssl)"
for fp in $(csv_col "$T/ledger.csv" sha256); do
    grep -q "$fp" "$T/fps" 2>/dev/null && continue
done
openssl crl2pkcs7 -nocrl -certfile "$T/update.pem" | openssl pkcs7 -print_certs | awk '/BEGIN/{n++} {print > "'"$T"'/u" n ".pem"}'
got=$(for f in "$T"/u[0-9]*.pem; do openssl x509 -in "$f" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d :; done | sort | tr '\n' ' ')
is "$got" "$(csv_col "$T/ledger.csv" sha256 | sort | tr '\n' ' ')" "the certificates out are exactly those the ledger holds"

if [ $mounted = 1 ]; then
    cp "$T/renew.csv" "$T/ca.pem" "$T/ca.key" "$T/ca-pass.txt" "$F/"
    cp -r "$T/old" "$F/old"
    rm -f "$T/ledger.csv" "$T/ledger.csv.certs.pem"
    fill
    sb -o "$F/update.pem" 2>"$T/full.err"
    is "$?" 74 "sign-batch renew with -o on a full disk exits 74"
    unfill
    sb -o "$F/update.pem" 2>"$T/full2.err"
    is "$?" 0 "with room again, the same command succeeds"
    is "$(grep -c 'BEGIN CERTIFICATE' "$F/update.pem")" 3 "and the update file holds the whole batch"
    ok "no hidden temporary file is left on the full disk" $CHECK hidden "$F"

    # The ledger itself on the full disk: nothing is issued then.
    mkdir -p "$F/st"
    fill
    sign-batch renew --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" --pass-file "$T/ca-pass.txt" \
        --old-certs "$T/old" --ledger "$F/st/ledger.csv" -o "$T/u2.pem" "$T/renew.csv" 2>"$T/l.err"
    rc=$?
    ok "sign-batch whose ledger cannot be written exits 73 or 74 (got $rc)" test $rc = 74 -o $rc = 73
    unfill
    sign-batch renew --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" --pass-file "$T/ca-pass.txt" \
        --old-certs "$T/old" --ledger "$F/st/ledger.csv" -o "$T/u2.pem" "$T/renew.csv" 2>"$T/l.err"
    is "$(csv_col "$F/st/ledger.csv" request_id | sort | tr '\n' ' ')" "GH-1 GH-2 GH-3 " \
        "with room again, the ledger holds each renewal once"
    is "$(grep -c 'BEGIN CERTIFICATE' "$T/u2.pem")" 3 "and the output the whole batch"

    # notify whose ledger is on the full disk.
    printf 'serial,subject_cn,email,expiry_date,days_left\nS1,An,an@lamdong.gov.vn,2026-03-15,30\nS2,Bình,binh@lamdong.gov.vn,2026-03-15,30\n' >"$T/n.csv"
    rm -rf "$F/st"
    mkdir -p "$F/nl"
    notify --template expiring --ledger "$F/nl/notices.csv" --maildir "$T/md" "$T/n.csv" >/dev/null 2>"$T/n.err" </dev/null
    # Pad the ledger to a whole page, so the next row needs a block the disk lacks.
    python3 -c "
import sys
p = sys.argv[1]
n = len(open(p, 'rb').read())
row = 'filler@lamdong.gov.vn,%s,2026-01-01T00:00:00+07:00\n'
pad = 4096 - n - len(row % '')
open(p, 'a').write(row % ('x' * pad))" "$F/nl/notices.csv"
    fill
    printf 'S3,Cường,cuong@lamdong.gov.vn,2026-03-15,30\n' >>"$T/n.csv"
    notify --template expiring --ledger "$F/nl/notices.csv" --maildir "$T/md" "$T/n.csv" >/dev/null 2>"$T/n.err"
    is "$?" 74 "notify whose ledger line cannot be written exits 74"
    unfill
    notify --template expiring --ledger "$F/nl/notices.csv" --maildir "$T/md" "$T/n.csv" >/dev/null 2>"$T/n.err"
    grep -v '^filler@' "$F/nl/notices.csv" >"$T/notices.csv"
    ok "with room again, every letter is delivered, at most the one in flight twice" \
        $CHECK maildir "$T/md" "$T/notices.csv" an@lamdong.gov.vn,binh@lamdong.gov.vn,cuong@lamdong.gov.vn 1

    # A clerk's workbook of rejects on the full disk: said in Vietnamese,
    # nothing half-written left; with room again, the whole workbook.
    python3 -c "
print('request_id,form,full_name')
for i in range(3000): print(f'X-{i},99,Nguyễn Văn An {i}')" >"$T/bad-forms.csv"
    fill
    validate-form --lang vi --as-of 2026-12-01 -q --rejects "$F/rejects.xlsx" "$T/bad-forms.csv" >/dev/null 2>"$T/x.err"
    is "$?" 74 "validate-form whose rejects workbook does not fit on the disk exits 74"
    like "$(cat "$T/x.err")" "validate-form: $F/rejects.xlsx: không ghi được sổ tính: .*\\(đĩa đã đầy\\)" \
        "--lang vi: the workbook that cannot be written, and why, in Vietnamese"
    unfill
    ok "no workbook, and no hidden temporary file, is left on the full disk" \
        sh -c "test ! -e '$F/rejects.xlsx' && $CHECK hidden '$F'"
    validate-form --lang vi --as-of 2026-12-01 -q --rejects "$F/rejects.xlsx" "$T/bad-forms.csv" >/dev/null 2>"$T/x.err"
    is "$?" 0 "with room again, the same command succeeds"
    is "$(/usr/bin/python3 -c 'import openpyxl, sys; print(openpyxl.load_workbook(sys.argv[1]).active.max_row - 1)' "$F/rejects.xlsx")" 3000 \
        "and the workbook holds every rejected row (openpyxl)"
else
    skip "sign-batch renew with -o on a full disk" "cannot mount a tmpfs here (not permitted)"
fi

done_testing
