/* The working-day calendar of Vietnam, for the legal deadlines (due_date in
 * FORMS.md): which days are worked, and the Nth working day after a date of
 * receipt. For the years a holidays file covers (the Government's yearly
 * schedule, swapped days included) the file is the truth; for other years the
 * public holidays of Bộ luật Lao động 2019 Điều 112 are computed, with their
 * lunar dates found by Hồ Ngọc Đức's astronomical rules for the UTC+07:00
 * meridian and a day off in compensation for each one on a weekend. */
#ifndef CB_CALENDAR_H
#define CB_CALENDAR_H

#include <stddef.h>

#include "cb_err.h"
#include "date.h"

/* The meridian of the Vietnamese lunar calendar; China's is 8.0. */
#define CB_VN_TZ_HOURS 7.0

/* The day of a lunar date (leap != 0 for the leap month of that number).
 * Returns 0, or -1 when no such lunar date exists (month out of 1..12, a
 * day past the month's 29 or 30, a leap month the year does not have). */
int cb_lunar_to_solar(int lunar_year, int lunar_month, int lunar_day, int leap,
                      double tz_hours, cb_date *out);

/* The lunar date of a day. Lunar months 11 and 12 that fall in January or
 * February belong to the previous lunar year. Returns 0. */
int cb_solar_to_lunar(cb_date day, double tz_hours, int *lunar_year, int *lunar_month,
                      int *lunar_day, int *leap);

/* One calendar: loaded schedules plus a cache of the years asked about.
 * Queries fill the cache, so one calendar must not be shared between threads
 * without a lock; give each thread its own. */
typedef struct cb_calendar cb_calendar;

/* An empty calendar: every year computed from the law. NULL when out of
 * memory. */
cb_calendar *cb_calendar_new(void);
void cb_calendar_free(cb_calendar *cal);

/* Loads a holidays file: CSV with a header naming the columns `date`, `kind`
 * and `name` (other columns ignored), one row a day; dates `YYYY-MM-DD` or
 * `DD/MM/YYYY`; kind `holiday` (a day off) or `workday` (a Saturday or Sunday
 * worked). Every year that has a row is "covered": its days off are the
 * weekends and the holiday rows, less the workday rows, nothing computed.
 * The rows of a later load replace those of an earlier one for the years the
 * later one covers. On error the calendar is unchanged and err says
 * `FILE:LINE: what is wrong` (EX_DATAERR; EX_NOINPUT or EX_IOERR when the
 * file cannot be read). Returns 0, or -1. */
int cb_calendar_load_file(cb_calendar *cal, const char *path, cb_err *err);

/* The same from a buffer; label names it in error messages. */
int cb_calendar_load_buffer(cb_calendar *cal, const char *label, const char *text, size_t len,
                            cb_err *err);

/* Loads the official schedules shipped with certbatch (2025 and 2026). */
int cb_calendar_load_default(cb_calendar *cal, cb_err *err);

/* The shipped schedules as a holidays file (lib/vn/holidays_default.c). */
extern const char cb_holidays_default_csv[];

/* 1 when the loaded schedules cover the year, else 0. */
int cb_calendar_covers_year(const cb_calendar *cal, int year);

/* 1 for a working day, 0 for a weekend day or a day off. */
int cb_calendar_is_workday(cb_calendar *cal, cb_date day);

/* The Nth working day after start, start itself not counted (Bộ luật Dân sự
 * 2015 Điều 147): with n = 1, the first working day after start. n = 0 gives
 * start; a negative n counts back, the Nth working day before start.
 * |n| is capped at 1,000,000. */
cb_date cb_calendar_add_workdays(cb_calendar *cal, cb_date start, int n);

/* 1 and *name set (UTF-8, Vietnamese; valid until the calendar is freed or
 * loads again) when the day is off for a reason other than the weekend: a
 * public holiday, a day in compensation, a swapped day, or a weekend day a
 * holidays file lists inside a break. 0 for working days and plain
 * weekends. */
int cb_calendar_holiday_name(cb_calendar *cal, cb_date day, const char **name);

#endif
