/* Benchmark: cb_csv_reader's loop as a program uses it (open, next until
 * EOF, count records and malformed ones), to set against csv-baseline. */
#include <stdio.h>

#include "csvio.h"

int main(int argc, char **argv)
{
    cb_err err = {0};
    cb_csv_reader *r = cb_csv_reader_open(argv + 1, argc - 1, 0, &err);
    if (r == NULL) {
        fprintf(stderr, "csv-reader: %s\n", err.msg);
        return err.code;
    }
    cb_record *rec = cb_record_new();
    unsigned long ok = 0, bad = 0;
    size_t bytes = 0;
    int st;
    while ((st = cb_csv_reader_next(r, rec, &err)) > 0) {
        if (st == CB_CSV_RECORD) {
            ok++;
            for (size_t i = 0; i < rec->n; i++)
                bytes += cb_record_len(rec, (int)i);
        } else {
            bad++;
        }
    }
    if (st == CB_CSV_FATAL) {
        fprintf(stderr, "csv-reader: %s\n", err.msg);
        return err.code;
    }
    printf("%lu records, %lu malformed\n", ok, bad);
    cb_record_free(rec);
    cb_csv_reader_close(r);
    return bad ? 65 : 0;
}
