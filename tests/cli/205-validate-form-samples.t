#!/bin/sh
# validate-form on the sample sheets of samples/make-samples.sh: the rows the
# generator spoiled on purpose carry a `note` saying why; exactly those are
# rejected, for the reason the note gives. The old certificates are looked up
# in scan-expiry's records of the sample subscribers (with the CRL).
. "$(dirname "$0")/lib.sh"
need_samples
A=$(cat "$SAMPLES/as-of.txt")
scan-expiry --all --as-of "$A" --crl "$SAMPLES/crl.pem" -q "$SAMPLES/subscribers.pem" >"$T/certs.csv"

for f in renewal issuance; do
    validate-form -q --as-of "$A" --certs "$T/certs.csv" --rejects "$T/rej-$f.csv" \
        "$SAMPLES/forms/$f.csv" >"$T/out-$f.csv"
    is "$?" 0 "$f sheet: exit 0"
    # the rows with a note, by request id, against the rejected ones
    mlr --icsv --onidx filter -S '$note != ""' then cut -f request_id "$SAMPLES/forms/$f.csv" >"$T/want"
    csv_col "$T/rej-$f.csv" request_id >"$T/got"
    is "$(cat "$T/got")" "$(cat "$T/want")" "$f sheet: exactly the rows with a note are rejected"
    is "$(csv_col "$T/out-$f.csv" note | grep -c .)" 0 "$f sheet: no row with a note comes out"
    n_in=$(mlr --icsv --ojson count "$SAMPLES/forms/$f.csv" | sed -n 's/.*"count": \([0-9]*\).*/\1/p')
    n_out=$(mlr --icsv --ojson count "$T/out-$f.csv" | sed -n 's/.*"count": \([0-9]*\).*/\1/p')
    is "$((${n_out:-0} + $(wc -l <"$T/got")))" "$n_in" "$f sheet: rows in = rows out + rows rejected"
done

# The reasons say what the notes say.
r() { mlr --icsv --onidx filter -S "\$note =~ \"$1\"" then cut -f reject_field "$T/rej-$2.csv"; }
is "$(r '60 days' renewal)" old_not_after "the renewal with fewer than 60 days left is rejected on old_not_after"
is "$(r '11 digits' renewal)" id_number "the 11-digit identity number is rejected on id_number"
is "$(r 'gov.vn' renewal)" email "the gmail address is rejected on email"
is "$(r 'confirmed_by' renewal)" confirmed_by "the unconfirmed request is rejected on confirmed_by"
like "$(mlr --icsv --onidx filter -S '$note =~ "already requested"' then cut -f reject_reason "$T/rej-renewal.csv")" \
     "already asked for on line" "the repeated certificate names the earlier line"
is "$(r 'under 18' issuance)" birth_date "the applicant under 18 is rejected on birth_date"
is "$(r 'birth-year' issuance)" id_number "the identity number with the wrong year digits is rejected"
is "$(r 'landline' issuance)" phone "the landline is rejected on phone"
is "$(r 'validity_months' issuance)" validity_months "72 months is rejected on validity_months"
is "$(r 'real date' issuance)" birth_date "30/02/1988 is rejected on birth_date"
is "$(r 'same person' issuance)" id_number "the same person twice is rejected on id_number"

# The Vietnamese-label sheet (BOM, CRLF) is the first good rows of the
# renewal sheet: the same records come out.
validate-form -q --as-of "$A" --certs "$T/certs.csv" "$SAMPLES/forms/renewal-vi.csv" >"$T/out-vi.csv"
is "$?" 0 "renewal-vi sheet: exit 0"
# request_id is the first column of both sheets
awk -F, 'NR == FNR { want[$1] = 1; next } FNR == 1 || ($1 in want)' "$T/out-vi.csv" "$T/out-renewal.csv" |
    mlr --icsv --ocsv cut -x -f note >"$T/first"
is "$(cat "$T/out-vi.csv")" "$(cat "$T/first")" "the Vietnamese-label sheet gives the same records as the canonical one"
is "$(csv_col "$T/out-vi.csv" old_not_after | grep -vc '^[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]$')" 0 "old_not_after is written ISO even when --certs gives the expiry"

done_testing
