# Test fixture for the split-updates program tests, sourced after lib.sh:
# a CA, holders with old certificates and renewed ones made with the same
# key pair, all by the openssl CLI (independent of sign-batch), and the
# pending requests as validate-form would pass them on.
#
#   su_ca NAME CN                 $T/NAME.key, $T/NAME.pem (self-signed CA)
#   su_holder ID CN EMAIL         $T/ID.key and $T/ID.csr (subject CN + e-mail)
#   su_cert ID CA SERIAL DAYS OUT a certificate for ID's key, signed by CA
#   su_serial FILE                the serial as `openssl x509 -serial` prints it
#   su_standard                   the standard set below

su_ca() {
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$T/$1.key" -out "$T/$1.pem" -subj "/O=Ban Cơ yếu Chính phủ/CN=$2" -utf8 \
        -days 3650 -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

su_holder() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$1.key" 2>/dev/null
    openssl req -new -key "$T/$1.key" -utf8 -subj "/CN=$2/emailAddress=$3" -out "$T/$1.csr" 2>/dev/null
}

su_cert() {
    openssl x509 -req -in "$T/$1.csr" -CA "$T/$2.pem" -CAkey "$T/$2.key" -set_serial "$3" \
        -days "$4" -out "$5" 2>/dev/null
}

su_serial() {
    openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'
}

# Three agencies, five holders. h1..h4 renew (old certificate 0x10NN, renewed
# 0x20NN, same key); h5 is a new certificate, matched by e-mail and name only.
# h4's renewal is not in the update file: its request stays missing. R2 and
# R5 name their agency in another spelling and leave agency_key empty, as a
# raw form would.
su_standard() {
    su_ca ca "Test CA chuyên dùng"
    su_holder h1 "Nguyễn Văn An" an.nv@stc.lamdong.gov.vn
    su_holder h2 "Trần Thị Bình" binh.tt@stc.lamdong.gov.vn
    su_holder h3 "Lê Văn Cường" cuong.lv@syt.lamdong.gov.vn
    su_holder h4 "Phạm Thị Dung" dung.pt@sgd.lamdong.gov.vn
    su_holder h5 "Hoàng Văn Em" em.hv@sgd.lamdong.gov.vn
    mkdir -p "$T/old"
    for i in 1 2 3 4; do
        su_cert h$i ca 0x100$i 30 "$T/old/h$i.pem"
    done
    for i in 1 2 3 5; do
        su_cert h$i ca 0x200$i 1095 "$T/new-h$i.pem"
    done
    cat "$T/new-h1.pem" "$T/new-h2.pem" "$T/new-h3.pem" "$T/new-h5.pem" > "$T/update.pem"
    cat > "$T/requests.csv" <<'EOF'
request_id,form,full_name,email,agency,agency_key,agency_code,old_serial,request_type,subject_type
R1,03,Nguyễn Văn An,an.nv@stc.lamdong.gov.vn,Sở Tài chính,sở tài chính,000.00.15.H41,1001,renew,individual
R2,03,Trần Thị Bình,binh.tt@stc.lamdong.gov.vn,SỞ TÀI CHÍNH,,000.00.15.H41,10:02,renew,individual
R3,03,Lê Văn Cường,cuong.lv@syt.lamdong.gov.vn,Sở Y tế,sở y tế,000.00.16.H41,1003,renew,individual
R4,03,Phạm Thị Dung,dung.pt@sgd.lamdong.gov.vn,Sở Giáo dục và Đào tạo,sở giáo dục và đào tạo,,1004,renew,individual
R5,01,HOÀNG VĂN EM,EM.HV@sgd.lamdong.gov.vn,Sở GD&ĐT,,,,issue,individual
EOF
}

# The values of one column of a CSV file (quoted fields handled by miller).
su_col() {
    mlr --icsv --onidx --ofs '\t' cut -o -f "$2" "$1"
}
