/* The issuance ledger: an append-only CSV, one line per certificate issued
 * (request_id, request_type, old_serial, serial, subject, not_after, sha256,
 * issued_at). It makes re-runs safe — a request already in the ledger is
 * not issued twice — and a renewal of a certificate that was renewed
 * before is caught. The program appends and syncs the ledger before it
 * writes the certificates themselves, so after a crash every certificate on
 * disk is in the ledger. One run at a time holds the ledger (flock). */
#ifndef CB_LEDGER_H
#define CB_LEDGER_H

#include <stddef.h>

#include "cb_err.h"
#include "strmap.h"

typedef struct cb_ledger cb_ledger;

typedef struct cb_ledger_entry {
    const char *request_id, *request_type, *old_serial, *serial, *subject, *not_after, *sha256,
        *issued_at;
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
size_t cb_ledger_count(const cb_ledger *l);

/* Appends one line (buffered) and remembers it. */
int cb_ledger_append(cb_ledger *l, const cb_ledger_entry *e, cb_err *err);
/* Flushes and fsyncs what was appended. */
int cb_ledger_sync(cb_ledger *l, cb_err *err);
/* Syncs, unlocks and frees; returns what the sync returned. */
int cb_ledger_close(cb_ledger *l, cb_err *err);


#endif
