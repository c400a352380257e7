/* Unit tests for the workbook module: cell names, telling a zip from
 * text, and archives that are not workbooks. Reading real workbooks
 * written by openpyxl is tested in tests/cli/208-validate-form-xlsx.t. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "xlsx.h"

int main(void)
{
    char name[16];
    cb_xlsx_cell_name(0, 1, name);
    is_str(name, "A1", "column 0 row 1 is A1");
    cb_xlsx_cell_name(25, 7, name);
    is_str(name, "Z7", "column 25 is Z");
    cb_xlsx_cell_name(26, 7, name);
    is_str(name, "AA7", "column 26 is AA");
    cb_xlsx_cell_name(16383, 1048576, name);
    is_str(name, "XFD1048576", "Excel's last cell");

    ok(cb_xlsx_is_zip("PK\003\004rest", 8), "a zip starts PK 3 4");
    ok(!cb_xlsx_is_zip("PK", 2), "two bytes are not a zip");
    ok(!cb_xlsx_is_zip("request_id,form\n", 16), "CSV is not a zip");

    cb_err err = {0};
    char *junk = strdup("PK\003\004 this is not really a zip archive");
    cb_xlsx *x = cb_xlsx_open_mem(junk, strlen(junk), "junk.xlsx", NULL, CB_LANG_EN, &err);
    ok(x == NULL, "a file that only starts like a zip is not opened");
    is_int(err.code, EX_DATAERR, "it is a data error");
    ok(strstr(err.msg, "junk.xlsx: not a readable workbook") != NULL, "naming the file");
    junk = strdup("PK\003\004 this is not really a zip archive");
    x = cb_xlsx_open_mem(junk, strlen(junk), "junk.xlsx", NULL, CB_LANG_VI, &err);
    ok(x == NULL && strstr(err.msg, "junk.xlsx: không phải tệp Excel đọc được") != NULL,
       "and says so in Vietnamese when asked");

    /* A workbook written here is read back: inline strings (how
     * constant-memory mode writes text), dates, numbers, a second sheet. */
    char path[] = "/tmp/test_xlsx_XXXXXX.xlsx";
    int fd = mkstemps(path, 5);
    ok(fd >= 0, "a temporary name");
    close(fd);
    cb_xlsx_writer *w = cb_xlsx_writer_new(path, CB_LANG_EN, &err);
    const char *labels[] = {"Mã hồ sơ", "Ngày tiếp nhận", "Tổng số", "Số định danh cá nhân"};
    enum cb_xlsx_kind kinds[] = {CB_XLSX_TEXT, CB_XLSX_DATE, CB_XLSX_NUMBER, CB_XLSX_TEXT};
    const char *r1[] = {"HS-1", "2026-02-12", "12", "068090001201"};
    const char *r2[] = {"HS-2", "12/02/2026 sáng", "007", ""};
    ok(w && cb_xlsx_writer_sheet(w, "Danh sách: đợt 1/2026", labels, kinds, 4, &err) == 0, "a sheet with a name Excel would refuse");
    ok(cb_xlsx_writer_row(w, r1, 4, &err) == 0 && cb_xlsx_writer_row(w, r2, 4, &err) == 0, "two rows");
    ok(cb_xlsx_writer_sheet(w, "Danh sách: đợt 1/2026", labels, NULL, 1, &err) == 0, "a second sheet of the same name");
    is_int(cb_xlsx_writer_close(w, &err), 0, "the workbook is written");
    FILE *fp = fopen(path, "rb");
    char *data = malloc(1 << 20);
    size_t n = fp ? fread(data, 1, 1 << 20, fp) : 0;
    if (fp)
        fclose(fp);
    x = cb_xlsx_open_mem(data, n, path, NULL, CB_LANG_EN, &err);
    ok(x != NULL, "and read back");
    is_str(x ? cb_xlsx_sheet_name(x) : "", "Danh sách- đợt 1-2026", "the sheet name without ':' and '/'");
    const cb_xlsx_row *row = NULL;
    ok(x && cb_xlsx_next(x, &row, &err) == 1 && row->r == 1 && row->n == 4 && strcmp(row->c[0].s, "Mã hồ sơ") == 0,
       "row 1 is the header");
    ok(x && cb_xlsx_next(x, &row, &err) == 1 && row->r == 2, "row 2");
    ok(row && strcmp(row->c[1].s, "2026-02-12") == 0 && !row->c[1].number, "a date is written as a date and read as one");
    ok(row && strcmp(row->c[2].s, "12") == 0 && row->c[2].number, "a count is a number");
    ok(row && strcmp(row->c[3].s, "068090001201") == 0 && !row->c[3].number, "an identity number is text, its 0 kept");
    ok(x && cb_xlsx_next(x, &row, &err) == 1 && strcmp(row->c[1].s, "12/02/2026 sáng") == 0 &&
           strcmp(row->c[2].s, "007") == 0 && row->n == 3,
       "what is not a date or a plain number stays text; empty cells are not written");
    ok(x && cb_xlsx_next(x, &row, &err) == 0, "the end of the sheet");
    cb_xlsx_close(x);
    data = malloc(1 << 20);
    fp = fopen(path, "rb");
    n = fp ? fread(data, 1, 1 << 20, fp) : 0;
    if (fp)
        fclose(fp);
    x = cb_xlsx_open_mem(data, n, path, "Danh sách- đợt 1-2026 (2)", CB_LANG_EN, &err);
    ok(x && cb_xlsx_next(x, &row, &err) == 1 && row->n == 1, "the second sheet, by its name");
    cb_xlsx_close(x);
    unlink(path);

    return done_testing();
}
