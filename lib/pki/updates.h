/* Routing the update file the central agency sends back (split-updates):
 * reading its certificates (PEM bundles, PKCS#7 .p7b/.p7c in DER or PEM, DER
 * certificates), checking each against the CA at the as-of date, finding the
 * pending request it answers — by the public key of the old certificate the
 * request names (a renewal keeps the key pair), else by e-mail and normalised
 * name — and storing it, atomically and never over a different file, under a
 * directory per agency (named after its agency_key, so however the agency
 * was typed) whose names are made safe from the data. */
#ifndef CB_UPDATES_H
#define CB_UPDATES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/x509.h>

#include "cb_err.h"
#include "record.h"
#include "certread.h"
#include "trust.h"

/* Certificates are read with lib/pki/certread.h. */


/* ---- Safe names and matching keys -------------------------------------- */

/* A file name component made from data: lib/vntext's cb_slug (letters,
 * Vietnamese ones too, in NFC, and digits kept; white space, slashes and
 * other punctuation one '-'; control characters dropped; never "." or "..";
 * at most max bytes), and never starting with '_' either, since those names
 * are ours (_unmatched); "unnamed" when nothing is left. Returns 0, or -1
 * when out of memory. */
int cb_update_safe_name(const char *s, size_t max, char *out, size_t out_size);

/* The name-matching key: lib/vntext's cb_text_key (white space collapsed,
 * case folded, NFC, Vietnamese tone marks placed one way). Returns a
 * malloc'd string or NULL when out of memory. */
char *cb_update_name_key(const char *s);

/* ---- Routing ----------------------------------------------------------- */

typedef enum cb_update_status {
    CB_UPD_DELIVERED,   /* written for its holder */
    CB_UPD_UNCHANGED,   /* already there, same bytes (a re-run) */
    CB_UPD_UNMATCHED,   /* no pending request: kept in DIR/_unmatched */
    CB_UPD_DUPLICATE,   /* its request already got a certificate: kept in DIR/_unmatched */
    CB_UPD_UNTRUSTED,   /* does not verify against the CA: never written */
    CB_UPD_CONFLICT,    /* another file of that name exists: left alone */
    CB_UPD_UNREADABLE,  /* not a certificate at all */
    CB_UPD_CHAIN,       /* a CA certificate sent along (the chain): not a holder's, not written */
    CB_UPD_MISSING,     /* a request that got no certificate back */
} cb_update_status;

const char *cb_update_status_name(cb_update_status st);
/* 1 for the statuses that are rejects of the run. */
int cb_update_status_is_reject(cb_update_status st);

typedef enum cb_update_format {
    CB_UPD_PEM = 1,
    CB_UPD_DER = 2,
    CB_UPD_BOTH = 3,
} cb_update_format;

/* A request as split-updates needs it. */
typedef struct cb_update_request {
    char *request_id, *old_serial, *holder, *email, *agency, *agency_key, *agency_code;
    long line;
    int answered;          /* a certificate was routed to it */
} cb_update_request;

/* What happened to one certificate (or one missing request): the manifest
 * record. req points into the router and stays valid while it lives. */
typedef struct cb_update_result {
    cb_update_status status;
    const cb_update_request *req;   /* NULL when unmatched */
    char serial[48];
    char subject_cn[256];
    char email[256];
    char not_after[32];
    char path[4096];                /* the file written or found; "" if none */
    char reason[512];               /* why, for rejects */
    char trust_problem[640];        /* why the path does not verify (lib/pki/trust.h), else "" */
    const char *matched_by;         /* "public_key", "email_name" or "" */
    char source[512];               /* as given to cb_updates_route */
    long line;                      /* as given to cb_updates_route */
} cb_update_result;

typedef struct cb_updates cb_updates;

/* out_dir is created when missing. verify_at is the instant (seconds since
 * the epoch) at which certificates must be valid. */
cb_updates *cb_updates_new(const char *out_dir, cb_update_format fmt, int64_t verify_at,
                           cb_err *err);
void cb_updates_free(cb_updates *u);

/* The anchors, intermediates and CRLs certificates are checked with
 * (lib/pki/trust.h, made with CB_TRUST_LEAF_MAY_START_LATER: a renewal may
 * begin when the old certificate ends; an expired one is untrusted). The
 * caller keeps it and frees it after u. */
void cb_updates_set_trust(cb_updates *u, cb_trust *trust);

/* The pending requests: CSV with request_id and some of old_serial,
 * full_name, org_name, email, agency, agency_key, agency_code; agency_key,
 * when missing or empty, is lib/vntext's cb_agency_key of agency. A row without
 * request_id, a request_id twice or an unreadable row is an error
 * (EX_DATAERR, `FILE:LINE: ...`). */
int cb_updates_load_requests(cb_updates *u, char *const *files, int nfiles, cb_err *err);

/* The old certificates the requests name by old_serial: a file or a
 * directory of files (not recursive). Unreadable items are skipped; their
 * count is added to *skipped when not NULL. */
int cb_updates_load_old_certs(cb_updates *u, const char *path, unsigned long *skipped,
                              cb_err *err);

/* Checks, matches and stores one certificate; source and line say where
 * it came from and are handed back in its result. The result is final only
 * once the batch it belongs to is on disk: take results with
 * cb_updates_next_ready after each call, and after cb_updates_flush at the
 * end. Returns 0, or -1 when the run must stop (cannot write: err says
 * why). */
int cb_updates_route(cb_updates *u, X509 *cert, const char *source, long line, cb_err *err);

/* An item of the input that is no certificate, queued in input order with
 * the certificates' results (status unreadable). */
int cb_updates_add_unreadable(cb_updates *u, const char *source, long line, const char *reason,
                              cb_err *err);

/* Makes every file written so far durable and named; all results become
 * ready. Returns 0, or -1. */
int cb_updates_flush(cb_updates *u, cb_err *err);

/* The next final result, in input order, or NULL. Valid until the next call
 * of cb_updates_route, cb_updates_add_unreadable or cb_updates_flush. */
const cb_update_result *cb_updates_next_ready(cb_updates *u);

/* The requests that got no certificate, one by one from *pos = 0, after the
 * last flush: returns 1 with res filled (status missing), 0 at the end. */
int cb_updates_next_missing(cb_updates *u, size_t *pos, cb_update_result *res);

size_t cb_updates_request_count(const cb_updates *u);

/* The manifest split-updates writes for notify: a row per certificate of
 * the update file (rejects too) and per request left without one. */
extern const char *const cb_update_manifest_columns[];
enum { CB_UPDATE_MANIFEST_NCOLS = 16 };
/* The manifest row of a result, into rec. 0, or -1 when out of memory. */
int cb_update_manifest_row(const cb_update_result *res, cb_record *rec);
/* The name of the input a result came from: its source without the
 * "#index" of the certificate, into buf (diagnostics name files so). */
const char *cb_update_input_name(const cb_update_result *res, char *buf, size_t size);

#endif
