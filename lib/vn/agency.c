/* The per-agency table and the agency registry: see agency.h. */
#include "agency.h"
#include "array.h"
#include "csvio.h"
#include "strmap.h"
#include "identifiers.h"
#include "vntext.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const cb_ag_count_names[CB_AG_NCOUNTS] = {
    "issue_individual", "issue_organization", "renew_individual", "renew_organization", "other",
};

#define MAX_OPEN_SPILLS 48

struct cb_agency_table {
    cb_agency **all;     /* in the order first seen */
    size_t n, cap;
    cb_keymap index;     /* key -> position in all */
    cb_agency **sorted;
    char *spill_dir;
    unsigned long clock;
    int open_spills;
};

cb_agency_table *cb_agency_table_new(const char *spill_dir)
{
    cb_agency_table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    if (spill_dir && (t->spill_dir = strdup(spill_dir)) == NULL) {
        cb_agency_table_free(t);
        return NULL;
    }
    return t;
}

static void agency_free(cb_agency *a)
{
    free(a->key);
    free(a->code);
    free(a->province);
    for (size_t i = 0; i < a->nspellings; i++)
        free(a->spellings[i].name);
    free(a->spellings);
    if (a->spill)
        fclose(a->spill);
    if (a->spill_path) {
        unlink(a->spill_path);
        free(a->spill_path);
    }
    free(a);
}

void cb_agency_table_free(cb_agency_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        agency_free(t->all[i]);
    free(t->all);
    cb_keymap_clear(&t->index);
    free(t->sorted);
    free(t->spill_dir);
    free(t);
}

cb_agency *cb_agency_get(cb_agency_table *t, const char *key, const char *code)
{
    size_t i;
    if (cb_keymap_get(&t->index, key, &i))
        return t->all[i];
    if (cb_array_grow(&t->all, t->n, &t->cap, sizeof *t->all, 64) < 0)
        return NULL;
    cb_agency *a = calloc(1, sizeof *a);
    if (a == NULL || (a->key = strdup(key)) == NULL || (code && *code && (a->code = strdup(code)) == NULL) ||
        cb_keymap_add(&t->index, key, t->n, NULL) < 0) {
        if (a)
            agency_free(a);
        return NULL;
    }
    a->min_expiry = a->min_due = CB_AG_NO_DATE;
    t->all[t->n++] = a;
    free(t->sorted);
    t->sorted = NULL;
    return a;
}

int cb_agency_add_spelling(cb_agency *a, const char *name, unsigned long n)
{
    for (size_t i = 0; i < a->nspellings; i++) {
        if (strcmp(a->spellings[i].name, name) == 0) {
            a->spellings[i].count += n;
            return 0;
        }
    }
    if (cb_array_grow(&a->spellings, a->nspellings, &a->cap_spellings, sizeof *a->spellings, 4) < 0)
        return -1;
    char *copy = strdup(name);
    if (copy == NULL)
        return -1;
    a->spellings[a->nspellings++] = (cb_spelling){copy, n};
    return 0;
}

const char *cb_agency_display(const cb_agency *a)
{
    const cb_spelling *best = NULL;
    for (size_t i = 0; i < a->nspellings; i++) {
        const cb_spelling *s = &a->spellings[i];
        if (best == NULL || s->count > best->count ||
            (s->count == best->count && strcmp(s->name, best->name) < 0))
            best = s;
    }
    return best ? best->name : "";
}

/* Spellings are written "N×name" joined by " | "; a '|' inside a name is
 * not expected in an agency's name and is written as '/' so the list can
 * be read back. */
char *cb_agency_spellings_format(const cb_agency *a)
{
    size_t len = 1;
    for (size_t i = 0; i < a->nspellings; i++)
        len += strlen(a->spellings[i].name) + 32;
    char *s = malloc(len), *p = s;
    if (s == NULL)
        return NULL;
    *p = '\0';
    for (size_t i = 0; i < a->nspellings; i++) {
        p += sprintf(p, "%s%lu\xC3\x97", i ? " | " : "", a->spellings[i].count);
        for (const char *q = a->spellings[i].name; *q; q++)
            *p++ = *q == '|' ? '/' : *q;
        *p = '\0';
    }
    return s;
}

int cb_agency_spellings_parse(cb_agency *a, const char *s, cb_err *err)
{
    const char *p = s;
    while (*p) {
        const char *end = strstr(p, " | ");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char *item = strndup(p, n);
        if (item == NULL)
            return cb_err_set(err, EX_OSERR, "out of memory");
        char *times = strstr(item, "\xC3\x97");
        char *stop = NULL;
        unsigned long count = times ? strtoul(item, &stop, 10) : 0;
        if (times == NULL || stop != times || count == 0) {
            cb_err_set(err, EX_DATAERR, "spellings: '%s' is not COUNT\xC3\x97NAME", item);
            free(item);
            return -1;
        }
        int rc = cb_agency_add_spelling(a, times + 2, count);
        free(item);
        if (rc < 0)
            return cb_err_set(err, EX_OSERR, "out of memory");
        p += n;
        if (end)
            p += 3;
    }
    return 0;
}

int cb_agency_count_slot(const char *rt, const char *st)
{
    int issue = strcmp(rt, "issue") == 0, renew = strcmp(rt, "renew") == 0;
    int ind = strcmp(st, "individual") == 0, org = strcmp(st, "organization") == 0;
    if (issue && ind)
        return CB_AG_ISSUE_IND;
    if (issue && org)
        return CB_AG_ISSUE_ORG;
    if (renew && ind)
        return CB_AG_RENEW_IND;
    if (renew && org)
        return CB_AG_RENEW_ORG;
    return CB_AG_OTHER;
}

static void close_lru(cb_agency_table *t)
{
    cb_agency *victim = NULL;
    for (size_t i = 0; i < t->n; i++) {
        cb_agency *a = t->all[i];
        if (a->spill && (victim == NULL || a->lru < victim->lru))
            victim = a;
    }
    if (victim) {
        fclose(victim->spill);
        victim->spill = NULL;
        t->open_spills--;
    }
}

FILE *cb_agency_spill(cb_agency_table *t, cb_agency *a, cb_err *err)
{
    a->lru = ++t->clock;
    if (a->spill)
        return a->spill;
    if (t->spill_dir == NULL) {
        cb_err_set(err, EX_SOFTWARE, "no spill directory");
        return NULL;
    }
    if (a->spill_path == NULL) {
        size_t n = strlen(t->spill_dir) + 32;
        a->spill_path = malloc(n);
        if (a->spill_path == NULL) {
            cb_err_set(err, EX_OSERR, "out of memory");
            return NULL;
        }
        snprintf(a->spill_path, n, "%s/%zu.csv", t->spill_dir, t->n + (size_t)t->clock);
    }
    if (t->open_spills >= MAX_OPEN_SPILLS)
        close_lru(t);
    a->spill = fopen(a->spill_path, "a");
    if (a->spill == NULL) {
        cb_err_sys(err, EX_CANTCREAT, "%s", a->spill_path);
        return NULL;
    }
    t->open_spills++;
    return a->spill;
}

int cb_agency_spill_close(cb_agency *a, cb_err *err)
{
    if (a->spill == NULL)
        return 0;
    int bad = fclose(a->spill) != 0;
    a->spill = NULL;
    if (bad)
        return cb_err_sys(err, EX_IOERR, "%s", a->spill_path);
    return 0;
}

size_t cb_agency_count(const cb_agency_table *t)
{
    return t->n;
}

static int by_key(const void *x, const void *y)
{
    const cb_agency *a = *(cb_agency *const *)x, *b = *(cb_agency *const *)y;
    return strcmp(a->key, b->key);
}

cb_agency **cb_agency_sorted(cb_agency_table *t)
{
    free(t->sorted);
    t->sorted = malloc((t->n ? t->n : 1) * sizeof *t->sorted);
    if (t->sorted == NULL)
        return NULL;
    if (t->n)
        memcpy(t->sorted, t->all, t->n * sizeof *t->sorted);
    qsort(t->sorted, t->n, sizeof *t->sorted, by_key);
    return t->sorted;
}

/* ---- the agency registry ----
 *
 * The entries in file order; two maps to find them: the upper-cased code
 * and the agency key of each name and alias, both to the entry's index
 * (as decimal text: the library's one string map). */

struct cb_agency_registry {
    cb_agency_entry *v;
    size_t n, cap;
    cb_strmap by_code, by_name;
    cb_lang lang;   /* of the messages while loading */
};

/* A message in the registry's language (--lang vi): both texts take the
 * same arguments. */
#define TR(reg, en, vi) ((reg)->lang == CB_LANG_VI ? (vi) : (en))

static void entry_free(cb_agency_entry *e)
{
    free(e->code);
    free(e->name);
    free(e->email);
    free(e->province);
    free(e->parent_code);
    free(e->key);
}

void cb_agency_registry_free(cb_agency_registry *reg)
{
    if (reg == NULL)
        return;
    for (size_t i = 0; i < reg->n; i++)
        entry_free(&reg->v[i]);
    free(reg->v);
    cb_strmap_clear(&reg->by_code);
    cb_strmap_clear(&reg->by_name);
    free(reg);
}

size_t cb_agency_registry_count(const cb_agency_registry *reg)
{
    return reg ? reg->n : 0;
}

static char *upper_ascii(const char *s)
{
    char *u = strdup(s);
    for (char *p = u; p && *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 32);
    return u;
}

static const cb_agency_entry *entry_at(const cb_agency_registry *reg, const char *idx)
{
    return idx ? &reg->v[strtoul(idx, NULL, 10)] : NULL;
}

const cb_agency_entry *cb_agency_registry_by_code(const cb_agency_registry *reg, const char *code)
{
    char *u = upper_ascii(code);
    const char *idx = u ? cb_strmap_get(&reg->by_code, u) : NULL;
    free(u);
    return entry_at(reg, idx);
}

const cb_agency_entry *cb_agency_registry_by_name(const cb_agency_registry *reg, const char *name)
{
    char *k = cb_agency_key(name);
    const char *idx = k && *k ? cb_strmap_get(&reg->by_name, k) : NULL;
    free(k);
    return entry_at(reg, idx);
}

/* Files a name or alias of entry i; the same name for another agency is an
 * error (the registry would not say which is meant). */
static int add_name(cb_agency_registry *reg, size_t i, const char *name, const char *file, cb_err *err)
{
    char *k = cb_agency_key(name);
    if (k == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    if (*k == '\0') {
        free(k);
        return 0;
    }
    char idx[24];
    snprintf(idx, sizeof idx, "%zu", i);
    const char *had = cb_strmap_get(&reg->by_name, k);
    int rc = 0;
    if (had && strcmp(had, idx) != 0)
        rc = cb_err_set(err, EX_DATAERR,
                        TR(reg, "%s:%ld: the name '%s' is also agency '%s' (line %ld)",
                           "%s:%ld: tên '%s' cũng là tên của cơ quan '%s' (dòng %ld)"),
                        file, reg->v[i].line, name, entry_at(reg, had)->name, entry_at(reg, had)->line);
    else if (!had && cb_strmap_put(&reg->by_name, k, idx) < 0)
        rc = cb_err_set(err, EX_OSERR, "out of memory");
    free(k);
    return rc;
}

static char *field_dup(const cb_record *rec, int col)
{
    return cb_text_clean(col >= 0 ? cb_record_get(rec, col) : "");
}

/* One registry row: checked, filed under its code and names. */
static int registry_add(cb_agency_registry *reg, const cb_record *rec, const int *col, const char *file,
                        cb_err *err)
{
    if (cb_array_grow(&reg->v, reg->n, &reg->cap, sizeof *reg->v, 64) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    cb_agency_entry *e = &reg->v[reg->n];
    memset(e, 0, sizeof *e);
    e->line = rec->line;
    char *code = field_dup(rec, col[0]);
    e->code = code ? upper_ascii(code) : NULL;
    free(code);
    e->name = field_dup(rec, col[1]);
    e->email = field_dup(rec, col[3]);
    e->province = field_dup(rec, col[4]);
    e->parent_code = field_dup(rec, col[5]);
    if (!e->code || !e->name || !e->email || !e->province || !e->parent_code) {
        entry_free(e);
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    int rc = 0;
    if (*e->name == '\0')
        rc = cb_err_set(err, EX_DATAERR, TR(reg, "%s:%ld: the agency has no name", "%s:%ld: cơ quan không có tên"),
                        file, e->line);
    else if (*e->code && !cb_agency_code_check(e->code))
        rc = cb_err_set(err, EX_DATAERR,
                        TR(reg, "%s:%ld: agency code '%s' is not an agency identifier like 000.00.15.H41",
                           "%s:%ld: mã cơ quan '%s' không phải mã định danh cơ quan dạng 000.00.15.H41"),
                        file, e->line, e->code);
    else if (*e->email && !cb_email_check(e->email, NULL))
        rc = cb_err_set(err, EX_DATAERR,
                        TR(reg, "%s:%ld: '%s' is not an e-mail address", "%s:%ld: '%s' không phải địa chỉ thư điện tử"),
                        file, e->line, e->email);
    else if (*e->code && cb_strmap_get(&reg->by_code, e->code))
        rc = cb_err_set(err, EX_DATAERR,
                        TR(reg, "%s:%ld: agency code %s is listed twice (line %ld)",
                           "%s:%ld: mã cơ quan %s có hai lần trong danh mục (dòng %ld)"),
                        file, e->line, e->code, entry_at(reg, cb_strmap_get(&reg->by_code, e->code))->line);
    if (rc == 0)
        e->key = *e->code ? strdup(e->code) : cb_agency_key(e->name);
    if (rc == 0 && e->key == NULL)
        rc = cb_err_set(err, EX_OSERR, "out of memory");
    if (rc < 0) {
        entry_free(e);
        return rc;
    }
    size_t i = reg->n++;
    char idx[24];
    snprintf(idx, sizeof idx, "%zu", i);
    if (*e->code && cb_strmap_put(&reg->by_code, e->code, idx) < 0)
        return cb_err_set(err, EX_OSERR, "out of memory");
    if (add_name(reg, i, e->name, file, err) < 0)
        return -1;
    const char *aliases = col[2] >= 0 ? cb_record_get(rec, col[2]) : "";
    while (*aliases) {
        const char *bar = strchr(aliases, '|');
        size_t len = bar ? (size_t)(bar - aliases) : strlen(aliases);
        char *alias = strndup(aliases, len);
        if (alias == NULL)
            return cb_err_set(err, EX_OSERR, "out of memory");
        rc = add_name(reg, i, alias, file, err);
        free(alias);
        if (rc < 0)
            return -1;
        aliases += len + (bar != NULL);
    }
    return 0;
}

static const char *const registry_cols[] = {"agency_code", "name", "aliases", "email", "province",
                                            "parent_code"};

cb_agency_registry *cb_agency_registry_load(const char *path, cb_lang lang, cb_err *err)
{
    char *files[] = {(char *)path};
    cb_csv_opts opts = {.lang = lang};
    cb_csv_reader *rd = cb_csv_reader_open_opts(files, 1, &opts, err);
    if (rd == NULL)
        return NULL;
    cb_agency_registry *reg = calloc(1, sizeof *reg);
    if (reg)
        reg->lang = lang;
    cb_record *rec = cb_record_new();
    int col[6], st = CB_CSV_EOF;
    for (int i = 0; i < 6; i++)
        col[i] = cb_header_find(cb_csv_reader_header(rd), registry_cols[i]);
    if (reg == NULL || rec == NULL)
        cb_err_set(err, EX_OSERR, "out of memory"), st = CB_CSV_FATAL;
    else if (col[0] < 0 || col[1] < 0)
        cb_err_set(err, EX_DATAERR,
                   TR(reg, "%s:1: an agency registry needs the columns agency_code and name",
                      "%s:1: danh mục cơ quan phải có các cột agency_code và name"),
                   path),
            st = CB_CSV_FATAL;
    else
        while ((st = cb_csv_reader_next(rd, rec, err)) == CB_CSV_RECORD && registry_add(reg, rec, col, path, err) == 0)
            ;
    if (st == CB_CSV_MALFORMED) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        cb_err_set(err, EX_DATAERR, "%s:%ld: %.900s", path, rec->line, why);
    }
    cb_record_free(rec);
    cb_csv_reader_close(rd);
    if (st != CB_CSV_EOF) {
        cb_agency_registry_free(reg);
        return NULL;
    }
    return reg;
}
