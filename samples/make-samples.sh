#!/bin/sh
# samples/make-samples.sh: build certbatch's sample PKI and request forms.
#
#   sh samples/make-samples.sh [OUTDIR]        (default: samples/out)
#
# Makes a TEST root CA, an issuing CA signed by it, 300 personal and 5
# organisation certificates for agencies of Lâm Đồng province, a CRL
# revoking 5 of them, and sample Form 01/02/03/04 request sheets (CSV) that
# agree with the certificates. See samples/README.md for the file list.
#
# Structure (names, counts, agencies, which certificate plays which part) is
# fixed; dates are relative to "today" in Vietnam time (UTC+07:00), or to
# SAMPLES_AS_OF=YYYY-MM-DD when set. Serial numbers and keys are random.
# OUTDIR is deleted and rebuilt on every run (only if it is empty or was made
# by this script). Needs only a POSIX sh, awk and the openssl CLI (3.0).
set -eu

prog=make-samples
LC_ALL=C        # awk works on bytes; the text is UTF-8 whatever the locale
export LC_ALL
die() { code=$1; shift; echo "$prog: $*" >&2; exit "$code"; }

OUT=${1:-samples/out}
[ $# -le 1 ] || die 64 "usage: sh samples/make-samples.sh [OUTDIR]"
case $OUT in '' | / | . | ..) die 64 "refusing to use '$OUT' as the output directory" ;; esac
command -v openssl >/dev/null 2>&1 || die 69 "the openssl command is needed (apt-get install openssl)"

# "Today" in UTC+07:00 (no daylight saving: POSIX TZ "ICT-7").
if [ -n "${SAMPLES_AS_OF:-}" ]; then
    case $SAMPLES_AS_OF in
    [12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]) TODAY=$SAMPLES_AS_OF ;;
    *) die 64 "SAMPLES_AS_OF must be YYYY-MM-DD, not '$SAMPLES_AS_OF'" ;;
    esac
else
    TODAY=$(TZ=ICT-7 date +%Y-%m-%d)
fi

start_s=$(date +%s)

# Rebuild OUT from scratch, but never delete a directory this script did not make.
MARK=.certbatch-samples
if [ -e "$OUT" ] || [ -L "$OUT" ]; then
    if [ -d "$OUT" ] && [ ! -L "$OUT" ] && { [ -f "$OUT/$MARK" ] || [ -z "$(ls -A "$OUT")" ]; }; then
        rm -rf "$OUT"
    else
        die 73 "$OUT exists and was not made by this script; not deleting it"
    fi
fi
mkdir -p "$OUT" || die 73 "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)
cd "$OUT"
echo "certbatch samples, as of $TODAY" >"$MARK"
mkdir certs keys der forms ca ca/root ca/root/newcerts ca/issuing work
chmod 700 keys work
W=work
LOG=$W/openssl.log
: >"$LOG"

# Run a command, its output to the log; on failure show the log's tail and stop.
run() {
    "$@" >>"$LOG" 2>&1 || {
        echo "$prog: failed: $*" >&2
        tail -n 15 "$LOG" >&2
        exit 70
    }
}

# ---------------------------------------------------------------------------
# awk library: civil dates <-> day numbers, a fixed pseudo-random sequence,
# the name and agency tables, person generator, CSV quoting. mawk-compatible.
# ---------------------------------------------------------------------------
cat >"$W/lib.awk" <<'EOF'
# day number (days since 1970-01-01) of a civil date (H. Hinnant's algorithm)
function dfc(y, m, d,   era, yoe, doy, doe) {
    y -= (m <= 2)
    era = int((y >= 0 ? y : y - 399) / 400)
    yoe = y - era * 400
    doy = int((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
    doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy
    return era * 146097 + doe - 719468
}
# civil date of a day number, into CY CM CD
function cfd(z,   era, doe, yoe, doy, mp) {
    z += 719468
    era = int((z >= 0 ? z : z - 146096) / 146097)
    doe = z - era * 146097
    yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
    doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
    mp = int((5 * doy + 2) / 153)
    CD = doy - int((153 * mp + 2) / 5) + 1
    CM = mp + (mp < 10 ? 3 : -9)
    CY = yoe + era * 400 + (CM <= 2)
}
function parse_iso(s) { return dfc(substr(s, 1, 4) + 0, substr(s, 6, 2) + 0, substr(s, 9, 2) + 0) }
function iso(z) { cfd(z); return sprintf("%04d-%02d-%02d", CY, CM, CD) }
# date as a form shows it: style 0 ISO, 1 DD/MM/YYYY, 2 D/M/YYYY
function fdate(z, style) {
    cfd(z)
    if (style == 0) return sprintf("%04d-%02d-%02d", CY, CM, CD)
    if (style == 1) return sprintf("%02d/%02d/%04d", CD, CM, CY)
    return sprintf("%d/%d/%04d", CD, CM, CY)
}
function dow(z) { return ((z % 7) + 7 + 4) % 7 }        # 0 Sunday .. 6 Saturday
# instant given as a Vietnam day number and second of that day
function utc_stamp(z, t) {                               # YYYYMMDDHHMMSSZ (openssl ca)
    t -= 25200
    if (t < 0) { t += 86400; z-- }
    cfd(z)
    return sprintf("%04d%02d%02d%02d%02d%02dZ", CY, CM, CD, int(t / 3600), int(t % 3600 / 60), t % 60)
}
function utc_short(z, t) { return substr(utc_stamp(z, t), 3) }   # YYMMDDHHMMSSZ (index.txt)
function vn_instant(z, t) {
    cfd(z)
    return sprintf("%04d-%02d-%02dT%02d:%02d:%02d+07:00", CY, CM, CD, int(t / 3600), int(t % 3600 / 60), t % 60)
}
# Park-Miller minimal standard generator: exact in double arithmetic, so
# every awk gives the same sequence.
function rnd(n) { SEED = (SEED * 16807) % 2147483647; return SEED % n }
function pick(list,   a, k) { k = split(list, a, ";"); return a[rnd(k) + 1] }
# CSV field, quoted only where needed (RFC 4180)
function q(s) {
    if (s ~ /[",\r\n]/ || s ~ /^[ \t]/ || s ~ /[ \t]$/) { gsub(/"/, "\"\"", s); return "\"" s "\"" }
    return s
}
# escape a value for openssl -subj
function subj_esc(s) { gsub(/[\/+\\]/, "\\\\&", s); return s }

function init_tables(   i) {
    # agency | electronic agency code | mailbox | departments (OU) | head | address | budget code
    NA = split("" \
        "Văn phòng UBND tỉnh|000.00.01.H41|vpubnd|Phòng Tổng hợp;Phòng Hành chính - Tổ chức;Trung tâm Phục vụ hành chính công|Nguyễn Văn Sơn|Số 36 Trần Phú, phường Xuân Hương - Đà Lạt, tỉnh Lâm Đồng|1012201\n" \
        "Sở Nội vụ|000.00.02.H41|sonoivu|Phòng Tổ chức, biên chế;Phòng Cải cách hành chính;Văn phòng Sở|Trần Thị Kim Liên|Số 6 Hồ Tùng Mậu, phường Xuân Hương - Đà Lạt, tỉnh Lâm Đồng|1012202\n" \
        "Sở Tài chính|000.00.04.H41|sotaichinh|Phòng Ngân sách;Phòng Quản lý giá - Công sản;Thanh tra Sở;Văn phòng Sở|Phạm Đức Hùng|Số 2 Hoàng Văn Thụ, phường Lâm Viên - Đà Lạt, tỉnh Lâm Đồng|1012204\n" \
        "Sở Y tế|000.00.13.H41|soyte|Phòng Nghiệp vụ Y;Phòng Kế hoạch - Tài chính;Văn phòng Sở|Lê Quang Minh|Số 38 Trần Phú, phường Xuân Hương - Đà Lạt, tỉnh Lâm Đồng|1012213\n" \
        "Sở Giáo dục và Đào tạo|000.00.11.H41|sogddt|Phòng Giáo dục Trung học;Phòng Tổ chức cán bộ;Văn phòng Sở|Võ Thị Thu Hà|Số 23 Lê Hồng Phong, phường Xuân Hương - Đà Lạt, tỉnh Lâm Đồng|1012211\n" \
        "Sở Tư pháp|000.00.05.H41|sotuphap|Phòng Hành chính tư pháp;Phòng Bổ trợ tư pháp|Đặng Văn Lộc|Số 1 Trần Hưng Đạo, phường Xuân Hương - Đà Lạt, tỉnh Lâm Đồng|1012205\n" \
        "Sở Nông nghiệp và Môi trường|000.00.09.H41|sonnmt|Chi cục Kiểm lâm;Phòng Quản lý đất đai;Văn phòng Sở|Hoàng Minh Tuấn|Số 54 Hoàng Văn Thụ, phường Lâm Viên - Đà Lạt, tỉnh Lâm Đồng|1012209\n" \
        "Sở Khoa học và Công nghệ|000.00.08.H41|sokhcn|Phòng Chuyển đổi số;Phòng Bưu chính, Viễn thông;Văn phòng Sở|Bùi Thanh Bình|Số 35 Trần Hưng Đạo, phường Xuân Hương - Đà Lạt, tỉnh Lâm Đồng|1012208\n" \
        "UBND tỉnh Lâm Đồng|000.00.00.H41|ubndtinh||Trần Hồng Thái|Số 36 Trần Phú, phường Xuân Hương - Đà Lạt, tỉnh Lâm Đồng|1012200\n" \
        "UBND phường Xuân Hương - Đà Lạt|000.30.01.H41|ubndxuanhuong|Văn phòng HĐND và UBND;Phòng Kinh tế, Hạ tầng và Đô thị|Phan Thị Mai|Số 4 Bùi Thị Xuân, phường Xuân Hương - Đà Lạt, tỉnh Lâm Đồng|1089301\n" \
        "Công an tỉnh Lâm Đồng||congan|Phòng Tham mưu;Phòng An ninh mạng;Phòng Cảnh sát quản lý hành chính|Ngô Đức Cường|Số 1 Trần Bình Trọng, phường Lâm Viên - Đà Lạt, tỉnh Lâm Đồng|", AG_LINE, "\n")
    for (i = 1; i <= NA; i++) {
        split(AG_LINE[i], f, "|")
        AG[i] = f[1]; AG_CODE[i] = f[2]; AG_MAIL[i] = f[3]; AG_OU[i] = f[4]
        AG_HEAD[i] = f[5]; AG_ADDR[i] = f[6]; AG_BUDGET[i] = f[7]
    }
    FAMILY = "Nguyễn:nguyen;Nguyễn:nguyen;Nguyễn:nguyen;Nguyễn:nguyen;Trần:tran;Trần:tran;Lê:le;Lê:le;Phạm:pham;Hoàng:hoang;Huỳnh:huynh;Phan:phan;Vũ:vu;Võ:vo;Đặng:dang;Bùi:bui;Đỗ:do;Hồ:ho;Ngô:ngo;Dương:duong;Lý:ly;Đinh:dinh;Trương:truong"
    MID_M = "Văn:v;Văn:v;Đức:d;Minh:m;Quốc:q;Hữu:h;Văn Hoàng:vh;Thanh:t;Ngọc:n;Đình:d;Công:c;Xuân:x;Trọng:t"
    MID_F = "Thị:t;Thị:t;Thị Hồng:th;Thị Thu:tt;Ngọc:n;Thu:t;Thanh:t;Thị Kim:tk;Thị Minh:tm;Hoài:h;Bảo:b"
    GIV_M = "Hùng:hung;Dũng:dung;Tuấn:tuan;Nam:nam;Sơn:son;Long:long;Phúc:phuc;Khánh:khanh;Bình:binh;Hải:hai;Quang:quang;Thắng:thang;Trung:trung;Đạt:dat;Vinh:vinh;Hiếu:hieu;Lộc:loc;Tài:tai;Cường:cuong;Huy:huy"
    GIV_F = "Nhung:nhung;Lan:lan;Hương:huong;Hà:ha;Trang:trang;Linh:linh;Mai:mai;Thảo:thao;Ngân:ngan;Yến:yen;Phương:phuong;Hạnh:hanh;Vy:vy;Anh:anh;Quyên:quyen;Duyên:duyen;Oanh:oanh;Trâm:tram;Loan:loan;Thủy:thuy"
    POSITIONS = "Chuyên viên;Chuyên viên;Chuyên viên;Chuyên viên chính;Phó Trưởng phòng;Trưởng phòng;Phó Giám đốc;Kế toán viên;Văn thư;Thanh tra viên;Cán sự"
    # birth registration codes of former provinces: mostly Lâm Đồng (068),
    # then Bình Thuận and Đắk Nông (merged into it) and a few others
    PROV_OTHER = "060;067;001;079;038;040;056;066;036;042"
    MOBILE = "090;091;093;094;096;097;098;086;088;032;033;035;036;037;038;039;070;076;077;078;079;081;082;083;084;085;056;058"
}

# A new person with a unique identity number and e-mail: sets P_*.
function gen_person(   f, m, g, y, code, id, local, k, t) {
    P_sex = rnd(2)                                          # 0 male, 1 female
    split(pick(FAMILY), f, ":")
    split(pick(P_sex ? MID_F : MID_M), m, ":")
    split(pick(P_sex ? GIV_F : GIV_M), g, ":")
    P_name = f[1] " " m[1] " " g[1]
    y = 1965 + rnd(38)                                      # 1965..2002
    P_birth = dfc(y, 1 + rnd(12), 1 + rnd(28))
    code = rnd(10) < 7 ? "068" : pick(PROV_OTHER)
    do {
        id = code ((y >= 2000 ? 2 : 0) + P_sex) sprintf("%02d", y % 100) sprintf("%06d", rnd(1000000))
    } while (id in USED_ID)
    USED_ID[id] = 1
    P_id = id
    local = g[2] substr(f[2], 1, 1) m[2]
    for (k = 1; (local (k > 1 ? k : "")) in USED_MAIL; k++) ;
    local = local (k > 1 ? k : "")
    USED_MAIL[local] = 1
    P_mail = local
    P_email = local "@lamdong.gov.vn"
    P_issue = T - 150 - rnd(1500)                           # chip-card CCCD, 2021 on
    if (P_issue < P_birth + 14 * 366) P_issue = P_birth + 14 * 366
    P_issue_place = P_issue < dfc(2024, 7, 1) ? "Cục Cảnh sát quản lý hành chính về trật tự xã hội" : "Bộ Công an"
    P_position = pick(POSITIONS)
    P_phone = pick(MOBILE) sprintf("%07d", rnd(10000000))
}
EOF

# ---------------------------------------------------------------------------
# The plan: one line per certificate, fields separated by '|'.
# ---------------------------------------------------------------------------
cat >"$W/plan.awk" <<'EOF'
# Expiry offsets (days from today, Vietnam calendar), persons:
#   A  20 certificates  -60 ..   -1  already expired
#   B  40 certificates    0 ..   59  due (less than 60 days left)
#   C  60 certificates   62 ..  120  renewal window: the Form 03 rows
#   D 180 certificates  121 .. 1085  spread up to 3 years ahead
# and 5 organisation certificates between 70 and 118 days (Form 04 rows).
BEGIN {
    SEED = 20240815
    T = parse_iso(TODAY)
    getline HEX < RANDFILE
    init_tables()
    n = 0; nyv_k = 0
    segment("A", 20, -60, -1)
    segment("B", 40, 0, 59)
    segment("C", 60, 62, 120)
    segment("D", 180, 121, 1085)
    split("3 4 2 10 1", oa, " "); split("70 84 95 106 118", oo, " ")
    for (i = 1; i <= 5; i++) org(oa[i], oo[i])
}
function segment(name, cnt, lo, hi,   j) {
    for (j = 0; j < cnt; j++) person(name, j, lo + int(j * (hi - lo) / (cnt - 1)))
}
function person(s, j, off,   a, role, der, nyv, len, start, ou, k, u) {
    n++
    a = s == "C" ? j % NA + 1 : rnd(NA) + 1
    gen_person()
    role = "-"; der = 0; nyv = 0
    if (s == "C") {
        if (j < 35) role = "r03"
        else if (j == 35) role = "bad_id"
        else if (j == 36) role = "bad_email"
        else if (j == 37) role = "bad_confirm"
        else if (j == 45) role = "revoked"
    } else if (s == "B") {
        if (j == 30) role = "bad_60"
        else if (j == 12) role = "revoked"
        if (j == 5) der = 1
    } else if (s == "A") {
        if (j == 5) der = 1
    } else {
        if (j == 20 || j == 80 || j == 140) role = "revoked"
        if (j >= 70 && j <= 150 && j % 20 == 10) nyv = 1       # 5 not yet valid
        if (j == 50) der = 1
    }
    if (nyv) {
        start = 3 + 7 * nyv_k++                                # notBefore in the future
        len = off - start
    } else {
        k = rnd(3); len = k == 0 ? 365 : k == 1 ? 730 : 1095
        if (off - len > -1) len = 1095                         # must have started already
        start = off - len
    }
    ou = ""
    if (AG_OU[a] != "" && rnd(10) < 6) ou = pick(AG_OU[a])
    emit("person", role, der, nyv, a, s, T + start, T + off, P_name, ou, "CCCD:" P_id, P_email, n % 3 == 0)
}
function org(a, off) {
    n++
    emit("organization", "r04", 0, 0, a, "ORG", T + off - 1095, T + off, AG[a], "", "MNS:" AG_BUDGET[a], AG_MAIL[a] "@lamdong.gov.vn", 0)
    USED_MAIL[AG_MAIL[a]] = 1
}
# Times of day: office hours in Vietnam for most; every 15th certificate
# expires between 00:00 and 06:59 Vietnam time, when the UTC date is the
# day before, and every 15th (another) at 23:59:59.
function emit(kind, role, der, nyv, a, s, zs, ze, cn, ou, uid, mail, mail_dn,   t, subj) {
    t = 8 * 3600 + rnd(9 * 3600)
    if (n % 15 == 7) t = rnd(7 * 3600)
    if (n % 15 == 3) t = 86399
    subj = "/C=VN/ST=Lâm Đồng/L=Lâm Đồng/O=" subj_esc(AG[a]) (ou != "" ? "/OU=" subj_esc(ou) : "") \
           "/CN=" subj_esc(cn) "/UID=" uid (mail_dn ? "/emailAddress=" mail : "")
    # 1 n, 2 kind, 3 subj, 4 san email, 5 start, 6 end, 7 role, 8 der, 9 nyv, 10 agency index,
    # 11 segment, 12 not_before, 13 not_after, 14 expiry_date, 15 days_left, 16 cn, 17 o, 18 ou,
    # 19 uid, 20 email_in_dn, 21 sex, 22 birth, 23 id, 24 id issue, 25 issue place,
    # 26 position, 27 phone, 28 mail local part, 29 (last) serial
    print n "|" kind "|" subj "|" mail "|" utc_stamp(zs, t) "|" utc_stamp(ze, t) "|" role "|" der "|" nyv "|" a \
        "|" s "|" vn_instant(zs, t) "|" vn_instant(ze, t) "|" iso(ze) "|" (ze - T) "|" cn "|" AG[a] "|" ou \
        "|" uid "|" (mail_dn ? "yes" : "no") "|" (kind == "person" ? P_sex : "") \
        "|" (kind == "person" ? iso(P_birth) : "") "|" (kind == "person" ? P_id : AG_BUDGET[a]) \
        "|" (kind == "person" ? iso(P_issue) : "") "|" (kind == "person" ? P_issue_place : "") \
        "|" (kind == "person" ? P_position : "") "|" (kind == "person" ? P_phone : "") "|" (kind == "person" ? P_mail : AG_MAIL[a]) \
        "|" serial(n)
}
# n-th serial: 20 random bytes, the first forced into 01..7F so the number
# is positive and prints as 40 hex digits
function serial(n,   h, b) {
    h = toupper(substr(HEX, (n - 1) * 40 + 1, 40))
    if (length(h) != 40) { print "make-samples: not enough random bytes" > "/dev/stderr"; exit 70 }
    b = (index("0123456789ABCDEF", substr(h, 1, 1)) - 1) * 16 + index("0123456789ABCDEF", substr(h, 2, 1)) - 1
    return sprintf("%02X", b % 127 + 1) substr(h, 3)
}
EOF
run openssl rand -hex -out "$W/rand.hex" 16000
awk -v TODAY="$TODAY" -v RANDFILE="$W/rand.hex" -f "$W/lib.awk" -f "$W/plan.awk" >"$W/plan.txt"

# ---------------------------------------------------------------------------
# OpenSSL configuration: one file, two CAs. Paths are relative to OUT, so
# `cd OUT && openssl ca -config ca/openssl.cnf ...` works after the run too.
# ---------------------------------------------------------------------------
CNF=ca/openssl.cnf
cat >"$CNF" <<'EOF'
# certbatch sample PKI (TEST ONLY). Paths are relative: run openssl from the
# samples output directory. Subscriber extensions: ca/subscriber-ext.cnf.
[ req ]
distinguished_name = req_dn
string_mask        = utf8only
utf8               = yes
[ req_dn ]

[ ca ]
default_ca = CA_issuing

[ CA_root ]
dir            = ca/root
database       = $dir/index.txt
new_certs_dir  = $dir/newcerts
serial         = $dir/serial
rand_serial    = yes
certificate    = root-ca.pem
private_key    = root-ca.key
default_md     = sha256
default_days   = 3650
policy         = policy_any
preserve       = yes
unique_subject = no
email_in_dn    = yes
string_mask    = utf8only
utf8           = yes
copy_extensions = none

[ CA_issuing ]
dir            = ca/issuing
database       = $dir/index.txt
new_certs_dir  = certs
serial         = $dir/serial
rand_serial    = yes
crlnumber      = $dir/crlnumber
certificate    = issuing-ca.pem
private_key    = issuing-ca.key
default_md     = sha256
default_days   = 730
default_crl_days = 30
crl_extensions = ext_crl
policy         = policy_any
preserve       = yes
unique_subject = no
email_in_dn    = yes
string_mask    = utf8only
utf8           = yes
copy_extensions = none

[ policy_any ]
countryName            = optional
stateOrProvinceName    = optional
localityName           = optional
organizationName       = optional
organizationalUnitName = optional
commonName             = supplied
UID                    = optional
emailAddress           = optional

[ ext_root ]
basicConstraints       = critical, CA:true
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

[ ext_issuing ]
basicConstraints       = critical, CA:true, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_crl ]
authorityKeyIdentifier = keyid:always
EOF
cat >ca/subscriber-ext.cnf <<'EOF'
# Extensions of subscriber certificates, for openssl ca -extfile with
# -extensions ext_person or ext_organization. SAN_EMAIL (environment) is
# the subscriber's e-mail address.
[ ext_person ]
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature, nonRepudiation
extendedKeyUsage       = emailProtection, clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = email:$ENV::SAN_EMAIL

[ ext_organization ]
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature, nonRepudiation
extendedKeyUsage       = emailProtection, clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = email:$ENV::SAN_EMAIL
EOF
: >ca/root/index.txt
: >ca/issuing/index.txt
echo "unique_subject = no" >ca/root/index.txt.attr
echo "unique_subject = no" >ca/issuing/index.txt.attr
echo 01 >ca/issuing/crlnumber

# CA validity: root from 6 years ago for 26 years, issuing from 5 years ago
# for 15 years, both starting 08:00 Vietnam time.
CA_DATES=$(awk -v TODAY="$TODAY" -f "$W/lib.awk" -f /dev/stdin <<'EOF'
BEGIN {
    T = parse_iso(TODAY); cfd(T); y = CY; m = CM; d = CD
    if (m == 2 && d == 29) d = 28
    print utc_stamp(dfc(y - 6, m, d), 28800), utc_stamp(dfc(y + 20, m, d), 28800), \
          utc_stamp(dfc(y - 5, m, d), 28800), utc_stamp(dfc(y + 10, m, d), 28800), \
          utc_stamp(T, 0), utc_stamp(T + 30, 0)
}
EOF
)
set -- $CA_DATES
ROOT_START=$1 ROOT_END=$2 ISS_START=$3 ISS_END=$4 CRL_LAST=$5 CRL_NEXT=$6

run openssl req -new -config "$CNF" -utf8 -newkey rsa:2048 -nodes -keyout root-ca.key -out "$W/root.csr" \
    -subj "/C=VN/O=Ban Cơ yếu Chính phủ/CN=TEST RootCA chuyên dùng Chính phủ G2 (TEST - KHÔNG DÙNG THẬT)"
run openssl ca -batch -config "$CNF" -name CA_root -utf8 -notext -selfsign -keyfile root-ca.key \
    -in "$W/root.csr" -startdate "$ROOT_START" -enddate "$ROOT_END" -extensions ext_root -out root-ca.pem

run openssl req -new -config "$CNF" -utf8 -newkey rsa:2048 -nodes -keyout issuing-ca.key -out "$W/issuing.csr" \
    -subj "/C=VN/O=Ban Cơ yếu Chính phủ/OU=Cục Chứng thực số và Bảo mật thông tin/CN=TEST CA chuyên dùng Chính phủ G3 (TEST)"
run openssl ca -batch -config "$CNF" -name CA_root -utf8 -notext \
    -in "$W/issuing.csr" -startdate "$ISS_START" -enddate "$ISS_END" -extensions ext_issuing -out issuing-ca.pem
cat issuing-ca.pem root-ca.pem >ca-chain.pem

# The same issuing key, encrypted (AES-256-CBC, PKCS#8); passphrase in ca-pass.txt.
(umask 077 && echo "certbatch-sample-ca-pass" >ca-pass.txt)
run openssl pkey -in issuing-ca.key -aes256 -passout file:ca-pass.txt -out issuing-ca-enc.key
chmod 600 root-ca.key issuing-ca.key issuing-ca-enc.key ca-pass.txt

# ---------------------------------------------------------------------------
# Subscriber certificates: two workers (the machine has 2 cores), each with
# its own copy of the CA database, sign half of the plan; the two databases
# are then merged in plan order. Each certificate's serial is chosen in the
# plan from `openssl rand` (random, 159 bits, positive), written to the
# worker's serial file before its `openssl ca` run, so the key file can be
# named after it. Keys are EC P-256, 0600 (openssl writes them so).
# ---------------------------------------------------------------------------
{
    cat "$CNF"
    for k in 1 2; do
        mkdir "$W/w$k"
        : >"$W/w$k/index.txt"
        echo "unique_subject = no" >"$W/w$k/index.txt.attr"
        cat <<EOF

[ CA_w$k ]
database       = $W/w$k/index.txt
new_certs_dir  = certs
serial         = $W/w$k/serial
certificate    = issuing-ca.pem
private_key    = issuing-ca.key
default_md     = sha256
policy         = policy_any
preserve       = yes
unique_subject = no
email_in_dn    = yes
string_mask    = utf8only
utf8           = yes
copy_extensions = none
EOF
    done
} >"$W/workers.cnf"

worker() {
    while IFS='|' read -r n kind subj san start end rest; do
        serial=${rest##*|}
        SAN_EMAIL=$san
        export SAN_EMAIL
        echo "$serial" >"$W/w$1/serial"
        openssl req -new -config "$CNF" -utf8 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "keys/$serial.key" -subj "$subj" -out "$W/$n.csr" >>"$W/w$1.log" 2>&1 &&
        openssl ca -batch -config "$W/workers.cnf" -name "CA_w$1" -utf8 -notext -in "$W/$n.csr" \
            -startdate "$start" -enddate "$end" -extfile ca/subscriber-ext.cnf -extensions "ext_$kind" \
            -out /dev/null >>"$W/w$1.log" 2>&1 ||
            { echo "$prog: openssl failed on certificate $n:" >&2; tail -n 15 "$W/w$1.log" >&2; return 70; }
    done
}
awk 'NR % 2 == 1' "$W/plan.txt" | worker 1 &
pid1=$!
awk 'NR % 2 == 0' "$W/plan.txt" | worker 2 || { wait "$pid1" || true; exit 70; }
wait "$pid1" || exit 70

awk -F '|' 'NR == FNR { n[$NF] = $1; count++; next }
    { split($0, f, "\t"); if (!(f[4] in n)) exit 1; line[n[f[4]]] = $0; got++ }
    END { if (got != count) exit 1; for (i = 1; i <= count; i++) print line[i] }' \
    "$W/plan.txt" "$W/w1/index.txt" "$W/w2/index.txt" >ca/issuing/index.txt ||
    die 70 "the certificate databases do not match the plan"
ncerts=$(wc -l <"$W/plan.txt")

while IFS='|' read -r n kind subj san start end role der rest; do
    serial=${rest##*|}
    [ -f "certs/$serial.pem" ] && [ -f "keys/$serial.key" ] || die 70 "certificate $n ($serial) is missing"
    if [ "$der" = 1 ]; then run openssl x509 -in "certs/$serial.pem" -outform DER -out "der/$serial.cer"; fi
    if [ "$role" = revoked ]; then echo "$serial" >>revoked.txt; fi
done <"$W/plan.txt"

# ---------------------------------------------------------------------------
# Revocations and the CRL. openssl ca -revoke stamps the current time; the
# dates are then set in the database to 12, 21, 30, 39 and 48 days before
# today (10:00 Vietnam time), so the CRL is the same whatever the clock says.
# ---------------------------------------------------------------------------
k=0
for serial in $(cat revoked.txt); do
    k=$((k + 1))
    # the fifth has no reason code (RFC 5280 5.3.1: absent rather than unspecified)
    case $k in 1) set -- -crl_reason keyCompromise ;; 2) set -- -crl_reason affiliationChanged ;;
    3) set -- -crl_reason superseded ;; 4) set -- -crl_reason cessationOfOperation ;; *) set -- ;; esac
    run openssl ca -batch -config "$CNF" -name CA_issuing -revoke "certs/$serial.pem" "$@"
done
awk -v TODAY="$TODAY" -f "$W/lib.awk" -f /dev/stdin ca/issuing/index.txt >"$W/index.new" <<'EOF'
BEGIN { FS = OFS = "\t"; T = parse_iso(TODAY) }
$1 == "R" { k++; r = $3; sub(/^[^,]*/, "", r); $3 = utc_short(T - 3 - 9 * k, 36000) r }
{ print }
EOF
mv "$W/index.new" ca/issuing/index.txt
run openssl ca -batch -config "$CNF" -name CA_issuing -gencrl \
    -crl_lastupdate "$CRL_LAST" -crl_nextupdate "$CRL_NEXT" -out crl.pem
run openssl crl -in crl.pem -outform DER -out crl.der

# ---------------------------------------------------------------------------
# subscribers.pem (with a few lines of text before each block, which PEM
# readers must skip), manifest.csv, and the request forms.
# ---------------------------------------------------------------------------
awk -F '|' '{
    printf "# certificate %d: %s, %s\n# serial: %s\n# not after: %s\n", $1, $16, $17, $NF, $13
    f = "certs/" $NF ".pem"
    while ((getline line < f) > 0) print line
    close(f)
}' "$W/plan.txt" >subscribers.pem

cat >"$W/forms.awk" <<'EOF'
# Reads the plan with serials (fields as plan.awk prints them, serial last)
# and writes manifest.csv and the forms.
BEGIN {
    FS = "|"
    SEED = 19450902
    T = parse_iso(TODAY)
    init_tables()
    # most recent working day (Mon-Fri) on or before today
    R0 = T; while (dow(R0) == 0 || dow(R0) == 6) R0--
    while ((getline line < REVOKED) > 0) IS_REVOKED[line] = 1
    MCOLS = "serial,kind,subject_cn,subject_o,subject_ou,uid,email,email_in_dn,not_before,not_after,expiry_date,days_left,revoked,role,file"
    RCOLS = "request_id,form,full_name,id_number,id_issue_date,id_issue_place,position,agency,agency_code,org_name,org_address,budget_code,province,email,phone,old_serial,old_not_after,device_type,carrier,confirmed_by,received_date,note"
    ICOLS = "request_id,form,full_name,birth_date,id_number,id_issue_date,id_issue_place,position,agency,agency_code,province,email,phone,device_type,carrier,validity_months,confirmed_by,received_date,note"
    split("Mã hồ sơ|Mẫu|Họ và tên|Số định danh cá nhân|Ngày cấp|Nơi cấp|Chức vụ|Cơ quan, tổ chức quản lý trực tiếp|Mã định danh cơ quan|Tên cơ quan, tổ chức|Địa chỉ|Mã quan hệ ngân sách|Tỉnh/Thành phố|Địa chỉ thư điện tử công vụ|Số điện thoại di động|Serial CTS cũ|old_not_after|Loại thiết bị|Nhà mạng|Người xác nhận (thủ trưởng cơ quan)|Ngày tiếp nhận", VI_LABEL, "|")
    header(MANIFEST, MCOLS)
    header(RENEW, RCOLS)
    header(ISSUE, ICOLS)
    printf "\357\273\277" > RENEW_VI
    nrc = split(RCOLS, rc, ",")
    for (i = 1; i < nrc; i++) printf "%s%s", (i > 1 ? "," : ""), q(VI_LABEL[i]) > RENEW_VI
    printf "\r\n" > RENEW_VI
}
function header(file, cols) { print cols > file }
function emit(file, cols, eol,   c, i, k, s) {
    k = split(cols, c, ",")
    s = ""
    for (i = 1; i <= k; i++) s = s (i > 1 ? "," : "") q(V[c[i]])
    printf "%s%s", s, eol > file
}
function emit_vi(   c, i, k, s) {
    k = split(RCOLS, c, ",")
    s = ""
    for (i = 1; i < k; i++) s = s (i > 1 ? "," : "") q(V[c[i]])      # all but note
    printf "%s\r\n", s > RENEW_VI
}
function clear(   k) { for (k in V) delete V[k] }
# received k working days before the latest working day
function received(k,   z) {
    z = R0
    while (k > 0) { z--; if (dow(z) != 0 && dow(z) != 6) k-- }
    return z
}
{
    USED_ID[$23] = 1; USED_MAIL[$28] = 1
    clear()
    V["serial"] = $NF; V["kind"] = $2; V["subject_cn"] = $16; V["subject_o"] = $17; V["subject_ou"] = $18
    V["uid"] = $19; V["email"] = $4; V["email_in_dn"] = $20; V["not_before"] = $12; V["not_after"] = $13
    V["expiry_date"] = $14; V["days_left"] = $15; V["revoked"] = ($NF in IS_REVOKED) ? "yes" : "no"
    V["role"] = $7 == "-" ? "" : $7; V["file"] = "certs/" $NF ".pem"
    emit(MANIFEST, MCOLS, "\n")
    if ($7 == "r03" || $7 == "r04") { NGOOD++; GOOD[NGOOD] = $0 }
    else if ($7 ~ /^bad_/) { NBAD++; BAD[NBAD] = $0 }
}
END {
    # Renewal: the good rows, organisation rows among them, and the bad rows
    # spread through; the duplicate comes last.
    split("6 14 22 30", orgpos, " ")
    nrow = 0; o = 0; g = 0; b = 0
    for (i = 1; i <= NGOOD; i++) if (GOOD[i] ~ /\|r04\|/) ORGS[++no] = GOOD[i]; else PERS[++np] = GOOD[i]
    for (i = 1; i <= np; i++) {
        renew_row(PERS[i], "")
        if (i % 7 == 0 && o < no) renew_row(ORGS[++o], "")
        if (i % 8 == 4 && b < NBAD) renew_row(BAD[++b], "")
    }
    while (o < no) renew_row(ORGS[++o], "")
    while (b < NBAD) renew_row(BAD[++b], "")
    renew_row(PERS[4], "dup")
    issuance()
}
function renew_row(line, dup,   f, style, a, role, r) {
    split(line, f, "|")
    nrow++
    clear()
    role = f[7]; a = f[10] + 0
    style = nrow % 3 == 0 ? 0 : nrow % 7 == 2 ? 2 : 1
    r = received(nrow % 4)
    V["request_id"] = sprintf("LD-GH-%04d", nrow)
    V["form"] = role == "r04" ? "04" : "03"
    V["agency"] = role == "r03" || role == "r04" ? agency_variant(a) : AG[a]
    V["agency_code"] = (nrow % 2 == 0 || role == "r04") ? AG_CODE[a] : ""
    V["province"] = nrow % 5 == 1 ? "Tỉnh Lâm Đồng" : nrow % 11 == 3 ? "tỉnh Lâm Đồng" : nrow == 17 ? "LÂM ĐỒNG" : "Lâm Đồng"
    V["email"] = f[4]
    V["old_serial"] = f[NF]
    V["old_not_after"] = fdate(parse_iso(f[14]), style)
    V["device_type"] = nrow % 9 == 5 ? "SIM" : nrow % 13 == 8 ? "RSSP" : nrow % 6 == 2 ? "" : "TOKEN"
    if (V["device_type"] == "SIM") V["carrier"] = pick("Viettel;VinaPhone;MobiFone")
    V["confirmed_by"] = AG_HEAD[a]
    V["received_date"] = fdate(r, style)
    if (role == "r04") {
        V["org_name"] = AG[a]
        V["org_address"] = AG_ADDR[a]
        if (o == 2) sub(/, /, ",\n", V["org_address"])        # a cell with a line break
        V["budget_code"] = AG_BUDGET[a]
        if (V["device_type"] == "SIM" || V["device_type"] == "") V["device_type"] = "HSM"
        V["carrier"] = ""
    } else {
        V["full_name"] = f[16]
        V["id_number"] = f[23]
        V["id_issue_date"] = fdate(parse_iso(f[24]), style)
        V["id_issue_place"] = f[25]
        V["position"] = f[26]
        V["phone"] = nrow % 10 == 4 ? "+84" substr(f[27], 2) : f[27]
    }
    if (role == "bad_60") V["note"] = "fewer than 60 days of validity left on received_date (NĐ 130/2018 Điều 63)"
    if (role == "bad_id") { V["id_number"] = substr(f[23], 1, 11); V["note"] = "id_number has 11 digits, not 12" }
    if (role == "bad_email") { V["email"] = f[28] "@gmail.com"; V["note"] = "email is not on an official gov.vn domain" }
    if (role == "bad_confirm") { V["confirmed_by"] = ""; V["note"] = "confirmed_by is empty: the head of the agency did not confirm" }
    if (dup != "") {
        V["received_date"] = fdate(R0, style)
        V["note"] = "old_serial " f[NF] " already requested in this batch (" FIRST_ID[f[NF]] ")"
    } else
        FIRST_ID[f[NF]] = V["request_id"]
    emit(RENEW, RCOLS, "\n")
    if (V["note"] == "" && (nrow <= 7 || (role == "r04" && !VI04++))) emit_vi()   # 6 form 03, 1 form 04
}
# a few good rows spell the agency differently: case, title case, spaces, NFD
function agency_variant(a) {
    if (a == 3) { SEEN3++; if (SEEN3 == 1) return "SỞ TÀI CHÍNH"; if (SEEN3 == 2) return "Sở Tài Chính"; if (SEEN3 == 3) return " Sở Tài chính " }
    if (a == 4) { SEEN4++; if (SEEN4 == 2) return "Sở Y Tế" }
    if (a == 5) { SEEN5++; if (SEEN5 == 1) return "So\314\233\314\211 Gia\314\201o du\314\243c va\314\200 \304\220a\314\200o ta\314\243o" }
    if (a == 9) { SEEN9++; if (SEEN9 == 2) return "UBND Tỉnh Lâm Đồng" }
    return AG[a]
}
# Issuance (Form 01/02): 14 good rows, 6 bad ones.
function issuance(   i, a, r, style, y, k) {
    for (i = 1; i <= 20; i++) {
        clear()
        a = (i * 3) % NA + 1
        gen_person()
        r = received(i % 5)
        style = i % 3 == 0 ? 0 : i % 7 == 2 ? 2 : 1
        V["request_id"] = sprintf("LD-CM-%04d", i)
        V["form"] = i % 3 == 1 ? "02" : "01"
        V["full_name"] = P_name
        V["birth_date"] = fdate(P_birth, style)
        V["id_number"] = P_id
        V["id_issue_date"] = fdate(P_issue, style)
        V["id_issue_place"] = P_issue_place
        V["position"] = P_position
        V["agency"] = AG[a]
        V["agency_code"] = i % 2 ? AG_CODE[a] : ""
        V["province"] = i % 4 == 0 ? "Tỉnh Lâm Đồng" : "Lâm Đồng"
        V["email"] = P_email
        V["phone"] = i % 6 == 5 ? "84" substr(P_phone, 2) : P_phone
        V["device_type"] = i % 5 == 2 ? "SIM" : i % 7 == 3 ? "SOFT" : "TOKEN"
        if (V["device_type"] == "SIM") V["carrier"] = pick("Viettel;VinaPhone;MobiFone")
        V["validity_months"] = i % 4 == 1 ? "36" : i % 4 == 2 ? "60" : ""
        V["confirmed_by"] = AG_HEAD[a]
        V["received_date"] = fdate(r, style)
        if (i == 9) {                       # passport instead of CCCD
            V["id_number"] = "C" sprintf("%07d", rnd(10000000))
            V["id_issue_place"] = "Cục Quản lý xuất nhập cảnh"
        }
        if (i == 4) for (k in V) FIRST[k] = V[k]
        if (i == 5) {
            cfd(r); P_birth = dfc(CY - 17, CM, CD > 28 ? 28 : CD) + 40
            cfd(P_birth); y = CY
            V["birth_date"] = fdate(P_birth, style)
            V["id_number"] = substr(P_id, 1, 3) ((y >= 2000 ? 2 : 0) + P_sex) sprintf("%02d", y % 100) substr(P_id, 7)
            V["id_issue_date"] = fdate(P_birth + 14 * 366, style)
            V["note"] = "the person is under 18 on received_date"
        }
        if (i == 8) {
            cfd(P_birth)
            V["id_number"] = substr(P_id, 1, 4) sprintf("%02d", (CY + 3) % 100) substr(P_id, 7)
            V["note"] = "id_number birth-year digits do not match birth_date"
        }
        if (i == 11) { V["phone"] = "0263382" sprintf("%04d", rnd(10000)); V["note"] = "phone is a landline, not a mobile number" }
        if (i == 14) { V["validity_months"] = "72"; V["note"] = "validity_months over 60: a new certificate is valid 5 years at most (NĐ 68/2024)" }
        if (i == 16) { V["birth_date"] = style == 0 ? "1988-02-30" : "30/02/1988"; V["note"] = "birth_date is not a real date" }
        if (i == 19) {
            for (k in FIRST) if (k != "request_id" && k != "received_date" && k != "form") V[k] = FIRST[k]
            V["note"] = "the same person (id_number) already has a request in this batch (" FIRST["request_id"] ")"
        }
        emit(ISSUE, ICOLS, "\n")
    }
}
EOF
awk -v TODAY="$TODAY" -v REVOKED=revoked.txt -v MANIFEST=manifest.csv -v RENEW=forms/renewal.csv \
    -v RENEW_VI=forms/renewal-vi.csv -v ISSUE=forms/issuance.csv \
    -f "$W/lib.awk" -f "$W/forms.awk" "$W/plan.txt"

# The province's agency registry (validate-form --agencies): each agency's
# electronic identifier, official name, another name it goes by, mailbox and
# parent (the provincial People's Committee, for the departments).
awk -f "$W/lib.awk" -f /dev/stdin >agencies.csv <<'EOF'
BEGIN {
    init_tables()
    print "agency_code,name,aliases,email,province,parent_code"
    for (i = 1; i <= NA; i++) {
        alias = AG[i] ~ /Lâm Đồng|Đà Lạt/ ? "" : AG[i] ~ / tỉnh$/ ? AG[i] " Lâm Đồng" : AG[i] " tỉnh Lâm Đồng"
        parent = AG_CODE[i] == "000.00.00.H41" || AG_CODE[i] == "" ? "" : "000.00.00.H41"
        print q(AG_CODE[i]) "," q(AG[i]) "," q(alias) "," AG_MAIL[i] "@lamdong.gov.vn,Lâm Đồng," parent
    }
}
EOF

# ---------------------------------------------------------------------------
# Check the result with openssl itself before declaring success.
# ---------------------------------------------------------------------------
ATTIME=$(awk -v TODAY="$TODAY" -f "$W/lib.awk" -f /dev/stdin <<'EOF'
BEGIN { printf "%.0f\n", parse_iso(TODAY) * 86400 + 5 * 3600 }    # noon in Vietnam
EOF
)
run openssl verify -attime "$ATTIME" -CAfile root-ca.pem issuing-ca.pem
run openssl crl -in crl.pem -noout -CAfile ca-chain.pem
# every certificate valid today verifies, in one openssl run
awk -F "|" '$15 >= 1 && $9 == 0 { print "certs/" $NF ".pem" }' "$W/plan.txt" >"$W/valid.txt"
run openssl verify -attime "$ATTIME" -CAfile root-ca.pem -untrusted issuing-ca.pem $(cat "$W/valid.txt")
nvalid=$(wc -l <"$W/valid.txt")
# and a revoked one fails against the CRL, for being revoked
first_revoked=$(sed -n 1p revoked.txt)
vout=$(openssl verify -attime "$ATTIME" -crl_check -CRLfile crl.pem -CAfile root-ca.pem \
    -untrusted issuing-ca.pem "certs/$first_revoked.pem" 2>&1 || true)
case $vout in
*"certificate revoked"*) ;;
*) die 70 "revoked certificate $first_revoked does not fail the CRL check as revoked: $vout" ;;
esac
nrev=$(wc -l <revoked.txt)
[ "$nrev" -eq 5 ] || die 70 "expected 5 revoked certificates, got $nrev"

# The office's own signing certificate and key (it signs the proposal lists
# it sends up): the sample organisation certificate that runs longest.
office=$(awk -F, 'NR > 1 && $2 == "organization" && $13 == "no" && $12 > best { best = $12; s = $1 }
                  END { print s }' manifest.csv)
[ -n "$office" ] || die 70 "no organisation certificate to sign the office's lists with"
cp "certs/$office.pem" office-signer.pem
install -m 0600 "keys/$office.key" office-signer.key

echo "$TODAY" >as-of.txt
rm -rf "$W"
: >.done        # what tests/cli/lib.sh looks for (make touches it too)
end_s=$(date +%s)
echo "$prog: $ncerts certificates ($nvalid valid today, $nrev revoked) and forms in $OUT, as of $TODAY ($((end_s - start_s)) s)" >&2
