#!/bin/sh
# Seed corpora for the fuzz harnesses, made from the samples (make samples)
# and the files shipped in the tree: real certificates in DER and PEM, a
# PKCS#7 bundle, the sample forms and their rows, the pipelines and the
# letter templates. Usage: make-corpus.sh SAMPLES_DIR OUT_DIR
set -eu
S=$(cd "$1" && pwd)
mkdir -p "$2" && O=$(cd "$2" && pwd)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$O.tmp"
mkdir -p "$O.tmp"
cd "$O.tmp"
mkdir certder pemscan p7 csv pipeline template vntext forms mailhdr

# Certificates: a few subscribers, the CAs, and the test suite's real ones.
i=0
for f in $(ls "$S"/certs/*.pem | head -12) "$S/issuing-ca.pem" "$S/root-ca.pem"; do
    i=$((i + 1))
    openssl x509 -in "$f" -outform DER -out "certder/cert$i.der"
    cp "$f" "pemscan/cert$i.pem"
done
cp "$S"/der/*.cer certder/ 2>/dev/null || true
cp "$S/ca-chain.pem" "$S/crl.pem" pemscan/
head -c 3000 "$S/subscribers.pem" >pemscan/bundle-cut.pem
ls "$TOP"/tests/data/real-certs/* >/dev/null 2>&1 && cp "$TOP"/tests/data/real-certs/* pemscan/ 2>/dev/null || true

# Update files: PKCS#7 in DER and PEM, a PEM bundle, DER certificates.
ls "$S"/certs/*.pem | head -4 | sed 's/^/-certfile /' | xargs openssl crl2pkcs7 -nocrl -outform DER -out p7/bundle.p7b
openssl crl2pkcs7 -nocrl -certfile "$S/ca-chain.pem" -out p7/chain.p7c
cp pemscan/cert1.pem pemscan/ca-chain.pem p7/
cat certder/cert1.der certder/cert2.der >p7/two.der

# CSV: the forms and manifests whole and cut, and some oddities.
for f in "$S"/forms/*.csv "$S/manifest.csv"; do
    b=$(basename "$f" .csv)
    head -c 4000 "$f" >"csv/$b.csv"
    head -3 "$f" >"csv/$b-3.csv"
done
printf 'a,b\r\n"x\r\ny","q""q"\r\n\r\n1,2\r\n' >csv/crlf-quoted.csv
printf '\357\273\277a,b\n1,2\n' >csv/bom.csv
printf 'a,b\n"never closed\n1,2\n' >csv/unclosed.csv
printf 'a,b,c\n1,2,3\n\fc,a\n6,4\n' >csv/two-files.csv

cp "$TOP"/pipelines/*.yaml pipeline/ 2>/dev/null || true
cp "$TOP"/tests/data/pipelines/*.yaml pipeline/ 2>/dev/null || true
cp "$TOP"/templates/*.txt template/

# Text: names, agencies, identity numbers, e-mails and phones from the forms.
n=0
for f in "$S"/forms/*.csv; do
    tail -n +2 "$f" | head -20 | tr ',' '\n' | while IFS= read -r v; do
        n=$((n + 1))
        if [ -n "$v" ]; then printf '%s' "$v" >"vntext/$(basename "$f" .csv)-$n"; fi
    done
done
# Forms: a header selector byte, then rows of the matching sheet.
for f in "$S"/forms/*.csv; do
    b=$(basename "$f" .csv)
    case $(head -1 "$f") in
        *old_serial*) sel='\001' ;;
        *Mẫu*) sel='\002' ;;
        *) sel='\000' ;;
    esac
    { printf "$sel"; tail -n +2 "$f" | head -8; } >"forms/$b"
    { printf "$sel"; tail -n +2 "$f" | head -2; } >"forms/$b-2"
done
# Mail headers: a subject and a display name, one a line.
printf 'Thông báo: chứng thư số sắp hết hạn\nNguyễn Văn An' >mailhdr/plain
printf 'Thư cho =?utf-8?q?x?= <evil@x.com>\n=?utf-8?q?x?= <evil@x.com>' >mailhdr/encoded-word
printf 'a\r\nBcc: evil@x.com\nx\r\nCc: evil@x.com' >mailhdr/crlf
cd ..
rm -rf "$O"
mv "$O.tmp" "$O"
