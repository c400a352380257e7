/* The language of the sentences a program writes for clerks (reject
 * reasons, notes): English by default, Vietnamese for `--lang vi`. One enum
 * for the whole library, so every module that speaks takes the same value. */
#ifndef CB_LANG_H
#define CB_LANG_H

typedef enum cb_lang { CB_LANG_EN = 0, CB_LANG_VI = 1 } cb_lang;

/* "en" or "vi": 0 with *lang set, else -1 (*lang untouched). */
int cb_lang_parse(const char *s, cb_lang *lang);

#endif
