# Certificates with fixed dates and the issuance ledger sign-batch would
# have written for them, for the publish tests (sourced after lib.sh and
# ca.sh). Issued Wednesday 11/2/2026, the week before Tết 2026 (14-22/2).
#   make_published_fixture   $T/ca (the CA), $T/issued.pem, $T/ledger.csv
#                            with CB-01 (1A2B), CB-02 (1A2C), CB-03 (1A2D)

make_published_fixture() {
    make_ca "$T/ca" "Test Issuing CA" || return 1
    sed -i 's/^userId = optional/userId = optional\ntitle = optional/' "$T/ca/ca.cnf"
    issue "$T/ca" hoa 20260211000000Z 20290210235959Z 1A2B \
        "/C=VN/O=Sở Nội vụ tỉnh Lâm Đồng/title=Chuyên viên/CN=Nguyễn Thị Hoà/emailAddress=hoa.nt@lamdong.gov.vn" &&
    issue "$T/ca" bao 20260211000000Z 20290210235959Z 1A2C \
        "/C=VN/O=Sở Tài chính tỉnh Lâm Đồng/title=Phó Giám đốc/CN=Trần Văn Bảo/emailAddress=bao.tv@lamdong.gov.vn" &&
    issue "$T/ca" duc 20260211000000Z 20290210235959Z 1A2D \
        "/C=VN/O=Sở Nội vụ tỉnh Lâm Đồng/title=Trưởng phòng/CN=Đặng Đức Thuỷ/emailAddress=thuy.dd@lamdong.gov.vn" ||
        return 1
    cat "$T/ca/hoa.pem" "$T/ca/bao.pem" "$T/ca/duc.pem" >"$T/issued.pem"
    cat >"$T/ledger.csv" <<'CSV'
request_id,request_type,old_serial,serial,subject,not_after,sha256,issued_at
CB-01,issue,,1A2B,CN=Nguyễn Thị Hoà,2029-02-11T06:59:59+07:00,,2026-02-11T10:00:00+07:00
CB-02,issue,,1A2C,CN=Trần Văn Bảo,2029-02-11T06:59:59+07:00,,2026-02-11T10:00:00+07:00
CB-03,issue,,1A2D,CN=Đặng Đức Thuỷ,2029-02-11T06:59:59+07:00,,2026-02-11T10:00:00+07:00
CSV
}
