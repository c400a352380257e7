/* split-updates: routes the update file the central agency sends back — a
 * PEM or PKCS#7 bundle of renewed or new certificates — to a directory per
 * agency and a file per holder, after checking each certificate against the
 * CA, and writes a CSV manifest of what went where for notify. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/x509.h>

#include "cb_err.h"
#include "date.h"
#include "filter.h"
#include "record.h"
#include "updates.h"

#define PROG "split-updates"
#define MAX_LIST 64

typedef struct options {
    const char *out_dir, *as_of;
    char *req_files[MAX_LIST];
    const char *ca_files[MAX_LIST], *old_paths[MAX_LIST], *chain_files[MAX_LIST], *crl_files[MAX_LIST];
    int nreq, nca, nold, nchain, ncrl;
    cb_update_format fmt;
    cb_trust_opts trust;
} options;

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: " PROG " --out DIR --ca FILE [--chain FILE]... [--crl FILE]... [--partial-chain]\n"
            "                     [--crl-optional] [--requests FILE] [--old-certs FILE|DIR]\n"
            "                     [--as-of DATE] [--format pem|der|both] [--lang en|vi]\n"
            "                     [--rejects FILE] [--strict] [-o MANIFEST] [--excel-csv] [-q] [FILE...]\n"
            "       " PROG " --help | --version\n"
            "\n"
            "Checks each certificate of the update file (PEM, or PKCS#7 .p7b/.p7c in DER or\n"
            "PEM; stdin when no FILE) against the CA, matches it to a pending request, and\n"
            "writes DIR/<agency>/<holder>-<serial>.pem; certificates that match no request go\n"
            "to DIR/_unmatched. The CSV manifest goes to stdout, or to -o MANIFEST (an Excel\n"
            "workbook with Vietnamese labels when it ends in .xlsx; --excel-csv: CSV for Excel,\n"
            "with a BOM, Vietnamese labels and CRLF).\n"
            "\n"
            "  --ca FILE        trust anchors (self-signed CA certificates); repeatable\n"
            "  --chain FILE     intermediate CA certificates to build paths with; repeatable\n"
            "  --crl FILE       CRLs: revocation is checked for the whole path; repeatable\n"
            "  --partial-chain  a --ca certificate that is not self-signed is an anchor too\n"
            "  --crl-optional   a missing or unusable CRL does not make a certificate untrusted\n"
            "  --lang en|vi     language of trust_problem (default en)\n");
}

/* Appends a repeatable option's value; -1 when there are too many. */
/* The options; EX_OK, or the exit code of --help, --version or a usage error. */
static int parse_options(cb_filter *f, options *o, int argc, char **argv, int *done)
{
    enum { O_OUT = 256, O_CA, O_REQ, O_OLD, O_ASOF, O_FMT, O_HELP, O_VERSION, O_CHAIN, O_CRL, O_PARTIAL,
           O_CRLOPT, O_LANG };
    static const struct option opts[] = {
        {"out", required_argument, NULL, O_OUT},       {"ca", required_argument, NULL, O_CA},
        {"requests", required_argument, NULL, O_REQ},  {"old-certs", required_argument, NULL, O_OLD},
        {"as-of", required_argument, NULL, O_ASOF},    {"format", required_argument, NULL, O_FMT},
        {"chain", required_argument, NULL, O_CHAIN},   {"crl", required_argument, NULL, O_CRL},
        {"partial-chain", no_argument, NULL, O_PARTIAL}, {"crl-optional", no_argument, NULL, O_CRLOPT},
        {"lang", required_argument, NULL, O_LANG},
        CB_FILTER_OPTIONS_NO_LANG,
        {"help", no_argument, NULL, O_HELP},           {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
    };
    static const char *const formats[] = {"pem", "der", "both"};
    static const cb_update_format fmts[] = {CB_UPD_PEM, CB_UPD_DER, CB_UPD_BOTH};
    int c, bad = 0;
    *done = 1;
    while (!bad && (c = getopt_long(argc, argv, "o:q", opts, NULL)) != -1) {
        if (cb_filter_option(f, c, optarg) == CB_FILTER_OPT_TAKEN)
            continue;
        switch (c) {
        case O_OUT: o->out_dir = optarg; break;
        case O_CA: bad = cb_filter_list_add(f, o->ca_files, &o->nca, MAX_LIST, "--ca", optarg); break;
        case O_REQ: bad = cb_filter_list_add(f, (const char **)o->req_files, &o->nreq, MAX_LIST, "--requests", optarg); break;
        case O_OLD: bad = cb_filter_list_add(f, o->old_paths, &o->nold, MAX_LIST, "--old-certs", optarg); break;
        case O_CHAIN: bad = cb_filter_list_add(f, o->chain_files, &o->nchain, MAX_LIST, "--chain", optarg); break;
        case O_CRL: bad = cb_filter_list_add(f, o->crl_files, &o->ncrl, MAX_LIST, "--crl", optarg); break;
        case O_PARTIAL: o->trust.partial_chain = 1; break;
        case O_CRLOPT: o->trust.crl_optional = 1; break;
        case O_LANG:
            bad = strcmp(optarg, "en") != 0 && strcmp(optarg, "vi") != 0;
            if (bad)
                cb_filter_note(f, "--lang: '%s' is neither en nor vi", optarg);
            o->trust.lang_vi = strcmp(optarg, "vi") == 0;
            break;
        case O_ASOF: o->as_of = optarg; break;
        case O_FMT:
            bad = 1;
            for (int i = 0; i < 3; i++)
                if (strcmp(optarg, formats[i]) == 0)
                    o->fmt = fmts[i], bad = 0;
            if (bad)
                cb_filter_note(f, "--format: '%s' is not pem, der or both", optarg);
            break;
        case O_HELP: usage(stdout); return EX_OK;
        case O_VERSION: printf(PROG " certbatch " CB_VERSION "\n"); return EX_OK;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (bad)
        return EX_USAGE;
    if (o->out_dir == NULL || o->nca == 0) {
        cb_filter_note(f, "%s is required", o->out_dir == NULL ? "--out DIR" : "--ca FILE");
        usage(stderr);
        return EX_USAGE;
    }
    *done = 0;
    return EX_OK;
}

/* The trust anchors, intermediates and CRLs (lib/trust), their warnings
 * noted; NULL after reporting why not. */
static cb_trust *load_trust(cb_filter *f, const options *o)
{
    cb_err err = {0};
    cb_trust *t = cb_trust_new(&o->trust, &err);
    if (t == NULL)
        return cb_filter_fail(f, &err), NULL;
    int rc = cb_trust_load(t, o->ca_files, o->nca, o->chain_files, o->nchain, o->crl_files, o->ncrl, &err);
    const char *w;
    for (size_t i = 0; (w = cb_trust_warning(t, i)) != NULL; i++)
        cb_filter_note(f, "warning: %s", w);
    if (rc < 0) {
        cb_filter_fail(f, &err);
        cb_trust_free(t);
        return NULL;
    }
    return t;
}

/* The router with its CA, requests and old certificates loaded; NULL after
 * reporting why not. */
static cb_updates *load(cb_filter *f, const options *o, cb_trust *trust, char **files, int nfiles)
{
    cb_err err = {0};
    cb_date today;
    if (cb_today(o->as_of, &today, &err) < 0)
        return cb_filter_fail(f, &err), NULL;
    /* With --as-of, a certificate counts as valid if it is valid at some time
     * of that day in Vietnam; without it, now. */
    int64_t at = o->as_of ? cb_date_start_instant(today) + 86399 : (int64_t)time(NULL);
    for (int i = 0; i < nfiles; i++) {
        struct stat st;
        if (strcmp(files[i], "-") != 0 && stat(files[i], &st) != 0) {
            cb_err_set(&err, EX_NOINPUT, "cannot open %s", files[i]);
            return cb_filter_fail(f, &err), NULL;
        }
    }
    cb_updates *u = cb_updates_new(o->out_dir, o->fmt, at, &err);
    int bad = u == NULL;
    if (!bad)
        cb_updates_set_trust(u, trust);
    if (!bad && o->nreq)
        bad = cb_updates_load_requests(u, (char *const *)o->req_files, o->nreq, &err) < 0;
    for (int i = 0; !bad && i < o->nold; i++) {
        unsigned long skipped = 0;
        bad = cb_updates_load_old_certs(u, o->old_paths[i], &skipped, &err) < 0;
        if (!bad && skipped)
            cb_filter_note(f, "%s: %lu unreadable items skipped", o->old_paths[i], skipped);
    }
    if (bad) {
        cb_filter_fail(f, &err);
        cb_updates_free(u);
        return NULL;
    }
    return u;
}

/* Each result the router has ready, into the manifest; rejects also to
 * the rejects channel, under the input's name. */
static int drain(cb_filter *f, cb_updates *u, cb_record *rec)
{
    const cb_update_result *res;
    while ((res = cb_updates_next_ready(u)) != NULL) {
        if (cb_update_manifest_row(res, rec) < 0)
            return cb_filter_stop(f, NULL, 0, &(cb_err){EX_OSERR, "out of memory"}), -1;
        if (cb_update_status_is_reject(res->status)) {
            char input[512];
            cb_update_input_name(res, input, sizeof input);
            if (cb_filter_reject_at(f, rec, input, res->line, "", res->reason) < 0)
                return -1;
        } else {
            cb_filter_count_out(f);
        }
        if (cb_filter_write(f, rec) < 0)
            return -1;
    }
    return 0;
}

/* Routes the certificates of one input; the last input's end flushes the
 * router. 0, or -1 once the run is stopped. */
static int route_file(cb_filter *f, cb_updates *u, const char *path, int last, cb_record *rec)
{
    cb_err err = {0};
    cb_certs_reader *cr = cb_certs_open(path, &err);
    if (cr == NULL)
        return cb_filter_stop(f, NULL, 0, &err), -1;
    const char *name = cb_certs_name(cr);
    int rc = 0, st;
    do {
        X509 *x = NULL;
        long line = 0, index = 0;
        st = cb_certs_next(cr, &x, &line, &index, &err);
        if (st == CB_CERTS_FATAL) {
            cb_filter_stop(f, NULL, 0, &err);
            rc = -1;
            break;
        }
        char source[512];
        snprintf(source, sizeof source, "%.480s#%ld", name, index);
        int r = 0;
        if (st == CB_CERTS_EOF) {
            if (!last)
                break;
            r = cb_updates_flush(u, &err);
        } else if (st == CB_CERTS_UNREADABLE) {
            cb_filter_in(f);
            r = cb_updates_add_unreadable(u, source, line, err.msg, &err);
        } else {
            cb_filter_in(f);
            r = cb_updates_route(u, x, source, line, &err);
            X509_free(x);
        }
        if (r < 0) {
            cb_filter_stop(f, name, line, &err);
            rc = -1;
            break;
        }
        rc = drain(f, u, rec);
    } while (rc == 0 && st != CB_CERTS_EOF);
    cb_certs_close(cr);
    return rc;
}

/* The requests that got no certificate back, in the manifest; they fail
 * --strict as rejects do. */
static void write_missing(cb_filter *f, cb_updates *u, cb_record *rec)
{
    size_t pos = 0;
    cb_update_result res;
    while (cb_updates_next_missing(u, &pos, &res)) {
        f->shortfall++;
        if (cb_update_manifest_row(&res, rec) < 0) {
            cb_filter_stop(f, NULL, 0, &(cb_err){EX_OSERR, "out of memory"});
            return;
        }
        if (cb_filter_write(f, rec) < 0)
            return;
    }
    if (f->shortfall && !f->quiet)
        cb_filter_note(f, "%lu of %zu requests got no certificate back (status missing in the manifest)",
                       f->shortfall, cb_updates_request_count(u));
}

int main(int argc, char **argv)
{
    static cb_filter f;
    cb_filter_init(&f, PROG, stderr);
    f.out_sheet = "Danh sách chứng thư";
    options o = {.fmt = CB_UPD_PEM, .trust = {.leaf = CB_TRUST_LEAF_MAY_START_LATER}};
    int done;
    int code = parse_options(&f, &o, argc, argv, &done);
    if (done)
        return code;
    char *stdin_only[] = {"-"};
    char **files = optind < argc ? argv + optind : stdin_only;
    int nfiles = optind < argc ? argc - optind : 1;
    cb_trust *trust = load_trust(&f, &o);
    cb_updates *u = trust ? load(&f, &o, trust, argv + optind, argc - optind) : NULL;
    if (u == NULL) {
        cb_trust_free(trust);
        return cb_filter_finish(&f);
    }

    cb_header *hdr = cb_header_new();
    cb_record *rec = cb_record_new();
    int bad = hdr == NULL || rec == NULL;
    for (int i = 0; !bad && i < CB_UPDATE_MANIFEST_NCOLS; i++)
        bad = cb_header_add(hdr, cb_update_manifest_columns[i]) < 0;
    if (bad)
        cb_filter_fail(&f, &(cb_err){EX_OSERR, "out of memory"});
    else if (cb_filter_set_header(&f, hdr) == 0 && cb_filter_set_reject_header(&f, hdr) == 0 &&
             cb_filter_open_outputs(&f) == 0) {
        int rc = 0;
        for (int fi = 0; rc == 0 && fi < nfiles; fi++)
            rc = route_file(&f, u, files[fi], fi == nfiles - 1, rec);
        if (rc == 0)
            write_missing(&f, u, rec);
    }
    cb_record_free(rec);
    cb_header_free(hdr);
    cb_updates_free(u);
    cb_trust_free(trust);
    return cb_filter_finish(&f);
}
