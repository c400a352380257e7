/* Unit tests for the per-agency table: lookups, spellings and the name
 * shown, the spellings list round trip used by --merge, count slots, spill
 * files, and the value cache. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agency.h"
#include "tap.h"

int main(void)
{
    cb_agency_table *t = cb_agency_table_new(NULL);
    cb_agency *a = cb_agency_get(t, "sở tài chính", NULL);
    ok(a != NULL, "an agency is created");
    ok(cb_agency_get(t, "sở tài chính", NULL) == a, "the same key finds the same agency");
    ok(cb_agency_get(t, "sở y tế", "000.00.15.H41") != a, "another key is another agency");
    is_int(cb_agency_count(t), 2, "two agencies");
    is_str(cb_agency_get(t, "sở y tế", NULL)->code, "000.00.15.H41", "the code given at creation is kept");

    cb_agency_add_spelling(a, "SỞ TÀI CHÍNH", 1);
    cb_agency_add_spelling(a, "Sở Tài chính", 1);
    cb_agency_add_spelling(a, "Sở Tài chính", 1);
    is_str(cb_agency_display(a), "Sở Tài chính", "the most frequent spelling is shown");
    cb_agency_add_spelling(a, "SỞ TÀI CHÍNH", 1);
    /* 2 against 2: "SỞ" (U+1EDE, bytes E1 BB 9E) sorts before "Sở" ('S' then
     * U+1EDF, E1 BB 9F): the upper-case one wins the tie. */
    is_str(cb_agency_display(a), "SỞ TÀI CHÍNH", "a tie goes to the first spelling in byte order");

    char *s = cb_agency_spellings_format(a);
    is_str(s, "2\xC3\x97SỞ TÀI CHÍNH | 2\xC3\x97Sở Tài chính", "spellings are written COUNT×NAME | ...");
    cb_agency *b = cb_agency_get(t, "copy", NULL);
    cb_err err = {0};
    is_int(cb_agency_spellings_parse(b, s, &err), 0, "and read back");
    is_int(b->nspellings, 2, "two spellings read back");
    ok(b->nspellings == 2 && b->spellings[0].count == 2 && strcmp(b->spellings[1].name, "Sở Tài chính") == 0,
       "with their counts and names");
    free(s);
    is_int(cb_agency_spellings_parse(b, "three×x", &err), -1, "a spelling without a count is an error");
    is_int(cb_agency_spellings_parse(b, "", &err), 0, "an empty list is no spelling");

    is_int(cb_agency_count_slot("issue", "individual"), CB_AG_ISSUE_IND, "issue individual");
    is_int(cb_agency_count_slot("renew", "organization"), CB_AG_RENEW_ORG, "renew organization");
    is_int(cb_agency_count_slot("revoke", "individual"), CB_AG_OTHER, "an unknown request type counts as other");
    is_int(cb_agency_count_slot("", ""), CB_AG_OTHER, "a missing one too");

    cb_agency **list = cb_agency_sorted(t);
    ok(list && strcmp(list[0]->key, "copy") == 0 && strcmp(list[1]->key, "sở tài chính") == 0 &&
       strcmp(list[2]->key, "sở y tế") == 0, "agencies sort by key");
    cb_agency_table_free(t);

    char dir[] = "/tmp/cbagency.XXXXXX";
    ok(mkdtemp(dir) != NULL, "a spill directory");
    t = cb_agency_table_new(dir);
    char key[32];
    /* More agencies than spill files kept open: the least recently used
     * are closed and reopened for appending, nothing is lost. */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 100; i++) {
            snprintf(key, sizeof key, "agency %03d", i);
            cb_agency *x = cb_agency_get(t, key, NULL);
            FILE *fp = cb_agency_spill(t, x, &err);
            if (fp)
                fprintf(fp, "%d,%d\n", i, round);
        }
    }
    cb_agency *x = cb_agency_get(t, "agency 042", NULL);
    is_int(cb_agency_spill_close(x, &err), 0, "a spill file closes");
    FILE *fp = fopen(x->spill_path, "r");
    char buf[64] = "";
    size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    buf[n] = '\0';
    if (fp)
        fclose(fp);
    is_str(buf, "42,0\n42,1\n42,2\n", "every record of an agency is in its spill file, in order");
    char path[256];
    snprintf(path, sizeof path, "%s", x->spill_path);
    cb_agency_table_free(t);
    ok(access(path, F_OK) != 0, "freeing the table removes the spill files");
    ok(rmdir(dir) == 0, "and leaves the directory empty");

    /* The registry. */
    char reg_path[] = "/tmp/test_agency_reg.XXXXXX";
    int fd = mkstemp(reg_path);
    const char *csv = "agency_code,name,aliases,email\n"
                      "000.00.02.h41,Sở Nội vụ,SNV|Sở Nội vụ tỉnh Lâm Đồng,sonoivu@lamdong.gov.vn\n"
                      ",Công an tỉnh Lâm Đồng,,\n";
    ok(fd >= 0 && write(fd, csv, strlen(csv)) == (ssize_t)strlen(csv), "a registry file is written");
    close(fd);
    cb_agency_registry *reg = cb_agency_registry_load(reg_path, CB_LANG_EN, &err);
    ok(reg != NULL, "the registry loads without the optional columns");
    is_int(cb_agency_registry_count(reg), 2, "two agencies");
    const cb_agency_entry *e = cb_agency_registry_by_code(reg, "000.00.02.H41");
    ok(e != NULL && strcmp(e->name, "Sở Nội vụ") == 0, "found by its code");
    ok(e && strcmp(e->code, "000.00.02.H41") == 0 && strcmp(e->key, "000.00.02.H41") == 0,
       "the code is kept in upper case and is the key");
    ok(cb_agency_registry_by_name(reg, "SỞ NỘI VỤ TỈNH LÂM ĐỒNG") == e, "found by an alias, any case");
    ok(cb_agency_registry_by_name(reg, "snv") == e, "and by a short alias");
    ok(cb_agency_registry_by_name(reg, "Sở Nội") == NULL, "a part of a name is not the agency");
    const cb_agency_entry *ca = cb_agency_registry_by_name(reg, "Công an tỉnh Lâm Đồng");
    ok(ca && strcmp(ca->key, "công an tỉnh lâm đồng") == 0 && *ca->code == '\0',
       "an agency without a code is keyed by its name");
    ok(cb_agency_registry_by_code(reg, "000.00.03.H41") == NULL, "an unknown code finds nothing");
    cb_agency_registry_free(reg);
    unlink(reg_path);
    is_int(cb_agency_registry_load(reg_path, CB_LANG_EN, &err) == NULL && err.code == EX_NOINPUT, 1,
           "a missing registry is EX_NOINPUT");

    return done_testing();
}
