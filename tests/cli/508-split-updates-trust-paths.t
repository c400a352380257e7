#!/bin/sh
# split-updates delivers a returned certificate only when its whole path
# verifies, the way `openssl verify -x509_strict -crl_check_all
# -extended_crl -use_deltas -attime` judges the same files (issue 14): one
# case per defect class, built with `openssl ca` at fixed dates.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pki-defects.sh"
# split-updates --as-of accepts a certificate valid at some time of that day
PKI_AT=$(date -u -d "$PKI_ASOF 23:59:59 +0700" +%s)

agree=0 judged=0 k=0
# deliver NAME OPENSSL_VERDICT ANCHORS CHAIN CRLS CERT [split-updates options]
deliver() {
    _case=$1 _expect=$2 _a=$3 _c=$4 _r=$5 _x=$6
    shift 6
    k=$((k + 1))
    _v=$(verdict "$_a" "$_c" "$_r" "$_x")
    is "$_v" "$_expect" "(openssl verify: $_case gives $_expect)"
    case $_v in ok) _st=delivered ;; *) _st=untrusted ;; esac
    set -- "$@" --ca "$_a"
    [ -s "$_c" ] && set -- "$@" --chain "$_c"
    [ -n "$_r" ] && set -- "$@" --crl "$_r"
    split-updates -q --as-of "$PKI_ASOF" --out "$T/out$k" --requests "$T/requests.csv" "$@" \
        -o "$T/m$k.csv" "$_x" 2>/dev/null
    _status=$(mlr --icsv --onidx filter '$status != "missing"' then cut -f status "$T/m$k.csv")
    judged=$((judged + 1))
    [ "$_status" = "$_st" ] && agree=$((agree + 1))
    is "$_status" "$_st" "$_case: $_st, as openssl verify judges it"
    _files=$(find "$T/out$k" -type f | wc -l | tr -d ' ')
    if [ "$_st" = delivered ]; then
        is "$(mlr --icsv --onidx filter '$status != "missing"' then cut -f trust_problem "$T/m$k.csv")" "" \
            "$_case: delivered, no trust problem"
    else
        is "$_files" 0 "$_case: nothing written"
    fi
}
: >"$T/none"

pki_standard
{
    echo "request_id,full_name,email,agency,agency_key"
    for n in good gone under-revoked deep signed; do
        echo "R-$n,$n,holder@example.gov.vn,Sở Y tế,sở y tế"
    done
} >"$T/requests.csv"

deliver "a good path with both CRLs" ok "$T/root/ca.pem" "$T/sub/ca.pem" "$T/crls.pem" "$T/sub/good.pem"
deliver "a holder revoked on the issuing CA's CRL" 23@0 "$T/root/ca.pem" "$T/sub/ca.pem" "$T/crls.pem" "$T/sub/gone.pem"
like "$(mlr --icsv --onidx filter '$status != "missing"' then cut -f trust_problem "$T/m$k.csv")" \
    'certificate of "gone" is revoked since' "the manifest's trust_problem says the holder's certificate is revoked"
deliver "the root's CRL missing" 3@1 "$T/root/ca.pem" "$T/sub/ca.pem" "$T/sub.crl" "$T/sub/good.pem"
PKI_CRLCHECK=-crl_check \
deliver "the root's CRL missing, with --crl-optional (openssl: the holder's own CRL only)" ok \
    "$T/root/ca.pem" "$T/sub/ca.pem" "$T/sub.crl" "$T/sub/good.pem" --crl-optional

# a bad intermediate signature
pki_badsig "$T/sub/ca.pem" "$T/badsig.pem"
cat "$T/root/ca.pem" "$T/badsig.pem" >"$T/root+badsig.pem"
deliver "an issuing CA whose signature is bad, given in --ca" 7@1 "$T/root+badsig.pem" "$T/none" "" "$T/sub/good.pem"

# a sub-CA revoked on its parent's CRL
pki_ca sub2 "TEST Revoked Sub CA" root sub
pki_leaf sub2 under-revoked
pki_revoke root "$T/sub2/ca.pem"
pki_crl root "$T/root2.crl"
pki_crl sub2 "$T/sub2.crl"
cat "$T/root2.crl" "$T/sub2.crl" >"$T/crls2.pem"
deliver "a holder under a revoked issuing CA" 23@1 "$T/root/ca.pem" "$T/sub2/ca.pem" "$T/crls2.pem" "$T/sub2/under-revoked.pem"

# a separate CRL-signing key, and a CA key rollover
pki_ca crlsig "TEST Sub CA" root crl_signer
pki_crl sub "$T/sub-by-signer.crl" 20261101000000Z 20270101000000Z crl_std crlsig
cat "$T/root2.crl" "$T/sub-by-signer.crl" >"$T/crls3.pem"
cat "$T/crlsig/ca.pem" "$T/sub/ca.pem" >"$T/chain3.pem"
deliver "a CRL signed with a separate CRL-signing key" ok "$T/root/ca.pem" "$T/chain3.pem" "$T/crls3.pem" "$T/sub/good.pem"
pki_ca subnew "TEST Sub CA" root sub
pki_crl sub "$T/sub-by-new.crl" 20261101000000Z 20270101000000Z crl_std subnew
cat "$T/root2.crl" "$T/sub-by-new.crl" >"$T/crls5.pem"
cat "$T/subnew/ca.pem" "$T/sub/ca.pem" >"$T/chain5.pem"
deliver "a holder of the old CA key, CRL signed with the new key" ok "$T/root/ca.pem" "$T/chain5.pem" "$T/crls5.pem" "$T/sub/good.pem"
deliver "a revoked holder of the old CA key, CRL signed with the new key" 23@0 "$T/root/ca.pem" "$T/chain5.pem" "$T/crls5.pem" "$T/sub/gone.pem"

# a stale CRL, an unknown critical CRL extension
pki_crl sub "$T/stale.crl" 20260901000000Z 20261001000000Z
cat "$T/root.crl" "$T/stale.crl" >"$T/crls6.pem"
deliver "a stale CRL" 12@0 "$T/root/ca.pem" "$T/sub/ca.pem" "$T/crls6.pem" "$T/sub/good.pem"
pki_crl sub "$T/crit.crl" 20261101000000Z 20270101000000Z crl_unknown_critical
cat "$T/root.crl" "$T/crit.crl" >"$T/crls8.pem"
deliver "a CRL with an unknown critical extension" 36@0 "$T/root/ca.pem" "$T/sub/ca.pem" "$T/crls8.pem" "$T/sub/good.pem"

# pathLen exceeded, a CA without keyCertSign, an intermediate as anchor
pki_ca pa "TEST Path A" root sub_pathlen0
pki_ca pb "TEST Path B" pa sub
pki_leaf pb deep
cat "$T/pa/ca.pem" "$T/pb/ca.pem" >"$T/chain9.pem"
deliver "pathLenConstraint exceeded" 25@2 "$T/root/ca.pem" "$T/chain9.pem" "" "$T/pb/deep.pem"
pki_ca nocs "TEST No CertSign CA" root sub_no_certsign
pki_leaf nocs signed
deliver "a CA without keyCertSign" 79@1 "$T/root/ca.pem" "$T/nocs/ca.pem" "" "$T/nocs/signed.pem"
pki_ca other "TEST Other Root" "" root
cat "$T/other/ca.pem" "$T/sub/ca.pem" >"$T/other+sub.pem"
deliver "an intermediate in --ca next to an unrelated root" 2@1 "$T/other+sub.pem" "$T/none" "" "$T/sub/good.pem"

echo "# verdicts right: $agree of $judged agree with openssl verify"
done_testing
