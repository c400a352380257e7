#!/bin/sh
# scan-expiry decides trust once per issuer (issue 16): the first
# certificate of an issuer goes through OpenSSL's full path check, the
# others of that issuer through the short one. On a mixed corpus (a good
# holder first, then expired, revoked, badly signed, with an unknown
# critical extension, not yet valid, under a revoked issuing CA, under an
# impostor CA of the same name), the output must be byte for byte that of
# --trust-full (every certificate through the full check), with the CRLs
# complete, with the root's CRL missing, with --partial-chain and with the
# issuing CA only in the input; and each status must be what `openssl
# verify` says of that certificate alone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pki-defects.sh"

cat >>"$T/pki.cnf" <<'CNF'
[ leaf_crit ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
1.3.6.1.4.1.99999.2 = critical,ASN1:NULL
[ leaf_crldp ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
crlDistributionPoints = URI:http://ca.example.gov.vn/sub.crl
subjectAltName = email:holder@example.gov.vn
CNF

# leaf CA NAME START END [EXT]: an end-entity certificate with its own dates
leaf() {
    openssl req -new -config "$T/pki.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$T/$1/$2.key" -subj "/C=VN/O=TEST/CN=$2" -out "$T/$1/$2.csr" 2>/dev/null &&
    PKI_DIR=$T/$1 openssl ca -batch -config "$T/pki.cnf" -extensions "${5:-leaf}" \
        -startdate "$3" -enddate "$4" -notext -in "$T/$1/$2.csr" -out "$T/$1/$2.pem" 2>/dev/null
}

: >"$T/none"
pki_standard
leaf sub old 20230101000000Z 20250101000000Z
leaf sub later 20270101000000Z 20290101000000Z
leaf sub crit 20250101000000Z 20280101000000Z leaf_crit
leaf sub withdp 20250101000000Z 20280101000000Z leaf_crldp
pki_leaf sub forged
pki_badsig "$T/sub/forged.pem" "$T/forged-bad.pem"
pki_ca sub2 "TEST Revoked Sub CA" root sub
pki_leaf sub2 first
pki_leaf sub2 second
pki_revoke root "$T/sub2/ca.pem"
pki_crl root "$T/root2.crl"
pki_crl sub2 "$T/sub2.crl"
pki_ca fake "TEST Sub CA" root sub
pki_leaf fake impostor
pki_leaf sub last
cat "$T/root2.crl" "$T/sub.crl" "$T/sub2.crl" >"$T/crls.pem"
cat "$T/sub/ca.pem" "$T/sub2/ca.pem" >"$T/chain.pem"

set -- "$T/sub/good.pem" "$T/sub/old.pem" "$T/sub/gone.pem" "$T/forged-bad.pem" "$T/sub/crit.pem" \
    "$T/sub/later.pem" "$T/sub/withdp.pem" "$T/sub2/first.pem" "$T/sub2/second.pem" "$T/fake/impostor.pem" \
    "$T/sub/last.pem"
cat "$@" >"$T/mixed.pem"

# The oracle: openssl verify on each certificate alone; its own dates are
# scan-expiry's to judge (expired, not_yet_valid), the rest untrusted.
expected() {  # anchors chain crls [openssl options]
    _a=$1 _c=$2 _r=$3
    shift 3
    for _x in $CERTS; do
        case $(verdict "$_a" "$_c" "$_r" "$_x" "$@") in
        ok) echo valid ;;
        10@0) echo expired ;;
        9@0) echo not_yet_valid ;;
        23@0) echo revoked ;;
        *) echo untrusted ;;
        esac
    done | tr '\n' ' '
}
CERTS="$*"

# both NAME EXPECTED [scan-expiry options]: the short and the full check
# give the same bytes, and the statuses openssl gives.
both() {
    _case=$1 _want=$2
    shift 2
    scan-expiry --all --as-of "$PKI_ASOF" -q "$@" "$T/mixed.pem" >"$T/fast.csv" 2>"$T/fast.err"
    scan-expiry --all --as-of "$PKI_ASOF" -q --trust-full "$@" "$T/mixed.pem" >"$T/full.csv" 2>"$T/full.err"
    ok "$_case: the short check writes what the full check writes" cmp "$T/fast.csv" "$T/full.csv"
    ok "$_case: ... and says the same on stderr" cmp "$T/fast.err" "$T/full.err"
    is "$(csv_col "$T/fast.csv" status | tr '\n' ' ')" "$_want" "$_case: each status is what openssl verify says"
}

want=$(expected "$T/root/ca.pem" "$T/chain.pem" "$T/crls.pem")
is "$want" "valid expired revoked untrusted untrusted not_yet_valid valid untrusted untrusted untrusted valid " \
    "(openssl verify judges the corpus as the test means it)"
both "all CRLs" "$want" --ca "$T/root/ca.pem" --chain "$T/chain.pem" --crl "$T/crls.pem"
like "$(csv_col "$T/fast.csv" trust_problem | sed -n 4p)" 'signature on the certificate of "forged"' \
    "a holder whose signature is bad is untrusted, and trust_problem says so"
like "$(csv_col "$T/fast.csv" trust_problem | sed -n 5p)" 'critical extension that is not understood' \
    "a holder with an unknown critical extension is untrusted, and trust_problem says so"
like "$(csv_col "$T/fast.csv" trust_problem | sed -n 8p)" 'CA certificate of "TEST Revoked Sub CA" is revoked' \
    "a holder under a revoked issuing CA is untrusted, and trust_problem says so"

both "the same in Vietnamese" "$want" --lang vi --ca "$T/root/ca.pem" --chain "$T/chain.pem" --crl "$T/crls.pem"

cat "$T/sub.crl" "$T/sub2.crl" >"$T/leafcrls.pem"
want=$(expected "$T/root/ca.pem" "$T/chain.pem" "$T/leafcrls.pem")
both "the root's CRL missing" "$want" --ca "$T/root/ca.pem" --chain "$T/chain.pem" --crl "$T/leafcrls.pem"
like "$(csv_col "$T/fast.csv" trust_problem | sed -n 1p)" 'no usable CRL of "TEST Root" covers "TEST Sub CA"' \
    "with the root's CRL missing, trust_problem says the issuing CA's revocation is unknown"

want=$(PKI_CRLCHECK=-crl_check expected "$T/root/ca.pem" "$T/chain.pem" "$T/leafcrls.pem")
both "the root's CRL missing, --crl-optional" "$want" --crl-optional --ca "$T/root/ca.pem" --chain "$T/chain.pem" \
    --crl "$T/leafcrls.pem"

cat "$T/sub/ca.pem" "$T/sub2/ca.pem" >"$T/partial.pem"
want=$(expected "$T/partial.pem" "$T/none" "$T/leafcrls.pem" -partial_chain)
both "--partial-chain" "$want" --partial-chain --ca "$T/partial.pem" --crl "$T/leafcrls.pem"

want=$(expected "$T/root/ca.pem" "$T/chain.pem" "")
both "no CRL" "$want" --ca "$T/root/ca.pem" --chain "$T/chain.pem"

# A holder whose name is its issuing CA's (self-issued: pathLenConstraint
# counts it differently), first or after another holder, under a CA whose
# parent allows no CA below it.
pki_ca pa "TEST Path A" root sub_pathlen0
pki_ca pb "TEST Path B" pa sub
openssl req -new -config "$T/pki.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/pb/self.key" -subj "/C=VN/O=TEST/CN=test  path b" -out "$T/pb/self.csr" 2>/dev/null
PKI_DIR=$T/pb openssl ca -batch -config "$T/pki.cnf" -extensions leaf -startdate 20250101000000Z \
    -enddate 20280101000000Z -notext -in "$T/pb/self.csr" -out "$T/pb/self.pem" 2>/dev/null
pki_leaf pb plain
cat "$T/pa/ca.pem" "$T/pb/ca.pem" >"$T/chain9.pem"
CERTS="$T/pb/self.pem $T/pb/plain.pem $T/pb/self.pem"
cat $CERTS >"$T/mixed.pem"
want=$(expected "$T/root/ca.pem" "$T/chain9.pem" "")
both "a self-issued holder under a pathLenConstraint" "$want" --ca "$T/root/ca.pem" --chain "$T/chain9.pem"
CERTS="$T/pb/plain.pem $T/pb/self.pem $T/pb/plain.pem"
cat $CERTS >"$T/mixed.pem"
want=$(expected "$T/root/ca.pem" "$T/chain9.pem" "")
both "... after another holder" "$want" --ca "$T/root/ca.pem" --chain "$T/chain9.pem"

# The issuing CA's certificate in the input: the holders before it have no
# path, those after it do.
cat "$T/sub/good.pem" "$T/sub/ca.pem" "$T/sub/withdp.pem" "$T/sub/last.pem" >"$T/mixed.pem"
both "the issuing CA in the input" "untrusted valid valid valid " --ca "$T/root/ca.pem" --crl "$T/crls.pem"

done_testing
