/* Unit tests for lib/vn/agency_out.c: the summary aggregate-by-agency writes
 * (checked against rows written out by hand), read back by column name in
 * any column order for --merge, and the per-agency files. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agency_out.h"
#include "csvio.h"
#include "tap.h"

static const char *const want_summary =
    "agency_key,agency_code,agency,province,issue_individual,issue_organization,renew_individual,"
    "renew_organization,other,total,earliest_expiry,earliest_due,spellings\n"
    "code 000.00.15.H41,000.00.15.H41,Sở Y tế,Lâm Đồng,1,0,0,2,0,3,2027-01-02,2026-11-25,3\xC3\x97Sở Y tế\n"
    "sở tài chính,,Sở Tài chính,,0,0,1,0,0,1,,2026-11-26,1\xC3\x97Sở Tài chính\n"
    ",,TOTAL,,1,0,1,2,0,4,2027-01-02,2026-11-25,\n";

static cb_agency_table *sample_table(void)
{
    cb_agency_table *t = cb_agency_table_new(NULL);
    cb_agency *y = cb_agency_get(t, "code 000.00.15.H41", "000.00.15.H41");
    unsigned long issue[CB_AG_NCOUNTS] = {[CB_AG_ISSUE_IND] = 1};
    unsigned long renew_org[CB_AG_NCOUNTS] = {[CB_AG_RENEW_ORG] = 2};
    unsigned long renew[CB_AG_NCOUNTS] = {[CB_AG_RENEW_IND] = 1};
    cb_agency_tally(y, "Lâm Đồng", issue, 1, CB_AG_NO_DATE, 20783);       /* due 2026-11-26 */
    cb_agency_tally(y, "Đà Lạt", renew_org, 2, 20820, 20782);            /* 2027-01-02, 2026-11-25 */
    cb_agency_add_spelling(y, "Sở Y tế", 3);
    cb_agency *tc = cb_agency_get(t, "sở tài chính", NULL);
    cb_agency_tally(tc, "", renew, 1, CB_AG_NO_DATE, 20783);             /* 2026-11-26 */
    cb_agency_add_spelling(tc, "Sở Tài chính", 1);
    return t;
}

static char *summary_of(cb_agency_table *t)
{
    char *buf = NULL;
    size_t len;
    FILE *fp = open_memstream(&buf, &len);
    int rc = cb_agsum_write(t, fp);
    fclose(fp);
    return rc == 0 ? buf : (free(buf), NULL);
}

/* Merges the rows of the CSV text into t; returns the number of rows
 * added, or -1 at the first row rejected (reason in err). */
static int merge_text(cb_agency_table *t, const char *text, cb_err *err)
{
    char path[] = "/tmp/cb-test-agsum-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        return -2;
    close(fd);
    char *files[] = {path};
    cb_csv_reader *r = cb_csv_reader_open(files, 1, 0, err);
    cb_agsum_cols c;
    int n = -1;
    if (r != NULL && cb_agsum_bind(&c, cb_csv_reader_header(r), err) == 0) {
        cb_record *rec = cb_record_new();
        const char *field;
        int st, added;
        n = 0;
        while ((st = cb_csv_reader_next(r, rec, err)) == CB_CSV_RECORD) {
            if ((added = cb_agsum_merge(t, &c, rec, &field, err)) < 0) {
                n = -1;
                break;
            }
            n += added;
        }
        cb_record_free(rec);
    }
    cb_csv_reader_close(r);
    unlink(path);
    return n;
}

static void test_grouping(void)
{
    cb_header *h = cb_header_new();
    cb_header_add(h, "agency");
    cb_header_add(h, "agency_key");
    cb_header_add(h, "agency_code");
    cb_header_add(h, "province");
    cb_agency_grouper g;
    cb_err err = {0};
    is_int(cb_agency_grouper_bind(&g, h, NULL, &err), 0, "grouping binds to the agency columns");
    cb_record *rec = cb_record_new();
    const char *key, *spelling, *code;
    cb_record_set_str(rec, 0, "  UBND tỉnh  Lâm Đồng ");
    cb_agency_group(&g, rec, &key, &spelling, &code);
    is_str(key, "ủy ban nhân dân tỉnh lâm đồng", "no code, no agency_key: the agency name normalised");
    is_str(spelling, "UBND tỉnh Lâm Đồng", "and its spelling cleaned");
    cb_record_set_str(rec, 1, "sở y tế");
    cb_agency_group(&g, rec, &key, &spelling, &code);
    is_str(key, "sở y tế", "agency_key wins over the name");
    cb_record_set_str(rec, 2, "000.00.15.h41");
    cb_agency_group(&g, rec, &key, &spelling, &code);
    is_str(key, "sở y tế", "agency_key (validate-form's) wins over agency_code too");
    is_str(code, "000.00.15.h41", "and the code is reported as written");
    cb_record_set_str(rec, 1, "");
    cb_agency_group(&g, rec, &key, &spelling, &code);
    is_str(key, "code 000.00.15.H41", "without agency_key, agency_code wins over the name, letter case aside");
    cb_record_set_str(rec, 1, "000.00.15.H42");
    cb_record_set_str(rec, 2, "");
    cb_agency_group(&g, rec, &key, &spelling, &code);
    is_str(code, "000.00.15.H42", "an agency_key that is a registry code is the agency's code");
    cb_record_clear(rec);
    cb_record_set_str(rec, 3, "Lâm Đồng");
    cb_agency_group(&g, rec, &key, &spelling, &code);
    ok(key == NULL || *key == '\0', "a record with none of them names no agency");
    is_str(cb_agency_group_field(&g), "agency", "and is at fault in agency");
    cb_agency_grouper_free(&g);

    is_int(cb_agency_grouper_bind(&g, h, "province", &err), 0, "--by province binds");
    cb_record_set_str(rec, 3, "TỈNH LÂM ĐỒNG");
    cb_agency_group(&g, rec, &key, &spelling, &code);
    is_str(key, "tỉnh lâm đồng", "--by: the column's value, case folded");
    is_str(cb_agency_group_field(&g), "province", "--by: the column is at fault when empty");
    cb_agency_grouper_free(&g);
    is_int(cb_agency_grouper_bind(&g, h, "nope", &err), -1, "--by a column that is not there is refused");
    is_str(err.msg, "--by: the input has no column 'nope'", "saying which");
    cb_header *h2 = cb_header_new();
    cb_header_add(h2, "x");
    is_int(cb_agency_grouper_bind(&g, h2, NULL, &err), -1, "an input without agency columns is refused");
    cb_header_free(h2);
    cb_header_free(h);
    cb_record_free(rec);
}

int main(void)
{
    test_grouping();
    cb_date d;
    cb_date_parse("2027-01-02", &d);
    is_int(d, 20820, "(2027-01-02 is day 20820)");
    cb_date_parse("2026-11-25", &d);
    is_int(d, 20782, "(2026-11-25 is day 20782)");

    cb_agency_table *t = sample_table();
    char *s = summary_of(t);
    is_str(s, want_summary, "the summary: a row per agency in key order, counts, earliest dates, spellings, TOTAL");
    ok(strstr(s, "Lâm Đồng,1,0") != NULL, "the first province seen is kept");

    cb_err err = {0};
    cb_agency_table *m = cb_agency_table_new(NULL);
    is_int(merge_text(m, s, &err), 2, "merging a summary adds its two agency rows (the TOTAL row is left out)");
    is_int(merge_text(m, s, &err), 2, "and a second summary");
    char *twice = summary_of(m);
    ok(twice && strstr(twice, "code 000.00.15.H41,000.00.15.H41,Sở Y tế,Lâm Đồng,2,0,0,4,0,6,") != NULL,
       "two summaries merged: counts add up, dates stay the earliest");
    ok(twice && strstr(twice, ",,TOTAL,,2,0,2,4,0,8,2027-01-02,2026-11-25,\n") != NULL,
       "and the TOTAL row is computed again");
    free(twice);
    cb_agency_table_free(m);

    /* columns found by name: the same summary with its columns in reverse order */
    m = cb_agency_table_new(NULL);
    const char *rev =
        "spellings,earliest_due,earliest_expiry,total,other,renew_organization,renew_individual,"
        "issue_organization,issue_individual,province,agency,agency_code,agency_key\n"
        "1\xC3\x97Sở Tài chính,2026-11-26,,1,0,0,1,0,0,,Sở Tài chính,,sở tài chính\n"
        "3\xC3\x97Sở Y tế,2025-11-26,2027-01-02,3,0,2,0,0,1,Lâm Đồng,Sở Y tế,000.00.15.H41,code 000.00.15.H41\n";
    is_int(merge_text(m, rev, &err), 2, "a summary with its columns in another order is read by name");
    char *again = summary_of(m);
    ok(again && strstr(again, "code 000.00.15.H41,000.00.15.H41,Sở Y tế,Lâm Đồng,1,0,0,2,0,3,2027-01-02,2025-11-26,") != NULL,
       "and gives the same rows");
    free(again);
    cb_agency_table_free(m);

    m = cb_agency_table_new(NULL);
    is_int(merge_text(m, "agency_key,agency\nx,y\n", &err), -1, "a file that is not a summary is refused");
    is_str(err.msg, "not a summary of aggregate-by-agency: the column 'agency_code' is missing",
           "naming the first column missing");
    char bad[2048];
    snprintf(bad, sizeof bad, "%.*s\nk,,A,,1,0,0,0,0,x,,,\n", (int)(strchr(want_summary, '\n') - want_summary),
             want_summary);
    is_int(merge_text(m, bad, &err), -1, "a row whose total is not a number is rejected");
    is_str(err.msg, "a count in this summary row is not a whole number", "with its reason");
    snprintf(bad, sizeof bad, "%.*s\nk,,A,,1,0,0,0,0,1,2027-02-30,,\n",
             (int)(strchr(want_summary, '\n') - want_summary), want_summary);
    is_int(merge_text(m, bad, &err), -1, "a row with an impossible date is rejected");
    cb_agency_table_free(m);

    free(s);
    cb_agency_table_free(t);
    return done_testing();
}
