/* Certificate serial numbers, the one rule for the whole library.
 *
 * A serial comes typed by a clerk ("0a:1b", " A1B ", "0x0A1B"), from a
 * ledger or a CSV, or from a certificate. As text it is read the same way
 * everywhere: spaces, tabs and colons are ignored (browsers and
 * `openssl x509 -text` show serials with colons), an optional leading '-'
 * (broken certificates have negative serials; cb_asn1_int_hex writes them
 * so) and an optional "0x" come first, then hexadecimal digits in either
 * case; anything else is not a serial.
 *
 * Two forms come out: the key, for comparing (upper case, leading zeros
 * dropped, "0" for zero), and the display form, as `openssl x509 -noout
 * -serial` prints it and the contract's cert record holds it (the key with
 * a '0' in front when its digits are odd: two digits a byte, "00" for
 * zero). Two serials are the same certificate's when their keys are equal,
 * and equally when their display forms are. */
#ifndef CB_SERIAL_H
#define CB_SERIAL_H

#include <stddef.h>

/* Room for any serial a certificate may carry (RFC 5280: 20 octets) and
 * then some, with the sign and the NUL. */
#define CB_SERIAL_MAX 160

/* The key of s into out: 0, or -1 when s is not a serial or the key does
 * not fit (out is then ""). */
int cb_serial_key(const char *s, char *out, size_t size);
/* The display form of s into out: 0, or -1 as for cb_serial_key. */
int cb_serial_display(const char *s, char *out, size_t size);

#endif
