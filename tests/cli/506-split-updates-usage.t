#!/bin/sh
# split-updates: usage, version, exit codes, damaged input.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/split-updates-fixture.sh"
su_standard

exit_is 0 "--help exits 0" split-updates --help
like "$(split-updates --help)" "--out DIR --ca FILE" "--help shows the options"
is "$(split-updates --version)" "split-updates certbatch 0.1.0" "--version names the program and release"
exit_is 64 "without --out it is a usage error (64)" split-updates --ca "$T/ca.pem" "$T/update.pem"
exit_is 64 "without --ca it is a usage error (64): certificates are never delivered unchecked" \
    split-updates --out "$T/o" "$T/update.pem"
exit_is 64 "an unknown --format is a usage error" split-updates --format zip --out "$T/o" --ca "$T/ca.pem" "$T/update.pem"
exit_is 64 "an impossible --as-of date is a usage error" split-updates --as-of 2026-02-30 --out "$T/o" --ca "$T/ca.pem" "$T/update.pem"
exit_is 66 "a missing input file is 66" split-updates --out "$T/o" --ca "$T/ca.pem" "$T/nonexistent.pem"
exit_is 66 "a missing CA file is 66" split-updates --out "$T/o" --ca "$T/nonexistent.pem" "$T/update.pem"
exit_is 66 "a missing requests file is 66" split-updates --out "$T/o" --ca "$T/ca.pem" --requests "$T/none.csv" "$T/update.pem"
exit_is 65 "a CA file with no certificate is a data error (65)" split-updates --out "$T/o" --ca "$T/requests.csv" "$T/update.pem"
printf 'request_id,email\nR1,a@b.gov.vn\nR1,c@d.gov.vn\n' >"$T/dupreq.csv"
exit_is 65 "a request_id twice in the requests is a data error (65)" \
    split-updates --out "$T/o" --ca "$T/ca.pem" --requests "$T/dupreq.csv" "$T/update.pem"
like "$(cat "$T/.err")" "dupreq.csv:3: request_id: R1 appears already on line 2" "... naming the line of each"
touch "$T/file"
exit_is 73 "an output directory that cannot be created is 73" split-updates --out "$T/file/sub" --ca "$T/ca.pem" "$T/update.pem"

# A damaged block is rejected; the certificates around it are delivered.
{ cat "$T/new-h1.pem"; echo "-----BEGIN CERTIFICATE-----"; echo "bm90IGEgY2VydGlmaWNhdGU="; echo "-----END CERTIFICATE-----"
  cat "$T/new-h2.pem"; echo "-----BEGIN CERTIFICATE-----"; echo "AAAA"; cat "$T/new-h3.pem"; } >"$T/damaged.pem"
split-updates --out "$T/o2" --ca "$T/ca.pem" --requests "$T/requests.csv" --old-certs "$T/old" \
    -o "$T/m.csv" "$T/damaged.pem" 2>"$T/err"
is "$?" 0 "(damaged blocks are rejects, the run goes on)"
is "$(mlr --icsv --onidx --ofs , filter '$status != "missing"' then cut -o -f request_id,status "$T/m.csv")" \
"R1,delivered
,unreadable
R2,delivered
,unreadable
R3,delivered" "a damaged block is unreadable, the certificates around it are delivered"
l2=$(grep -n -- '-----BEGIN' "$T/damaged.pem" | sed -n 2p | cut -d: -f1)
like "$(cat "$T/err")" "damaged.pem:$l2: the CERTIFICATE block is not a valid X.509 certificate" \
    "the diagnostic names the line where the damaged block begins"
like "$(cat "$T/err")" "cut short" "a block with no END line is reported as cut short"
like "$(cat "$T/err")" "5 in, 3 out, 2 rejected" "5 in = 3 out + 2 rejected"
exit_is 65 "with --strict, a damaged block fails the run (65)" split-updates --strict --out "$T/o3" --ca "$T/ca.pem" \
    --requests "$T/requests.csv" --old-certs "$T/old" "$T/damaged.pem"
exit_is 65 "with --strict, a request left without certificate fails the run (65)" split-updates --strict --out "$T/o4" \
    --ca "$T/ca.pem" --requests "$T/requests.csv" --old-certs "$T/old" "$T/update.pem"
: >"$T/empty.pem"
exit_is 0 "an empty input is no error" split-updates --out "$T/o5" --ca "$T/ca.pem" "$T/empty.pem"
is "$(split-updates -q --out "$T/o6" --ca "$T/ca.pem" <"$T/empty.pem")" \
   "request_id,old_serial,serial,subject_cn,holder,email,agency,agency_key,agency_code,path,not_after,status,matched_by,reason,source,trust_problem,cert_status" \
   "the manifest always has its header"
exit_is 0 "-q prints nothing on stderr for a clean run" sh -c "split-updates -q --out '$T/o7' --ca '$T/ca.pem' --requests '$T/requests.csv' --old-certs '$T/old' '$T/update.pem' 2>&1 >/dev/null | grep -q . && exit 1 || exit 0"
done_testing
