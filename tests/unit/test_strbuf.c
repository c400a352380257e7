/* Unit tests for the growing string: appends past several doublings, a
 * take that empties the buffer, an empty take, and embedded bytes. */
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "tap.h"

int main(void)
{
    cb_buf b = {0};
    for (int i = 0; i < 1000; i++)
        cb_buf_add(&b, "ab", 2);
    is_int(b.len, 2000, "1000 appends of 2 bytes make 2000 bytes");
    ok(b.s[1999] == 'b' && b.s[2000] == '\0', "the string stays NUL-terminated");
    cb_buf_addc(&b, 'Z');
    char *s = cb_buf_take(&b);
    ok(s != NULL && strlen(s) == 2001 && s[2000] == 'Z', "take gives the whole string");
    ok(b.s == NULL && b.len == 0 && b.cap == 0, "and leaves the buffer empty");
    free(s);
    s = cb_buf_take(&b);
    is_str(s, "", "taking from an empty buffer gives \"\", not NULL");
    free(s);
    cb_buf_add(&b, "Lâm Đồng", strlen("Lâm Đồng"));
    is_str(b.s, "Lâm Đồng", "UTF-8 bytes are copied as they are");
    cb_buf_free(&b);
    ok(b.s == NULL && b.len == 0, "free empties it");
    return done_testing();
}
