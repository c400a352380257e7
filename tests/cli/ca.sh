# A throw-away CA made with the openssl CLI, for program tests that need
# certificates with exact dates and serials. Source after lib.sh.
#   make_ca DIR "CN" [START]              root CA in DIR (DIR/ca.pem, DIR/ca.key),
#                                         valid from START (default 2020-01-01)
#                                         to the end of 2049
#   issue DIR NAME START END [SERIALHEX]  DIR/NAME.pem with notBefore START,
#                                         notAfter END (YYYYMMDDHHMMSSZ)
#   revoke DIR NAME; gencrl DIR [LAST NEXT]  DIR/crl.pem, this/next update
#                                         fixed (default Nov 2026 - Jan 2027)

make_ca() {
    _d=$1
    mkdir -p "$_d/new"
    : >"$_d/index.txt"
    echo 1000 >"$_d/serial"
    cat >"$_d/ca.cnf" <<CNF
[ ca ]
default_ca = test
[ test ]
dir = $_d
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
default_md = sha256
default_crl_days = 30
policy = any
unique_subject = no
email_in_dn = yes
copy_extensions = copy
string_mask = utf8only
utf8 = yes
[ any ]
commonName = supplied
organizationName = optional
organizationalUnitName = optional
localityName = optional
stateOrProvinceName = optional
countryName = optional
emailAddress = optional
userId = optional
[ req ]
distinguished_name = dn
string_mask = utf8only
utf8 = yes
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
CNF
    # The CA's own validity is fixed, 2020-2049, never "now": tests judge
    # certificates at fixed --as-of dates, and a CA that starts on the day
    # the test runs makes every earlier date untrusted (issue 11). It is
    # self-signed through `openssl ca` (req -x509 has no start date in
    # OpenSSL 3.0) with its own serial, then the database is reset so the
    # first certificate issued is still serial 1000.
    echo 0FFF >"$_d/serial"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -config "$_d/ca.cnf" \
        -subj "/C=VN/O=TEST/CN=$2" -keyout "$_d/ca.key" -out "$_d/ca.csr" 2>/dev/null &&
    openssl ca -batch -selfsign -config "$_d/ca.cnf" -keyfile "$_d/ca.key" -extensions v3_ca \
        -startdate "${3:-20200101000000Z}" -enddate 20491231235959Z -notext \
        -in "$_d/ca.csr" -out "$_d/ca.pem" 2>/dev/null || return 1
    : >"$_d/index.txt"
    rm -f "$_d/index.txt.attr" "$_d/index.txt.old" "$_d/serial.old"
    echo 1000 >"$_d/serial"
}

issue() {  # dir name start end [serial] [subject]
    _d=$1
    [ -n "${5:-}" ] && echo "$5" >"$_d/serial"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -config "$_d/ca.cnf" \
        -subj "${6:-/C=VN/O=TEST/CN=$2}" -keyout "$_d/$2.key" -out "$_d/$2.csr" 2>/dev/null &&
    openssl ca -batch -config "$_d/ca.cnf" -startdate "$3" -enddate "$4" -notext \
        -in "$_d/$2.csr" -out "$_d/$2.pem" 2>/dev/null
}

revoke() {
    openssl ca -config "$1/ca.cnf" -revoke "$1/$2.pem" 2>/dev/null
}

gencrl() {
    openssl ca -config "$1/ca.cnf" -gencrl -crl_lastupdate "${2:-20261101000000Z}" \
        -crl_nextupdate "${3:-20270101000000Z}" -out "$1/crl.pem" 2>/dev/null
}
