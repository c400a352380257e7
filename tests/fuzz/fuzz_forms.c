/* libFuzzer harness: the request-form checks (cb_forms_check, lib/vn/forms.c)
 * on records of any content. The first byte picks a header (a Form 01/02
 * issuance sheet, a Form 03/04 renewal sheet, or one in the forms'
 * Vietnamese labels); each following line is a record, split at commas.
 * One cb_forms checks every line, as in a batch, so duplicates across
 * records are exercised too. A verdict is either valid or has a reason. */
#include <string.h>

#include "forms.h"
#include "fuzz.h"

static const char *const headers[] = {
    "request_id,form,full_name,birth_date,id_number,id_issue_date,id_issue_place,position,agency,"
    "agency_code,province,email,phone,device_type,carrier,validity_months,confirmed_by,received_date,note",
    "request_id,form,full_name,id_number,id_issue_date,id_issue_place,position,agency,agency_code,"
    "org_name,org_address,budget_code,province,email,phone,old_serial,old_not_after,device_type,carrier,"
    "confirmed_by,received_date,note",
    "Mã hồ sơ,Mẫu,Họ và tên,Số định danh cá nhân,Ngày cấp,Nơi cấp,Chức vụ,Tổ chức cấp 1,Tổ chức cấp 2,"
    "Mã định danh cơ quan,Tỉnh/Thành phố,Địa chỉ thư điện tử công vụ,Số điện thoại di động,Serial CTS cũ,"
    "old_not_after,Loại thiết bị,Nhà mạng,Ngày tiếp nhận",
};

static void split_into(cb_record *rec, const char *s, size_t n)
{
    cb_record_clear(rec);
    int col = 0;
    const char *p = s, *end = s + n;
    for (;;) {
        const char *q = memchr(p, ',', (size_t)(end - p));
        cb_record_set(rec, col++, p, (size_t)((q ? q : end) - p));
        if (q == NULL)
            break;
        p = q + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cb_calendar *cal;
    cb_err err = {0};
    if (cal == NULL && ((cal = cb_calendar_new()) == NULL || cb_calendar_load_default(cal, &err) < 0))
        abort();
    if (size == 0)
        return 0;
    cb_forms_opts o = {.today = cb_date_from_ymd(2026, 12, 1), .cal = cal, .lang = (cb_forms_lang)(data[0] >> 7)};
    cb_forms *f = cb_forms_new(&o, &err);
    if (f == NULL)
        abort();
    cb_record *hdr = cb_record_new(), *in = cb_record_new(), *out = cb_record_new();
    const char *ht = headers[(data[0] & 0x7f) % 3];
    split_into(hdr, ht, strlen(ht));
    cb_header *h = cb_header_new();
    for (size_t i = 0; i < hdr->n; i++)
        cb_header_add(h, hdr->f[i].s);
    cb_forms_verdict *v = malloc(sizeof *v);
    if (cb_forms_bind(f, h, &err) == 0) {
        char *text = fuzz_strdup(data + 1, size - 1);
        long line = 2;
        for (char *p = text, *nl; *p; p = nl ? nl + 1 : p + strlen(p), line++) {
            nl = strchr(p, '\n');
            split_into(in, p, nl ? (size_t)(nl - p) : strlen(p));
            in->line = line;
            int ok = cb_forms_check(f, in, "f.csv", out, v, &err);
            if (ok == 0 && v->reason[0] == '\0')
                abort();   /* a reject always says why */
            if (nl == NULL)
                break;
        }
        free(text);
    }
    free(v);
    cb_header_free(h);
    cb_record_free(hdr);
    cb_record_free(in);
    cb_record_free(out);
    cb_forms_free(f);
    return 0;
}
