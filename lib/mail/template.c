/* Letter templates: see template.h. A template is compiled once into a list
 * of text and placeholder nodes per part; binding resolves each placeholder
 * to a column index so rendering a record is a walk over the list. */
#include "template.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { N_TEXT, N_FIELD, N_BEGIN, N_END };
enum { F_NONE, F_DATE };
enum { S_NONE, S_COUNT, S_INDEX, S_TODAY };

struct node {
    int kind;
    const char *text;   /* N_TEXT: points into the template's copy */
    size_t len;
    char *name;         /* N_FIELD */
    int optional, filter, special;
    int col, var;       /* bound: column index or variable index, else -1 */
    int line;
};

struct part {
    struct node *v;
    size_t n, cap;
};

struct cb_template {
    char *label;
    char *text;         /* the template's own copy; text nodes point into it */
    struct part parts[3];
    int has_section;
};

static struct node *part_add(struct part *p, int kind, int line)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        struct node *v = realloc(p->v, cap * sizeof *v);
        if (v == NULL)
            return NULL;
        p->v = v;
        p->cap = cap;
    }
    struct node *nd = &p->v[p->n++];
    memset(nd, 0, sizeof *nd);
    nd->kind = kind;
    nd->line = line;
    nd->col = nd->var = -1;
    return nd;
}

static int add_text(struct part *p, const char *s, size_t len, int line)
{
    if (len == 0)
        return 0;
    struct node *nd = part_add(p, N_TEXT, line);
    if (nd == NULL)
        return -1;
    nd->text = s;
    nd->len = len;
    return 0;
}

/* memmem is a GNU extension; the flags give POSIX only. */
static const char *find2(const char *s, const char *end, char c)
{
    for (; s + 1 < end; s++)
        if (s[0] == c && s[1] == c)
            return s;
    return NULL;
}

static int count_lines(const char *s, const char *e)
{
    int n = 0;
    for (; s < e; s++)
        n += *s == '\n';
    return n;
}

/* Compiles s[0..len) into p; line is the line s starts on. in_body allows
 * the section tags. */
static int compile(cb_template *t, struct part *p, const char *s, size_t len, int line,
                   int in_body, cb_err *err)
{
    const char *end = s + len, *text = s, *q = s;
    int open = 0;
    while ((q = find2(q, end, '{')) != NULL) {
        int l = line + count_lines(s, q);
        const char *close = find2(q + 2, end, '}');
        if (close == NULL)
            return cb_err_set(err, EX_DATAERR, "%s:%d: '{{' without '}}'", t->label, l);
        const char *a = q + 2, *b = close;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (a < b && (*a == '#' || *a == '/')) {
            int begin = *a == '#';
            if (!in_body)
                return cb_err_set(err, EX_DATAERR, "%s:%d: a section belongs in the body", t->label, l);
            if ((size_t)(b - a - 1) != 7 || memcmp(a + 1, "records", 7) != 0)
                return cb_err_set(err, EX_DATAERR, "%s:%d: the only section is {{#records}}...{{/records}}",
                                  t->label, l);
            if (begin && (open || t->has_section))
                return cb_err_set(err, EX_DATAERR, "%s:%d: a template has one {{#records}} section",
                                  t->label, l);
            if (!begin && !open)
                return cb_err_set(err, EX_DATAERR, "%s:%d: {{/records}} without {{#records}}", t->label, l);
            /* A tag alone on its line takes the line, so the letter gets no
             * empty line where the tag was. */
            const char *ls = q, *le = close + 2;
            while (ls > text && (ls[-1] == ' ' || ls[-1] == '\t'))
                ls--;
            while (le < end && (*le == ' ' || *le == '\t'))
                le++;
            int standalone = (ls == s || ls[-1] == '\n') && (le == end || *le == '\n' || *le == '\r');
            if (standalone) {
                if (le < end && *le == '\r')
                    le++;
                if (le < end && *le == '\n')
                    le++;
            } else {
                ls = q;
                le = close + 2;
            }
            if (add_text(p, text, (size_t)(ls - text), l) < 0 || part_add(p, begin ? N_BEGIN : N_END, l) == NULL)
                return cb_err_set(err, EX_OSERR, "out of memory");
            open = begin;
            if (begin)
                t->has_section = 1;
            text = q = le;
            continue;
        }
        if (add_text(p, text, (size_t)(q - text), l) < 0)
            return cb_err_set(err, EX_OSERR, "out of memory");
        const char *n0 = a, *n1 = a;
        while (n1 < b && (isalnum((unsigned char)*n1) || *n1 == '_' || *n1 == '-' || (*n1 == '@' && n1 == a)))
            n1++;
        if (n1 == n0)
            return cb_err_set(err, EX_DATAERR, "%s:%d: empty or bad placeholder '%.*s'", t->label, l,
                              (int)(close + 2 - q), q);
        struct node *nd = part_add(p, N_FIELD, l);
        if (nd == NULL || (nd->name = strndup(n0, (size_t)(n1 - n0))) == NULL)
            return cb_err_set(err, EX_OSERR, "out of memory");
        const char *r = n1;
        if (r < b && *r == '?') {
            nd->optional = 1;
            r++;
        }
        if (r < b && *r == '|') {
            if ((size_t)(b - r - 1) == 4 && memcmp(r + 1, "date", 4) == 0)
                nd->filter = F_DATE;
            else
                return cb_err_set(err, EX_DATAERR, "%s:%d: unknown filter '%.*s' (known: date)", t->label, l,
                                  (int)(b - r - 1), r + 1);
            r = b;
        }
        if (r != b)
            return cb_err_set(err, EX_DATAERR, "%s:%d: bad placeholder '%.*s'", t->label, l,
                              (int)(close + 2 - q), q);
        if (nd->name[0] == '@') {
            if (strcmp(nd->name, "@count") == 0)
                nd->special = S_COUNT;
            else if (strcmp(nd->name, "@index") == 0)
                nd->special = S_INDEX;
            else if (strcmp(nd->name, "@today") == 0)
                nd->special = S_TODAY;
            else
                return cb_err_set(err, EX_DATAERR, "%s:%d: unknown name %s (known: @count, @index, @today)",
                                  t->label, l, nd->name);
        }
        text = q = close + 2;
    }
    if (open)
        return cb_err_set(err, EX_DATAERR, "%s: {{#records}} is never closed by {{/records}}", t->label);
    if (add_text(p, text, (size_t)(end - text), line) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    return 0;
}

cb_template *cb_template_parse(const char *label, const char *text, size_t len, cb_err *err)
{
    cb_template *t = calloc(1, sizeof *t);
    if (t == NULL || (t->label = strdup(label)) == NULL || (t->text = malloc(len + 1)) == NULL) {
        cb_template_free(t);
        cb_err_set(err, EX_OSERR, "out of memory");
        return NULL;
    }
    memcpy(t->text, text, len);
    t->text[len] = '\0';
    if (memchr(t->text, '\0', len) != NULL) {
        cb_err_set(err, EX_DATAERR, "%s: a template is text; this file has a NUL byte", label);
        goto fail;
    }
    const char *s = t->text, *end = t->text + len;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3;
    int line = 1, have_subject = 0, have_to_name = 0;
    for (;;) {
        if (s >= end) {
            cb_err_set(err, EX_DATAERR, "%s:%d: the header lines must end with an empty line before the body",
                       label, line);
            goto fail;
        }
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        const char *ve = le;
        if (ve > s && ve[-1] == '\r')
            ve--;
        if (ve == s) {   /* the empty line: the body follows */
            s = nl ? nl + 1 : end;
            line++;
            break;
        }
        if (ve - s >= 2 && s[0] == '#' && s[1] == '#') {
            s = nl ? nl + 1 : end;
            line++;
            continue;
        }
        const char *colon = memchr(s, ':', (size_t)(ve - s));
        int which = -1;
        if (colon != NULL && (size_t)(colon - s) == 7 && strncasecmp(s, "Subject", 7) == 0)
            which = CB_TPL_SUBJECT;
        else if (colon != NULL && (size_t)(colon - s) == 7 && strncasecmp(s, "To-Name", 7) == 0)
            which = CB_TPL_TO_NAME;
        if (which < 0) {
            cb_err_set(err, EX_DATAERR,
                       "%s:%d: expected a header line (Subject: or To-Name:) or the empty line before the body",
                       label, line);
            goto fail;
        }
        int *seen = which == CB_TPL_SUBJECT ? &have_subject : &have_to_name;
        if (*seen) {
            cb_err_set(err, EX_DATAERR, "%s:%d: %.*s is given twice", label, line, (int)(colon - s), s);
            goto fail;
        }
        *seen = 1;
        const char *v = colon + 1;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        const char *w = ve;
        while (w > v && (w[-1] == ' ' || w[-1] == '\t'))
            w--;
        if (compile(t, &t->parts[which], v, (size_t)(w - v), line, 0, err) < 0)
            goto fail;
        s = nl ? nl + 1 : end;
        line++;
    }
    if (!have_subject) {
        cb_err_set(err, EX_DATAERR, "%s: the template has no Subject: line", label);
        goto fail;
    }
    if (compile(t, &t->parts[CB_TPL_BODY], s, (size_t)(end - s), line, 1, err) < 0)
        goto fail;
    return t;
fail:
    cb_template_free(t);
    return NULL;
}

cb_template *cb_template_load(const char *path, cb_err *err)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        cb_err_sys(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open template %s", path);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 8192;
            if (cap > (16u << 20)) {
                cb_err_set(err, EX_DATAERR, "template %s is too large", path);
                goto fail;
            }
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                cb_err_set(err, EX_OSERR, "out of memory");
                goto fail;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(fp)) {
        cb_err_sys(err, EX_IOERR, "cannot read template %s", path);
        goto fail;
    }
    fclose(fp);
    cb_template *t = cb_template_parse(path, buf ? buf : "", len, err);
    free(buf);
    return t;
fail:
    fclose(fp);
    free(buf);
    return NULL;
}

void cb_template_free(cb_template *t)
{
    if (t == NULL)
        return;
    for (int i = 0; i < 3; i++) {
        for (size_t j = 0; j < t->parts[i].n; j++)
            free(t->parts[i].v[j].name);
        free(t->parts[i].v);
    }
    free(t->label);
    free(t->text);
    free(t);
}

int cb_template_has_section(const cb_template *t)
{
    return t->has_section;
}

int cb_template_bind(cb_template *t, const cb_header *h, const char *const *var_names, size_t nvars,
                     cb_err *err)
{
    for (int i = 0; i < 3; i++)
        for (size_t j = 0; j < t->parts[i].n; j++) {
            struct node *nd = &t->parts[i].v[j];
            if (nd->kind != N_FIELD || nd->special != S_NONE)
                continue;
            nd->col = cb_header_find(h, nd->name);
            nd->var = -1;
            if (nd->col >= 0)
                continue;
            for (size_t k = 0; k < nvars; k++)
                if (strcmp(var_names[k], nd->name) == 0)
                    nd->var = (int)k;
            if (nd->var < 0)
                return cb_err_set(err, EX_DATAERR,
                                  "%s:%d: the template uses column '%s', which the input does not have",
                                  t->label, nd->line, nd->name);
        }
    return 0;
}

/* The date in a value: YYYY-MM-DD, DD/MM/YYYY or an instant (its date part,
 * already in UTC+07:00 by the contract). */
static int value_date(const char *v, cb_date *d)
{
    char buf[11];
    if (strlen(v) > 10 && v[4] == '-' && v[10] == 'T') {
        memcpy(buf, v, 10);
        buf[10] = '\0';
        v = buf;
    }
    return cb_date_parse(v, d);
}

const char *cb_template_check_record(const cb_template *t, const cb_record *rec, const char **why)
{
    for (int i = 0; i < 3; i++)
        for (size_t j = 0; j < t->parts[i].n; j++) {
            const struct node *nd = &t->parts[i].v[j];
            if (nd->kind != N_FIELD || nd->col < 0)
                continue;
            const char *v = cb_record_get(rec, nd->col);
            const char *p = v;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '\0') {
                if (nd->optional)
                    continue;
                *why = "is empty, and the letter needs it";
                return nd->name;
            }
            cb_date d;
            if (nd->filter == F_DATE && value_date(v, &d) < 0) {
                *why = "is not a date (YYYY-MM-DD or DD/MM/YYYY)";
                return nd->name;
            }
        }
    return NULL;
}

static int put_node(const struct node *nd, const cb_record *rec, size_t index, size_t n,
                    const char *const *vars, cb_date today, FILE *out)
{
    char buf[32];
    const char *v;
    switch (nd->special) {
    case S_COUNT:
        snprintf(buf, sizeof buf, "%zu", n);
        return fputs(buf, out) < 0 ? -1 : 0;
    case S_INDEX:
        snprintf(buf, sizeof buf, "%zu", index + 1);
        return fputs(buf, out) < 0 ? -1 : 0;
    case S_TODAY:
        cb_date_format_vn(today, buf);
        return fputs(buf, out) < 0 ? -1 : 0;
    }
    if (nd->col >= 0)
        v = cb_record_get(rec, nd->col);
    else if (nd->var >= 0 && vars != NULL)
        v = vars[nd->var];
    else
        v = "";
    cb_date d;
    if (nd->filter == F_DATE && *v && value_date(v, &d) == 0) {
        cb_date_format_vn(d, buf);
        v = buf;
    }
    return fputs(v, out) < 0 ? -1 : 0;
}

int cb_template_render(const cb_template *t, enum cb_template_part part, const cb_record *const *recs,
                       size_t n, const char *const *var_values, cb_date today, FILE *out, cb_err *err)
{
    const struct part *p = &t->parts[part];
    const char *why;
    for (size_t i = 0; i < n; i++) {
        const char *bad = cb_template_check_record(t, recs[i], &why);
        if (bad != NULL)
            return cb_err_set(err, EX_DATAERR, "column %s %s", bad, why);
    }
    for (size_t j = 0; j < p->n; j++) {
        const struct node *nd = &p->v[j];
        if (nd->kind == N_TEXT) {
            if (fwrite(nd->text, 1, nd->len, out) != nd->len)
                goto ioerr;
        } else if (nd->kind == N_FIELD) {
            if (put_node(nd, recs[0], 0, n, var_values, today, out) < 0)
                goto ioerr;
        } else if (nd->kind == N_BEGIN) {
            size_t k = j + 1;
            while (k < p->n && p->v[k].kind != N_END)
                k++;
            for (size_t r = 0; r < n; r++)
                for (size_t m = j + 1; m < k; m++) {
                    const struct node *x = &p->v[m];
                    if (x->kind == N_TEXT) {
                        if (fwrite(x->text, 1, x->len, out) != x->len)
                            goto ioerr;
                    } else if (put_node(x, recs[r], r, n, var_values, today, out) < 0) {
                        goto ioerr;
                    }
                }
            j = k;
        }
    }
    return 0;
ioerr:
    return cb_err_sys(err, EX_IOERR, "cannot write the letter");
}

char *cb_template_render_str(const cb_template *t, enum cb_template_part part,
                             const cb_record *const *recs, size_t n, const char *const *var_values,
                             cb_date today, cb_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (fp == NULL) {
        cb_err_sys(err, EX_OSERR, "cannot render the letter");
        return NULL;
    }
    int rc = cb_template_render(t, part, recs, n, var_values, today, fp, err);
    if (fclose(fp) != 0 && rc == 0)
        rc = cb_err_sys(err, EX_OSERR, "cannot render the letter");
    if (rc < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
