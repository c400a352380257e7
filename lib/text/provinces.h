/* The provincial-level units of Vietnam: the 63 former units, the code each
 * used (CCCD digits 1-3 are "0" and that code), and the unit each merged into
 * under Nghị quyết 202/2025/QH15, of which there are 34. The table is the
 * project's copy of lib/data/provinces.csv (test_provinces checks they are
 * equal); validate-form uses it to map the province a clerk typed, old or
 * new, to the current unit. */
#ifndef CB_PROVINCES_H
#define CB_PROVINCES_H

#include <stddef.h>

typedef struct cb_province {
    const char *old_code;   /* two digits, "01".."96" */
    const char *old_name;
    const char *new_code;
    const char *new_name;   /* one of the 34 current units */
} cb_province;

/* Rows of the table, in the order of provinces.csv (63). */
size_t cb_province_count(void);
const cb_province *cb_province_at(size_t i);

/* The name of the current unit (as provinces.csv writes it, e.g.
 * "Lâm Đồng", "Hồ Chí Minh", "Huế") for a current or former unit's name,
 * compared with cb_text_key, with or without a leading "Tỉnh", "Thành phố",
 * "TP." or "TP", with any spacing around a dash ("Bà Rịa-Vũng Tàu"), plus a
 * few spellings in common use ("TP.HCM", "TPHCM", "Đắc Lắc"). A pointer to
 * static storage; NULL when the name is none of them or not UTF-8. */
const char *cb_province_match(const char *name);

/* 1 when code (1..96, the integer value of CCCD digits 1-3) is the code of
 * one of the 63 former units, else 0. */
int cb_cccd_province_valid(int code);

/* The former unit's name for that code ("Lâm Đồng" for 68), or NULL. */
const char *cb_cccd_province_name(int code);

#endif
