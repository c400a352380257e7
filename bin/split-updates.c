/* split-updates: routes the update file the central agency sends back — a
 * PEM or PKCS#7 bundle of renewed or new certificates — to a directory per
 * agency and a file per holder, after checking each certificate against the
 * CA, and writes a CSV manifest of what went where for notify. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/x509.h>

#include "atomic.h"
#include "cb_err.h"
#include "csvio.h"
#include "date.h"
#include "record.h"
#include "rejects.h"
#include "run.h"
#include "updates.h"

#define PROG "split-updates"
#define MAX_LIST 64

static const char *const columns[] = {
    "request_id", "old_serial", "serial", "subject_cn", "holder", "email", "agency", "agency_key",
    "agency_code", "path", "not_after", "status", "matched_by", "reason", "source", "trust_problem",
};
enum { NCOLS = sizeof columns / sizeof columns[0] };

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: " PROG " --out DIR --ca FILE [--chain FILE]... [--crl FILE]... [--partial-chain]\n"
            "                     [--crl-optional] [--requests FILE] [--old-certs FILE|DIR]\n"
            "                     [--as-of DATE] [--format pem|der|both] [--lang en|vi]\n"
            "                     [--rejects FILE] [--strict] [-o MANIFEST] [-q] [FILE...]\n"
            "       " PROG " --help | --version\n"
            "\n"
            "Checks each certificate of the update file (PEM, or PKCS#7 .p7b/.p7c in DER or\n"
            "PEM; stdin when no FILE) against the CA, matches it to a pending request, and\n"
            "writes DIR/<agency>/<holder>-<serial>.pem; certificates that match no request go\n"
            "to DIR/_unmatched. The CSV manifest goes to stdout.\n"
            "\n"
            "  --ca FILE        trust anchors (self-signed CA certificates); repeatable\n"
            "  --chain FILE     intermediate CA certificates to build paths with; repeatable\n"
            "  --crl FILE       CRLs: revocation is checked for the whole path; repeatable\n"
            "  --partial-chain  a --ca certificate that is not self-signed is an anchor too\n"
            "  --crl-optional   a missing or unusable CRL does not make a certificate untrusted\n"
            "  --lang en|vi     language of trust_problem (default en)\n");
}

static void die(int code, const char *fmt, const char *arg)
{
    fprintf(stderr, PROG ": ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(code);
}

/* One manifest record from a result. */
static int fill(cb_record *rec, const cb_update_result *res)
{
    const cb_update_request *q = res->req;
    const char *email = q && *q->email ? q->email : res->email;
    const char *v[NCOLS] = {
        q ? q->request_id : "", q ? q->old_serial : "", res->serial, res->subject_cn,
        q ? q->holder : "", email, q ? q->agency : "", q ? q->agency_key : "",
        q ? q->agency_code : "", res->path, res->not_after, cb_update_status_name(res->status),
        res->matched_by ? res->matched_by : "", res->reason, res->source, res->trust_problem,
    };
    cb_record_clear(rec);
    for (int i = 0; i < NCOLS; i++)
        if (cb_record_set_str(rec, i, v[i]) < 0)
            return -1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *out_dir = NULL, *as_of = NULL, *rejects_path = NULL, *manifest = NULL;
    char *req_files[MAX_LIST];
    const char *ca_files[MAX_LIST], *old_paths[MAX_LIST], *chain_files[MAX_LIST], *crl_files[MAX_LIST];
    int nreq = 0, nca = 0, nold = 0, nchain = 0, ncrl = 0, strict = 0, quiet = 0;
    cb_trust_opts topts = {.leaf = CB_TRUST_LEAF_MAY_START_LATER};
    cb_update_format fmt = CB_UPD_PEM;
    enum { O_OUT = 256, O_CA, O_REQ, O_OLD, O_ASOF, O_FMT, O_REJ, O_STRICT, O_HELP, O_VERSION,
           O_CHAIN, O_CRL, O_PARTIAL, O_CRLOPT, O_LANG };
    static const struct option opts[] = {
        {"out", required_argument, NULL, O_OUT},       {"ca", required_argument, NULL, O_CA},
        {"requests", required_argument, NULL, O_REQ},  {"old-certs", required_argument, NULL, O_OLD},
        {"as-of", required_argument, NULL, O_ASOF},    {"format", required_argument, NULL, O_FMT},
        {"rejects", required_argument, NULL, O_REJ},   {"strict", no_argument, NULL, O_STRICT},
        {"help", no_argument, NULL, O_HELP},           {"version", no_argument, NULL, O_VERSION},
        {"chain", required_argument, NULL, O_CHAIN},   {"crl", required_argument, NULL, O_CRL},
        {"partial-chain", no_argument, NULL, O_PARTIAL}, {"crl-optional", no_argument, NULL, O_CRLOPT},
        {"lang", required_argument, NULL, O_LANG},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "o:q", opts, NULL)) != -1) {
        switch (c) {
        case O_OUT: out_dir = optarg; break;
        case O_CA:
            if (nca == MAX_LIST)
                die(EX_USAGE, "too many --ca options%s", "");
            ca_files[nca++] = optarg;
            break;
        case O_CHAIN:
            if (nchain == MAX_LIST)
                die(EX_USAGE, "too many --chain options%s", "");
            chain_files[nchain++] = optarg;
            break;
        case O_CRL:
            if (ncrl == MAX_LIST)
                die(EX_USAGE, "too many --crl options%s", "");
            crl_files[ncrl++] = optarg;
            break;
        case O_PARTIAL: topts.partial_chain = 1; break;
        case O_CRLOPT: topts.crl_optional = 1; break;
        case O_LANG:
            if (strcmp(optarg, "en") != 0 && strcmp(optarg, "vi") != 0)
                die(EX_USAGE, "--lang: '%s' is neither en nor vi", optarg);
            topts.lang_vi = strcmp(optarg, "vi") == 0;
            break;
        case O_REQ:
            if (nreq == MAX_LIST)
                die(EX_USAGE, "too many --requests options%s", "");
            req_files[nreq++] = optarg;
            break;
        case O_OLD:
            if (nold == MAX_LIST)
                die(EX_USAGE, "too many --old-certs options%s", "");
            old_paths[nold++] = optarg;
            break;
        case O_ASOF: as_of = optarg; break;
        case O_FMT:
            if (strcmp(optarg, "pem") == 0)
                fmt = CB_UPD_PEM;
            else if (strcmp(optarg, "der") == 0)
                fmt = CB_UPD_DER;
            else if (strcmp(optarg, "both") == 0)
                fmt = CB_UPD_BOTH;
            else
                die(EX_USAGE, "--format: '%s' is not pem, der or both", optarg);
            break;
        case O_REJ: rejects_path = optarg; break;
        case O_STRICT: strict = 1; break;
        case 'o': manifest = optarg; break;
        case 'q': quiet = 1; break;
        case O_HELP: usage(stdout); return 0;
        case O_VERSION: printf(PROG " certbatch " CB_VERSION "\n"); return 0;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (out_dir == NULL || nca == 0) {
        fprintf(stderr, PROG ": %s is required\n", out_dir == NULL ? "--out DIR" : "--ca FILE");
        usage(stderr);
        return EX_USAGE;
    }
    cb_err err = {0};
    cb_date today;
    if (cb_today(as_of, &today, &err) < 0)
        die(err.code ? err.code : EX_USAGE, "%s", err.msg);
    /* With --as-of, a certificate counts as valid if it is valid at some time
     * of that day in Vietnam; without it, now. */
    int64_t at = as_of ? cb_date_start_instant(today) + 86399 : (int64_t)time(NULL);
    for (int i = optind; i < argc; i++) {
        struct stat st;
        if (strcmp(argv[i], "-") != 0 && stat(argv[i], &st) != 0)
            die(EX_NOINPUT, "cannot open %s", argv[i]);
    }

    cb_updates *u = cb_updates_new(out_dir, fmt, at, &err);
    if (u == NULL)
        die(err.code, "%s", err.msg);
    cb_trust *trust = cb_trust_new(&topts, &err);
    if (trust == NULL)
        die(err.code, "%s", err.msg);
    int loaded = cb_trust_load(trust, ca_files, nca, chain_files, nchain, crl_files, ncrl, &err);
    const char *warning;
    for (size_t i = 0; (warning = cb_trust_warning(trust, i)) != NULL; i++)
        fprintf(stderr, PROG ": warning: %s\n", warning);
    if (loaded < 0)
        die(err.code, "%s", err.msg);
    cb_updates_set_trust(u, trust);
    if (nreq && cb_updates_load_requests(u, req_files, nreq, &err) < 0)
        die(err.code, "%s", err.msg);
    for (int i = 0; i < nold; i++) {
        unsigned long skipped = 0;
        if (cb_updates_load_old_certs(u, old_paths[i], &skipped, &err) < 0)
            die(err.code, "%s", err.msg);
        if (skipped)
            fprintf(stderr, PROG ": %s: %lu unreadable items skipped\n", old_paths[i], skipped);
    }

    cb_run run;
    cb_run_start(&run, PROG, stderr, quiet);
    cb_header *hdr = cb_header_new();
    cb_record *rec = cb_record_new();
    if (hdr == NULL || rec == NULL)
        die(EX_OSERR, "%s", "out of memory");
    for (int i = 0; i < NCOLS; i++)
        cb_header_add(hdr, columns[i]);
    cb_rejects rj;
    if (cb_rejects_open(&rj, PROG, rejects_path, stderr, &err) < 0 || cb_rejects_set_header(&rj, hdr) < 0)
        die(err.code ? err.code : EX_OSERR, "%s", err.code ? err.msg : "out of memory");
    cb_output out;
    if (cb_output_open(&out, manifest, 0644, &err) < 0) {
        cb_rejects_abort(&rj);
        die(err.code, "%s", err.msg);
    }
    cb_csv_writer w;
    cb_csv_writer_init(&w, out.fp);
    int code = EX_OK, write_bad = cb_csv_write_header(&w, hdr) < 0;
    unsigned long missing = 0;

    char *stdin_only[] = {"-"};
    char **files = optind < argc ? argv + optind : stdin_only;
    int nfiles = optind < argc ? argc - optind : 1;
    for (int fi = 0; fi < nfiles && code == EX_OK; fi++) {
        cb_certs_reader *cr = cb_certs_open(files[fi], &err);
        if (cr == NULL) {
            code = err.code;
            cb_warn(&run, "%s", err.msg);
            break;
        }
        const char *name = cb_certs_name(cr);
        int last = 0;
        while (code == EX_OK && !last) {
            X509 *x = NULL;
            long line = 0, index = 0;
            int rc = cb_certs_next(cr, &x, &line, &index, &err), r = 0;
            if (rc == CB_CERTS_FATAL) {
                cb_warn(&run, "%s", err.msg);
                code = err.code;
                break;
            }
            char source[512];
            snprintf(source, sizeof source, "%.480s#%ld", name, index);
            if (rc == CB_CERTS_EOF) {
                last = fi == nfiles - 1;
                if (!last)
                    break;
                r = cb_updates_flush(u, &err);
            } else if (rc == CB_CERTS_UNREADABLE) {
                run.in++;
                r = cb_updates_add_unreadable(u, source, line, err.msg, &err);
            } else {
                run.in++;
                r = cb_updates_route(u, x, source, line, &err);
                X509_free(x);
            }
            cb_run_tick(&run);
            if (r < 0) {
                fprintf(stderr, PROG ": %s:%ld: %s\n", name, line, err.msg);
                code = err.code;
                break;
            }
            const cb_update_result *res;
            while ((res = cb_updates_next_ready(u)) != NULL) {
                if (fill(rec, res) < 0)
                    die(EX_OSERR, "%s", "out of memory");
                if (cb_update_status_is_reject(res->status)) {
                    run.rejected++;
                    /* the input's name, not the source label, as diagnostics want it */
                    const char *in = res->source;
                    char label[512];
                    snprintf(label, sizeof label, "%s", in);
                    char *hash = strrchr(label, '#');
                    if (hash)
                        *hash = '\0';
                    if (cb_rejects_add(&rj, rec, label, res->line, "", res->reason) < 0)
                        write_bad = 1;
                } else {
                    run.out++;
                }
                if (cb_csv_write_record(&w, rec, NCOLS) < 0)
                    write_bad = 1;
            }
            if (write_bad) {
                code = EX_IOERR;
                cb_warn(&run, "cannot write the manifest");
            }
        }
        cb_certs_close(cr);
    }
    if (code == EX_OK) {
        size_t pos = 0;
        cb_update_result res;
        while (cb_updates_next_missing(u, &pos, &res)) {
            missing++;
            if (fill(rec, &res) < 0)
                die(EX_OSERR, "%s", "out of memory");
            if (cb_csv_write_record(&w, rec, NCOLS) < 0) {
                code = EX_IOERR;
                break;
            }
        }
    }
    if (code == EX_OK) {
        if (cb_output_close(&out, &err) < 0)
            code = err.code, cb_warn(&run, "%s", err.msg);
    } else {
        cb_output_abort(&out);
    }
    if (cb_rejects_close(&rj, &err) < 0) {
        cb_warn(&run, "%s", err.msg);
        code = cb_exit_worst(code, err.code);
    }
    if (missing && !quiet)
        cb_warn(&run, "%lu of %zu requests got no certificate back (status missing in the manifest)",
                missing, cb_updates_request_count(u));
    cb_run_summary(&run);
    if (code == EX_OK && strict && (run.rejected || missing))
        code = EX_DATAERR;
    cb_record_free(rec);
    cb_header_free(hdr);
    cb_updates_free(u);
    cb_trust_free(trust);
    return code;
}
