# A throw-away CA made with the openssl CLI, for program tests that need
# certificates with exact dates and serials. Source after lib.sh.
#   make_ca DIR "CN"                      root CA in DIR (DIR/ca.pem, DIR/ca.key)
#   issue DIR NAME START END [SERIALHEX]  DIR/NAME.pem with notBefore START,
#                                         notAfter END (YYYYMMDDHHMMSSZ)
#   revoke DIR NAME; gencrl DIR           DIR/crl.pem

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
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -config "$_d/ca.cnf" \
        -subj "/C=VN/O=TEST/CN=$2" -days 7300 -extensions v3_ca \
        -keyout "$_d/ca.key" -out "$_d/ca.pem" 2>/dev/null
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
    openssl ca -config "$1/ca.cnf" -gencrl -out "$1/crl.pem" 2>/dev/null
}
