/* The pipeline model parsed from YAML: see pipeline.h. */
#include "pipeline.h"
#include "atomic.h"
#include "strbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

typedef struct raw_var {
    char *name;
    const char *text;      /* in the document, or a --set value */
    yaml_node_t *node;     /* NULL for --set and today: taken literally */
    char *value;           /* once resolved */
    int resolving;
} raw_var;

typedef struct ctx {
    const char *file;
    yaml_document_t *doc;
    cb_pipeline *p;
    cb_err *err;
    raw_var *vars;
    size_t nvars;
    size_t substituted;    /* bytes of variable values copied so far */
} ctx;

static int fail_at(ctx *c, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(ctx *c, int line, int col, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cb_err_set(c->err, EX_DATAERR, "%s:%d:%d: %s", c->file, line, col, msg);
}

#define LINE(n) ((int)(n)->start_mark.line + 1)
#define COL(n) ((int)(n)->start_mark.column + 1)
#define fail(c, n, ...) fail_at((c), LINE(n), COL(n), __VA_ARGS__)

static void *xcalloc(size_t n, size_t size)
{
    return calloc(n ? n : 1, size);
}

static const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a single value";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

static yaml_node_t *node(ctx *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

static const char *scalar(ctx *c, yaml_node_t *n, const char *what)
{
    if (n->type != YAML_SCALAR_NODE) {
        fail(c, n, "%s must be a single value, not %s", what, node_kind(n));
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

/* The column of byte off inside a scalar, when it can be known (a scalar on
 * one line); otherwise the scalar's own column. */
static int col_in(const yaml_node_t *n, const char *s, size_t off)
{
    if (memchr(s, '\n', off) != NULL || n->start_mark.line != n->end_mark.line)
        return COL(n);
    int quoted = n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                 n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    return COL(n) + quoted + (int)off;
}

static int resolve_var(ctx *c, raw_var *v, cb_err *err);

static raw_var *find_var(ctx *c, const char *name, size_t len)
{
    for (size_t i = 0; i < c->nvars; i++)
        if (strlen(c->vars[i].name) == len && memcmp(c->vars[i].name, name, len) == 0)
            return &c->vars[i];
    return NULL;
}

static int is_name_char(int ch, int first)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
           (!first && ch >= '0' && ch <= '9');
}

/* At s[i] == '$': appends the variable's value and returns the bytes
 * consumed, or 0 when this is not a reference (a lone '$'), or -1. */
static long subst_at(ctx *c, yaml_node_t *n, const char *s, size_t i, cb_buf *out)
{
    if (s[i + 1] == '$' && s[i + 2] == '{') {  /* $${x} is a literal ${x} */
        if (cb_buf_addc(out, '$') < 0)
            return cb_err_set(c->err, EX_OSERR, "out of memory");
        return 2;
    }
    if (s[i + 1] != '{')
        return 0;
    size_t j = i + 2;
    while (s[j] && is_name_char((unsigned char)s[j], j == i + 2))
        j++;
    if (s[j] != '}' || j == i + 2)
        return fail_at(c, LINE(n), col_in(n, s, i),
                       "a variable is written ${name} (letters, digits, _)");
    raw_var *v = find_var(c, s + i + 2, j - i - 2);
    if (v == NULL)
        return fail_at(c, LINE(n), col_in(n, s, i), "undefined variable ${%.*s}",
                       (int)(j - i - 2), s + i + 2);
    if (resolve_var(c, v, c->err) < 0)
        return -1;
    /* Each value is resolved once, but ten references to a variable of ten
     * references... grow tenfold a line: a seven-line file made 9 GB. */
    size_t vlen = strlen(v->value);
    if (out->len + vlen > CB_PIPELINE_VALUE_MAX) {
        for (size_t k = 0; k < c->nvars; k++)
            if (c->vars[k].node == n)
                return fail_at(c, LINE(n), col_in(n, s, i),
                               "variable ${%s} grows past %d MB with ${%s} substituted: no pipeline needs that",
                               c->vars[k].name, CB_PIPELINE_VALUE_MAX >> 20, v->name);
        return fail_at(c, LINE(n), col_in(n, s, i),
                       "this value grows past %d MB with ${%s} substituted: no pipeline needs that",
                       CB_PIPELINE_VALUE_MAX >> 20, v->name);
    }
    c->substituted += vlen;
    if (c->substituted > CB_PIPELINE_TOTAL_MAX)
        return fail_at(c, LINE(n), col_in(n, s, i),
                       "with ${%s} substituted, the pipeline's values add up to more than %d MB",
                       v->name, CB_PIPELINE_TOTAL_MAX >> 20);
    if (cb_buf_add(out, v->value, vlen) < 0)
        return cb_err_set(c->err, EX_OSERR, "out of memory");
    return (long)(j - i + 1);
}

/* ${name} substituted in a whole scalar. */
static char *expand(ctx *c, yaml_node_t *n, const char *s)
{
    cb_buf out = {0};
    for (size_t i = 0; s[i];) {
        if (s[i] == '$') {
            long used = subst_at(c, n, s, i, &out);
            if (used < 0) {
                free(out.s);
                return NULL;
            }
            if (used > 0) {
                i += (size_t)used;
                continue;
            }
        }
        if (cb_buf_addc(&out, s[i++]) < 0) {
            free(out.s);
            cb_err_set(c->err, EX_OSERR, "out of memory");
            return NULL;
        }
    }
    return cb_buf_take(&out);
}

static int resolve_var(ctx *c, raw_var *v, cb_err *err)
{
    if (v->value != NULL)
        return 0;
    if (v->node == NULL) {
        v->value = strdup(v->text);
        return v->value ? 0 : cb_err_set(err, EX_OSERR, "out of memory");
    }
    if (v->resolving)
        return fail(c, v->node, "variable ${%s} refers to itself", v->name);
    v->resolving = 1;
    v->value = expand(c, v->node, v->text);
    v->resolving = 0;
    return v->value ? 0 : -1;
}

/* Word splitting, with ${name} substitution when c is given. */
static int split(ctx *c, yaml_node_t *n, const char *s, char ***argvp, size_t *argcp, size_t *at,
                 const char **why)
{
    char **argv = NULL;
    size_t argc = 0, cap = 0;
    cb_buf w = {0};
    int in_word = 0;
    size_t i = 0;
    *why = NULL;
    for (;;) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\0' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
            if (in_word) {
                if (argc + 2 > cap) {
                    cap = cap ? cap * 2 : 8;
                    char **t = realloc(argv, cap * sizeof *t);
                    if (t == NULL)
                        goto nomem;
                    argv = t;
                }
                if ((argv[argc] = cb_buf_take(&w)) == NULL)
                    goto nomem;
                argv[++argc] = NULL;
                in_word = 0;
            }
            if (ch == '\0')
                break;
            i++;
            continue;
        }
        in_word = 1;
        if (ch == '\'') {
            size_t j = i + 1;
            while (s[j] && s[j] != '\'')
                j++;
            if (!s[j]) {
                *why = "a quote ' is never closed";
                goto bad;
            }
            if (cb_buf_add(&w, s + i + 1, j - i - 1) < 0)
                goto nomem;
            i = j + 1;
        } else if (ch == '"') {
            size_t j = i + 1;
            if (cb_buf_add(&w, "", 0) < 0)
                goto nomem;
            for (;;) {
                if (!s[j]) {
                    *why = "a quote \" is never closed";
                    goto bad;
                }
                if (s[j] == '"')
                    break;
                if (s[j] == '\\' && (s[j + 1] == '"' || s[j + 1] == '\\' || s[j + 1] == '$')) {
                    if (cb_buf_addc(&w, s[j + 1]) < 0)
                        goto nomem;
                    j += 2;
                    continue;
                }
                if (s[j] == '`' || (s[j] == '$' && s[j + 1] == '(')) {
                    i = j;
                    *why = "command substitution is not supported: write each program as its own step";
                    goto bad;
                }
                if (s[j] == '$' && c != NULL) {
                    long used = subst_at(c, n, s, j, &w);
                    if (used < 0)
                        goto fail;
                    if (used > 0) {
                        j += (size_t)used;
                        continue;
                    }
                }
                if (cb_buf_addc(&w, s[j++]) < 0)
                    goto nomem;
            }
            i = j + 1;
        } else if (ch == '\\') {
            if (!s[i + 1]) {
                *why = "a backslash at the end escapes nothing";
                goto bad;
            }
            if (cb_buf_addc(&w, s[i + 1]) < 0)
                goto nomem;
            i += 2;
        } else if (strchr("|&;<>()`", ch) != NULL || (ch == '$' && s[i + 1] == '(')) {
            *why = "shell operators (| & ; < > ( ) ` $( ) are not supported: write each program "
                   "as its own step, and use input, output and tee for files";
            goto bad;
        } else if (ch == '$' && c != NULL) {
            long used = subst_at(c, n, s, i, &w);
            if (used < 0)
                goto fail;
            if (used > 0)
                i += (size_t)used;
            else if (cb_buf_addc(&w, s[i++]) < 0)
                goto nomem;
        } else {
            if (cb_buf_addc(&w, (char)ch) < 0)
                goto nomem;
            i++;
        }
    }
    if (argc == 0) {
        *why = "the step is empty";
        goto bad;
    }
    *argvp = argv;
    *argcp = argc;
    return 0;
nomem:
    *why = "out of memory";
bad:
    *at = i;
fail:
    free(w.s);
    cb_free_words(argv);
    return -1;
}

int cb_split_words(const char *s, char ***argv, size_t *argc, size_t *at, const char **why)
{
    return split(NULL, NULL, s, argv, argc, at, why);
}

void cb_free_words(char **argv)
{
    if (argv == NULL)
        return;
    for (char **a = argv; *a; a++)
        free(*a);
    free(argv);
}

char *cb_shell_quote(const char *s)
{
    int plain = *s != '\0';
    for (const char *q = s; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
              strchr("-_./,:=+@%", *q) != NULL || (unsigned char)*q >= 0x80))
            plain = 0;
    if (plain)
        return strdup(s);
    cb_buf b = {0};
    if (cb_buf_addc(&b, '\'') < 0)
        return NULL;
    for (const char *q = s; *q; q++) {
        if (*q == '\'' ? cb_buf_add(&b, "'\\''", 4) < 0 : cb_buf_addc(&b, *q) < 0) {
            free(b.s);
            return NULL;
        }
    }
    if (cb_buf_addc(&b, '\'') < 0) {
        free(b.s);
        return NULL;
    }
    return cb_buf_take(&b);
}

static char *dup_expand(ctx *c, yaml_node_t *n, const char *what)
{
    const char *s = scalar(c, n, what);
    return s ? expand(c, n, s) : NULL;
}

static int parse_bool(ctx *c, yaml_node_t *n, const char *what, int *out)
{
    char *s = dup_expand(c, n, what);
    if (s == NULL)
        return -1;
    int rc = 0;
    if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
        *out = 1;
    else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
        *out = 0;
    else
        rc = fail(c, n, "%s must be true or false, not \"%s\"", what, s);
    free(s);
    return rc;
}

/* A key given twice in one mapping (YAML 1.2 forbids it; libyaml lets it
 * through): the first value would be lost without a word. Only known keys
 * get here, so the pairs before pr are few. */
static int repeated_key(ctx *c, yaml_node_t *map, yaml_node_pair_t *pr, const char *key)
{
    for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < pr; q++) {
        yaml_node_t *k = node(c, q->key);
        if (k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
            return fail(c, node(c, pr->key), "\"%s\" is given twice (first on line %d): keep one", key,
                        LINE(k));
    }
    return 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int parse_step(ctx *c, yaml_node_t *n, cb_step *st)
{
    yaml_node_t *run = n;
    yaml_node_t *name = NULL;
    st->line = LINE(n);
    st->col = COL(n);
    if (n->type == YAML_MAPPING_NODE) {
        run = NULL;
        for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
            yaml_node_t *k = node(c, pr->key), *v = node(c, pr->value);
            const char *key = scalar(c, k, "a key");
            if (key == NULL || repeated_key(c, n, pr, key) < 0)
                return -1;
            if (!strcmp(key, "name"))
                name = v;
            else if (!strcmp(key, "run"))
                run = v;
            else
                return fail(c, k, "unknown key \"%s\" in a step (known: name, run)", key);
        }
        if (run == NULL)
            return fail(c, n, "a step written as a mapping needs run: the program and its arguments");
    }
    if (run->type == YAML_SCALAR_NODE) {
        size_t at;
        const char *why;
        const char *s = (const char *)run->data.scalar.value;
        if (split(c, run, s, &st->argv, &st->argc, &at, &why) < 0)
            return why ? fail_at(c, LINE(run), col_in(run, s, at), "%s", why) : -1;
    } else if (run->type == YAML_SEQUENCE_NODE) {
        size_t n_items = (size_t)(run->data.sequence.items.top - run->data.sequence.items.start);
        if (n_items == 0)
            return fail(c, run, "the step is empty");
        st->argv = xcalloc(n_items + 1, sizeof *st->argv);
        if (st->argv == NULL)
            return cb_err_set(c->err, EX_OSERR, "out of memory");
        for (size_t i = 0; i < n_items; i++) {
            yaml_node_t *w = node(c, run->data.sequence.items.start[i]);
            if ((st->argv[i] = dup_expand(c, w, "each word of a step")) == NULL)
                return -1;
            st->argc++;
        }
    } else {
        return fail(c, run, "a step is a command line or a list of words, not %s", node_kind(run));
    }
    if (name != NULL)
        st->name = dup_expand(c, name, "name");
    else
        st->name = strdup(base_name(st->argv[0]));
    return st->name ? 0 : -1;
}

static int parse_steps(ctx *c, yaml_node_t *n, cb_step **steps, size_t *nsteps, const char *what)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return fail(c, n, "%s must be a list of steps, not %s", what, node_kind(n));
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count == 0)
        return fail(c, n, "%s is empty: a stage runs at least one program", what);
    *steps = xcalloc(count, sizeof **steps);
    if (*steps == NULL)
        return cb_err_set(c->err, EX_OSERR, "out of memory");
    for (size_t i = 0; i < count; i++) {
        (*nsteps)++;  /* counted first, so a half-parsed step is freed too */
        if (parse_step(c, node(c, n->data.sequence.items.start[i]), &(*steps)[i]) < 0)
            return -1;
    }
    return 0;
}

static int parse_list(ctx *c, yaml_node_t *n, const char *what, char ***out, size_t *count)
{
    size_t cap = n->type == YAML_SEQUENCE_NODE
                     ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start)
                     : 1;
    *out = xcalloc(cap + 1, sizeof **out);
    if (*out == NULL)
        return cb_err_set(c->err, EX_OSERR, "out of memory");
    if (n->type != YAML_SEQUENCE_NODE) {
        if (((*out)[0] = dup_expand(c, n, what)) == NULL)
            return -1;
        *count = 1;
        return 0;
    }
    for (size_t i = 0; i < cap; i++) {
        if (((*out)[i] = dup_expand(c, node(c, n->data.sequence.items.start[i]), what)) == NULL)
            return -1;
        (*count)++;
    }
    return 0;
}

static int parse_input(ctx *c, yaml_node_t *n, cb_stage *sg, size_t index)
{
    if (n->type == YAML_MAPPING_NODE) {
        yaml_node_pair_t *pr = n->data.mapping.pairs.start;
        if (n->data.mapping.pairs.top - pr != 1)
            return fail(c, n, "input as a mapping is {stage: NAME}, the output of an earlier stage");
        const char *key = scalar(c, node(c, pr->key), "a key");
        if (key == NULL)
            return -1;
        if (strcmp(key, "stage") != 0)
            return fail(c, node(c, pr->key), "unknown key \"%s\" in input (known: stage)", key);
        const char *want = scalar(c, node(c, pr->value), "stage");
        if (want == NULL)
            return -1;
        for (size_t i = 0; i < index; i++)
            if (!strcmp(c->p->stages[i].name, want)) {
                sg->input_kind = CB_INPUT_STAGE;
                sg->input_stage = i;
                c->p->stages[i].feeds_later = 1;
                return 0;
            }
        return fail(c, node(c, pr->value), "no earlier stage is named \"%s\"", want);
    }
    if (n->type == YAML_SCALAR_NODE && !strcmp((const char *)n->data.scalar.value, "-")) {
        sg->input_kind = CB_INPUT_STDIN;
        return 0;
    }
    sg->input_kind = CB_INPUT_FILES;
    return parse_list(c, n, "input", &sg->inputs, &sg->ninputs);
}

static int parse_tee(ctx *c, yaml_node_t *n, cb_stage *sg)
{
    if (n->type != YAML_MAPPING_NODE)
        return fail(c, n, "tee must be a mapping of step name to file, not %s", node_kind(n));
    size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    sg->tees = xcalloc(count, sizeof *sg->tees);
    if (sg->tees == NULL)
        return cb_err_set(c->err, EX_OSERR, "out of memory");
    for (size_t i = 0; i < count; i++) {
        yaml_node_pair_t *pr = &n->data.mapping.pairs.start[i];
        yaml_node_t *k = node(c, pr->key);
        const char *step = scalar(c, k, "a step name");
        if (step == NULL)
            return -1;
        size_t found = sg->nsteps, matches = 0;
        for (size_t j = 0; j < sg->nsteps; j++)
            if (!strcmp(sg->steps[j].name, step)) {
                found = j;
                matches++;
            }
        if (matches == 0)
            return fail(c, k, "tee names step \"%s\", which this stage does not have", step);
        if (matches > 1)
            return fail(c, k, "two steps are named \"%s\": give them distinct names", step);
        sg->tees[i].after = found;
        if ((sg->tees[i].path = dup_expand(c, node(c, pr->value), "a tee file")) == NULL)
            return -1;
        sg->ntees++;
    }
    return 0;
}

static int parse_stage(ctx *c, yaml_node_t *n, size_t index)
{
    cb_stage *sg = &c->p->stages[index];
    sg->line = LINE(n);
    sg->col = COL(n);
    if (n->type != YAML_MAPPING_NODE)
        return fail(c, n, "a stage must be a mapping (name, input, steps, output...), not %s",
                    node_kind(n));
    yaml_node_t *input = NULL, *steps = NULL, *tee = NULL, *merge = NULL, *hosts = NULL,
                *par = NULL;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node(c, pr->key), *v = node(c, pr->value);
        const char *key = scalar(c, k, "a key");
        if (key == NULL || repeated_key(c, n, pr, key) < 0)
            return -1;
        if (!strcmp(key, "name")) {
            if ((sg->name = dup_expand(c, v, "name")) == NULL)
                return -1;
        } else if (!strcmp(key, "input"))
            input = v;
        else if (!strcmp(key, "steps"))
            steps = v;
        else if (!strcmp(key, "merge"))
            merge = v;
        else if (!strcmp(key, "tee"))
            tee = v;
        else if (!strcmp(key, "hosts"))
            hosts = v;
        else if (!strcmp(key, "parallel"))
            par = v;
        else if (!strcmp(key, "output")) {
            if ((sg->output = dup_expand(c, v, "output")) == NULL)
                return -1;
        } else if (!strcmp(key, "continue_on_error")) {
            if (parse_bool(c, v, "continue_on_error", &sg->continue_on_error) < 0)
                return -1;
        } else if (!strcmp(key, "description")) {
            if (scalar(c, v, "description") == NULL)
                return -1;
        } else {
            return fail(c, k,
                        "unknown key \"%s\" in a stage (known: name, description, input, steps, "
                        "tee, output, continue_on_error, parallel, hosts, merge)",
                        key);
        }
    }
    if (sg->name == NULL) {
        char def[32];
        snprintf(def, sizeof def, "stage%zu", index + 1);
        if ((sg->name = strdup(def)) == NULL)
            return cb_err_set(c->err, EX_OSERR, "out of memory");
    }
    for (size_t i = 0; i < index; i++)
        if (!strcmp(c->p->stages[i].name, sg->name))
            return fail(c, n, "two stages are named \"%s\"", sg->name);
    if (steps == NULL)
        return fail(c, n, "stage \"%s\" has no steps", sg->name);
    if (parse_steps(c, steps, &sg->steps, &sg->nsteps, "steps") < 0)
        return -1;
    if (input != NULL && parse_input(c, input, sg, index) < 0)
        return -1;
    if (tee != NULL && parse_tee(c, tee, sg) < 0)
        return -1;
    if (par != NULL) {
        char *s = dup_expand(c, par, "parallel");
        if (s == NULL)
            return -1;
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        int bad = *s == '\0' || *end != '\0' || errno || v < 1 || v > 4096;
        if (bad)
            fail(c, par, "parallel must be a number of jobs from 1 to 4096, not \"%s\"", s);
        free(s);
        if (bad)
            return -1;
        sg->parallel = (int)v;
        if (sg->input_kind != CB_INPUT_FILES)
            return fail(c, par, "parallel runs the steps once per input file: give input files");
        if (tee != NULL)
            return fail(c, tee, "tee is not available in a parallel stage: tee the merge steps' "
                                "output in a later stage instead");
    }
    if (hosts != NULL) {
        if (par == NULL)
            return fail(c, hosts, "hosts needs parallel: N");
        if (parse_list(c, hosts, "hosts", &sg->hosts, &sg->nhosts) < 0)
            return -1;
    }
    if (merge != NULL) {
        if (par == NULL)
            return fail(c, merge, "merge steps join the results of a parallel stage: add parallel: N");
        if (parse_steps(c, merge, &sg->merge, &sg->nmerge, "merge") < 0)
            return -1;
    }
    return 0;
}

static int load_vars(ctx *c, yaml_node_t *vars, const char *today, const cb_var *sets, size_t nsets)
{
    size_t nv = vars ? (size_t)(vars->data.mapping.pairs.top - vars->data.mapping.pairs.start) : 0;
    c->vars = xcalloc(nv + nsets + 1, sizeof *c->vars);
    if (c->vars == NULL)
        return cb_err_set(c->err, EX_OSERR, "out of memory");
    c->vars[c->nvars++] = (raw_var){.name = strdup("today"), .text = today};
    for (size_t i = 0; i < nv; i++) {
        yaml_node_pair_t *pr = &vars->data.mapping.pairs.start[i];
        yaml_node_t *k = node(c, pr->key), *v = node(c, pr->value);
        const char *name = scalar(c, k, "a variable name");
        if (name == NULL)
            return -1;
        if (!is_name_char((unsigned char)name[0], 1))
            return fail(c, k, "a variable name is letters, digits and _, not \"%s\"", name);
        for (const char *q = name; *q; q++)
            if (!is_name_char((unsigned char)*q, 0))
                return fail(c, k, "a variable name is letters, digits and _, not \"%s\"", name);
        const char *text = scalar(c, v, "a variable's value");
        if (text == NULL)
            return -1;
        raw_var *old = find_var(c, name, strlen(name));
        if (old != NULL && strcmp(name, "today") != 0)
            return fail(c, k, "variable \"%s\" is defined twice", name);
        if (old != NULL) {  /* a pipeline may pin today, e.g. to yesterday's run */
            old->text = text;
            old->node = v;
            continue;
        }
        c->vars[c->nvars++] = (raw_var){.name = strdup(name), .text = text, .node = v};
    }
    for (size_t i = 0; i < nsets; i++) {
        raw_var *old = find_var(c, sets[i].name, strlen(sets[i].name));
        if (old != NULL) {
            old->text = sets[i].value;
            old->node = NULL;
        } else {
            c->vars[c->nvars++] = (raw_var){.name = strdup(sets[i].name), .text = sets[i].value};
        }
    }
    for (size_t i = 0; i < c->nvars; i++)
        if (c->vars[i].name == NULL)
            return cb_err_set(c->err, EX_OSERR, "out of memory");
    return 0;
}

static int build(ctx *c, yaml_node_t *root, const char *today, const cb_var *sets, size_t nsets)
{
    cb_pipeline *p = c->p;
    if (root == NULL)
        return fail_at(c, 1, 1, "the pipeline file is empty");
    if (root->type != YAML_MAPPING_NODE)
        return fail(c, root, "a pipeline is a mapping with name, vars and stages, not %s",
                    node_kind(root));
    yaml_node_t *vars = NULL, *stages = NULL, *name = NULL, *log = NULL, *lock = NULL;
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node(c, pr->key), *v = node(c, pr->value);
        const char *key = scalar(c, k, "a key");
        if (key == NULL || repeated_key(c, root, pr, key) < 0)
            return -1;
        if (!strcmp(key, "name"))
            name = v;
        else if (!strcmp(key, "vars"))
            vars = v;
        else if (!strcmp(key, "stages"))
            stages = v;
        else if (!strcmp(key, "log"))
            log = v;
        else if (!strcmp(key, "lock"))
            lock = v;
        else if (!strcmp(key, "description")) {
            if (scalar(c, v, "description") == NULL)
                return -1;
        } else
            return fail(c, k,
                        "unknown key \"%s\" (known: name, description, vars, log, lock, stages)",
                        key);
    }
    if (vars != NULL && vars->type != YAML_MAPPING_NODE)
        return fail(c, vars, "vars must be a mapping of names to values, not %s", node_kind(vars));
    if (load_vars(c, vars, today, sets, nsets) < 0)
        return -1;
    for (size_t i = 0; i < c->nvars; i++)
        if (resolve_var(c, &c->vars[i], c->err) < 0)
            return -1;
    p->vars = xcalloc(c->nvars, sizeof *p->vars);
    if (p->vars == NULL)
        return cb_err_set(c->err, EX_OSERR, "out of memory");
    for (size_t i = 0; i < c->nvars; i++) {
        p->vars[i] = (cb_var){.name = c->vars[i].name, .value = c->vars[i].value};
        c->vars[i].name = c->vars[i].value = NULL;
        p->nvars++;
    }
    /* The resolved values stay readable for substitution below. */
    for (size_t i = 0; i < c->nvars; i++) {
        c->vars[i].name = p->vars[i].name;
        c->vars[i].value = p->vars[i].value;
    }
    if (name == NULL)
        return fail(c, root, "the pipeline has no name");
    if ((p->name = dup_expand(c, name, "name")) == NULL)
        return -1;
    if (log != NULL && (p->log = dup_expand(c, log, "log")) == NULL)
        return -1;
    if (lock != NULL && (p->lock = dup_expand(c, lock, "lock")) == NULL)
        return -1;
    if (stages == NULL)
        return fail(c, root, "the pipeline has no stages");
    if (stages->type != YAML_SEQUENCE_NODE)
        return fail(c, stages, "stages must be a list, not %s", node_kind(stages));
    size_t count = (size_t)(stages->data.sequence.items.top - stages->data.sequence.items.start);
    if (count == 0)
        return fail(c, stages, "stages is empty");
    p->stages = xcalloc(count, sizeof *p->stages);
    if (p->stages == NULL)
        return cb_err_set(c->err, EX_OSERR, "out of memory");
    for (size_t i = 0; i < count; i++) {
        p->nstages++;
        if (parse_stage(c, node(c, stages->data.sequence.items.start[i]), i) < 0)
            return -1;
    }
    return 0;
}

/* A first pass over the events, stopping at the first list or mapping
 * nested deeper than CB_PIPELINE_MAX_DEPTH: libyaml's own cost grows with
 * the square of the depth, so the document is loaded only once the depth
 * is known to be sane. Returns 0, or -1 with err set (a syntax error is
 * left for the load to report, with its context). */
static int check_depth(const char *file, const char *text, size_t len, cb_err *err)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return cb_err_set(err, EX_OSERR, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int depth = 0, rc = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev))
            break;
        yaml_event_type_t t = ev.type;
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
            if (++depth > CB_PIPELINE_MAX_DEPTH)
                rc = cb_err_set(err, EX_DATAERR, "%s:%zu:%zu: lists and mappings nest more than %d deep",
                                file, ev.start_mark.line + 1, ev.start_mark.column + 1, CB_PIPELINE_MAX_DEPTH);
        } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        yaml_event_delete(&ev);
        if (rc < 0 || t == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&parser);
    return rc;
}

int cb_pipeline_parse(cb_pipeline *p, const char *file, const char *text, size_t len,
                      const char *today, const cb_var *sets, size_t nsets, cb_err *err)
{
    memset(p, 0, sizeof *p);
    if ((p->file = strdup(file)) == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    if (check_depth(file, text, len, err) < 0) {
        cb_pipeline_free(p);
        return -1;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        cb_pipeline_free(p);
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        cb_err_set(err, EX_DATAERR, "%s:%zu:%zu: %s%s%s", file, parser.problem_mark.line + 1,
                   parser.problem_mark.column + 1, parser.context ? parser.context : "",
                   parser.context ? ": " : "", parser.problem ? parser.problem : "not YAML");
        yaml_parser_delete(&parser);
        cb_pipeline_free(p);
        return -1;
    }
    ctx c = {.file = file, .doc = &doc, .p = p, .err = err};
    int rc = build(&c, yaml_document_get_root_node(&doc), today, sets, nsets);
    for (size_t i = 0; i < c.nvars; i++)
        if (i >= p->nvars) {  /* not handed over to p */
            free(c.vars[i].name);
            free(c.vars[i].value);
        }
    free(c.vars);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc < 0)
        cb_pipeline_free(p);
    return rc;
}

int cb_pipeline_load(cb_pipeline *p, const char *path, const char *today, const cb_var *sets,
                     size_t nsets, cb_err *err)
{
    memset(p, 0, sizeof *p);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return cb_err_sys(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s", path);
    unsigned char *text;
    size_t len;
    int rd = cb_read_all(fp, &text, &len);
    fclose(fp);
    if (rd < 0)
        return errno == ENOMEM ? cb_err_set(err, EX_OSERR, "out of memory")
                               : cb_err_sys(err, EX_IOERR, "cannot read %s", path);
    int rc = cb_pipeline_parse(p, path, (const char *)text, len, today, sets, nsets, err);
    free(text);
    return rc;
}

static void free_steps(cb_step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(steps[i].name);
        cb_free_words(steps[i].argv);
    }
    free(steps);
}

void cb_pipeline_free(cb_pipeline *p)
{
    for (size_t i = 0; i < p->nstages; i++) {
        cb_stage *sg = &p->stages[i];
        free(sg->name);
        cb_free_words(sg->inputs);
        free_steps(sg->steps, sg->nsteps);
        free_steps(sg->merge, sg->nmerge);
        free(sg->output);
        for (size_t j = 0; j < sg->ntees; j++)
            free(sg->tees[j].path);
        free(sg->tees);
        cb_free_words(sg->hosts);
    }
    free(p->stages);
    for (size_t i = 0; i < p->nvars; i++) {
        free(p->vars[i].name);
        free(p->vars[i].value);
    }
    free(p->vars);
    free(p->file);
    free(p->name);
    free(p->log);
    free(p->lock);
    memset(p, 0, sizeof *p);
}

const char *cb_pipeline_var(const cb_pipeline *p, const char *name)
{
    for (size_t i = 0; i < p->nvars; i++)
        if (!strcmp(p->vars[i].name, name))
            return p->vars[i].value;
    return NULL;
}
