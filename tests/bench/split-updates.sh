#!/bin/sh
# Benchmark: split-updates on a 100,000-certificate update file (renewals:
# each matched by the public key of its old certificate, verified against the
# CA, written to one of 50 agency folders), against the same work done the
# shell way, with the openssl CLI per certificate (openssl verify, openssl
# x509 for serial/subject/e-mail, mkdir + cp). The shell loop runs on the
# first BENCH_BASE_N certificates only (it is slow) and both are compared in
# certificates per second.
#   BENCH_N=100000 BENCH_BASE_N=500 sh tests/bench/split-updates.sh
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CB_BIN:-$TOP/bin}
N=${BENCH_N:-100000}
BASE_N=${BENCH_BASE_N:-500}
W=$(mktemp -d "${TMPDIR:-/tmp}/cbbench.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
export LC_ALL=C.UTF-8

now() { date +%s.%N; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / t }'; }

# The fixture: made with libcrypto directly (the openssl CLI would take an
# hour for 200,000 certificates). One P-256 key per holder; old certificate
# serial 0x1000000+i, renewed 0x2000000+i with the same key.
cat >"$W/gen.c" <<'CEOF'
#include <stdio.h>
#include <stdlib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
static X509 *mk(EVP_PKEY *key, EVP_PKEY *cakey, X509 *ca, long serial, long days, const char *cn,
                const char *mail)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    if (mail)
        X509_NAME_add_entry_by_txt(n, "emailAddress", MBSTRING_ASC, (const unsigned char *)mail, -1, -1, 0);
    X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : n);
    X509_set_pubkey(x, key);
    if (ca == NULL) {
        X509V3_CTX v3;
        X509V3_set_ctx_nodb(&v3);
        X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
        X509_EXTENSION *bc = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
        X509_add_ext(x, bc, -1);
        X509_EXTENSION_free(bc);
    }
    X509_sign(x, cakey, EVP_sha256());
    return x;
}
int main(int argc, char **argv)
{
    long n = atol(argv[1]);
    EVP_PKEY *cakey = EVP_EC_gen("P-256");
    X509 *ca = mk(cakey, cakey, NULL, 1, 3650, "Bench CA", NULL);
    FILE *f = fopen("ca.pem", "w"), *old = fopen("old.pem", "w"), *upd = fopen("update.pem", "w"),
         *req = fopen("requests.csv", "w");
    PEM_write_X509(f, ca);
    fclose(f);
    fprintf(req, "request_id,full_name,email,agency,agency_key,old_serial\n");
    for (long i = 1; i <= n; i++) {
        char cn[64], mail[64];
        snprintf(cn, sizeof cn, "Người Thứ %ld", i);
        snprintf(mail, sizeof mail, "u%ld@a%ld.lamdong.gov.vn", i, i % 50);
        EVP_PKEY *k = EVP_EC_gen("P-256");
        X509 *o = mk(k, cakey, ca, 0x1000000 + i, 30, cn, mail);
        X509 *r = mk(k, cakey, ca, 0x2000000 + i, 1095, cn, mail);
        PEM_write_X509(old, o);
        PEM_write_X509(upd, r);
        fprintf(req, "R%ld,%s,%s,Sở Ngành Số %ld,so nganh so %ld,%lX\n", i, cn, mail, i % 50, i % 50,
                0x1000000 + i);
        X509_free(o);
        X509_free(r);
        EVP_PKEY_free(k);
    }
    fclose(old);
    fclose(upd);
    fclose(req);
    return 0;
}
CEOF
cc -O2 -o "$W/gen" "$W/gen.c" -lcrypto
t0=$(now)
(cd "$W" && ./gen "$N")
echo "fixture: $N holders, old and renewed certificates, in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s"

# certbatch
t0=$(now)
"$BIN/split-updates" -q --out "$W/out" --ca "$W/ca.pem" --requests "$W/requests.csv" --old-certs "$W/old.pem" \
    -o "$W/manifest.csv" "$W/update.pem" 2>"$W/err" || { head "$W/err" >&2; exit 1; }
t1=$(now)
ours=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
delivered=$(grep -c ',delivered,' "$W/manifest.csv" || true)
[ "$delivered" = "$N" ] || { echo "split-updates delivered $delivered of $N" >&2; exit 1; }
echo "split-updates: $N certificates in $ours s: $(rate "$N" "$ours") certificates/s"

# The same work in a shell loop with the openssl CLI, on the first BASE_N.
mkdir -p "$W/base" "$W/split"
awk -v max="$BASE_N" -v dir="$W/split" '
    /-----BEGIN CERTIFICATE-----/ { n++; if (n > max) exit; f = sprintf("%s/%06d.pem", dir, n) }
    n && n <= max { print > f }
    /-----END CERTIFICATE-----/ { close(f) }' "$W/update.pem"
t0=$(now)
for c in "$W"/split/*.pem; do
    openssl verify -CAfile "$W/ca.pem" "$c" >/dev/null || continue
    serial=$(openssl x509 -in "$c" -noout -serial | sed 's/serial=//')
    email=$(openssl x509 -in "$c" -noout -email)
    agency=$(grep -F ",$email," "$W/requests.csv" | cut -d, -f4 | tr ' ' '-')
    mkdir -p "$W/base/$agency"
    cp "$c" "$W/base/$agency/$serial.pem"
done
t1=$(now)
base=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
echo "openssl CLI shell loop: $BASE_N certificates in $base s: $(rate "$BASE_N" "$base") certificates/s"
awk -v n="$N" -v a="$ours" -v m="$BASE_N" -v b="$base" \
    'BEGIN { printf "ratio: split-updates is %.1fx the certificates per second of the shell loop\n", (n / a) / (m / b) }'
