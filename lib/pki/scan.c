/* The certificate scan: see scan.h.
 *
 * The inputs are read on the caller's thread, into batches of items: each
 * certificate's DER, and each thing to say about the inputs (a reject, a
 * note, a failure) in its place among them. With jobs > 1, worker threads
 * judge the certificates of a batch (lib/certinfo, lib/trustfast) while
 * the next is read, and the caller's thread writes the batches in the
 * order they were read, so that the output, the rejects and the
 * diagnostics are those of one thread. A CA certificate of the input is an
 * intermediate for those after it: it is added when its record is written,
 * and a certificate judged before that (by a thread running ahead) is
 * judged again. */
#include "scan.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "array.h"
#include "certread.h"
#include "trustfast.h"

#define DER_MAX (1 << 20)
#define BATCH_ITEMS 512
#define BATCH_BYTES (1 << 20)
#define BATCHES_PER_JOB 3

static const char *const status_names[CB_ST_COUNT] = {
    "valid", "expiring", "expired", "revoked", "not_yet_valid", "untrusted", "not_yet_effective",
};

static const char *const columns[] = {
    "serial", "subject_cn", "subject_o", "subject_ou", "subject_l", "subject_st", "email", "uid",
    "issuer_cn", "not_before", "not_after", "expiry_date", "days_left", "status", "sha256", "source",
    "trust_problem",
};
#define COL_SOURCE 15
#define NCOLS (sizeof columns / sizeof columns[0])

enum { IT_CERT, IT_REJECT, IT_NOTE, IT_FAIL };
enum { OUT_RECORD, OUT_FILTERED, OUT_REJECT };

typedef struct item {
    int kind;
    size_t name;               /* the input's name, in the batch's names */
    long line, index;
    size_t off, len;           /* IT_CERT: its DER in the batch's bytes */
    char *text;                /* what to say; a rejected certificate's reason */
    int code;                  /* counted in the exit code (IT_FAIL, a check that could not run) */
    /* a certificate judged */
    int outcome, trusted;
    char *fields;              /* OUT_RECORD: the NCOLS fields one after another */
    char *warn;                /* a note written before it */
    X509 *ca;                  /* a CA certificate: an intermediate from now on */
    unsigned long generation;  /* of the intermediates it was judged with */
    size_t text_off, text_len; /* OUT_RECORD in CSV: its line in the batch's text */
} item;

typedef struct batch {
    item items[BATCH_ITEMS];
    size_t n;
    unsigned char *bytes;
    size_t blen, bcap;
    char **names;
    size_t nnames, capnames;
    char *text;                /* the records as CSV lines, when the output is CSV */
    size_t text_len;
    int csv_lines;             /* the thread writes them (the output is CSV, not a workbook) */
    int done;
    struct batch *next;
} batch;

/* What one thread needs to judge a certificate. */
typedef struct judge_ctx {
    cb_certinfo_ctx ci;
    cb_trust_worker *tw;
} judge_ctx;

typedef struct thread_ctx {
    struct cb_scan *s;
    judge_ctx jc;
} thread_ctx;

struct cb_scan {
    cb_scan_opts o;
    cb_filter *f;
    cb_record *rec;
    cb_header *header;
    judge_ctx own;             /* the caller's thread: jobs 1, and judging again */
    batch *cur;                /* being filled */
    /* with jobs > 1 */
    int nthreads;
    pthread_t *threads;
    struct thread_ctx *tcs;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    batch *head, *tail;        /* handed to the threads, in input order */
    batch *next_todo;          /* the first not taken yet */
    size_t inflight;
    int stopping;
};

int cb_scan_parse_status(const char *list, int want[CB_ST_COUNT], cb_err *err)
{
    memset(want, 0, CB_ST_COUNT * sizeof *want);
    char *copy = strdup(list);
    if (copy == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    int rc = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (int i = 0; i < CB_ST_COUNT; i++)
            if (strcmp(tok, status_names[i]) == 0)
                want[i] = found = 1;
        if (!found)
            rc = cb_err_set(err, EX_USAGE, "--status: unknown status '%s'", tok);
    }
    free(copy);
    return rc;
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n < 0 ? NULL : malloc((size_t)n + 1);
    if (s != NULL) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}

/* ---- judging one certificate (any thread) ---- */

static int classify(const cb_scan *s, const cb_cert_info *ci, const cb_trust_result *tr,
                    const unsigned char *der, size_t len, long *days_left)
{
    cb_date expiry = cb_date_of_instant(ci->not_after);
    *days_left = (long)expiry - (long)s->o.today;
    if (tr->verdict == CB_TRUST_REVOKED ||
        (s->o.trust == NULL && cb_crlset_is_revoked(s->o.crls, ci->serial, der, len)))
        return CB_ST_REVOKED;
    if (tr->verdict == CB_TRUST_UNTRUSTED)
        return CB_ST_UNTRUSTED;
    if (cb_date_of_instant(ci->not_before) > s->o.today)
        return CB_ST_NOT_YET_VALID;
    if (s->o.effect && cb_publisher_effective(s->o.effect, ci->serial, s->o.check_time) == 0)
        return CB_ST_NOT_YET_EFFECTIVE;   /* issued, not yet published (Quyết định 1924/QĐ-BQP) */
    if (*days_left < 0)
        return CB_ST_EXPIRED;
    return *days_left <= s->o.days ? CB_ST_EXPIRING : CB_ST_VALID;
}

/* The record's fields, one after another in one allocation. */
static char *record_fields(const cb_cert_info *ci, int st, long days_left, const char *source,
                           const char *problem)
{
    char nb[26], na[26], exp[11], dl[24], sha[65];
    cb_instant_format(ci->not_before, nb);
    cb_instant_format(ci->not_after, na);
    cb_date_format(cb_date_of_instant(ci->not_after), exp);
    snprintf(dl, sizeof dl, "%ld", days_left);
    static const char hex[] = "0123456789ABCDEF";
    for (int i = 0; i < 32; i++) {
        sha[2 * i] = hex[ci->sha256[i] >> 4];
        sha[2 * i + 1] = hex[ci->sha256[i] & 15];
    }
    sha[64] = '\0';
#define OR_EMPTY(x) ((x) ? (x) : "")
    const char *f[NCOLS] = {
        OR_EMPTY(ci->serial), OR_EMPTY(ci->subject_cn), OR_EMPTY(ci->subject_o),
        OR_EMPTY(ci->subject_ou), OR_EMPTY(ci->subject_l), OR_EMPTY(ci->subject_st),
        OR_EMPTY(ci->email), OR_EMPTY(ci->uid), OR_EMPTY(ci->issuer_cn), nb, na, exp, dl,
        status_names[st], sha, source, problem,
    };
    size_t total = 0;
    for (size_t i = 0; i < NCOLS; i++)
        total += strlen(f[i]) + 1;
    char *out = malloc(total), *p = out;
    for (size_t i = 0; out != NULL && i < NCOLS; i++) {
        size_t n = strlen(f[i]) + 1;
        memcpy(p, f[i], n);
        p += n;
    }
    return out;
}

static void judge_trust(const cb_scan *s, judge_ctx *jc, const unsigned char *der, size_t len,
                        const unsigned char *sha256, item *it, cb_trust_result *tr)
{
    cb_err err = {0};
    it->trusted = 1;
    if (cb_trust_judge(jc->tw, der, len, sha256, s->o.check_time, tr, &it->ca, &err) < 0) {
        it->outcome = OUT_REJECT;
        it->text = xprintf("%.600s", err.msg);
        it->code = err.code ? err.code : EX_SOFTWARE;
    }
    it->generation = tr->generation;
}

static void judge(const cb_scan *s, judge_ctx *jc, const batch *b, item *it)
{
    const unsigned char *der = b->bytes + it->off;
    const char *input = b->names[it->name];
    cb_cert_info ci;
    cb_err err = {0};
    it->outcome = OUT_RECORD;
    if (cb_cert_info_parse(&jc->ci, der, it->len, &ci, &err) < 0) {
        it->outcome = OUT_REJECT;
        it->text = xprintf("certificate %ld: %s", it->index, err.msg);
        return;
    }
    char *source = xprintf("%s#%ld", input, it->index);
    if (ci.more_emails > 0)
        it->warn = xprintf("%s: the subject has %d more e-mail address%s: the email column holds the first, %s",
                           source, ci.more_emails, ci.more_emails > 1 ? "es" : "", ci.email);
    cb_trust_result tr = {0};
    if (s->o.trust != NULL)
        judge_trust(s, jc, der, it->len, ci.sha256, it, &tr);
    if (it->outcome == OUT_RECORD) {
        long days_left;
        int st = classify(s, &ci, &tr, der, it->len, &days_left);
        if (!s->o.want[st])
            it->outcome = OUT_FILTERED;
        else
            it->fields = record_fields(&ci, st, days_left, source ? source : "", tr.problem);
    }
    free(source);
    cb_cert_info_clear(&ci);
}

/* The batch's records as CSV lines, so that the caller's thread only
 * copies them out; NULL text when memory ran out (the records are then
 * written from their fields). */
static void batch_lines(batch *b)
{
    size_t size = 0;
    FILE *fp = open_memstream(&b->text, &size);
    if (fp == NULL)
        return;
    cb_csv_writer w;
    cb_csv_writer_init(&w, fp);
    int bad = 0;
    for (size_t i = 0; i < b->n && !bad; i++) {
        item *it = &b->items[i];
        if (it->kind != IT_CERT || it->outcome != OUT_RECORD || it->fields == NULL)
            continue;
        const char *f[NCOLS], *p = it->fields;
        for (size_t k = 0; k < NCOLS; k++, p += strlen(p) + 1)
            f[k] = p;
        it->text_off = (size_t)ftell(fp);
        bad = cb_csv_write_fields(&w, f, NCOLS) < 0;
        it->text_len = (size_t)ftell(fp) - it->text_off;
    }
    if (fclose(fp) != 0 || bad) {
        free(b->text);
        b->text = NULL;
    }
    b->text_len = size;
}

static void judge_batch(const cb_scan *s, judge_ctx *jc, batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i].kind == IT_CERT)
            judge(s, jc, b, &b->items[i]);
    if (b->csv_lines)
        batch_lines(b);
}

static void forget_judgement(item *it)
{
    free(it->text);
    free(it->fields);
    free(it->warn);
    X509_free(it->ca);
    it->text = it->fields = it->warn = NULL;
    it->ca = NULL;
    it->trusted = 0;
}

/* ---- writing, in input order (the caller's thread) ---- */

static void reject(cb_scan *s, const char *source, const char *input, long line, const char *reason)
{
    cb_filter_in(s->f);
    cb_record_clear(s->rec);
    cb_record_set_str(s->rec, COL_SOURCE, source);
    cb_filter_reject_at(s->f, s->rec, input, line, NULL, reason ? reason : "out of memory");
}

static void fail(cb_scan *s, int code, const char *text)
{
    cb_err err;
    cb_err_set(&err, code, "%s", text ? text : "out of memory");
    cb_filter_fail(s->f, &err);
}

static void write_record(cb_scan *s, const char *fields)
{
    cb_record_clear(s->rec);
    const char *p = fields;
    for (size_t i = 0; i < NCOLS; i++) {
        size_t n = strlen(p);
        cb_record_set(s->rec, (int)i, p, n);
        p += n + 1;
    }
    cb_filter_emit(s->f, s->rec);
}

static void write_cert(cb_scan *s, batch *b, item *it)
{
    /* judged before a CA certificate ahead of it became an intermediate */
    if (it->trusted && it->generation != cb_trust_generation(s->o.trust)) {
        forget_judgement(it);
        judge(s, &s->own, b, it);
        it->text_len = 0;   /* the line the thread wrote is the old judgement's */
    }
    const char *input = b->names[it->name];
    char source[4200];
    snprintf(source, sizeof source, "%s#%ld", input, it->index);
    if (it->warn != NULL)
        cb_filter_note(s->f, "%s", it->warn);
    cb_err err = {0};
    if (it->ca != NULL && cb_trust_add_intermediate(s->o.trust, it->ca, &err) < 0)
        cb_filter_fail(s->f, &err);
    if (it->code != 0)   /* the reject says why */
        cb_filter_count_problem(s->f, it->code);
    if (it->outcome == OUT_REJECT) {
        reject(s, source, input, it->line, it->text);
    } else if (it->outcome == OUT_FILTERED) {
        cb_filter_in(s->f);
        cb_filter_drop(s->f);
    } else if (it->fields == NULL) {
        cb_filter_in(s->f);
        cb_filter_stop(s->f, input, it->line, &(cb_err){EX_OSERR, "out of memory"});
    } else if (b->text != NULL && it->text_len > 0) {
        cb_filter_in(s->f);
        cb_filter_emit_line(s->f, b->text + it->text_off, it->text_len);
    } else {
        cb_filter_in(s->f);
        write_record(s, it->fields);
    }
}

static void write_batch(cb_scan *s, batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        item *it = &b->items[i];
        const char *input = b->names[it->name];
        char source[4200];
        switch (it->kind) {
        case IT_CERT: write_cert(s, b, it); break;
        case IT_NOTE: cb_filter_note(s->f, "%s", it->text ? it->text : "out of memory"); break;
        case IT_FAIL: fail(s, it->code, it->text); break;
        case IT_REJECT:
            snprintf(source, sizeof source, "%s#%ld", input, it->index);
            reject(s, source, input, it->line, it->text);
            break;
        }
        forget_judgement(it);
    }
    free(b->text);
    b->text = NULL;
    b->n = b->blen = 0;
    for (size_t i = 0; i < b->nnames; i++)
        free(b->names[i]);
    b->nnames = 0;
    b->done = 0;
}

/* ---- the threads ---- */

static void *worker(void *arg)
{
    thread_ctx *tc = arg;
    cb_scan *s = tc->s;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->next_todo == NULL && !s->stopping)
            pthread_cond_wait(&s->work, &s->mu);
        if (s->next_todo == NULL)
            break;
        batch *b = s->next_todo;
        s->next_todo = b->next;
        pthread_mutex_unlock(&s->mu);
        judge_batch(s, &tc->jc, b);
        pthread_mutex_lock(&s->mu);
        b->done = 1;
        pthread_cond_broadcast(&s->done);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static batch *batch_new(void)
{
    return calloc(1, sizeof(batch));
}

static void batch_free(batch *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n; i++) {
        forget_judgement(&b->items[i]);
    }
    for (size_t i = 0; i < b->nnames; i++)
        free(b->names[i]);
    free(b->names);
    free(b->bytes);
    free(b->text);
    free(b);
}

/* Writes the judged batches at the head of the queue, the first at least
 * when wait (waiting for it). Under s->mu; returns a written batch for
 * reuse, or NULL. */
static batch *write_ready(cb_scan *s, int wait)
{
    batch *spare = NULL;
    while (s->head != NULL && (s->head->done || wait)) {
        while (!s->head->done)
            pthread_cond_wait(&s->done, &s->mu);
        batch *b = s->head;
        s->head = b->next;
        if (s->head == NULL)
            s->tail = NULL;
        s->inflight--;
        pthread_mutex_unlock(&s->mu);
        write_batch(s, b);
        batch_free(spare);
        spare = b;
        pthread_mutex_lock(&s->mu);
        wait = 0;
    }
    return spare;
}

/* The batch being filled is complete: judged and written here (jobs 1),
 * or handed to the threads; a fresh one is started. */
static void submit(cb_scan *s)
{
    batch *b = s->cur;
    if (b == NULL || b->n == 0)
        return;
    if (s->nthreads == 0) {
        judge_batch(s, &s->own, b);
        write_batch(s, b);
        return;
    }
    b->csv_lines = cb_filter_output(s->f) != NULL && !s->f->excel_csv;   /* not a workbook */
    pthread_mutex_lock(&s->mu);
    b->next = NULL;
    b->done = 0;
    if (s->tail != NULL)
        s->tail->next = b;
    else
        s->head = b;
    s->tail = b;
    if (s->next_todo == NULL)
        s->next_todo = b;
    s->inflight++;
    pthread_cond_signal(&s->work);
    batch *spare = write_ready(s, s->inflight >= (size_t)s->nthreads * BATCHES_PER_JOB);
    pthread_mutex_unlock(&s->mu);
    s->cur = spare != NULL ? spare : batch_new();
}

/* ---- reading the inputs into items (the caller's thread) ---- */

static item *add_item(cb_scan *s, int kind, const char *input, long line, long index)
{
    if (s->cur == NULL || s->cur->n == BATCH_ITEMS || s->cur->blen >= BATCH_BYTES)
        submit(s);
    batch *b = s->cur;
    if (b == NULL)
        return NULL;
    if (b->nnames == 0 || strcmp(b->names[b->nnames - 1], input) != 0) {
        if (cb_array_grow(&b->names, b->nnames, &b->capnames, sizeof *b->names, 8) < 0 ||
            (b->names[b->nnames] = strdup(input)) == NULL)
            return NULL;
        b->nnames++;
    }
    item *it = &b->items[b->n++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->name = b->nnames - 1;
    it->line = line;
    it->index = index;
    return it;
}

static void say(cb_scan *s, int kind, int code, const char *input, long line, long index, char *text)
{
    item *it = add_item(s, kind, input, line, index);
    if (it == NULL) {
        free(text);
        cb_filter_stop(s->f, NULL, 0, &(cb_err){EX_OSERR, "out of memory"});
        return;
    }
    it->text = text;
    it->code = code;
}

/* Room for len more bytes in the batch's DER. */
static int reserve(batch *b, size_t len)
{
    if (b->blen + len <= b->bcap)
        return 0;
    size_t cap = b->bcap ? b->bcap : 1 << 16;
    while (cap < b->blen + len)
        cap *= 2;
    unsigned char *p = realloc(b->bytes, cap);
    if (p == NULL)
        return -1;
    b->bytes = p;
    b->bcap = cap;
    return 0;
}

static void add_cert(cb_scan *s, const char *input, long line, long index, const unsigned char *der, size_t len)
{
    item *it = add_item(s, IT_CERT, input, line, index);
    batch *b = s->cur;   /* add_item may have started a new one */
    if (it != NULL && reserve(b, len) < 0) {
        b->n--;
        it = NULL;
    }
    if (it == NULL) {
        cb_filter_stop(s->f, NULL, 0, &(cb_err){EX_OSERR, "out of memory"});
        return;
    }
    memcpy(b->bytes + b->blen, der, len);
    it->off = b->blen;
    it->len = len;
    b->blen += len;
}

/* Every item of one input (lib/certread: PEM, DER, PKCS#7). */
static void scan_input(cb_scan *s, const char *path)
{
    cb_err err = {0};
    cb_certs_reader *r = cb_certs_open(path, &err);
    if (r == NULL) {
        say(s, IT_FAIL, err.code, path, 0, 0, xprintf("%s", err.msg));
        return;
    }
    const char *name = cb_certs_name(r);
    const unsigned char *der;
    size_t len;
    long line = 0, index = 0;
    int rc = CB_CERTS_FATAL;
    while (!cb_filter_failed(s->f) && (rc = cb_certs_next_der(r, &der, &len, &line, &index, &err)) != CB_CERTS_EOF) {
        if (rc == CB_CERTS_FATAL) {
            say(s, IT_FAIL, err.code, name, line, index, xprintf("%s", err.msg));
            break;
        } else if (rc == CB_CERTS_SKIPPED) {
            say(s, IT_NOTE, 0, name, line, index,
                xprintf("%s:%ld: skipping a %s block: not a certificate", name, line, err.msg));
        } else if (rc == CB_CERTS_UNREADABLE) {
            say(s, IT_REJECT, 0, name, line, index, xprintf("certificate %ld: %s", index, err.msg));
        } else if (len > DER_MAX) {
            say(s, IT_REJECT, 0, name, line ? line : 1, index,
                xprintf("certificate %ld: a DER item larger than 1 MiB is not a certificate", index));
        } else {
            add_cert(s, name, line ? line : 1, index, der, len);
        }
    }
    if (cb_certs_empty(r))
        say(s, IT_NOTE, 0, name, 0, 0, xprintf("%s: empty input", name));
    else if (rc == CB_CERTS_EOF && cb_certs_blocks(r) == 0 && index == 0)
        say(s, IT_NOTE, 0, name, 0, 0, xprintf("%s: no PEM block found", name));
    cb_certs_close(r);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void scan_tree(cb_scan *s, const char *path, int top);

/* A directory's entries, sorted so that it scans in the same order on
 * every machine; NULL entries where memory ran out. */
static char **dir_names(DIR *d, size_t *n)
{
    char **names = NULL;
    size_t cap = 0;
    struct dirent *e;
    *n = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')   /* ., .. and hidden files (temporary ones) */
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(names, cap * sizeof *p);
            if (p == NULL)
                break;
            names = p;
        }
        names[(*n)++] = strdup(e->d_name);
    }
    if (*n > 1)   /* qsort wants an array, and an empty directory has none */
        qsort(names, *n, sizeof *names, name_cmp);
    return names;
}

static void scan_dir(cb_scan *s, const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        say(s, IT_FAIL, EX_NOINPUT, path, 0, 0, xprintf("%s: %s", path, strerror(errno)));
        return;
    }
    size_t n;
    char **names = dir_names(d, &n);
    closedir(d);
    for (size_t i = 0; i < n; i++) {
        if (names[i] == NULL)
            continue;
        char *child = xprintf("%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", names[i]);
        if (child != NULL)
            scan_tree(s, child, 0);
        free(child);
        free(names[i]);
    }
    free(names);
}

static void scan_tree(cb_scan *s, const char *path, int top)
{
    if (strcmp(path, "-") == 0) {
        scan_input(s, "-");
        return;
    }
    struct stat st;
    /* Inside a directory a symbolic link to a directory is not followed:
     * no loops. */
    if ((top ? stat(path, &st) : lstat(path, &st)) < 0) {
        say(s, IT_FAIL, EX_NOINPUT, path, 0, 0, xprintf("%s: %s", path, strerror(errno)));
        return;
    }
    if (!top && S_ISLNK(st.st_mode) && (stat(path, &st) < 0 || S_ISDIR(st.st_mode)))
        return;
    if (S_ISDIR(st.st_mode))
        scan_dir(s, path);
    else if (S_ISREG(st.st_mode) || top)
        scan_input(s, path);
}

void cb_scan_path(cb_scan *s, const char *path)
{
    scan_tree(s, path, 1);
}

/* ---- the scan ---- */

static int judge_ctx_init(const cb_scan *s, judge_ctx *jc, cb_err *err)
{
    if (cb_certinfo_ctx_init(&jc->ci, err) < 0)
        return -1;
    if (s->o.trust != NULL && (jc->tw = cb_trust_worker_new(s->o.trust, s->o.trust_full, err)) == NULL)
        return -1;
    if (jc->tw != NULL && s->o.trustcache != NULL)
        cb_trust_worker_use_trustcache(jc->tw, s->o.trustcache);
    return 0;
}

static void judge_ctx_free(judge_ctx *jc)
{
    cb_certinfo_ctx_free(&jc->ci);
    cb_trust_worker_free(jc->tw);
}

static int start_threads(cb_scan *s, cb_err *err)
{
    if ((s->tcs = calloc((size_t)s->o.jobs, sizeof *s->tcs)) == NULL ||
        (s->threads = calloc((size_t)s->o.jobs, sizeof *s->threads)) == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work, NULL);
    pthread_cond_init(&s->done, NULL);
    for (int i = 0; i < s->o.jobs; i++) {
        s->tcs[i].s = s;
        if (judge_ctx_init(s, &s->tcs[i].jc, err) < 0)
            return -1;
        if (pthread_create(&s->threads[i], NULL, worker, &s->tcs[i]) != 0) {
            judge_ctx_free(&s->tcs[i].jc);
            return cb_err_set(err, EX_OSERR, "cannot start a thread");
        }
        s->nthreads++;
    }
    return 0;
}

cb_scan *cb_scan_new(const cb_scan_opts *o, cb_filter *f, cb_err *err)
{
    cb_scan *s = calloc(1, sizeof *s);
    if (s == NULL) {
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    s->o = *o;
    s->f = f;
    if ((s->rec = cb_record_new()) == NULL || (s->header = cb_header_new()) == NULL ||
        (s->cur = batch_new()) == NULL) {
        cb_scan_free(s);
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < NCOLS; i++)
        cb_header_add(s->header, columns[i]);
    if (judge_ctx_init(s, &s->own, err) < 0 || (o->jobs > 1 && start_threads(s, err) < 0) ||
        cb_filter_set_header(f, s->header) < 0 || cb_filter_set_reject_header(f, s->header) < 0) {
        if (err->code == 0)
            cb_err_set(err, EX_OSERR, "out of memory");
        cb_scan_free(s);
        return NULL;
    }
    return s;
}

void cb_scan_end(cb_scan *s)
{
    submit(s);
    if (s->nthreads == 0)
        return;
    pthread_mutex_lock(&s->mu);
    while (s->head != NULL)
        batch_free(write_ready(s, 1));
    pthread_mutex_unlock(&s->mu);
}

static void stop_threads(cb_scan *s)
{
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->work);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < s->nthreads; i++)
        pthread_join(s->threads[i], NULL);
    for (int i = 0; i < s->nthreads; i++)
        judge_ctx_free(&s->tcs[i].jc);
    while (s->head != NULL) {   /* a run stopped early: judged, never written */
        batch *b = s->head;
        s->head = b->next;
        batch_free(b);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->done);
}

void cb_scan_free(cb_scan *s)
{
    if (s == NULL)
        return;
    if (s->tcs != NULL)
        stop_threads(s);
    free(s->tcs);
    free(s->threads);
    judge_ctx_free(&s->own);
    batch_free(s->cur);
    cb_record_free(s->rec);
    cb_header_free(s->header);
    free(s);
}
