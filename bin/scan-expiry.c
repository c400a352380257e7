/* scan-expiry: find the certificates that must be renewed.
 *
 * Reads certificates (PEM bundles, DER files, directories of them, stdin)
 * and writes one `cert` record (DESIGN.md) per certificate whose status is
 * selected: by default those expiring within --days (60, the renewal rule
 * of Nghị định 130/2018 Điều 63) and those already expired. The scan is
 * lib/scan.c, on the filter driver (lib/filter.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter.h"
#include "scan.h"

static const char *prog = "scan-expiry";

static void usage(FILE *fp)
{
    fputs("usage: scan-expiry [--days N] [--as-of DATE] [--all | --status LIST]\n"
          "                   [--ca FILE]... [--chain FILE]... [--crl FILE]... [--partial-chain]\n"
          "                   [--crl-optional] [--trust-full] [--trust-cache FILE] [-j N]\n"
          "                   [--ledger FILE] [--lang en|vi]\n"
          "                   [--rejects FILE] [--strict] [-o FILE] [-q] [FILE|DIR]...\n"
          "       scan-expiry --help | --version\n"
          "\n"
          "Reads X.509 certificates (PEM bundles, DER files, directories, stdin) and\n"
          "writes a CSV `cert` record for each one that needs action.\n"
          "\n"
          "  --days N        expiring means 0 <= days_left <= N (default 60)\n"
          "  --as-of DATE    today, YYYY-MM-DD or DD/MM/YYYY (default: today in UTC+07:00)\n"
          "  --all           print every certificate\n"
          "  --status LIST   print these statuses (comma-separated): valid, expiring,\n"
          "                  expired, revoked, not_yet_valid, untrusted, not_yet_effective\n"
          "                  (default: expiring,expired)\n"
          "  --ca FILE       trust anchors (self-signed CA certificates); with it every\n"
          "                  certificate's path is checked (RFC 5280) and those whose\n"
          "                  path fails are untrusted, trust_problem says why; repeatable\n"
          "  --chain FILE    intermediate CA certificates, untrusted, to build paths with;\n"
          "                  CA certificates of the input serve too; repeatable\n"
          "  --crl FILE      CRLs (PEM or DER); with --ca, revocation is checked for every\n"
          "                  certificate of the path and a missing or stale CRL makes the\n"
          "                  certificate untrusted; without --ca, a listed certificate is\n"
          "                  revoked (the CRL is not verified); repeatable\n"
          "  --partial-chain a --ca certificate that is not self-signed is an anchor too\n"
          "  --crl-optional  a missing or unusable CRL does not make a certificate untrusted\n"
          "  --trust-full    a diagnostic: every certificate through OpenSSL's full path\n"
          "                  check, not only the first of each issuer (same verdicts, slower)\n"
          "  --trust-cache FILE\n"
          "                  with --ca: the certificates found good on earlier runs (their\n"
          "                  signature, encoding and extensions); the same bytes under the\n"
          "                  same issuer key are not checked again (the path, the CRLs and\n"
          "                  the dates are); FILE is rewritten with this run's; protect it\n"
          "                  as the --ca files; a damaged FILE is ignored, with a warning\n"
          "  -j N            judge the certificates on N threads (default 1); the output\n"
          "                  is the same, in the same order\n"
          "  --lang en|vi    language of trust_problem and reasons (default en)\n"
          "  --ledger FILE   sign-batch's issuance ledger: a certificate it issued that is\n"
          "                  not published yet (its publication ledger beside it) is\n"
          "                  not_yet_effective\n"
          "  --rejects FILE  write unreadable certificates there as CSV records\n"
          "  --strict        exit 65 if any certificate was rejected\n"
          "  -o FILE         write the records to FILE (atomically) instead of stdout\n"
          "  -q              no summary line\n",
          fp);
}

/* The program's own options, beside the driver's. */
typedef struct options {
    const char *as_of, *ledger, *trust_cache;
    const char **cas, **chains, **crls;
    int nca, nchain, ncrl, all, status_given;
    cb_trust_opts trust;
} options;

static int parse_number(const char *arg, long max, int *out)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || v < 0 || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

/* 0, 1 after --help or --version, or -1 after a usage error (reported). */
static int parse_options(cb_filter *f, options *o, cb_scan_opts *so, int argc, char **argv)
{
    static const struct option opts[] = {
        {"days", required_argument, NULL, 'd'},   {"as-of", required_argument, NULL, 'a'},
        {"all", no_argument, NULL, 'A'},          {"status", required_argument, NULL, 's'},
        {"crl", required_argument, NULL, 'c'},    {"ca", required_argument, NULL, 'C'},
        {"ledger", required_argument, NULL, 'E'}, {"chain", required_argument, NULL, 'H'},
        {"partial-chain", no_argument, NULL, 'P'}, {"crl-optional", no_argument, NULL, 'O'},
        {"trust-full", no_argument, NULL, 'F'},   {"jobs", required_argument, NULL, 'j'},
        {"trust-cache", required_argument, NULL, 'S'},
        {"output", required_argument, NULL, 'o'}, {"quiet", no_argument, NULL, 'q'},
        {"rejects", required_argument, NULL, CB_FILTER_OPT_REJECTS},
        {"strict", no_argument, NULL, CB_FILTER_OPT_STRICT},
        {"lang", required_argument, NULL, CB_FILTER_OPT_LANG},
        {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    cb_err err = {0};
    int c;
    while ((c = getopt_long(argc, argv, "o:qhj:", opts, NULL)) != -1) {
        int mine = cb_filter_option(f, c, optarg);
        if (mine == CB_FILTER_OPT_BAD)
            return -1;
        if (mine == CB_FILTER_OPT_TAKEN)
            continue;
        switch (c) {
        case 'd':
            if (parse_number(optarg, 36500, &so->days) < 0)
                return cb_filter_note(f, "--days: '%s' is not a number of days", optarg), -1;
            break;
        case 'j':
            if (parse_number(optarg, 256, &so->jobs) < 0 || so->jobs == 0)
                return cb_filter_note(f, "-j: '%s' is not a number of threads", optarg), -1;
            break;
        case 'a': o->as_of = optarg; break;
        case 'A': o->all = 1; break;
        case 's':
            o->status_given = 1;
            if (cb_scan_parse_status(optarg, so->want, &err) < 0)
                return cb_filter_note(f, "%s", err.msg), -1;
            break;
        case 'c': o->crls[o->ncrl++] = optarg; break;
        case 'C': o->cas[o->nca++] = optarg; break;
        case 'H': o->chains[o->nchain++] = optarg; break;
        case 'P': o->trust.partial_chain = 1; break;
        case 'O': o->trust.crl_optional = 1; break;
        case 'F': so->trust_full = 1; break;
        case 'E': o->ledger = optarg; break;
        case 'S': o->trust_cache = optarg; break;
        case 'h': usage(stdout); return 1;
        case 'V': printf("%s certbatch %s\n", prog, CB_VERSION); return 1;
        default: usage(stderr); return -1;
        }
    }
    if (o->all && o->status_given)
        return cb_filter_note(f, "--all and --status cannot be used together"), -1;
    if (o->nca == 0 && (o->nchain > 0 || o->trust.partial_chain || o->trust.crl_optional))
        return cb_filter_note(f, "--chain, --partial-chain and --crl-optional need --ca"), -1;
    if (o->nca == 0 && o->trust_cache != NULL)
        return cb_filter_note(f, "--trust-cache needs --ca"), -1;
    for (int i = 0; o->all && i < CB_ST_COUNT; i++)
        so->want[i] = 1;
    so->vi = o->trust.lang_vi = f->lang == CB_LANG_VI;
    return 0;
}

/* --ca, --chain and --crl into the trust module, its warnings (a CRL of an
 * unknown issuer, an intermediate given as an anchor) on stderr; --crl
 * alone into the unverified revocation lists. */
static int load_revocation(cb_filter *f, const options *o, cb_scan_opts *so, cb_err *err)
{
    if (o->nca > 0) {
        if ((so->trust = cb_trust_new(&o->trust, err)) == NULL)
            return -1;
        int rc = cb_trust_load(so->trust, o->cas, o->nca, o->chains, o->nchain, o->crls, o->ncrl, err);
        const char *w;
        for (size_t i = 0; (w = cb_trust_warning(so->trust, i)) != NULL; i++)
            cb_filter_note(f, "warning: %s", w);
        return rc;
    }
    if (o->ncrl > 0 && (so->crls = cb_crlset_new()) == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    for (int i = 0; i < o->ncrl; i++)
        if (cb_crlset_load(so->crls, o->crls[i], err) < 0)
            return -1;
    return 0;
}

static int load(cb_filter *f, const options *o, cb_scan_opts *so, cb_err *err)
{
    if (cb_today(o->as_of, &so->today, err) < 0)
        return -1;
    /* Chains are judged at noon of "today" in Vietnam when --as-of is
     * given, so the run is reproducible; at the present instant otherwise. */
    so->check_time = o->as_of ? cb_date_start_instant(so->today) + 12 * 3600 : (int64_t)time(NULL);
    cb_pub_opts po = {.ledger = o->ledger, .read_only = 1};
    if (o->ledger != NULL && (so->effect = cb_publisher_open(&po, err)) == NULL)
        return -1;
    if (load_revocation(f, o, so, err) < 0)
        return -1;
    /* --trust-full checks every signature: the cache is neither read nor
     * rewritten (this run would otherwise empty it). */
    if (o->trust_cache != NULL && !so->trust_full) {
        cb_err why = {0};
        if ((so->trustcache = cb_trustcache_open(o->trust_cache, &why, err)) == NULL)
            return -1;
        int vi = f->lang == CB_LANG_VI;
        if (why.code == EX_DATAERR && vi)
            snprintf(why.msg, sizeof why.msg, "bị cắt, bị sửa, hoặc không phải tệp --trust-cache");
        if (why.code != EX_OK)
            cb_filter_note(f, vi ? "cảnh báo: --trust-cache %s: %s: mọi chứng thư số được kiểm tra lại"
                                 : "warning: --trust-cache %s: %s: every certificate is checked again",
                           o->trust_cache, why.msg);
    }
    return 0;
}

/* The certificates of this run kept for the next, and how many were known. */
static void save_trustcache(cb_filter *f, cb_trustcache *c)
{
    cb_err err = {0};
    if (cb_filter_failed(f))
        return;
    if (cb_trustcache_save(c, &err) < 0)
        cb_filter_note(f, f->lang == CB_LANG_VI ? "cảnh báo: %s (lần chạy sau kiểm tra lại mọi chứng thư số)"
                                                : "warning: %s (the next run checks every certificate again)",
                       err.msg);
    else if (!f->quiet)
        cb_filter_note(f, f->lang == CB_LANG_VI ? "%lu chứng thư số đã biết từ --trust-cache, %lu được kiểm tra và ghi thêm"
                                                : "%lu certificates known from --trust-cache, %lu checked and added",
                       cb_trustcache_hits(c), cb_trustcache_added(c));
}

int main(int argc, char **argv)
{
    static cb_filter f;
    cb_filter_init(&f, prog, stderr);
    cb_scan_opts so = {.days = 60, .jobs = 1};
    so.want[CB_ST_EXPIRING] = so.want[CB_ST_EXPIRED] = 1;
    options o = {.trust = {.leaf = CB_TRUST_LEAF_ANY_DATES}};
    o.cas = calloc((size_t)argc + 1, sizeof *o.cas);
    o.chains = calloc((size_t)argc + 1, sizeof *o.chains);
    o.crls = calloc((size_t)argc + 1, sizeof *o.crls);
    cb_err err = {0};
    cb_scan *scan = NULL;
    int rc = o.cas && o.chains && o.crls ? parse_options(&f, &o, &so, argc, argv) : -2;
    if (rc == -2)
        cb_filter_fail(&f, &(cb_err){EX_OSERR, "out of memory"});
    else if (rc != 0)
        f.rc = rc < 0 ? EX_USAGE : EX_OK;
    else if (load(&f, &o, &so, &err) < 0 || (scan = cb_scan_new(&so, &f, &err)) == NULL)
        cb_filter_fail(&f, &err);
    else if (cb_filter_open_outputs(&f) == 0) {
        if (optind >= argc)
            cb_scan_path(scan, "-");
        for (int i = optind; i < argc; i++)
            cb_scan_path(scan, argv[i]);
        cb_scan_end(scan);
        if (so.trustcache != NULL)
            save_trustcache(&f, so.trustcache);
    }
    cb_scan_free(scan);
    cb_trustcache_free(so.trustcache);
    cb_trust_free(so.trust);
    cb_crlset_free(so.crls);
    cb_publisher_free(so.effect);
    free(o.cas);
    free(o.chains);
    free(o.crls);
    return cb_filter_finish(&f);
}
