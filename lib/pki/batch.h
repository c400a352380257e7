/* The rules and the write order of a sign-batch run, kept out of the
 * program: the checks that need the whole run (the ledger; a request, an
 * old serial or a key file met twice; a key file that exists) and the
 * order in which a batch of finished jobs becomes durable, so that a crash
 * at any instant loses nothing — new keys and PINs into the batch journal
 * (journal.h), the certificates and their ledger lines (ledger.h: the
 * commit), then the key files; the PIN rows when the run finishes its
 * journal. What the run shows (certificates out, manifest, rejects) the
 * program writes after cb_batch_commit, in input order; a re-run writes it
 * again from the ledger's store (jobs set CB_JOB_AGAIN). */
#ifndef CB_BATCH_H
#define CB_BATCH_H

#include <stddef.h>

#include "cb_err.h"
#include "issue.h"
#include "journal.h"
#include "ledger.h"

typedef struct cb_batch_cfg {
    int mode;                  /* CB_ISSUE_NEW or CB_ISSUE_RENEW */
    const cb_issuer *issuer;
    const cb_issue_cols *cols;
    cb_ledger *ledger;         /* NULL: no re-run rules and no commit */
    const char *key_dir;       /* issue: where the PKCS#12 files go */
    const char *pins_path;     /* issue: the PIN file */
    const char *issued_at;     /* the instant the ledger records */
} cb_batch_cfg;

typedef struct cb_batch cb_batch;

/* A run under cfg (kept, not copied). For issue, the journal is
 * LEDGER.journal, or PINS.journal without a ledger. */
cb_batch *cb_batch_new(const cb_batch_cfg *cfg, cb_err *err);
/* Before anything is written: removes the hidden temporaries a killed run
 * left in the key directory and finishes (or rolls back) the journal it
 * left; rep says what was done (all zero when there was nothing). */
int cb_batch_recover(cb_batch *b, cb_journal_report *rep, cb_err *err);
const char *cb_batch_journal_path(const cb_batch *b);

/* The checks that need the whole run, in input order before the job runs:
 * sets the job CB_JOB_AGAIN (in the ledger, its certificate read back),
 * CB_JOB_SKIP (in the ledger, its certificate not kept) or CB_JOB_REJECT,
 * or leaves it to run. key_file (PATH_MAX bytes) receives where the job's
 * PKCS#12 goes, or "". -1 only for an error that stops the run. */
int cb_batch_check(cb_batch *b, cb_issue_job *job, char *key_file, cb_err *err);

/* Makes the finished jobs durable: journal, ledger, key files (see
 * above). key_files[i] is job i's, from cb_batch_check; emptied for a job
 * that made no key. */
int cb_batch_commit(cb_batch *b, cb_issue_job *jobs, char **key_files, size_t n, cb_err *err);

/* At the end of the run, whatever stopped it: the keys committed get
 * their files and PIN rows and the journal goes. On failure the journal
 * stays for the next run. */
int cb_batch_finish(cb_batch *b, cb_err *err);
void cb_batch_free(cb_batch *b);

/* The request id of a record, blanks around it removed. */
void cb_batch_request_id(const cb_batch *b, const cb_record *rec, char *buf, size_t n);

#endif
