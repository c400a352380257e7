/* OpenSSL's errors as a cb_err (see cb_err.h). Apart from cb_err.c so
 * that a program that uses no OpenSSL (validate-form, aggregate-by-agency)
 * does not load libcrypto for its error messages. */
#include "cb_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

void cb_ssl_error(char *buf, size_t n)
{
    unsigned long e = ERR_peek_last_error();
    if (e == 0)
        snprintf(buf, n, "unknown error");
    else
        ERR_error_string_n(e, buf, n);
    ERR_clear_error();
}

int cb_err_ssl(cb_err *err, int code, const char *fmt, ...)
{
    char why[256];
    cb_ssl_error(why, sizeof why);
    if (err == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    size_t n = strlen(err->msg);
    snprintf(err->msg + n, sizeof err->msg - n, ": %s", why);
    err->code = code;
    return -1;
}
