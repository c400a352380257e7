/* The certificate scan of scan-expiry: every certificate of the inputs
 * (files, directories walked in name order, stdin) judged into one `cert`
 * record (DESIGN.md) with its status, or rejected, in input order.
 *
 * The scan runs on the filter driver (lib/filter.h) for everything around
 * the step: the output and rejects channels, the counters and summary
 * line, the notes and the exit code. The program gives its options in a
 * cb_scan_opts, feeds paths, and ends with cb_scan_end; the judging of a
 * certificate (lib/certinfo for names and dates, lib/trust for the path)
 * can run on several threads (jobs), the records still written in the
 * order of the inputs, byte for byte those of one thread. */
#ifndef CB_SCAN_H
#define CB_SCAN_H

#include <stdint.h>

#include "certinfo.h"
#include "date.h"
#include "filter.h"
#include "publish.h"
#include "trustcache.h"
#include "trust.h"

enum {
    CB_ST_VALID, CB_ST_EXPIRING, CB_ST_EXPIRED, CB_ST_REVOKED, CB_ST_NOT_YET_VALID, CB_ST_UNTRUSTED,
    CB_ST_NOT_YET_EFFECTIVE, CB_ST_COUNT
};

typedef struct cb_scan_opts {
    cb_date today;
    int64_t check_time;        /* the instant paths are judged at */
    int days;                  /* expiring: 0 <= days_left <= days */
    int want[CB_ST_COUNT];     /* the statuses written; the others are filtered */
    int vi;                    /* sentences in Vietnamese */
    cb_trust *trust;           /* --ca: every path checked (NULL: none) */
    int trust_full;            /* every certificate through the full verifier (a diagnostic) */
    cb_trustcache *trustcache;     /* --trust-cache: signatures verified on earlier runs (NULL: none) */
    cb_crlset *crls;           /* --crl without --ca: listed means revoked, unverified */
    cb_publisher *effect;      /* --ledger: issued, not yet published */
    int jobs;                  /* threads judging certificates (1: none) */
} cb_scan_opts;

typedef struct cb_scan cb_scan;

/* Sets want[] from "expiring,expired": -1 with err naming an unknown status. */
int cb_scan_parse_status(const char *list, int want[CB_ST_COUNT], cb_err *err);

/* The scan, its output header set on f (call before cb_filter_open_outputs).
 * NULL with err set when out of memory. */
cb_scan *cb_scan_new(const cb_scan_opts *o, cb_filter *f, cb_err *err);
/* One FILE, DIR or "-" as given on the command line. Problems are reported
 * through f and counted in its exit code; the scan goes on. */
void cb_scan_path(cb_scan *s, const char *path);
/* Waits for the certificates still being judged and writes them. */
void cb_scan_end(cb_scan *s);
void cb_scan_free(cb_scan *s);

#endif
