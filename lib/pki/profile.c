/* Certificate profiles from YAML: see profile.h. The document API keeps
 * each node's position, so a mistake is reported at its line. */
#include "profile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <yaml.h>

static void list_free(cb_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->n = 0;
    l->v = NULL;
}

static int list_add(cb_strlist *l, const char *s)
{
    char **nv = realloc(l->v, (l->n + 1) * sizeof *nv);
    if (nv == NULL)
        return -1;
    l->v = nv;
    if ((l->v[l->n] = strdup(s)) == NULL)
        return -1;
    l->n++;
    return 0;
}

void cb_profile_free(cb_profile *p)
{
    free(p->name);
    free(p->digest);
    free(p->key_alg);
    list_free(&p->key_usage);
    list_free(&p->ext_key_usage);
    list_free(&p->policies);
    list_free(&p->crl_urls);
    list_free(&p->ocsp_urls);
    list_free(&p->ca_issuers_urls);
    memset(p, 0, sizeof *p);
}

int cb_key_alg_valid(const char *s)
{
    return strcmp(s, "rsa2048") == 0 || strcmp(s, "rsa3072") == 0 || strcmp(s, "ec-p256") == 0;
}

int cb_profile_defaults(cb_profile *p, cb_err *err)
{
    memset(p, 0, sizeof *p);
    p->validity_months = 36;
    p->renew_months = 36;
    if ((p->name = strdup("default")) == NULL || (p->digest = strdup("sha256")) == NULL ||
        (p->key_alg = strdup("rsa2048")) == NULL || list_add(&p->key_usage, "digitalSignature") ||
        list_add(&p->key_usage, "nonRepudiation") || list_add(&p->ext_key_usage, "clientAuth") ||
        list_add(&p->ext_key_usage, "emailProtection")) {
        cb_profile_free(p);
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    return 0;
}

static const char *const key_usages[] = {
    "digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
    "keyAgreement",     "keyCertSign",    "cRLSign",         "encipherOnly",
    "decipherOnly",     NULL,
};

typedef struct loader {
    const char *label;
    yaml_document_t *doc;
    cb_err *err;
} loader;

static int bad(loader *ld, const yaml_node_t *n, const char *fmt, const char *arg)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, arg);
    return cb_err_set(ld->err, EX_DATAERR, "%s:%lu: %s", ld->label,
                      (unsigned long)n->start_mark.line + 1, msg);
}

static const char *scalar(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int set_string(loader *ld, const yaml_node_t *n, const char *key, char **dst)
{
    const char *s = scalar(n);
    if (s == NULL || *s == '\0')
        return bad(ld, n, "%s: expected a single value", key);
    char *c = strdup(s);
    if (c == NULL)
        return cb_err_set(ld->err, EX_OSERR, "out of memory");
    free(*dst);
    *dst = c;
    return 0;
}

static int set_months(loader *ld, const yaml_node_t *n, const char *key, int max, int *dst)
{
    const char *s = scalar(n);
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (s == NULL || *s == '\0' || *end != '\0' || errno != 0 || v < 1 || v > max) {
        char what[128];
        snprintf(what, sizeof what, "%s: expected a number of months from 1 to %d", key, max);
        return bad(ld, n, "%s", what);
    }
    *dst = (int)v;
    return 0;
}

typedef int (*item_check)(loader *ld, const yaml_node_t *n, const char *s);

static int check_ku(loader *ld, const yaml_node_t *n, const char *s)
{
    for (int i = 0; key_usages[i]; i++)
        if (strcmp(key_usages[i], s) == 0)
            return 0;
    return bad(ld, n, "key_usage: unknown usage '%s' (digitalSignature, nonRepudiation, "
                      "keyEncipherment, ...)", s);
}

static int check_eku(loader *ld, const yaml_node_t *n, const char *s)
{
    if (OBJ_txt2nid(s) != NID_undef)
        return 0;
    ASN1_OBJECT *o = OBJ_txt2obj(s, 1);
    if (o != NULL) {
        ASN1_OBJECT_free(o);
        return 0;
    }
    return bad(ld, n, "extended_key_usage: unknown purpose '%s' (clientAuth, "
                      "emailProtection, ... or a dotted OID)", s);
}

static int check_oid(loader *ld, const yaml_node_t *n, const char *s)
{
    ASN1_OBJECT *o = OBJ_txt2obj(s, 1);
    if (o == NULL)
        return bad(ld, n, "policies: '%s' is not a dotted OID", s);
    ASN1_OBJECT_free(o);
    return 0;
}

static int check_url(loader *ld, const yaml_node_t *n, const char *s)
{
    if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0 &&
        strncmp(s, "ldap://", 7) != 0)
        return bad(ld, n, "'%s' is not an http, https or ldap URL", s);
    if (strpbrk(s, " ,\t") != NULL)
        return bad(ld, n, "'%s': a URL cannot contain spaces or commas", s);
    return 0;
}

static int set_list(loader *ld, const yaml_node_t *n, const char *key, cb_strlist *dst,
                    item_check check)
{
    cb_strlist l = {0, NULL};
    if (n->type == YAML_SCALAR_NODE) {
        const char *s = scalar(n);
        if (*s != '\0') {
            if (check(ld, n, s) < 0)
                return -1;
            if (list_add(&l, s) < 0)
                goto oom;
        }
    } else if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            yaml_node_t *item = yaml_document_get_node(ld->doc, *it);
            const char *s = item ? scalar(item) : NULL;
            if (s == NULL || *s == '\0') {
                list_free(&l);
                return bad(ld, item ? item : n, "%s: expected a list of values", key);
            }
            if (check(ld, item, s) < 0) {
                list_free(&l);
                return -1;
            }
            if (list_add(&l, s) < 0)
                goto oom;
        }
    } else {
        return bad(ld, n, "%s: expected a list", key);
    }
    list_free(dst);
    *dst = l;
    return 0;
oom:
    list_free(&l);
    return cb_err_set(ld->err, EX_OSERR, "out of memory");
}

static int load_doc(cb_profile *p, loader *ld)
{
    yaml_node_t *root = yaml_document_get_root_node(ld->doc);
    if (root == NULL)
        return cb_err_set(ld->err, EX_DATAERR, "%s: the profile is empty", ld->label);
    if (root->type != YAML_MAPPING_NODE)
        return bad(ld, root, "%s", "the profile must be a mapping of keys to values");
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = yaml_document_get_node(ld->doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(ld->doc, pr->value);
        const char *key = k ? scalar(k) : NULL;
        if (key == NULL || v == NULL)
            return bad(ld, k ? k : root, "%s", "keys must be plain words");
        int rc;
        if (strcmp(key, "name") == 0)
            rc = set_string(ld, v, key, &p->name);
        else if (strcmp(key, "digest") == 0) {
            rc = set_string(ld, v, key, &p->digest);
            if (rc == 0 && strcmp(p->digest, "sha256") != 0 && strcmp(p->digest, "sha384") != 0 &&
                strcmp(p->digest, "sha512") != 0)
                rc = bad(ld, v, "digest: '%s' is not one of sha256, sha384, sha512", p->digest);
        } else if (strcmp(key, "validity_months") == 0)
            rc = set_months(ld, v, key, CB_MAX_ISSUE_MONTHS, &p->validity_months);
        else if (strcmp(key, "renew_months") == 0)
            rc = set_months(ld, v, key, CB_MAX_RENEW_MONTHS, &p->renew_months);
        else if (strcmp(key, "key_alg") == 0) {
            rc = set_string(ld, v, key, &p->key_alg);
            if (rc == 0 && !cb_key_alg_valid(p->key_alg))
                rc = bad(ld, v, "key_alg: '%s' is not one of rsa2048, rsa3072, ec-p256",
                         p->key_alg);
        } else if (strcmp(key, "key_usage") == 0)
            rc = set_list(ld, v, key, &p->key_usage, check_ku);
        else if (strcmp(key, "extended_key_usage") == 0)
            rc = set_list(ld, v, key, &p->ext_key_usage, check_eku);
        else if (strcmp(key, "policies") == 0)
            rc = set_list(ld, v, key, &p->policies, check_oid);
        else if (strcmp(key, "crl_urls") == 0)
            rc = set_list(ld, v, key, &p->crl_urls, check_url);
        else if (strcmp(key, "ocsp_urls") == 0)
            rc = set_list(ld, v, key, &p->ocsp_urls, check_url);
        else if (strcmp(key, "ca_issuers_urls") == 0)
            rc = set_list(ld, v, key, &p->ca_issuers_urls, check_url);
        else
            rc = bad(ld, k, "unknown key '%s'", key);
        if (rc < 0)
            return -1;
    }
    if (p->key_usage.n == 0)
        return cb_err_set(ld->err, EX_DATAERR, "%s: key_usage cannot be empty", ld->label);
    return 0;
}

int cb_profile_load_buffer(cb_profile *p, const char *label, const char *text, size_t len,
                           cb_err *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return cb_err_set(err, EX_OSERR, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        cb_err_set(err, EX_DATAERR, "%s:%lu: %s", label,
                   (unsigned long)parser.problem_mark.line + 1,
                   parser.problem ? parser.problem : "not valid YAML");
        yaml_parser_delete(&parser);
        return -1;
    }
    cb_profile np;
    int rc = cb_profile_defaults(&np, err);
    if (rc == 0) {
        loader ld = {label, &doc, err};
        rc = load_doc(&np, &ld);
        if (rc == 0) {
            cb_profile_free(p);
            *p = np;
        } else {
            cb_profile_free(&np);
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

int cb_profile_load_file(cb_profile *p, const char *path, cb_err *err)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return cb_err_sys(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "cannot open %s", path);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf != NULL && (n = fread(buf + len, 1, cap - len, fp)) > 0) {
        len += n;
        if (len == cap) {
            if (cap >= (1u << 20)) {
                free(buf);
                fclose(fp);
                return cb_err_set(err, EX_DATAERR, "%s: too large for a profile", path);
            }
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int rd_err = ferror(fp);
    fclose(fp);
    if (buf == NULL)
        return cb_err_set(err, EX_OSERR, "out of memory");
    if (rd_err) {
        free(buf);
        return cb_err_sys(err, EX_IOERR, "cannot read %s", path);
    }
    int rc = cb_profile_load_buffer(p, path, buf, len, err);
    free(buf);
    return rc;
}
