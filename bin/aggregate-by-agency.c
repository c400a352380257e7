/* aggregate-by-agency: the per-agency proposal lists.
 *
 * Groups request records by managing agency (agency_code where given, else
 * validate-form's agency_key, else the normalised agency name) and writes
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
#include "atomic.h"
#include "csvio.h"
#include "date.h"
#include "rejects.h"
#include "run.h"
#include "strmap.h"
#include "vntext.h"

enum mode { MODE_SUMMARY, MODE_DETAIL, MODE_SPLIT };

static const char *const summary_cols[] = {
    "agency_key", "agency_code", "agency", "province",
    "issue_individual", "issue_organization", "renew_individual", "renew_organization", "other",
    "total", "earliest_expiry", "earliest_due", "spellings",
};
#define NSUMMARY (sizeof summary_cols / sizeof summary_cols[0])

typedef struct agg {
    cb_run run;
    cb_rejects rejects;
    cb_agency_table *table;
    cb_strmap spelling_of;    /* an agency as typed -> its cleaned spelling */
    cb_strmap key_of;         /* an agency as typed -> its grouping key */
    const cb_header *in_header;
    cb_header *out_header;
    int c_by, c_code, c_key, c_agency, c_province, c_rt, c_st, c_expiry, c_due, c_seq;
    enum mode mode;
    char spill_dir[4096];
    cb_csv_writer spill_w;
} agg;

static void usage(FILE *fp)
{
    fputs("usage: aggregate-by-agency [--by COLUMN] [--summary | --detail | --split-dir DIR]\n"
          "                           [--rejects FILE] [--strict] [-o FILE] [-q] [FILE...]\n"
          "       aggregate-by-agency --merge [-o FILE] [-q] [SUMMARY...]\n"
          "       aggregate-by-agency --help | --version\n"
          "\n"
          "Groups request records by agency: agency_code where given, else agency_key,\n"
          "else the normalised agency name (UBND = Ủy ban nhân dân, Uỷ = Ủy, any case).\n"
          "\n"
          "  --by COLUMN      group by this column instead (its values normalised)\n"
          "  --summary        one row per agency with counts and earliest dates (default)\n"
          "  --detail         every record, grouped by agency, with batch_seq appended\n"
          "  --split-dir DIR  one CSV per agency in DIR, and a manifest on stdout\n"
          "  --merge          input is summaries: write their sum\n"
          "  --rejects FILE   write rejected records there as CSV\n"
          "  --strict         exit 65 if any record was rejected\n"
          "  -o FILE          write to FILE (atomically) instead of stdout\n"
          "  -q               no summary line\n",
          fp);
}

static void die_err(const cb_err *err)
{
    fprintf(stderr, "aggregate-by-agency: %s\n", err->msg);
    exit(err->code ? err->code : EX_SOFTWARE);
}

static void oom(void)
{
    fprintf(stderr, "aggregate-by-agency: out of memory\n");
    exit(EX_OSERR);
}

/* The cleaned spelling and grouping key of a raw agency value, computed
 * once per distinct value. */
static void spelling_and_key(agg *g, const char *raw, const char **spelling, const char **key)
{
    *spelling = cb_strmap_get(&g->spelling_of, raw);
    *key = cb_strmap_get(&g->key_of, raw);
    if (*spelling && *key)
        return;
    char *clean = cb_text_clean(raw);
    char *k = g->c_by >= 0 ? cb_text_key(raw) : cb_agency_key(raw);
    if (clean == NULL || k == NULL || cb_strmap_put(&g->spelling_of, raw, clean) < 0 ||
        cb_strmap_put(&g->key_of, raw, k) < 0)
        oom();
    free(clean);
    free(k);
    *spelling = cb_strmap_get(&g->spelling_of, raw);
    *key = cb_strmap_get(&g->key_of, raw);
}

static int date_min(cb_date *slot, const char *s)
{
    if (*s == '\0')
        return 0;
    cb_date d;
    if (cb_date_parse(s, &d) < 0)
        return -1;
    if (d < *slot)
        *slot = d;
    return 0;
}

static void reject(agg *g, cb_csv_reader *r, const cb_record *rec, const char *field, const char *reason)
{
    g->run.rejected++;
    cb_rejects_add(&g->rejects, rec, cb_csv_reader_name(r), rec->line, field, reason);
}

static void add_record(agg *g, cb_csv_reader *r, cb_record *rec)
{
    const char *code = "", *spelling = "", *key = NULL;
    char codekey[256];
    if (g->c_by >= 0) {
        const char *v = cb_record_get(rec, g->c_by);
        if (*v)
            spelling_and_key(g, v, &spelling, &key);
    } else {
        const char *agency = cb_record_get(rec, g->c_agency);
        const char *akey = cb_record_get(rec, g->c_key);
        code = cb_record_get(rec, g->c_code);
        const char *k2 = NULL;
        if (*agency)
            spelling_and_key(g, agency, &spelling, &k2);
        if (*code) {
            /* Codes like 000.00.15.H41 differ only in letter case. */
            size_t i = 0;
            for (; code[i] && i < sizeof codekey - 6; i++)
                codekey[5 + i] = (char)(code[i] >= 'a' && code[i] <= 'z' ? code[i] - 32 : code[i]);
            memcpy(codekey, "code ", 5);
            codekey[5 + i] = '\0';
            key = codekey;
        } else if (*akey) {
            key = akey;
        } else {
            key = k2;
        }
    }
    if (key == NULL || *key == '\0') {
        reject(g, r, rec, g->c_by >= 0 ? g->out_header->names[g->c_by] : "agency",
               "the record names no agency (agency_code, agency_key and agency are all empty)");
        return;
    }
    cb_date expiry = CB_AG_NO_DATE, due = CB_AG_NO_DATE;
    if (date_min(&expiry, cb_record_get(rec, g->c_expiry)) < 0) {
        reject(g, r, rec, "old_not_after", "old_not_after is not a date");
        return;
    }
    if (date_min(&due, cb_record_get(rec, g->c_due)) < 0) {
        reject(g, r, rec, "due_date", "due_date is not a date");
        return;
    }
    cb_agency *a = cb_agency_get(g->table, key, *code ? code : NULL);
    if (a == NULL || (*spelling && cb_agency_add_spelling(a, spelling, 1) < 0))
        oom();
    if (a->province == NULL) {
        const char *p = cb_record_get(rec, g->c_province);
        if (*p && (a->province = strdup(p)) == NULL)
            oom();
    }
    a->counts[cb_agency_count_slot(cb_record_get(rec, g->c_rt), cb_record_get(rec, g->c_st))]++;
    a->total++;
    if (expiry < a->min_expiry)
        a->min_expiry = expiry;
    if (due < a->min_due)
        a->min_due = due;
    if (g->mode != MODE_SUMMARY) {
        char seq[24];
        snprintf(seq, sizeof seq, "%lu", a->total);
        cb_err err = {0};
        if (cb_record_set_str(rec, g->c_seq, seq) < 0)
            oom();
        FILE *fp = cb_agency_spill(g->table, a, &err);
        if (fp == NULL)
            die_err(&err);
        cb_csv_writer_init(&g->spill_w, fp);
        if (cb_csv_write_record(&g->spill_w, rec, g->out_header->n) < 0) {
            cb_err_sys(&err, EX_IOERR, "cannot write a temporary file in %s", g->spill_dir);
            die_err(&err);
        }
    }
    g->run.out++;
}

static unsigned long parse_count(const char *s, int *bad)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || *s == '-' || errno)
        *bad = 1;
    return v;
}

static void merge_record(agg *g, cb_csv_reader *r, cb_record *rec, const int *col)
{
    const char *key = cb_record_get(rec, col[0]);
    if (*key == '\0')   /* the TOTAL row of a summary */
        return;
    int bad = 0;
    unsigned long counts[CB_AG_NCOUNTS], total;
    for (int i = 0; i < CB_AG_NCOUNTS; i++)
        counts[i] = parse_count(cb_record_get(rec, col[4 + i]), &bad);
    total = parse_count(cb_record_get(rec, col[9]), &bad);
    if (bad) {
        reject(g, r, rec, NULL, "a count in this summary row is not a whole number");
        return;
    }
    cb_date expiry = CB_AG_NO_DATE, due = CB_AG_NO_DATE;
    if (date_min(&expiry, cb_record_get(rec, col[10])) < 0 || date_min(&due, cb_record_get(rec, col[11])) < 0) {
        reject(g, r, rec, NULL, "earliest_expiry or earliest_due is not a date");
        return;
    }
    const char *code = cb_record_get(rec, col[1]);
    cb_agency *a = cb_agency_get(g->table, key, *code ? code : NULL);
    if (a == NULL)
        oom();
    cb_err err = {0};
    if (cb_agency_spellings_parse(a, cb_record_get(rec, col[12]), &err) < 0) {
        reject(g, r, rec, "spellings", err.msg);
        return;
    }
    if (a->province == NULL && *cb_record_get(rec, col[3]) &&
        (a->province = strdup(cb_record_get(rec, col[3]))) == NULL)
        oom();
    for (int i = 0; i < CB_AG_NCOUNTS; i++)
        a->counts[i] += counts[i];
    a->total += total;
    if (expiry < a->min_expiry)
        a->min_expiry = expiry;
    if (due < a->min_due)
        a->min_due = due;
    g->run.out++;
}

static void fmt_date(cb_date d, char *buf)
{
    if (d == CB_AG_NO_DATE)
        buf[0] = '\0';
    else
        cb_date_format(d, buf);
}

static int write_summary(agg *g, FILE *fp)
{
    cb_csv_writer w;
    cb_csv_writer_init(&w, fp);
    cb_csv_write_fields(&w, summary_cols, NSUMMARY);
    cb_agency **list = cb_agency_sorted(g->table);
    size_t n = cb_agency_count(g->table);
    if (list == NULL)
        oom();
    unsigned long sums[CB_AG_NCOUNTS] = {0}, total = 0;
    cb_date min_e = CB_AG_NO_DATE, min_d = CB_AG_NO_DATE;
    char nums[CB_AG_NCOUNTS + 1][24], e[11], d[11];
    for (size_t i = 0; i < n; i++) {
        cb_agency *a = list[i];
        for (int k = 0; k < CB_AG_NCOUNTS; k++) {
            snprintf(nums[k], sizeof nums[k], "%lu", a->counts[k]);
            sums[k] += a->counts[k];
        }
        snprintf(nums[CB_AG_NCOUNTS], sizeof nums[0], "%lu", a->total);
        total += a->total;
        if (a->min_expiry < min_e)
            min_e = a->min_expiry;
        if (a->min_due < min_d)
            min_d = a->min_due;
        fmt_date(a->min_expiry, e);
        fmt_date(a->min_due, d);
        char *sp = cb_agency_spellings_format(a);
        if (sp == NULL)
            oom();
        const char *row[NSUMMARY] = {
            a->key, a->code ? a->code : "", cb_agency_display(a), a->province ? a->province : "",
            nums[0], nums[1], nums[2], nums[3], nums[4], nums[5], e, d, sp,
        };
        cb_csv_write_fields(&w, row, NSUMMARY);
        free(sp);
    }
    for (int k = 0; k < CB_AG_NCOUNTS; k++)
        snprintf(nums[k], sizeof nums[k], "%lu", sums[k]);
    snprintf(nums[CB_AG_NCOUNTS], sizeof nums[0], "%lu", total);
    fmt_date(min_e, e);
    fmt_date(min_d, d);
    const char *row[NSUMMARY] = {
        "", "", "TOTAL", "", nums[0], nums[1], nums[2], nums[3], nums[4], nums[5], e, d, "",
    };
    cb_csv_write_fields(&w, row, NSUMMARY);
    return ferror(fp) ? -1 : 0;
}

static int copy_file(const char *path, FILE *to)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return -1;
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
        if (fwrite(buf, 1, n, to) != n)
            break;
    int bad = ferror(fp) || ferror(to);
    fclose(fp);
    return bad ? -1 : 0;
}

static void write_detail(agg *g, FILE *fp)
{
    cb_csv_writer w;
    cb_csv_writer_init(&w, fp);
    cb_csv_write_header(&w, g->out_header);
    cb_agency **list = cb_agency_sorted(g->table);
    cb_err err = {0};
    for (size_t i = 0; list && i < cb_agency_count(g->table); i++) {
        if (cb_agency_spill_close(list[i], &err) < 0 || copy_file(list[i]->spill_path, fp) < 0) {
            if (err.code == 0)
                cb_err_sys(&err, EX_IOERR, "cannot copy the records of %s", list[i]->key);
            die_err(&err);
        }
    }
}

static int split(agg *g, const char *dir, FILE *manifest)
{
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "aggregate-by-agency: cannot create %s: %s\n", dir, strerror(errno));
        return EX_CANTCREAT;
    }
    cb_csv_writer mw;
    cb_csv_writer_init(&mw, manifest);
    static const char *const mcols[] = {"agency_key", "agency_code", "agency", "file", "records"};
    cb_csv_write_fields(&mw, mcols, 5);
    cb_agency **list = cb_agency_sorted(g->table);
    cb_strmap used = {0};
    if (list == NULL)
        oom();
    int rc = EX_OK;
    for (size_t i = 0; i < cb_agency_count(g->table); i++) {
        cb_agency *a = list[i];
        /* A name from the data is never a path: cb_slug keeps letters and
         * digits and drops '/', '..' and control characters. */
        char *slug = cb_slug(a->code ? a->code : cb_agency_display(a), 120);
        if (slug == NULL)
            oom();
        char name[200];
        snprintf(name, sizeof name, "%s.csv", slug);
        for (int k = 2; cb_strmap_get(&used, name) != NULL; k++)
            snprintf(name, sizeof name, "%s-%d.csv", slug, k);
        free(slug);
        if (cb_strmap_put(&used, name, "") < 0)
            oom();
        size_t plen = strlen(dir) + strlen(name) + 2;
        char *path = malloc(plen);
        if (path == NULL)
            oom();
        snprintf(path, plen, "%s/%s", dir, name);
        cb_err err = {0};
        cb_atomic at;
        if (cb_agency_spill_close(a, &err) < 0 || cb_atomic_open(&at, path, 0644, &err) < 0) {
            fprintf(stderr, "aggregate-by-agency: %s\n", err.msg);
            free(path);
            rc = cb_exit_worst(rc, err.code);
            continue;
        }
        cb_csv_writer w;
        cb_csv_writer_init(&w, at.fp);
        cb_csv_write_header(&w, g->out_header);
        if (copy_file(a->spill_path, at.fp) < 0) {
            cb_atomic_abort(&at);
            fprintf(stderr, "aggregate-by-agency: cannot write %s\n", path);
            rc = cb_exit_worst(rc, EX_IOERR);
        } else if (cb_atomic_commit(&at, 0, &err) < 0) {
            fprintf(stderr, "aggregate-by-agency: %s\n", err.msg);
            rc = cb_exit_worst(rc, err.code);
        } else {
            char n[24];
            snprintf(n, sizeof n, "%lu", a->total);
            const char *row[] = {a->key, a->code ? a->code : "", cb_agency_display(a), path, n};
            cb_csv_write_fields(&mw, row, 5);
        }
        free(path);
    }
    cb_strmap_clear(&used);
    return rc;
}

/* Frees what main built, for the returns after the input was opened. */
static int finish(agg *g, cb_csv_reader *r, int rc)
{
    cb_csv_reader_close(r);
    cb_agency_table_free(g->table);
    g->table = NULL;
    if (g->spill_dir[0])
        rmdir(g->spill_dir);
    cb_strmap_clear(&g->spelling_of);
    cb_strmap_clear(&g->key_of);
    cb_header_free(g->out_header);
    g->out_header = NULL;
    return rc;
}

static void remove_spill_dir(agg *g)
{
    if (g->spill_dir[0])
        rmdir(g->spill_dir);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"by", required_argument, NULL, 'b'},        {"summary", no_argument, NULL, 's'},
        {"detail", no_argument, NULL, 'd'},          {"split-dir", required_argument, NULL, 'D'},
        {"merge", no_argument, NULL, 'm'},           {"rejects", required_argument, NULL, 'r'},
        {"strict", no_argument, NULL, 'S'},          {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},           {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},         {NULL, 0, NULL, 0},
    };
    agg g = {.mode = MODE_SUMMARY};
    const char *by = NULL, *split_dir = NULL, *rejects = NULL, *output = NULL;
    int merge = 0, strict = 0, quiet = 0, modes = 0, c;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'b': by = optarg; break;
        case 's': g.mode = MODE_SUMMARY; modes++; break;
        case 'd': g.mode = MODE_DETAIL; modes++; break;
        case 'D': g.mode = MODE_SPLIT; split_dir = optarg; modes++; break;
        case 'm': merge = 1; break;
        case 'r': rejects = optarg; break;
        case 'S': strict = 1; break;
        case 'o': output = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return EX_OK;
        case 'V': printf("aggregate-by-agency certbatch %s\n", CB_VERSION); return EX_OK;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (modes > 1 || (merge && (g.mode != MODE_SUMMARY || by != NULL))) {
        fprintf(stderr, "aggregate-by-agency: choose one of --summary, --detail, --split-dir;"
                        " --merge takes summaries and writes a summary\n");
        return EX_USAGE;
    }
    cb_run_start(&g.run, "aggregate-by-agency", stderr, quiet);
    cb_err err = {0};
    cb_csv_reader *r = cb_csv_reader_open(argv + optind, argc - optind, 0, &err);
    if (r == NULL)
        die_err(&err);
    g.in_header = cb_csv_reader_header(r);
    g.out_header = cb_header_copy(g.in_header);
    g.table = cb_agency_table_new(NULL);
    if (g.out_header == NULL || g.table == NULL)
        oom();

    int mcol[NSUMMARY];
    int empty = cb_csv_reader_empty(r);   /* no bytes: zero records, no column to check */
    if (merge && !empty) {
        for (size_t i = 0; i < NSUMMARY; i++) {
            mcol[i] = cb_header_find(g.in_header, summary_cols[i]);
            if (mcol[i] < 0) {
                fprintf(stderr, "aggregate-by-agency: %s: not a summary of aggregate-by-agency:"
                                " the column '%s' is missing\n", cb_csv_reader_name(r), summary_cols[i]);
                return finish(&g, r, EX_DATAERR);
            }
        }
    } else {
        g.c_by = by ? cb_header_find(g.in_header, by) : -1;
        if (by && g.c_by < 0) {
            fprintf(stderr, "aggregate-by-agency: --by: the input has no column '%s'\n", by);
            return finish(&g, r, EX_DATAERR);
        }
        g.c_code = cb_header_find(g.in_header, "agency_code");
        g.c_key = cb_header_find(g.in_header, "agency_key");
        g.c_agency = cb_header_find(g.in_header, "agency");
        g.c_province = cb_header_find(g.in_header, "province");
        g.c_rt = cb_header_find(g.in_header, "request_type");
        g.c_st = cb_header_find(g.in_header, "subject_type");
        g.c_expiry = cb_header_find(g.in_header, "old_not_after");
        g.c_due = cb_header_find(g.in_header, "due_date");
        if (!by && !empty && g.c_code < 0 && g.c_key < 0 && g.c_agency < 0) {
            fprintf(stderr, "aggregate-by-agency: %s: no agency_code, agency_key or agency column to group by\n",
                    cb_csv_reader_name(r));
            return finish(&g, r, EX_DATAERR);
        }
        if (g.mode != MODE_SUMMARY) {
            g.c_seq = cb_header_ensure(g.out_header, "batch_seq");
            const char *tmp = getenv("TMPDIR");
            snprintf(g.spill_dir, sizeof g.spill_dir, "%s/aggregate-by-agency.XXXXXX", tmp && *tmp ? tmp : "/tmp");
            if (mkdtemp(g.spill_dir) == NULL) {
                fprintf(stderr, "aggregate-by-agency: cannot create a temporary directory: %s\n", strerror(errno));
                return finish(&g, r, EX_CANTCREAT);
            }
            cb_agency_table_free(g.table);
            g.table = cb_agency_table_new(g.spill_dir);
            if (g.table == NULL)
                oom();
        }
    }

    cb_output out;
    if (cb_output_open(&out, output, 0644, &err) < 0 ||
        cb_rejects_open(&g.rejects, "aggregate-by-agency", rejects, stderr, &err) < 0)
        die_err(&err);
    cb_rejects_set_header(&g.rejects, g.in_header);

    cb_record *rec = cb_record_new();
    if (rec == NULL)
        oom();
    int st, rc = EX_OK;
    while ((st = cb_csv_reader_next(r, rec, &err)) != CB_CSV_EOF) {
        if (st == CB_CSV_FATAL) {
            fprintf(stderr, "aggregate-by-agency: %s\n", err.msg);
            rc = err.code ? err.code : EX_DATAERR;
            break;
        }
        g.run.in++;
        cb_run_tick(&g.run);
        if (st == CB_CSV_MALFORMED) {
            reject(&g, r, rec, NULL, err.msg);
            continue;
        }
        if (merge)
            merge_record(&g, r, rec, mcol);
        else
            add_record(&g, r, rec);
    }
    cb_record_free(rec);
    cb_csv_reader_close(r);

    if (rc == EX_OK) {
        if (g.mode == MODE_SUMMARY) {
            if (write_summary(&g, out.fp) < 0)
                rc = EX_IOERR;
        } else if (g.mode == MODE_DETAIL) {
            write_detail(&g, out.fp);
        } else {
            rc = split(&g, split_dir, out.fp);
        }
    }
    cb_agency_table_free(g.table);   /* removes the spill files */
    remove_spill_dir(&g);
    if (rc != EX_OK && rc != EX_CANTCREAT) {
        cb_output_abort(&out);
        cb_rejects_abort(&g.rejects);
    } else {
        if (cb_output_close(&out, &err) < 0) {
            fprintf(stderr, "aggregate-by-agency: %s\n", err.msg);
            rc = cb_exit_worst(rc, err.code);
        }
        if (cb_rejects_close(&g.rejects, &err) < 0) {
            fprintf(stderr, "aggregate-by-agency: %s\n", err.msg);
            rc = cb_exit_worst(rc, err.code);
        }
    }
    if (strict && g.run.rejected > 0)
        rc = cb_exit_worst(rc, EX_DATAERR);
    cb_run_summary(&g.run);
    cb_strmap_clear(&g.spelling_of);
    cb_strmap_clear(&g.key_of);
    cb_header_free(g.out_header);
    return rc;
}
