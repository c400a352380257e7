# A test CA for the sign-batch tests, made with the openssl CLI in $T (sourced
# after lib.sh). EC P-256 keeps the files fast.
#
#   make_ca            $T/ca.pem, $T/ca.key (encrypted, passphrase in
#                      $T/ca-pass.txt), $T/ca-plain.key
#   make_signer NAME   $T/NAME.pem and $T/NAME.key, issued by the CA
#   make_old_cert SERIAL CN DAYS   $T/old/SERIAL.pem (key in $T/old/SERIAL.key),
#                      an old subscriber certificate of the CA, valid DAYS days

CA_PASS='mật khẩu CA 2026'

make_ca() {
    printf '%s\n' "$CA_PASS" >"$T/ca-pass.txt"
    cat >"$T/ca.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt = no
utf8 = yes
string_mask = utf8only
[dn]
C = VN
O = Ban Cơ yếu Chính phủ
CN = Test Issuing CA
[ca_ext]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[sub_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = email:old@lamdong.gov.vn
CNF
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/ca-plain.key" 2>/dev/null
    openssl pkey -in "$T/ca-plain.key" -aes256 -passout file:"$T/ca-pass.txt" -out "$T/ca.key"
    openssl req -new -x509 -config "$T/ca.cnf" -extensions ca_ext -key "$T/ca-plain.key" \
        -days 3650 -sha256 -out "$T/ca.pem"
    mkdir -p "$T/old"
}

make_signer() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$1.key" 2>/dev/null
    openssl req -new -key "$T/$1.key" -subj "/C=VN/O=Sở Nội vụ Lâm Đồng/CN=$1" -utf8 \
        -out "$T/$1.csr"
    openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.pem" -CAkey "$T/ca-plain.key" \
        -CAcreateserial -days 365 -sha256 -extfile "$T/ca.cnf" -extensions sub_ext \
        -out "$T/$1.pem" 2>/dev/null
}

make_old_cert() {  # SERIAL CN DAYS
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/old/$1.key" 2>/dev/null
    openssl req -new -key "$T/old/$1.key" -utf8 \
        -subj "/C=VN/ST=Lâm Đồng/O=Sở Nội vụ tỉnh Lâm Đồng/CN=$2" -out "$T/old/$1.csr"
    openssl x509 -req -in "$T/old/$1.csr" -CA "$T/ca.pem" -CAkey "$T/ca-plain.key" \
        -set_serial "0x$1" -days "$3" -sha256 -extfile "$T/ca.cnf" -extensions sub_ext \
        -out "$T/old/$1.pem" 2>/dev/null
    rm -f "$T/old/$1.csr"
}
