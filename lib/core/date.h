/* Calendar dates and instants in Vietnam time (UTC+07:00, no daylight
 * saving), the way DESIGN.md wants them: dates as day numbers, parsed from
 * `YYYY-MM-DD` or `DD/MM/YYYY`, printed ISO 8601; instants printed as
 * `YYYY-MM-DDTHH:MM:SS+07:00`. */
#ifndef CB_DATE_H
#define CB_DATE_H

#include <stdint.h>
#include <time.h>

#include "cb_err.h"

/* Days since 1970-01-01 in the proleptic Gregorian calendar. */
typedef int32_t cb_date;

#define CB_VN_OFFSET_SECONDS (7 * 3600)

cb_date cb_date_from_ymd(int y, int m, int d);
void cb_date_to_ymd(cb_date day, int *y, int *m, int *d);
int cb_date_is_valid_ymd(int y, int m, int d);
/* 0 = Sunday ... 6 = Saturday */
int cb_date_weekday(cb_date day);
int cb_days_in_month(int y, int m);

/* Accepts `YYYY-MM-DD` and `DD/MM/YYYY` (also `D/M/YYYY`), surrounding
 * spaces ignored; the date must exist. Returns 0, or -1. */
int cb_date_parse(const char *s, cb_date *out);

/* "YYYY-MM-DD" into buf (at least 11 bytes). */
void cb_date_format(cb_date day, char *buf);
/* An instant `YYYY-MM-DDTHH:MM[:SS]` with `+HH:MM`, `-HH:MM` or `Z` (no
 * offset: Vietnam time), or a date alone (either form above), taken as
 * 00:00+07:00 that day. Returns 0, or -1. */
int cb_instant_parse(const char *s, int64_t *out);

/* "DD/MM/YYYY" into buf (at least 11 bytes), as letters print dates. */
void cb_date_format_vn(cb_date day, char *buf);

/* The calendar date in UTC+07:00 of a POSIX instant. */
cb_date cb_date_of_instant(int64_t t);
/* The instant 00:00:00+07:00 of a date. */
int64_t cb_date_start_instant(cb_date day);
/* "YYYY-MM-DDTHH:MM:SS+07:00" into buf (at least 26 bytes). */
void cb_instant_format(int64_t t, char *buf);
/* Seconds since the epoch of a broken-down UTC time (timegm without the
 * time zone machinery). */
int64_t cb_instant_from_utc_tm(const struct tm *tm);

/* Adds calendar months, clamping the day to the month's length
 * (31 Jan + 1 month = 28/29 Feb). */
cb_date cb_date_add_months(cb_date day, int months);

/* "Today" for a program: the --as-of argument when given (NULL otherwise),
 * else the current date in UTC+07:00. */
int cb_today(const char *as_of, cb_date *today, cb_err *err);

#endif
