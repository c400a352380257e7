/* Publication into an LDAP directory: see publdap.h. */
#include "publdap.h"

#include <stdlib.h>
#include <string.h>

#include <ldap.h>

/* The attributes of one entry, built for ldap_add_ext_s and reused for
 * ldap_modify_ext_s (without objectClass). */
typedef struct entry {
    LDAPMod mods[9];
    LDAPMod *ptrs[10];
    char *vals[8][2];
    struct berval *certs;
    struct berval **cert_ptrs;
    int n;
} entry;

static void add_text(entry *e, int op, const char *type, const char *value)
{
    if (value == NULL || *value == '\0')
        return;
    int i = e->n++;
    e->vals[i][0] = (char *)value;
    e->vals[i][1] = NULL;
    e->mods[i] = (LDAPMod){.mod_op = op, .mod_type = (char *)type, .mod_vals.modv_strvals = e->vals[i]};
    e->ptrs[i] = &e->mods[i];
    e->ptrs[e->n] = NULL;
}

static int build(entry *e, const cb_pub_holder *h, int op)
{
    memset(e, 0, sizeof *e);
    const cb_pub_cert *c = h->first;
    if (op == LDAP_MOD_ADD)
        add_text(e, op, "objectClass", "inetOrgPerson");
    add_text(e, op, "cn", *c->holder ? c->holder : h->rdn_value);
    add_text(e, op, "sn", h->sn);
    add_text(e, op, "mail", c->email);
    add_text(e, op, "o", c->agency);
    add_text(e, op, "ou", c->unit);
    add_text(e, op, "title", c->position);
    e->certs = calloc(h->ncerts, sizeof *e->certs);
    e->cert_ptrs = calloc(h->ncerts + 1, sizeof *e->cert_ptrs);
    if (e->certs == NULL || e->cert_ptrs == NULL)
        return -1;
    for (size_t k = 0; k < h->ncerts; k++) {
        e->certs[k].bv_val = (char *)h->certs[k]->der;
        e->certs[k].bv_len = h->certs[k]->der_len;
        e->cert_ptrs[k] = &e->certs[k];
    }
    int i = e->n++;
    e->mods[i] = (LDAPMod){.mod_op = op | LDAP_MOD_BVALUES, .mod_type = "userCertificate;binary",
                           .mod_vals.modv_bvals = e->cert_ptrs};
    e->ptrs[i] = &e->mods[i];
    e->ptrs[e->n] = NULL;
    return 0;
}

static void entry_free(entry *e)
{
    free(e->certs);
    free(e->cert_ptrs);
}

static int connect_bind(LDAP **ld, const cb_ldap_target *t, cb_err *err)
{
    int v3 = LDAP_VERSION3, rc = ldap_initialize(ld, t->url);
    if (rc != LDAP_SUCCESS)
        return cb_err_set(err, EX_USAGE, "--ldap %s: %s", t->url, ldap_err2string(rc));
    ldap_set_option(*ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
    struct berval cred = {.bv_val = (char *)(t->password ? t->password : ""),
                          .bv_len = t->password ? strlen(t->password) : 0};
    rc = ldap_sasl_bind_s(*ld, t->bind_dn ? t->bind_dn : "", LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
    if (rc == LDAP_SUCCESS)
        return 0;
    cb_err_set(err, rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT ? EX_TEMPFAIL
                                                                                              : EX_NOPERM,
               "%s: cannot bind as %s: %s", t->url, t->bind_dn ? t->bind_dn : "anonymous",
               ldap_err2string(rc));
    ldap_unbind_ext_s(*ld, NULL, NULL);
    *ld = NULL;
    return -1;
}

/* Adds the entry, or replaces its attributes when it exists. 1 added,
 * 2 replaced, -1 refused. */
static int put_entry(LDAP *ld, const cb_pub_holder *h, cb_err *err)
{
    entry e;
    int rc, done;
    if (build(&e, h, LDAP_MOD_ADD) < 0) {
        entry_free(&e);
        return cb_err_set(err, EX_OSERR, "out of memory");
    }
    rc = ldap_add_ext_s(ld, h->dn, e.ptrs, NULL, NULL);
    entry_free(&e);
    done = 1;
    if (rc == LDAP_ALREADY_EXISTS) {
        if (build(&e, h, LDAP_MOD_REPLACE) < 0) {
            entry_free(&e);
            return cb_err_set(err, EX_OSERR, "out of memory");
        }
        rc = ldap_modify_ext_s(ld, h->dn, e.ptrs, NULL, NULL);
        entry_free(&e);
        done = 2;
    }
    if (rc == LDAP_SUCCESS)
        return done;
    int code = rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT ? EX_TEMPFAIL
               : rc == LDAP_INSUFFICIENT_ACCESS              ? EX_NOPERM
                                                             : EX_DATAERR;
    return cb_err_set(err, code, "%s%s: %s", rc == LDAP_NO_SUCH_OBJECT ? "the base DN does not exist: " : "",
                      h->dn, ldap_err2string(rc));
}

int cb_ldap_publish(const cb_ldap_target *t, const cb_pub_holder *h, size_t n,
                    unsigned long *added, unsigned long *replaced, cb_err *err)
{
    LDAP *ld = NULL;
    *added = *replaced = 0;
    if (connect_bind(&ld, t, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int r = put_entry(ld, &h[i], err);
        if (r < 0)
            rc = -1;
        else if (r == 1)
            (*added)++;
        else
            (*replaced)++;
    }
    ldap_unbind_ext_s(ld, NULL, NULL);
    return rc;
}
