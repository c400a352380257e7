#!/bin/sh
# publish: the 1-working-day deadline of step 4 (Quyết định 1924/QĐ-BQP),
# computed by hand across Tết 2026 (14-22/2) and 30/4-1/5/2026, and the
# checks made before a certificate is published.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ca.sh"
. "$(dirname "$0")/publish-fixture.sh"

make_published_fixture || echo "# fixture failed"
H=request_id,agency,handed_over_date,received_date
pub() {  # NAME AS-OF [options] REQUESTS: publish into $T/NAME with its own publication ledger
    _pn=$1 _at=$2; shift 2
    publish --ledger "$T/ledger.csv" --issued "$T/issued.pem" --published "$T/pl-$_pn.csv" \
        --out "$T/$_pn" --as-of "$_at" "$@"
}

# Received Friday 13/2/2026: 14-22/2 is Tết, so the 1st working day after
# is Monday 23/2/2026.
printf '%s\nCB-01,Sở Nội vụ tỉnh Lâm Đồng,12/02/2026,13/02/2026\n' "$H" >"$T/tet.csv"
ok "published Monday 23/2/2026" pub ontime 2026-02-23T16:30:00+07:00 -o "$T/ontime.out" "$T/tet.csv"
is "$(csv_col "$T/ontime.out" publish_due_date) $(csv_col "$T/ontime.out" late)" "2026-02-23 no" \
    "received 13/2 before Tết, due 23/2: on time"
ok "the same published Tuesday 24/2/2026" pub late 2026-02-24T08:00:00+07:00 -o "$T/late.out" "$T/tet.csv"
is "$(csv_col "$T/late.out" late)" "yes" "one day after the due date: late"
like "$(cat "$T/.err")" "tet.csv:2: published late: request CB-01 \\(certificate 1A2B\\) was due 2026-02-23, published 2026-02-24" \
    "the late publication is reported with its line"
like "$(cat "$T/.err")" "1 certificates published late" "and counted"
ok "a late publication is published all the same" test -s "$T/late/certs/1A2B.cer"
is "$(csv_col "$T/pl-late.csv" late)" "yes" "the publication ledger records it late"
pub latevi 2026-02-24T08:00:00+07:00 --lang vi -o /dev/null "$T/tet.csv" 2>"$T/vi.err"
like "$(cat "$T/vi.err")" "công bố muộn: hồ sơ CB-01" "--lang vi reports it in Vietnamese"

# Received Wednesday 29/4/2026: 30/4 and 1/5 are off, 2-3/5 a weekend:
# due Monday 4/5/2026.
printf '%s\nCB-02,Sở Tài chính tỉnh Lâm Đồng,2026-04-28,2026-04-29\n' "$H" >"$T/may.csv"
ok "published Monday 4/5/2026" pub may 2026-05-04T10:00:00+07:00 -o "$T/may.out" "$T/may.csv"
is "$(csv_col "$T/may.out" publish_due_date) $(csv_col "$T/may.out" late)" "2026-05-04 no" \
    "received 29/4, due 4/5 across 30/4-1/5: on time"
ok "published Tuesday 5/5/2026" pub may2 2026-05-05T10:00:00+07:00 -o "$T/may2.out" "$T/may.csv"
is "$(csv_col "$T/may2.out" late)" "yes" "5/5 is late"

# The checks before publishing.
cat >"$T/bad.csv" <<CSV
request_id,serial,agency,handed_over_date,received_date,effective_at
,1a:2b,Sở Nội vụ tỉnh Lâm Đồng,2026-02-12,2026-02-13,
CB-02,1A2B,Sở Tài chính tỉnh Lâm Đồng,2026-02-12,2026-02-13,
CB-02,,Sở Tài chính tỉnh Lâm Đồng,2026-02-10,2026-02-13,
CB-02,,Sở Tài chính tỉnh Lâm Đồng,2026-02-12,2026-03-13,
CB-02,,Sở Tài chính tỉnh Lâm Đồng,hôm qua,2026-02-13,
CB-02,,Sở Tài chính tỉnh Lâm Đồng,2026-02-12,2026-02-13,2026-03-01T08:00:00+07:00
CB-03,,,2026-02-12,2026-02-13,
,FFFF,Sở Nội vụ tỉnh Lâm Đồng,2026-02-12,2026-02-13,
CSV
ok "publish a batch with bad requests" pub checks 2026-02-24T09:00:00+07:00 --rejects "$T/rej.csv" \
    -o "$T/checks.out" "$T/bad.csv"
like "$(cat "$T/.err")" "8 in, 2 out, 6 rejected" "8 in = 2 out + 6 rejected"
is "$(csv_col "$T/checks.out" serial | tr '\n' ' ')" "1A2B 1A2C " "a request by serial alone, and one asking a later instant, are published"
is "$(csv_col "$T/checks.out" request_id | head -1)" "CB-01" "the request id is found from the serial"
is "$(csv_col "$T/checks.out" effective_at | tail -1)" "2026-03-01T08:00:00+07:00" \
    "a later effective instant asked for is kept"
is "$(csv_col "$T/rej.csv" reject_field | tr '\n' ' ')" \
    "serial handed_over_date received_date handed_over_date agency serial " "each reject names its column"
like "$(sed -n 2p "$T/rej.csv")" "issued for request CB-01, not CB-02" "a serial of another request is rejected"
like "$(sed -n 3p "$T/rej.csv")" "before the issue" "a hand-over before the issue is rejected"
like "$(sed -n 4p "$T/rej.csv")" "after today" "a request received after today is rejected"

# Revoked certificates are not published.
revoke "$T/ca" duc
gencrl "$T/ca"
printf '%s\nCB-03,Sở Nội vụ tỉnh Lâm Đồng,2026-02-12,2026-02-13\n' "$H" >"$T/rev.csv"
ok "publish with the CRL" pub rev 2026-02-24T09:00:00+07:00 --crl "$T/ca/crl.pem" --rejects "$T/rev-rej.csv" \
    -o /dev/null "$T/rev.csv"
like "$(cat "$T/rev-rej.csv")" "1A2D is revoked" "a revoked certificate is rejected"
exit_is 65 "--strict exits 65 when a request was rejected" pub rev2 2026-02-24T09:00:00+07:00 \
    --crl "$T/ca/crl.pem" --strict -o /dev/null "$T/rev.csv"
exit_is 64 "--as-of that is no date is a usage error" pub x tomorrow "$T/rev.csv"
done_testing
