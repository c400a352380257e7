# A provincial office's state directory made from the samples, for the
# tests of the shipped pipelines night after night (tests/cli/71x): the
# certificates, the CA chain and CRL, the office's signing certificate.
# forms_part NAME IDS... writes forms/incoming/NAME.csv with the sample
# forms' rows of those request ids (Python's csv, an independent writer),
# each with an agency_email (as the agency registry gives it); EXTRA=COL
# adds a column a clerk typed in.
# nightly_run DATE runs the shipped nightly pipeline on that day.
D0=$(cat "$SAMPLES/as-of.txt")
S=$T/state
mkdir -p "$S/ca" "$S/forms/incoming"
ln -s "$SAMPLES/certs" "$S/certs"
cp "$SAMPLES/roots.pem" "$SAMPLES/chain.pem" "$S/ca/" && cp "$SAMPLES/crls.pem" "$S/ca/crl.pem"
office=$(mlr --icsv --onidx filter '$kind == "organization" && $revoked == "no"' then head -n 1 then cut -f serial "$SAMPLES/manifest.csv")
cp "$SAMPLES/certs/$office.pem" "$S/ca/office-signer.pem"
install -m 0600 "$SAMPLES/keys/$office.key" "$S/ca/office-signer.key"
: >"$S/ca/office-signer.pass"

day() {  # day N: the as-of day plus N days
    date -u -d "$D0 + $1 day" +%Y-%m-%d
}

forms_part() {
    _name=$1; shift
    python3 - "$SAMPLES/forms/renewal.csv" "$S/forms/incoming/$_name.csv" "${EXTRA:-}" "$@" <<'PY'
import csv, sys, unicodedata
src, dst, extra, ids = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
rows = list(csv.DictReader(open(src, encoding='utf-8', newline='')))
def agency_email(row):
    # One address per agency: its name without accents, case or spaces.
    a = unicodedata.normalize('NFD', row['agency']).casefold()
    a = ''.join(c for c in a if c.isalnum() and ord(c) < 128)
    a = a.replace('uybannhandan', 'ubnd')
    return 'vanthu.%s@lamdong.gov.vn' % a
cols = list(rows[0].keys()) + ['agency_email'] + ([extra] if extra else [])
with open(dst, 'w', encoding='utf-8', newline='') as f:
    w = csv.writer(f)
    w.writerow(cols)
    for r in rows:
        if r['request_id'] in ids:
            r['agency_email'] = agency_email(r)
            if extra:
                r[extra] = 'xin xử lý sớm'
            w.writerow([r[c] for c in cols])
PY
}

# The sample forms' request ids: good (empty note) and bad.
good_ids() { mlr --icsv --onidx filter '$note == ""' then cut -f request_id "$SAMPLES/forms/renewal.csv"; }
ids_from() {  # ids_from FIRST LAST: LD-GH-FIRST .. LD-GH-LAST
    seq -f 'LD-GH-%04g' "$1" "$2"
}

nightly_run() {
    run-pipeline -q --as-of "$1" --set state="$S" "$TOP/pipelines/nightly-renewal.yaml"
}

# rejection_letters: "request_id<TAB>to_addr<TAB>addressed-to" for each
# request named in a rejection letter of the Maildir, read with Python's
# mailbox and email packages.
rejection_letters() {
    python3 - "$S/mail" <<'PY'
import email.policy, mailbox, re, sys
for key, msg in mailbox.Maildir(sys.argv[1], factory=None).items():
    m = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    if 'chưa hợp lệ' not in str(m['Subject']):
        continue
    body = m.get_body(preferencelist=('plain',)).get_content()
    to = m['To'].addresses[0]
    greet = re.search(r'^Kính gửi (.*),$', body, re.M)
    for rid in re.findall(r'Mã hồ sơ: (\S+)', body):
        print('%s\t%s\t%s' % (rid, to.addr_spec, greet.group(1) if greet else ''))
PY
}
