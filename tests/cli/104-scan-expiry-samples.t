#!/bin/sh
# scan-expiry on the sample PKI (samples/make-samples.sh), checked against
# the manifest the script wrote from the dates it asked openssl for.
. "$(dirname "$0")/lib.sh"
need_samples
ASOF=$(cat "$SAMPLES/as-of.txt")

scan-expiry --all --as-of "$ASOF" --ca "$SAMPLES/roots.pem" --chain "$SAMPLES/chain.pem" --crl "$SAMPLES/crls.pem" \
    "$SAMPLES/certs" >"$T/all.csv" 2>"$T/all.err"
n=$(($(wc -l <"$SAMPLES/manifest.csv") - 1))
like "$(cat "$T/all.err")" "^scan-expiry: $n in, $n out, 0 rejected" "every sample certificate is read from the directory"

cols=serial,subject_cn,subject_o,email,uid,not_before,not_after,expiry_date,days_left
mlr --icsv --ocsv cut -o -f "$cols" then sort -f serial "$T/all.csv" >"$T/got.csv"
mlr --icsv --ocsv cut -o -f "$cols" then sort -f serial "$SAMPLES/manifest.csv" >"$T/want.csv"
ok "serials, names, e-mail, UID, dates and days left equal the manifest's" cmp "$T/got.csv" "$T/want.csv"

# The status the contract defines, derived from the manifest by its rules.
mlr --icsv --ocsv put '
    nb = splitax($not_before, "T")[1];
    if ($revoked == "yes") { $status = "revoked" }
    elif (nb > "'"$ASOF"'") { $status = "not_yet_valid" }
    elif ($days_left < 0) { $status = "expired" }
    elif ($days_left <= 60) { $status = "expiring" }
    else { $status = "valid" }' then cut -o -f serial,status then sort -f serial "$SAMPLES/manifest.csv" >"$T/want-status.csv"
mlr --icsv --ocsv cut -o -f serial,status then sort -f serial "$T/all.csv" >"$T/got-status.csv"
ok "every status follows the contract's precedence" cmp "$T/got-status.csv" "$T/want-status.csv"
is "$(sort "$SAMPLES/revoked.txt" | tr '\n' ' ')" "$(mlr --icsv --onidx filter '$status == "revoked"' then cut -f serial then sort -f serial "$T/all.csv" | tr '\n' ' ')" \
   "the revoked ones are exactly those of revoked.txt"

scan-expiry --as-of "$ASOF" -q "$SAMPLES/subscribers.pem" >"$T/due.csv"
# Without --crl a revoked certificate is judged by its dates like the others.
want=$(mlr --icsv --onidx filter '$days_left <= 60 && splitax($not_before, "T")[1] <= "'"$ASOF"'"' then count "$SAMPLES/manifest.csv")
is "$(($(wc -l <"$T/due.csv") - 1))" "$want" "by default the bundle gives the expiring and expired ones"
done_testing
