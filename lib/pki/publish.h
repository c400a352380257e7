/* Publication: the last step of procedure 1.010847 (Quyết định
 * 1924/QĐ-BQP). The managing agency hands the key device to the holder and
 * asks the Cục to make the certificate effective; within 1 working day of
 * that request the Cục publishes it on its web site, and the certificate is
 * effective from the instant of publication.
 *
 * A publisher checks each effective-time request against sign-batch's
 * issuance ledger (issued, not revoked, not yet published, asked by the
 * agency named in the certificate), records the publication in its own
 * ledger beside sign-batch's (the issuance ledger is never rewritten), and
 * rebuilds the public directory beside the old one and swaps the two with
 * one rename, so a reader sees the old publication or the new one, never a
 * mix. The publication ledger holds each published certificate (DER, in
 * base64), so the directory can always be rebuilt from it alone. Written
 * before the directory, with fsync: after a crash a re-run publishes what
 * the ledger holds, and a request already published is not published
 * again (its effective_at stays the first one). */
#ifndef CB_PUBLISH_H
#define CB_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "cb_err.h"
#include "date.h"
#include "record.h"

typedef struct cb_publisher cb_publisher;

typedef struct cb_pub_opts {
    const char *ledger;       /* sign-batch's issuance ledger (must exist) */
    const char *published;    /* the publication ledger; NULL: LEDGER-published.csv */
    const char *out_dir;      /* the public directory */
    const char *holidays;     /* a holidays file for the calendar, or NULL */
    const char *ldap_base;    /* the DN the directory entries go under */
    int64_t now;              /* the publication instant */
    int lang_vi;              /* reasons in Vietnamese */
    int read_only;            /* for track: a missing publication ledger is
                                 empty, nothing is created or written */
} cb_pub_opts;

typedef enum { CB_PUB_PUBLISHED, CB_PUB_ALREADY, CB_PUB_REJECTED } cb_pub_status;

typedef struct cb_pub_result {
    cb_pub_status status;
    const char *field;        /* the column at fault, for a reject */
    char reason[600];
    char serial[130], request_id[130];
    char effective_at[32];    /* published now, or when first published */
    char due_date[11];        /* 1 working day after the request's receipt */
    int late;                 /* published after due_date */
} cb_pub_result;

/* Opens both ledgers (each locked: another run is EX_TEMPFAIL) and the
 * calendar. A missing issuance ledger is EX_NOINPUT. */
cb_publisher *cb_publisher_open(const cb_pub_opts *o, cb_err *err);
/* The issued certificates (PEM, DER or PKCS#7) a request may name. */
int cb_publisher_load_issued(cb_publisher *p, const char *path, cb_err *err);
/* A CRL (PEM or DER): a revoked certificate is not published. */
int cb_publisher_load_crl(cb_publisher *p, const char *path, cb_err *err);
/* The header of the requests that follow. */
int cb_publisher_set_header(cb_publisher *p, const cb_header *h, cb_err *err);
/* Checks and records one effective-time request. -1 only for a failure
 * that stops the run (err); a bad request is CB_PUB_REJECTED in res. */
int cb_publisher_request(cb_publisher *p, const cb_record *rec, cb_pub_result *res, cb_err *err);
/* Syncs the publication ledger, then rebuilds and swaps the directory when
 * it does not show every publication yet (*rebuilt says whether it did). */
int cb_publisher_commit(cb_publisher *p, int *rebuilt, cb_err *err);
/* Certificates published in all, and the holders' entries, for --ldap. */
size_t cb_publisher_count(const cb_publisher *p);
struct cb_pub_cert;
/* The published certificates, read from the publication ledger (the caller
 * frees them with cb_pub_cert_clear and free). */
int cb_publisher_certs(const cb_publisher *p, struct cb_pub_cert **out, size_t *n, cb_err *err);
/* One audit line (action publish) per certificate this run published;
 * after cb_publisher_commit. a NULL: nothing. */
struct cb_audit;
int cb_publisher_audit(const cb_publisher *p, struct cb_audit *a, cb_err *err);
/* Every published holder's entry into an LDAP directory (see publdap.h);
 * after cb_publisher_commit. */
struct cb_ldap_target;
int cb_publisher_ldap(const cb_publisher *p, const struct cb_ldap_target *t, unsigned long *added,
                      unsigned long *replaced, cb_err *err);
/* A publication as its ledger records it (strings valid until the
 * publisher is freed). */
typedef struct cb_publication {
    const char *request_id, *handed_over_date, *received_date, *due_date, *effective_at,
        *published_at, *late;
} cb_publication;
/* 1 and *out filled when the certificate with this serial is published. */
int cb_publisher_find(const cb_publisher *p, const char *serial, cb_publication *out);
/* Effective from publication (step 4): 1 when the certificate with this
 * serial is in the issuance ledger and published with effective_at at or
 * before the instant at, 0 when it is in the ledger but not effective yet,
 * -1 when the ledger does not know it (issued elsewhere or before). */
int cb_publisher_effective(const cb_publisher *p, const char *serial, int64_t at);
/* The issuance ledger the publisher holds open. */
struct cb_ledger;
const struct cb_ledger *cb_publisher_ledger(const cb_publisher *p);
void cb_publisher_free(cb_publisher *p);

/* The path of the publication ledger beside an issuance ledger
 * ("issued-ledger.csv" -> "issued-ledger-published.csv"), malloc'ed. */
char *cb_publication_ledger_path(const char *ledger);

#endif
