/* The tamper-evident audit log: see audit.h. */
#include "audit.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "array.h"
#include "certinfo.h"
#include "atomic.h"
#include "cms.h"
#include "csvio.h"
#include "date.h"
#include "trust.h"
#include "issue.h"
#include "record.h"

#define HEADER "seq,at,actor,action,request_id,serial,sha256,subject,detail,prev\n"
#define CHECKPOINT_MSG "certbatch-audit-checkpoint lines=%ld head=%s\n"

struct cb_audit {
    char *path;
    int fd;
    long seq;            /* line number of the last line */
    char prev[65];       /* hash of the last line */
    long since_checkpoint;
    char actor[128];
};

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    size_t n = 0;
    if (EVP_Q_digest(NULL, "SHA256", NULL, data, len, md, &n) != 1 || n != 32) {
        memset(out, '0', 64);
    } else {
        for (int i = 0; i < 32; i++)
            snprintf(out + 2 * i, 3, "%02x", md[i]);
    }
    out[64] = '\0';
}

static void default_actor(char *buf, size_t n)
{
    const char *env = getenv("CB_ACTOR");
    struct passwd pw, *res = NULL;
    char tmp[1024];
    if (env && *env)
        snprintf(buf, n, "%s", env);
    else if (getpwuid_r(getuid(), &pw, tmp, sizeof tmp, &res) == 0 && res)
        snprintf(buf, n, "%s", res->pw_name);
    else
        snprintf(buf, n, "uid %ld", (long)getuid());
}

/* Reads the last line (after cutting a torn one): its seq and its hash. */
static int read_tail(cb_audit *a, cb_err *err)
{
    struct stat st;
    if (fstat(a->fd, &st) != 0)
        return cb_err_sys(err, EX_IOERR, "cannot read %s", a->path);
    off_t end = st.st_size, start;
    char c;
    while (end > 0 && pread(a->fd, &c, 1, end - 1) == 1 && c != '\n')
        end--;
    if (end != st.st_size && ftruncate(a->fd, end) != 0)
        return cb_err_sys(err, EX_IOERR, "cannot repair the end of %s", a->path);
    if (end == 0)
        return 0;
    for (start = end - 1; start > 0 && pread(a->fd, &c, 1, start - 1) == 1 && c != '\n';)
        start--;
    size_t len = (size_t)(end - start);
    char *line = malloc(len + 1);
    if (line == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    if (pread(a->fd, line, len, start) != (ssize_t)len) {
        free(line);
        return cb_err_sys(err, EX_IOERR, "cannot read %s", a->path);
    }
    line[len] = '\0';
    sha256_hex(line, len, a->prev);
    a->seq = start == 0 ? 1 : strtol(line, NULL, 10);
    free(line);
    if (a->seq < 1)
        return cb_err_set(err, EX_DATAERR, "%s: the last line has no line number: not an audit log",
                          a->path);
    return 0;
}

static int write_line(cb_audit *a, const char *line, size_t len, cb_err *err)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(a->fd, line + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return cb_err_sys(err, EX_IOERR, "cannot write the audit log %s", a->path);
        off += (size_t)w;
    }
    sha256_hex(line, len, a->prev);
    a->seq++;
    return 0;
}

static void audit_free(cb_audit *a)
{
    if (a->fd >= 0)
        close(a->fd);
    free(a->path);
    free(a);
}

cb_audit *cb_audit_open(const char *path, const char *actor, cb_err *err)
{
    cb_audit *a = calloc(1, sizeof *a);
    if (a == NULL || (a->path = strdup(path)) == NULL) {
        free(a);
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    if (actor)
        snprintf(a->actor, sizeof a->actor, "%s", actor);
    else
        default_actor(a->actor, sizeof a->actor);
    a->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int rc = 0;
    if (a->fd < 0)
        rc = cb_err_sys(err, EX_CANTCREAT, "cannot open the audit log %s", path);
    else if (flock(a->fd, LOCK_EX | LOCK_NB) != 0)
        rc = errno == EWOULDBLOCK ? cb_err_set(err, EX_TEMPFAIL, "the audit log %s is in use by another run", path)
                                  : cb_err_sys(err, EX_IOERR, "cannot lock %s", path);
    else if (read_tail(a, err) < 0)
        rc = -1;
    else if (a->seq == 0 && (write_line(a, HEADER, strlen(HEADER), err) < 0 || fsync(a->fd) != 0))
        rc = err->code ? -1 : cb_err_sys(err, EX_IOERR, "cannot write %s", path);
    if (rc < 0) {
        audit_free(a);
        return NULL;
    }
    return a;
}

/* One line: the fields as CSV (line breaks made spaces), then prev. */
static char *format_line(const cb_audit *a, const char *const f[7], size_t *len)
{
    char *buf = NULL;
    FILE *fp = open_memstream(&buf, len);
    if (fp == NULL)
        return NULL;
    cb_csv_writer w;
    cb_csv_writer_init(&w, fp);
    char seq[32], at[32];
    snprintf(seq, sizeof seq, "%ld", a->seq + 1);
    cb_instant_format((int64_t)time(NULL), at);
    cb_csv_write_field(&w, seq, strlen(seq), 0);
    cb_csv_write_field(&w, at, strlen(at), 0);
    for (int i = 0; i < 7; i++) {
        char *v = strdup(f[i] ? f[i] : "");
        if (v == NULL) {
            fclose(fp);
            free(buf);
            return NULL;
        }
        for (char *p = v; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
        cb_csv_write_field(&w, v, strlen(v), 0);
        free(v);
    }
    cb_csv_write_field(&w, a->prev, 64, 1);
    if (fclose(fp) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

int cb_audit_add(cb_audit *a, const char *action, const char *request_id, const char *serial,
                 const char *sha256, const char *subject, const char *detail, cb_err *err)
{
    const char *f[7] = {a->actor, action, request_id, serial, sha256, subject, detail};
    size_t len = 0;
    char *line = format_line(a, f, &len);
    if (line == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    int rc = write_line(a, line, len, err);
    free(line);
    if (rc == 0)
        a->since_checkpoint++;
    return rc;
}

int cb_audit_jobs(cb_audit *a, const char *action, const cb_issue_job *jobs, size_t n,
                  int rid_col, cb_err *err)
{
    for (size_t i = 0; a && i < n; i++) {
        const cb_issue_job *j = &jobs[i];
        if (j->status != CB_JOB_OK)
            continue;
        char detail[128] = "";
        if (*j->old_serial)
            snprintf(detail, sizeof detail, "old_serial=%s", j->old_serial);
        if (cb_audit_add(a, action, rid_col < 0 ? "" : cb_record_get(j->rec, rid_col), j->serial,
                         j->sha256, j->subject, detail, err) < 0)
            return -1;
    }
    return 0;
}

int cb_audit_sign(const char *log_path, const char *signed_path, X509 *cert, EVP_PKEY *key,
                  cb_err *err)
{
    if (log_path == NULL)
        return 0;
    char hex[65] = "";
    if (signed_path) {
        FILE *fp = fopen(signed_path, "rb");
        unsigned char *data = NULL;
        size_t len = 0;
        if (fp == NULL || cb_read_all(fp, &data, &len) < 0) {
            if (fp)
                fclose(fp);
            return cb_err_sys(err, EX_IOERR, "cannot read %s for the audit log", signed_path);
        }
        fclose(fp);
        sha256_hex(data, len, hex);
        free(data);
    }
    cb_audit *a = cb_audit_open(log_path, NULL, err);
    if (a == NULL)
        return -1;
    if (cb_audit_add(a, "sign", NULL, NULL, hex, NULL, signed_path ? signed_path : "stdin", err) < 0) {
        cb_audit_close(a, NULL, NULL, &(cb_err){0});
        return -1;
    }
    return cb_audit_close(a, cert, key, err);
}

/* ---- checkpoints ---- */

/* The detached CMS over the checkpoint message, as one line of base64
 * (cb_cms_sign's PEM without its armour and line breaks). */
static char *sign_message(const char *msg, X509 *cert, EVP_PKEY *key, cb_err *err)
{
    BIO *in = BIO_new_mem_buf(msg, (int)strlen(msg)), *out = BIO_new(BIO_s_mem());
    char *b64 = NULL;
    if (in && out && cb_cms_sign(cert, key, NULL, in, out, err) == 0) {
        char *pem;
        long n = BIO_get_mem_data(out, &pem);
        if ((b64 = malloc((size_t)n + 1)) != NULL) {
            size_t o = 0;
            for (long i = 0; i < n;) {
                long e = i;
                while (e < n && pem[e] != '\n')
                    e++;
                if (pem[i] != '-')
                    for (long k = i; k < e; k++)
                        if (pem[k] != '\r')
                            b64[o++] = pem[k];
                i = e + 1;
            }
            b64[o] = '\0';
        } else {
            cb_err_set(err, EX_OSERR, "out of memory");
        }
    }
    BIO_free(in);
    BIO_free(out);
    return b64;
}

static int checkpoint(cb_audit *a, X509 *cert, EVP_PKEY *key, cb_err *err)
{
    char msg[256];
    snprintf(msg, sizeof msg, CHECKPOINT_MSG, a->seq, a->prev);
    char *b64 = sign_message(msg, cert, key, err);
    if (b64 == NULL)
        return -1;
    size_t n = strlen(b64) + 128;
    char *detail = malloc(n);
    int rc = detail ? 0 : cb_err_set(err, EX_OSERR, "out of memory");
    if (rc == 0) {
        snprintf(detail, n, "lines=%ld head=%s cms=%s", a->seq, a->prev, b64);
        char *subj = X509_NAME_oneline(X509_get_subject_name(cert), NULL, 0);
        rc = cb_audit_add(a, "checkpoint", NULL, NULL, NULL, subj, detail, err);
        OPENSSL_free(subj);
    }
    free(detail);
    free(b64);
    a->since_checkpoint = 0;
    return rc;
}

int cb_audit_close(cb_audit *a, X509 *cert, EVP_PKEY *key, cb_err *err)
{
    if (a == NULL)
        return 0;
    int rc = 0;
    if (a->since_checkpoint > 0 && cert && key)
        rc = checkpoint(a, cert, key, err);
    if (fsync(a->fd) != 0 && rc == 0)
        rc = cb_err_sys(err, EX_IOERR, "cannot write the audit log %s", a->path);
    audit_free(a);
    return rc;
}

/* ---- verification ---- */

enum { F_SEQ, F_AT, F_ACTOR, F_ACTION, F_RID, F_SERIAL, F_SHA, F_SUBJECT, F_DETAIL, F_PREV, NF };

/* Splits one CSV line (no line breaks inside, as the writer makes them)
 * into NF fields, written in place into buf; 0, or -1 when it has another
 * number of fields. */
static int split_line(char *buf, char *f[NF])
{
    int n = 0;
    char *p = buf, *o;
    while (n < NF) {
        f[n++] = o = p;
        if (*p == '"') {
            for (p++;; p++) {
                if (*p == '\0')
                    return -1;
                if (*p == '"' && p[1] == '"')
                    *o++ = *p++;
                else if (*p == '"')
                    break;
                else
                    *o++ = *p;
            }
            p++;
        } else {
            while (*p && *p != ',')
                *o++ = *p++;
        }
        if (*p == '\0') {
            *o = '\0';
            return n == NF ? 0 : -1;
        }
        if (*p != ',')
            return -1;
        *o = '\0';
        p++;
    }
    return -1;
}

typedef struct vline {
    long seq;
    char hash[65], prev[65];
    int checkpoint;
} vline;

typedef struct vstate {
    vline *v;
    size_t n, cap;
    cb_trust *trust;          /* --ca: anchors, and intermediates for the signers' paths */
    cb_audit_report *rep;
} vstate;

/* Keeps the first line at fault; the chain's diagnosis (which says
 * changed, removed or moved) wins over a checkpoint's on the same line. */
static int bad(cb_audit_report *rep, long line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(cb_audit_report *rep, long line, const char *fmt, ...)
{
    if (rep->bad_line == 0 || line < rep->bad_line || (line == rep->bad_line && rep->from_checkpoint)) {
        rep->from_checkpoint = 0;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(rep->what, sizeof rep->what, fmt, ap);
        va_end(ap);
        rep->bad_line = line;
        return 1;
    }
    return 0;
}

static int cms_holds(cb_trust *trust, const char *b64, const char *msg)
{
    size_t n = strlen(b64);
    unsigned char *der = malloc(n / 4 * 3 + 3);
    int ok = 0;
    int len = der ? EVP_DecodeBlock(der, (const unsigned char *)b64, (int)n) : -1;
    if (len > 0) {
        while (n > 0 && b64[n - 1] == '=' && len > 0)
            n--, len--;
        const unsigned char *p = der;
        CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, len);
        BIO *data = BIO_new_mem_buf(msg, (int)strlen(msg));
        /* CMS_verify builds the signer's path from the signature's own
         * certificates: the intermediates of --ca join them there. */
        STACK_OF(X509) *inter = cb_trust_intermediates(trust);
        for (int i = 0; cms != NULL && i < sk_X509_num(inter); i++)
            CMS_add1_cert(cms, sk_X509_value(inter, i));
        ERR_clear_error();
        ok = cms && data && CMS_verify(cms, NULL, cb_trust_store(trust), data, NULL, CMS_BINARY) == 1;
        BIO_free(data);
        CMS_ContentInfo_free(cms);
    }
    free(der);
    return ok;
}

/* A checkpoint line (the i-th, 0-based) states the lines before it and the
 * hash of the last, and its signature must hold over those. */
static void check_checkpoint(vstate *s, size_t i, const char *detail)
{
    long lines = -1;
    char head[65] = "";
    const char *cms = strstr(detail, " cms=");
    if (sscanf(detail, "lines=%ld head=%64s", &lines, head) != 2 || cms == NULL) {
        if (bad(s->rep, (long)i + 1, "line %zu: a checkpoint without its count, head or signature", i + 1))
            s->rep->from_checkpoint = 1;
        return;
    }
    if (lines != (long)i || strcmp(head, s->v[i - 1].hash) != 0) {
        if (bad(s->rep, (long)i + 1, "line %zu: the checkpoint counts %ld lines and a head that are not the lines before it",
            i + 1, lines))
            s->rep->from_checkpoint = 1;
        return;
    }
    char msg[256];
    snprintf(msg, sizeof msg, CHECKPOINT_MSG, lines, head);
    if (!cms_holds(s->trust, cms + 5, msg)) {
        if (bad(s->rep, (long)i + 1, "line %zu: the checkpoint's signature does not verify with the CA", i + 1))
            s->rep->from_checkpoint = 1;
        return;
    }
    s->rep->checkpoints++;
}

static int add_vline(vstate *s, char *line, size_t len)
{
    if (cb_array_grow(&s->v, s->n, &s->cap, sizeof *s->v, 1024) < 0)
        return -1;
    vline *v = &s->v[s->n++];
    memset(v, 0, sizeof *v);
    sha256_hex(line, len, v->hash);
    if (s->n == 1) {
        if (strcmp(line, HEADER) != 0)
            bad(s->rep, 1, "line 1: the header of the audit log was changed");
        v->seq = 1;
        return 0;
    }
    if (line[len - 1] == '\n')
        line[len - 1] = '\0';
    char *f[NF];
    if (split_line(line, f) < 0) {
        bad(s->rep, (long)s->n, "line %zu is not an audit line (its fields were changed)", s->n);
        return 0;
    }
    char *end;
    v->seq = strtol(f[F_SEQ], &end, 10);
    if (*end || end == f[F_SEQ])
        v->seq = -1;
    snprintf(v->prev, sizeof v->prev, "%s", f[F_PREV]);
    if ((v->checkpoint = strcmp(f[F_ACTION], "checkpoint") == 0))
        check_checkpoint(s, s->n - 1, f[F_DETAIL]);
    return 0;
}

/* The chain breaks first at line i+1 (0-based i): says which line was
 * changed, removed or moved, from the line numbers the lines carry. */
static void classify_break(vstate *s, size_t i)
{
    long line = (long)i + 1, seq = s->v[i].seq;
    if (seq == line || seq < 0) {
        /* the line is where it should be: the one before it changed, or
         * this one did (then the next link breaks too) */
        if (seq < 0 || (i + 1 < s->n && strcmp(s->v[i + 1].prev, s->v[i].hash) != 0))
            bad(s->rep, line, "line %ld was changed", line);
        else
            bad(s->rep, line - 1, "line %ld was changed", line - 1);
        return;
    }
    if (seq < line) {
        bad(s->rep, line, "line %ld holds line %ld again: lines were copied or reordered", line, seq);
        return;
    }
    for (size_t j = i + 1; j < s->n; j++)
        if (s->v[j].seq >= line && s->v[j].seq < seq) {
            bad(s->rep, line, "line %ld is out of order: line %ld stands there, line %ld comes later",
                line, seq, s->v[j].seq);
            return;
        }
    if (seq == line + 1)
        bad(s->rep, line, "line %ld was removed (line %ld follows line %ld)", line, seq, line - 1);
    else
        bad(s->rep, line, "lines %ld to %ld were removed (line %ld follows line %ld)", line, seq - 1,
            seq, line - 1);
}

static void check_chain(vstate *s)
{
    for (size_t i = 1; i < s->n; i++)
        if (strcmp(s->v[i].prev, s->v[i - 1].hash) != 0) {
            classify_break(s, i);
            return;
        }
    /* an unbroken chain with a wrong number: the last line's own number */
    for (size_t i = 1; i < s->n; i++)
        if (s->v[i].seq != (long)i + 1) {
            bad(s->rep, (long)i + 1, "line %zu was changed (its line number)", i + 1);
            return;
        }
}

int cb_audit_verify(const char *path, const char *ca_file, cb_audit_report *rep, cb_err *err)
{
    memset(rep, 0, sizeof *rep);
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return cb_err_sys(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open %s", path);
    vstate s = {.rep = rep};
    if ((s.trust = cb_trust_new(NULL, err)) == NULL ||
        cb_trust_load(s.trust, &ca_file, 1, NULL, 0, NULL, 0, err) < 0) {
        cb_trust_free(s.trust);
        fclose(fp);
        return -1;
    }
    X509_STORE_set_purpose(cb_trust_store(s.trust), X509_PURPOSE_ANY);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, fp)) > 0) {
        if (line[len - 1] != '\n')
            bad(rep, (long)s.n + 1, "line %zu is cut short (no line end)", s.n + 1);
        if (add_vline(&s, line, (size_t)len) < 0)
            rc = cb_err_set(err, EX_OSERR, "out of memory");
    }
    if (rc == 0 && ferror(fp))
        rc = cb_err_sys(err, EX_IOERR, "cannot read %s", path);
    free(line);
    fclose(fp);
    if (rc == 0) {
        if (s.n == 0)
            bad(rep, 1, "the audit log is empty: not even its header");
        check_chain(&s);
        rep->lines = (long)s.n;
        for (size_t i = s.n; i > 1 && !s.v[i - 1].checkpoint; i--)
            rep->unsigned_tail++;
    }
    free(s.v);
    cb_trust_free(s.trust);
    return rc < 0 ? -1 : rep->bad_line != 0;
}
