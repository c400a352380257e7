/* Errors and exit codes shared by libcertbatch and the programs.
 *
 * lib/ never prints and never exits: a function that fails fills a cb_err
 * with a sysexits code and a message a clerk can read, and bin/ decides what
 * to print and how to exit. */
#ifndef CB_ERR_H
#define CB_ERR_H

#include <stddef.h>
#include <sysexits.h>

#define CB_VERSION "0.1.0"

typedef struct cb_err {
    int code;        /* sysexits.h value, EX_OK when no error */
    char msg[1024];
} cb_err;

/* Sets code and a printf-style message; returns -1 so callers can
 * `return cb_err_set(...)`. */
int cb_err_set(cb_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like cb_err_set, appending ": strerror(errno)". */
int cb_err_sys(cb_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like cb_err_set, appending ": " and the text of OpenSSL's last error
 * ("unknown error" when its queue is empty), and clears the queue. */
int cb_err_ssl(cb_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The text of OpenSSL's last error into buf, and clears the queue: for
 * messages that are not a cb_err. */
void cb_ssl_error(char *buf, size_t n);

/* The larger of two exit codes, EX_OK losing to anything: the way a run that
 * met several problems reports the gravest. */
int cb_exit_worst(int a, int b);

#endif
