#!/bin/sh
# Benchmark of sign-batch, against its baselines measured in the same run:
#   renewal of RENEW_N (10,000) certificates, RSA-2048 CA key, against
#     - `openssl speed rsa2048` signatures/s a core (the signing floor),
#     - a loop of `openssl x509 -req`, one certificate at a time;
#   issuance of ISSUE_N (1,000) RSA-2048 key pairs + certificates + PKCS#12
#     against a loop of `openssl genpkey` (the key-generation floor);
#   -j 2 against -j 1 for both.
# Targets (issue 5): renewal >= 70% of the signing floor a core and >= 20x
# the CLI loop; issuance within 10% of the key-generation floor; -j 2 close
# to 2x. Prints ratios; never fails on timing.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CB_BIN:-$TOP/bin}
RENEW_N=${RENEW_N:-10000}
ISSUE_N=${ISSUE_N:-1000}
B=$(mktemp -d "${TMPDIR:-/tmp}/cbbench.XXXXXX")
trap 'rm -rf "$B"' EXIT INT TERM
export LC_ALL=C

now() { date +%s.%N; }
rate() { echo "$1 $2 $3" | awk '{ printf "%.1f", $1 / ($3 - $2) }'; }
ratio() { echo "$1 $2" | awk '{ printf "%.2f", $1 / $2 }'; }

echo "sign-batch bench: $(nproc) cores, renew $RENEW_N, issue $ISSUE_N"

# An RSA-2048 CA, and RENEW_N old certificates made by sign-batch itself from one CSR.
cat >"$B/ca.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
C = VN
CN = Bench CA
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[sub_ext]
basicConstraints = CA:FALSE
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$B/ca.key" 2>/dev/null
openssl req -new -x509 -config "$B/ca.cnf" -extensions ca_ext -key "$B/ca.key" -days 3650 -out "$B/ca.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$B/sub.key" 2>/dev/null
openssl req -new -key "$B/sub.key" -subj "/CN=sub" -out "$B/sub.csr"
awk -v n="$RENEW_N" -v csr="$B/sub.csr" 'BEGIN {
    print "request_id,full_name,agency,province,email,csr_file"
    for (i = 1; i <= n; i++) printf "OLD-%06d,Nguoi %d,So Noi vu,Lam Dong,u%d@lamdong.gov.vn,%s\n", i, i, i, csr }' >"$B/old.csv"
"$BIN/sign-batch" issue -q -j "$(nproc)" --ca-cert "$B/ca.pem" --ca-key "$B/ca.key" --key-dir "$B/k0" \
    --manifest "$B/old-manifest.csv" -o "$B/old.pem" "$B/old.csv"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "serial") c = i; print "request_id,old_serial"; next }
         { printf "REN-%06d,%s\n", NR - 1, $c }' "$B/old-manifest.csv" >"$B/renew.csv"

# The signing floor: openssl speed, one core, wall-clock (-elapsed) like our timings.
floor=$(openssl speed -elapsed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ { print $6 }')
echo "openssl speed rsa2048: $floor signatures/s a core"

# Renewal, -j 1 and -j 2.
t0=$(now)
"$BIN/sign-batch" renew -q --ca-cert "$B/ca.pem" --ca-key "$B/ca.key" --old-certs "$B/old.pem" \
    --ledger "$B/ledger1.csv" -o "$B/ren1.pem" "$B/renew.csv"
t1=$(now)
r1=$(rate "$RENEW_N" "$t0" "$t1")
t0=$(now)
"$BIN/sign-batch" renew -q -j 2 --ca-cert "$B/ca.pem" --ca-key "$B/ca.key" --old-certs "$B/old.pem" \
    --ledger "$B/ledger2.csv" -o "$B/ren2.pem" "$B/renew.csv"
t1=$(now)
r2=$(rate "$RENEW_N" "$t0" "$t1")

# What a script would do: openssl x509 -req, one certificate at a time.
LOOP_N=100
openssl x509 -in "$B/old.pem" -x509toreq -signkey "$B/ca.key" -out /dev/null 2>/dev/null || true
t0=$(now)
i=0
while [ $i -lt $LOOP_N ]; do
    openssl x509 -req -in "$B/sub.csr" -CA "$B/ca.pem" -CAkey "$B/ca.key" -set_serial $((i + 1)) \
        -days 1095 -sha256 -extfile "$B/ca.cnf" -extensions sub_ext -out "$B/loop.pem" 2>/dev/null
    i=$((i + 1))
done
t1=$(now)
rl=$(rate $LOOP_N "$t0" "$t1")

echo "renew -j 1: $r1 certificates/s = $(ratio "$r1" "$floor") of the signing floor (target >= 0.70), $(ratio "$r1" "$rl")x the openssl x509 -req loop ($rl/s; target >= 20)"
echo "renew -j 2: $r2 certificates/s = $(ratio "$r2" "$r1")x -j 1 (target close to 2)"

# Issuance: RSA-2048 key pairs against a genpkey loop.
KG_N=30
t0=$(now)
i=0
while [ $i -lt $KG_N ]; do
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$B/kg.key" 2>/dev/null
    i=$((i + 1))
done
t1=$(now)
rk=$(rate $KG_N "$t0" "$t1")
awk -v n="$ISSUE_N" 'BEGIN {
    print "request_id,full_name,agency,province,email"
    for (i = 1; i <= n; i++) printf "NEW-%06d,Nguoi %d,So Noi vu,Lam Dong,n%d@lamdong.gov.vn\n", i, i, i }' >"$B/new.csv"
t0=$(now)
"$BIN/sign-batch" issue -q --key-alg rsa2048 --ca-cert "$B/ca.pem" --ca-key "$B/ca.key" --key-dir "$B/k1" \
    -o "$B/new1.pem" "$B/new.csv"
t1=$(now)
i1=$(rate "$ISSUE_N" "$t0" "$t1")
t0=$(now)
"$BIN/sign-batch" issue -q -j 2 --key-alg rsa2048 --ca-cert "$B/ca.pem" --ca-key "$B/ca.key" --key-dir "$B/k2" \
    -o "$B/new2.pem" "$B/new.csv"
t1=$(now)
i2=$(rate "$ISSUE_N" "$t0" "$t1")
echo "openssl genpkey rsa2048 loop: $rk keys/s"
echo "issue -j 1: $i1 certificates+PKCS#12/s = $(ratio "$i1" "$rk") of the key-generation loop (target >= 0.90)"
echo "issue -j 2: $i2 certificates+PKCS#12/s = $(ratio "$i2" "$i1")x -j 1 (target close to 2)"
