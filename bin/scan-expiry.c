/* scan-expiry: find the certificates that must be renewed.
 *
 * Reads certificates (PEM bundles, DER files, directories of them, stdin)
 * and writes one `cert` record (DESIGN.md) per certificate whose status is
 * selected: by default those expiring within --days (60, the renewal rule
 * of Nghị định 130/2018 Điều 63) and those already expired. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic.h"
#include "certinfo.h"
#include "csvio.h"
#include "date.h"
#include "certread.h"
#include "pemscan.h"
#include "publish.h"
#include "rejects.h"
#include "run.h"
#include "trust.h"

#include <openssl/err.h>

#define DER_MAX (1 << 20)

enum { ST_VALID, ST_EXPIRING, ST_EXPIRED, ST_REVOKED, ST_NOT_YET_VALID, ST_UNTRUSTED,
       ST_NOT_YET_EFFECTIVE, ST_COUNT };
static const char *const status_names[ST_COUNT] = {
    "valid", "expiring", "expired", "revoked", "not_yet_valid", "untrusted", "not_yet_effective",
};

static const char *const columns[] = {
    "serial", "subject_cn", "subject_o", "subject_ou", "subject_l", "subject_st", "email", "uid",
    "issuer_cn", "not_before", "not_after", "expiry_date", "days_left", "status", "sha256", "source",
    "trust_problem",
};
#define COL_SOURCE 15
#define NCOLS (sizeof columns / sizeof columns[0])

typedef struct scan {
    cb_run run;
    cb_rejects rejects;
    cb_csv_writer out;
    cb_header *header;
    cb_certinfo_ctx ctx;
    cb_crlset *crls;
    cb_trust *trust;         /* with --ca: every certificate's path is checked */
    cb_date today;
    int64_t check_time;
    int days;
    int want[ST_COUNT];
    int vi;                  /* --lang vi */
    const char **cas, **chains;
    int exit_code;
    int write_failed;
    cb_publisher *effect;   /* --ledger: issued but not yet published */
} scan;

static void usage(FILE *fp)
{
    fputs("usage: scan-expiry [--days N] [--as-of DATE] [--all | --status LIST]\n"
          "                   [--ca FILE]... [--chain FILE]... [--crl FILE]... [--partial-chain]\n"
          "                   [--crl-optional] [--lang en|vi] [--rejects FILE] [--strict]\n"
          "                   [-o FILE] [-q] [FILE|DIR]...\n"
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

static int parse_status_list(scan *s, const char *list)
{
    memset(s->want, 0, sizeof s->want);
    char *copy = strdup(list);
    if (copy == NULL)
        return -1;
    int rc = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (int i = 0; i < ST_COUNT; i++) {
            if (strcmp(tok, status_names[i]) == 0) {
                s->want[i] = 1;
                found = 1;
            }
        }
        if (!found) {
            fprintf(stderr, "scan-expiry: --status: unknown status '%s'\n", tok);
            rc = -1;
        }
    }
    free(copy);
    return rc;
}

static void reject(scan *s, const char *source, const char *input, long line, const char *reason)
{
    s->run.in++;
    s->run.rejected++;
    cb_record *r = cb_record_new();
    if (r != NULL)
        cb_record_set_str(r, COL_SOURCE, source);
    cb_rejects_add(&s->rejects, r, input, line, NULL, reason);
    cb_record_free(r);
}

/* The path check (--ca): the certificate decoded in full, a CA certificate
 * kept as an intermediate for those after it. -1 when the run must stop. */
static int check_path(scan *s, const unsigned char *der, size_t len, cb_trust_result *tr)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    cb_err err = {0};
    int rc = 0;
    if (x == NULL) {
        ERR_clear_error();
        tr->verdict = CB_TRUST_UNTRUSTED;
        snprintf(tr->problem, sizeof tr->problem, "%s",
                 s->vi ? "chứng thư số không giải mã được" : "the certificate cannot be decoded");
        return 0;
    }
    if (cb_trust_add_intermediate(s->trust, x, &err) < 0 ||
        cb_trust_verify(s->trust, x, s->check_time, tr, &err) < 0) {
        snprintf(tr->problem, sizeof tr->problem, "%.600s", err.msg);
        s->exit_code = cb_exit_worst(s->exit_code, err.code);
        rc = -1;
    }
    X509_free(x);
    return rc;
}

static void handle_cert(scan *s, const unsigned char *der, size_t len, const char *input,
                        long line, int index)
{
    char source[4200];
    snprintf(source, sizeof source, "%s#%d", input, index);
    cb_cert_info ci;
    cb_err err = {0};
    if (cb_cert_info_parse(&s->ctx, der, len, &ci, &err) < 0) {
        char reason[1200];
        snprintf(reason, sizeof reason, "certificate %d: %s", index, err.msg);
        reject(s, source, input, line, reason);
        return;
    }
    if (ci.more_emails > 0)
        cb_warn(&s->run, "%s: the subject has %d more e-mail address%s: the email column holds the first, %s",
                source, ci.more_emails, ci.more_emails > 1 ? "es" : "", ci.email);
    cb_trust_result tr = {0};
    if (s->trust != NULL && check_path(s, der, len, &tr) < 0) {
        reject(s, source, input, line, tr.problem);
        cb_cert_info_clear(&ci);
        return;
    }
    s->run.in++;
    cb_run_tick(&s->run);

    cb_date expiry = cb_date_of_instant(ci.not_after);
    long days_left = (long)expiry - (long)s->today;
    int st;
    if (tr.verdict == CB_TRUST_REVOKED || (s->trust == NULL && cb_crlset_is_revoked(s->crls, ci.serial, der, len)))
        st = ST_REVOKED;
    else if (tr.verdict == CB_TRUST_UNTRUSTED)
        st = ST_UNTRUSTED;
    else if (cb_date_of_instant(ci.not_before) > s->today)
        st = ST_NOT_YET_VALID;
    else if (s->effect && cb_publisher_effective(s->effect, ci.serial, s->check_time) == 0)
        st = ST_NOT_YET_EFFECTIVE;  /* issued, not yet published (Quyết định 1924/QĐ-BQP) */
    else if (days_left < 0)
        st = ST_EXPIRED;
    else if (days_left <= s->days)
        st = ST_EXPIRING;
    else
        st = ST_VALID;

    if (!s->want[st]) {
        s->run.filtered++;
        cb_cert_info_clear(&ci);
        return;
    }
    char nb[26], na[26], exp[11], dl[24], sha[65];
    cb_instant_format(ci.not_before, nb);
    cb_instant_format(ci.not_after, na);
    cb_date_format(expiry, exp);
    snprintf(dl, sizeof dl, "%ld", days_left);
    static const char hex[] = "0123456789ABCDEF";
    for (int i = 0; i < 32; i++) {
        sha[2 * i] = hex[ci.sha256[i] >> 4];
        sha[2 * i + 1] = hex[ci.sha256[i] & 15];
    }
    sha[64] = '\0';
#define OR_EMPTY(x) ((x) ? (x) : "")
    const char *f[NCOLS] = {
        OR_EMPTY(ci.serial), OR_EMPTY(ci.subject_cn), OR_EMPTY(ci.subject_o),
        OR_EMPTY(ci.subject_ou), OR_EMPTY(ci.subject_l), OR_EMPTY(ci.subject_st),
        OR_EMPTY(ci.email), OR_EMPTY(ci.uid), OR_EMPTY(ci.issuer_cn), nb, na, exp, dl,
        status_names[st], sha, source, tr.problem,
    };
    if (cb_csv_write_fields(&s->out, f, NCOLS) < 0)
        s->write_failed = 1;
    s->run.out++;
    cb_cert_info_clear(&ci);
}

/* Every item of one input (lib/certread: PEM, DER, PKCS#7). */
static void scan_input(scan *s, const char *path)
{
    cb_err err = {0};
    cb_certs_reader *r = cb_certs_open(path, &err);
    if (r == NULL) {
        cb_warn(&s->run, "%s", err.msg);
        s->exit_code = cb_exit_worst(s->exit_code, err.code);
        return;
    }
    const char *name = cb_certs_name(r);
    const unsigned char *der;
    size_t len;
    long line = 0, index = 0;
    int rc;
    while ((rc = cb_certs_next_der(r, &der, &len, &line, &index, &err)) != CB_CERTS_EOF) {
        char source[4200], reason[1200];
        snprintf(source, sizeof source, "%s#%ld", name, index);
        if (rc == CB_CERTS_FATAL) {
            cb_warn(&s->run, "%s", err.msg);
            s->exit_code = cb_exit_worst(s->exit_code, err.code);
            break;
        } else if (rc == CB_CERTS_SKIPPED) {
            cb_warn(&s->run, "%s:%ld: skipping a %s block: not a certificate", name, line, err.msg);
        } else if (rc == CB_CERTS_UNREADABLE) {
            snprintf(reason, sizeof reason, "certificate %ld: %s", index, err.msg);
            reject(s, source, name, line, reason);
        } else if (len > DER_MAX) {
            snprintf(reason, sizeof reason, "certificate %ld: a DER item larger than 1 MiB is not a certificate",
                     index);
            reject(s, source, name, line ? line : 1, reason);
        } else {
            handle_cert(s, der, len, name, line ? line : 1, (int)index);
        }
    }
    if (cb_certs_empty(r))
        cb_warn(&s->run, "%s: empty input", name);
    else if (rc == CB_CERTS_EOF && cb_certs_blocks(r) == 0 && index == 0)
        cb_warn(&s->run, "%s: no PEM block found", name);
    cb_certs_close(r);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void scan_path(scan *s, const char *path, int top);

static void scan_dir(scan *s, const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        cb_warn(&s->run, "%s: %s", path, strerror(errno));
        s->exit_code = cb_exit_worst(s->exit_code, EX_NOINPUT);
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')   /* ., .. and hidden files (temporary ones) */
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(names, cap * sizeof *p);
            if (p == NULL)
                break;
            names = p;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    /* Sorted, so that a directory scans in the same order on every machine. */
    qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n; i++) {
        if (names[i] == NULL)
            continue;
        size_t len = strlen(path) + strlen(names[i]) + 2;
        char *child = malloc(len);
        if (child != NULL) {
            snprintf(child, len, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", names[i]);
            scan_path(s, child, 0);
            free(child);
        }
        free(names[i]);
    }
    free(names);
}

static void scan_path(scan *s, const char *path, int top)
{
    if (strcmp(path, "-") == 0) {
        scan_input(s, "-");
        return;
    }
    struct stat st;
    /* Inside a directory a symbolic link to a directory is not followed:
     * no loops. */
    if ((top ? stat(path, &st) : lstat(path, &st)) < 0) {
        cb_warn(&s->run, "%s: %s", path, strerror(errno));
        s->exit_code = cb_exit_worst(s->exit_code, EX_NOINPUT);
        return;
    }
    if (!top && S_ISLNK(st.st_mode)) {
        if (stat(path, &st) < 0 || S_ISDIR(st.st_mode))
            return;
    }
    if (S_ISDIR(st.st_mode)) {
        scan_dir(s, path);
        return;
    }
    if (!S_ISREG(st.st_mode) && !top)
        return;
    scan_input(s, path);
}

/* --ca, --chain and --crl into the trust module; its warnings (a CRL of an
 * unknown issuer, an intermediate given as an anchor) on stderr. */
static int load_trust(scan *s, const cb_trust_opts *o, char **crls, int ncrl, int nca, int nchain,
                      cb_err *err)
{
    if ((s->trust = cb_trust_new(o, err)) == NULL)
        return -1;
    int rc = cb_trust_load(s->trust, s->cas, nca, s->chains, nchain, (const char *const *)crls, ncrl, err);
    const char *w;
    for (size_t i = 0; (w = cb_trust_warning(s->trust, i)) != NULL; i++)
        fprintf(stderr, "scan-expiry: warning: %s\n", w);
    return rc;
}

/* Frees what main built; every return after the option parsing goes
 * through here, so that a run stopped by an error leaks nothing. */
static int finish(scan *s, char **crls, int rc)
{
    free(crls);
    free(s->cas);
    free(s->chains);
    cb_header_free(s->header);
    cb_crlset_free(s->crls);
    cb_trust_free(s->trust);
    cb_certinfo_ctx_free(&s->ctx);
    cb_publisher_free(s->effect);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"days", required_argument, NULL, 'd'},   {"as-of", required_argument, NULL, 'a'},
        {"all", no_argument, NULL, 'A'},          {"status", required_argument, NULL, 's'},
        {"crl", required_argument, NULL, 'c'},    {"ca", required_argument, NULL, 'C'},
        {"ledger", required_argument, NULL, 'E'},
        {"chain", required_argument, NULL, 'H'},  {"partial-chain", no_argument, NULL, 'P'},
        {"crl-optional", no_argument, NULL, 'O'}, {"lang", required_argument, NULL, 'L'},
        {"rejects", required_argument, NULL, 'r'}, {"strict", no_argument, NULL, 'S'},
        {"output", required_argument, NULL, 'o'}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    scan s = {.days = 60};
    s.want[ST_EXPIRING] = s.want[ST_EXPIRED] = 1;
    const char *as_of = NULL, *rejects = NULL, *output = NULL, *ledger = NULL;
    char **crls = calloc((size_t)argc + 1, sizeof *crls);
    s.cas = calloc((size_t)argc + 1, sizeof *s.cas);
    s.chains = calloc((size_t)argc + 1, sizeof *s.chains);
    if (crls == NULL || s.cas == NULL || s.chains == NULL) {
        fprintf(stderr, "scan-expiry: out of memory\n");
        return finish(&s, crls, EX_OSERR);
    }
    cb_trust_opts topts = {.leaf = CB_TRUST_LEAF_ANY_DATES};
    int nca = 0, nchain = 0, ncrl = 0, strict = 0, quiet = 0, all = 0, status_given = 0, c;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 0 || v > 36500) {
                fprintf(stderr, "scan-expiry: --days: '%s' is not a number of days\n", optarg);
                return finish(&s, crls, EX_USAGE);
            }
            s.days = (int)v;
            break;
        }
        case 'a': as_of = optarg; break;
        case 'A': all = 1; break;
        case 's':
            status_given = 1;
            if (parse_status_list(&s, optarg) < 0)
                return finish(&s, crls, EX_USAGE);
            break;
        case 'c': crls[ncrl++] = optarg; break;
        case 'C': s.cas[nca++] = optarg; break;
        case 'H': s.chains[nchain++] = optarg; break;
        case 'P': topts.partial_chain = 1; break;
        case 'O': topts.crl_optional = 1; break;
        case 'L':
            if (strcmp(optarg, "en") != 0 && strcmp(optarg, "vi") != 0) {
                fprintf(stderr, "scan-expiry: --lang: '%s' is neither en nor vi\n", optarg);
                return finish(&s, crls, EX_USAGE);
            }
            s.vi = topts.lang_vi = strcmp(optarg, "vi") == 0;
            break;
        case 'E': ledger = optarg; break;
        case 'r': rejects = optarg; break;
        case 'S': strict = 1; break;
        case 'o': output = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return finish(&s, crls, EX_OK);
        case 'V': printf("scan-expiry certbatch %s\n", CB_VERSION); return finish(&s, crls, EX_OK);
        default: usage(stderr); return finish(&s, crls, EX_USAGE);
        }
    }
    if (all && status_given) {
        fprintf(stderr, "scan-expiry: --all and --status cannot be used together\n");
        return finish(&s, crls, EX_USAGE);
    }
    if (all)
        for (int i = 0; i < ST_COUNT; i++)
            s.want[i] = 1;

    cb_err err = {0};
    cb_run_start(&s.run, "scan-expiry", stderr, quiet);
    if (cb_today(as_of, &s.today, &err) < 0) {
        fprintf(stderr, "scan-expiry: %s\n", err.msg);
        return finish(&s, crls, err.code);
    }
    /* Chains are judged at noon of "today" in Vietnam when --as-of is
     * given, so the run is reproducible; at the present instant otherwise. */
    s.check_time = as_of ? cb_date_start_instant(s.today) + 12 * 3600 : (int64_t)time(NULL);
    if (cb_certinfo_ctx_init(&s.ctx, &err) < 0) {
        fprintf(stderr, "scan-expiry: %s\n", err.msg);
        return finish(&s, crls, err.code);
    }
    cb_pub_opts po = {.ledger = ledger, .read_only = 1};
    if (ledger != NULL && (s.effect = cb_publisher_open(&po, &err)) == NULL) {
        fprintf(stderr, "scan-expiry: %s\n", err.msg);
        return finish(&s, crls, err.code);
    }
    if (nca > 0) {
        if (load_trust(&s, &topts, crls, ncrl, nca, nchain, &err) < 0) {
            fprintf(stderr, "scan-expiry: %s\n", err.msg);
            return finish(&s, crls, err.code);
        }
    } else if (nchain > 0 || topts.partial_chain || topts.crl_optional) {
        fprintf(stderr, "scan-expiry: --chain, --partial-chain and --crl-optional need --ca\n");
        return finish(&s, crls, EX_USAGE);
    } else if (ncrl > 0) {
        s.crls = cb_crlset_new();
        for (int i = 0; i < ncrl; i++) {
            if (cb_crlset_load(s.crls, crls[i], &err) < 0) {
                fprintf(stderr, "scan-expiry: %s\n", err.msg);
                return finish(&s, crls, err.code);
            }
        }
    }
    cb_output out;
    if (cb_output_open(&out, output, 0644, &err) < 0) {
        fprintf(stderr, "scan-expiry: %s\n", err.msg);
        return finish(&s, crls, err.code);
    }
    if (cb_rejects_open(&s.rejects, "scan-expiry", rejects, stderr, &err) < 0) {
        cb_output_abort(&out);
        fprintf(stderr, "scan-expiry: %s\n", err.msg);
        return finish(&s, crls, err.code);
    }
    static char obuf[1 << 16];
    if (!out.is_file)
        setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    s.header = cb_header_new();
    for (size_t i = 0; i < NCOLS; i++)
        cb_header_add(s.header, columns[i]);
    cb_rejects_set_header(&s.rejects, s.header);
    cb_csv_writer_init(&s.out, out.fp);
    cb_csv_write_header(&s.out, s.header);

    if (optind >= argc)
        scan_path(&s, "-", 1);
    for (int i = optind; i < argc; i++)
        scan_path(&s, argv[i], 1);

    int rc = s.exit_code;
    if (s.write_failed) {
        cb_output_abort(&out);
        fprintf(stderr, "scan-expiry: cannot write the records: %s\n", strerror(errno));
        rc = cb_exit_worst(rc, EX_IOERR);
    } else if (cb_output_close(&out, &err) < 0) {
        fprintf(stderr, "scan-expiry: %s\n", err.msg);
        rc = cb_exit_worst(rc, err.code);
    }
    if (cb_rejects_close(&s.rejects, &err) < 0) {
        fprintf(stderr, "scan-expiry: %s\n", err.msg);
        rc = cb_exit_worst(rc, err.code);
    }
    if (strict && s.run.rejected > 0)
        rc = cb_exit_worst(rc, EX_DATAERR);
    cb_run_summary(&s.run);
    return finish(&s, crls, rc);
}
