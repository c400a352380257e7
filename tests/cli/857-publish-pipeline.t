#!/bin/sh
# pipelines/central-publication.yaml on the samples, after
# central-issuance: the agencies' effective-time requests are published,
# the audit log of the day verifies, and track lists nothing still open.
. "$(dirname "$0")/lib.sh"
need_samples
PL=$TOP/pipelines
D=$(cat "$SAMPLES/as-of.txt")
exit_is 0 "central-publication: loads and --dry-run prints its script" \
    run-pipeline --dry-run --as-of "$D" --set state="$T/st" "$PL/central-publication.yaml"
like "$(cat "$T/.out")" "publish --ledger $T/st/issued-ledger.csv --out $T/st/www/chung-thu-so .*--audit" \
    "publish writes the site and the audit log"
like "$(cat "$T/.out")" "track --ledger $T/st/issued-ledger.csv --as-of $D --open" "track lists what is open"

S=$T/state
mkdir -p "$S/ca" "$S/batches/$D/forms" "$S/effective/$D/requests"
cp "$SAMPLES/issuing-ca.pem" "$S/ca/"
install -m 0600 "$SAMPLES/issuing-ca-enc.key" "$S/ca/issuing-ca.key"
install -m 0600 "$SAMPLES/ca-pass.txt" "$S/ca/issuing-ca.pass"
cp "$SAMPLES/forms/issuance.csv" "$S/batches/$D/forms/"
ok "central-issuance runs" run-pipeline --as-of "$D" --set state="$S" "$PL/central-issuance.yaml"
n=$(mlr --icsv --onidx count "$S/batches/$D/valid.csv")
mlr --csv put "\$handed_over_date = \"$D\"; \$received_date = \"$D\"" \
    then cut -o -f request_id,agency,handed_over_date,received_date \
    "$S/batches/$D/valid.csv" >"$S/effective/$D/requests/agencies.csv"
ok "central-publication runs" run-pipeline --as-of "$D" --set state="$S" "$PL/central-publication.yaml"
is "$(mlr --icsv --onidx count "$S/effective/$D/published.csv")" "$n" "every certificate issued is published"
is "$(ls "$S/www/chung-thu-so/certs" | grep -c '\.cer$')" "$n" "each has its DER file"
is "$(mlr --icsv --onidx count "$S/effective/$D/open-requests.csv" 2>/dev/null || echo 0)" "0" "nothing is left open"
ok "the day's audit log verifies" audit-verify --ca "$SAMPLES/roots.pem" "$S/ca/audit.csv"
like "$(cat "$T/.out")" "$((2 * n + 3)) lines, 2 signed checkpoints verify" \
    "one line per issue and per publication, a checkpoint after each batch"
ok "a second run publishes nothing again" run-pipeline --as-of "$D" --set state="$S" "$PL/central-publication.yaml"
is "$(mlr --icsv --onidx count "$S/effective/$D/published.csv" 2>/dev/null || echo 0)" "0" "the second run's list is empty"
done_testing
