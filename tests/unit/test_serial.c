/* Unit tests for lib/core/serial.c, the one serial rule: the display form is
 * what `openssl x509 -noout -serial` prints for the same number (checked
 * by hand: 0x0A1B prints 0A1B, 0x1001 prints 1001, zero prints 00), the key
 * is that without its pad zero. */
#include "serial.h"
#include "tap.h"

static const char *key(const char *s)
{
    static char buf[CB_SERIAL_MAX];
    return cb_serial_key(s, buf, sizeof buf) == 0 ? buf : "(not a serial)";
}

static const char *display(const char *s)
{
    static char buf[CB_SERIAL_MAX];
    return cb_serial_display(s, buf, sizeof buf) == 0 ? buf : "(not a serial)";
}

int main(void)
{
    is_str(display("0a:1b"), "0A1B", "display: colons removed, upper case");
    is_str(display("A1B"), "0A1B", "display: two digits a byte");
    is_str(display("000A1B"), "0A1B", "display: leading zero bytes dropped");
    is_str(display("0"), "00", "display: zero is 00");
    is_str(display(" 1001 "), "1001", "display: spaces ignored");
    is_str(display("0x0a1b"), "0A1B", "display: a 0x prefix is allowed");
    is_str(display("5A:1B:2C\t"), "5A1B2C", "display: tabs ignored");
    is_str(display("-01"), "-01", "display: a negative serial keeps its sign");

    is_str(key("0A1B"), "A1B", "key: leading zeros dropped");
    is_str(key("0a:1B"), key("A1B"), "key: 0a:1B and A1B are the same serial");
    is_str(key("000"), "0", "key: zero is 0");
    is_str(key("-0"), "0", "key: -0 is 0");
    is_str(key("0x00FF"), "FF", "key: 0x and zeros");

    is_str(key(""), "(not a serial)", "an empty value is not a serial");
    is_str(key(" : "), "(not a serial)", "separators alone are not a serial");
    is_str(key("12G4"), "(not a serial)", "a letter past F is not a serial");
    is_str(key("0x"), "(not a serial)", "0x alone is not a serial");
    is_str(key("1-2"), "(not a serial)", "a minus inside is not a serial");

    char small[4];
    is_int(cb_serial_display("ABCD", small, sizeof small), -1, "a form that does not fit is refused");
    is_str(small, "", "and leaves the buffer empty");
    is_int(cb_serial_key("ABC", small, sizeof small), 0, "one that just fits is taken");
    is_str(small, "ABC", "whole");
    return done_testing();
}
