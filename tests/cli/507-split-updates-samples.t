#!/bin/sh
# split-updates on the sample PKI: the renewal forms as clerks filled them
# (old serials, agencies typed in several ways), renewed with the openssl CLI
# by the sample issuing CA with each holder's own key, come back to their
# holders; the sample subscribers that asked for nothing stay unmatched.
. "$(dirname "$0")/lib.sh"
need_samples
S=$SAMPLES
AS_OF=$(cat "$S/as-of.txt")
mlr --icsv --onidx --ofs tab head -n 12 then cut -o -f request_id,old_serial "$S/forms/renewal.csv" >"$T/ten.tsv"
n=0
while IFS="$(printf '\t')" read -r rid old; do
    old=$(echo "$old" | tr a-f A-F)
    [ -f "$S/keys/$old.key" ] || continue
    openssl req -new -key "$S/keys/$old.key" -subj "/CN=renewed" -out "$T/$old.csr" 2>/dev/null
    openssl x509 -req -in "$T/$old.csr" -CA "$S/issuing-ca.pem" -CAkey "$S/issuing-ca.key" \
        -set_serial "0x7E57$(printf '%04d' $n)" -days 1095 -out "$T/new-$n.pem" 2>/dev/null
    echo "$rid" >>"$T/renewed-ids"
    n=$((n + 1))
done <"$T/ten.tsv"
# and one sample certificate that no form refers to
other=$(mlr --icsv --onidx filter '$role == "" && $revoked == "no" && $days_left > 0' then head -n 1 then cut -f file "$S/manifest.csv")
cat "$T"/new-*.pem "$S/$other" >"$T/update.pem"

split-updates --as-of "$AS_OF" --out "$T/out" --ca "$S/ca-chain.pem" --requests "$S/forms/renewal.csv" \
    --old-certs "$S/certs" -o "$T/manifest.csv" "$T/update.pem" 2>"$T/err"
is "$?" 0 "(the run succeeds)"
is "$(mlr --icsv --onidx filter '$status == "delivered" && $matched_by == "public_key"' then cut -f request_id "$T/manifest.csv" | sort | tr '\n' ' ')" \
   "$(sort "$T/renewed-ids" | tr '\n' ' ')" "each renewed certificate goes back to the form that asked for it, by its key"
is "$(mlr --icsv --onidx filter '$status == "unmatched"' then count "$T/manifest.csv")" 1 \
   "a certificate no form asks about stays unmatched"
is "$(mlr --icsv --onidx filter '$status == "delivered"' then cut -f path "$T/manifest.csv" | while read -r p; do openssl verify -CAfile "$S/ca-chain.pem" "$p" >/dev/null 2>&1 && echo y; done | wc -l | tr -d ' ')" "$n" \
   "openssl verifies every delivered file against the sample chain"
mlr --icsv --onidx filter '$status == "delivered" && $agency_key == "sở tài chính"' then cut -f path "$T/manifest.csv" >"$T/stc"
is "$(wc -l <"$T/stc" | tr -d ' ') $(xargs -n1 dirname <"$T/stc" | sort -u | wc -l | tr -d ' ')" "2 1" \
   "Sở Tài chính, typed two ways in the forms, gets one folder for its two holders"
like "$(cat "$T/err")" "$((n + 1)) in, $n out, 1 rejected" "the summary adds up"
done_testing
