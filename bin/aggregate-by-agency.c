/* aggregate-by-agency: the per-agency proposal lists.
 *
 * Groups request records by managing agency (validate-form's agency_key,
 * which is the registry's code with --agencies, else agency_code, else the
 * normalised agency name), shows the registry's agency_name where given,
 * and writes
 * a summary per agency (default), every record grouped by agency with a
 * batch_seq (--detail), or one CSV per agency (--split-dir). --merge sums
 * summaries, so the step can run in pieces (GNU parallel, Hadoop
 * Streaming) and be combined. Memory grows with agencies, not records. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agency.h"
#include "agency_out.h"
#include "filter.h"

enum mode { MODE_SUMMARY, MODE_DETAIL, MODE_SPLIT };

typedef struct agg {
    enum mode mode;
    int merge;
    const char *by, *split_dir;
    cb_agency_table *table;
    cb_agency_grouper grouper;
    cb_header *out_header;    /* the input's columns and batch_seq */
    cb_agsum_cols sum;        /* --merge: where the summary columns are */
    int c_province, c_rt, c_st, c_expiry, c_due, c_seq;
    char spill_dir[4096];
    int spill_header;         /* spills start with the header, to be read back (workbooks) */
} agg;

static void usage(FILE *fp)
{
    fputs("usage: aggregate-by-agency [--by COLUMN] [--summary | --detail | --split-dir DIR]\n"
          "                           [--delimiter C] [--sheet NAME] [--rejects FILE] [--strict]\n"
          "                           [-o FILE] [--excel-csv] [-q] [FILE...]\n"
          "       aggregate-by-agency --merge [-o FILE] [-q] [SUMMARY...]\n"
          "       aggregate-by-agency --help | --version\n"
          "\n"
          "Groups request records by agency: agency_key (validate-form's, the registry's\n"
          "code with --agencies) where given, else agency_code, else the normalised agency\n"
          "name (UBND = Ủy ban nhân dân, Uỷ = Ủy, any case); shows agency_name if given.\n"
          "\n"
          "  --by COLUMN      group by this column instead (its values normalised)\n"
          "  --summary        one row per agency with counts and earliest dates (default)\n"
          "  --detail         every record, grouped by agency, with batch_seq appended\n"
          "  --split-dir DIR  one CSV per agency in DIR, and a manifest on stdout\n"
          "  --merge          input is summaries: write their sum\n"
          "  --delimiter C    ',', ';' or tab (default: found from each file's header line)\n"
          "  --sheet NAME     of a workbook (.xlsx) input, the sheet to read (default: the first)\n"
          "  --rejects FILE   write rejected records there as CSV\n"
          "  --strict         exit 65 if any record was rejected\n"
          "  -o FILE          write to FILE (atomically) instead of stdout; FILE.xlsx (also for\n"
          "                   --rejects): an Excel workbook with Vietnamese labels; with --detail\n"
          "                   a summary sheet and one sheet per agency\n"
          "  --excel-csv      CSV for Excel: UTF-8 BOM, Vietnamese labels, CRLF\n"
          "  -q               no summary line\n",
          fp);
}

static int oom(cb_err *err)
{
    return cb_err_set(err, EX_OSERR, "out of memory");
}

/* --detail and --split-dir: the record, numbered within its agency, into
 * the agency's spill file. */
static int spill(agg *g, cb_agency *a, cb_record *rec, cb_err *err)
{
    char seq[24];
    snprintf(seq, sizeof seq, "%lu", a->total);
    if (cb_record_set_str(rec, g->c_seq, seq) < 0)
        return oom(err);
    FILE *fp = cb_agency_spill(g->table, a, err);
    if (fp == NULL)
        return -1;
    cb_csv_writer w;
    cb_csv_writer_init(&w, fp);
    if ((g->spill_header && a->total == 1 && cb_csv_write_header(&w, g->out_header) < 0) ||
        cb_csv_write_record(&w, rec, g->out_header->n) < 0)
        return cb_err_sys(err, EX_IOERR, "cannot write a temporary file in %s", g->spill_dir);
    return 0;
}

static int add_record(agg *g, cb_filter *f, cb_record *rec, cb_err *err)
{
    const char *key, *spelling, *code;
    if (cb_agency_group(&g->grouper, rec, &key, &spelling, &code) < 0)
        return oom(err);
    if (key == NULL || *key == '\0')
        return cb_filter_reject(f, rec, cb_agency_group_field(&g->grouper),
                                "the record names no agency (agency_code, agency_key and agency are all empty)"), 0;
    cb_date expiry = CB_AG_NO_DATE, due = CB_AG_NO_DATE;
    if (cb_agsum_date_min(&expiry, cb_record_get(rec, g->c_expiry)) < 0)
        return cb_filter_reject(f, rec, "old_not_after", "old_not_after is not a date"), 0;
    if (cb_agsum_date_min(&due, cb_record_get(rec, g->c_due)) < 0)
        return cb_filter_reject(f, rec, "due_date", "due_date is not a date"), 0;
    cb_agency *a = cb_agency_get(g->table, key, *code ? code : NULL);
    unsigned long one[CB_AG_NCOUNTS] = {0};
    one[cb_agency_count_slot(cb_record_get(rec, g->c_rt), cb_record_get(rec, g->c_st))] = 1;
    if (a == NULL || (*spelling && cb_agency_add_spelling(a, spelling, 1) < 0) ||
        cb_agency_tally(a, cb_record_get(rec, g->c_province), one, 1, expiry, due) < 0)
        return oom(err);
    if (g->mode != MODE_SUMMARY && spill(g, a, rec, err) < 0)
        return -1;
    cb_filter_count_out(f);
    return 0;
}

static int process(void *ctx, cb_filter *f, cb_record *rec, cb_err *err)
{
    agg *g = ctx;
    if (!g->merge)
        return add_record(g, f, rec, err);
    const char *field;
    int r = cb_agsum_merge(g->table, &g->sum, rec, &field, err);
    if (r > 0)
        cb_filter_count_out(f);
    else if (r == 0)
        cb_filter_drop(f);    /* a TOTAL row: the merge computes its own */
    else if (err->code == EX_DATAERR)
        cb_filter_reject(f, rec, field, err->msg);
    else
        return -1;
    return 0;
}

static int bind_columns(agg *g, const cb_header *in, cb_err *err)
{
    if (cb_agency_grouper_bind(&g->grouper, in, g->by, err) < 0)
        return -1;
    g->c_province = cb_header_find(in, "province");
    g->c_rt = cb_header_find(in, "request_type");
    g->c_st = cb_header_find(in, "subject_type");
    g->c_expiry = cb_header_find(in, "old_not_after");
    g->c_due = cb_header_find(in, "due_date");
    return 0;
}

static int begin(void *ctx, cb_filter *f, const cb_header *in, cb_err *err)
{
    agg *g = ctx;
    g->spill_header = g->mode == MODE_DETAIL && (f->excel_csv || cb_sheet_path_is_xlsx(f->output));
    /* An input with no bytes has no column and no record (csvio): there
     * is nothing to bind, and the outputs are written with their headers. */
    int empty = in->n == 0;
    if (!empty && (g->merge ? cb_agsum_bind(&g->sum, in, err) < 0 : bind_columns(g, in, err) < 0))
        return -1;
    if ((g->out_header = cb_header_copy(in)) == NULL)
        return oom(err);
    if (g->mode != MODE_SUMMARY) {
        g->c_seq = cb_header_ensure(g->out_header, "batch_seq");
        const char *tmp = getenv("TMPDIR");
        snprintf(g->spill_dir, sizeof g->spill_dir, "%s/aggregate-by-agency.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (mkdtemp(g->spill_dir) == NULL) {
            g->spill_dir[0] = '\0';
            return cb_err_sys(err, EX_CANTCREAT, "cannot create a temporary directory");
        }
    }
    if ((g->table = cb_agency_table_new(g->mode != MODE_SUMMARY ? g->spill_dir : NULL)) == NULL)
        return oom(err);
    return 0;
}

/* --split-dir: the files, and the manifest of those written on the output.
 * A file that cannot be created is left out of the manifest and the run
 * exits 73; any other failure abandons the manifest. */
static int split(agg *g, cb_filter *f, cb_err *err)
{
    if (mkdir(g->split_dir, 0755) < 0 && errno != EEXIST) {
        cb_err_sys(err, EX_CANTCREAT, "cannot create %s", g->split_dir);
        cb_filter_fail(f, err);
        return 0;
    }
    cb_sheet_out *mw = cb_filter_sheet(f);
    static const char *const mcols[] = {"agency_key", "agency_code", "agency", "file", "records"};
    if (cb_sheet_begin(mw, "Danh sách tệp", mcols, 5, err) < 0)
        return -1;
    cb_agency **list = cb_agency_sorted(g->table);
    cb_strmap used = {0};
    int worst = EX_OK, no_memory = list == NULL;
    for (size_t i = 0; !no_memory && i < cb_agency_count(g->table); i++) {
        cb_agency *a = list[i];
        char *path;
        if (cb_agency_write_file(a, g->out_header, g->split_dir, &used, &path, err) < 0) {
            if ((no_memory = path == NULL))
                break;
            worst = cb_exit_worst(worst, cb_filter_fail(f, err));
        } else {
            char n[24];
            snprintf(n, sizeof n, "%lu", a->total);
            const char *row[] = {a->key, a->code ? a->code : "", cb_agency_display(a), path, n};
            if (cb_sheet_fields(mw, row, 5, err) < 0) {
                free(path);
                return -1;
            }
        }
        free(path);
    }
    cb_strmap_clear(&used);
    if (no_memory)
        return oom(err);
    if (worst != EX_OK && worst != EX_CANTCREAT)
        cb_filter_abandon(f);
    return 0;
}

static int end(void *ctx, cb_filter *f, cb_err *err)
{
    agg *g = ctx;
    FILE *csv = cb_filter_sheet(f)->fmt == CB_SHEET_CSV ? cb_filter_output(f) : NULL;
    if (g->mode == MODE_DETAIL)
        return csv ? cb_agency_write_detail(g->table, g->out_header, csv, err)
                   : cb_agency_write_detail_sheets(g->table, g->out_header, cb_filter_sheet(f), err);
    if (g->mode == MODE_SPLIT)
        return split(g, f, err);
    if (csv ? cb_agsum_write(g->table, csv) < 0 : cb_agsum_write_sheet(g->table, cb_filter_sheet(f), err) < 0)
        cb_filter_write_error(f);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"by", required_argument, NULL, 'b'},        {"summary", no_argument, NULL, 's'},
        {"detail", no_argument, NULL, 'd'},          {"split-dir", required_argument, NULL, 'D'},
        {"merge", no_argument, NULL, 'm'},           CB_FILTER_OPTIONS_NO_LANG,
        CB_FILTER_INPUT_OPTIONS,
        {"help", no_argument, NULL, 'h'},            {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    static cb_filter f;
    cb_filter_init(&f, "aggregate-by-agency", stderr);
    agg g = {.mode = MODE_SUMMARY};
    int modes = 0, c;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        int mine = cb_filter_option(&f, c, optarg);
        if (mine == CB_FILTER_OPT_BAD)
            return EX_USAGE;
        if (mine == CB_FILTER_OPT_TAKEN)
            continue;
        switch (c) {
        case 'b': g.by = optarg; break;
        case 's': g.mode = MODE_SUMMARY; modes++; break;
        case 'd': g.mode = MODE_DETAIL; modes++; break;
        case 'D': g.mode = MODE_SPLIT; g.split_dir = optarg; modes++; break;
        case 'm': g.merge = 1; break;
        case 'h': usage(stdout); return EX_OK;
        case 'V': printf("aggregate-by-agency certbatch %s\n", CB_VERSION); return EX_OK;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (modes > 1 || (g.merge && (g.mode != MODE_SUMMARY || g.by != NULL))) {
        cb_filter_note(&f, "choose one of --summary, --detail, --split-dir;"
                           " --merge takes summaries and writes a summary");
        return EX_USAGE;
    }
    static const cb_filter_step step = {begin, process, end};
    cb_filter_run(&f, argv + optind, argc - optind, NULL, &step, &g);
    cb_agency_table_free(g.table);   /* removes the spill files */
    if (g.spill_dir[0])
        rmdir(g.spill_dir);
    cb_agency_grouper_free(&g.grouper);
    cb_header_free(g.out_header);
    return cb_filter_finish(&f);
}
