/* The province table and the lookups on it: see provinces.h. The rows are
 * lib/data/provinces.csv as C (test_provinces compares them line by line);
 * `names` is every name a clerk may write, as its matching key (cb_text_key
 * with dashes read as spaces), sorted by bytes for a binary search, since
 * validate-form looks a province up on every row. */
#include "provinces.h"
#include "vntext.h"

#include <stdlib.h>
#include <string.h>

struct name_key {
    const char *key;
    const char *current;
};

static const cb_province rows[] = {
    {"01", "Hà Nội", "01", "Hà Nội"},
    {"02", "Hà Giang", "08", "Tuyên Quang"},
    {"04", "Cao Bằng", "04", "Cao Bằng"},
    {"06", "Bắc Kạn", "19", "Thái Nguyên"},
    {"08", "Tuyên Quang", "08", "Tuyên Quang"},
    {"10", "Lào Cai", "15", "Lào Cai"},
    {"11", "Điện Biên", "11", "Điện Biên"},
    {"12", "Lai Châu", "12", "Lai Châu"},
    {"14", "Sơn La", "14", "Sơn La"},
    {"15", "Yên Bái", "15", "Lào Cai"},
    {"17", "Hòa Bình", "25", "Phú Thọ"},
    {"19", "Thái Nguyên", "19", "Thái Nguyên"},
    {"20", "Lạng Sơn", "20", "Lạng Sơn"},
    {"22", "Quảng Ninh", "22", "Quảng Ninh"},
    {"24", "Bắc Giang", "24", "Bắc Ninh"},
    {"25", "Phú Thọ", "25", "Phú Thọ"},
    {"26", "Vĩnh Phúc", "25", "Phú Thọ"},
    {"27", "Bắc Ninh", "24", "Bắc Ninh"},
    {"30", "Hải Dương", "31", "Hải Phòng"},
    {"31", "Hải Phòng", "31", "Hải Phòng"},
    {"33", "Hưng Yên", "33", "Hưng Yên"},
    {"34", "Thái Bình", "33", "Hưng Yên"},
    {"35", "Hà Nam", "37", "Ninh Bình"},
    {"36", "Nam Định", "37", "Ninh Bình"},
    {"37", "Ninh Bình", "37", "Ninh Bình"},
    {"38", "Thanh Hóa", "38", "Thanh Hóa"},
    {"40", "Nghệ An", "40", "Nghệ An"},
    {"42", "Hà Tĩnh", "42", "Hà Tĩnh"},
    {"44", "Quảng Bình", "44", "Quảng Trị"},
    {"45", "Quảng Trị", "44", "Quảng Trị"},
    {"46", "Thừa Thiên Huế", "46", "Huế"},
    {"48", "Đà Nẵng", "48", "Đà Nẵng"},
    {"49", "Quảng Nam", "48", "Đà Nẵng"},
    {"51", "Quảng Ngãi", "51", "Quảng Ngãi"},
    {"52", "Bình Định", "52", "Gia Lai"},
    {"54", "Phú Yên", "66", "Đắk Lắk"},
    {"56", "Khánh Hòa", "56", "Khánh Hòa"},
    {"58", "Ninh Thuận", "56", "Khánh Hòa"},
    {"60", "Bình Thuận", "68", "Lâm Đồng"},
    {"62", "Kon Tum", "51", "Quảng Ngãi"},
    {"64", "Gia Lai", "52", "Gia Lai"},
    {"66", "Đắk Lắk", "66", "Đắk Lắk"},
    {"67", "Đắk Nông", "68", "Lâm Đồng"},
    {"68", "Lâm Đồng", "68", "Lâm Đồng"},
    {"70", "Bình Phước", "75", "Đồng Nai"},
    {"72", "Tây Ninh", "80", "Tây Ninh"},
    {"74", "Bình Dương", "79", "Hồ Chí Minh"},
    {"75", "Đồng Nai", "75", "Đồng Nai"},
    {"77", "Bà Rịa - Vũng Tàu", "79", "Hồ Chí Minh"},
    {"79", "Hồ Chí Minh", "79", "Hồ Chí Minh"},
    {"80", "Long An", "80", "Tây Ninh"},
    {"82", "Tiền Giang", "82", "Đồng Tháp"},
    {"83", "Bến Tre", "86", "Vĩnh Long"},
    {"84", "Trà Vinh", "86", "Vĩnh Long"},
    {"86", "Vĩnh Long", "86", "Vĩnh Long"},
    {"87", "Đồng Tháp", "82", "Đồng Tháp"},
    {"89", "An Giang", "91", "An Giang"},
    {"91", "Kiên Giang", "91", "An Giang"},
    {"92", "Cần Thơ", "92", "Cần Thơ"},
    {"93", "Hậu Giang", "92", "Cần Thơ"},
    {"94", "Sóc Trăng", "92", "Cần Thơ"},
    {"95", "Bạc Liêu", "96", "Cà Mau"},
    {"96", "Cà Mau", "96", "Cà Mau"},
};
static const struct name_key names[] = {
    {"an giang", "An Giang"},
    {"bà rịa vũng tàu", "Hồ Chí Minh"},
    {"bình dương", "Hồ Chí Minh"},
    {"bình phước", "Đồng Nai"},
    {"bình thuận", "Lâm Đồng"},
    {"bình định", "Gia Lai"},
    {"bạc liêu", "Cà Mau"},
    {"bắc giang", "Bắc Ninh"},
    {"bắc kạn", "Thái Nguyên"},
    {"bắc ninh", "Bắc Ninh"},
    {"bến tre", "Vĩnh Long"},
    {"cao bằng", "Cao Bằng"},
    {"cà mau", "Cà Mau"},
    {"cần thơ", "Cần Thơ"},
    {"gia lai", "Gia Lai"},
    {"hcm", "Hồ Chí Minh"},
    {"huế", "Huế"},
    {"hà giang", "Tuyên Quang"},
    {"hà nam", "Ninh Bình"},
    {"hà nội", "Hà Nội"},
    {"hà tĩnh", "Hà Tĩnh"},
    {"hòa bình", "Phú Thọ"},
    {"hưng yên", "Hưng Yên"},
    {"hải dương", "Hải Phòng"},
    {"hải phòng", "Hải Phòng"},
    {"hậu giang", "Cần Thơ"},
    {"hồ chí minh", "Hồ Chí Minh"},
    {"khánh hòa", "Khánh Hòa"},
    {"kiên giang", "An Giang"},
    {"kon tum", "Quảng Ngãi"},
    {"lai châu", "Lai Châu"},
    {"long an", "Tây Ninh"},
    {"lào cai", "Lào Cai"},
    {"lâm đồng", "Lâm Đồng"},
    {"lạng sơn", "Lạng Sơn"},
    {"nam định", "Ninh Bình"},
    {"nghệ an", "Nghệ An"},
    {"ninh bình", "Ninh Bình"},
    {"ninh thuận", "Khánh Hòa"},
    {"phú thọ", "Phú Thọ"},
    {"phú yên", "Đắk Lắk"},
    {"quảng bình", "Quảng Trị"},
    {"quảng nam", "Đà Nẵng"},
    {"quảng ngãi", "Quảng Ngãi"},
    {"quảng ninh", "Quảng Ninh"},
    {"quảng trị", "Quảng Trị"},
    {"sóc trăng", "Cần Thơ"},
    {"sơn la", "Sơn La"},
    {"thanh hóa", "Thanh Hóa"},
    {"thái bình", "Hưng Yên"},
    {"thái nguyên", "Thái Nguyên"},
    {"thừa thiên huế", "Huế"},
    {"tiền giang", "Đồng Tháp"},
    {"tphcm", "Hồ Chí Minh"},
    {"trà vinh", "Vĩnh Long"},
    {"tuyên quang", "Tuyên Quang"},
    {"tây ninh", "Tây Ninh"},
    {"vĩnh long", "Vĩnh Long"},
    {"vĩnh phúc", "Phú Thọ"},
    {"yên bái", "Lào Cai"},
    {"điện biên", "Điện Biên"},
    {"đà nẵng", "Đà Nẵng"},
    {"đăk lăk", "Đắk Lắk"},
    {"đăk nông", "Lâm Đồng"},
    {"đắc lắc", "Đắk Lắk"},
    {"đắc nông", "Lâm Đồng"},
    {"đắk lắk", "Đắk Lắk"},
    {"đắk nông", "Lâm Đồng"},
    {"đồng nai", "Đồng Nai"},
    {"đồng tháp", "Đồng Tháp"},
};

size_t cb_province_count(void)
{
    return sizeof rows / sizeof rows[0];
}

const cb_province *cb_province_at(size_t i)
{
    return i < cb_province_count() ? &rows[i] : NULL;
}

static int is_dash_at(const char *p, size_t *len)
{
    const unsigned char *u = (const unsigned char *)p;
    if (u[0] == '-') {
        *len = 1;
        return 1;
    }
    /* U+2010..U+2015 (hyphens, en and em dash) and U+2212 (minus). */
    if (u[0] == 0xE2 && ((u[1] == 0x80 && u[2] >= 0x90 && u[2] <= 0x95) ||
                         (u[1] == 0x88 && u[2] == 0x92))) {
        *len = 3;
        return 1;
    }
    return 0;
}

/* "Bà Rịa - Vũng Tàu", "Bà Rịa-Vũng Tàu" and "Bà Rịa – Vũng Tàu" are all
 * written, so a dash and the spaces around it count as one space. */
static void dashes_to_space(char *s)
{
    char *w = s;
    for (const char *r = s; *r;) {
        size_t n;
        if (is_dash_at(r, &n)) {
            while (w > s && w[-1] == ' ')
                w--;
            r += n;
            while (*r == ' ')
                r++;
            if (w > s && *r)
                *w++ = ' ';
            continue;
        }
        *w++ = *r++;
    }
    *w = '\0';
}

static int compare_key(const void *k, const void *e)
{
    return strcmp(k, ((const struct name_key *)e)->key);
}

const char *cb_province_match(const char *name)
{
    static const char *const prefixes[] = {"tỉnh ", "thành phố ", "tp. ", "tp.", "tp "};
    if (name == NULL)
        return NULL;
    char *key = cb_text_key(name);
    if (key == NULL)
        return NULL;
    dashes_to_space(key);
    const char *k = key;
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(k, prefixes[i], n) == 0) {
            k += n;
            while (*k == ' ')
                k++;
            break;
        }
    }
    const struct name_key *hit =
        bsearch(k, names, sizeof names / sizeof names[0], sizeof names[0], compare_key);
    free(key);
    return hit ? hit->current : NULL;
}

/* A binary search of rows, which are in code order (test_provinces checks
 * it): validate-form asks for the code of every row's CCCD. */
static const cb_province *by_code(int code)
{
    if (code < 1 || code > 99)
        return NULL;
    size_t lo = 0, hi = cb_province_count();
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *c = rows[mid].old_code;
        int at = (c[0] - '0') * 10 + (c[1] - '0');
        if (at == code)
            return &rows[mid];
        if (at < code)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int cb_cccd_province_valid(int code)
{
    return by_code(code) != NULL;
}

const char *cb_cccd_province_name(int code)
{
    const cb_province *p = by_code(code);
    return p ? p->old_name : NULL;
}
