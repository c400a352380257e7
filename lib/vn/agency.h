/* The per-agency table of aggregate-by-agency: one entry per agency,
 * whatever the number of records (the step's only state), with the counts
 * per request_type x subject_type, the earliest dates, the spellings seen
 * (the output shows the most frequent), and, for --detail and --split-dir,
 * a spill file holding the agency's records so memory does not grow with
 * them. Summaries can be merged: the sum of the summaries of parts equals
 * the summary of the whole.
 *
 * And the agency registry (--agencies): the province's list of agencies,
 * each with its electronic identifier (agency_code), official name, other
 * names it goes by, mailbox, province and parent agency, so that a request
 * names one agency whatever its spelling and a letter to the agency has an
 * address. */
#ifndef CB_AGENCY_H
#define CB_AGENCY_H

#include <stdint.h>
#include <stdio.h>

#include "cb_err.h"
#include "date.h"

enum { CB_AG_ISSUE_IND, CB_AG_ISSUE_ORG, CB_AG_RENEW_IND, CB_AG_RENEW_ORG, CB_AG_OTHER, CB_AG_NCOUNTS };
extern const char *const cb_ag_count_names[CB_AG_NCOUNTS];

typedef struct cb_spelling {
    char *name;
    unsigned long count;
} cb_spelling;

typedef struct cb_agency {
    char *key;                 /* grouping key */
    char *code;                /* agency_code when grouped by it */
    char *province;            /* first province seen */
    cb_spelling *spellings;
    size_t nspellings, cap_spellings;
    unsigned long counts[CB_AG_NCOUNTS];
    unsigned long total;
    cb_date min_expiry, min_due;   /* CB_AG_NO_DATE when none */
    /* spill file for --detail / --split-dir */
    char *spill_path;
    FILE *spill;
    unsigned long lru;
} cb_agency;

#define CB_AG_NO_DATE INT32_MAX

typedef struct cb_agency_table cb_agency_table;

/* spill_dir: a directory for the records of each agency (NULL: no spill). */
cb_agency_table *cb_agency_table_new(const char *spill_dir);
void cb_agency_table_free(cb_agency_table *t);
/* The agency with this key, created when new (code may be NULL). */
cb_agency *cb_agency_get(cb_agency_table *t, const char *key, const char *code);
/* Adds n to the count of a spelling. */
int cb_agency_add_spelling(cb_agency *a, const char *name, unsigned long n);
/* The spelling used more than any other; ties go to the one first in byte
 * order, so every run (and every merge) picks the same. */
const char *cb_agency_display(const cb_agency *a);
/* "12×Sở Tài chính | 3×SỞ TÀI CHÍNH": all spellings, for --merge. */
char *cb_agency_spellings_format(const cb_agency *a);
int cb_agency_spellings_parse(cb_agency *a, const char *s, cb_err *err);
/* The count slot for a request_type and subject_type. */
int cb_agency_count_slot(const char *request_type, const char *subject_type);
/* The stream to append this agency's records to (opened on demand; a few
 * dozen stay open at a time). */
FILE *cb_agency_spill(cb_agency_table *t, cb_agency *a, cb_err *err);
/* Closes the spill so it can be read back from spill_path. */
int cb_agency_spill_close(cb_agency *a, cb_err *err);

size_t cb_agency_count(const cb_agency_table *t);

/* The agencies sorted by key (valid until the next cb_agency_get). */
cb_agency **cb_agency_sorted(cb_agency_table *t);

/* ---- the agency registry ---- */

typedef struct cb_agency_entry {
    char *code;         /* upper case; "" when the agency has none */
    char *name;         /* official name, cleaned (NFC, single spaces) */
    char *email, *province, *parent_code;
    char *key;          /* agency_key: the code, or cb_agency_key(name) */
    long line;          /* where the registry lists it */
} cb_agency_entry;

typedef struct cb_agency_registry cb_agency_registry;

/* Reads a registry: CSV (or a workbook) with the columns agency_code, name,
 * aliases ('|'-separated), email, province, parent_code; agency_code and
 * name are required, the others may be missing or empty. A malformed code
 * or e-mail address, a code listed twice, or a name or alias that means
 * two agencies is EX_DATAERR `FILE:LINE: ...`; a missing file EX_NOINPUT. */
cb_agency_registry *cb_agency_registry_load(const char *path, cb_err *err);
void cb_agency_registry_free(cb_agency_registry *reg);
size_t cb_agency_registry_count(const cb_agency_registry *reg);
/* The agency with this code (any letter case), or NULL. */
const cb_agency_entry *cb_agency_registry_by_code(const cb_agency_registry *reg, const char *code);
/* The agency whose name or an alias means the same as name, compared the
 * way agency names are grouped (cb_agency_key: case, NFC/NFD, tone-mark
 * placement, UBND = Ủy ban nhân dân), or NULL. */
const cb_agency_entry *cb_agency_registry_by_name(const cb_agency_registry *reg, const char *name);

#endif
