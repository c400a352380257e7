/* The tamper-evident audit log of a CA's actions (issue, renew, sign,
 * publish): who did what, when, to which certificate (serial, SHA-256).
 * One append-only CSV file per CA; each line carries its own line number
 * (seq) and, last, the SHA-256 of the line before it (the header line for
 * the first), so a line changed, removed or moved breaks the chain at that
 * place. At the end of each batch a checkpoint line states the number of
 * lines before it and the hash of the last one, signed by the CA's (or the
 * office's) key as a detached CMS SignedData, so the chain up to there
 * cannot be rebuilt by whoever can write the file but not sign.
 *
 *   seq,at,actor,action,request_id,serial,sha256,subject,detail,prev
 *
 * A checkpoint is action `checkpoint` with detail
 * `lines=N head=HEX cms=BASE64`, the CMS signing the bytes
 * "certbatch-audit-checkpoint lines=N head=HEX\n" (checkable with
 * `openssl cms -verify -binary -inform DER -content`). Lines hold no line
 * breaks (they are made spaces), so a line of the file is a line of the
 * log. */
#ifndef CB_AUDIT_H
#define CB_AUDIT_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cb_err.h"

typedef struct cb_audit cb_audit;

/* Opens (creating it, 0644, with its header) and locks the log; actor NULL
 * takes $CB_ACTOR, else the login name of the user. A last line cut short
 * by a crash is removed (it was never synced). Another run holding it is
 * EX_TEMPFAIL. */
cb_audit *cb_audit_open(const char *path, const char *actor, cb_err *err);

/* Appends one action (buffered); any field may be NULL. */
int cb_audit_add(cb_audit *a, const char *action, const char *request_id, const char *serial,
                 const char *sha256, const char *subject, const char *detail, cb_err *err);

/* Appends a signed checkpoint when lines were added since the last one,
 * syncs, unlocks and frees (also on error). key/cert NULL: no checkpoint,
 * only the sync. */
int cb_audit_close(cb_audit *a, X509 *cert, EVP_PKEY *key, cb_err *err);

/* sign-batch's hooks. One line per certificate a batch issued or renewed
 * (jobs with status CB_JOB_OK; rid_col the request_id column of their
 * records); a NULL log does nothing. */
struct cb_issue_job;
int cb_audit_jobs(cb_audit *a, const char *action, const struct cb_issue_job *jobs, size_t n,
                  int rid_col, cb_err *err);
/* One `sign` line for a batch file signed (its SHA-256; signed_path NULL:
 * standard input, not digested) and its checkpoint, in the log at
 * log_path (NULL: nothing). */
int cb_audit_sign(const char *log_path, const char *signed_path, X509 *cert, EVP_PKEY *key,
                  cb_err *err);

/* What cb_audit_verify found. */
typedef struct cb_audit_report {
    long lines;            /* lines in the file, header included */
    long checkpoints;      /* checkpoints that verified */
    long unsigned_tail;    /* lines after the last checkpoint */
    long bad_line;         /* 0 when everything verifies, else the first line at fault */
    char what[600];        /* what is wrong there, in a sentence */
    int from_checkpoint;   /* what was found by a checkpoint, not the chain */
} cb_audit_report;

/* Checks the chain and every checkpoint's count, head and signature
 * (against the trust anchors in ca_file). Returns 0 when it all holds,
 * 1 when not (rep says where and what), -1 when the log cannot be read. */
int cb_audit_verify(const char *path, const char *ca_file, cb_audit_report *rep, cb_err *err);

#endif
