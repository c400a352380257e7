/* libFuzzer harness: the CSV reader (lib/csvio.c), differential against
 * libcsv itself. The reader feeds libcsv a line at a time, splits plain
 * lines itself and re-parses after a broken record; on an input where it
 * reports nothing malformed (and that has no BOM, no NUL, only UTF-8, which
 * it treats specially on purpose) its header and records must be exactly
 * what libcsv gives parsing the whole buffer in one call. */
#include <csv.h>
#include <string.h>
#include <unistd.h>

#include "csvio.h"
#include "fuzz.h"
#include "vntext.h"

/* The oracle's records, each field followed by '\x1f', each record by
 * '\x1e'; the reader's transcript is made the same way. */
typedef struct text {
    char *s;
    size_t n, cap;
} text;

static void add(text *t, const void *p, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        t->cap = (t->n + n + 1) * 2;
        if ((t->s = realloc(t->s, t->cap)) == NULL)
            abort();
    }
    memcpy(t->s + t->n, p, n);
    t->n += n;
}

static void on_field(void *s, size_t len, void *ctx)
{
    add(ctx, s ? s : "", s ? len : 0);
    add(ctx, "\x1f", 1);
}

static void on_record(int c, void *ctx)
{
    (void)c;
    add(ctx, "\x1e", 1);
}

static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

static void oracle(const uint8_t *data, size_t size, text *t)
{
    struct csv_parser p;
    if (csv_init(&p, 0) != 0)
        abort();
    csv_set_space_func(&p, no_space);
    csv_parse(&p, data, size, on_field, on_record, t);
    csv_fini(&p, on_field, on_record, t);
    csv_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    char *files[] = {path};
    cb_err err = {0};
    cb_csv_reader *r = cb_csv_reader_open(files, 1, 4096, &err);
    int clean = r != NULL && !cb_csv_reader_empty(r);
    text got = {0};
    if (r != NULL) {
        const cb_header *h = cb_csv_reader_header(r);
        for (size_t i = 0; i < h->n; i++)
            on_field(h->names[i], strlen(h->names[i]), &got);
        on_record(0, &got);
        cb_record *rec = cb_record_new();
        int st;
        long last = 0;
        while ((st = cb_csv_reader_next(r, rec, &err)) != CB_CSV_EOF && st != CB_CSV_FATAL) {
            if (rec->line < last)
                abort();   /* records come in the order of their lines */
            last = rec->line;
            if (st == CB_CSV_MALFORMED) {
                clean = 0;
                continue;
            }
            for (size_t i = 0; i < rec->n; i++)
                on_field(rec->f[i].s, rec->f[i].len, &got);
            on_record(0, &got);
        }
        if (st == CB_CSV_FATAL)
            clean = 0;
        cb_record_free(rec);
        cb_csv_reader_close(r);
    }
    if (clean && size > 0 && data[0] != 0xEF && memchr(data, '\0', size) == NULL &&
        cb_utf8_valid((const char *)data, size)) {
        text want = {0};
        oracle(data, size, &want);
        if (got.n != want.n || memcmp(got.s, want.s, got.n) != 0)
            abort();
        free(want.s);
    }
    free(got.s);
    close(fd);
    return 0;
}
