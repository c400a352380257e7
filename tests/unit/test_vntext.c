/* Unit tests for lib/vntext: cleaning, comparison keys, agency keys, file
 * name slugs. Every expected value is written by
 * hand from the Vietnamese spelling rules and FORMS.md; utf8proc serves as
 * the oracle only for the claim that the fast path's characters are NFC. */
#include "vntext.h"
#include "tap.h"

#include <errno.h>
#include <stdlib.h>
#include <utf8proc.h>

/* NFD spellings, escaped so no editor can normalise them. */
#define NFD_SO_TAI_CHINH "So\xCC\x9B\xCC\x89 Ta\xCC\x80i chi\xCC\x81nh"
#define NFD_LAM_DONG "La\xCC\x82m \xC4\x90o\xCC\x82\xCC\x80ng"

static void clean_is(const char *in, const char *want, const char *name)
{
    char *got = cb_text_clean(in);
    is_str(got, want, "clean: %s", name);
    free(got);
}

static void key_is(const char *in, const char *want, const char *name)
{
    char *got = cb_text_key(in);
    is_str(got, want, "key: %s", name);
    free(got);
}

static void agency_is(const char *in, const char *want, const char *name)
{
    char *got = cb_agency_key(in);
    is_str(got, want, "agency key: %s", name);
    free(got);
}

static void agency_same(const char *a, const char *b)
{
    char *ka = cb_agency_key(a), *kb = cb_agency_key(b);
    is_str(ka, kb, "agency key: \"%s\" == \"%s\"", a, b);
    free(ka);
    free(kb);
}

static void slug_is(const char *in, size_t max, const char *want, const char *name)
{
    char *got = cb_slug(in, max);
    is_str(got, want, "slug: %s", name);
    free(got);
}

static void test_utf8(void)
{
    ok(cb_utf8_valid("", 0), "utf8: empty is valid");
    ok(cb_utf8_valid("Sở Tài chính", strlen("Sở Tài chính")), "utf8: Vietnamese is valid");
    ok(cb_utf8_valid("a\0b", 3), "utf8: a NUL byte is valid");
    ok(!cb_utf8_valid("\xC3\x28", 2), "utf8: bad continuation byte");
    ok(!cb_utf8_valid("\xC0\xAF", 2), "utf8: overlong '/'");
    ok(!cb_utf8_valid("\xE0\x80\xAF", 3), "utf8: overlong 3-byte '/'");
    ok(!cb_utf8_valid("\xED\xA0\x80", 3), "utf8: UTF-16 surrogate");
    ok(!cb_utf8_valid("\xF4\x90\x80\x80", 4), "utf8: above U+10FFFF");
    ok(!cb_utf8_valid("S\xE1\xBB", 3), "utf8: truncated sequence at the end");
    ok(!cb_utf8_valid("\xFF", 1), "utf8: 0xFF byte");
    ok(cb_utf8_valid("\xF0\x9F\x98\x80", 4), "utf8: 4-byte emoji is valid");
    is_int(cb_utf8_valid_prefix("ab\xFF" "cd", 5), 2, "utf8: prefix stops at the bad byte");
    char longbuf[120];
    memset(longbuf, 'x', sizeof longbuf);
    longbuf[100] = (char)0x80;
    is_int(cb_utf8_valid_prefix(longbuf, sizeof longbuf), 100,
           "utf8: bad byte after a long ASCII run is found");
}

static void test_clean(void)
{
    clean_is("  Nguyễn   Văn  A  ", "Nguyễn Văn A", "trims and collapses spaces");
    clean_is("\xC2\xA0Sở Tài chính\xC2\xA0", "Sở Tài chính", "trims NBSP");
    clean_is("Sở\xC2\xA0\xC2\xA0Tài chính", "Sở Tài chính", "inner NBSP run is one space");
    clean_is("a\t\r\nb", "a b", "tab and CRLF inside are one space");
    clean_is("a\xE2\x80\x83\xE3\x80\x80" "b", "a b", "em space and ideographic space");
    clean_is("\xEF\xBB\xBFHà Nội", "Hà Nội", "BOM dropped");
    clean_is("Hà\xE2\x80\x8B Nội", "Hà Nội", "zero-width space dropped");
    clean_is(NFD_SO_TAI_CHINH, "Sở Tài chính", "NFD becomes NFC");
    clean_is("  " NFD_LAM_DONG " ", "Lâm Đồng", "NFD with spaces");
    clean_is("", "", "empty stays empty");
    clean_is(" \t ", "", "only spaces is empty");
    clean_is("ABC def", "ABC def", "case is kept");
    clean_is("Đắk Lắk", "Đắk Lắk", "NFC input unchanged");
    errno = 0;
    char *bad = cb_text_clean("a\xFF");
    ok(bad == NULL && errno == EILSEQ, "clean: not UTF-8 gives NULL and EILSEQ");
    free(bad);
    errno = 0;
    ok(cb_text_clean(NULL) == NULL && errno == EINVAL, "clean: NULL gives NULL and EINVAL");

    /* The fast path returns these characters without NFC: utf8proc must
     * agree that each is NFC on its own (pairs were checked once with
     * Python's unicodedata; none composes with another in the class). */
    int bad_cp = -1;
    for (int32_t c = 1; c < 0x1F00 && bad_cp < 0; c++) {
        if (!(c < 0x300 || c >= 0x1E00))
            continue;
        utf8proc_uint8_t in[8];
        utf8proc_ssize_t n = utf8proc_encode_char(c, in);
        in[n] = 0;
        utf8proc_uint8_t *nfc = utf8proc_NFC(in);
        if (nfc == NULL || strcmp((char *)nfc, (char *)in) != 0)
            bad_cp = c;
        free(nfc);
    }
    is_int(bad_cp, -1, "clean: every fast-path character is NFC per utf8proc");
}

static void test_key(void)
{
    key_is("Sở Tài chính", "sở tài chính", "NFC");
    key_is("SỞ TÀI CHÍNH", "sở tài chính", "upper case");
    key_is(NFD_SO_TAI_CHINH, "sở tài chính", "NFD");
    key_is("  sở  Tài   CHÍNH ", "sở tài chính", "spaces and mixed case");
    key_is("ABC  Def", "abc def", "ASCII");
    key_is("Đắk Lắk", "đắk lắk", "đ folds");

    key_is("Uỷ ban", "ủy ban", "Uỷ (new placement)");
    key_is("Ủy ban", "ủy ban", "Ủy (old placement)");
    key_is("hoà", "hòa", "hoà");
    key_is("Hòa", "hòa", "Hòa");
    key_is("thuỷ", "thủy", "thuỷ");
    key_is("thủy", "thủy", "thủy");
    key_is("khoẻ", "khỏe", "khoẻ");
    key_is("oá", "óa", "oá");
    key_is("uý", "úy", "uý");
    key_is("Thanh Hoá", "thanh hóa", "Thanh Hoá");
    key_is("Hoàng", "hoàng", "closed syllable keeps the tone on a");
    key_is("Hòang", "hoàng", "misplaced tone in a closed syllable");
    key_is("người", "người", "ươ takes the tone on ơ");
    key_is("ngừơi", "người", "tone typed on ư of ươ");
    key_is("quý", "quý", "qu: the u is a consonant");
    key_is("qúy", "quý", "tone typed on the u of qu");
    key_is("gìa", "già", "tone typed on the i of gi");
    key_is("gìn", "gìn", "gi without another vowel keeps it");
    key_is("ngoài", "ngoài", "three vowels: the middle one");
    key_is("ngòai", "ngoài", "three vowels, tone typed on the first");
    key_is("khuỷu", "khuỷu", "khuỷu");
    key_is("Nguyễn", "nguyễn", "uyê takes the tone on ê");
    key_is("mùa", "mùa", "ua keeps the tone on u");
    key_is("the\xCC\x81\xCC\x82", "thế", "tone typed before the circumflex");
    key_is("ha\xCC\x80\xCC\x81", "h\xC3\xA0\xCC\x81", "two tones: left alone");
    key_is("café", "café", "foreign word left alone");
    key_is("Muñoz", "muñoz", "tilde on a consonant left alone");

    key_is("Qũy", "quỹ", "tone moved to a letter whose NFC form is longer");
    key_is("Nguyễnvănthịánhtuyết", "nguyễnvănthịánhtuyết", "long run of letters left alone");

    /* NFC Vietnamese takes a table-driven path, anything else utf8proc:
     * the NFD spelling (utf8proc's, the oracle) must give the same key. */
    int differ = 0;
    for (int32_t c = 0xC0; c < 0x1EFA; c++) {
        if (c == 0x1B1)
            c = 0x1EA0;
        utf8proc_uint8_t in[8];
        in[utf8proc_encode_char(c, in)] = 0;
        utf8proc_uint8_t *nfd = utf8proc_NFD(in);
        char *k1 = cb_text_key((char *)in), *k2 = cb_text_key((char *)nfd);
        if (!k1 || !k2 || strcmp(k1, k2) != 0) {
            differ++;
            printf("#   U+%04X: '%s' vs NFD '%s'\n", (unsigned)c, k1 ? k1 : "(null)",
                   k2 ? k2 : "(null)");
        }
        free(nfd);
        free(k1);
        free(k2);
    }
    is_int(differ, 0, "key: every Latin letter's key is the key of its NFD");
    static const char *const words[] = {
        "Uỷ ban nhân dân", "Thanh Hoá", "Hòa Bình", "THUỶ LỢI", "khoẻ mạnh", "Khuỷu tay",
        "Người được nhận", "Quỳnh Giao", "Gìa", "Nguyễn Thị Ánh Tuyết", "Bùi Thị Xuân",
        "ĐẶNG VĂN NGỌC", "Trương Ngọc Ánh", "Phạm Nhật Vượng", "Qũy", "Dương Quá",
    };
    differ = 0;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        utf8proc_uint8_t *nfd = utf8proc_NFD((const utf8proc_uint8_t *)words[i]);
        char *k1 = cb_text_key(words[i]), *k2 = cb_text_key((char *)nfd);
        if (!k1 || !k2 || strcmp(k1, k2) != 0) {
            differ++;
            printf("#   '%s': '%s' vs NFD '%s'\n", words[i], k1 ? k1 : "(null)", k2 ? k2 : "(null)");
        }
        free(nfd);
        free(k1);
        free(k2);
    }
    is_int(differ, 0, "key: names give the same key in NFC and NFD");

    char *a = cb_text_key("Hoa"), *b = cb_text_key("Hòa");
    ok(a && b && strcmp(a, b) != 0, "key: accents still matter (Hoa != Hòa)");
    free(a);
    free(b);
    errno = 0;
    char *bad = cb_text_key("\xC3");
    ok(bad == NULL && errno == EILSEQ, "key: not UTF-8 gives NULL and EILSEQ");
    free(bad);
}

static void test_agency_key(void)
{
    agency_is("UBND tỉnh Lâm Đồng", "ủy ban nhân dân tỉnh lâm đồng", "UBND");
    agency_is("Ủy ban nhân dân tỉnh Lâm Đồng", "ủy ban nhân dân tỉnh lâm đồng", "full name");
    agency_is("Uỷ ban Nhân dân Tỉnh Lâm Đồng", "ủy ban nhân dân tỉnh lâm đồng", "Uỷ, capitals");
    agency_is("HĐND TP. Hồ Chí Minh", "hội đồng nhân dân thành phố hồ chí minh", "HĐND TP.");
    agency_same("HĐND TP. Hồ Chí Minh", "Hội đồng nhân dân Thành phố Hồ Chí Minh");
    agency_same("HĐND TP. Hồ Chí Minh", "HĐND Tp Hồ Chí Minh");
    agency_same("HĐND TP. Hồ Chí Minh", "HĐND TP.HCM");
    agency_same("HĐND TP. Hồ Chí Minh", "HĐND TPHCM");
    agency_same("HĐND TP. Hồ Chí Minh", "HĐND TP HCM");
    agency_is("Sở GD&ĐT tỉnh Gia Lai", "sở giáo dục và đào tạo tỉnh gia lai", "GD&ĐT");
    agency_same("Sở GD&ĐT tỉnh Gia Lai", "Sở GD-ĐT tỉnh Gia Lai");
    agency_same("Sở GD&ĐT tỉnh Gia Lai", "Sở GDĐT tỉnh Gia Lai");
    agency_is("Sở LĐ-TB&XH", "sở lao động-thương binh và xã hội", "LĐ-TB&XH");
    agency_same("Sở LĐ-TB&XH", "Sở Lao động - Thương binh và Xã hội");
    agency_same("Sở LĐ-TB&XH", "Sở Lao động–Thương binh và Xã hội");
    agency_same("Sở LĐ-TB&XH", "SỞ LĐTBXH");
    agency_is("UBNDX", "ubndx", "no expansion inside a word");
    agency_is("Tpa", "tpa", "no expansion of tp inside a word");
    agency_is("Công ty TNHH Một thành viên", "công ty trách nhiệm hữu hạn một thành viên", "TNHH");
    agency_is("", "", "empty");

    /* Every expansion, against the name written out in another spelling:
     * equal only if the table's expansion is itself in key form. */
    agency_same("HĐND", "Hội Đồng Nhân Dân");
    agency_same("UBMTTQ", "Uỷ ban Mặt trận Tổ quốc");
    agency_same("MTTQ", "Mặt trận Tổ quốc");
    agency_same("BHXH", "Bảo hiểm Xã hội");
    agency_same("BHYT", "Bảo hiểm Y tế");
    agency_same("KBNN", "Kho bạc Nhà nước");
    agency_same("ĐHQG", "Đại học Quốc gia");
    agency_same("BQL", "Ban Quản lý");
    agency_same("CNTT", "Công nghệ Thông tin");
    agency_same("TW", "Trung ương");
    agency_same("KH&ĐT", "Kế hoạch và Đầu tư");
    agency_same("KHĐT", "Kế hoạch và Đầu tư");
    agency_same("KH&CN", "Khoa học và Công nghệ");
    agency_same("KHCN", "Khoa học và Công nghệ");
    agency_same("TN&MT", "Tài nguyên và Môi trường");
    agency_same("TNMT", "Tài nguyên và Môi trường");
    agency_same("NN&PTNT", "Nông nghiệp và Phát triển Nông thôn");
    agency_same("NNPTNT", "Nông nghiệp và Phát triển Nông thôn");
    agency_same("TT&TT", "Thông tin và Truyền thông");
    agency_same("TTTT", "Thông tin và Truyền thông");
    agency_same("GTVT", "Giao thông Vận tải");
    agency_same("VHTTDL", "Văn hoá, Thể thao và Du lịch");
}

static void test_slug(void)
{
    slug_is("../../etc/passwd", 100, "etc-passwd", "path climbing");
    slug_is("a/b", 100, "a-b", "slash");
    slug_is("a\\b", 100, "a-b", "backslash");
    slug_is("line\nbreak", 100, "line-break", "newline");
    slug_is("", 100, "_", "empty");
    slug_is(".", 100, "_", "dot");
    slug_is("..", 100, "_", "dot dot");
    slug_is("...", 100, "_", "three dots");
    slug_is("/", 100, "_", "slash alone");
    slug_is(" ", 100, "_", "space alone");
    slug_is(NULL, 100, "_", "NULL");
    slug_is(".hidden", 100, "hidden", "leading dot");
    slug_is("-rf", 100, "rf", "leading dash (an option to a shell command)");
    slug_is("Sở Tài chính tỉnh Lâm Đồng", 100, "Sở-Tài-chính-tỉnh-Lâm-Đồng", "Vietnamese name");
    slug_is("000.00.15.H41", 100, "000.00.15.H41", "agency code keeps its dots");
    slug_is("UBND TP. Hồ Chí Minh", 100, "UBND-TP-Hồ-Chí-Minh", "dot before a space");
    slug_is("report.", 100, "report", "trailing dot");
    slug_is(NFD_SO_TAI_CHINH, 100, "Sở-Tài-chính", "NFD becomes NFC");
    slug_is("a\x01" "b", 100, "ab", "control character dropped");
    slug_is("abc\xE2\x80\xAEgpj.exe", 100, "abcgpj.exe", "BiDi override dropped");
    slug_is("a\xFF" "b", 100, "ab", "byte that is not UTF-8 dropped");
    slug_is("a\0b", 100, "a", "a C string ends at NUL");
    slug_is("abcdef", 3, "abc", "cut to max_bytes");
    slug_is("ab-cd", 3, "ab", "no dash left at the cut");
    slug_is("ab", 0, "a", "max_bytes 0 is taken as 1");
    slug_is("g\xCC\x80g\xCC\x80g\xCC\x80", 4, "g\xCC\x80", "cut keeps a letter with its mark");

    /* 300 × "ệ" (3 bytes each): 200 bytes hold 66 whole letters. */
    char name[901], want[199];
    for (int i = 0; i < 300; i++)
        memcpy(name + 3 * i, "ệ", 3);
    name[900] = '\0';
    memcpy(want, name, 198);
    want[198] = '\0';
    slug_is(name, 200, want, "300-character name cut to 200 bytes on a character boundary");
    slug_is(name, 1, "_", "no whole character fits in 1 byte");

    char big[1024] = "";
    while (strlen(big) < 600)
        strcat(big, "Nguyễn Thị Ánh Tuyết ");
    char *full = cb_slug(big, 2000), *cut = cb_slug(big, 255);
    ok(full && cut && strlen(cut) <= 255 && strncmp(full, cut, strlen(cut)) == 0 &&
           cb_utf8_valid(cut, strlen(cut)) && cut[strlen(cut) - 1] != '-',
       "slug: long name cut to 255 bytes is a valid prefix without a trailing dash");
    free(full);
    free(cut);
}

int main(void)
{
    test_utf8();
    test_clean();
    test_key();
    test_agency_key();
    test_slug();
    /* cb_text_fold: what the public page's search compares. */
    {
        static const char *const cases[][2] = {
            {"Nguyễn Thị Hoà", "nguyen thi hoa"},
            {"ĐẶNG ĐỨC THUỶ", "dang duc thuy"},
            {"Nguye\xcc\x82\xcc\x83n", "nguyen"},          /* NFD input */
            {"  Sở   Tài chính\t", "so tai chinh"},
            {"Lê <b>&", "le <b>&"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            char *f = cb_text_fold(cases[i][0]);
            is_str(f ? f : "(null)", cases[i][1], "cb_text_fold(%s)", cases[i][0]);
            free(f);
        }
        errno = 0;
        ok(cb_text_fold("\xff") == NULL && errno == EILSEQ, "cb_text_fold refuses bytes that are not UTF-8");
    }
    return done_testing();
}
