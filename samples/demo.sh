#!/bin/sh
# make demo: run the programs on the sample PKI and show where the results
# are. The sample PKI is built by samples/make-samples.sh (make samples).
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
S=$TOP/samples/out
OUT=$S/demo
rm -rf "$OUT"
mkdir -p "$OUT"
PATH=$TOP/bin:$PATH

echo "== scan-expiry: certificates of the sample province due for renewal"
scan-expiry --ca "$S/ca-chain.pem" --crl "$S/crl.pem" --rejects "$OUT/scan-rejects.csv" \
    -o "$OUT/due.csv" "$S/subscribers.pem"
echo "   $(($(wc -l <"$OUT/due.csv") - 1)) certificates need action; first ones:"
head -n 4 "$OUT/due.csv" | cut -d, -f1,2,3,12,13,14 | sed 's/^/     /'
echo "   all sample certificates by status:"
scan-expiry --all --ca "$S/ca-chain.pem" --crl "$S/crl.pem" -q "$S/subscribers.pem" |
    mlr --icsv --opprint count -g status then sort -f status | sed 's/^/     /'
echo
echo "Results are in $OUT:"
ls -l "$OUT" | sed 1d | sed 's/^/  /'
