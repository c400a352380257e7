#!/bin/sh
# Benchmark: the province's whole night, the shipped
# pipelines/nightly-renewal.yaml on a generated state directory, against in
# the same run a bash script doing the same work the way offices do it today
# (openssl x509 + openssl verify per certificate, mlr count -g for the
# per-agency list, openssl cms -sign), timed on a 2,000-certificate and
# 200-form subset and extrapolated (the extrapolation is stated).
#
#   sh tests/bench/nightly.sh [province|nation]
#
# province: 50,000 certificates, 5,000 forms (issue 16's target: the night
# under 2 s, >= 500x the baseline); nation: 1,500,000 certificates, 150,000
# forms (target: under 60 s with both cores, peak memory under 256 MB). The
# state (certificates signed by the sample issuing CA, one shared subscriber
# key, Vietnamese names, expiries over 3 years; forms 5% bad) is made by
# tests/bench/gen-nightly.c on two cores and kept in build/bench/ for the
# next run. Runs an office's first night (no trust cache yet), then the
# night after as every later night is (the same work, with the first
# night's trust cache: scan-expiry --trust-cache). Prints each night's
# time, each step's time from the run log, peak memory (the largest
# process), the baseline and the ratio.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CB_BIN:-$TOP/bin}
SCALE=${1:-province}
case $SCALE in
province) NCERTS=50000 NFORMS=5000 ;;
nation) NCERTS=1500000 NFORMS=150000 ;;
*) echo "nightly.sh: scale is province or nation, not '$SCALE'" >&2; exit 64 ;;
esac
SAMPLES=$TOP/samples/out
[ -f "$SAMPLES/.done" ] || { echo "nightly.sh: make samples first" >&2; exit 66; }
D=$(cat "$SAMPLES/as-of.txt")
PATH=$BIN:$PATH
export PATH LC_ALL=C.UTF-8
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
now() { date +%s.%N; }
since() { echo "$1 $(now)" | awk '{ printf "%.2f", $2 - $1 }'; }

# The generated state, made once per scale, day and sample CA (samples made
# again have a new CA: certificates of the old one would all be untrusted).
ca=$(sha256sum "$SAMPLES/issuing-ca.pem" | cut -c1-12)
G=$TOP/build/bench/$SCALE-$D-$ca
if [ ! -f "$G/.done" ]; then
    rm -rf "$G" && mkdir -p "$G/certs" "$G/forms"
    cc -O2 -o "$W/gen" "$TOP/tests/bench/gen-nightly.c" -lcrypto
    parts=$(( (NCERTS + 999) / 1000 )); half=$(( parts / 2 ))
    t0=$(now)
    "$W/gen" "$SAMPLES/issuing-ca.pem" "$SAMPLES/issuing-ca.key" "$D" $NCERTS $NFORMS "$G" 0 $half &
    "$W/gen" "$SAMPLES/issuing-ca.pem" "$SAMPLES/issuing-ca.key" "$D" $NCERTS $NFORMS "$G" $half $parts
    wait
    echo "generated $NCERTS certificates and their forms in $(since "$t0") s ($G)"
    touch "$G/.done"
fi
nforms=$(cat "$G"/forms/*.csv | grep -vc '^request_id,')
echo "== $SCALE: $NCERTS certificates, $nforms forms, as of $D"

# A state directory on the generated certificates and forms.
make_state() {  # DIR
    mkdir -p "$1/ca" "$1/forms/incoming"
    ln -s "$G/certs" "$1/certs"
    cp "$SAMPLES/roots.pem" "$SAMPLES/chain.pem" "$SAMPLES/office-signer.pem" "$SAMPLES/office-signer.key" "$1/ca/"
    cp "$SAMPLES/crls.pem" "$1/ca/crl.pem"
    : >"$1/ca/office-signer.pass"
    cp "$G"/forms/*.csv "$1/forms/incoming/"
}
# run_night LABEL DIR: the shipped pipeline on DIR; prints its time, peak
# memory and each step's time from the run log; sets $night.
run_night() {
    t0=$(now)
    /usr/bin/time -f '%M' -o "$W/rss" run-pipeline -q --as-of "$D" --set state="$2" \
        "$TOP/pipelines/nightly-renewal.yaml" >/dev/null 2>"$W/night.err" || {
        echo "nightly.sh: the night failed:" >&2; cat "$W/night.err" >&2; exit 1; }
    night=$(since "$t0")
    rss_mb=$(awk '{ printf "%.0f", $1 / 1024 }' "$W/rss")
    echo "certbatch $1: $night s, peak memory ${rss_mb} MB (largest process)"
    /usr/bin/python3 - "$2/log/nightly-renewal.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
run = [r for r in rows if r.get("event") == "run_start"][-1]["run"]
for r in rows:
    if r.get("run") == run and r.get("event") == "step":
        print(f"  {r['stage']:<14} {r['step']:<20} {r['seconds']:>7.2f} s  {r.get('in', '-')!s:>8} in")
PY
}
# The first night of an office (no trust cache yet), then the night after
# as every night is: the same certificates, the same letters and forms to
# handle (a state of its own), with the trust cache the first night left.
make_state "$W/state"
run_night "first night (no trust cache yet)" "$W/state"
first=$night
make_state "$W/state2"
cp "$W/state/trusted-certs.cache" "$W/state2/"
run_night "night after (the first night's trust cache)" "$W/state2"

# The baseline on a subset: one certificate file at a time through the
# openssl CLI (dates, serial, subject, a chain and CRL check), a day count
# in the shell, then mlr and openssl cms for the list.
SUB=2000 SUBF=200
awk -v d="$W/one" -v max=$SUB 'BEGIN { system("mkdir -p " d) }
    /BEGIN CERTIFICATE/ { n++; if (n > max) exit; f = sprintf("%s/%05d.pem", d, n) }
    f { print > f } /END CERTIFICATE/ { close(f); f = "" }' "$G"/certs/part-00000.pem "$G"/certs/part-00001.pem
cat "$G"/forms/*.csv | awk -v max=$SUBF 'NR == 1 || (!/^request_id,/ && ++n <= max)' >"$W/sub-forms.csv"
cat >"$W/baseline.sh" <<'SH'
#!/bin/bash
# What a provincial office's script does today, certificate by certificate.
set -u
dir=$1 chain=$2 crl=$3 forms=$4 signer=$5 key=$6 asof=$7
today=$(date -u -d "$asof" +%s)
echo "serial,subject,not_after,days_left,status" > "$dir/inventory.csv"
for f in "$dir"/one/*.pem; do
    info=$(openssl x509 -in "$f" -noout -serial -enddate -subject -nameopt RFC2253)
    serial=${info#serial=}; serial=${serial%%$'\n'*}
    end=$(sed -n 's/^notAfter=//p' <<<"$info")
    subj=$(sed -n 's/^subject=//p' <<<"$info")
    left=$(( ($(date -u -d "$end" +%s) - today) / 86400 ))
    if openssl verify -CAfile "$chain" -crl_check -CRLfile "$crl" "$f" >/dev/null 2>&1; then st=valid; else st=untrusted; fi
    [ "$left" -lt 0 ] && st=expired
    [ "$st" = valid ] && [ "$left" -le 60 ] && st=expiring
    echo "$serial,\"$subj\",$end,$left,$st" >> "$dir/inventory.csv"
done
mlr --icsv --ocsv count -g agency "$forms" > "$dir/proposal.csv"
openssl cms -sign -binary -in "$dir/proposal.csv" -signer "$signer" -inkey "$key" -outform PEM -out "$dir/proposal.csv.p7s"
SH
t0=$(now)
bash "$W/baseline.sh" "$W" "$SAMPLES/ca-chain.pem" "$SAMPLES/crl.pem" "$W/sub-forms.csv" \
    "$SAMPLES/office-signer.pem" "$SAMPLES/office-signer.key" "$D"
base_sub=$(since "$t0")
base=$(echo "$base_sub $SUB $NCERTS" | awk '{ printf "%.0f", $1 * $3 / $2 }')
echo "baseline: $base_sub s for $SUB certificates and $SUBF forms; extrapolated to $NCERTS certificates: $base s"
echo "ratio, the night after: $(echo "$base $night" | awk '{ printf "%.0f", $1 / $2 }')x faster than the baseline (the first night: $(echo "$base $first" | awk '{ printf "%.0f", $1 / $2 }')x)"
case $SCALE in
province) target="the night under 2 s, >= 500x" ;;
nation) target="the night under 60 s, peak memory under 256 MB" ;;
esac
echo "target (issue 16): $target"
