/* The requests proposed and not yet delivered (requests pending), rebuilt
 * from the state alone: the proposal lists the request ledger names
 * (kept with the night's run, relative to the ledger's directory), each
 * row whose request that list proposed and that still waits. A request
 * waits from its proposal until the night after its delivery, so a re-run
 * of the night that delivered it finds it again and gives the same
 * result. A proposal list the ledger names but that is gone is state
 * lost, said as such (EX_NOINPUT). */
#ifndef CB_REQPENDING_H
#define CB_REQPENDING_H

#include "filter.h"
#include "reqledger.h"

/* Writes the pending requests of the ledger at path (read only) through
 * f's output, under the union of the lists' columns (those of Forms 03/04
 * when none). Problems are reported through f; returns its exit code so
 * far. */
int cb_reqpending_run(cb_filter *f, const char *ledger, const char *night);

/* 1 when the request of proposal p still waits on night. */
int cb_reqpending_waits(const cb_reqledger *l, const cb_reqevent *p, const char *night);

#endif
