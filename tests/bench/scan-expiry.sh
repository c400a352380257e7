#!/bin/sh
# Benchmark: scan-expiry on a bundle of 20,000 certificates against, in the
# same run, (a) `openssl x509 -noout -enddate` once per certificate (what
# shell scripts such as ssl-cert-check do; timed on 500 and scaled),
# (b) a minimal C loop of PEM_read_bio_X509 + X509_get0_notAfter and
# (c) Python's cryptography package (Debian's). Then peak memory on a
# 200,000-certificate bundle. Targets (issue 2): at least 5x the C loop,
# faster than Python, under 32 MB.
#
# Then trust and threads (issue 16), on the same bundle with the samples'
# --ca, --chain and --crl: scan-expiry with them against without them
# (target >= 0.80), on a first night and on the night after with the
# trust cache of the first (--trust-cache), against --trust-full
# (OpenSSL's whole path check for every certificate, as before the
# per-issuer check) and against `openssl verify -crl_check_all` once per
# certificate (timed on 200 and scaled);
# and -j 2 against -j 1, with and without trust (target >= 1.8 on two
# cores). Each time is the best of three runs; the load average is
# printed, since the machine may be shared.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CB_BIN:-$TOP/bin}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

SRC=$TOP/samples/out/subscribers.pem
[ -f "$SRC" ] || SRC=/etc/ssl/certs/ca-certificates.crt
per=$(grep -c 'BEGIN CERTIFICATE' "$SRC")
reps=$(( (20000 + per - 1) / per ))
i=0; while [ $i -lt $reps ]; do cat "$SRC"; i=$((i + 1)); done >"$W/all.pem"
awk '/BEGIN CERTIFICATE/ { n++ } n <= 20000 { print } ' "$W/all.pem" >"$W/20k.pem"
N=$(grep -c 'BEGIN CERTIFICATE' "$W/20k.pem")
echo "bundle: $N certificates from $SRC"

now() { date +%s.%N; }
rate() { echo "$1 $2" | awk '{ printf "%.0f", $1 / $2 }'; }

cat >"$W/loop.c" <<'C'
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    BIO *b = BIO_new_file(argv[1], "r");
    X509 *x;
    long n = 0;
    (void)argc;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (X509_get0_notAfter(x) != NULL)
            n++;
        X509_free(x);
    }
    printf("%ld\n", n);
    return 0;
}
C
cc -O2 -o "$W/loop" "$W/loop.c" -lcrypto

t0=$(now); "$BIN/scan-expiry" --all -q "$W/20k.pem" >/dev/null; t1=$(now)
ours=$(echo "$t0 $t1" | awk '{print $2 - $1}')
t0=$(now); "$W/loop" "$W/20k.pem" >/dev/null; t1=$(now)
cloop=$(echo "$t0 $t1" | awk '{print $2 - $1}')

awk -v d="$W/one" 'BEGIN { system("mkdir -p " d) } /BEGIN CERTIFICATE/ { n++; if (n > 500) exit; f = sprintf("%s/%04d.pem", d, n) } f { print > f } /END CERTIFICATE/ { close(f); f = "" }' "$W/20k.pem"
t0=$(now); for f in "$W"/one/*.pem; do openssl x509 -in "$f" -noout -enddate >/dev/null; done; t1=$(now)
cli=$(echo "$t0 $t1" | awk '{print ($2 - $1) / 500}')

py=""
if /usr/bin/python3 -c 'import cryptography' 2>/dev/null; then
    t0=$(now)
    /usr/bin/python3 - "$W/20k.pem" <<'PY'
import sys
from cryptography import x509
data = open(sys.argv[1], "rb").read()
n = 0
for block in data.split(b"-----END CERTIFICATE-----")[:-1]:
    c = x509.load_pem_x509_certificate(block + b"-----END CERTIFICATE-----\n")
    c.not_valid_after
    n += 1
PY
    t1=$(now)
    py=$(echo "$t0 $t1" | awk '{print $2 - $1}')
fi

r_ours=$(rate "$N" "$ours"); r_c=$(rate "$N" "$cloop"); r_cli=$(echo "$cli" | awk '{ printf "%.0f", 1 / $1 }')
echo "scan-expiry             : $r_ours certificates/s"
echo "C loop PEM_read_bio_X509: $r_c certificates/s   (scan-expiry is $(echo "$r_ours $r_c" | awk '{printf "%.1f", $1/$2}')x)"
echo "openssl x509 per cert   : $r_cli certificates/s   (scan-expiry is $(echo "$r_ours $r_cli" | awk '{printf "%.0f", $1/$2}')x)"
if [ -n "$py" ]; then
    r_py=$(rate "$N" "$py")
    echo "python3 cryptography    : $r_py certificates/s   (scan-expiry is $(echo "$r_ours $r_py" | awk '{printf "%.1f", $1/$2}')x)"
fi

i=0; while [ $i -lt 10 ]; do cat "$W/20k.pem"; i=$((i + 1)); done >"$W/200k.pem"
/usr/bin/time -f '%M' -o "$W/rss" "$BIN/scan-expiry" --all -q "$W/200k.pem" >/dev/null
echo "peak memory on $(grep -c 'BEGIN CERTIFICATE' "$W/200k.pem") certificates: $(awk '{printf "%.1f", $1/1024}' "$W/rss") MB (target < 32 MB)"

# ---- trust once per issuer, and threads (issue 16) ----
if [ -f "$TOP/samples/out/roots.pem" ]; then
    S=$TOP/samples/out
    TRUST="--ca $S/roots.pem --chain $S/chain.pem --crl $S/crls.pem"
    AS_OF="--as-of $(cat "$S/as-of.txt")"
    best() {  # the best wall time of three runs of scan-expiry with these options
        _b=""
        for _i in 1 2 3; do
            t0=$(now)
            # shellcheck disable=SC2086
            "$BIN/scan-expiry" --all -q $AS_OF "$@" "$W/20k.pem" >/dev/null
            t1=$(now)
            _b=$(echo "$t0 $t1 ${_b:-999999}" | awk '{ d = $2 - $1; print (d < $3 ? d : $3) }')
        done
        echo "$_b"
    }
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
    plain=$(best); trusted=$(best $TRUST); full=$(best $TRUST --trust-full)
    plain2=$(best -j 2); trusted2=$(best -j 2 $TRUST)
    # A night after another with the same certificates: the trust cache of
    # the first (made once, outside the timing), read by the three runs.
    # shellcheck disable=SC2086
    "$BIN/scan-expiry" --all -q $AS_OF $TRUST --trust-cache "$W/trust.cache" "$W/20k.pem" >/dev/null
    cp "$W/trust.cache" "$W/trust.cache.0"
    cached=$(best $TRUST --trust-cache "$W/trust.cache")
    cmp -s "$W/trust.cache" "$W/trust.cache.0" || { echo "scan bench: the trust cache changed on a night without change" >&2; exit 1; }
    awk -v d="$W/v" 'BEGIN { system("mkdir -p " d) } /BEGIN CERTIFICATE/ { n++; if (n > 200) exit; f = sprintf("%s/%04d.pem", d, n) } f { print > f } /END CERTIFICATE/ { close(f); f = "" }' "$S/subscribers.pem"
    at=$(date -u -d "$(cat "$S/as-of.txt") 12:00 +0700" +%s)
    t0=$(now)
    for f in "$W"/v/*.pem; do
        openssl verify -x509_strict -crl_check_all -extended_crl -use_deltas -attime "$at" -CAfile "$S/roots.pem" \
            -untrusted "$S/chain.pem" -CRLfile "$S/crls.pem" "$f" >/dev/null 2>&1 || :   # expired, revoked: judged all the same
    done
    t1=$(now)
    nv=$(ls "$W"/v | wc -l)
    vcli=$(echo "$t0 $t1 $nv" | awk '{print ($2 - $1) / $3}')
    echo "load average after : $(cut -d' ' -f1-3 /proc/loadavg)"
    r_plain=$(rate "$N" "$plain"); r_tr=$(rate "$N" "$trusted"); r_full=$(rate "$N" "$full")
    r_plain2=$(rate "$N" "$plain2"); r_tr2=$(rate "$N" "$trusted2"); r_cached=$(rate "$N" "$cached")
    r_vcli=$(echo "$vcli" | awk '{ printf "%.0f", 1 / $1 }')
    ratio() { echo "$1 $2" | awk '{ printf "%.2f", $1 / $2 }'; }
    echo "scan-expiry, no trust options      : $r_plain certificates/s"
    echo "scan-expiry --ca --chain --crl     : $r_tr certificates/s   (with/without trust: $(ratio "$r_tr" "$r_plain"), target >= 0.80)"
    echo "scan-expiry ... --trust-cache, warm: $r_cached certificates/s   (with/without trust: $(ratio "$r_cached" "$r_plain"), target >= 0.80: the night after)"
    echo "scan-expiry ... --trust-full       : $r_full certificates/s   (the per-issuer check is $(ratio "$r_tr" "$r_full")x)"
    echo "openssl verify per certificate     : $r_vcli certificates/s   (scan-expiry with trust is $(ratio "$r_tr" "$r_vcli")x)"
    echo "scan-expiry -j 2                   : $r_plain2 certificates/s   (-j2/-j1: $(ratio "$r_plain2" "$r_plain"), target >= 1.8)"
    echo "scan-expiry -j 2 --ca --chain --crl: $r_tr2 certificates/s   (-j2/-j1: $(ratio "$r_tr2" "$r_tr"), target >= 1.8)"
fi
