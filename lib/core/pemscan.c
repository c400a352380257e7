/* Streaming PEM reader: see pemscan.h. Base64 is decoded with OpenSSL's
 * EVP_DecodeBlock once the whole block is collected, which is much faster
 * than a line-by-line decoder for the tens of thousands of blocks of a
 * national bundle. */
#include "pemscan.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

void cb_pem_scanner_init(cb_pem_scanner *s, FILE *fp)
{
    memset(s, 0, sizeof *s);
    s->fp = fp;
}

void cb_pem_scanner_free(cb_pem_scanner *s)
{
    free(s->line);
    free(s->b64);
    free(s->der);
    memset(s, 0, sizeof *s);
}

int cb_pem_is_cert_label(const char *label)
{
    return strcmp(label, "CERTIFICATE") == 0 || strcmp(label, "X509 CERTIFICATE") == 0 ||
           strcmp(label, "TRUSTED CERTIFICATE") == 0;
}

/* Strips the line end and trailing blanks; returns the new length. */
static size_t trim_end(char *l, size_t n)
{
    while (n && (l[n - 1] == '\n' || l[n - 1] == '\r' || l[n - 1] == ' ' || l[n - 1] == '\t'))
        l[--n] = '\0';
    return n;
}

/* "-----BEGIN X-----" / "-----END X-----": copies X into label. */
static int match_boundary(const char *l, size_t n, const char *kw, char *label, size_t lsz)
{
    size_t kl = strlen(kw);
    if (n < 5 + kl + 5 || memcmp(l, "-----", 5) != 0 || memcmp(l + 5, kw, kl) != 0 ||
        memcmp(l + n - 5, "-----", 5) != 0)
        return 0;
    size_t ll = n - 10 - kl;
    if (ll >= lsz)
        ll = lsz - 1;
    memcpy(label, l + 5 + kl, ll);
    label[ll] = '\0';
    return 1;
}

/* A certificate is a few kilobytes; a block this large is not one, and
 * must not make the scan's memory grow with the input. */
#define PEM_BLOCK_MAX (4u << 20)

static int b64_append(cb_pem_scanner *s, const char *l, size_t n)
{
    if (s->b64_len + n > PEM_BLOCK_MAX) {
        s->too_big = 1;
        return 0;
    }
    if (s->b64_len + n + 1 > s->b64_cap) {
        size_t cap = s->b64_cap ? s->b64_cap : 4096;
        while (cap < s->b64_len + n + 1)
            cap *= 2;
        char *p = realloc(s->b64, cap);
        if (p == NULL)
            return -1;
        s->b64 = p;
        s->b64_cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        char c = l[i];
        if (c != ' ' && c != '\t')
            s->b64[s->b64_len++] = c;
    }
    return 0;
}

static void decode(cb_pem_scanner *s, cb_pem_block *blk)
{
    size_t n = s->b64_len;
    if (n == 0 || n % 4 != 0) {
        blk->error = "the PEM block's base64 content is damaged";
        return;
    }
    size_t need = n / 4 * 3;
    if (need > s->der_cap) {
        unsigned char *p = realloc(s->der, need);
        if (p == NULL) {
            blk->error = "out of memory";
            return;
        }
        s->der = p;
        s->der_cap = need;
    }
    int len = EVP_DecodeBlock(s->der, (const unsigned char *)s->b64, (int)n);
    if (len < 0) {
        blk->error = "the PEM block's base64 content is damaged";
        return;
    }
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    if (s->b64[n - 1] == '=')
        len--;
    if (s->b64[n - 2] == '=')
        len--;
    blk->der = s->der;
    blk->der_len = (size_t)len;
}

int cb_pem_next(cb_pem_scanner *s, cb_pem_block *blk)
{
    memset(blk, 0, sizeof *blk);
    int inside = 0;
    if (s->have_pending) {
        s->have_pending = 0;
        inside = 1;
        memcpy(blk->label, s->pending_label, sizeof blk->label);
        blk->line = s->pending_line;
        s->b64_len = 0;
        s->too_big = 0;
    }
    for (;;) {
        ssize_t got = getline(&s->line, &s->line_cap, s->fp);
        if (got < 0) {
            if (ferror(s->fp))
                return -1;
            if (inside) {
                blk->error = "the PEM block is cut short: no END line before the end of the input";
                return 1;
            }
            return 0;
        }
        s->lineno++;
        size_t n = trim_end(s->line, (size_t)got);
        char label[64];
        if (n >= 10 && s->line[0] == '-' && match_boundary(s->line, n, "BEGIN ", label, sizeof label)) {
            if (inside) {
                memcpy(s->pending_label, label, sizeof label);
                s->pending_line = s->lineno;
                s->have_pending = 1;
                blk->error = "the PEM block is cut short: a new BEGIN line comes before its END line";
                return 1;
            }
            inside = 1;
            memcpy(blk->label, label, sizeof label);
            blk->line = s->lineno;
            s->b64_len = 0;
            s->too_big = 0;
            continue;
        }
        if (!inside)
            continue;
        if (n >= 10 && s->line[0] == '-' && match_boundary(s->line, n, "END ", label, sizeof label)) {
            if (s->too_big)
                blk->error = "the PEM block is larger than 4 MiB: not a certificate";
            else if (strcmp(label, blk->label) != 0)
                blk->error = "the PEM block's END line does not match its BEGIN line";
            else
                decode(s, blk);
            return 1;
        }
        if (memchr(s->line, ':', n) != NULL)   /* RFC 1421 headers (Proc-Type: ...) */
            continue;
        if (b64_append(s, s->line, n) < 0) {
            blk->error = "out of memory";
            return 1;
        }
    }
}
