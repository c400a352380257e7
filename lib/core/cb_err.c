/* Error reporting helpers: see cb_err.h. */
#include "cb_err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cb_err_set(cb_err *err, int code, const char *fmt, ...)
{
    if (err == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
    return -1;
}

int cb_err_sys(cb_err *err, int code, const char *fmt, ...)
{
    int saved = errno;
    if (err == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof err->msg)
        snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", strerror(saved));
    err->code = code;
    errno = saved;
    return -1;
}

int cb_exit_worst(int a, int b)
{
    /* EX_SOFTWARE (70) is an internal error and outranks data errors;
     * otherwise the numerically larger sysexits code is the graver one. */
    if (a == EX_OK)
        return b;
    if (b == EX_OK)
        return a;
    return a > b ? a : b;
}
