/* The sent-notices ledger of notify: one row per notice sent (recipient,
 * event key, sent_at), so a nightly run sends each notice once. With
 * thresholds (60,30,7 days) a certificate's event key names the threshold
 * it has crossed, so the 60-day notice goes once, then the 30-day and the
 * 7-day reminders, and none twice. The ledger is an append-only CSV, locked
 * while a run writes it: each notice is appended and synced as its letter
 * is handed over, before the next one goes, so after a crash at most the
 * letter in flight goes again. */
#ifndef CB_NOTIFY_LEDGER_H
#define CB_NOTIFY_LEDGER_H

#include <stddef.h>

#include "cb_err.h"

typedef struct cb_notify_ledger cb_notify_ledger;

/* Reads path when it exists (a missing file is an empty ledger). With
 * for_writing the file is created when absent and locked: EX_TEMPFAIL when
 * another run holds it. A last row cut short by a crash is dropped.
 * EX_DATAERR when the file lacks the recipient/event_key/sent_at columns. */
cb_notify_ledger *cb_notify_ledger_open(const char *path, int for_writing, cb_err *err);
/* 1 when this recipient (compared without case) already had this notice. */
int cb_notify_ledger_has(const cb_notify_ledger *l, const char *recipient, const char *event_key);
/* Records a notice: appended and synced at once, or, deferred, held until
 * cb_notify_ledger_commit (for an mbox file, whose letters are handed over
 * only when the file is committed). EX_IOERR when it cannot be written. */
int cb_notify_ledger_add(cb_notify_ledger *l, const char *recipient, const char *event_key,
                         const char *sent_at, cb_err *err);
void cb_notify_ledger_defer(cb_notify_ledger *l, int defer);
/* Number of rows. */
size_t cb_notify_ledger_count(const cb_notify_ledger *l);
/* Appends and syncs the rows held back. */
int cb_notify_ledger_commit(cb_notify_ledger *l, cb_err *err);
void cb_notify_ledger_free(cb_notify_ledger *l);

/* Parses "60,30,7" into th (sorted, largest first, duplicates removed);
 * returns the count, or -1 when the list is not positive whole numbers.
 * max is the capacity of th. */
int cb_notify_parse_thresholds(const char *s, int *th, int max);
/* The threshold a certificate with days_left has crossed: the smallest
 * threshold >= days_left, or -1 when days_left is above them all (nothing
 * to send yet). Expired certificates fall in the smallest. */
int cb_notify_threshold(const int *th, int n, long days_left);

#endif
