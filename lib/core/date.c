/* Dates in UTC+07:00: see date.h. Day arithmetic uses Howard Hinnant's
 * days-from-civil algorithm, exact for any year of int range. */
#include "date.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

cb_date cb_date_from_ymd(int y, int m, int d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153u * (unsigned)(m + (m > 2 ? -3 : 9)) + 2u) / 5u + (unsigned)d - 1u;
    const unsigned doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
    return (cb_date)(era * 146097 + (int)doe - 719468);
}

void cb_date_to_ymd(cb_date day, int *y, int *m, int *d)
{
    const int z = day + 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned dd = doy - (153 * mp + 2) / 5 + 1;
    const unsigned mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)yoe + era * 400 + (mm <= 2);
    *m = (int)mm;
    *d = (int)dd;
}

int cb_days_in_month(int y, int m)
{
    static const int len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return len[m - 1];
}

int cb_date_is_valid_ymd(int y, int m, int d)
{
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= cb_days_in_month(y, m);
}

int cb_date_weekday(cb_date day)
{
    /* 1970-01-01 was a Thursday (4). */
    int w = (int)((day % 7 + 7 + 4) % 7);
    return w;
}

static int take_digits(const char **p, int min, int max, int *val)
{
    int n = 0, v = 0;
    while (isdigit((unsigned char)**p) && n < max) {
        v = v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    if (n < min || isdigit((unsigned char)**p))
        return -1;
    *val = v;
    return 0;
}

int cb_date_parse(const char *s, cb_date *out)
{
    int y, m, d;
    const char *p = s;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *q = p;
    while (isdigit((unsigned char)*q))
        q++;
    if (*q == '-' && q - p == 4) {
        if (take_digits(&p, 4, 4, &y) < 0 || *p++ != '-' || take_digits(&p, 2, 2, &m) < 0 ||
            *p++ != '-' || take_digits(&p, 2, 2, &d) < 0)
            return -1;
    } else if (*q == '/') {
        if (take_digits(&p, 1, 2, &d) < 0 || *p++ != '/' || take_digits(&p, 1, 2, &m) < 0 ||
            *p++ != '/' || take_digits(&p, 4, 4, &y) < 0)
            return -1;
    } else {
        return -1;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '\0' || !cb_date_is_valid_ymd(y, m, d))
        return -1;
    *out = cb_date_from_ymd(y, m, d);
    return 0;
}

int cb_instant_parse(const char *s, int64_t *out)
{
    const char *p = s;
    while (*p == ' ' || *p == '\t')
        p++;
    char day[11];
    if (strlen(p) < 10)
        return -1;
    memcpy(day, p, 10);
    day[10] = '\0';
    cb_date d;
    const char *q = p + 10;
    if (strchr(day, '/') != NULL || (*q != 'T' && *q != ' ')) {
        /* a date alone (either form): its first instant in Vietnam */
        if (cb_date_parse(p, &d) < 0)
            return -1;
        *out = cb_date_start_instant(d);
        return 0;
    }
    if (cb_date_parse(day, &d) < 0)
        return -1;
    q++;
    int hh, mm, ss = 0, oh = 7, om = 0, sign = 1;
    if (take_digits(&q, 2, 2, &hh) < 0 || *q++ != ':' || take_digits(&q, 2, 2, &mm) < 0)
        return -1;
    if (*q == ':' && (q++, take_digits(&q, 2, 2, &ss) < 0))
        return -1;
    if (*q == 'Z') {
        oh = 0;
        q++;
    } else if (*q == '+' || *q == '-') {
        sign = *q++ == '-' ? -1 : 1;
        if (take_digits(&q, 2, 2, &oh) < 0 || *q++ != ':' || take_digits(&q, 2, 2, &om) < 0)
            return -1;
    }
    while (*q == ' ' || *q == '\t')
        q++;
    if (*q != '\0' || hh > 23 || mm > 59 || ss > 59 || oh > 14 || om > 59)
        return -1;
    *out = (int64_t)d * 86400 + hh * 3600 + mm * 60 + ss - sign * (oh * 3600 + om * 60);
    return 0;
}

/* Years outside 0..9999 do not fit the formats; the unsigned remainders
 * also tell the compiler each number's width, so -Wformat-truncation (on
 * with -O2 -Wall) sees the buffers are large enough. */
static unsigned year4(int y)
{
    return (unsigned)(y % 10000 + 10000) % 10000u;
}

void cb_date_format(cb_date day, char *buf)
{
    int y, m, d;
    cb_date_to_ymd(day, &y, &m, &d);
    snprintf(buf, 11, "%04u-%02u-%02u", year4(y), (unsigned)m % 100u, (unsigned)d % 100u);
}

void cb_date_format_vn(cb_date day, char *buf)
{
    int y, m, d;
    cb_date_to_ymd(day, &y, &m, &d);
    snprintf(buf, 11, "%02u/%02u/%04u", (unsigned)d % 100u, (unsigned)m % 100u, year4(y));
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

cb_date cb_date_of_instant(int64_t t)
{
    return (cb_date)floor_div(t + CB_VN_OFFSET_SECONDS, 86400);
}

int64_t cb_date_start_instant(cb_date day)
{
    return (int64_t)day * 86400 - CB_VN_OFFSET_SECONDS;
}

void cb_instant_format(int64_t t, char *buf)
{
    int64_t local = t + CB_VN_OFFSET_SECONDS;
    cb_date day = (cb_date)floor_div(local, 86400);
    int64_t sec = local - (int64_t)day * 86400;
    int y, m, d;
    cb_date_to_ymd(day, &y, &m, &d);
    unsigned s = (unsigned)sec % 86400u;
    snprintf(buf, 26, "%04u-%02u-%02uT%02u:%02u:%02u+07:00", year4(y), (unsigned)m % 100u,
             (unsigned)d % 100u, s / 3600u, s / 60u % 60u, s % 60u);
}

int64_t cb_instant_from_utc_tm(const struct tm *tm)
{
    cb_date day = cb_date_from_ymd(tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday);
    return (int64_t)day * 86400 + tm->tm_hour * 3600 + tm->tm_min * 60 + tm->tm_sec;
}

cb_date cb_date_add_months(cb_date day, int months)
{
    int y, m, d;
    cb_date_to_ymd(day, &y, &m, &d);
    int total = y * 12 + (m - 1) + months;
    y = total / 12;
    m = total % 12 + 1;
    int dim = cb_days_in_month(y, m);
    return cb_date_from_ymd(y, m, d > dim ? dim : d);
}

int cb_today(const char *as_of, cb_date *today, cb_err *err)
{
    if (as_of != NULL) {
        if (cb_date_parse(as_of, today) < 0)
            return cb_err_set(err, EX_USAGE, "--as-of: '%s' is not a date (YYYY-MM-DD or DD/MM/YYYY)", as_of);
        return 0;
    }
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
        return cb_err_sys(err, EX_OSERR, "cannot read the clock");
    *today = cb_date_of_instant((int64_t)ts.tv_sec);
    return 0;
}
