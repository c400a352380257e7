/* The language of clerks' sentences: see lang.h. */
#include "lang.h"

#include <string.h>

int cb_lang_parse(const char *s, cb_lang *lang)
{
    if (strcmp(s, "en") == 0)
        *lang = CB_LANG_EN;
    else if (strcmp(s, "vi") == 0)
        *lang = CB_LANG_VI;
    else
        return -1;
    return 0;
}
