/* Unit tests for lib/forms: the header labels of FORMS.md, the bound
 * output header, and single records through cb_forms_check, each
 * expectation worked out by hand from FORMS.md. */
#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "date.h"
#include "forms.h"
#include "tap.h"

static cb_header *header_of(const char *csv)
{
    cb_header *h = cb_header_new();
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", csv);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        cb_header_add(h, t);
    return h;
}

static void fill(cb_record *r, const char *csv)
{
    cb_record_clear(r);
    int i = 0;
    const char *p = csv;
    for (;;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        cb_record_set(r, i++, p, n);
        if (c == NULL)
            break;
        p = c + 1;
    }
}

static const char *field(const cb_forms *f, const cb_record *r, const char *name)
{
    int i = cb_header_find(cb_forms_out_header(f), name);
    return i < 0 ? "(none)" : cb_record_get(r, i);
}

int main(void)
{
    /* labels */
    is_str(cb_forms_canonical("Mã hồ sơ"), "request_id", "'Mã hồ sơ' is request_id");
    is_str(cb_forms_canonical("  MÃ HỒ SƠ "), "request_id", "capitals and spaces around");
    is_str(cb_forms_canonical("Ho\xcc\xa3 va\xcc\x80 te\xcc\x82n"), "full_name", "'Họ và tên' in NFD");
    is_str(cb_forms_canonical("Họ tên"), "full_name", "'Họ tên' is full_name too");
    is_str(cb_forms_canonical("Số CMND/CCCD/Hộ chiếu"), "id_number", "the import sheet's id label");
    is_str(cb_forms_canonical("Tổ chức cấp 3"), "agency_level_3", "'Tổ chức cấp 3'");
    is_str(cb_forms_canonical("Người xác nhận (thủ trưởng cơ quan)"), "confirmed_by", "confirmed_by's label");
    is_str(cb_forms_canonical("EMAIL"), "email", "a canonical name in capitals");
    ok(cb_forms_canonical("Ghi chú") == NULL, "an unknown label is no column");

    cb_calendar *cal = cb_calendar_new();
    cb_err err = {0};
    ok(cb_calendar_load_default(cal, &err) == 0, "the default calendar loads");
    cb_forms_opts o = {.official_domains = NULL, .lang = CB_LANG_EN, .cal = cal};
    cb_date_parse("2026-03-10", &o.today);
    cb_forms *f = cb_forms_new(&o, &err);
    ok(f != NULL, "cb_forms_new");

    cb_header *h = header_of("Mã hồ sơ,Mẫu,Họ và tên,Số CCCD,Ngày cấp,Nơi cấp,Chức vụ,Tổ chức cấp 1,"
                             "Tổ chức cấp 2,province,email,phone,old_serial,old_not_after,"
                             "confirmed_by,received_date,due_date,note");
    ok(cb_forms_bind(f, h, &err) == 0, "bind a header of labels");
    const cb_header *oh = cb_forms_out_header(f);
    is_int((long)oh->n, 22, "18 columns in, 4 appended: agency, request_type, subject_type, agency_key");
    is_str(oh->names[0], "request_id", "labels become canonical names");
    is_str(oh->names[16], "due_date", "a due_date column of the input is overwritten in place");
    is_str(oh->names[17], "note", "an unknown column keeps its name and place");
    is_str(oh->names[18], "agency", "agency is computed from the levels");
    is_int((long)cb_forms_reject_header(f)->n, 18, "rejects have the input's columns only");

    cb_record *in = cb_record_new(), *out = cb_record_new();
    cb_forms_verdict v;
    /* CCCD 068 1 90: Lâm Đồng, female, 1990. Received Mon 02/03/2026,
     * three working days: due Thu 05/03/2026. 01/05/2026 is 60 days on. */
    fill(in, "HS-1,3,Lê Thị Cúc,068190001300,10/05/2021,Cục Cảnh sát,Chuyên viên,Sở Y tế,"
             "Phòng Tổ chức,Bình Thuận,cuc@lamdong.gov.vn,+84987654321,0a:1b,01/05/2026,"
             "Phạm Văn Dũng,02/03/2026,x,n");
    in->line = 2;
    is_int(cb_forms_check(f, in, "t.csv", out, &v, &err), 1, "a good Form 03 row is valid");
    is_str(field(f, out, "form"), "03", "form 3 -> 03");
    is_str(field(f, out, "request_type"), "renew", "request_type renew");
    is_str(field(f, out, "subject_type"), "individual", "subject_type individual");
    is_str(field(f, out, "province"), "Lâm Đồng", "Bình Thuận -> Lâm Đồng");
    is_str(field(f, out, "phone"), "0987654321", "+84987654321 -> 0987654321");
    is_str(field(f, out, "old_serial"), "0A1B", "0a:1b -> 0A1B");
    is_str(field(f, out, "old_not_after"), "2026-05-01", "old_not_after ISO");
    is_str(field(f, out, "received_date"), "2026-03-02", "received_date ISO");
    is_str(field(f, out, "due_date"), "2026-03-05", "due Thu 05/03/2026");
    is_str(field(f, out, "agency"), "Phòng Tổ chức", "agency = the deepest level given");
    is_str(field(f, out, "agency_key"), "phòng tổ chức", "agency_key");

    /* The same person again, 59 days left and no confirmation. */
    fill(in, "HS-2,03,Lê Thị Cúc,068190001300,10/05/2021,Cục Cảnh sát,Chuyên viên,Sở Y tế,,"
             "Lâm Đồng,cuc@lamdong.gov.vn,0987654321,0A1C,30/04/2026,,02/03/2026,,");
    in->line = 3;
    is_int(cb_forms_check(f, in, "t.csv", out, &v, &err), 0, "a bad row is rejected");
    is_str(v.field, "id_number", "the first field at fault in FORMS.md's order");
    ok(strstr(v.reason, "line 2") != NULL, "the duplicate names line 2");
    ok(strstr(v.reason, "only 59 days") != NULL, "59 days left is in the reason");
    ok(strstr(v.reason, "head of the agency") != NULL, "the missing confirmation is in the reason");

    /* A duplicate from another input names the file. */
    fill(in, "HS-1,03,Lê Thị Cúc,068190001399,10/05/2021,Cục Cảnh sát,Chuyên viên,Sở Y tế,,"
             "Lâm Đồng,cuc@lamdong.gov.vn,0987654321,0A1D,01/05/2026,Phạm Văn Dũng,02/03/2026,,");
    in->line = 7;
    is_int(cb_forms_check(f, in, "u.csv", out, &v, &err), 0, "a request id seen in another file");
    ok(strstr(v.reason, "line 2 of t.csv") != NULL, "the reason names the line and the file");

    cb_forms_free(f);
    cb_header_free(h);

    /* Vietnamese reasons */
    o.lang = CB_LANG_VI;
    f = cb_forms_new(&o, &err);
    h = header_of("request_id,form,full_name,id_number,received_date");
    cb_forms_bind(f, h, &err);
    fill(in, "HS-9,01,Lê Thị Cúc,123,02/03/2026");
    in->line = 2;
    is_int(cb_forms_check(f, in, "t.csv", out, &v, &err), 0, "--lang vi: rejected");
    ok(strstr(v.reason, "thiếu ngày sinh") != NULL, "--lang vi: 'thiếu ngày sinh'");
    cb_forms_free(f);
    cb_header_free(h);

    /* Two columns meaning one */
    f = cb_forms_new(&o, &err);
    h = header_of("full_name,Họ và tên");
    is_int(cb_forms_bind(f, h, &err), -1, "two columns for full_name: bind fails");
    is_int(err.code, EX_DATAERR, "... with EX_DATAERR");
    cb_forms_free(f);
    cb_header_free(h);

    /* Labels near a known one: one warning each, naming the nearest. */
    o.lang = CB_LANG_EN;
    f = cb_forms_new(&o, &err);
    h = header_of("Mã hồ sơ,Số điện thoại,note,Ngày sinhh,Số CMND");
    is_int(cb_forms_bind(f, h, &err), 0, "a header with unknown labels binds");
    ok(cb_forms_warning(f, 0) && strstr(cb_forms_warning(f, 0), "'Số điện thoại' is not a column of the forms (nearest: 'Số điện thoại di động' (phone))"),
       "the first words of a known label: a warning naming it");
    ok(cb_forms_warning(f, 1) && strstr(cb_forms_warning(f, 1), "'Ngày sinhh'") && strstr(cb_forms_warning(f, 1), "'Ngày sinh' (birth_date)"),
       "one letter more: a warning naming the label");
    ok(cb_forms_warning(f, 2) && strstr(cb_forms_warning(f, 2), "'Số CMND/CCCD/Hộ chiếu' (id_number)"),
       "the first words before a '/': a warning");
    ok(cb_forms_warning(f, 3) == NULL, "'note' is near nothing: no warning, and none for known labels");
    cb_forms_free(f);
    cb_header_free(h);

    /* Extra columns are not typos: a label saying more than a known one,
     * one near a column the header has, a running number, a note. */
    f = cb_forms_new(&o, &err);
    h = header_of("STT,Mã hồ sơ,Số điện thoại di động,Số điện thoại,Địa chỉ thường trú,Mã hồ sơ cũ,Ghi chú");
    is_int(cb_forms_bind(f, h, &err), 0, "a header with extra columns binds");
    ok(cb_forms_warning(f, 0) == NULL, "STT, Ghi chú, a second phone, longer labels: no warning");
    cb_forms_free(f);
    cb_header_free(h);

    cb_record_free(in);
    cb_record_free(out);
    cb_calendar_free(cal);
    return done_testing();
}
