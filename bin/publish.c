/* publish: the last step of procedure 1.010847 — the managing agencies ask
 * for their holders' certificates to take effect, and the Cục publishes
 * them: checks each effective-time request against sign-batch's issuance
 * ledger, records the publication instant as effective_at in the
 * publication ledger, and rebuilds the public directory (HTML, DER/PEM,
 * CSV, JSON, LDIF) in one swap. Writes the requests it published, with
 * serial, effective_at, publish_due_date and late, for notify. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "cb_err.h"
#include "date.h"
#include "filter.h"
#include "keyload.h"
#include "publdap.h"
#include "publish.h"
#include "record.h"

#define PROG "publish"
#define MAX_LIST 64
#define DEFAULT_BASE "ou=certificates,dc=ca,dc=gov,dc=vn"

static const char *const added[] = {"serial", "request_id", "effective_at", "publish_due_date", "late"};
enum { NADDED = sizeof added / sizeof added[0] };

static void usage(FILE *fp)
{
    fputs("usage: publish --ledger FILE [--issued FILE.pem] --out DIR [--as-of DATE|INSTANT]\n"
          "               [--published FILE] [--crl FILE] [--holidays FILE]\n"
          "               [--ldap URL [--ldap-bind DN --ldap-pass-file FILE]]\n"
          "               [--ldap-base DN] [--audit FILE --audit-cert FILE --audit-key KEY]\n"
          "               [--pass-file FILE|--pass-fd N] [--rejects FILE] [--strict] [--lang en|vi]\n"
          "               [-o FILE] [-q] [REQUESTS...]\n"
          "       publish --help | --version\n"
          "\n"
          "Reads the managing agencies' effective-time requests (CSV: request_id or\n"
          "serial, agency, agency_code, handed_over_date, received_date, optional\n"
          "effective_at), checks each against the issuance ledger, and publishes the\n"
          "certificates into DIR (index.html, certs/SERIAL.{html,cer,pem}, index.csv,\n"
          "index.json, directory.ldif), swapped in whole. The publication instant is\n"
          "the certificate's effective_at. A request already published is a no-op;\n"
          "one published more than 1 working day after its receipt is reported late.\n"
          "\n"
          "  --ledger FILE      sign-batch's issuance ledger (read, never changed)\n"
          "  --issued FILE      the issued certificates (PEM, DER or PKCS#7); repeatable;\n"
          "                     without it, from the ledger's store (LEDGER.certs.pem)\n"
          "  --out DIR          the public directory\n"
          "  --published FILE   the publication ledger (default: LEDGER-published.csv beside it)\n"
          "  --as-of DATE|INSTANT  the publication instant (YYYY-MM-DDTHH:MM:SS+07:00), or\n"
          "                     a date: that day at the current time (default: now)\n"
          "  --crl FILE         a CRL: revoked certificates are not published; repeatable\n"
          "  --holidays FILE    holidays file (date,kind,name) for the working-day calendar\n"
          "  --ldap URL         also publish the entries into that LDAP directory (added, or\n"
          "                     replaced when they exist)\n"
          "  --ldap-bind DN     bind as DN (default anonymous); its password from\n"
          "                     --ldap-pass-file FILE or $CB_LDAP_PASS\n"
          "  --ldap-base DN     the DN of the directory entries (default " DEFAULT_BASE ")\n"
          "  --audit FILE       append one line per publication to the CA's audit log,\n"
          "                     and a checkpoint signed with --audit-key (see audit-verify)\n"
          "  --audit-cert FILE  the certificate of the checkpoint signer (the CA or the office)\n"
          "  --audit-key KEY    its key (file or pkcs11: URI); passphrase from --pass-file,\n"
          "                     --pass-fd or $CB_CA_PASS, never from the command line\n"
          "  --rejects FILE     write rejected requests there as CSV (default: stderr)\n"
          "  --strict           exit 65 if any request was rejected\n"
          "  --lang en|vi       language of the reasons and notes (default en)\n"
          "  -o FILE            write the published requests to FILE instead of stdout\n"
          "                     (FILE.xlsx, also for --rejects: an Excel workbook)\n"
          "  --excel-csv        CSV for Excel: UTF-8 BOM, Vietnamese labels, CRLF\n"
          "  -q                 no summary line\n",
          fp);
}

static void die(int code, const char *msg)
{
    fprintf(stderr, PROG ": %s\n", msg);
    exit(code);
}

/* --as-of: an instant as given, or a date at the current time of day. */
static int64_t publication_instant(const char *as_of)
{
    int64_t now = (int64_t)time(NULL), t;
    cb_date d;
    if (as_of == NULL)
        return now;
    if (strchr(as_of, 'T') && cb_instant_parse(as_of, &t) == 0)
        return t;
    if (cb_date_parse(as_of, &d) < 0)
        die(EX_USAGE, "--as-of: not a date (YYYY-MM-DD) or an instant (YYYY-MM-DDTHH:MM:SS+07:00)");
    int64_t tod = (now + CB_VN_OFFSET_SECONDS) % 86400;
    return cb_date_start_instant(d) + tod;
}

/* The audit log and the key that signs its checkpoints. */
typedef struct audit_signer {
    cb_audit *log;
    X509 *cert;
    cb_signing_key key;
} audit_signer;

static int open_audit(audit_signer *s, const char *path, const char *cert, const char *key,
                      const cb_secret_src *pass, cb_err *err)
{
    char *secret = NULL;
    if ((s->cert = cb_cert_load(cert, err)) == NULL || cb_secret_read(pass, &secret, err) < 0)
        return -1;
    int rc = cb_key_load(&s->key, key, secret, NULL, err);
    cb_secret_free(secret);
    if (rc < 0)
        return -1;
    return (s->log = cb_audit_open(path, NULL, err)) ? 0 : -1;
}

static int close_audit(audit_signer *s, const cb_publisher *p, cb_err *err)
{
    int rc = cb_publisher_audit(p, s->log, err);
    if (cb_audit_close(s->log, s->cert, s->key.pkey, rc < 0 ? &(cb_err){0} : err) < 0)
        rc = -1;
    s->log = NULL;
    return rc;
}

static int publish_ldap(const cb_publisher *p, cb_ldap_target *t, const cb_secret_src *pass, int vi,
                        int quiet, cb_err *err)
{
    char *secret = NULL;
    if (t->bind_dn && cb_secret_read(pass, &secret, err) < 0)
        return -1;
    t->password = secret;
    unsigned long added = 0, replaced = 0;
    int rc = cb_publisher_ldap(p, t, &added, &replaced, err);
    cb_secret_free(secret);
    t->password = NULL;
    if (rc == 0 && !quiet)
        fprintf(stderr, vi ? PROG ": %s: %lu mục thêm mới, %lu mục cập nhật\n"
                           : PROG ": %s: %lu entries added, %lu replaced\n", t->url, added, replaced);
    return rc;
}

/* The step's state. */
typedef struct pub_state {
    cb_publisher *p;
    cb_header *oh;
    cb_record *out;
    int col[NADDED];
    int vi;
    int64_t now;
    unsigned long late;
    cb_ldap_target ldap;
    cb_secret_src ldap_pass;
    audit_signer signer;
} pub_state;

static int begin(void *ctx, cb_filter *f, const cb_header *in, cb_err *err)
{
    pub_state *s = ctx;
    /* an input with no bytes is zero requests (a day nobody asked): no
     * columns to check; the driver names the input of a header that lacks them */
    if (!cb_csv_reader_empty(f->reader) && cb_publisher_set_header(s->p, in, err) < 0)
        return -1;
    if ((s->oh = cb_header_copy(in)) == NULL || (s->out = cb_record_new()) == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    for (int k = 0; k < NADDED; k++)
        if ((s->col[k] = cb_header_ensure(s->oh, added[k])) < 0)
            return cb_err_set(err, EX_OSERR, "out of memory");
    return cb_filter_set_header(f, s->oh) < 0 ? cb_err_set(err, EX_OSERR, "out of memory") : 0;
}

static void report_late(pub_state *s, cb_filter *f, const cb_record *rec, const cb_pub_result *res)
{
    char today[11];
    cb_date_format(cb_date_of_instant(s->now), today);
    s->late++;
    if (s->vi)
        cb_filter_note(f, "%s:%ld: công bố muộn: hồ sơ %s (chứng thư số %s) hạn %s, công bố %s",
                       cb_filter_input(f), rec->line, res->request_id, res->serial, res->due_date, today);
    else
        cb_filter_note(f, "%s:%ld: published late: request %s (certificate %s) was due %s, published %s",
                       cb_filter_input(f), rec->line, res->request_id, res->serial, res->due_date, today);
}

static int process(void *ctx, cb_filter *f, cb_record *rec, cb_err *err)
{
    pub_state *s = ctx;
    cb_pub_result res;
    if (cb_publisher_request(s->p, rec, &res, err) < 0)
        return -1;
    if (res.status == CB_PUB_REJECTED) {
        cb_filter_reject(f, rec, res.field, res.reason);
        return 0;
    }
    if (res.status == CB_PUB_ALREADY) {
        cb_filter_drop(f);
        return 0;
    }
    if (res.late)
        report_late(s, f, rec, &res);
    const char *v[NADDED] = {res.serial, res.request_id, res.effective_at, res.due_date,
                             res.late ? "yes" : "no"};
    if (cb_record_copy(s->out, rec) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    for (int k = 0; k < NADDED; k++)
        if (cb_record_set_str(s->out, s->col[k], v[k]) < 0)
            return cb_err_set(err, EX_OSERR, "out of memory");
    cb_filter_emit(f, s->out);
    return 0;
}

/* A failure after the publication: it counts, the outputs stay. */
static void fail_after(cb_filter *f, const char *what, const cb_err *e)
{
    cb_err said = {.code = e->code};
    snprintf(said.msg, sizeof said.msg, "%s: %.900s", what, e->msg);
    cb_filter_fail(f, &said);
}

/* The ledger and the directory, then the LDAP server and the audit log:
 * those two come after the publication, so their failure keeps the list
 * of what was published and says what was not done. */
static int end(void *ctx, cb_filter *f, cb_err *err)
{
    pub_state *s = ctx;
    int rebuilt = 0;
    if (cb_publisher_commit(s->p, &rebuilt, err) < 0)
        return -1;
    cb_err e2 = {0};
    if (s->ldap.url && publish_ldap(s->p, &s->ldap, &s->ldap_pass, s->vi, f->quiet, &e2) < 0)
        fail_after(f, "published on the site, but the directory", &e2);
    if (s->signer.log && close_audit(&s->signer, s->p, &e2) < 0)
        fail_after(f, "published, but the audit log", &e2);
    if (s->late && !f->quiet)
        cb_filter_note(f, s->vi ? "%lu chứng thư số công bố muộn" : "%lu certificates published late", s->late);
    return 0;
}

static int load(pub_state *s, const cb_pub_opts *po, const char *const *issued, int nissued,
                const char *const *crls, int ncrl, cb_err *err)
{
    if ((s->p = cb_publisher_open(po, err)) == NULL)
        return -1;
    for (int i = 0; i < nissued; i++)
        if (cb_publisher_load_issued(s->p, issued[i], err) < 0)
            return -1;
    for (int i = 0; i < ncrl; i++)
        if (cb_publisher_load_crl(s->p, crls[i], err) < 0)
            return -1;
    return 0;
}

int main(int argc, char **argv)
{
    cb_pub_opts po = {.ldap_base = DEFAULT_BASE};
    const char *as_of = NULL, *issued[MAX_LIST], *crls[MAX_LIST];
    const char *audit = NULL, *audit_cert = NULL, *audit_key = NULL;
    pub_state st = {.ldap_pass = {.fd = -1, .env = "CB_LDAP_PASS"}};
    cb_secret_src pass = {.fd = -1, .env = "CB_CA_PASS"};
    int nissued = 0, ncrl = 0;
    enum { O_LEDGER = 256, O_ISSUED, O_OUT, O_PUB, O_ASOF, O_CRL, O_HOL, O_BASE, O_HELP, O_VERSION,
           O_AUDIT, O_ACERT, O_AKEY, O_PFILE, O_PFD, O_LDAP, O_LBIND, O_LPASS };
    static const struct option opts[] = {
        {"ledger", required_argument, NULL, O_LEDGER}, {"issued", required_argument, NULL, O_ISSUED},
        {"out", required_argument, NULL, O_OUT},       {"published", required_argument, NULL, O_PUB},
        {"as-of", required_argument, NULL, O_ASOF},    {"crl", required_argument, NULL, O_CRL},
        {"holidays", required_argument, NULL, O_HOL},  {"ldap-base", required_argument, NULL, O_BASE},
        CB_FILTER_OPTIONS,
        {"help", no_argument, NULL, O_HELP},           {"version", no_argument, NULL, O_VERSION},
        {"audit", required_argument, NULL, O_AUDIT},   {"audit-cert", required_argument, NULL, O_ACERT},
        {"audit-key", required_argument, NULL, O_AKEY}, {"pass-file", required_argument, NULL, O_PFILE},
        {"pass-fd", required_argument, NULL, O_PFD},   {"ldap", required_argument, NULL, O_LDAP},
        {"ldap-bind", required_argument, NULL, O_LBIND}, {"ldap-pass-file", required_argument, NULL, O_LPASS},
        {NULL, 0, NULL, 0},
    };
    static cb_filter f;
    cb_filter_init(&f, PROG, stderr);
    int c;
    while ((c = cb_filter_getopt(&f, argc, argv, "o:q", opts)) != -1) {
        switch (c) {
        case CB_FILTER_GETOPT_BAD: return EX_USAGE;
        case O_LEDGER: po.ledger = optarg; break;
        case O_ISSUED:
            if (cb_filter_list_add(&f, issued, &nissued, MAX_LIST, "--issued", optarg) < 0)
                return EX_USAGE;
            break;
        case O_OUT: po.out_dir = optarg; break;
        case O_PUB: po.published = optarg; break;
        case O_ASOF: as_of = optarg; break;
        case O_CRL:
            if (cb_filter_list_add(&f, crls, &ncrl, MAX_LIST, "--crl", optarg) < 0)
                return EX_USAGE;
            break;
        case O_HOL: po.holidays = optarg; break;
        case O_BASE: po.ldap_base = optarg; break;
        case O_AUDIT: audit = optarg; break;
        case O_ACERT: audit_cert = optarg; break;
        case O_AKEY: audit_key = optarg; break;
        case O_PFILE: pass.file = optarg; break;
        case O_PFD: pass.fd = atoi(optarg); break;
        case O_LDAP: st.ldap.url = optarg; break;
        case O_LBIND: st.ldap.bind_dn = optarg; break;
        case O_LPASS: st.ldap_pass.file = optarg; break;
        case O_HELP: usage(stdout); return EX_OK;
        case O_VERSION: printf(PROG " certbatch " CB_VERSION "\n"); return EX_OK;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (po.ledger == NULL || po.out_dir == NULL) {
        fprintf(stderr, PROG ": %s is required\n", !po.ledger ? "--ledger FILE" : "--out DIR");
        usage(stderr);
        return EX_USAGE;
    }
    if (audit && (!audit_cert || !audit_key))
        die(EX_USAGE, "--audit needs --audit-cert and --audit-key to sign its checkpoints");
    po.now = st.now = publication_instant(as_of);
    po.lang_vi = st.vi = f.lang == CB_LANG_VI;

    cb_err err = {0};
    if (cb_mkdir_parent(po.out_dir, &err) < 0 || load(&st, &po, issued, nissued, crls, ncrl, &err) < 0 ||
        (audit && open_audit(&st.signer, audit, audit_cert, audit_key, &pass, &err) < 0)) {
        cb_filter_fail(&f, &err);
    } else {
        static const cb_filter_step step = {begin, process, end};
        cb_filter_run(&f, argv + optind, argc - optind, NULL, &step, &st);
    }
    cb_record_free(st.out);
    cb_header_free(st.oh);
    cb_publisher_free(st.p);
    if (st.signer.log)
        cb_audit_close(st.signer.log, NULL, NULL, &err);
    cb_key_free(&st.signer.key);
    X509_free(st.signer.cert);
    return cb_filter_finish(&f);
}
