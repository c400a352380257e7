/* A streaming PEM reader (RFC 7468) for inputs that mix certificates with
 * other blocks and text: one block at a time, whatever its label, with the
 * line where it begins. Text outside BEGIN/END lines is ignored, CRLF is
 * accepted, a block cut short (no END line before EOF or before the next
 * BEGIN) is reported as such and the scan goes on. The content of a block
 * is decoded only for the caller; the scanner never prints anything. */
#ifndef CB_PEMSCAN_H
#define CB_PEMSCAN_H

#include <stdio.h>

typedef struct cb_pem_block {
    char label[64];          /* e.g. "CERTIFICATE", "PRIVATE KEY" */
    long line;               /* line of the BEGIN line, 1-based */
    unsigned char *der;      /* decoded content (owned by the scanner) */
    size_t der_len;
    const char *error;       /* non-NULL: the block is unusable, and why */
} cb_pem_block;

typedef struct cb_pem_scanner {
    FILE *fp;
    char *line;
    size_t line_cap;
    long lineno;
    char *b64;
    size_t b64_len, b64_cap;
    unsigned char *der;
    size_t der_cap;
    char pending_label[64];  /* a BEGIN line seen while inside a block */
    long pending_line;
    int have_pending;
    int too_big;
} cb_pem_scanner;

void cb_pem_scanner_init(cb_pem_scanner *s, FILE *fp);
void cb_pem_scanner_free(cb_pem_scanner *s);
/* Returns 1 with a block (check blk->error), 0 at the end, -1 on a read
 * error (errno set). */
int cb_pem_next(cb_pem_scanner *s, cb_pem_block *blk);

/* Is this the label of an X.509 certificate block? */
int cb_pem_is_cert_label(const char *label);

#endif
