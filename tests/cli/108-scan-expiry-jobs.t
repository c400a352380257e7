#!/bin/sh
# scan-expiry -j N judges certificates on N threads: the records, the
# rejects and the messages must be byte for byte those of -j 1, in the
# same order, on many files (the samples' directory: bundles, one file a
# certificate, DER, keys to skip) and on one big bundle, with and without
# the trust options; and an issuing CA certificate in the middle of a
# bundle still serves only the certificates after it.
. "$(dirname "$0")/lib.sh"
need_samples

AS_OF=$(cat "$SAMPLES/as-of.txt")
TRUST="--ca $SAMPLES/roots.pem --chain $SAMPLES/chain.pem --crl $SAMPLES/crls.pem"

# same NAME [scan-expiry options and inputs]: -j 2 and -j 3 as -j 1
same() {
    _case=$1
    shift
    scan-expiry --all --as-of "$AS_OF" --rejects "$T/r1.csv" "$@" >"$T/o1.csv" 2>"$T/e1"
    _rc1=$?
    for _j in 2 3; do
        scan-expiry -j $_j --all --as-of "$AS_OF" --rejects "$T/r$_j.csv" "$@" >"$T/o$_j.csv" 2>"$T/e$_j"
        _rc=$?
        ok "$_case: -j $_j writes the records of -j 1" cmp "$T/o1.csv" "$T/o$_j.csv"
        ok "$_case: -j $_j writes the rejects of -j 1" cmp "$T/r1.csv" "$T/r$_j.csv"
        # the summary line ends with the run's time
        sed 's/ ([0-9.]* s)$//' "$T/e1" >"$T/e1.t"
        sed 's/ ([0-9.]* s)$//' "$T/e$_j" >"$T/e$_j.t"
        ok "$_case: -j $_j says what -j 1 says, in the same order" cmp "$T/e1.t" "$T/e$_j.t"
        is "$_rc" "$_rc1" "$_case: -j $_j exits as -j 1"
    done
}

same "the samples' directory" "$SAMPLES"
same "the samples' directory, with the trust options" $TRUST "$SAMPLES"

i=0; while [ $i -lt 20 ]; do cat "$SAMPLES/subscribers.pem"; i=$((i + 1)); done >"$T/big.pem"
N=$(grep -c 'BEGIN CERTIFICATE' "$T/big.pem")
same "one bundle of $N certificates" "$T/big.pem"
is "$(( $(grep -c . "$T/o1.csv") - 1 ))" "$N" "one record a certificate of the big bundle"
same "one bundle of $N certificates, with the trust options" $TRUST "$T/big.pem"
is "$(csv_col "$T/o1.csv" status | grep -c -x revoked)" "$(( $(grep -c . "$SAMPLES/revoked.txt") * 20 ))" \
    "the revoked subscribers are revoked each time they come"

# The issuing CA in the middle: 2,000 holders without a path, the CA, then
# 2,000 with one (no --chain).
awk '/BEGIN CERTIFICATE/ { n++ } n <= 2000 { print }' "$T/big.pem" >"$T/half.pem"
cat "$T/half.pem" "$SAMPLES/issuing-ca.pem" "$T/half.pem" >"$T/ca-inside.pem"
same "the issuing CA in the middle of a bundle" --ca "$SAMPLES/roots.pem" --crl "$SAMPLES/crls.pem" "$T/ca-inside.pem"
is "$(csv_col "$T/o1.csv" status | sed -n '1,2000p' | sort -u | tr '\n' ' ')" "untrusted " \
    "the holders before the issuing CA have no path"
is "$(csv_col "$T/o1.csv" status | sed -n '2002,4001p' | grep -c -x untrusted)" 0 \
    "the holders after it have one"

: >"$T/empty.pem"
same "an empty input" "$T/empty.pem"
exit_is 64 "-j 0 is a usage error" scan-expiry -j 0 "$T/empty.pem"
exit_is 64 "-j x is a usage error" scan-expiry -j x "$T/empty.pem"
done_testing
