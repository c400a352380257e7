/* Unit tests for lib/provinces: the C table must be lib/data/provinces.csv
 * row for row (the file is the reference, copied from the Nghị quyết
 * 202/2025/QH15 mapping), there must be 34 current units, and the names a
 * clerk writes, old or new, in any case or encoding, must map to the unit
 * the law says. Run from the repository root, as prove does. */
#include "provinces.h"
#include "tap.h"

#include <stdlib.h>

#define CSV_PATH "lib/data/provinces.csv"

static void match_is(const char *name, const char *want)
{
    is_str(cb_province_match(name), want, "match: \"%s\"", name);
}

static void test_table_equals_csv(void)
{
    FILE *f = fopen(CSV_PATH, "r");
    ok(f != NULL, "%s opens (run from the repository root)", CSV_PATH);
    if (f == NULL)
        return;
    char line[512];
    ok(fgets(line, sizeof line, f) && strcmp(line, "old_code,old_name,new_code,new_name\n") == 0,
       "csv: header");
    size_t row = 0, mismatches = 0, quoted = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strchr(line, '"'))
            quoted++; /* the split below would be wrong */
        const char *field[4] = {0};
        char *save = NULL, *p = line;
        for (int i = 0; i < 4; i++, p = NULL)
            field[i] = strtok_r(p, ",", &save);
        const cb_province *c = cb_province_at(row);
        if (c == NULL || !field[3] || strcmp(c->old_code, field[0]) || strcmp(c->old_name, field[1]) ||
            strcmp(c->new_code, field[2]) || strcmp(c->new_name, field[3])) {
            mismatches++;
            printf("#   row %zu differs: %s\n", row + 1, line);
        }
        row++;
    }
    fclose(f);
    is_int(quoted, 0, "csv: no quoted fields");
    is_int(row, 63, "csv: 63 former units");
    is_int(cb_province_count(), row, "table: as many rows as the csv");
    is_int(mismatches, 0, "table: every row equals the csv");
    ok(cb_province_at(cb_province_count()) == NULL, "table: past the end is NULL");
}

static void test_counts(void)
{
    size_t n = cb_province_count(), distinct = 0, dup_codes = 0;
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cb_province_at(i)->new_name, cb_province_at(j)->new_name) == 0)
                seen = 1;
            if (strcmp(cb_province_at(i)->old_code, cb_province_at(j)->old_code) == 0)
                dup_codes++;
        }
        distinct += !seen;
    }
    is_int(distinct, 34, "34 current provincial-level units");
    is_int(dup_codes, 0, "former codes are unique");
    int in_order = 1;
    for (size_t i = 1; i < n; i++)
        in_order &= strcmp(cb_province_at(i - 1)->old_code, cb_province_at(i)->old_code) < 0;
    ok(in_order, "the table is in the order of the former codes (looked up by halves)");
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        const char *c = cb_province_at(i)->old_code;
        const char *name = cb_cccd_province_name((c[0] - '0') * 10 + (c[1] - '0'));
        found += name != NULL && strcmp(name, cb_province_at(i)->old_name) == 0;
    }
    is_int(found, (int)n, "every former code is found, with its own name");

    int valid = 0;
    for (int code = -1; code < 1000; code++)
        valid += cb_cccd_province_valid(code);
    is_int(valid, 63, "63 CCCD province codes");
    ok(cb_cccd_province_valid(1), "CCCD code 001 (Hà Nội)");
    ok(cb_cccd_province_valid(2), "CCCD code 002 (Hà Giang)");
    ok(cb_cccd_province_valid(68), "CCCD code 068 (Lâm Đồng)");
    ok(cb_cccd_province_valid(96), "CCCD code 096 (Cà Mau)");
    ok(!cb_cccd_province_valid(0), "CCCD code 000");
    ok(!cb_cccd_province_valid(3), "CCCD code 003");
    ok(!cb_cccd_province_valid(97), "CCCD code 097");
    is_str(cb_cccd_province_name(68), "Lâm Đồng", "code 68 is Lâm Đồng");
    is_str(cb_cccd_province_name(60), "Bình Thuận", "code 60 is Bình Thuận");
    ok(cb_cccd_province_name(97) == NULL, "code 97 has no name");
}

static void test_match(void)
{
    match_is("Bình Thuận", "Lâm Đồng");
    match_is("Đắk Nông", "Lâm Đồng");
    match_is("Tỉnh Lâm Đồng", "Lâm Đồng");
    match_is("Lâm Đồng", "Lâm Đồng");
    match_is("LÂM ĐỒNG", "Lâm Đồng");
    match_is("  lâm   đồng ", "Lâm Đồng");
    match_is("La\xCC\x82m \xC4\x90o\xCC\x82\xCC\x80ng", "Lâm Đồng");
    match_is("tỉnh Bình Thuận", "Lâm Đồng");
    match_is("tp. hồ chí minh", "Hồ Chí Minh");
    match_is("Thành phố Hồ Chí Minh", "Hồ Chí Minh");
    match_is("TP Hồ Chí Minh", "Hồ Chí Minh");
    match_is("TP.HCM", "Hồ Chí Minh");
    match_is("TPHCM", "Hồ Chí Minh");
    match_is("Bình Dương", "Hồ Chí Minh");
    match_is("Bà Rịa - Vũng Tàu", "Hồ Chí Minh");
    match_is("Bà Rịa-Vũng Tàu", "Hồ Chí Minh");
    match_is("Bà Rịa – Vũng Tàu", "Hồ Chí Minh");
    match_is("Thừa Thiên Huế", "Huế");
    match_is("Thừa Thiên - Huế", "Huế");
    match_is("Thành phố Huế", "Huế");
    match_is("Thanh Hoá", "Thanh Hóa");
    match_is("Khánh Hoà", "Khánh Hòa");
    match_is("Hoà Bình", "Phú Thọ");
    match_is("Hà Giang", "Tuyên Quang");
    match_is("Kon Tum", "Quảng Ngãi");
    match_is("Quảng Nam", "Đà Nẵng");
    match_is("Bạc Liêu", "Cà Mau");
    match_is("Đắc Lắc", "Đắk Lắk");
    match_is("Phú Yên", "Đắk Lắk");
    match_is("Hà Tây", NULL);
    match_is("Atlantis", NULL);
    match_is("Lam Dong", NULL);
    match_is("Tỉnh", NULL);
    match_is("", NULL);
    match_is("Lâm\xFF", NULL);
    ok(cb_province_match(NULL) == NULL, "match: NULL");

    /* Every former and current name, bare and with its prefix. */
    size_t bad = 0;
    char buf[128];
    for (size_t i = 0; i < cb_province_count(); i++) {
        const cb_province *p = cb_province_at(i);
        const char *names[] = {p->old_name, p->new_name};
        for (int k = 0; k < 2; k++) {
            const char *m1 = cb_province_match(names[k]);
            snprintf(buf, sizeof buf, "Tỉnh %s", names[k]);
            const char *m2 = cb_province_match(buf);
            snprintf(buf, sizeof buf, "Thành phố %s", names[k]);
            const char *m3 = cb_province_match(buf);
            if (!m1 || !m2 || !m3 || strcmp(m1, p->new_name) || strcmp(m2, p->new_name) ||
                strcmp(m3, p->new_name)) {
                bad++;
                printf("#   %s does not map to %s\n", names[k], p->new_name);
            }
        }
    }
    is_int(bad, 0, "match: every name in the table maps to its current unit");
}

int main(void)
{
    test_table_equals_csv();
    test_counts();
    test_match();
    return done_testing();
}
