/* select-records: keep the records whose columns have the values asked for.
 *
 * The night's lists are selected from one scan (scan-expiry --all): the
 * certificates expiring, those expired. This is that selection, as a filter
 * on the driver: `--where status=expiring` keeps a record when its status
 * is exactly "expiring"; the records left out are counted as filtered, so
 * in = out + filtered in the summary line. The columns are not changed and
 * the records keep their order. It replaces Miller's `filter` in the
 * shipped pipelines: Miller reads a whole batch of records ahead, which
 * holds memory on a nation's inventory, and is an order of magnitude
 * slower than the CSV reader the other programs share. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"

static const char *prog = "select-records";

#define MAX_WHERE 32
#define MAX_VALUES 64

/* One --where: the column, whether it must (=) or must not (!=) have one
 * of the values, and the values. */
typedef struct where {
    const char *spec;          /* as given, for messages */
    char *column;
    int negate;
    int col;                   /* the column's index in the input */
    size_t nvalues;
    char *values[MAX_VALUES];
    size_t lens[MAX_VALUES];
} where;

typedef struct selector {
    where w[MAX_WHERE];
    int n;
    cb_lang lang;
} selector;

static void usage(FILE *fp)
{
    fputs("usage: select-records --where COLUMN=VALUES [--where COLUMN!=VALUES]...\n"
          "                      [--delimiter C] [--sheet NAME] [--rejects FILE] [--strict]\n"
          "                      [--lang en|vi] [--excel-csv] [-o FILE] [-q] [FILE...]\n"
          "       select-records --help | --version\n"
          "\n"
          "Writes the CSV records whose columns have the values asked for, unchanged and in\n"
          "their order; the others are counted as filtered.\n"
          "\n"
          "  --where COLUMN=VALUES   keep a record whose COLUMN is exactly one of VALUES\n"
          "                          (comma-separated; COLUMN= keeps an empty COLUMN)\n"
          "  --where COLUMN!=VALUES  keep a record whose COLUMN is none of VALUES\n"
          "                          (repeatable: a record is kept when every --where holds;\n"
          "                          a COLUMN missing from the input stops the run, exit 65)\n"
          "  --delimiter C           ',', ';' or tab (default: found from each file's header line)\n"
          "  --sheet NAME            of a workbook (.xlsx) input, the sheet to read (default: the first)\n"
          "  --rejects FILE          write malformed records there as CSV (default: stderr)\n"
          "  --strict                exit 65 if any record was rejected\n"
          "  --lang en|vi            language of the messages (default en)\n"
          "  -o FILE                 write to FILE (atomically) instead of stdout; FILE.xlsx: a workbook\n"
          "  --excel-csv             CSV for Excel: UTF-8 BOM, Vietnamese labels, CRLF\n"
          "  -q                      no summary line\n",
          fp);
}

/* Parses "COLUMN=V1,V2" or "COLUMN!=V1,V2" into w (the strings are the
 * option's copy). 0, or -1 with why set. */
static int parse_where(where *w, const char *spec, const char **why)
{
    const char *eq = strchr(spec, '=');
    if (eq == NULL || eq == spec || (eq == spec + 1 && spec[0] == '!')) {
        *why = "is not COLUMN=VALUES or COLUMN!=VALUES";
        return -1;
    }
    w->spec = spec;
    w->negate = eq[-1] == '!';
    size_t clen = (size_t)(eq - spec) - (size_t)w->negate;
    if ((w->column = strndup(spec, clen)) == NULL) {
        *why = "out of memory";
        return -1;
    }
    const char *v = eq + 1;
    for (;;) {
        const char *comma = strchr(v, ',');
        size_t len = comma != NULL ? (size_t)(comma - v) : strlen(v);
        if (w->nvalues == MAX_VALUES) {
            *why = "has more than 64 values";
            return -1;
        }
        if ((w->values[w->nvalues] = strndup(v, len)) == NULL) {
            *why = "out of memory";
            return -1;
        }
        w->lens[w->nvalues++] = len;
        if (comma == NULL)
            return 0;
        v = comma + 1;
    }
}

static void free_where(selector *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->w[i].column);
        for (size_t j = 0; j < s->w[i].nvalues; j++)
            free(s->w[i].values[j]);
    }
}

static int begin(void *ctx, cb_filter *f, const cb_header *in, cb_err *err)
{
    selector *s = ctx;
    if (in->n == 0)  /* an input with no bytes: zero records, nothing to select on */
        return 0;
    for (int i = 0; i < s->n; i++) {
        if ((s->w[i].col = cb_header_find(in, s->w[i].column)) < 0)
            return cb_err_set(err, EX_DATAERR,
                              s->lang == CB_LANG_VI ? "--where %s: dữ liệu vào không có cột '%s'"
                                                    : "--where %s: the input has no column '%s'",
                              s->w[i].spec, s->w[i].column);
    }
    if (cb_filter_set_header(f, in) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    return 0;
}

static int holds(const where *w, const cb_record *rec)
{
    const char *v = cb_record_get(rec, w->col);
    size_t len = cb_record_len(rec, w->col);
    for (size_t j = 0; j < w->nvalues; j++)
        if (w->lens[j] == len && memcmp(w->values[j], v, len) == 0)
            return !w->negate;
    return w->negate;
}

static int process(void *ctx, cb_filter *f, cb_record *rec, cb_err *err)
{
    (void)err;
    selector *s = ctx;
    for (int i = 0; i < s->n; i++)
        if (!holds(&s->w[i], rec)) {
            cb_filter_drop(f);
            return 0;
        }
    cb_filter_emit(f, rec);
    return 0;
}

int main(int argc, char **argv)
{
    enum { O_WHERE = 1, O_VERSION };
    static const struct option opts[] = {
        {"where", required_argument, NULL, O_WHERE},
        CB_FILTER_OPTIONS,
        CB_FILTER_INPUT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
    };
    static cb_filter f;
    static selector s;
    cb_filter_init(&f, prog, stderr);
    f.out_sheet = "Bản ghi đã chọn";
    int c, rc = EX_USAGE;
    while ((c = cb_filter_getopt(&f, argc, argv, "o:qh", opts)) != -1) {
        const char *why = NULL;
        switch (c) {
        case CB_FILTER_GETOPT_BAD: goto out;
        case O_WHERE:
            if (s.n == MAX_WHERE)
                why = "more than 32 --where options";
            else if (parse_where(&s.w[s.n++], optarg, &why) == 0)
                break;
            cb_filter_note(&f, "--where %s: %s", optarg, why);
            goto out;
        case 'h': usage(stdout); rc = EX_OK; goto out;
        case O_VERSION: printf("%s certbatch %s\n", prog, CB_VERSION); rc = EX_OK; goto out;
        default: usage(stderr); goto out;
        }
    }
    if (s.n == 0) {
        cb_filter_note(&f, "--where is required");
        usage(stderr);
        goto out;
    }
    s.lang = f.lang;
    static const cb_filter_step step = {begin, process, NULL};
    cb_filter_run(&f, argv + optind, argc - optind, NULL, &step, &s);
    rc = cb_filter_finish(&f);
out:
    free_where(&s);
    return rc;
}
