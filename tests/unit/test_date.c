/* Unit tests for lib/core/date.c: parsing the two date forms the forms use,
 * calendar validity, weekdays, the UTC+07:00 day boundary, instants before
 * 1970 and after 2049, month arithmetic and "today" with --as-of.
 * Expected day numbers and instants are computed by hand in the comments. */
#include <stdint.h>
#include <string.h>

#include "date.h"
#include "tap.h"

static const char *fmt(cb_date d)
{
    static char buf[11];
    cb_date_format(d, buf);
    return buf;
}

static const char *fmt_vn(cb_date d)
{
    static char buf[11];
    cb_date_format_vn(d, buf);
    return buf;
}

static const char *ifmt(int64_t t)
{
    static char buf[26];
    cb_instant_format(t, buf);
    return buf;
}

/* Parses s; returns the day or INT32_MIN when rejected. */
static cb_date parse(const char *s)
{
    cb_date d = 0;
    return cb_date_parse(s, &d) == 0 ? d : INT32_MIN;
}

int main(void)
{
    /* 2024-01-01T00:00:00Z is 1704067200 s = 19723 days after 1970-01-01. */
    is_int(cb_date_from_ymd(2024, 1, 1), 19723, "2024-01-01 is day 19723");
    is_int(cb_date_from_ymd(1970, 1, 1), 0, "1970-01-01 is day 0");
    is_int(cb_date_from_ymd(1969, 12, 31), -1, "1969-12-31 is day -1");
    int y, m, d;
    cb_date_to_ymd(19723 + 59, &y, &m, &d);   /* Jan 31 days + Feb 28 days in = 29 Feb */
    ok(y == 2024 && m == 2 && d == 29, "day 19782 is 2024-02-29");

    /* Parsing */
    is_int(parse("2024-01-01"), 19723, "ISO date parses");
    is_int(parse("01/01/2024"), 19723, "DD/MM/YYYY parses");
    is_int(parse("1/1/2024"), 19723, "D/M/YYYY parses");
    is_int(parse("  01/01/2024 "), 19723, "surrounding spaces ignored");
    is_int(parse("12/02/2026"), parse("2026-02-12"), "12/02/2026 is 12 February, not 2 December");
    ok(parse("29/02/2024") != INT32_MIN, "29/02/2024 exists (2024 is a leap year)");
    is_int(parse("29/02/2024"), 19723 + 59, "29/02/2024 is day 19782");
    is_int(parse("29/02/2025"), INT32_MIN, "29/02/2025 does not exist");
    is_int(parse("2025-02-29"), INT32_MIN, "2025-02-29 does not exist");
    is_int(parse("29/02/2000"), cb_date_from_ymd(2000, 2, 29), "29/02/2000 exists (divisible by 400)");
    is_int(parse("29/02/1900"), INT32_MIN, "29/02/1900 does not exist (divisible by 100)");
    is_int(parse("31/04/2026"), INT32_MIN, "31/04 does not exist");
    is_int(parse("30/04/2026"), cb_date_from_ymd(2026, 4, 30), "30/04 exists");
    is_int(parse("00/01/2026"), INT32_MIN, "day 0 rejected");
    is_int(parse("01/13/2026"), INT32_MIN, "month 13 rejected");
    is_int(parse("2026-1-05"), INT32_MIN, "ISO needs two-digit month");
    is_int(parse("2026-01-05x"), INT32_MIN, "trailing garbage rejected");
    is_int(parse("01/01/26"), INT32_MIN, "two-digit year rejected");
    is_int(parse("001/01/2026"), INT32_MIN, "three-digit day rejected");
    is_int(parse(""), INT32_MIN, "empty string rejected");
    is_int(parse("2026/01/05"), INT32_MIN, "YYYY/MM/DD rejected");

    /* Formatting */
    is_str(fmt(19723 + 59), "2024-02-29", "ISO format");
    is_str(fmt_vn(19723 + 59), "29/02/2024", "DD/MM/YYYY format");
    is_str(fmt(cb_date_from_ymd(2026, 3, 5)), "2026-03-05", "ISO format pads with zeros");
    is_str(fmt_vn(cb_date_from_ymd(2026, 3, 5)), "05/03/2026", "DD/MM/YYYY format pads with zeros");

    /* Weekdays: 0 Sunday .. 6 Saturday */
    is_int(cb_date_weekday(parse("2026-02-12")), 4, "2026-02-12 is a Thursday");
    is_int(cb_date_weekday(0), 4, "1970-01-01 was a Thursday");
    is_int(cb_date_weekday(-1), 3, "1969-12-31 was a Wednesday");
    is_int(cb_date_weekday(parse("2025-09-02")), 2, "2025-09-02 (National Day) is a Tuesday");
    is_int(cb_date_weekday(parse("2024-02-29")), 4, "2024-02-29 was a Thursday");
    is_int(cb_date_weekday(parse("2050-01-01")), 6, "2050-01-01 is a Saturday");
    is_int(cb_date_weekday(parse("1960-01-01")), 5, "1960-01-01 was a Friday");

    /* Days in month */
    is_int(cb_days_in_month(2024, 2), 29, "February 2024 has 29 days");
    is_int(cb_days_in_month(2100, 2), 28, "February 2100 has 28 days");
    is_int(cb_days_in_month(2026, 4), 30, "April has 30 days");
    is_int(cb_days_in_month(2026, 12), 31, "December has 31 days");

    /* The UTC+07:00 boundary. 2027-01-01T00:00:00Z = 57*365 + 14 leap days
     * = 20819 days = 1798761600 s; minus 7 h = 1798736400 s is
     * 2026-12-31T17:00:00Z, midnight in Vietnam. */
    is_int(cb_date_of_instant(1798736399), parse("2026-12-31"), "2026-12-31T16:59:59Z is 2026-12-31 in Vietnam");
    is_int(cb_date_of_instant(1798736400), parse("2027-01-01"), "2026-12-31T17:00:00Z is 2027-01-01 in Vietnam");
    is_int(parse("2027-01-01"), 20819, "2027-01-01 is day 20819");
    is_int(cb_date_start_instant(20819), 1798736400, "2027-01-01 starts at 1798736400 (17:00Z the day before)");
    is_str(ifmt(1798736399), "2026-12-31T23:59:59+07:00", "instant format, last second of 2026");
    is_str(ifmt(1798736400), "2027-01-01T00:00:00+07:00", "instant format, first second of 2027");
    is_str(ifmt(0), "1970-01-01T07:00:00+07:00", "the epoch is 07:00 in Vietnam");
    is_str(ifmt(1704067200 + 3 * 3600 + 25 * 60 + 9), "2024-01-01T10:25:09+07:00", "hours, minutes, seconds");

    /* Before 1970 */
    is_int(cb_date_of_instant(-1), 0, "1969-12-31T23:59:59Z is 1970-01-01 in Vietnam");
    is_int(cb_date_of_instant(-25200), 0, "-25200 s is 1970-01-01T00:00:00+07:00");
    is_int(cb_date_of_instant(-25201), -1, "-25201 s is still 1969-12-31 in Vietnam");
    is_str(ifmt(-25201), "1969-12-31T23:59:59+07:00", "negative instant formats");
    is_str(ifmt(-1), "1970-01-01T06:59:59+07:00", "one second before the epoch");
    /* 1960-01-01: 10 years, 3 leap days (1960, 1964, 1968) back = -3653 days. */
    is_int(parse("1960-01-01"), -3653, "1960-01-01 is day -3653");
    is_int(cb_date_start_instant(-3653), -315644400, "1960-01-01 starts at -3653*86400 - 25200");
    is_str(ifmt(-315644400), "1960-01-01T00:00:00+07:00", "instant in 1960 formats");
    is_int(cb_date_of_instant(-315644400), -3653, "and its date is 1960-01-01");
    is_int(cb_date_of_instant(-315644401), -3654, "a second earlier is 1959-12-31");

    /* After 2049 (where X.509 switches to GeneralizedTime).
     * 2050-01-01: 80*365 + 20 leap days = 29220 days = 2524608000 s. */
    is_int(parse("2050-01-01"), 29220, "2050-01-01 is day 29220");
    is_str(ifmt(2524608000 - 25200), "2050-01-01T00:00:00+07:00", "2050-01-01 midnight in Vietnam");
    is_int(cb_date_of_instant(2524608000 - 25201), parse("2049-12-31"), "a second earlier is 2049-12-31");
    /* 10000-01-01T00:00:00Z is 253402300800 s. */
    is_str(ifmt(INT64_C(253402300800) - 25201), "9999-12-31T23:59:59+07:00", "the last second of year 9999");
    struct tm tm = {.tm_year = 150, .tm_mon = 0, .tm_mday = 1, .tm_hour = 0, .tm_min = 0, .tm_sec = 0};
    is_int(cb_instant_from_utc_tm(&tm), 2524608000, "2050-01-01T00:00:00Z from struct tm");
    struct tm tm2 = {.tm_year = 126, .tm_mon = 11, .tm_mday = 31, .tm_hour = 16, .tm_min = 59, .tm_sec = 59};
    is_int(cb_instant_from_utc_tm(&tm2), 1798736399, "2026-12-31T16:59:59Z from struct tm");
    struct tm tm3 = {.tm_year = 69, .tm_mon = 11, .tm_mday = 31, .tm_hour = 23, .tm_min = 59, .tm_sec = 59};
    is_int(cb_instant_from_utc_tm(&tm3), -1, "1969-12-31T23:59:59Z from struct tm");

    /* Adding months clamps to the month's length */
    cb_date jan31 = parse("2024-01-31");
    is_str(fmt(cb_date_add_months(jan31, 1)), "2024-02-29", "2024-01-31 + 1 month = 2024-02-29");
    is_str(fmt(cb_date_add_months(jan31, 13)), "2025-02-28", "2024-01-31 + 13 months = 2025-02-28");
    is_str(fmt(cb_date_add_months(jan31, 3)), "2024-04-30", "2024-01-31 + 3 months = 2024-04-30");
    is_str(fmt(cb_date_add_months(jan31, 12)), "2025-01-31", "2024-01-31 + 12 months = 2025-01-31");
    is_str(fmt(cb_date_add_months(jan31, 0)), "2024-01-31", "+ 0 months is the same day");
    is_str(fmt(cb_date_add_months(jan31, -2)), "2023-11-30", "2024-01-31 - 2 months = 2023-11-30");
    is_str(fmt(cb_date_add_months(parse("2024-03-15"), -3)), "2023-12-15", "2024-03-15 - 3 months = 2023-12-15");
    is_str(fmt(cb_date_add_months(parse("2024-02-29"), 24)), "2026-02-28", "2024-02-29 + 24 months = 2026-02-28");
    is_str(fmt(cb_date_add_months(parse("2024-02-29"), 48)), "2028-02-29", "2024-02-29 + 48 months = 2028-02-29");
    is_str(fmt(cb_date_add_months(parse("2026-12-15"), 1)), "2027-01-15", "December + 1 month is January next year");

    /* Today */
    cb_err err = {0};
    cb_date today = 0;
    is_int(cb_today("2026-02-12", &today, &err), 0, "--as-of 2026-02-12 accepted");
    is_int(today, parse("2026-02-12"), "--as-of gives that day");
    is_int(cb_today("12/02/2026", &today, &err), 0, "--as-of 12/02/2026 accepted");
    is_int(today, parse("2026-02-12"), "--as-of in DD/MM/YYYY gives the same day");
    today = 12345;
    is_int(cb_today("2026-02-30", &today, &err), -1, "--as-of 2026-02-30 refused");
    is_int(err.code, EX_USAGE, "a bad --as-of is a usage error (64)");
    ok(strstr(err.msg, "2026-02-30") != NULL, "the message quotes the bad value: %s", err.msg);
    is_int(today, 12345, "a bad --as-of leaves today untouched");
    is_int(cb_today("tomorrow", &today, &err), -1, "--as-of tomorrow refused");
    err = (cb_err){0};
    time_t now = time(NULL);
    is_int(cb_today(NULL, &today, &err), 0, "without --as-of today is the clock's");
    cb_date want = cb_date_of_instant((int64_t)now);
    ok(today == want || today == want + 1, "today without --as-of is the current date in UTC+07:00");
    /* Independent check through the C library with TZ set to UTC+07:00. */
    time_t shifted = now + 7 * 3600;
    struct tm g;
    gmtime_r(&shifted, &g);
    char want_s[11];
    snprintf(want_s, sizeof want_s, "%04u-%02u-%02u", (unsigned)(g.tm_year + 1900) % 10000u,
             (unsigned)(g.tm_mon + 1) % 100u, (unsigned)g.tm_mday % 100u);
    ok(strcmp(fmt(today), want_s) == 0 || today == want + 1, "today agrees with gmtime(now + 7 h): %s", want_s);

    /* cb_instant_parse: epoch seconds computed by hand (date -u -d ... +%s). */
    int64_t t = 0;
    is_int(cb_instant_parse("2026-02-23T09:00:00+07:00", &t), 0, "an instant with +07:00");
    ok(t == 1771812000, "2026-02-23T09:00:00+07:00 is 1771812000 (got %lld)", (long long)t);
    is_int(cb_instant_parse("2026-02-23T02:00:00Z", &t), 0, "an instant in UTC");
    ok(t == 1771812000, "02:00Z is 09:00+07:00");
    is_int(cb_instant_parse("2026-02-23T09:00", &t), 0, "no seconds, no offset: Vietnam time");
    ok(t == 1771812000, "09:00 without an offset is 09:00+07:00");
    is_int(cb_instant_parse("23/02/2026", &t), 0, "a date alone");
    ok(t == 1771779600, "a date alone is 00:00+07:00 that day");
    is_int(cb_instant_parse("2026-02-23T25:00:00+07:00", &t), -1, "hour 25 refused");
    is_int(cb_instant_parse("2026-02-30T09:00:00+07:00", &t), -1, "30 February refused");
    is_int(cb_instant_parse("2026-02-23T09:00:00+07:00x", &t), -1, "trailing text refused");
    char back[32];
    cb_instant_format(1771812000, back);
    is_str(back, "2026-02-23T09:00:00+07:00", "parse and format agree");

    return done_testing();
}
