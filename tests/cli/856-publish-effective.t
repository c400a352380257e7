#!/bin/sh
# Effective from publication (Quyết định 1924/QĐ-BQP, step 4): given the
# issuance ledger, scan-expiry reports a certificate issued but not yet
# published as not_yet_effective.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ca.sh"
. "$(dirname "$0")/publish-fixture.sh"

make_published_fixture || echo "# fixture failed"
printf 'request_id,agency,handed_over_date,received_date\nCB-01,Sở Nội vụ tỉnh Lâm Đồng,12/02/2026,13/02/2026\n' >"$T/req.csv"
ok "CB-01 is published on 23/2/2026" publish --ledger "$T/ledger.csv" --issued "$T/issued.pem" --out "$T/www" \
    --as-of 2026-02-23T09:00:00+07:00 -o /dev/null "$T/req.csv"
status() {  # AS-OF: serial=status for each certificate
    scan-expiry --ledger "$T/ledger.csv" --all --as-of "$1" "$T/issued.pem" 2>/dev/null |
        mlr --icsv --onidx --ofs = cut -o -f serial,status | tr '\n' ' '
}
is "$(status 2026-03-01)" "1A2B=valid 1A2C=not_yet_effective 1A2D=not_yet_effective " \
    "on 1/3/2026 the published certificate is valid, the two others not yet effective"
is "$(status 2026-02-20)" "1A2B=not_yet_effective 1A2C=not_yet_effective 1A2D=not_yet_effective " \
    "before its publication none is effective"
is "$(scan-expiry --all --as-of 2026-03-01 "$T/issued.pem" 2>/dev/null | mlr --icsv --onidx cut -f status | sort -u)" "valid" \
    "without --ledger nothing is judged by publication"
is "$(scan-expiry --ledger "$T/ledger.csv" --status not_yet_effective --as-of 2026-03-01 "$T/issued.pem" 2>/dev/null | mlr --icsv --onidx cut -f serial | tr '\n' ' ')" \
    "1A2C 1A2D " "--status not_yet_effective selects them"
issue "$T/ca" later 20270101000000Z 20300101000000Z 2B00 "/C=VN/O=Sở Nội vụ tỉnh Lâm Đồng/CN=Chưa Đến Hạn"
is "$(scan-expiry --ledger "$T/ledger.csv" --all --as-of 2026-03-01 "$T/ca/later.pem" 2>/dev/null | mlr --icsv --onidx cut -f status)" \
    "not_yet_valid" "a certificate not in the ledger keeps its status (not_yet_valid comes first)"
exit_is 66 "a missing ledger is 66" scan-expiry --ledger "$T/nope.csv" "$T/issued.pem"
done_testing
