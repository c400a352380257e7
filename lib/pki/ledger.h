/* The issuance ledger: an append-only CSV, one line per certificate issued
 * (request_id, request_type, old_serial, serial, subject, not_after, sha256,
 * issued_at). It makes re-runs safe — a request already in the ledger is
 * not issued twice — and a renewal of a certificate that was renewed
 * before is caught. One run at a time holds the ledger (flock).
 *
 * Beside it, LEDGER.certs.pem keeps the certificates themselves, appended
 * and synced before their ledger lines are written: a certificate the
 * ledger names can always be written out again, so a re-run after a crash
 * (or after stdout was closed) still delivers the whole batch. A line in
 * the ledger is the commit point of its certificate. */
#ifndef CB_LEDGER_H
#define CB_LEDGER_H

#include <stddef.h>

#include "cb_err.h"
#include "strmap.h"

typedef struct cb_ledger cb_ledger;

typedef struct cb_ledger_entry {
    const char *request_id, *request_type, *old_serial, *serial, *subject, *not_after, *sha256,
        *issued_at;
    const char *cert_pem;     /* the certificate, kept in LEDGER.certs.pem; may be NULL */
    size_t cert_pem_len;
} cb_ledger_entry;

/* Opens (creating it, 0644, when absent) and locks the ledger, and reads
 * what it holds. A last line cut short by a crash is removed: its
 * certificate was never written. Another run holding it is EX_TEMPFAIL; a
 * damaged ledger EX_DATAERR `FILE:LINE: ...`. */
cb_ledger *cb_ledger_open(const char *path, cb_err *err);

/* The serial issued for this request id, or NULL. */
const char *cb_ledger_find_request(const cb_ledger *l, const char *request_id);
/* The request id that renewed the certificate with this serial (any
 * form serial.h reads), or NULL. */
const char *cb_ledger_find_renewal_of(const cb_ledger *l, const char *old_serial);
/* 1 when the certificate with this serial was itself made by a renewal. */
int cb_ledger_is_renewed(const cb_ledger *l, const char *serial);
/* The request id that was issued the certificate with this serial (any
 * form cb_serial_key reads), or NULL: for publish and track. */
const char *cb_ledger_find_serial(const cb_ledger *l, const char *serial);
/* The instant the request's certificate was issued, or NULL. */
const char *cb_ledger_issued_at(const cb_ledger *l, const char *request_id);
size_t cb_ledger_count(const cb_ledger *l);

/* 1 when the ledger on disk holds this request with this serial (after
 * the last successful sync; 0 for everything once a sync failed). */
int cb_ledger_committed(const cb_ledger *l, const char *request_id, const char *serial);
/* The DER of a certificate the ledger names, from LEDGER.certs.pem: 1 when
 * found (borrowed until close), 0 when not there (a ledger written before
 * the store existed), -1 on a read error. */
int cb_ledger_cert(cb_ledger *l, const char *serial, const unsigned char **der, size_t *len,
                   cb_err *err);
const char *cb_ledger_path(const cb_ledger *l);

/* Appends one line and its certificate (held in memory until sync) and
 * remembers it. */
int cb_ledger_append(cb_ledger *l, const cb_ledger_entry *e, cb_err *err);
/* Writes and fsyncs the certificates appended, then their lines: after
 * this returns 0 they are committed. */
int cb_ledger_sync(cb_ledger *l, cb_err *err);
/* Syncs, unlocks and frees; returns what the sync returned. */
int cb_ledger_close(cb_ledger *l, cb_err *err);


#endif
