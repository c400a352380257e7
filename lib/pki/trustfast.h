/* Trust decided once per issuer (issue 16): the fast path in front of the
 * full verifier of lib/trust.h, with the same verdicts and problems.
 *
 * The first certificate of an issuer goes through OpenSSL's verifier in
 * full (lib/trust.h); when its path verifies, the issuer that path building
 * chose is kept, keyed by the issuer name and authority key identifier the
 * certificate names. Every later certificate of that issuer is then
 * checked alone: its signature over its TBS bytes with the kept issuer
 * key, its serial against every CRL's list, and its own encoding and
 * extensions against what `-x509_strict` demands of an end-entity. Only a
 * certificate that passes all of that is judged trusted without the full
 * verifier; anything else (a CA, a listed serial, a bad signature, an
 * extension the fast path does not know, a critical one it cannot judge,
 * a CRL with a scope, --partial-chain, dates the caller wants judged) goes
 * through the full verifier, which writes the problem. A CA certificate of
 * the input that becomes an intermediate starts a new generation, and the
 * kept issuers are dropped.
 *
 * One worker per thread: the workers share the cb_trust, each keeps its
 * own OpenSSL context and its own issuers. */
#ifndef CB_TRUSTFAST_H
#define CB_TRUSTFAST_H

#include <stddef.h>
#include <stdint.h>

#include "trustcache.h"
#include "trust.h"

typedef struct cb_trust_worker cb_trust_worker;

/* full: every certificate through the full verifier (the diagnostic
 * --trust-full, and the tests that compare both paths). */
cb_trust_worker *cb_trust_worker_new(cb_trust *t, int full, cb_err *err);
void cb_trust_worker_free(cb_trust_worker *w);

/* Judges the DER certificate at instant at: the verdict, also in res, or
 * -1 (err set) when OpenSSL could not run. sha256 is the certificate's
 * (the key of the trust cache), or NULL. When the certificate is a
 * CA, *ca is it decoded, for cb_trust_add_intermediate (the caller frees
 * it); NULL otherwise. */
int cb_trust_judge(cb_trust_worker *w, const unsigned char *der, size_t len, const unsigned char *sha256,
                   int64_t at, cb_trust_result *res, X509 **ca, cb_err *err);

/* The fast path looks up each certificate in c before judging it alone,
 * and adds those it vouched for (trustcache.h); c is shared by the workers
 * and outlives them. */
void cb_trust_worker_use_trustcache(cb_trust_worker *w, cb_trustcache *c);

/* How many certificates the fast path decided (for the tests). */
unsigned long cb_trust_worker_fast_count(const cb_trust_worker *w);

#endif
