/* Unit tests for lib/core/cb_err.c: messages with their sysexits code, errno's
 * text (cb_err_sys) and OpenSSL's (cb_err_ssl, which also empties
 * OpenSSL's error queue), and the gravest of two exit codes. */
#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "cb_err.h"
#include "tap.h"

int main(void)
{
    cb_err err = {0};
    is_int(cb_err_set(&err, EX_DATAERR, "line %d", 3), -1, "cb_err_set returns -1");
    is_str(err.msg, "line 3", "with the message");
    is_int(err.code, EX_DATAERR, "and the code");

    errno = ENOENT;
    cb_err_sys(&err, EX_NOINPUT, "cannot open %s", "x.csv");
    is_str(err.msg, "cannot open x.csv: No such file or directory", "cb_err_sys appends errno's text");
    is_int(errno, ENOENT, "and leaves errno as it was");

    const unsigned char junk[] = {0x30, 0x03, 0x02, 0x01};
    const unsigned char *p = junk;
    ok(d2i_X509(NULL, &p, sizeof junk) == NULL, "(OpenSSL refuses four bytes as a certificate)");
    ok(ERR_peek_last_error() != 0, "(and queues an error)");
    cb_err_ssl(&err, EX_DATAERR, "%s: not a certificate", "junk.der");
    ok(strncmp(err.msg, "junk.der: not a certificate: error:", 35) == 0,
       "cb_err_ssl appends OpenSSL's text");
    is_int(err.code, EX_DATAERR, "with the code");
    is_int(ERR_peek_last_error(), 0, "and empties OpenSSL's queue");
    cb_err_ssl(&err, EX_SOFTWARE, "again");
    is_str(err.msg, "again: unknown error", "an empty queue says unknown error");

    is_int(cb_exit_worst(EX_OK, EX_DATAERR), EX_DATAERR, "anything beats 0");
    is_int(cb_exit_worst(EX_IOERR, EX_DATAERR), EX_IOERR, "74 beats 65");
    is_int(cb_exit_worst(EX_DATAERR, EX_OK), EX_DATAERR, "in either order");
    return done_testing();
}
