/* The letters notify sends. Each record is checked (an address to send to,
 * the template's columns, a readable certificate to attach), its notice is
 * named (template, record key, the threshold it crossed) and looked up in
 * the ledger; then it becomes a letter of its own, or waits in its
 * recipient's digest (a hash map from digest value and address to the
 * group, in order of first appearance) until the end. A letter is rendered
 * from the template, built (lib/mail; into a Maildir or an mbox, a batch of
 * letters at a time on two threads, then sent in input order), handed to
 * the mailer with retries
 * and a growing wait after a temporary failure, and, once the mailer has
 * delivered it (a Maildir a batch at a time), recorded: the ledger's rows,
 * the log's row, its records counted out. A record that cannot go is
 * rejected through the filter driver with the reason; a failure that
 * stops the run is reported through the driver too (cb_filter_stop), and
 * the functions below then return -1. */
#ifndef CB_LETTERS_H
#define CB_LETTERS_H

#include <stdio.h>

#include "cb_err.h"
#include "date.h"
#include "filter.h"
#include "mail.h"
#include "notify_ledger.h"
#include "template.h"

typedef struct cb_letters_opts {
    cb_template *tpl;
    const char *tpl_name;                 /* the template's name, in event keys */
    const char *const *var_names;         /* --set NAME=VALUE */
    const char *const *var_values;
    size_t nvars;
    cb_date today;
    const char *from_name, *from_addr;
    const char *to;                       /* the recipient's column */
    const char *digest_by, *attach, *key; /* columns, or NULL */
    const int *th;                        /* thresholds, largest first (needs days_left) */
    int nth;
    const char *attach_file;              /* sent with every letter, or NULL; read
                                             once the input's header is (the file may
                                             be written by the step before) */
    int retries, retry_delay;             /* after EX_TEMPFAIL: tries, first wait (s) */
    cb_mailer_opts mailer;                /* the transport */
    int dry_run;                          /* nothing sent: the log says what would be */
    cb_notify_ledger *ledger;             /* the notices sent, or NULL */
    const char *mbox_path;                /* the mbox (-o; NULL or "-": stdout) */
    const char *log_path;                 /* --log FILE, or NULL */
} cb_letters_opts;

/* 1 when the mbox is the output: the letters go to an mbox file, which
 * takes -o, and is handed over (with its ledger rows) when committed. */
int cb_letters_mbox_out(const cb_letters_opts *o);

typedef struct cb_letters cb_letters;

/* The options are used, not copied: they outlive the letters. */
cb_letters *cb_letters_new(const cb_letters_opts *o, cb_filter *f, cb_err *err);
void cb_letters_free(cb_letters *l);

/* For the step's begin: binds the template and the columns to the input's
 * header (an empty input binds nothing; with a ledger, a record's key
 * defaults to its serial or request_id column), then opens the mbox, the
 * --log file and the mailer. 0, or -1 with err set (EX_DATAERR naming a
 * missing column), nothing created. --attach-file is read then. */
int cb_letters_open(cb_letters *l, const cb_header *in, cb_err *err);

/* For the step's process: one record, rejected, filtered (not due, or in
 * the ledger), sent, or held for its digest. */
int cb_letters_take(cb_letters *l, const cb_record *rec);
/* For the step's end: sends the digests, delivers what the mailer holds. */
int cb_letters_finish(cb_letters *l);
/* After the run, whatever stopped it: delivers and records what the
 * mailer still holds, ends the session, commits the --log file, and the
 * mbox (and then the ledger's rows for it) when the run went well or any
 * letter went; the driver's outputs are then kept too, what was delivered
 * staying delivered. A server that was down makes the exit EX_TEMPFAIL. */
void cb_letters_close(cb_letters *l);

#endif
