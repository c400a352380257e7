/* The request-form rules of FORMS.md, for validate-form: which input column
 * is which (canonical names or the Vietnamese labels of the forms, any case,
 * NFC or NFD), which columns each form requires and how each is checked,
 * the rules across columns (age, dates, the 60-day renewal rule, validity
 * limits), duplicates within a batch, renewal checks against scan-expiry's
 * records (--certs) and sign-batch's ledger (--ledger), and the computed
 * columns (request_type, subject_type, received_date, due_date, agency_key;
 * with an agency registry, agency_name and agency_email).
 * Reasons come in English, or in Vietnamese for --lang vi.
 *
 * One cb_forms checks one stream of records; it remembers the keys it has
 * seen (request ids, persons, old serials) to find duplicates, packed in a
 * lib/core/dupset (some 30 bytes a record), and nothing else grows. The
 * certificates of --certs take some 56 bytes each. */
#ifndef CB_FORMS_H
#define CB_FORMS_H

#include "agency.h"
#include "calendar.h"
#include "cb_err.h"
#include "date.h"
#include "lang.h"
#include "record.h"

typedef cb_lang cb_forms_lang;

typedef struct cb_forms_opts {
    cb_date today;                 /* received_date may not be after it */
    const char *official_domains;  /* comma-separated; NULL means "gov.vn" */
    cb_forms_lang lang;
    cb_calendar *cal;              /* borrowed: working days for due_date */
    const cb_agency_registry *agencies;  /* borrowed, or NULL: agency_key is the name's key */
    int allow_unknown_agency;      /* an agency not in the registry passes, keyed by its name */
} cb_forms_opts;

typedef struct cb_forms cb_forms;

/* What a check found wrong with a record: the first column at fault and
 * every reason, joined with "; ". */
typedef struct cb_forms_verdict {
    const char *field;             /* canonical column name, "" for the whole record */
    char reason[4096];
} cb_forms_verdict;

cb_forms *cb_forms_new(const cb_forms_opts *opts, cb_err *err);
void cb_forms_free(cb_forms *f);

/* scan-expiry's output (serial, subject_cn, subject_o, uid, expiry_date or
 * not_after, status; a renewal_count column if present): the certificates
 * that renewal requests name by old_serial. EX_NOINPUT when missing,
 * EX_DATAERR `FILE:LINE: ...` when unusable. */
int cb_forms_load_certs(cb_forms *f, const char *path, cb_err *err);

/* sign-batch's issuance ledger (request_type, old_serial, serial): the
 * certificates already renewed, and those that are themselves renewals.
 * Read only; never created or locked. An empty file is nothing issued yet;
 * EX_NOINPUT when missing, EX_DATAERR `FILE:LINE: ...` when unusable. */
int cb_forms_load_ledger(cb_forms *f, const char *path, cb_err *err);

/* Binds the input header. The output header is the input's, each known
 * column renamed to its canonical name, unknown columns unchanged, the
 * computed columns overwritten in place or appended. Two input columns that
 * mean the same column are EX_DATAERR. Must be called before cb_forms_check. */
int cb_forms_bind(cb_forms *f, const cb_header *in, cb_err *err);
/* After cb_forms_bind: the i-th warning about the header (a label that is
 * no column of the forms but nearly a known label, naming the nearest), or
 * NULL past the last. */
const char *cb_forms_warning(const cb_forms *f, size_t i);
/* The output header, and the header of rejected records (the input's with
 * canonical names, without the computed columns). */
const cb_header *cb_forms_out_header(const cb_forms *f);
const cb_header *cb_forms_reject_header(const cb_forms *f);

/* Checks one record (laid out as the bound header; rec->line is its line in
 * the file named input). On 1 the record is valid and out holds it cleaned,
 * as the output header says; on 0 it is rejected and v says why; -1 is an
 * internal error (out of memory) in err. A rejected record does not take
 * its request id, person or serial: a later valid row with them passes. */
int cb_forms_check(cb_forms *f, const cb_record *in, const char *input, cb_record *out,
                   cb_forms_verdict *v, cb_err *err);

/* The canonical name for a header label (a canonical name or a Vietnamese
 * label of FORMS.md, any case, NFC or NFD, spaces around), or NULL when it is
 * none of them. "Tổ chức cấp 1".."4" give agency_level_1..4. */
const char *cb_forms_canonical(const char *label);

#endif
