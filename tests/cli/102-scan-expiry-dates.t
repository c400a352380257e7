#!/bin/sh
# scan-expiry's dates and statuses on hand-built certificates whose exact
# notBefore/notAfter and serials are set with `openssl ca`; every expected
# value is computed by hand in the comments.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ca.sh"

CA=$T/ca
# The CA is valid from 1 Oct 2025, so 1 Jun 2025 is a day before it existed.
make_ca "$CA" "TEST scan CA" 20251001000000Z
issue "$CA" before-midnight 20250101000000Z 20261231165959Z
issue "$CA" at-midnight     20250101000000Z 20261231170000Z
issue "$CA" y2050           20250101000000Z 20500101000000Z
issue "$CA" leapday         20250101000000Z 20280228170000Z
issue "$CA" highbit         20250101000000Z 20270101000000Z 8000000000000001
issue "$CA" future          20270601000000Z 20290101000000Z
issue "$CA" expiring60      20250101000000Z 20270122050000Z
issue "$CA" expiring61      20250101000000Z 20270123050000Z
issue "$CA" expired         20240101000000Z 20261122165959Z

row() {  # file: prints the CSV data row of one certificate
    scan-expiry --all --as-of 2026-11-23 -q "$CA/$1.pem" | sed -n 2p
}
field() { echo "$1" | awk -F, -v n="$2" '{print $n}'; }

# 2026-12-31T16:59:59Z is 23:59:59 on 31 Dec in Vietnam; one second later
# it is already 1 Jan 2027 there.
r=$(row before-midnight)
is "$(field "$r" 11)" "2026-12-31T23:59:59+07:00" "notAfter 16:59:59Z prints as 23:59:59+07:00"
is "$(field "$r" 12)" "2026-12-31" "notAfter 16:59:59Z expires on 31 Dec in Vietnam"
is "$(field "$r" 13)" "38" "31 Dec 2026 is 38 days after 23 Nov 2026 (7 + 31)"
r=$(row at-midnight)
is "$(field "$r" 12)" "2027-01-01" "notAfter 2026-12-31T17:00:00Z expires on 1 Jan 2027 in Vietnam"
is "$(field "$r" 13)" "39" "1 Jan 2027 is 39 days after 23 Nov 2026"
# GeneralizedTime (years from 2050 on, RFC 5280 4.1.2.5).
ok "openssl writes the 2050 notAfter as GeneralizedTime" sh -c "openssl asn1parse -in '$CA/y2050.pem' | grep -q 'GENERALIZEDTIME *:20500101000000Z'"
r=$(row y2050)
is "$(field "$r" 11)" "2050-01-01T07:00:00+07:00" "a GeneralizedTime notAfter after 2049 is read"
r=$(row leapday)
is "$(field "$r" 12)" "2028-02-29" "notAfter 28 Feb 2028 17:00Z is the leap day 29 Feb 2028 in Vietnam"
# 23 Nov 2026 -> 29 Feb 2028: 7 (rest of Nov) + 31 (Dec) + 365 (2027) + 31 (Jan) + 29 = 463
is "$(field "$r" 13)" "463" "days_left to the leap day counted by hand"
r=$(row highbit)
want=$(openssl x509 -in "$CA/highbit.pem" -noout -serial | sed 's/serial=//')
is "$want" "8000000000000001" "openssl prints the high-bit serial without the DER sign byte"
is "$(field "$r" 1)" "$want" "a serial with the high bit set prints as openssl prints it"
r=$(row future)
is "$(field "$r" 14)" "not_yet_valid" "a certificate valid from June 2027 is not_yet_valid in Nov 2026"
# 23 Nov 2026 + 60 days = 22 Jan 2027 (7 + 31 + 22); 05:00Z is 12:00 in Vietnam.
r=$(row expiring60)
is "$(field "$r" 13)" "60" "expiry on 22 Jan 2027 leaves 60 days"
is "$(field "$r" 14)" "expiring" "60 days left is expiring (the renewal rule)"
r=$(row expiring61)
is "$(field "$r" 14)" "valid" "61 days left is still valid"
r=$(row expired)
is "$(field "$r" 13)" "-1" "a certificate that expired on 22 Nov 2026 (Vietnam time) has -1 days"
is "$(field "$r" 14)" "expired" "and is expired"

# Default selection: only expiring and expired.
cat "$CA"/before-midnight.pem "$CA"/expiring60.pem "$CA"/expiring61.pem "$CA"/expired.pem "$CA"/future.pem >"$T/mix.pem"
scan-expiry --as-of 2026-11-23 "$T/mix.pem" >"$T/due.csv" 2>"$T/due.err"
is "$(csv_col "$T/due.csv" status | tr '\n' ' ')" "expiring expiring expired " "by default only expiring and expired certificates are printed"
like "$(cat "$T/due.err")" "^scan-expiry: 5 in, 3 out, 0 rejected, 2 filtered \(" "the summary line counts the filtered ones"
scan-expiry --as-of 2026-11-23 --days 30 -q "$T/mix.pem" >"$T/d30.csv"
is "$(csv_col "$T/d30.csv" status | tr '\n' ' ')" "expired " "--days 30 leaves out the ones 38 and 60 days away"
scan-expiry --as-of 2026-11-23 --status not_yet_valid,valid -q "$T/mix.pem" >"$T/st.csv"
is "$(csv_col "$T/st.csv" status | tr '\n' ' ')" "valid not_yet_valid " "--status chooses the statuses"
exit_is 64 "an unknown status is a usage error" scan-expiry --status soon "$T/mix.pem"
exit_is 64 "a bad --as-of is a usage error" scan-expiry --as-of 31/02/2026 "$T/mix.pem"

# Revoked (CRL) and untrusted (--ca) with the precedence of the contract.
revoke "$CA" expiring60
gencrl "$CA"
OTHER=$T/other
make_ca "$OTHER" "Another CA"
issue "$OTHER" stranger 20250101000000Z 20270101000000Z
cat "$T/mix.pem" "$OTHER/stranger.pem" >"$T/mix2.pem"
scan-expiry --all --as-of 2026-11-23 --crl "$CA/crl.pem" --ca "$CA/ca.pem" -q "$T/mix2.pem" >"$T/rv.csv"
is "$(csv_col "$T/rv.csv" status | tr '\n' ' ')" "expiring revoked valid expired not_yet_valid untrusted " \
   "the CRL marks the revoked one; a certificate of another CA is untrusted"
openssl crl -in "$CA/crl.pem" -outform DER -out "$CA/crl.der"
scan-expiry --all --as-of 2026-11-23 --crl "$CA/crl.der" -q "$T/mix2.pem" >"$T/rv2.csv"
is "$(csv_col "$T/rv2.csv" status | sed -n 2p)" "revoked" "a DER CRL works too"
scan-expiry --all --as-of 2025-06-01 --ca "$CA/ca.pem" -q "$CA/expiring60.pem" >"$T/rv3.csv"
is "$(csv_col "$T/rv3.csv" status)" "untrusted" "a chain is judged at the as-of date: before the CA was valid it is untrusted"
# On a day before the CRL was issued (November 2026) its revocation cannot
# be established: untrusted, as openssl verify judges it at that instant.
AT=$(date -u -d '2025-06-01 12:00 +0700' +%s)
ok "(openssl verify refuses it at that date too)" sh -c "! openssl verify -attime $AT -x509_strict -crl_check_all \
    -CAfile '$CA/ca.pem' -CRLfile '$CA/crl.pem' '$CA/expiring60.pem' >/dev/null 2>&1"
scan-expiry --all --as-of 2025-06-01 --crl "$CA/crl.pem" --ca "$CA/ca.pem" -q "$CA/expiring60.pem" >"$T/rv4.csv"
is "$(csv_col "$T/rv4.csv" status)" "untrusted" "before its CRL exists, a revocation is not known yet: untrusted"
scan-expiry --crl "$CA/crl.pem" --ca "$OTHER/ca.pem" -q "$T/mix.pem" 2>"$T/other.err"
is "$?" 0 "a CRL of a CA outside --ca does not stop the run"
like "$(cat "$T/other.err")" "warning: --crl .*crl.pem: issued by \"TEST scan CA\", which is none of the --ca" \
    "... and a warning names its issuer"
done_testing
