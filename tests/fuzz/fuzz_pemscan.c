/* libFuzzer harness: the PEM stream reader (lib/core/pemscan.c) over any text:
 * blocks, broken blocks, BEGIN inside a block, CRLF, long lines. */
#include <string.h>

#include "fuzz.h"
#include "pemscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *fp = fmemopen(size ? (void *)data : (void *)"", size, "rb");
    if (fp == NULL)
        abort();
    cb_pem_scanner s;
    cb_pem_scanner_init(&s, fp);
    cb_pem_block blk;
    long last = 0;
    while (cb_pem_next(&s, &blk) == 1) {
        /* A block starts on a line after the one before it. */
        if (blk.line < last || memchr(blk.label, '\0', sizeof blk.label) == NULL)
            abort();
        last = blk.line;
        (void)cb_pem_is_cert_label(blk.label);
    }
    cb_pem_scanner_free(&s);
    fclose(fp);
    return 0;
}
