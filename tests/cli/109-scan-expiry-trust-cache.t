#!/bin/sh
# scan-expiry --trust-cache: the certificates found good on an earlier night
# are not checked again, and the verdicts stay those of a scan without it.
# The cache file is read and its keys recomputed by Python (hashlib and the
# cryptography package: SHA-256 over the issuer's SubjectPublicKeyInfo
# digest and the certificate's digest), independently of our code. Covered:
# a first and a second night, two threads, a certificate changed by one
# byte (its signature, its subject), a certificate revoked after it was
# cached, a CRL gone stale, a damaged or cut cache, --trust-full, a cache
# that cannot be written, a run killed half-way, --lang vi.
. "$(dirname "$0")/lib.sh"
need_samples
D=$(cat "$SAMPLES/as-of.txt")
S=$SAMPLES
scan() {  # OUT ARGS...: the samples' trust options, every certificate
    _out=$1; shift
    scan-expiry --all --as-of "$D" --ca "$S/roots.pem" --chain "$S/chain.pem" "$@" >"$_out" 2>"$T/scan.err"
}

# The oracle: reads a cache file, checks its form, prints its keys (hex),
# or, with certificates, the key each would have under the issuing CA.
cat >"$T/cache.py" <<'PY'
import hashlib, struct, sys
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
def read(path):
    b = open(path, "rb").read()
    assert b[:8] == b"CBTRUST1", "magic"
    n = struct.unpack("<Q", b[8:16])[0]
    assert len(b) == 16 + 32 * n + 32, "length"
    assert hashlib.sha256(b[:-32]).digest() == b[-32:], "checksum"
    keys = [b[16 + 32 * i:48 + 32 * i] for i in range(n)]
    assert all(keys[i] < keys[i + 1] for i in range(n - 1)), "order"
    return keys
if sys.argv[1] == "read":
    for k in read(sys.argv[2]):
        print(k.hex())
elif sys.argv[1] == "keys":   # keys ISSUER_PEM CERT_PEM...
    ca = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
    spki = hashlib.sha256(ca.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).digest()
    for f in sys.argv[3:]:
        for pem in open(f, "rb").read().split(b"-----END CERTIFICATE-----")[:-1]:
            c = x509.load_pem_x509_certificate(pem + b"-----END CERTIFICATE-----\n")
            print(hashlib.sha256(spki + hashlib.sha256(c.public_bytes(Encoding.DER)).digest()).hexdigest())
PY
cache_keys() { /usr/bin/python3 "$T/cache.py" read "$1"; }

scan "$T/plain.csv" --crl "$S/crls.pem" "$S/certs"
ok "the samples' scan without a cache runs" test -s "$T/plain.csv"

# First night: nothing known, every certificate judged and the good ones kept.
scan "$T/cold.csv" --crl "$S/crls.pem" --trust-cache "$T/c.bin" "$S/certs"
ok "first night: the records are those of the scan without a cache" cmp "$T/cold.csv" "$T/plain.csv"
like "$(cat "$T/scan.err")" "0 certificates known from --trust-cache, [1-9][0-9]* checked and added" "first night: nothing known, the good certificates added"
added=$(sed -n 's/.*, \([0-9]*\) checked and added.*/\1/p' "$T/scan.err")
ok "the cache file is whole: magic, count, keys in order, checksum (Python)" cache_keys "$T/c.bin"
is "$(cache_keys "$T/c.bin" | wc -l)" "$added" "it holds as many keys as the summary says were added"
/usr/bin/python3 "$T/cache.py" keys "$S/issuing-ca.pem" "$S"/certs/*.pem | sort >"$T/oracle.keys"
cache_keys "$T/c.bin" | sort >"$T/c.keys"
is "$(comm -23 "$T/c.keys" "$T/oracle.keys" | wc -l)" 0 \
    "every key is SHA-256(issuer key digest, certificate digest) of a sample certificate, as Python computes it"
trusted=$(/usr/bin/python3 -c '
import csv, sys
print(sum(1 for r in csv.DictReader(open(sys.argv[1])) if r["trust_problem"] == "" and r["status"] != "revoked"))' "$T/plain.csv")
ok "all trusted certificates but the first of the issuer are kept ($added of $trusted)" test "$added" -eq $((trusted - 1))

# Second night: everything known, the same records.
cp "$T/c.bin" "$T/c1.bin"
scan "$T/warm.csv" --crl "$S/crls.pem" --trust-cache "$T/c.bin" "$S/certs"
ok "second night: the same records" cmp "$T/warm.csv" "$T/plain.csv"
like "$(cat "$T/scan.err")" "$added certificates known from --trust-cache, 0 checked and added" "second night: every one known, none checked again"
ok "and the cache is rewritten with the same keys, byte for byte" cmp "$T/c.bin" "$T/c1.bin"

# Two threads: the same records, the same cache, cold and warm.
scan "$T/j2cold.csv" --crl "$S/crls.pem" -j 2 --trust-cache "$T/j2.bin" "$S/certs"
ok "-j 2, first night: the same records" cmp "$T/j2cold.csv" "$T/plain.csv"
ok "-j 2: the same cache as one thread's" cmp "$T/j2.bin" "$T/c1.bin"
scan "$T/j2warm.csv" --crl "$S/crls.pem" -j 2 --trust-cache "$T/j2.bin" "$S/certs"
ok "-j 2, second night: the same records" cmp "$T/j2warm.csv" "$T/plain.csv"

# A certificate changed by one byte is another certificate: checked in full.
# Two good certificates of the issuer first (so its path is kept), then the
# changed ones.
mkdir "$T/mixed"
good=$(/usr/bin/python3 -c '
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["trust_problem"] == "" and r["status"] != "revoked"]
print(" ".join(r["source"].rsplit("#", 1)[0] for r in rows[:3]))' "$T/plain.csv")
set -- $good
cp "$1" "$T/mixed/a.pem"
cp "$2" "$T/mixed/b.pem"
/usr/bin/python3 - "$3" "$T/mixed" <<'PY'
import base64, sys
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
der = bytearray(c.public_bytes(Encoding.DER))
def pem(b):
    s = base64.encodebytes(bytes(b)).decode().replace("\n", "")
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(s[i:i + 64] for i in range(0, len(s), 64)) + "\n-----END CERTIFICATE-----\n"
sig = bytearray(der); sig[-1] ^= 0x01                       # the signature's last byte
cn = c.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value.encode()
# an ASCII letter of the subject's CN, case flipped: a first letter like "Đ"
# is two bytes, and flipping one of them left no UTF-8 (a reject, not untrusted)
j = next(k for k, b in enumerate(cn) if chr(b).isascii() and chr(b).isalpha())
i = bytes(der).find(cn) + j; sub = bytearray(der); sub[i] ^= 0x20
open(sys.argv[2] + "/c-signature.pem", "w").write(pem(sig))
open(sys.argv[2] + "/d-subject.pem", "w").write(pem(sub))
open(sys.argv[2] + "/e-good.pem", "w").write(pem(der))
PY
scan "$T/mixed-plain.csv" --crl "$S/crls.pem" "$T/mixed"
cp "$T/c1.bin" "$T/m.bin"
scan "$T/mixed-warm.csv" --crl "$S/crls.pem" --trust-cache "$T/m.bin" "$T/mixed"
ok "a changed certificate among cached ones: the same records as without the cache" cmp "$T/mixed-warm.csv" "$T/mixed-plain.csv"
is "$(csv_col "$T/mixed-warm.csv" status | tr '\n' ' ')" "$(csv_col "$T/mixed-plain.csv" status | tr '\n' ' ')" "the statuses, row by row"
like "$(grep 'c-signature' "$T/mixed-warm.csv")" ",untrusted," "its signature changed: untrusted, though the original is in the cache"
like "$(grep 'd-subject' "$T/mixed-warm.csv")" ",untrusted," "its subject changed: untrusted"
# (read with Python's csv: the agency or the unit may hold a quoted comma)
like "$(/usr/bin/python3 -c '
import csv, sys
print(" ".join(r["status"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")) if "e-good" in r["source"]))' \
    "$T/mixed-warm.csv")" "^(valid|expiring|expired)$" "the unchanged certificate stays trusted"
like "$(cat "$T/scan.err")" "^scan-expiry: 2 certificates known from --trust-cache, 0 checked and added" \
    "the two unchanged ones after the first were known from the cache; the changed ones were not added"
is "$(cache_keys "$T/m.bin" | wc -l)" 2 "the cache now keeps only the two certificates of that run"

# Revoked after it was cached: a first night under a CRL listing nothing,
# then the real CRL: the revoked certificates are revoked.
mkdir -p "$T/ca"
: >"$T/ca/index.txt"
echo 01 >"$T/ca/crlnumber"
cat >"$T/ca.cnf" <<EOF
[ca]
default_ca = d
[d]
database = $T/ca/index.txt
crlnumber = $T/ca/crlnumber
default_md = sha256
EOF
last=$(date -u -d "$D -1 day" +%y%m%d000000Z)
next=$(date -u -d "$D +30 days" +%y%m%d000000Z)
openssl ca -batch -config "$T/ca.cnf" -gencrl -keyfile "$S/issuing-ca.key" -cert "$S/issuing-ca.pem" \
    -crl_lastupdate "$last" -crl_nextupdate "$next" -out "$T/empty-crl.pem" 2>"$T/ca.err"
cat "$S/root-crl.pem" "$T/empty-crl.pem" >"$T/crls-none.pem"
scan "$T/none-plain.csv" --crl "$T/crls-none.pem" "$S/certs"
is "$(csv_col "$T/none-plain.csv" status | grep -c '^revoked$')" 0 "under a CRL listing nothing, no certificate is revoked"
scan "$T/none.csv" --crl "$T/crls-none.pem" --trust-cache "$T/rev.bin" "$S/certs"
ok "the night under it caches the certificates revoked later" test "$(cache_keys "$T/rev.bin" | wc -l)" -gt "$added"
scan "$T/rev.csv" --crl "$S/crls.pem" --trust-cache "$T/rev.bin" "$S/certs"
ok "the next night under the real CRL: the same records as without a cache" cmp "$T/rev.csv" "$T/plain.csv"
is "$(csv_col "$T/rev.csv" status | grep -c '^revoked$')" "$(grep -c . "$S/revoked.txt")" "every certificate of revoked.txt is revoked"

# Later nights: the dates and a stale CRL are judged every night.
for later in 20 400; do
    L=$(date -u -d "$D +$later days" +%Y-%m-%d)
    scan-expiry --all --as-of "$L" --ca "$S/roots.pem" --chain "$S/chain.pem" --crl "$S/crls.pem" "$S/certs" >"$T/l-plain.csv" 2>/dev/null
    cp "$T/c1.bin" "$T/l.bin"
    scan-expiry --all --as-of "$L" --ca "$S/roots.pem" --chain "$S/chain.pem" --crl "$S/crls.pem" --trust-cache "$T/l.bin" \
        "$S/certs" >"$T/l.csv" 2>/dev/null
    ok "$later days later, with the cache: the same records as without it" cmp "$T/l.csv" "$T/l-plain.csv"
done
like "$(csv_col "$T/l.csv" trust_problem | sort -u | tr '\n' ' ')" "CRL" "400 days later the CRL is stale: the certificates are untrusted for it"

# A damaged cache is ignored, said, and written anew; an empty one is no cache.
for how in byte cut; do
    cp "$T/c1.bin" "$T/d.bin"
    case $how in
    byte) printf '\377' | dd of="$T/d.bin" bs=1 seek=100 conv=notrunc 2>/dev/null ;;
    cut) head -c 200 "$T/c1.bin" >"$T/d.bin" ;;
    esac
    scan "$T/d.csv" --crl "$S/crls.pem" --trust-cache "$T/d.bin" "$S/certs"
    is "$?" 0 "a cache with a $how changed: no error"
    like "$(cat "$T/scan.err")" "warning: --trust-cache $T/d.bin: cut short, changed, or not a trust cache: every certificate is checked again" "it is said"
    ok "the records are those without a cache" cmp "$T/d.csv" "$T/plain.csv"
    ok "and the cache is written anew, whole" cmp "$T/d.bin" "$T/c1.bin"
done
: >"$T/e.bin"
scan "$T/e.csv" --crl "$S/crls.pem" --trust-cache "$T/e.bin" "$S/certs"
like "$(cat "$T/scan.err")" "^scan-expiry: 0 certificates known" "an empty cache file is no cache, and no warning"
ok "and is filled" cmp "$T/e.bin" "$T/c1.bin"

mkdir "$T/dir.bin"
scan "$T/dir.csv" --crl "$S/crls.pem" --trust-cache "$T/dir.bin" "$S/certs"
is "$?" 0 "a directory where the cache should be: no error"
like "$(cat "$T/scan.err")" "warning: --trust-cache $T/dir.bin: not a regular file: every certificate is checked again" "it is said"
like "$(cat "$T/scan.err")" "warning: .*dir.bin.*next run checks every certificate again" "and that it cannot be written"
ok "the records are those without a cache" cmp "$T/dir.csv" "$T/plain.csv"
cp "$T/c1.bin" "$T/vid.bin"
printf 'x' >>"$T/vid.bin"
scan "$T/vid.csv" --crl "$S/crls.pem" --lang vi --trust-cache "$T/vid.bin" "$S/certs"
like "$(cat "$T/scan.err")" "cảnh báo: --trust-cache $T/vid.bin: bị cắt, bị sửa, hoặc không phải tệp --trust-cache" "--lang vi: the warning in Vietnamese"

# --trust-full checks everything and leaves the cache as it was.
cp "$T/c1.bin" "$T/f.bin"
printf 'x' >>"$T/f.bin"
cp "$T/f.bin" "$T/f0.bin"
scan "$T/f.csv" --crl "$S/crls.pem" --trust-full --trust-cache "$T/f.bin" "$S/certs"
ok "--trust-full: the same records" cmp "$T/f.csv" "$T/plain.csv"
ok "--trust-full: the cache is neither read nor written" cmp "$T/f.bin" "$T/f0.bin"

# Usage, an unwritable cache, --lang vi.
exit_is 64 "--trust-cache without --ca is a usage error" scan-expiry --all --as-of "$D" --trust-cache "$T/x.bin" "$S/certs"
scan "$T/u.csv" --crl "$S/crls.pem" --trust-cache "$T/no/such/dir/c.bin" "$S/certs"
is "$?" 0 "a cache that cannot be written: the night's records are still written (exit 0)"
like "$(cat "$T/scan.err")" "warning: .*no/such/dir.*next run checks every certificate again" "and it is said"
ok "the records are whole" cmp "$T/u.csv" "$T/plain.csv"
cp "$T/c1.bin" "$T/vi.bin"
scan "$T/vi.csv" --crl "$S/crls.pem" --lang vi --trust-cache "$T/vi.bin" "$S/certs"
like "$(cat "$T/scan.err")" "$added chứng thư số đã biết từ --trust-cache" "--lang vi: the note in Vietnamese"

# Killed half-way: the cache keeps the last whole night's.
cp "$T/c1.bin" "$T/k.bin"
mkfifo "$T/fifo"
scan-expiry --all --as-of "$D" --ca "$S/roots.pem" --chain "$S/chain.pem" --crl "$S/crls.pem" \
    --trust-cache "$T/k.bin" "$T/fifo" >/dev/null 2>&1 &
pid=$!
exec 7>"$T/fifo"
cat "$S"/certs/0*.pem >&7
sleep 0.3
kill -9 $pid
wait $pid 2>/dev/null
exec 7>&-
ok "killed half-way: the cache is the last whole night's" cmp "$T/k.bin" "$T/c1.bin"
scan "$T/k.csv" --crl "$S/crls.pem" --trust-cache "$T/k.bin" "$S/certs"
ok "and the night run again gives the same records" cmp "$T/k.csv" "$T/plain.csv"
done_testing
