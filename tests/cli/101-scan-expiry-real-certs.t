#!/bin/sh
# scan-expiry on certificates no one here made: the Government's RootCA G2
# and the system's Mozilla bundle. Every expected value comes from the
# openssl CLI.
. "$(dirname "$0")/lib.sh"

G2=$TESTDATA/real-certs/vgca-rootcag2.pem
scan-expiry --all --as-of 2026-11-23 -q "$G2" >"$T/g2.csv"
row=$(sed -n 2p "$T/g2.csv")
col() { echo "$row" | awk -F, -v n="$1" '{print $n}'; }

want_serial=$(openssl x509 -in "$G2" -noout -serial | sed 's/^serial=//')
is "$(col 1)" "$want_serial" "RootCA G2: serial as openssl x509 -serial prints it"
want_cn=$(openssl x509 -in "$G2" -noout -subject -nameopt utf8,sep_multiline,sname | sed -n 's/^ *CN=//p')
is "$(col 2)" "$want_cn" "RootCA G2: subject CN decoded as UTF-8 (Vietnamese accents)"
want_o=$(openssl x509 -in "$G2" -noout -subject -nameopt utf8,sep_multiline,sname | sed -n 's/^ *O=//p')
is "$(col 3)" "$want_o" "RootCA G2: subject O decoded as UTF-8"
want_fp=$(openssl x509 -in "$G2" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g')
is "$(col 15)" "$want_fp" "RootCA G2: sha256 fingerprint equals openssl's"
# openssl: notAfter=Aug 14 07:36:39 2048 GMT; +7 h = 14:36:39 the same day.
is "$(openssl x509 -in "$G2" -noout -enddate)" "notAfter=Aug 14 07:36:39 2048 GMT" "openssl reads notAfter 14 Aug 2048 07:36:39 UTC"
is "$(col 11)" "2048-08-14T14:36:39+07:00" "RootCA G2: not_after in UTC+07:00"
is "$(col 12)" "2048-08-14" "RootCA G2: expiry_date in Vietnam"
# Days from 2026-11-23 to 2048-08-14 by hand: 2026-11-23 -> 2048-11-23 is
# 22 years of 365 days plus 6 leap days (2028..2048) = 8036 days; back to 08-14 is
# 101 days (Aug 14 -> Nov 23: 17 + 30 + 31 + 23): 8036 - 101 = 7935.
is "$(col 13)" "7935" "RootCA G2: days_left from 2026-11-23 computed by hand"
is "$(col 14)" "valid" "RootCA G2: status valid"

BUNDLE=/etc/ssl/certs/ca-certificates.crt
if [ -r "$BUNDLE" ]; then
    scan-expiry --all -q "$BUNDLE" >"$T/mozilla.csv"
    n_in=$(grep -c 'BEGIN CERTIFICATE' "$BUNDLE")
    n_out=$(($(wc -l <"$T/mozilla.csv") - 1))
    is "$n_out" "$n_in" "Mozilla bundle: one record per certificate ($n_in)"
    # Every serial, in order, as openssl prints it for each certificate.
    mkdir "$T/split"
    awk -v d="$T/split" '/BEGIN CERTIFICATE/ { n++; f = sprintf("%s/%05d.pem", d, n) } f { print > f } /END CERTIFICATE/ { close(f); f = "" }' "$BUNDLE"
    for f in "$T"/split/*.pem; do openssl x509 -in "$f" -noout -serial; done | sed 's/^serial=//' >"$T/want-serials"
    csv_col "$T/mozilla.csv" serial >"$T/got-serials"
    ok "Mozilla bundle: every serial equals openssl's, in order" cmp "$T/want-serials" "$T/got-serials"
    ok "Mozilla bundle: a serial of 0 prints as 00" grep -qx 00 "$T/got-serials"
    for f in "$T"/split/*.pem; do openssl x509 -in "$f" -noout -fingerprint -sha256; done | sed 's/.*=//; s/://g' >"$T/want-fp"
    csv_col "$T/mozilla.csv" sha256 >"$T/got-fp"
    ok "Mozilla bundle: every sha256 fingerprint equals openssl's" cmp "$T/want-fp" "$T/got-fp"
else
    skip "Mozilla bundle" "no $BUNDLE on this machine"
fi
done_testing
