# A small PKI with one defect per case, made with the openssl CLI at fixed
# dates, for the trust tests (issue 14). Source after lib.sh; needs $T.
#
#   pki_ca DIR CN PARENT EXT [KEYFILE]   a CA in $T/DIR (DIR/ca.pem, DIR/ca.key),
#                                        signed by PARENT ("" = self-signed) with
#                                        extension section EXT of $T/pki.cnf;
#                                        KEYFILE reuses a key (a re-certified CA)
#   pki_leaf CA NAME                     $T/CA/NAME.pem, an end-entity certificate
#   pki_revoke CA CERT                   CERT on CA's database as revoked
#   pki_crl CA OUT [LAST NEXT EXT SIGNER]  CA's CRL (lastUpdate, nextUpdate fixed;
#                                        EXT a crl_extensions section; SIGNER a
#                                        directory whose ca.pem/ca.key sign it)
#   pki_standard                         root -> "TEST Sub CA" -> holders good and
#                                        gone (revoked); $T/root.crl, $T/sub.crl and
#                                        both in $T/crls.pem
#   pki_badsig IN OUT                    IN with the last byte of its signature changed
#   verdict ANCHORS CHAIN CRLS CERT [opts]  what `openssl verify -x509_strict
#                                        -crl_check_all -extended_crl -use_deltas
#                                        -attime` says at $PKI_AT: "ok" or the
#                                        error number and depth ("23@1", or
#                                        "crlpath:26@0" in a CRL signer's path);
#                                        PKI_CRLCHECK=-crl_check checks the
#                                        certificate's own CRL only, PKI_NOTIME=1
#                                        checks no date at all; without CRLS no
#                                        revocation is checked
#
# Every date is fixed: CAs 2020-2049, leaves 2025-2028, CRLs issued
# 2026-11-01 for two months; the cases are judged on $PKI_ASOF, noon in
# Vietnam (what scan-expiry --as-of checks at).

PKI_ASOF=2026-12-15
PKI_AT=$(date -u -d "$PKI_ASOF 12:00 +0700" +%s)
PKI_DIR=$T
export PKI_DIR

cat >"$T/pki.cnf" <<'CNF'
[ ca ]
default_ca = pki
[ pki ]
dir = $ENV::PKI_DIR
database = $dir/index.txt
new_certs_dir = $dir/new
serial = $dir/serial
crlnumber = $dir/crlnumber
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
policy = any
unique_subject = no
email_in_dn = no
string_mask = utf8only
utf8 = yes
crl_extensions = crl_std
[ any ]
commonName = supplied
organizationName = optional
countryName = optional
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ root ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ sub ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ sub_pathlen0 ]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ sub_no_certsign ]
basicConstraints = critical,CA:true
keyUsage = critical,cRLSign,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ crl_signer ]
basicConstraints = critical,CA:false
keyUsage = critical,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ crl_signer_no_crlsign ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ leaf ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = email:holder@example.gov.vn
[ crl_std ]
authorityKeyIdentifier = keyid:always
[ crl_unknown_critical ]
authorityKeyIdentifier = keyid:always
1.3.6.1.4.1.99999.1 = critical,ASN1:NULL
CNF

_pki_db() {
    mkdir -p "$T/$1/new"
    : >"$T/$1/index.txt"
    echo "unique_subject = no" >"$T/$1/index.txt.attr"
    [ -f "$T/$1/serial" ] || echo 1000 >"$T/$1/serial"
    echo 01 >"$T/$1/crlnumber"
}

pki_ca() {  # dir cn parent ext [keyfile]
    _pki_db "$1"
    if [ -n "${5:-}" ]; then cp "$5" "$T/$1/ca.key"; else
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$1/ca.key" 2>/dev/null; fi
    openssl req -new -config "$T/pki.cnf" -key "$T/$1/ca.key" -subj "/C=VN/O=TEST/CN=$2" \
        -out "$T/$1/ca.csr" 2>/dev/null || return 1
    if [ -z "$3" ]; then
        PKI_DIR=$T/$1 openssl ca -batch -config "$T/pki.cnf" -selfsign -keyfile "$T/$1/ca.key" \
            -extensions "$4" -startdate 20200101000000Z -enddate 20491231235959Z -notext \
            -in "$T/$1/ca.csr" -out "$T/$1/ca.pem" 2>/dev/null
    else
        PKI_DIR=$T/$3 openssl ca -batch -config "$T/pki.cnf" -extensions "$4" \
            -startdate 20210101000000Z -enddate 20401231235959Z -notext \
            -in "$T/$1/ca.csr" -out "$T/$1/ca.pem" 2>/dev/null
    fi
}

pki_leaf() {  # ca name
    openssl req -new -config "$T/pki.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$T/$1/$2.key" -subj "/C=VN/O=TEST/CN=$2" -out "$T/$1/$2.csr" 2>/dev/null &&
    PKI_DIR=$T/$1 openssl ca -batch -config "$T/pki.cnf" -extensions leaf \
        -startdate 20250101000000Z -enddate 20280101000000Z -notext \
        -in "$T/$1/$2.csr" -out "$T/$1/$2.pem" 2>/dev/null
}

pki_revoke() {  # ca cert
    PKI_DIR=$T/$1 openssl ca -config "$T/pki.cnf" -revoke "$2" 2>/dev/null
}

pki_crl() {  # ca out [last next ext signer]
    _s=${6:-$1}
    PKI_DIR=$T/$1 openssl ca -batch -config "$T/pki.cnf" -gencrl -crlexts "${5:-crl_std}" \
        -cert "$T/$_s/ca.pem" -keyfile "$T/$_s/ca.key" \
        -crl_lastupdate "${3:-20261101000000Z}" -crl_nextupdate "${4:-20270101000000Z}" -out "$2" 2>/dev/null
}

pki_standard() {
    pki_ca root "TEST Root" "" root
    pki_ca sub "TEST Sub CA" root sub
    pki_leaf sub good
    pki_leaf sub gone
    pki_revoke sub "$T/sub/gone.pem"
    pki_crl root "$T/root.crl"
    pki_crl sub "$T/sub.crl"
    cat "$T/root.crl" "$T/sub.crl" >"$T/crls.pem"
}

pki_badsig() {  # in out
    openssl x509 -in "$1" -outform DER -out "$2.der"
    _len=$(wc -c <"$2.der")
    { head -c $((_len - 1)) "$2.der"; tail -c 1 "$2.der" | tr '\000-\377' '\001-\377\000'; } >"$2.bad"
    openssl x509 -inform DER -in "$2.bad" -out "$2"
}

verdict() {  # anchors chain crls cert [openssl verify options]
    _a=$1 _c=$2 _r=$3 _x=$4
    shift 4
    set -- -x509_strict -CAfile "$_a" "$@"
    if [ -n "${PKI_NOTIME:-}" ]; then set -- "$@" -no_check_time; else set -- "$@" -attime "$PKI_AT"; fi
    [ -s "$_c" ] && set -- "$@" -untrusted "$_c"
    [ -n "$_r" ] && set -- "$@" ${PKI_CRLCHECK:--crl_check_all} -extended_crl -use_deltas -CRLfile "$_r"
    # The first error openssl prints, also one in the path of a CRL's
    # signer ("[CRL path] error ..."), which openssl verify reports but may
    # still exit 0 after.
    _out=$(openssl verify "$@" "$_x" 2>&1)
    _first=$(printf '%s\n' "$_out" | sed -n -e 's/^error \([0-9]*\) at \([0-9]*\) depth lookup.*/\1@\2/p' \
        -e 's/^\[CRL path\] error \([0-9]*\) at \([0-9]*\) depth lookup.*/crlpath:\1@\2/p' | head -n 1)
    echo "${_first:-ok}"
}
