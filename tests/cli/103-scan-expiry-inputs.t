#!/bin/sh
# scan-expiry's inputs: DER files, CRLF PEM, directories, stdin, text and
# keys between blocks, broken blocks, empty and missing inputs. Nothing is
# lost: records in = out + rejected, and a key's content is never printed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ca.sh"

CA=$T/ca
make_ca "$CA" "TEST input CA"
issue "$CA" a 20250101000000Z 20261201000000Z
issue "$CA" b 20250101000000Z 20261202000000Z
issue "$CA" c 20250101000000Z 20261203000000Z
sa=$(openssl x509 -in "$CA/a.pem" -noout -serial | sed 's/serial=//')
sb=$(openssl x509 -in "$CA/b.pem" -noout -serial | sed 's/serial=//')
sc=$(openssl x509 -in "$CA/c.pem" -noout -serial | sed 's/serial=//')

scan() { scan-expiry --all --as-of 2026-11-23 "$@"; }

openssl x509 -in "$CA/a.pem" -outform DER -out "$T/a.cer"
scan -q "$T/a.cer" >"$T/der.csv"
is "$(csv_col "$T/der.csv" serial)" "$sa" "a DER .cer file is read"
scan -q <"$T/a.cer" >"$T/der-stdin.csv"
is "$(csv_col "$T/der-stdin.csv" serial)" "$sa" "a DER certificate on stdin is read"

sed 's/$/\r/' "$CA/b.pem" >"$T/crlf.pem"
scan -q "$T/crlf.pem" >"$T/crlf.csv"
is "$(csv_col "$T/crlf.csv" serial)" "$sb" "a PEM file with CRLF line ends is read"

{ echo "Subject: text that openssl ca or a mail client left here"; cat "$CA/a.pem"; echo "more text"; cat "$CA/b.key"; cat "$CA/c.pem"; } >"$T/mixed.pem"
scan "$T/mixed.pem" >"$T/mixed.csv" 2>"$T/mixed.err"
is "$(csv_col "$T/mixed.csv" serial | tr '\n' ' ')" "$sa $sc " "text and a private key between certificates are skipped"
like "$(cat "$T/mixed.err")" "skipping a PRIVATE KEY block: not a certificate" "the private key gets a warning"
keyline=$(sed -n 2p "$CA/b.key")
ok "the warning never prints the key's content" sh -c "! grep -qF '$keyline' '$T/mixed.err' '$T/mixed.csv'"
is "$(csv_col "$T/mixed.csv" source | tr '\n' ' ')" "$T/mixed.pem#1 $T/mixed.pem#2 " "source names the file and the certificate's index"

# A block cut short: the next certificate is still read, the broken one is a reject.
{ head -n 5 "$CA/a.pem"; cat "$CA/b.pem"; } >"$T/trunc.pem"
scan --rejects "$T/rej.csv" "$T/trunc.pem" >"$T/trunc.csv" 2>"$T/trunc.err"
is "$(csv_col "$T/trunc.csv" serial)" "$sb" "after a truncated block the next certificate is read"
is "$(csv_col "$T/rej.csv" reject_line)" "1" "the truncated block is rejected at its BEGIN line"
like "$(csv_col "$T/rej.csv" reject_reason)" "cut short" "the reject says the block is cut short"
is "$(csv_col "$T/rej.csv" source)" "$T/trunc.pem#1" "the reject names the file and the index"
like "$(cat "$T/trunc.err")" "2 in, 1 out, 1 rejected" "records in = out + rejected"
exit_is 0 "rejects are a normal outcome (exit 0)" scan -q "$T/trunc.pem"
exit_is 65 "with --strict a reject is exit 65" scan -q --strict "$T/trunc.pem"
{ head -n 5 "$CA/a.pem"; } >"$T/trunc-end.pem"
scan "$T/trunc-end.pem" >/dev/null 2>"$T/te.err"
like "$(cat "$T/te.err")" "trunc-end.pem:1: certificate 1: the PEM block is cut short" "a block cut by the end of the input is a reject on stderr without --rejects"

# A certificate whose base64 decodes but is not DER.
{ echo "-----BEGIN CERTIFICATE-----"; echo "TUlJQmFkIGNlcnRpZmljYXRl"; echo "-----END CERTIFICATE-----"; cat "$CA/c.pem"; } >"$T/garbage.pem"
scan --rejects "$T/rej2.csv" -q "$T/garbage.pem" >"$T/garbage.csv"
is "$(csv_col "$T/garbage.csv" serial)" "$sc" "an unparsable certificate does not stop the scan"
like "$(csv_col "$T/rej2.csv" reject_reason)" "not a readable X.509 certificate" "and is rejected with a reason"

: >"$T/empty.pem"
scan "$T/empty.pem" >"$T/empty.csv" 2>"$T/empty.err"
is "$(cat "$T/empty.csv")" "serial,subject_cn,subject_o,subject_ou,subject_l,subject_st,email,uid,issuer_cn,not_before,not_after,expiry_date,days_left,status,sha256,source,trust_problem" "an empty input gives the header only"
like "$(cat "$T/empty.err")" "0 in, 0 out, 0 rejected" "and says so in the summary"
exit_is 66 "a missing input file is exit 66" scan -q "$T/nonexistent.pem"

mkdir -p "$T/dir/sub/deeper"
cp "$CA/a.pem" "$T/dir/x.pem"
cp "$T/a.cer" "$T/dir/sub/a-again.cer"
cp "$CA/c.pem" "$T/dir/sub/deeper/c.crt"
# Sorted by name: sub/a-again.cer, sub/deeper/c.crt, then x.pem.
scan -q "$T/dir" >"$T/dir.csv"
is "$(csv_col "$T/dir.csv" serial | tr "\n" " ")" "$sa $sc $sa " "a directory is read recursively, in name order, DER and PEM"
scan -q - <"$CA/b.pem" >"$T/stdin.csv"
is "$(csv_col "$T/stdin.csv" serial)" "$sb" "- reads PEM from stdin"
scan -q -o "$T/out.csv" "$CA/a.pem"
is "$(csv_col "$T/out.csv" serial)" "$sa" "-o writes the records to a file"
# A directory with an empty folder in it (a Maildir's tmp/, an incoming/
# nobody filled): the folder holds nothing to scan.
mkdir -p "$T/tree/empty" "$T/tree/full"
cp "$CA/a.pem" "$T/tree/full/"
exit_is 0 "a directory holding an empty folder is scanned" scan -q "$T/tree"
is "$(csv_col "$T/.out" serial)" "$sa" "and gives the one certificate of the other folder"
exit_is 0 "an empty directory alone is scanned as nothing" scan -q "$T/tree/empty"
exit_is 0 "--help exits 0" scan-expiry --help
exit_is 64 "an unknown option is a usage error" scan-expiry --frobnicate
done_testing
