/* Benchmark baseline: the bare libcsv parse loop, nothing else: read a
 * file in 64 KiB blocks, hand each block to csv_parse with callbacks that
 * only count. What cb_csv_reader adds (line numbers, records, UTF-8 checks,
 * header mapping, recovery) is measured against this. */
#include <csv.h>
#include <stdio.h>
#include <stdlib.h>

struct counts {
    unsigned long fields, records;
    size_t bytes;
};

static void on_field(void *s, size_t len, void *ctx)
{
    struct counts *c = ctx;
    (void)s;
    c->fields++;
    c->bytes += len;
}

static void on_record(int term, void *ctx)
{
    struct counts *c = ctx;
    (void)term;
    c->records++;
}

int main(int argc, char **argv)
{
    FILE *fp = argc > 1 ? fopen(argv[1], "rb") : stdin;
    if (fp == NULL) {
        perror(argv[1]);
        return 66;
    }
    struct csv_parser p;
    csv_init(&p, 0);
    struct counts c = {0};
    static char buf[64 * 1024];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
        if (csv_parse(&p, buf, n, on_field, on_record, &c) != n) {
            fprintf(stderr, "csv-baseline: %s\n", csv_strerror(csv_error(&p)));
            return 65;
        }
    csv_fini(&p, on_field, on_record, &c);
    csv_free(&p);
    /* The header is a record too; report data records like the reader. */
    printf("%lu records\n", c.records ? c.records - 1 : 0);
    return 0;
}
