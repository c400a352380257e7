#!/bin/sh
# scan-expiry --ca/--chain/--crl judges every path the way RFC 5280 and the
# openssl CLI do: each defect class of issue 14 is built with `openssl ca`
# at fixed dates, `openssl verify -x509_strict -crl_check_all -extended_crl
# -use_deltas -attime` gives the verdict on the same files, and the status
# must agree (valid when openssl says OK; revoked when the certificate itself
# is revoked; untrusted otherwise, with trust_problem saying why).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pki-defects.sh"

agree=0 judged=0
# judge NAME OPENSSL_VERDICT ANCHORS CHAIN CRLS CERT [scan-expiry options] [-- openssl options]
judge() {
    _case=$1 _expect=$2 _a=$3 _c=$4 _r=$5 _x=$6
    shift 6
    _sopts="" _oopts=""
    while [ $# -gt 0 ] && [ "$1" != -- ]; do _sopts="$_sopts $1"; shift; done
    [ "${1:-}" = -- ] && shift && _oopts="$*"
    # shellcheck disable=SC2086
    _v=$(verdict "$_a" "$_c" "$_r" "$_x" $_oopts)
    is "$_v" "$_expect" "(openssl verify: $_case gives $_expect)"
    case $_v in ok) _st=valid ;; 23@0) _st=revoked ;; *) _st=untrusted ;; esac
    set -- --ca "$_a"
    [ -s "$_c" ] && set -- "$@" --chain "$_c"
    [ -n "$_r" ] && set -- "$@" --crl "$_r"
    # shellcheck disable=SC2086
    scan-expiry --all --as-of "$PKI_ASOF" "$@" $_sopts -q "$_x" >"$T/j.csv" 2>"$T/j.err"
    _status=$(csv_col "$T/j.csv" status)
    _problem=$(csv_col "$T/j.csv" trust_problem)
    judged=$((judged + 1))
    [ "$_status" = "$_st" ] && agree=$((agree + 1))
    is "$_status" "$_st" "$_case: $_st, as openssl verify judges it"
    if [ "$_st" = valid ]; then
        is "$_problem" "" "$_case: no trust problem"
    else
        like "$_problem" "${PROBLEM:-.}" "$_case: trust_problem says why"
    fi
    # Both paths of issue 16: every certificate through the full check
    # (--trust-full), and a second certificate of the issuer in one run
    # (the short check once the first has verified).
    # shellcheck disable=SC2086
    scan-expiry --all --as-of "$PKI_ASOF" "$@" $_sopts --trust-full -q "$_x" >"$T/jf.csv" 2>/dev/null
    is "$(csv_col "$T/jf.csv" status)/$(csv_col "$T/jf.csv" trust_problem)" "$_status/$_problem" \
        "$_case: the same with --trust-full"
    cat "$_x" "$_x" >"$T/twice.pem"
    # shellcheck disable=SC2086
    scan-expiry --all --as-of "$PKI_ASOF" "$@" $_sopts -q "$T/twice.pem" >"$T/j2.csv" 2>/dev/null
    is "$(csv_col "$T/j2.csv" status | tr '\n' ' ')" "$_st $_st " "$_case: the same for the second of two"
}
: >"$T/none"

# The good path: root -> issuing CA -> holder, both CRLs.
pki_standard
PROBLEM= judge "a good path with both CRLs" ok "$T/root/ca.pem" "$T/sub/ca.pem" "$T/crls.pem" "$T/sub/good.pem"
PROBLEM='certificate of "gone" is revoked since' \
judge "a holder on the issuing CA's CRL" 23@0 "$T/root/ca.pem" "$T/sub/ca.pem" "$T/crls.pem" "$T/sub/gone.pem"
PROBLEM='no usable CRL of "TEST Root" covers "TEST Sub CA"' \
judge "the root's CRL missing: the issuing CA's revocation is unknown" 3@1 "$T/root/ca.pem" "$T/sub/ca.pem" "$T/sub.crl" "$T/sub/good.pem"
PKI_CRLCHECK=-crl_check PROBLEM= \
judge "the root's CRL missing, with --crl-optional" ok "$T/root/ca.pem" "$T/sub/ca.pem" "$T/sub.crl" "$T/sub/good.pem" --crl-optional
PROBLEM='the issuer of "good"\) is in neither --ca nor --chain' \
judge "no --chain: the path cannot be built" 20@0 "$T/root/ca.pem" "$T/none" "" "$T/sub/good.pem"

# 1. A bad intermediate signature: the issuing CA's certificate with one
# byte of the root's signature changed, in --chain or in --ca itself.
pki_badsig "$T/sub/ca.pem" "$T/badsig.pem"
PROBLEM='signature on the CA certificate of "TEST Sub CA" does not verify' \
judge "an issuing CA whose signature by the root is bad" 7@1 "$T/root/ca.pem" "$T/badsig.pem" "" "$T/sub/good.pem"
cat "$T/root/ca.pem" "$T/badsig.pem" >"$T/root+badsig.pem"
PROBLEM='signature on the CA certificate of "TEST Sub CA" does not verify' \
judge "the same bad issuing CA given in --ca next to the root" 7@1 "$T/root+badsig.pem" "$T/none" "" "$T/sub/good.pem"

# 2. A sub-CA revoked on its parent's CRL.
pki_ca sub2 "TEST Revoked Sub CA" root sub
pki_leaf sub2 under-revoked
pki_revoke root "$T/sub2/ca.pem"
pki_crl root "$T/root2.crl"
pki_crl sub2 "$T/sub2.crl"
cat "$T/root2.crl" "$T/sub2.crl" >"$T/crls2.pem"
PROBLEM='the CA certificate of "TEST Revoked Sub CA" is revoked since' \
judge "a holder under an issuing CA revoked on the root's CRL" 23@1 "$T/root/ca.pem" "$T/sub2/ca.pem" "$T/crls2.pem" "$T/sub2/under-revoked.pem"

# 3. A separate CRL-signing key: the issuing CA's CRL signed by a
# certificate of the same name with only cRLSign, itself under the root.
pki_ca crlsig "TEST Sub CA" root crl_signer
pki_crl sub "$T/sub-by-signer.crl" 20261101000000Z 20270101000000Z crl_std crlsig
pki_crl root "$T/root3.crl"
cat "$T/root3.crl" "$T/sub-by-signer.crl" >"$T/crls3.pem"
cat "$T/sub/ca.pem" "$T/crlsig/ca.pem" >"$T/chain3.pem"
PROBLEM= judge "a CRL signed with a separate CRL-signing key" ok "$T/root/ca.pem" "$T/chain3.pem" "$T/crls3.pem" "$T/sub/good.pem"
PROBLEM='certificate of "gone" is revoked' \
judge "a holder revoked on the CRL of the separate signing key" 23@0 "$T/root/ca.pem" "$T/chain3.pem" "$T/crls3.pem" "$T/sub/gone.pem"
cat "$T/crlsig/ca.pem" "$T/sub/ca.pem" >"$T/chain3r.pem"
PROBLEM='certificate of "gone" is revoked' \
judge "... whatever the order of the --chain bundle" 23@0 "$T/root/ca.pem" "$T/chain3r.pem" "$T/crls3.pem" "$T/sub/gone.pem"
# the CRL-signing certificate itself revoked by the root
pki_revoke root "$T/crlsig/ca.pem"
pki_crl root "$T/root3r.crl"
cat "$T/root3r.crl" "$T/sub-by-signer.crl" >"$T/crls3r.pem"
PROBLEM='CRL of "TEST Sub CA"' \
judge "a CRL whose signing certificate is revoked" crlpath:23@0 "$T/root/ca.pem" "$T/chain3.pem" "$T/crls3r.pem" "$T/sub/good.pem"
# a signing certificate without cRLSign
pki_ca crlsig2 "TEST Sub CA" root crl_signer_no_crlsign
pki_crl sub "$T/sub-by-nocrlsign.crl" 20261101000000Z 20270101000000Z crl_std crlsig2
pki_crl root "$T/root4.crl"
cat "$T/root4.crl" "$T/sub-by-nocrlsign.crl" >"$T/crls4.pem"
cat "$T/sub/ca.pem" "$T/crlsig2/ca.pem" >"$T/chain4.pem"
PROBLEM='the CRL of "TEST Sub CA" is signed by a certificate without the cRLSign key usage' \
judge "a CRL signed by a certificate without cRLSign" crlpath:26@0 "$T/root/ca.pem" "$T/chain4.pem" "$T/crls4.pem" "$T/sub/good.pem"

# 4. A CA key rollover: the issuing CA certified again with a new key
# (same name); holders of the old key, the CRL signed with the new one.
pki_ca subnew "TEST Sub CA" root sub
pki_crl sub "$T/sub-by-new.crl" 20261101000000Z 20270101000000Z crl_std subnew
cat "$T/root4.crl" "$T/sub-by-new.crl" >"$T/crls5.pem"
cat "$T/sub/ca.pem" "$T/subnew/ca.pem" >"$T/chain5.pem"
cat "$T/subnew/ca.pem" "$T/sub/ca.pem" >"$T/chain5r.pem"
PROBLEM= judge "a holder of the old key, CRL signed with the new key" ok "$T/root/ca.pem" "$T/chain5.pem" "$T/crls5.pem" "$T/sub/good.pem"
PROBLEM= judge "... the new CA certificate first in --chain" ok "$T/root/ca.pem" "$T/chain5r.pem" "$T/crls5.pem" "$T/sub/good.pem"
PROBLEM='certificate of "gone" is revoked' \
judge "a revoked holder of the old key, CRL signed with the new key" 23@0 "$T/root/ca.pem" "$T/chain5r.pem" "$T/crls5.pem" "$T/sub/gone.pem"
pki_leaf subnew fresh
PROBLEM= judge "a holder of the new key, the CRL signed with the old key (still valid)" ok "$T/root/ca.pem" "$T/chain5.pem" "$T/crls.pem" "$T/subnew/fresh.pem"

# 5. A stale CRL: its nextUpdate (2026-10-01) before the as-of date.
pki_crl sub "$T/stale.crl" 20260901000000Z 20261001000000Z
cat "$T/root.crl" "$T/stale.crl" >"$T/crls6.pem"
PROBLEM='the CRL of "TEST Sub CA" expired on 2026-10-01' \
judge "a stale CRL" 12@0 "$T/root/ca.pem" "$T/sub/ca.pem" "$T/crls6.pem" "$T/sub/good.pem"
PKI_NOTIME=1 PROBLEM='certificate of "gone" is revoked' \
judge "a stale CRL still lists a revoked holder, with --crl-optional" 23@0 "$T/root/ca.pem" "$T/sub/ca.pem" "$T/crls6.pem" "$T/sub/gone.pem" \
    --crl-optional
# and one not issued yet at the as-of date
pki_crl sub "$T/later.crl" 20270101000000Z 20270201000000Z
cat "$T/root.crl" "$T/later.crl" >"$T/crls7.pem"
PROBLEM='the CRL of "TEST Sub CA" is only valid from 2027-01-01' \
judge "a CRL issued after the as-of date" 11@0 "$T/root/ca.pem" "$T/sub/ca.pem" "$T/crls7.pem" "$T/sub/good.pem"

# 6. An unknown critical CRL extension.
pki_crl sub "$T/crit.crl" 20261101000000Z 20270101000000Z crl_unknown_critical
cat "$T/root.crl" "$T/crit.crl" >"$T/crls8.pem"
ok "(openssl made a CRL with a critical private extension)" sh -c "openssl crl -in '$T/crit.crl' -noout -text | grep -q '1.3.6.1.4.1.99999.1: critical'"
PROBLEM='the CRL of "TEST Sub CA" has a critical extension that is not understood' \
judge "a CRL with an unknown critical extension" 36@0 "$T/root/ca.pem" "$T/sub/ca.pem" "$T/crls8.pem" "$T/sub/good.pem"

# 7. pathLenConstraint exceeded: root -> A (pathlen 0) -> B -> holder.
pki_ca pa "TEST Path A" root sub_pathlen0
pki_ca pb "TEST Path B" pa sub
pki_leaf pb deep
cat "$T/pa/ca.pem" "$T/pb/ca.pem" >"$T/chain9.pem"
PROBLEM='the path under "TEST Path A" is longer than its pathLenConstraint' \
judge "pathLenConstraint exceeded" 25@2 "$T/root/ca.pem" "$T/chain9.pem" "" "$T/pb/deep.pem"

# 8. A CA without keyCertSign.
pki_ca nocs "TEST No CertSign CA" root sub_no_certsign
pki_leaf nocs signed
PROBLEM='"TEST No CertSign CA" signed a certificate but is no CA allowed to' \
judge "a CA without keyCertSign" 79@1 "$T/root/ca.pem" "$T/nocs/ca.pem" "" "$T/nocs/signed.pem"

# 9. An anchor-only --ca given an intermediate: the issuing CA next to an
# unrelated root is no anchor; --partial-chain makes it one.
pki_ca other "TEST Other Root" "" root
cat "$T/other/ca.pem" "$T/sub/ca.pem" >"$T/other+sub.pem"
PROBLEM='"TEST Root" \(the issuer of "TEST Sub CA"\) is in neither --ca nor --chain' \
judge "an intermediate in --ca is no trust anchor" 2@1 "$T/other+sub.pem" "$T/none" "" "$T/sub/good.pem"
PROBLEM= judge "... unless --partial-chain" ok "$T/other+sub.pem" "$T/none" "" "$T/sub/good.pem" --partial-chain -- -partial_chain
scan-expiry --all --as-of "$PKI_ASOF" --ca "$T/other+sub.pem" -q "$T/sub/good.pem" 2>"$T/w.err" >/dev/null
like "$(cat "$T/w.err")" 'warning: --ca .*other\+sub.pem#2: "TEST Sub CA" is not self-signed' \
    "a warning says the intermediate given in --ca is used as an intermediate only"

# CA certificates in the scanned input serve as intermediates for the
# certificates after them.
cat "$T/sub/ca.pem" "$T/sub/good.pem" >"$T/input.pem"
scan-expiry --all --as-of "$PKI_ASOF" --ca "$T/root/ca.pem" --crl "$T/crls.pem" -q "$T/input.pem" >"$T/in.csv" 2>/dev/null
is "$(mlr --icsv --onidx --ofs , cut -o -f subject_cn,status "$T/in.csv" | tr '\n' ' ')" "TEST Sub CA,valid good,valid " \
    "an issuing CA certificate in the input is the intermediate of the holder after it"

# trust_problem in Vietnamese.
scan-expiry --all --as-of "$PKI_ASOF" --lang vi --ca "$T/root/ca.pem" --chain "$T/sub/ca.pem" --crl "$T/crls6.pem" \
    -q "$T/sub/good.pem" >"$T/vi.csv"
like "$(csv_col "$T/vi.csv" trust_problem)" 'CRL của "TEST Sub CA" đã hết hạn ngày 2026-10-01' "--lang vi: the stale CRL's problem in Vietnamese"
exit_is 64 "--chain without --ca is a usage error" scan-expiry --chain "$T/sub/ca.pem" "$T/sub/good.pem"
exit_is 64 "an unknown --lang is a usage error" scan-expiry --lang fr --ca "$T/root/ca.pem" "$T/sub/good.pem"
exit_is 65 "a --ca file with no self-signed anchor stops the run (65)" scan-expiry --ca "$T/sub/ca.pem" "$T/sub/good.pem"

echo "# verdicts right: $agree of $judged agree with openssl verify"
done_testing
