/* The public directory of published certificates, as files: what the
 * central agency puts on its web site when a certificate takes effect
 * (procedure 1.010847 step 4, Quyết định 1924/QĐ-BQP). From the list of
 * published certificates it writes, into an empty directory:
 *   index.html         the public list in Vietnamese, grouped by agency, with
 *                      a search box that ignores tone marks (the rows carry
 *                      their folded text; the page works without JavaScript)
 *   certs/SERIAL.html  one page per certificate, with the download links
 *   certs/SERIAL.cer   the certificate in DER, certs/SERIAL.pem in PEM
 *   index.csv, index.json   the same list for machines
 *   directory.ldif     one inetOrgPerson entry per holder (RFC 2849)
 * Every value from a certificate is escaped for where it goes (HTML, JSON,
 * LDIF, CSV): a name is data, never markup. */
#ifndef CB_PUBSITE_H
#define CB_PUBSITE_H

#include <stddef.h>
#include <stdint.h>

#include "cb_err.h"

typedef struct cb_pub_cert {
    char *serial;                   /* as `openssl x509 -serial` prints it */
    char *holder, *position, *agency, *unit, *email, *issuer;   /* "" when absent */
    char not_before[32], not_after[32];  /* instants, UTC+07:00 */
    char sha256[65];
    char *effective_at, *request_id;
    unsigned char *der;
    size_t der_len;
} cb_pub_cert;

/* Reads the names, dates and digest of a DER certificate into c (der is
 * copied); effective_at and request_id are copied too. */
int cb_pub_cert_init(cb_pub_cert *c, const unsigned char *der, size_t len,
                     const char *effective_at, const char *request_id, cb_err *err);
void cb_pub_cert_clear(cb_pub_cert *c);

/* One directory entry per holder: the certificates with the same e-mail
 * address (or, without one, the same name and agency) under one DN
 * `mail=ADDRESS,BASE` (`cn=NAME,BASE`). */
typedef struct cb_pub_holder {
    char *dn, *rdn_attr, *rdn_value;
    const cb_pub_cert *first;       /* the names come from the latest */
    const cb_pub_cert **certs;
    size_t ncerts;
    char *sn;                       /* the family name (first word), or the cn */
} cb_pub_holder;

/* Groups certs (already in site order) into holders under base. */
int cb_pub_holders(const cb_pub_cert *const *certs, size_t n, const char *base,
                   cb_pub_holder **out, size_t *nout, cb_err *err);
void cb_pub_holders_free(cb_pub_holder *h, size_t n);

/* Writes every file of the site into dir, which exists and is empty.
 * certs are put in site order (agency, holder, serial) first. */
int cb_pubsite_write(const char *dir, cb_pub_cert *certs, size_t n, const char *ldap_base,
                     cb_err *err);

#endif
