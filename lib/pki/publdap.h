/* Publication into an LDAP directory (the OpenLDAP client library): the
 * same inetOrgPerson entries as directory.ldif, one per holder, added or,
 * when the entry is there already, its attributes replaced, so publishing
 * again leaves the directory as it was. The entries go under a base DN that
 * must exist. */
#ifndef CB_PUBLDAP_H
#define CB_PUBLDAP_H

#include <stddef.h>

#include "cb_err.h"
#include "pubsite.h"

typedef struct cb_ldap_target {
    const char *url;        /* ldap://host:port */
    const char *bind_dn;    /* NULL: anonymous */
    const char *password;   /* for bind_dn */
} cb_ldap_target;

/* Writes the holders' entries. A server that cannot be reached is
 * EX_TEMPFAIL, a refused bind EX_NOPERM, a missing base or a refused entry
 * EX_DATAERR (err names the DN). *added and *replaced count the entries. */
int cb_ldap_publish(const cb_ldap_target *t, const cb_pub_holder *h, size_t n,
                    unsigned long *added, unsigned long *replaced, cb_err *err);

#endif
