#!/bin/sh
# split-updates: a certificate that does not verify against the CA is
# rejected and never delivered, even when it carries a holder's key.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/split-updates-fixture.sh"
su_standard
# A forger with a CA of the same name signs a certificate for An's key and
# another for a made-up holder.
su_ca forger "Test CA chuyên dùng"
su_cert h1 forger 0x6661 1095 "$T/forged-h1.pem"
su_cert h2 forger 0x6662 1095 "$T/forged-h2.pem"
ok "(openssl verify refuses the forged certificate)" sh -c "! openssl verify -CAfile '$T/ca.pem' '$T/forged-h1.pem' >/dev/null 2>&1"
cat "$T/forged-h1.pem" "$T/new-h3.pem" "$T/forged-h2.pem" >"$T/update.pem"

OUT=$T/out
split-updates --out "$OUT" --ca "$T/ca.pem" --requests "$T/requests.csv" --old-certs "$T/old" \
    --rejects "$T/rejects.csv" "$T/update.pem" >"$T/manifest.csv" 2>"$T/err"
is "$?" 0 "rejects alone do not fail the run"
is "$(mlr --icsv --onidx --ofs , filter '$status != "missing"' then cut -o -f serial,status,path "$T/manifest.csv")" \
"6661,untrusted,
2003,delivered,$OUT/sở-y-tế/Lê-Văn-Cường-2003.pem
6662,untrusted," "forged certificates are untrusted and have no path; the genuine one is delivered"
is "$(find "$OUT" -type f | wc -l | tr -d ' ')" 1 "no forged certificate is written anywhere"
is "$(mlr --icsv --onidx --ofs , filter '$status == "missing"' then cut -o -f request_id "$T/manifest.csv" | tr '\n' ' ')" \
    "R1 R2 R4 R5 " "An's and Bình's requests stay missing: a forged certificate answers nothing"
third=$(grep -n -- '-----BEGIN CERTIFICATE-----' "$T/update.pem" | sed -n 3p | cut -d: -f1)
is "$(mlr --icsv --onidx --ofs , cut -o -f serial,status,reject_line "$T/rejects.csv")" \
"6661,untrusted,1
6662,untrusted,$third" "the rejects file has both forged certificates with the line where each begins"
like "$(mlr --icsv --onidx head -n 1 then cut -f reject_reason "$T/rejects.csv")" "does not verify against the CA" \
    "the reject reason says the certificate does not verify against the CA"
like "$(cat "$T/err")" "3 in, 1 out, 2 rejected" "the summary counts 3 in = 1 out + 2 rejected"

split-updates --out "$T/o2" --ca "$T/ca.pem" --requests "$T/requests.csv" "$T/update.pem" >/dev/null 2>"$T/err2"
like "$(cat "$T/err2")" "split-updates: .*update.pem:1: the certificate does not verify" \
    "without --rejects each reject is a diagnostic naming file and line"
exit_is 65 "with --strict a forged certificate fails the run (65)" \
    split-updates --strict --out "$T/o3" --ca "$T/ca.pem" --requests "$T/requests.csv" "$T/update.pem"

# Expiry at --as-of: the renewed certificates run 1095 days from today (the
# fixture is made now); four years on they are expired, and so untrusted.
LATER=$(date -u -d '+4 years' +%Y-%m-%d)
exit_is 0 "(a run four years from now)" split-updates --as-of "$LATER" --out "$T/o4" --ca "$T/ca.pem" \
    --requests "$T/requests.csv" -o "$T/m4.csv" "$T/new-h3.pem"
like "$(mlr --icsv --onidx head -n 1 then cut -f status,reason "$T/m4.csv")" "untrusted .*expired" \
    "a certificate expired at the --as-of date is untrusted"
is "$(find "$T/o4" -type f | wc -l | tr -d ' ')" 0 "... and not delivered"

# A renewal that begins later (when the old certificate ends) is no forgery:
# delivered even though it is not valid yet. Made with `openssl ca`, the CLI
# that can set a start date: from 2 to 5 years after today.
FSTART=$(date -u -d '+2 years' +%Y)0101000000Z
FEND=$(date -u -d '+5 years' +%Y)0101000000Z
FAFTER=$(date -u -d '+5 years' +%Y)-06-01
mkdir -p "$T/cadb/new"
: >"$T/cadb/index.txt"
cat >"$T/ca.cnf" <<CNF
[ca]
default_ca = test
[test]
database = $T/cadb/index.txt
new_certs_dir = $T/cadb/new
serial = $T/cadb/serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
emailAddress = optional
CNF
echo 4003 >"$T/cadb/serial"
openssl ca -batch -config "$T/ca.cnf" -cert "$T/ca.pem" -keyfile "$T/ca.key" -in "$T/h3.csr" -utf8 \
    -startdate "$FSTART" -enddate "$FEND" -notext -out "$T/future-h3.pem" 2>/dev/null
like "$(openssl x509 -in "$T/future-h3.pem" -noout -startdate)" "Jan  1 00:00:00 ${FSTART%0101000000Z} GMT" "(openssl made a certificate starting in two years)"
split-updates -q --out "$T/o9" --ca "$T/ca.pem" --requests "$T/requests.csv" --old-certs "$T/old" -o "$T/m9.csv" "$T/future-h3.pem"
is "$(mlr --icsv --onidx head -n 1 then cut -o -f request_id,status "$T/m9.csv")" "R3 delivered" \
    "a renewal that only begins in two years is delivered now"
split-updates -q --as-of "$FAFTER" --out "$T/o10" --ca "$T/ca.pem" --requests "$T/requests.csv" -o "$T/m10.csv" "$T/future-h3.pem" 2>/dev/null
like "$(mlr --icsv --onidx head -n 1 then cut -o -f status,reason "$T/m10.csv")" "untrusted .*expired" \
    "once its end has passed the same certificate has expired: untrusted"

# Before the CA's own validity begins.
exit_is 0 "(a run as of 2020, before the certificates begin)" split-updates --as-of 2020-01-01 --out "$T/o5" \
    --ca "$T/ca.pem" --requests "$T/requests.csv" -o "$T/m5.csv" "$T/new-h3.pem"
is "$(mlr --icsv --onidx head -n 1 then cut -f status "$T/m5.csv")" "untrusted" \
    "before the CA itself is valid, nothing verifies"

# --ca holds trust anchors only: the issuing CA alone is no anchor unless
# --partial-chain says so (issue 14), as openssl verify judges it.
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/root.key" -out "$T/root.pem" \
    -subj "/CN=Root" -days 3650 -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/sub.key" -subj "/CN=Sub CA" -out "$T/sub.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n' >"$T/ext"
openssl x509 -req -in "$T/sub.csr" -CA "$T/root.pem" -CAkey "$T/root.key" -set_serial 7 -days 3650 -extfile "$T/ext" -out "$T/sub.pem" 2>/dev/null
su_cert h3 sub 0x3003 365 "$T/sub-h3.pem"
ok "(openssl verify refuses the issuing CA alone as an anchor)" sh -c "! openssl verify -x509_strict -CAfile '$T/sub.pem' '$T/sub-h3.pem' >/dev/null 2>&1"
exit_is 65 "--ca naming the issuing CA alone stops the run (65): it is no trust anchor" \
    split-updates -q --out "$T/o6" --ca "$T/sub.pem" --requests "$T/requests.csv" --old-certs "$T/old" -o "$T/m6.csv" "$T/sub-h3.pem"
like "$(cat "$T/.err")" "warning: --ca .*sub.pem#1: \"Sub CA\" is not self-signed" "... a warning says why"
like "$(cat "$T/.err")" "split-updates: --ca: no trust anchor" "... and the error that there is no trust anchor"
ok "(openssl verify -partial_chain accepts it)" openssl verify -x509_strict -partial_chain -CAfile "$T/sub.pem" "$T/sub-h3.pem"
split-updates -q --partial-chain --out "$T/o6p" --ca "$T/sub.pem" --requests "$T/requests.csv" --old-certs "$T/old" -o "$T/m6p.csv" "$T/sub-h3.pem"
is "$(mlr --icsv --onidx head -n 1 then cut -o -f request_id,status "$T/m6p.csv")" "R3 delivered" \
    "with --partial-chain the issuing CA alone is enough"
split-updates -q --out "$T/o7" --ca "$T/root.pem" --requests "$T/requests.csv" -o "$T/m7.csv" "$T/sub-h3.pem" 2>/dev/null
is "$(mlr --icsv --onidx head -n 1 then cut -f status "$T/m7.csv")" "untrusted" \
    "with only the root and no issuing CA certificate, the chain cannot be built: untrusted"
cat "$T/root.pem" "$T/sub.pem" >"$T/chain.pem"
split-updates -q --out "$T/o8" --ca "$T/chain.pem" --requests "$T/requests.csv" -o "$T/m8.csv" "$T/sub-h3.pem" 2>/dev/null
is "$(mlr --icsv --onidx head -n 1 then cut -f status "$T/m8.csv")" "delivered" "a chain file (root + issuing CA) as --ca still works: the root is the anchor"
split-updates -q --out "$T/o11" --ca "$T/root.pem" --chain "$T/sub.pem" --requests "$T/requests.csv" -o "$T/m11.csv" "$T/sub-h3.pem"
is "$(mlr --icsv --onidx head -n 1 then cut -o -f status,trust_problem "$T/m11.csv")" "delivered " "--ca root and --chain issuing CA: delivered, no trust problem"
cat "$T/sub-h3.pem" "$T/sub.pem" >"$T/with-sub.pem"
split-updates -q --out "$T/o12" --ca "$T/root.pem" --requests "$T/requests.csv" -o "$T/m12.csv" "$T/sub.pem" "$T/sub-h3.pem"
is "$(mlr --icsv --onidx --ofs , filter '$status != "missing"' then cut -o -f status "$T/m12.csv" | tr '\n' ' ')" "chain delivered " \
    "an issuing CA certificate sent ahead in the update serves as the intermediate of those after it"
done_testing
