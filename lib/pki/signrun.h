/* A sign-batch issue or renew run, as a step of the filter driver
 * (filter.h): what the program asks for (cb_signrun_cfg) in, the
 * certificates (PEM on the driver's output), the manifest and the rejects
 * out. It loads the issuer side before anything is written, so a wrong
 * passphrase leaves no trace; gathers the records into batches that run
 * on several threads (issue.h); applies the ledger's rules to each record
 * in input order and makes each finished batch durable in the crash-safe
 * order of batch.h (journal, ledger, key files); and only then shows the
 * batch in input order. A run stopped half-way keeps its outputs: what they
 * hold is issued and in the ledger (the driver's keep_outputs). */
#ifndef CB_SIGNRUN_H
#define CB_SIGNRUN_H

#include "cb_err.h"
#include "filter.h"
#include "keyload.h"

typedef struct cb_signrun_cfg {
    int mode;                       /* CB_ISSUE_NEW or CB_ISSUE_RENEW */
    const char *ca_cert, *ca_key;   /* the key: a file or a pkcs11: URI */
    cb_secret_src secret;           /* its passphrase, or the token's PIN */
    const char *pkcs11_module;      /* NULL: the engine's default */
    const char *profile;            /* NULL: the built-in profile */
    const char *key_alg;            /* issue; NULL: the profile's */
    const char *key_dir;            /* issue: where the PKCS#12 files go */
    const char *pins;               /* issue; NULL: KEY_DIR/pins.csv */
    const char *const *old_certs;   /* renew: files or directories */
    int nold;
    int extend_months;              /* renew; 0: the profile's */
    int jobs;                       /* threads */
    const char *ledger, *manifest, *audit;   /* NULL when not asked */
} cb_signrun_cfg;

typedef struct cb_signrun cb_signrun;

/* Loads the profile, the CA certificate and key (checked to belong
 * together), the old certificates of a renewal, and makes the key
 * directory. cfg is kept, not copied. NULL with err set. */
cb_signrun *cb_signrun_new(const cb_signrun_cfg *cfg, cb_err *err);

/* The step for cb_filter_run, with the cb_signrun as its ctx. Its begin
 * opens the ledger and the audit log, finishes (or rolls back) what a
 * killed run left and opens the manifest; it reports its own problems, as
 * `prog: message`. */
extern const cb_filter_step cb_signrun_step;

/* After cb_filter_run, before cb_filter_finish, whatever stopped the run:
 * the keys committed get their files and PINs (a journal that cannot be
 * finished stays for the next run) and the manifest is committed.
 * Problems are reported through f. */
void cb_signrun_finish(cb_signrun *r, cb_filter *f);

/* After cb_filter_finish: closes the audit log (with its checkpoint) and
 * the ledger, reports problems through f, frees r (NULL is nothing) and
 * returns the run's exit code, EX_IOERR when a diagnostic could not be
 * told. */
int cb_signrun_close(cb_signrun *r, cb_filter *f);

#endif
