/* Unit tests for the Vietnamese column labels: the forms' labels, the
 * computed columns', and the way back from a label to its column. */
#include <string.h>

#include "labels.h"
#include "tap.h"

int main(void)
{
    is_str(cb_label_vi("id_number"), "Số định danh cá nhân", "id_number has FORMS.md's label");
    is_str(cb_label_vi("due_date"), "Hạn giải quyết", "due_date: 'Hạn giải quyết'");
    is_str(cb_label_vi("reject_reason"), "Lý do từ chối", "reject_reason: 'Lý do từ chối'");
    is_str(cb_label_vi("my_column"), "my_column", "a column without a label keeps its name");
    is_str(cb_label_canonical("HẠN GIẢI QUYẾT") ? cb_label_canonical("HẠN GIẢI QUYẾT") : "", "due_date",
           "a label in capitals is its column");
    is_str(cb_label_canonical("total") ? cb_label_canonical("total") : "", "total", "a canonical name is itself");
    ok(cb_label_canonical("Ghi chú của tôi") == NULL, "an unknown label is no column");
    is_int(cb_label_kind("received_date"), CB_XLSX_DATE, "received_date is a date");
    is_int(cb_label_kind("total"), CB_XLSX_NUMBER, "total is a number");
    is_int(cb_label_kind("id_number"), CB_XLSX_TEXT, "id_number is text");
    return done_testing();
}
