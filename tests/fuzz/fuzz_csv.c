/* libFuzzer harness: the CSV reader and writer (lib/records/csvio.c), differential
 * against libcsv itself. The reader feeds libcsv a line at a time, splits
 * plain lines itself and re-parses after a broken record; on an input where
 * it reports nothing malformed (and that has no BOM, no NUL, only UTF-8,
 * which it treats specially on purpose) its header and records must be
 * exactly what libcsv gives parsing the whole buffer in one call. The good
 * records, written out by the writer, must read back the same. An input
 * with a form feed is cut there into two files read as one stream (later
 * headers mapped by name). */
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

/* A record of several fields all empty (",,,," as Excel leaves after the
 * data) is a blank line to the reader: both transcripts leave it out. */
static void drop_if_blank(text *t, size_t start)
{
    size_t len = t->n - start;
    if (len < 3)
        return;   /* one field at most: "" is a record */
    for (size_t i = start; i + 1 < t->n; i++)
        if (t->s[i] != '\x1f')
            return;
    t->n = start;
}

/* The oracle's transcript drops a record equal to the header, as the
 * reader does (the header line of the next of several concatenated
 * outputs). */
typedef struct oracle_text {
    text t;                    /* first: the field callback writes here */
    size_t rec_start, hdr_len;
    int nrec;
} oracle_text;

static void on_oracle_record(int c, void *ctx)
{
    oracle_text *o = ctx;
    on_record(c, &o->t);
    if (o->nrec > 0)
        drop_if_blank(&o->t, o->rec_start);
    size_t len = o->t.n - o->rec_start;
    if (o->nrec++ == 0)
        o->hdr_len = len;
    else if (len == o->hdr_len && memcmp(o->t.s + o->rec_start, o->t.s, len) == 0)
        o->t.n = o->rec_start;
    o->rec_start = o->t.n;
}

static void oracle(const uint8_t *data, size_t size, text *t)
{
    struct csv_parser p;
    oracle_text o = {{0}, 0, 0, 0};
    if (csv_init(&p, 0) != 0)
        abort();
    csv_set_space_func(&p, no_space);
    csv_parse(&p, data, size, on_field, on_oracle_record, &o);
    csv_fini(&p, on_field, on_oracle_record, &o);
    csv_free(&p);
    *t = o.t;
}

/* Reads files[0..n) to the end into a transcript; with w, writes every
 * good record back out as CSV too. Returns 1 when nothing was malformed. */
static int drain(char **files, int n, text *got, cb_csv_writer *w, int delimiter)
{
    cb_err err = {0};
    cb_csv_opts o = {.limit = 4096, .delimiter = delimiter};
    cb_csv_reader *r = cb_csv_reader_open_opts(files, n, &o, &err);
    if (r == NULL)
        return 0;
    int clean = !cb_csv_reader_empty(r);
    const cb_header *h = cb_csv_reader_header(r);
    for (size_t i = 0; i < h->n; i++)
        on_field(h->names[i], strlen(h->names[i]), got);
    on_record(0, got);
    if (w != NULL && clean && cb_csv_write_header(w, h) < 0)
        abort();
    cb_record *rec = cb_record_new();
    int st;
    long last = 0;
    const char *name = cb_csv_reader_name(r);
    while ((st = cb_csv_reader_next(r, rec, &err)) != CB_CSV_EOF && st != CB_CSV_FATAL) {
        if (name == cb_csv_reader_name(r) && rec->line < last)
            abort();   /* a file's records come in the order of their lines */
        name = cb_csv_reader_name(r);
        last = rec->line;
        if (st == CB_CSV_MALFORMED) {
            clean = 0;
            continue;
        }
        size_t mark = got->n;
        for (size_t i = 0; i < rec->n; i++)
            on_field(rec->f[i].s, rec->f[i].len, got);
        on_record(0, got);
        drop_if_blank(got, mark);
        if (w != NULL && cb_csv_write_record(w, rec, rec->n) < 0)
            abort();
    }
    if (st == CB_CSV_FATAL)
        clean = 0;
    cb_record_free(rec);
    cb_csv_reader_close(r);
    return clean;
}

/* Two files read as one stream: the input cut at its first form feed. */
static void two_files(const uint8_t *data, size_t size, const uint8_t *ff)
{
    char p1[64], p2[64];
    int f1 = fuzz_memfile(data, (size_t)(ff - data), p1, sizeof p1);
    int f2 = fuzz_memfile(ff + 1, size - (size_t)(ff - data) - 1, p2, sizeof p2);
    char *files[] = {p1, p2};
    text got = {0};
    (void)drain(files, 2, &got, NULL, 0);
    free(got.s);
    close(f1);
    close(f2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *ff = memchr(data, '\f', size);
    if (ff != NULL) {
        two_files(data, size, ff);
        return 0;
    }
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    char *files[] = {path};
    text got = {0};
    char *written = NULL;
    size_t written_len = 0;
    FILE *out = open_memstream(&written, &written_len);
    cb_csv_writer w;
    cb_csv_writer_init(&w, out);
    int clean = drain(files, 1, &got, &w, 0);
    /* The delimiter is found from the first line: the oracle is libcsv's
     * default, so the two are compared when that line has no ';' or tab. */
    size_t first = 0;
    while (first < size && data[first] != '\n' && data[first] != '\r')
        first++;
    int comma = memchr(data, ';', first) == NULL && memchr(data, '\t', first) == NULL;
    fclose(out);
    if (clean && comma && size > 0 && memmem(data, size, "\xEF\xBB\xBF", 3) == NULL && memchr(data, '\0', size) == NULL &&
        cb_utf8_valid((const char *)data, size)) {
        text want = {0};
        oracle(data, size, &want);
        if (got.n != want.n || memcmp(got.s, want.s, got.n) != 0)
            abort();
        free(want.s);
    }
    /* What the writer wrote reads back as the same header and records.
     * Not when it begins like a zip archive: a workbook is found by its
     * content (lib/xlsx), so a first column named "PK\3\4..." reads back as
     * a broken workbook (found by fuzzing; no form has such a name). */
    if (clean && !(written_len >= 4 && memcmp(written, "PK\3\4", 4) == 0)) {
        char p2[64];
        int fd2 = fuzz_memfile((const uint8_t *)written, written_len, p2, sizeof p2);
        char *again[] = {p2};
        text back = {0};
        if (!drain(again, 1, &back, NULL, ',') || back.n != got.n || memcmp(back.s, got.s, got.n) != 0)
            abort();
        free(back.s);
        close(fd2);
    }
    free(written);
    free(got.s);
    close(fd);
    return 0;
}
