/* libFuzzer harness: headers made from data (lib/mail/mail.c). The input is a
 * subject and a display name (cut at the first newline); the message is
 * built, parsed back with GMime, and must have one sender and one
 * recipient, the ones given, and no header the data could have added: the
 * text may change (control characters, "=?" broken), the addresses never. */
#include <gmime/gmime.h>
#include <string.h>

#include "fuzz.h"
#include "mail.h"

static int one_mailbox(GMimeMessage *m, GMimeAddressType type, const char *want)
{
    InternetAddressList *l = g_mime_message_get_addresses(m, type);
    if (l == NULL || internet_address_list_length(l) != 1)
        return 0;
    InternetAddress *ia = internet_address_list_get_address(l, 0);
    return INTERNET_ADDRESS_IS_MAILBOX(ia) &&
           strcmp(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)), want) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    cb_err err = {0};
    if (!ready) {
        g_mime_init();
        ready = 1;
    }
    char *s = fuzz_strdup(data, size);
    char *nl = strchr(s, '\n');
    const char *name = "";
    if (nl != NULL) {
        *nl = '\0';
        name = nl + 1;
    }
    char *clean = cb_mail_header_text(s);
    if (clean == NULL || strstr(clean, "=?") != NULL || strpbrk(clean, "\r\n") != NULL)
        abort();
    free(clean);
    cb_mail_msg m = {.from_name = "Sở KH&CN", .from_addr = "ca@lamdong.gov.vn", .to_name = name,
                     .to_addr = "an@lamdong.gov.vn", .subject = s, .body = "x", .date = 1764547200};
    char *out = NULL, *mid = NULL;
    size_t len = 0;
    if (cb_mail_build(&m, 0, &out, &len, &mid, &err) == 0) {
        GMimeStream *st = g_mime_stream_mem_new_with_buffer(out, len);
        GMimeParser *p = g_mime_parser_new_with_stream(st);
        GMimeMessage *msg = g_mime_parser_construct_message(p, NULL);
        if (msg == NULL || !one_mailbox(msg, GMIME_ADDRESS_TYPE_TO, m.to_addr) ||
            !one_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, m.from_addr) ||
            g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_BCC) == NULL ||
            internet_address_list_length(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_BCC)) != 0 ||
            internet_address_list_length(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC)) != 0)
            abort();
        g_object_unref(msg);
        g_object_unref(p);
        g_object_unref(st);
    }
    free(out);
    free(mid);
    free(s);
    return 0;
}
