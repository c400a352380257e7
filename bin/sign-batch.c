/* sign-batch: issue and renew certificates from request records with the CA
 * key, and sign or check batch files with a detached CMS signature. The
 * work is in lib/signrun.c (a run of issue or renew on the filter driver:
 * the issuer side, the batches on threads, the manifest), lib/batch.c (the
 * ledger's rules and the crash-safe write order: journal, ledger, key
 * files), lib/issue.c (certificates), lib/keyload.c (keys, passphrases,
 * tokens) and lib/cms.c (signatures); this file holds the options and
 * what each subcommand tells. A re-run finishes what a crash left
 * half-done and writes the certificates the ledger already holds for its
 * requests out again: its output is always the whole batch. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "audit.h"
#include "cms.h"
#include "filter.h"
#include "issue.h"
#include "keyload.h"
#include "profile.h"
#include "signrun.h"

#define PROG "sign-batch"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: " PROG " issue --ca-cert FILE --ca-key KEY --key-dir DIR [--pins FILE]\n"
            "                  [--key-alg rsa2048|rsa3072|ec-p256] [--profile FILE] [--ledger FILE]\n"
            "                  [--manifest FILE] [--rejects FILE] [--strict] [-j N] [-o FILE] [-q]\n"
            "                  [FILE...]\n"
            "       " PROG " renew --ca-cert FILE --ca-key KEY --old-certs FILE|DIR [--extend-months N]\n"
            "                  [--profile FILE] [--ledger FILE] [--manifest FILE] [--rejects FILE]\n"
            "                  [--strict] [-j N] [-o FILE] [-q] [FILE...]\n"
            "       " PROG " sign --cert FILE --key KEY [-o FILE] [-q] [FILE]\n"
            "       " PROG " verify --ca FILE --sig FILE [-q] [FILE]\n"
            "       " PROG " --help | --version\n"
            "Key passphrase or token PIN: --pass-file FILE, --pass-fd N or $CB_CA_PASS.\n"
            "A key in a token: --ca-key 'pkcs11:token=...;object=...' [--pkcs11-module LIB].\n"
            "Audit log (issue, renew, sign): --audit FILE, a checkpoint signed by the key (audit-verify).\n");
}

typedef struct opts {
    const char *mode;
    cb_signrun_cfg run;             /* issue and renew */
    const char *old_certs[64];
    const char *cert, *key, *ca, *sig;   /* sign and verify */
} opts;

/* A whole number in [lo, hi], as the options -j, --pass-fd, --extend-months take. */
static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* The one file sign and verify read (NULL for stdin), once the options
 * they need (have) are given. */
static int one_file(cb_filter *f, int have, const char *mode, int nfiles, char **files,
                    const char **path)
{
    if (!have)
        return usage(stderr), -1;
    if (nfiles > 1)
        return cb_filter_note(f, "%s takes one file", mode), -1;
    *path = nfiles == 1 && strcmp(files[0], "-") != 0 ? files[0] : NULL;
    return 0;
}

/* The detached signature of the file, then its audit record. */
static int sign_file(cb_filter *f, const opts *o, const char *path, X509 *cert, EVP_PKEY *key,
                     cb_err *err)
{
    BIO *in = path ? BIO_new_file(path, "rb") : BIO_new_fp(stdin, BIO_NOCLOSE);
    if (in == NULL)
        return cb_err_sys(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open %s", path);
    cb_output out;
    int rc = cb_output_open(&out, f->output, 0644, err);
    if (rc == 0) {
        f->run.in = 1;
        BIO *ob = BIO_new_fp(out.fp, BIO_NOCLOSE);
        rc = ob ? cb_cms_sign(cert, key, NULL, in, ob, err) : cb_err_set(err, EX_OSERR, "out of memory");
        BIO_free(ob);
        if (rc < 0)
            cb_output_abort(&out);
        else if ((rc = cb_output_close(&out, err)) == 0) {
            f->run.out = 1;
            if (cb_audit_sign(o->run.audit, path, cert, key, err) < 0) {
                cb_err why = *err;
                rc = cb_err_set(err, why.code, "signed, but %.1000s", why.msg);
            }
        }
    }
    BIO_free(in);
    return rc;
}

static int do_sign(cb_filter *f, const opts *o, int nfiles, char **files)
{
    const char *path;
    if (one_file(f, o->cert && o->key, "sign", nfiles, files, &path) < 0)
        return EX_USAGE;
    cb_err err = {0};
    cb_signing_key k = {0};
    X509 *cert = cb_cert_load(o->cert, &err);
    int rc = cert && cb_key_load_src(&k, o->key, &o->run.secret, o->run.pkcs11_module, &err) == 0
                 ? sign_file(f, o, path, cert, k.pkey, &err)
                 : -1;
    cb_key_free(&k);
    X509_free(cert);
    if (rc < 0)
        return cb_filter_fail(f, &err);
    cb_run_summary(&f->run);
    return EX_OK;
}

static int do_verify(cb_filter *f, const opts *o, int nfiles, char **files)
{
    const char *path;
    if (one_file(f, o->ca && o->sig, "verify", nfiles, files, &path) < 0)
        return EX_USAGE;
    cb_err err = {0};
    char signer[512];
    f->run.in = 1;
    if (cb_cms_verify(o->ca, o->sig, path, stdin, signer, sizeof signer, &err) < 0) {
        f->run.rejected = 1;
        cb_run_summary(&f->run);
        return cb_filter_fail(f, &err);
    }
    f->run.out = 1;
    if (!f->quiet)
        cb_filter_note(f, "%s: good signature by %s", path ? path : "stdin", signer);
    cb_run_summary(&f->run);
    return EX_OK;
}

/* issue and renew: the run on the filter driver (lib/signrun.c). */
static int do_batch(cb_filter *f, opts *o, int nfiles, char **files)
{
    cb_signrun_cfg *c = &o->run;
    c->mode = strcmp(o->mode, "renew") == 0 ? CB_ISSUE_RENEW : CB_ISSUE_NEW;
    c->old_certs = o->old_certs;
    if (!c->ca_cert || !c->ca_key)
        return cb_filter_note(f, "%s needs --ca-cert and --ca-key", o->mode), EX_USAGE;
    if (c->mode == CB_ISSUE_RENEW && c->nold == 0)
        return cb_filter_note(f, "renew needs --old-certs FILE|DIR"), EX_USAGE;
    if (c->mode == CB_ISSUE_NEW && !c->key_dir)
        return cb_filter_note(f, "issue needs --key-dir DIR for the new keys"), EX_USAGE;
    cb_err err = {0};
    cb_signrun *r = cb_signrun_new(c, &err);
    if (r == NULL)
        return cb_filter_fail(f, &err);
    f->keep_outputs = 1;   /* what was issued is in the ledger: it is shown */
    cb_filter_run(f, files, nfiles, NULL, &cb_signrun_step, r);
    cb_signrun_finish(r, f);
    cb_filter_finish(f);
    return cb_signrun_close(r, f);
}

/* One option of sign-batch's own; -1 after telling why it is wrong. */
static int option(cb_filter *f, opts *o, int c, const char *arg)
{
    cb_signrun_cfg *r = &o->run;
    switch (c) {
    case 'C': r->ca_cert = arg; return 0;
    case 'K': r->ca_key = arg; return 0;
    case 'P': r->profile = arg; return 0;
    case 'D': r->key_dir = arg; return 0;
    case 'N': r->pins = arg; return 0;
    case 'L': r->ledger = arg; return 0;
    case 'M': r->manifest = arg; return 0;
    case 'U': r->audit = arg; return 0;
    case 'm': r->pkcs11_module = arg; return 0;
    case 'f': r->secret.file = arg; return 0;
    case 'c': o->cert = arg; return 0;
    case 'k': o->key = arg; return 0;
    case 'a': o->ca = arg; return 0;
    case 's': o->sig = arg; return 0;
    case 'O':
        if (r->nold == 64)
            return cb_filter_note(f, "too many --old-certs"), -1;
        o->old_certs[r->nold++] = arg;
        return 0;
    case 'E':
        if (parse_int(arg, 1, CB_MAX_RENEW_MONTHS, &r->extend_months) == 0)
            return 0;
        cb_filter_note(f, "--extend-months: a renewal extends by 1 to %d months (Nghị định "
                          "68/2024/NĐ-CP Điều 9)", CB_MAX_RENEW_MONTHS);
        return -1;
    case 'A':
        if (cb_key_alg_valid(r->key_alg = arg))
            return 0;
        return cb_filter_note(f, "--key-alg: '%s' is not one of rsa2048, rsa3072, ec-p256", arg), -1;
    case 'F':
        if (parse_int(arg, 0, INT_MAX, &r->secret.fd) == 0)
            return 0;
        return cb_filter_note(f, "--pass-fd: not a file descriptor: %s", arg), -1;
    case 'j':
        if (parse_int(arg, 1, 256, &r->jobs) == 0)
            return 0;
        return cb_filter_note(f, "-j: a number of workers from 1 to 256"), -1;
    default: return usage(stderr), -1;
    }
}

int main(int argc, char **argv)
{
    cb_guard_std_fds();
    static const struct option lopts[] = {
        {"ca-cert", required_argument, 0, 'C'}, {"ca-key", required_argument, 0, 'K'},
        {"profile", required_argument, 0, 'P'}, {"key-alg", required_argument, 0, 'A'},
        {"key-dir", required_argument, 0, 'D'}, {"pins", required_argument, 0, 'N'},
        {"ledger", required_argument, 0, 'L'}, {"manifest", required_argument, 0, 'M'},
        {"old-certs", required_argument, 0, 'O'}, {"extend-months", required_argument, 0, 'E'},
        {"cert", required_argument, 0, 'c'}, {"key", required_argument, 0, 'k'},
        {"ca", required_argument, 0, 'a'}, {"sig", required_argument, 0, 's'},
        {"pass-file", required_argument, 0, 'f'}, {"pass-fd", required_argument, 0, 'F'},
        {"pkcs11-module", required_argument, 0, 'm'}, {"audit", required_argument, 0, 'U'},
        {"rejects", required_argument, 0, CB_FILTER_OPT_REJECTS},
        {"strict", no_argument, 0, CB_FILTER_OPT_STRICT}, {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'}, {0, 0, 0, 0},
    };
    static cb_filter f;
    static opts o = {.run = {.jobs = 1, .secret = {NULL, -1, "CB_CA_PASS"}}};
    cb_filter_init(&f, PROG, stderr);
    int c;   /* the subcommand is the first word that is not an option */
    while ((c = getopt_long(argc, argv, "o:qj:", lopts, NULL)) != -1) {
        if (c == 'h')
            return usage(stdout), EX_OK;
        if (c == 'V')
            return printf(PROG " certbatch " CB_VERSION "\n"), EX_OK;
        int mine = cb_filter_option(&f, c, optarg);
        if (mine == CB_FILTER_OPT_BAD || (mine == CB_FILTER_OPT_NOT_MINE && option(&f, &o, c, optarg) < 0))
            return EX_USAGE;
    }
    if (optind >= argc)
        return usage(stderr), EX_USAGE;
    o.mode = argv[optind++];
    o.run.pkcs11_module = o.run.pkcs11_module ? o.run.pkcs11_module : getenv("CB_PKCS11_MODULE");
    int nfiles = argc - optind;
    char **files = argv + optind;
    if (strcmp(o.mode, "sign") == 0)
        return do_sign(&f, &o, nfiles, files);
    if (strcmp(o.mode, "verify") == 0)
        return do_verify(&f, &o, nfiles, files);
    if (strcmp(o.mode, "issue") == 0 || strcmp(o.mode, "renew") == 0)
        return do_batch(&f, &o, nfiles, files);
    cb_filter_note(&f, "unknown mode '%s'", o.mode);
    return usage(stderr), EX_USAGE;
}
