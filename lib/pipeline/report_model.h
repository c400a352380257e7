/* Inside the report module (report.c reads, report_load.c counts,
 * report_page.c draws): the figures as the page shows them. Not for use
 * outside lib/report*.c. */
#ifndef CB_REPORT_MODEL_H
#define CB_REPORT_MODEL_H

#include "csvio.h"
#include "record.h"
#include "report.h"
#include "strmap.h"

#define RP_WEEKS 26
#define RP_TOP_AGENCIES 8
#define RP_DUE_DAYS 60

enum { RP_NAME_FORM = 1, RP_NAME_CERT = 2, RP_NAME_REGISTRY = 3 };

typedef struct rp_agency {
    char *key, *name;
    int name_rank;       /* RP_NAME_*: where the name shown comes from */
    long holders;        /* valid certificates today */
    long due60;          /* of those, <= 60 days left */
    long received, rejected, proposed;   /* the night's requests */
    long renewed, delivered;             /* the ledger's */
    long weeks[RP_WEEKS];
    long in_window;      /* sum of weeks */
} rp_agency;

/* A holder to chase: valid, <= 60 days, no request on file. */
typedef struct rp_due {
    char *name, *unit, *serial;
    size_t agency;       /* index in ag */
    const char *agency_key;   /* ag[agency].key, for sorting */
    cb_date expiry;
    int days;
} rp_due;

typedef struct rp_reject {
    char *id, *name, *field, *reason;
    char *line;          /* reject_line: the line in the form file sent */
    size_t agency;
} rp_reject;

typedef struct rp_reason {
    char *field, *example;
    long count;
} rp_reason;

typedef struct rp_problem {
    cb_report_problem pub;
    char *reason;
} rp_problem;

struct cb_report {
    cb_date today;
    cb_lang lang;
    char *run_dir;
    int have_valid, have_rejects, have_proposal, have_ledger, have_notices;

    long total, valid, le60, le30, le7, expired, revoked, untrusted, not_yet_valid;
    long notices_sent, notices_failed;
    long week_total[RP_WEEKS];

    rp_agency *ag;
    size_t nag, capag;
    cb_strmap ag_index;       /* key -> index in ag, as decimal */
    cb_strmap key_of;         /* agency as typed -> key */
    size_t *order;            /* agencies, for the table: by name */
    size_t top[RP_TOP_AGENCIES], ntop;   /* the forecast's own series */
    long rest_weeks[RP_WEEKS];
    int have_rest;

    cb_strmap on_file;        /* old serials with a request, canonical */
    cb_strmap pending_renewed, pending_delivered;   /* ledger, by old serial: agency unknown yet */
    cb_strmap matched;        /* "R"/"D" + serial: found among the certificates */
    long matched_renewed, matched_delivered;
    rp_due *due;
    size_t ndue, capdue;
    rp_reject *rej;
    size_t nrej, caprej;
    rp_reason *reason;
    size_t nreason, capreason;

    rp_problem *prob;
    size_t nprob, capprob;
    char **files;
    size_t nfiles, capfiles;
    unsigned long records_in;
};

enum rp_kind { RP_VALID, RP_PROPOSED, RP_REJECTED };

typedef int (*rp_bind_fn)(cb_report *r, const cb_header *h, const char *path, void *ctx,
                          cb_err *err);
typedef int (*rp_record_fn)(cb_report *r, const cb_record *rec, const char *path, void *ctx,
                            cb_err *err);

/* report.c */
/* Grows the array *arrp of n elements of size sz to hold one more: 0, or
 * -1 when out of memory (the array unchanged). */
int cb_report_grow(void *arrp, size_t n, size_t *cap, size_t sz);
int cb_report_problem_add(cb_report *r, const char *file, long line, const char *reason,
                          cb_err *err);
rp_agency *cb_report_agency(cb_report *r, const char *key, const char *name, int rank,
                            cb_err *err);
const char *cb_report_agency_key(cb_report *r, const char *name, cb_err *err);
rp_agency *cb_report_request_agency(cb_report *r, const cb_record *rec, int c_key,
                                    int c_name, int c_agency, cb_err *err);
int cb_report_mark_on_file(cb_report *r, const char *serial, cb_err *err);
int cb_report_is_on_file(const cb_report *r, const char *serial);
cb_csv_reader *cb_report_open_csv(const char *path, cb_err *err);
int cb_report_need_col(const cb_header *h, const char *path, const char *name, cb_err *err);
int cb_report_each(cb_report *r, const char *path, rp_bind_fn bind, rp_record_fn fn, void *ctx,
                   cb_err *err);

/* report_load.c */
int cb_report_load_requests(cb_report *r, const char *path, enum rp_kind kind, cb_err *err);
int cb_report_load_ledger(cb_report *r, const char *path, cb_err *err);
int cb_report_load_notices(cb_report *r, const char *path, cb_err *err);
int cb_report_load_certs(cb_report *r, const char *path, cb_err *err);
int cb_report_finish_model(cb_report *r, cb_err *err);

#endif
