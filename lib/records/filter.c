/* The filter driver: see filter.h. */
#include "filter.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void cb_filter_init(cb_filter *f, const char *prog, FILE *diag)
{
    memset(f, 0, offsetof(cb_filter, obuf));
    f->diag = diag;
    cb_run_start(&f->run, prog, diag, 0);
}

int cb_filter_option(cb_filter *f, int c, const char *arg)
{
    switch (c) {
    case 'o': f->output = arg; return CB_FILTER_OPT_TAKEN;
    case 'q': f->quiet = f->run.quiet = 1; f->run.progress = 0; return CB_FILTER_OPT_TAKEN;
    case CB_FILTER_OPT_REJECTS: f->rejects_path = arg; return CB_FILTER_OPT_TAKEN;
    case CB_FILTER_OPT_STRICT: f->strict = 1; return CB_FILTER_OPT_TAKEN;
    case CB_FILTER_OPT_EXCEL_CSV: f->excel_csv = 1; return CB_FILTER_OPT_TAKEN;
    case CB_FILTER_OPT_SHEET: f->csv.sheet = arg; return CB_FILTER_OPT_TAKEN;
    case CB_FILTER_OPT_DELIMITER:
        if ((f->csv.delimiter = cb_csv_delimiter_parse(arg)) != 0)
            return CB_FILTER_OPT_TAKEN;
        cb_filter_note(f, "--delimiter: '%s' is not ',', ';' or tab", arg);
        return CB_FILTER_OPT_BAD;
    case CB_FILTER_OPT_LANG:
        if (cb_lang_parse(arg, &f->lang) == 0)
            return CB_FILTER_OPT_TAKEN;
        cb_filter_note(f, "--lang: '%s' is neither en nor vi", arg);
        return CB_FILTER_OPT_BAD;
    default: return CB_FILTER_OPT_NOT_MINE;
    }
}

int cb_filter_getopt(cb_filter *f, int argc, char **argv, const char *shortopts,
                     const struct option *longopts)
{
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        int mine = cb_filter_option(f, c, optarg);
        if (mine == CB_FILTER_OPT_BAD)
            return CB_FILTER_GETOPT_BAD;
        if (mine == CB_FILTER_OPT_NOT_MINE)
            return c;
    }
    return -1;
}

int cb_filter_list_add(cb_filter *f, const char **list, int *n, int max, const char *name,
                       const char *value)
{
    if (*n >= max) {
        cb_filter_note(f, "too many %s options", name);
        return -1;
    }
    list[(*n)++] = value;
    return 0;
}

static int count_problem(cb_filter *f, const cb_err *err)
{
    f->rc = cb_exit_worst(f->rc, err->code ? err->code : EX_SOFTWARE);
    return f->rc;
}

void cb_filter_count_problem(cb_filter *f, int code)
{
    f->rc = cb_exit_worst(f->rc, code ? code : EX_SOFTWARE);
}

int cb_filter_fail(cb_filter *f, const cb_err *err)
{
    fprintf(f->diag, "%s: %s\n", f->run.prog, err->msg);
    return count_problem(f, err);
}

int cb_filter_fail_at(cb_filter *f, const char *input, long line, const cb_err *err)
{
    fprintf(f->diag, "%s: %s:%ld: %s\n", f->run.prog, input, line, err->msg);
    return count_problem(f, err);
}

void cb_filter_note(cb_filter *f, const char *fmt, ...)
{
    va_list ap;
    fprintf(f->diag, "%s: ", f->run.prog);
    va_start(ap, fmt);
    vfprintf(f->diag, fmt, ap);
    va_end(ap);
    fputc('\n', f->diag);
}

static int out_of_memory(cb_filter *f)
{
    cb_err err;
    cb_err_set(&err, EX_OSERR, "out of memory");
    f->failed = 1;
    cb_filter_fail(f, &err);
    return -1;
}

int cb_filter_set_header(cb_filter *f, const cb_header *out)
{
    cb_header *c = cb_header_copy(out);
    if (c == NULL)
        return out_of_memory(f);
    cb_header_free(f->out_header);
    f->out_header = c;
    return 0;
}

int cb_filter_set_reject_header(cb_filter *f, const cb_header *h)
{
    return cb_rejects_set_header(&f->rejects, h) < 0 ? out_of_memory(f) : 0;
}

int cb_filter_open_outputs(cb_filter *f)
{
    cb_err err = {0};
    /* The rejects channel keeps its header across the open. */
    cb_header *rh = f->rejects.header;
    f->rejects.header = NULL;
    if (cb_sheet_open(&f->out, f->output, f->excel_csv, f->lang, &err) < 0) {
        cb_header_free(rh);
        f->failed = 1;
        return cb_filter_fail(f, &err), -1;
    }
    if (cb_rejects_open_as(&f->rejects, f->run.prog, f->rejects_path, f->excel_csv, f->lang, f->diag, &err) < 0) {
        cb_header_free(rh);
        cb_sheet_abort(&f->out);
        f->failed = 1;
        return cb_filter_fail(f, &err), -1;
    }
    f->rejects.header = rh;
    f->outputs_open = 1;
    if (cb_sheet_fp(&f->out) == stdout)   /* a pipe's default buffer is a few KiB */
        setvbuf(stdout, f->obuf, _IOFBF, sizeof f->obuf);
    if (f->out_header != NULL &&
        cb_sheet_begin_header(&f->out, f->out_sheet ? f->out_sheet : f->run.prog, f->out_header, &err) < 0)
        return cb_filter_write_error(f);
    return 0;
}

FILE *cb_filter_output(cb_filter *f)
{
    return f->outputs_open ? cb_sheet_fp(&f->out) : NULL;
}

cb_sheet_out *cb_filter_sheet(cb_filter *f)
{
    return f->outputs_open ? &f->out : NULL;
}

const char *cb_filter_input(const cb_filter *f)
{
    return f->input;
}

void cb_filter_in(cb_filter *f)
{
    f->run.in++;
    cb_run_tick(&f->run);
}

int cb_filter_write_error(cb_filter *f)
{
    if (!f->write_failed) {
        fprintf(f->diag, "%s: cannot write: %s\n", f->run.prog, strerror(errno));
        f->rc = cb_exit_worst(f->rc, EX_IOERR);
    }
    f->write_failed = f->failed = 1;
    return -1;
}

int cb_filter_write(cb_filter *f, const cb_record *rec)
{
    size_t n = f->out_header ? f->out_header->n : rec->n;
    cb_err err = {0};
    if (f->write_failed || cb_sheet_record(&f->out, rec, n, &err) < 0)
        return cb_filter_write_error(f);
    return 0;
}

int cb_filter_emit(cb_filter *f, const cb_record *rec)
{
    f->run.out++;
    return cb_filter_write(f, rec);
}

void cb_filter_count_out(cb_filter *f)
{
    f->run.out++;
}

int cb_filter_emit_line(cb_filter *f, const char *line, size_t len)
{
    f->run.out++;
    FILE *fp = cb_filter_output(f);
    if (f->write_failed || fp == NULL || fwrite(line, 1, len, fp) != len)
        return cb_filter_write_error(f);
    return 0;
}

int cb_filter_failed(const cb_filter *f)
{
    return f->failed;
}

int cb_filter_reject_at(cb_filter *f, const cb_record *rec, const char *input, long line,
                        const char *field, const char *reason)
{
    f->run.rejected++;
    if (f->write_failed || cb_rejects_add(&f->rejects, rec, input, line, field, reason) < 0)
        return cb_filter_write_error(f);
    return 0;
}

int cb_filter_reject(cb_filter *f, const cb_record *rec, const char *field, const char *reason)
{
    return cb_filter_reject_at(f, rec, f->input, rec->line, field, reason);
}

void cb_filter_drop(cb_filter *f)
{
    f->run.filtered++;
}

int cb_filter_stop(cb_filter *f, const char *input, long line, const cb_err *err)
{
    f->failed = 1;
    if (input != NULL)
        cb_filter_fail_at(f, input, line, err);
    else
        cb_filter_fail(f, err);
    return f->rc;
}

static int read_loop(cb_filter *f, const cb_filter_step *step, void *ctx, cb_record *rec)
{
    cb_err err = {0};
    int st;
    while (!f->failed && (st = cb_csv_reader_next(f->reader, rec, &err)) != CB_CSV_EOF) {
        if (st == CB_CSV_FATAL) {
            if (err.code == 0)
                err.code = EX_IOERR;
            return cb_filter_stop(f, NULL, 0, &err);
        }
        cb_filter_in(f);
        f->input = cb_csv_reader_name(f->reader);
        if (st == CB_CSV_MALFORMED && f->damaged_stops) {
            f->run.rejected++;   /* lost with the run: in = out + rejected */
            err.code = EX_DATAERR;
            return cb_filter_stop(f, f->input, rec->line, &err);
        }
        if (st == CB_CSV_MALFORMED) {
            cb_filter_reject(f, rec, NULL, err.msg);
            continue;
        }
        if (step->process != NULL && step->process(ctx, f, rec, &err) < 0) {
            /* the record is lost: it counts as rejected, so in = out + rejected */
            f->run.rejected++;
            return cb_filter_stop(f, f->input, rec->line, &err);
        }
    }
    return f->rc;
}

/* The reader's warnings (a number that lost its leading 0, given back). */
static void warn_line(void *ctx, const char *msg)
{
    cb_filter_note(ctx, "%s", msg);
}

int cb_filter_run(cb_filter *f, char *const *files, int nfiles, cb_csv_canon_fn canon,
                  const cb_filter_step *step, void *ctx)
{
    cb_err err = {0};
    f->csv.canon = canon;
    f->csv.lang = f->lang == CB_LANG_VI;
    f->csv.warn = warn_line;
    f->csv.warn_ctx = f;
    f->reader = cb_csv_reader_open_opts(files, nfiles, &f->csv, &err);
    if (f->reader == NULL) {
        f->failed = 1;
        return cb_filter_fail(f, &err);
    }
    f->input = cb_csv_reader_name(f->reader);
    const cb_header *in = cb_csv_reader_header(f->reader);
    if (step->begin != NULL && step->begin(ctx, f, in, &err) < 0)
        return cb_filter_stop(f, f->input, 1, &err);
    if (f->failed)   /* begin stopped the run itself, with its own message */
        return f->rc;
    if (f->rejects.header == NULL && cb_filter_set_reject_header(f, in) < 0)
        return f->rc;
    if (cb_filter_open_outputs(f) < 0)
        return f->rc;
    cb_record *rec = cb_record_new();
    if (rec == NULL)
        return out_of_memory(f), f->rc;
    read_loop(f, step, ctx, rec);
    cb_record_free(rec);
    if (!f->failed && step->end != NULL && step->end(ctx, f, &err) < 0)
        cb_filter_stop(f, NULL, 0, &err);
    return f->rc;
}

void cb_filter_abandon(cb_filter *f)
{
    f->failed = 1;
}

void cb_filter_keep_outputs(cb_filter *f)
{
    f->keep_outputs = 1;
}

void cb_filter_exit_at_least(cb_filter *f, int code)
{
    f->rc = cb_exit_worst(f->rc, code);
}

static void close_outputs(cb_filter *f)
{
    cb_err err = {0};
    if (f->failed && (!f->keep_outputs || f->write_failed)) {
        cb_sheet_abort(&f->out);
        cb_rejects_abort(&f->rejects);
        return;
    }
    if (cb_sheet_close(&f->out, &err) < 0) {
        /* half an output and whole rejects would not add up */
        cb_rejects_abort(&f->rejects);
        cb_filter_fail(f, &err);
    } else if (cb_rejects_close(&f->rejects, &err) < 0)
        cb_filter_fail(f, &err);
}

int cb_filter_finish(cb_filter *f)
{
    int started = f->outputs_open;   /* nothing to sum up before the outputs were open */
    if (f->outputs_open)
        close_outputs(f);
    else
        cb_rejects_abort(&f->rejects);
    f->outputs_open = 0;
    cb_csv_reader_close(f->reader);
    f->reader = NULL;
    cb_header_free(f->out_header);
    f->out_header = NULL;
    if (f->strict && (f->run.rejected > 0 || f->shortfall > 0))
        f->rc = cb_exit_worst(f->rc, EX_DATAERR);
    if (started && cb_run_summary(&f->run) < 0)
        f->rc = cb_exit_worst(f->rc, EX_IOERR);
    return f->rc;
}
