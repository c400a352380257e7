/* Column labels in Vietnamese: see labels.h. The form columns' labels are
 * the first label FORMS.md gives each; the others are the terms the
 * provincial offices use in their lists ("Hạn giải quyết", "Lý do từ
 * chối"). */
#include "labels.h"

#include <stdlib.h>
#include <string.h>

#include "vntext.h"

typedef struct label {
    const char *name, *vi;
    enum cb_xlsx_kind kind;
} label;

#define T CB_XLSX_TEXT
#define D CB_XLSX_DATE
#define N CB_XLSX_NUMBER

static const label labels[] = {
    {"request_id", "Mã hồ sơ", T},
    {"form", "Mẫu", T},
    {"request_type", "Loại yêu cầu", T},
    {"subject_type", "Loại thuê bao", T},
    {"full_name", "Họ và tên", T},
    {"birth_date", "Ngày sinh", D},
    {"id_number", "Số định danh cá nhân", T},
    {"id_issue_date", "Ngày cấp", D},
    {"id_issue_place", "Nơi cấp", T},
    {"position", "Chức vụ", T},
    {"agency", "Cơ quan, tổ chức quản lý trực tiếp", T},
    {"agency_level_1", "Tổ chức cấp 1", T},
    {"agency_level_2", "Tổ chức cấp 2", T},
    {"agency_level_3", "Tổ chức cấp 3", T},
    {"agency_level_4", "Tổ chức cấp 4", T},
    {"agency_code", "Mã định danh cơ quan", T},
    {"org_name", "Tên cơ quan, tổ chức", T},
    {"org_address", "Địa chỉ", T},
    {"tax_code", "Mã số thuế", T},
    {"budget_code", "Mã quan hệ ngân sách", T},
    {"province", "Tỉnh/Thành phố", T},
    {"email", "Địa chỉ thư điện tử công vụ", T},
    {"phone", "Số điện thoại di động", T},
    {"old_serial", "Số hiệu chứng thư cũ", T},
    {"old_not_after", "Ngày hết hạn chứng thư cũ", D},
    {"device_type", "Loại thiết bị", T},
    {"carrier", "Nhà mạng", T},
    {"confirmed_by", "Người xác nhận (thủ trưởng cơ quan)", T},
    {"received_date", "Ngày tiếp nhận", D},
    {"validity_months", "Thời hạn đề nghị (tháng)", N},
    {"renewal_count", "Số lần gia hạn", N},
    {"due_date", "Hạn giải quyết", D},
    {"agency_key", "Khóa cơ quan", T},
    {"agency_name", "Tên cơ quan (theo danh mục)", T},
    {"agency_email", "Thư điện tử của cơ quan", T},
    {"note", "Ghi chú", T},
    {"batch_seq", "Số thứ tự", N},
    {"reject_line", "Dòng", N},
    {"reject_field", "Cột lỗi", T},
    {"reject_reason", "Lý do từ chối", T},
    /* aggregate-by-agency's summary and split manifest */
    {"issue_individual", "Cấp mới cá nhân", N},
    {"issue_organization", "Cấp mới tổ chức", N},
    {"renew_individual", "Gia hạn cá nhân", N},
    {"renew_organization", "Gia hạn tổ chức", N},
    {"other", "Khác", N},
    {"total", "Tổng số", N},
    {"earliest_expiry", "Hết hạn sớm nhất", D},
    {"earliest_due", "Hạn giải quyết sớm nhất", D},
    {"spellings", "Các cách viết tên", T},
    {"file", "Tệp", T},
    {"records", "Số hồ sơ", N},
    /* split-updates' manifest and scan-expiry's records */
    {"serial", "Số hiệu chứng thư", T},
    {"subject_cn", "Tên chủ thể", T},
    {"holder", "Người sở hữu", T},
    {"path", "Tệp chứng thư", T},
    {"not_before", "Có hiệu lực từ", T},
    {"not_after", "Hết hiệu lực", T},
    {"expiry_date", "Ngày hết hạn", D},
    {"days_left", "Số ngày còn lại", N},
    {"status", "Trạng thái", T},
    {"matched_by", "Khớp theo", T},
    {"reason", "Lý do", T},
    {"source", "Nguồn", T},
    {"trust_problem", "Vấn đề về tin cậy", T},
};

#undef T
#undef D
#undef N

#define NLABELS (sizeof labels / sizeof labels[0])

static const label *find(const char *name)
{
    for (size_t i = 0; i < NLABELS; i++)
        if (strcmp(labels[i].name, name) == 0)
            return &labels[i];
    return NULL;
}

const char *cb_label_vi(const char *name)
{
    const label *l = find(name);
    return l ? l->vi : name;
}

enum cb_xlsx_kind cb_label_kind(const char *name)
{
    const label *l = find(name);
    return l ? l->kind : CB_XLSX_TEXT;
}

const char *cb_label_canonical(const char *s)
{
    const label *l = find(s);
    if (l)
        return l->name;
    char *key = cb_text_key(s);
    const char *found = NULL;
    for (size_t i = 0; key && found == NULL && i < NLABELS; i++) {
        char *k = cb_text_key(labels[i].vi);
        if (k && strcmp(k, key) == 0)
            found = labels[i].name;
        free(k);
    }
    free(key);
    return found;
}
