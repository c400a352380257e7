/* Unit tests for lib/mail/template.c: parsing, binding to a header, rendering
 * one record and a digest, and the checks that keep blanks out of letters.
 * Expected letters are written out by hand. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "template.h"

static cb_header *header(const char *const *names, size_t n)
{
    cb_header *h = cb_header_new();
    for (size_t i = 0; i < n; i++)
        cb_header_add(h, names[i]);
    return h;
}

static cb_record *record(const char *const *vals, size_t n)
{
    cb_record *r = cb_record_new();
    for (size_t i = 0; i < n; i++)
        cb_record_set_str(r, (int)i, vals[i]);
    return r;
}

static cb_template *parse(const char *s, cb_err *err)
{
    return cb_template_parse("t", s, strlen(s), err);
}

int main(void)
{
    cb_err err = {0};
    const char *cols[] = {"serial", "subject_cn", "email", "expiry_date", "note"};
    cb_header *h = header(cols, 5);
    const char *v1[] = {"0A1B", "Nguyễn Văn An", "an@lamdong.gov.vn", "2026-03-15", ""};
    const char *v2[] = {"0C2D", "Trần Thị Bình", "an@lamdong.gov.vn", "05/04/2026", "x"};
    cb_record *r1 = record(v1, 5), *r2 = record(v2, 5);
    cb_date today = cb_date_from_ymd(2026, 1, 20);

    const char *src =
        "## comment line\n"
        "Subject: Chứng thư số {{serial}} sắp hết hạn\n"
        "To-Name: {{subject_cn}}\n"
        "\n"
        "Kính gửi {{subject_cn}},\n"
        "{{#records}}\n"
        "{{@index}}. {{serial}} hết hạn ngày {{expiry_date|date}}{{note?}}\n"
        "{{/records}}\n"
        "Tổng: {{@count}}. Ngày {{@today}}.\n";
    cb_template *t = parse(src, &err);
    ok(t != NULL, "a template with header lines, a section and filters parses");
    ok(cb_template_has_section(t), "it has a section");
    ok(cb_template_bind(t, h, NULL, 0, &err) == 0, "binds to a header that has its columns");

    const cb_record *one[] = {r1};
    char *s = cb_template_render_str(t, CB_TPL_SUBJECT, one, 1, NULL, today, &err);
    is_str(s, "Chứng thư số 0A1B sắp hết hạn", "subject filled from the record");
    free(s);
    s = cb_template_render_str(t, CB_TPL_TO_NAME, one, 1, NULL, today, &err);
    is_str(s, "Nguyễn Văn An", "To-Name filled");
    free(s);
    s = cb_template_render_str(t, CB_TPL_BODY, one, 1, NULL, today, &err);
    is_str(s,
           "Kính gửi Nguyễn Văn An,\n"
           "1. 0A1B hết hạn ngày 15/03/2026\n"
           "Tổng: 1. Ngày 20/01/2026.\n",
           "one record: section once, date as DD/MM/YYYY, tag lines vanish");
    free(s);

    const cb_record *two[] = {r1, r2};
    s = cb_template_render_str(t, CB_TPL_BODY, two, 2, NULL, today, &err);
    is_str(s,
           "Kính gửi Nguyễn Văn An,\n"
           "1. 0A1B hết hạn ngày 15/03/2026\n"
           "2. 0C2D hết hạn ngày 05/04/2026x\n"
           "Tổng: 2. Ngày 20/01/2026.\n",
           "digest: the section repeats per record, outside takes the first");
    free(s);

    const char *why = NULL;
    ok(cb_template_check_record(t, r1, &why) == NULL, "a full record passes the check");
    cb_record_set_str(r1, 1, "  ");
    const char *bad = cb_template_check_record(t, r1, &why);
    is_str(bad, "subject_cn", "an empty required column is named");
    s = cb_template_render_str(t, CB_TPL_BODY, one, 1, NULL, today, &err);
    ok(s == NULL && err.code == EX_DATAERR, "rendering a record with a blank fails, no blank letter");
    free(s);
    cb_record_set_str(r1, 1, "Nguyễn Văn An");
    cb_record_set_str(r1, 3, "sometime");
    bad = cb_template_check_record(t, r1, &why);
    is_str(bad, "expiry_date", "a |date column that is not a date is named");
    cb_record_set_str(r1, 3, "2026-03-15T23:59:59+07:00");
    s = cb_template_render_str(t, CB_TPL_BODY, one, 1, NULL, today, &err);
    ok(s && strstr(s, "15/03/2026") != NULL, "an instant prints as its date");
    free(s);

    const char *few[] = {"serial", "email"};
    cb_header *h2 = header(few, 2);
    ok(cb_template_bind(t, h2, NULL, 0, &err) < 0, "binding fails when a column is missing");
    ok(strstr(err.msg, "'subject_cn'") != NULL, "and the message names the column: %s", err.msg);
    is_int(err.code, EX_DATAERR, "as a data error");

    cb_template *t2 = parse("Subject: {{place}} {{serial}}\n\nGặp tại {{place}}.\n", &err);
    const char *vn[] = {"place"}, *vv[] = {"Sở KH&CN, 36 Trần Phú"};
    ok(t2 && cb_template_bind(t2, h2, vn, 1, &err) == 0, "a variable satisfies a placeholder");
    cb_record *r3 = record((const char *[]){"FF", "a@b.gov.vn"}, 2);
    const cb_record *three[] = {r3};
    s = cb_template_render_str(t2, CB_TPL_BODY, three, 1, vv, today, &err);
    is_str(s, "Gặp tại Sở KH&CN, 36 Trần Phú.\n", "variables render");
    free(s);
    s = cb_template_render_str(t2, CB_TPL_BODY, three, 1, vv, today, &err);
    free(s);
    s = cb_template_render_str(t2, CB_TPL_TO_NAME, three, 1, vv, today, &err);
    is_str(s, "", "no To-Name line renders empty");
    free(s);

    s = NULL;
    ok(parse("Kính gửi\n", &err) == NULL, "a template without header lines is refused");
    ok(parse("Subject: x\n", &err) == NULL, "header lines without the empty line are refused");
    ok(parse("To-Name: x\n\nbody\n", &err) == NULL, "no Subject is refused");
    ok(parse("Subject: x\n\n{{#records}}a\n", &err) == NULL, "an unclosed section is refused");
    ok(parse("Subject: x\n\n{{#records}}a{{/records}}{{#records}}b{{/records}}\n", &err) == NULL,
       "two sections are refused");
    ok(parse("Subject: x\n\n{{a|upper}}\n", &err) == NULL, "an unknown filter is refused");
    ok(parse("Subject: x\n\nline\n{{a\n", &err) == NULL, "an unclosed placeholder is refused");
    ok(strstr(err.msg, "t:4:") != NULL, "with its line: %s", err.msg);
    cb_template *t3 = parse("\xEF\xBB\xBFSubject: {{a}}\r\n\r\nx {{#records}}[{{a}}]{{/records}} y\r\n", &err);
    ok(t3 != NULL, "a BOM and CRLF lines are accepted");
    const char *ca[] = {"a"};
    cb_header *h3 = header(ca, 1);
    cb_template_bind(t3, h3, NULL, 0, &err);
    cb_record *r4 = record((const char *[]){"1"}, 1), *r5 = record((const char *[]){"2"}, 1);
    const cb_record *ab[] = {r4, r5};
    s = cb_template_render_str(t3, CB_TPL_BODY, ab, 2, NULL, today, &err);
    is_str(s, "x [1][2] y\r\n", "an inline section repeats in place");
    free(s);

    cb_template_free(t);
    cb_template_free(t2);
    cb_template_free(t3);
    cb_header_free(h);
    cb_header_free(h2);
    cb_header_free(h3);
    cb_record_free(r1);
    cb_record_free(r2);
    cb_record_free(r3);
    cb_record_free(r4);
    cb_record_free(r5);
    return done_testing();
}
