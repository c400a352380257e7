/* The batch journal of sign-batch issue: the write-ahead log that makes a
 * generated key impossible to lose. Before a batch's certificates are
 * committed in the ledger, each new key's PKCS#12, its PIN and where both
 * go are appended to LEDGER.journal (0600) and synced; after the commit
 * the key files and PIN rows are published from it, and once they are all
 * durable the journal is removed. A run that finds a journal left by a
 * crash finishes it first: the entries the ledger committed get their key
 * file and PIN row, the others (never committed, so never issued) are
 * rolled back — their keys wiped with the journal. The journal is the only
 * place a key waits, and it is named and found by the ledger's name: no
 * key is ever left in a file nothing tracks. */
#ifndef CB_JOURNAL_H
#define CB_JOURNAL_H

#include <stddef.h>

#include "cb_err.h"
#include "ledger.h"

typedef struct cb_journal cb_journal;

typedef struct cb_journal_entry {
    const char *request_id, *serial;
    const char *key_file;               /* where the PKCS#12 goes */
    const char *pins_file;              /* where its PIN row goes */
    const char *pin;
    const unsigned char *p12;
    size_t p12_len;
} cb_journal_entry;

/* The journal's name for a ledger: LEDGER.journal (malloc'd, or NULL). */
char *cb_journal_path(const char *ledger_path);

/* Creates the journal (0600; EX_CANTCREAT when one exists: finish it
 * first). */
cb_journal *cb_journal_create(const char *path, cb_err *err);
/* Appends an entry (buffered). */
int cb_journal_add(cb_journal *j, const cb_journal_entry *e, cb_err *err);
/* Flushes and fsyncs: call before the ledger commits the entries. */
int cb_journal_sync(cb_journal *j, cb_err *err);
/* Closes the file, which stays until cb_journal_finish. */
void cb_journal_close(cb_journal *j);

typedef struct cb_journal_report {
    size_t entries;      /* read from the journal */
    size_t keys;         /* key files written by the finish (the others were there) */
    size_t pins;         /* PIN rows added to PIN files */
    size_t rolled_back;  /* entries the ledger never committed (or torn) */
} cb_journal_report;

/* Finishes the journal at path, if there is one (see above), then removes
 * it. Without a ledger (l NULL) every whole entry counts as committed: its
 * certificate may have gone out. 0 (rep filled; all zero when there was no journal), or -1 with err
 * set: the journal stays, for the next run to finish. */
int cb_journal_finish(const char *path, const cb_ledger *l, cb_journal_report *rep, cb_err *err);

/* Adds PIN rows (request_id, file, pin) to a PIN file, created 0600 when
 * absent, atomically: rows already there (by request_id) are kept as they
 * are, never replaced. rows holds n triples. */
int cb_pins_merge(const char *path, const char *const *rows, size_t n, size_t *added, cb_err *err);

#endif
