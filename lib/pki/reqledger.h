/* The province's request ledger (state/requests.csv): a request's life from
 * the form row received to the renewed certificate delivered, one line per
 * event — recorded_at, night (the --as-of day of the run), event (received,
 * filtered, rejected, proposed, renewed, delivered), request_id, old_serial,
 * detail (the form file, the reason, the proposal list, the new serial or
 * the delivered file). It is what makes the nightly job idempotent: a
 * request proposed on one night (by its request_id, or by the certificate
 * it renews) is never proposed on another, an event already recorded is
 * not recorded twice, and the requests still waiting for their certificate
 * are known from the state alone. Appended and synced like the issuance
 * ledger (ledger.h); one writer at a time holds it (flock). */
#ifndef CB_REQLEDGER_H
#define CB_REQLEDGER_H

#include <stddef.h>

#include "cb_err.h"

typedef struct cb_reqledger cb_reqledger;

typedef struct cb_reqevent {
    const char *recorded_at, *night, *event, *request_id, *old_serial, *detail;
} cb_reqevent;

/* The events a ledger may hold, in the order of a request's life. */
extern const char *const cb_reqledger_events[];
/* 1 when name is one of cb_reqledger_events. */
int cb_reqledger_event_known(const char *name);

/* Opens and reads the ledger. For writing it is created (0644) when absent
 * and locked: another writer is EX_TEMPFAIL. For reading a missing ledger is
 * an empty one. A last line cut short by a crash is ignored (and cut when
 * writing). A damaged ledger is EX_DATAERR `FILE:LINE: ...`. */
cb_reqledger *cb_reqledger_open(const char *path, int for_writing, cb_err *err);

/* The proposal of this request: by its request_id, else by the certificate
 * it renews (old_serial, any spelling of the serial). NULL when it was never
 * proposed. */
const cb_reqevent *cb_reqledger_proposal(const cb_reqledger *l, const char *request_id,
                                         const char *old_serial);
/* The event recorded for this request with this detail (NULL: any detail),
 * on any night; NULL when none. */
const cb_reqevent *cb_reqledger_find(const cb_reqledger *l, const char *event,
                                     const char *request_id, const char *detail);
/* The n-th event in ledger order, NULL past the end. */
const cb_reqevent *cb_reqledger_at(const cb_reqledger *l, size_t i);
size_t cb_reqledger_count(const cb_reqledger *l);

/* The name the ledger keeps for a file it names (a proposal list):
 * relative to the ledger's directory when the file is inside it, else
 * absolute, so a state directory moved or restored elsewhere still finds
 * it. NULL when the file does not exist (or out of memory); free it. */
char *cb_reqledger_name_of(const char *ledger, const char *file);
/* Where a name the ledger keeps is (relative to the ledger's directory,
 * or absolute); NULL when out of memory; free it. */
char *cb_reqledger_path_of(const char *ledger, const char *name);

/* Appends an event (buffered) and remembers it; recorded_at NULL means now.
 * The caller checks cb_reqledger_find first when the event must be once. */
int cb_reqledger_append(cb_reqledger *l, const cb_reqevent *e, cb_err *err);
/* Flushes and fsyncs what was appended. */
int cb_reqledger_sync(cb_reqledger *l, cb_err *err);
/* Syncs (when writing), unlocks and frees; returns what the sync returned. */
int cb_reqledger_close(cb_reqledger *l, cb_err *err);

#endif
