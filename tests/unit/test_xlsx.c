/* Unit tests for the workbook module: cell names, telling a zip from
 * text, and archives that are not workbooks. Reading real workbooks
 * written by openpyxl is tested in tests/cli/208-validate-form-xlsx.t. */
#include <stdlib.h>
#include <string.h>

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
    cb_xlsx *x = cb_xlsx_open_mem(junk, strlen(junk), "junk.xlsx", NULL, &err);
    ok(x == NULL, "a file that only starts like a zip is not opened");
    is_int(err.code, EX_DATAERR, "it is a data error");
    ok(strstr(err.msg, "junk.xlsx: not a readable workbook") != NULL, "naming the file");
    return done_testing();
}
