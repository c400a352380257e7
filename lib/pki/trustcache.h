/* The certificates vouched for on an earlier night (scan-expiry --trust-cache).
 *
 * A province scans the same 50,000 certificates every night, and after the
 * issuer's path the dearest part of judging one is what depends on its
 * bytes alone: its signature (an RSA-2048 verification costs more than
 * reading the whole certificate), its encoding, its extensions, its
 * subject's key. None of that changes from one night to the next for the
 * same bytes and the same issuer key. So the fast path of lib/trustfast
 * remembers, for each certificate it vouched for, one SHA-256 over the
 * issuer's public key and the certificate's own SHA-256, and does not
 * check those again. What may change is judged every night as before: the
 * issuer's path, the CRLs, the dates. A certificate changed by one bit, or
 * signed by another key under the same issuer name, has another key here
 * and is checked in full.
 *
 * The file: the magic "CBTRUST1", the count (8 bytes, little-endian), the
 * keys (32 bytes each, strictly increasing) and a SHA-256 over all of that.
 * It is read with mmap and searched in place; a file that is not exactly
 * that (cut short, changed, another format, unreadable) is ignored, with a
 * note, and
 * every certificate is checked again. It is written atomically at the end of
 * a run with the keys that run met: those of certificates no longer
 * scanned fall out. The file is as much to be protected as the trust
 * anchors beside it: whoever can write one can write the other.
 *
 * Thread-safe: many workers look up and add at once. */
#ifndef CB_TRUSTCACHE_H
#define CB_TRUSTCACHE_H

#include <stddef.h>

#include "cb_err.h"

#define CB_TRUSTCACHE_KEY 32

typedef struct cb_trustcache cb_trustcache;

/* Opens the cache at path. An absent or empty file is an empty cache; so
 * is one that cannot be read or is not whole, and then why says why
 * (why->code non-zero; the caller warns). NULL with err set only when out
 * of memory. */
cb_trustcache *cb_trustcache_open(const char *path, cb_err *why, cb_err *err);
void cb_trustcache_free(cb_trustcache *c);

/* 1 when key was vouched for before (and it is kept for the next run),
 * else 0. */
int cb_trustcache_known(cb_trustcache *c, const unsigned char key[CB_TRUSTCACHE_KEY]);
/* Remembers a key just vouched for; 0, or -1 when out of memory (the
 * cache is then only smaller next time). */
int cb_trustcache_add(cb_trustcache *c, const unsigned char key[CB_TRUSTCACHE_KEY]);

/* Writes the keys of this run (known and added) to the cache's path,
 * atomically. 0, or -1 with err set. */
int cb_trustcache_save(cb_trustcache *c, cb_err *err);

/* This run's figures: keys found in the cache, and added. */
unsigned long cb_trustcache_hits(const cb_trustcache *c);
unsigned long cb_trustcache_added(const cb_trustcache *c);

#endif
