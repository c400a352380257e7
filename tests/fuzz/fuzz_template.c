/* libFuzzer harness: letter templates (lib/mail/template.c): parsed, bound to a
 * cert record's header, checked and rendered for a digest of two records,
 * every part. */
#include <string.h>

#include "fuzz.h"
#include "template.h"

static cb_record *row(const char *const *v, size_t n)
{
    cb_record *r = cb_record_new();
    for (size_t i = 0; r && i < n; i++)
        cb_record_set_str(r, (int)i, v[i]);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const cols[] = {"serial", "subject_cn", "email", "expiry_date", "days_left", "status"};
    static const char *const r1[] = {"4A1F09", "Nguyễn Văn An", "an@lamdong.gov.vn", "2027-03-15", "54", "expiring"};
    static const char *const r2[] = {"7B", "Lê Thị Cúc", "cuc@lamdong.gov.vn", "31/12/2026", "-2", ""};
    static const char *const vars[] = {"office"}, *const vals[] = {"Sở KH&CN"};
    cb_err err = {0};
    cb_template *t = cb_template_parse("f.txt", (const char *)data, size, &err);
    if (t == NULL)
        return 0;
    cb_header *h = cb_header_new();
    for (size_t i = 0; i < 6; i++)
        cb_header_add(h, cols[i]);
    if (cb_template_bind(t, h, vars, 1, &err) == 0) {
        cb_record *a = row(r1, 6), *b = row(r2, 6);
        const cb_record *recs[] = {a, b};
        const char *why;
        (void)cb_template_check_record(t, b, &why);
        for (int part = CB_TPL_SUBJECT; part <= CB_TPL_BODY; part++)
            free(cb_template_render_str(t, (enum cb_template_part)part, recs, 2, vals,
                                        cb_date_from_ymd(2026, 12, 1), &err));
        (void)cb_template_has_section(t);
        cb_record_free(a);
        cb_record_free(b);
    }
    cb_header_free(h);
    cb_template_free(t);
    return 0;
}
