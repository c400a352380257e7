/* The working-day calendar of Vietnam: see calendar.h. Three parts: the
 * lunar calendar (Hồ Ngọc Đức's method: mean new moons and solar longitude
 * corrected by the leading terms of Meeus, "Astronomical Algorithms", 1998,
 * with months starting on the civil day of the new moon at the chosen
 * meridian), the holidays file reader (libcsv), and per-year tables of days
 * off built once and then read by a day index, so that add_workdays costs a
 * few array reads per day it walks. */
#include "calendar.h"
#include "atomic.h"

#include <errno.h>

#include <csv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- The lunar calendar ------------------------------------------------ */

/* Julian day number of 1970-01-01, day 0 of cb_date. */
#define JDN_OF_EPOCH 2440588
/* The new moon of 1900-01-01 13:52 UT, k = 0 of the lunation count, and the
 * mean length of a lunation. */
#define NEW_MOON_0 2415021.076998695
#define SYNODIC_MONTH 29.530588853

static const double PI_ = 3.14159265358979323846;

/* Julian date (UT) of the k-th new moon after NEW_MOON_0. */
static double new_moon_jd(int k)
{
    const double dr = PI_ / 180.0;
    double t = k / 1236.85; /* Julian centuries since 1900 January 0.5 */
    double t2 = t * t, t3 = t2 * t;
    double jd = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3 +
                0.00033 * sin((166.56 + 132.87 * t - 0.009173 * t2) * dr);
    double m = 359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3;    /* Sun's anomaly */
    double mp = 306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3; /* Moon's anomaly */
    double f = 21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3;   /* Moon's latitude */
    double c = (0.1734 - 0.000393 * t) * sin(m * dr) + 0.0021 * sin(2 * m * dr) -
               0.4068 * sin(mp * dr) + 0.0161 * sin(2 * mp * dr) - 0.0004 * sin(3 * mp * dr) +
               0.0104 * sin(2 * f * dr) - 0.0051 * sin((m + mp) * dr) -
               0.0074 * sin((m - mp) * dr) + 0.0004 * sin((2 * f + m) * dr) -
               0.0004 * sin((2 * f - m) * dr) - 0.0006 * sin((2 * f + mp) * dr) +
               0.0010 * sin((2 * f - mp) * dr) + 0.0005 * sin((2 * mp + m) * dr);
    /* The correction is computed in dynamical time; delta T brings it to UT. */
    double delta_t = t < -11 ? 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 -
                                   0.000000081 * t * t3
                             : -0.000278 + 0.000265 * t + 0.000262 * t2;
    return jd + c - delta_t;
}

/* Julian day number of the civil day, at the meridian, of the k-th new moon. */
static int new_moon_day(int k, double tz)
{
    return (int)floor(new_moon_jd(k) + 0.5 + tz / 24.0);
}

/* Which twelfth of the ecliptic (0..11, 30° each, 0 from the March equinox)
 * the Sun is in at local midnight starting the civil day jdn. Month 11 is
 * the one holding the winter solstice (sector 9); a month without a major
 * solar term (a sector boundary) is the leap month. */
static int sun_sector(int jdn, double tz)
{
    const double dr = PI_ / 180.0;
    double t = (jdn - 2451545.5 - tz / 24.0) / 36525.0; /* centuries since J2000.0 */
    double t2 = t * t;
    double m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2;
    double l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2;
    double dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * sin(m * dr) +
                (0.019993 - 0.000101 * t) * sin(2 * m * dr) + 0.000290 * sin(3 * m * dr);
    double l = (l0 + dl) * dr;
    l -= 2 * PI_ * floor(l / (2 * PI_));
    int s = (int)floor(l / PI_ * 6);
    return s > 11 ? 11 : s;
}

/* The first day (JDN) of lunar month 11 of solar year yy, the month that
 * holds the winter solstice: the anchor from which a lunar year is counted. */
static int month11_start(int yy, double tz)
{
    int dec31 = (int)cb_date_from_ymd(yy, 12, 31) + JDN_OF_EPOCH;
    int k = (int)floor((dec31 - 2415021) / SYNODIC_MONTH);
    int nm = new_moon_day(k, tz);
    if (sun_sector(nm, tz) >= 9)
        nm = new_moon_day(k - 1, tz);
    return nm;
}

static int lunation_of(int jdn)
{
    return (int)floor((jdn - NEW_MOON_0) / SYNODIC_MONTH + 0.5);
}

/* In a 13-month year starting at month 11 (a11), the position (1..13) of
 * the leap month: the first month with no solar term, i.e. whose start and
 * next month's start see the Sun in the same sector. */
static int leap_month_offset(int a11, double tz)
{
    int k = lunation_of(a11);
    int i = 1;
    int arc = sun_sector(new_moon_day(k + i, tz), tz);
    int last;
    do {
        last = arc;
        i++;
        arc = sun_sector(new_moon_day(k + i, tz), tz);
    } while (arc != last && i < 14);
    return i - 1;
}

int cb_lunar_to_solar(int lunar_year, int lunar_month, int lunar_day, int leap, double tz_hours,
                      cb_date *out)
{
    if (lunar_month < 1 || lunar_month > 12 || lunar_day < 1 || lunar_day > 30)
        return -1;
    int a11, b11;
    if (lunar_month < 11) {
        a11 = month11_start(lunar_year - 1, tz_hours);
        b11 = month11_start(lunar_year, tz_hours);
    } else {
        a11 = month11_start(lunar_year, tz_hours);
        b11 = month11_start(lunar_year + 1, tz_hours);
    }
    int k = lunation_of(a11);
    int off = (lunar_month - 11 + 12) % 12;
    if (b11 - a11 > 365) {
        int leap_off = leap_month_offset(a11, tz_hours);
        /* The leap month repeats the number of the month before it. */
        int leap_month = (leap_off - 2 + 11) % 12 + 1;
        if (leap && lunar_month != leap_month)
            return -1;
        if (leap || off >= leap_off)
            off++;
    } else if (leap) {
        return -1;
    }
    int start = new_moon_day(k + off, tz_hours);
    int next = new_moon_day(k + off + 1, tz_hours);
    if (lunar_day > next - start)
        return -1;
    *out = (cb_date)(start + lunar_day - 1 - JDN_OF_EPOCH);
    return 0;
}

int cb_solar_to_lunar(cb_date day, double tz_hours, int *lunar_year, int *lunar_month,
                      int *lunar_day, int *leap)
{
    int jdn = (int)day + JDN_OF_EPOCH;
    /* The mean lunation is only a first guess: the true new moon can be
     * more than half a day away from it. */
    int k = (int)floor((jdn - NEW_MOON_0) / SYNODIC_MONTH);
    while (new_moon_day(k, tz_hours) > jdn)
        k--;
    while (new_moon_day(k + 1, tz_hours) <= jdn)
        k++;
    int start = new_moon_day(k, tz_hours);

    int y, m, d;
    cb_date_to_ymd(day, &y, &m, &d);
    int a11 = month11_start(y, tz_hours), b11;
    int ly;
    if (a11 >= start) {
        ly = y;
        b11 = a11;
        a11 = month11_start(y - 1, tz_hours);
    } else {
        ly = y + 1;
        b11 = month11_start(y + 1, tz_hours);
    }
    int diff = (start - a11) / 29; /* whole months since month 11 */
    int lm = diff + 11;
    int lp = 0;
    if (b11 - a11 > 365) {
        int leap_off = leap_month_offset(a11, tz_hours);
        if (diff >= leap_off) {
            lm = diff + 10;
            lp = diff == leap_off;
        }
    }
    if (lm > 12)
        lm -= 12;
    if (lm >= 11 && diff < 4)
        ly--;
    *lunar_year = ly;
    *lunar_month = lm;
    *lunar_day = jdn - start + 1;
    *leap = lp;
    return 0;
}

/* ---- Per-year tables ----------------------------------------------------- */

#define CACHE_YEARS 9999 /* years 1..9999, the range cb_date_parse accepts */
#define MAX_WORKDAYS 1000000

struct cal_year {
    int year;
    cb_date jan1;
    int ndays;                 /* 0 marks an unfilled table */
    int nwork;
    unsigned char off[366];    /* 1 = not worked */
    const char *name[366];     /* why a weekday is off; NULL otherwise */
};

struct cal_row {
    cb_date day;
    int workday;
    long line;
    char *name;
};

struct cb_calendar {
    struct cal_row *rows; /* sorted by day, one per day */
    size_t nrows;
    struct cal_year **cache; /* CACHE_YEARS slots, filled on first use */
    struct cal_year *last;   /* the table the previous query used */
    /* Used when a year is outside the cache or its table cannot be
     * allocated: slower, never wrong. */
    struct cal_year scratch;
};

enum { H_NEW_YEAR, H_TET, H_HUNG_KINGS, H_REUNIFICATION, H_LABOUR, H_NATIONAL };

static const char *const holiday_names[] = {
    "Tết Dương lịch", "Tết Nguyên Đán", "Giỗ Tổ Hùng Vương",
    "Ngày Chiến thắng", "Ngày Quốc tế Lao động", "Quốc khánh",
};
static const char *const compensation_names[] = {
    "Nghỉ bù Tết Dương lịch", "Nghỉ bù Tết Nguyên Đán", "Nghỉ bù Giỗ Tổ Hùng Vương",
    "Nghỉ bù Ngày Chiến thắng", "Nghỉ bù Ngày Quốc tế Lao động", "Nghỉ bù Quốc khánh",
};

static int is_weekend(cb_date day)
{
    int w = cb_date_weekday(day);
    return w == 0 || w == 6;
}

static int year_of(cb_date day)
{
    int y, m, d;
    cb_date_to_ymd(day, &y, &m, &d);
    return y;
}

/* First row on or after day. */
static size_t rows_lower_bound(const struct cal_row *rows, size_t n, cb_date day)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rows[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int cb_calendar_covers_year(const cb_calendar *cal, int year)
{
    cb_date jan1 = cb_date_from_ymd(year, 1, 1);
    size_t i = rows_lower_bound(cal->rows, cal->nrows, jan1);
    return i < cal->nrows && cal->rows[i].day < cb_date_from_ymd(year + 1, 1, 1);
}

/* Bộ luật Lao động 2019 Điều 112, and Điều 111 for the compensation days. */
static void fill_law_holidays(struct cal_year *y)
{
    signed char kind[366];
    memset(kind, -1, sizeof kind);
    cb_date days[12];
    int kinds[12], n = 0;

    days[n] = y->jan1, kinds[n++] = H_NEW_YEAR;
    cb_date tet;
    if (cb_lunar_to_solar(y->year, 1, 1, 0, CB_VN_TZ_HOURS, &tet) == 0)
        for (int i = -1; i <= 3; i++)
            days[n] = tet + i, kinds[n++] = H_TET;
    cb_date hung;
    if (cb_lunar_to_solar(y->year, 3, 10, 0, CB_VN_TZ_HOURS, &hung) == 0)
        days[n] = hung, kinds[n++] = H_HUNG_KINGS;
    days[n] = cb_date_from_ymd(y->year, 4, 30), kinds[n++] = H_REUNIFICATION;
    days[n] = cb_date_from_ymd(y->year, 5, 1), kinds[n++] = H_LABOUR;
    cb_date sep2 = cb_date_from_ymd(y->year, 9, 2);
    int w = cb_date_weekday(sep2);
    /* The day the Government's decisions of 2021-2026 added: the one that
     * makes the longer break with the weekend. */
    days[n] = sep2, kinds[n++] = H_NATIONAL;
    days[n] = (w == 1 || w == 4 || w == 0) ? sep2 + 1 : sep2 - 1, kinds[n++] = H_NATIONAL;

    for (int i = 0; i < n; i++) {
        int doy = (int)(days[i] - y->jan1);
        if (doy >= 0 && doy < y->ndays && kind[doy] < 0) {
            kind[doy] = (signed char)kinds[i];
            y->off[doy] = 1;
            y->name[doy] = holiday_names[kinds[i]];
        }
    }
    /* In date order, so that two weekend holidays in a row take the first
     * two free weekdays after them (Tết 2027: 6-7 Feb give 10-11 Feb). */
    for (int doy = 0; doy < y->ndays; doy++) {
        if (kind[doy] < 0 || !is_weekend(y->jan1 + doy))
            continue;
        int j = doy + 1;
        while (j < y->ndays && y->off[j])
            j++;
        if (j < y->ndays) {
            y->off[j] = 1;
            y->name[j] = compensation_names[(int)kind[doy]];
        }
    }
}

static void year_fill(const cb_calendar *cal, int year, struct cal_year *y)
{
    y->year = year;
    y->jan1 = cb_date_from_ymd(year, 1, 1);
    y->ndays = (int)(cb_date_from_ymd(year + 1, 1, 1) - y->jan1);
    for (int i = 0; i < y->ndays; i++) {
        y->off[i] = (unsigned char)is_weekend(y->jan1 + i);
        y->name[i] = NULL;
    }
    size_t i = rows_lower_bound(cal->rows, cal->nrows, y->jan1);
    if (i < cal->nrows && cal->rows[i].day < y->jan1 + y->ndays) {
        for (; i < cal->nrows && cal->rows[i].day < y->jan1 + y->ndays; i++) {
            int doy = (int)(cal->rows[i].day - y->jan1);
            y->off[doy] = (unsigned char)!cal->rows[i].workday;
            y->name[doy] = cal->rows[i].workday ? NULL : cal->rows[i].name;
        }
    } else {
        fill_law_holidays(y);
    }
    y->nwork = 0;
    for (int d = 0; d < y->ndays; d++)
        y->nwork += !y->off[d];
}

static struct cal_year *year_get(cb_calendar *cal, int year)
{
    if (year >= 1 && year <= CACHE_YEARS) {
        struct cal_year **slot = &cal->cache[year - 1];
        if (*slot == NULL) {
            struct cal_year *y = malloc(sizeof *y);
            if (y != NULL) {
                year_fill(cal, year, y);
                *slot = y;
            }
        }
        if (*slot != NULL)
            return *slot;
    }
    if (cal->scratch.ndays == 0 || cal->scratch.year != year)
        year_fill(cal, year, &cal->scratch);
    return &cal->scratch;
}

static struct cal_year *year_for(cb_calendar *cal, cb_date day)
{
    struct cal_year *y = cal->last;
    if (y != NULL && y->ndays > 0 && day >= y->jan1 && day - y->jan1 < y->ndays)
        return y;
    y = year_get(cal, year_of(day));
    cal->last = y;
    return y;
}

static void cache_clear(cb_calendar *cal)
{
    for (int i = 0; i < CACHE_YEARS; i++) {
        free(cal->cache[i]);
        cal->cache[i] = NULL;
    }
    cal->last = NULL;
    cal->scratch.ndays = 0;
}

cb_calendar *cb_calendar_new(void)
{
    cb_calendar *cal = calloc(1, sizeof *cal);
    if (cal == NULL)
        return NULL;
    cal->cache = calloc(CACHE_YEARS, sizeof *cal->cache);
    if (cal->cache == NULL) {
        free(cal);
        return NULL;
    }
    return cal;
}

static void rows_free(struct cal_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(rows[i].name);
    free(rows);
}

void cb_calendar_free(cb_calendar *cal)
{
    if (cal == NULL)
        return;
    cache_clear(cal);
    free(cal->cache);
    rows_free(cal->rows, cal->nrows);
    free(cal);
}

int cb_calendar_is_workday(cb_calendar *cal, cb_date day)
{
    struct cal_year *y = year_for(cal, day);
    return !y->off[day - y->jan1];
}

int cb_calendar_holiday_name(cb_calendar *cal, cb_date day, const char **name)
{
    struct cal_year *y = year_for(cal, day);
    const char *s = y->name[day - y->jan1];
    if (s == NULL)
        return 0;
    if (name != NULL)
        *name = s;
    return 1;
}

cb_date cb_calendar_add_workdays(cb_calendar *cal, cb_date start, int n)
{
    if (n == 0)
        return start;
    /* Keeps the walk (at most ~1.5 million days) inside cb_date's range. */
    if (start > INT32_MAX - 2000000 || start < INT32_MIN + 2000000)
        return start;
    int step = n > 0 ? 1 : -1;
    long left = n > 0 ? (long)n : -(long)n;
    if (left > MAX_WORKDAYS)
        left = MAX_WORKDAYS;
    cb_date d = start;
    struct cal_year *y = year_for(cal, d);
    while (left > 0) {
        d += step;
        if (d < y->jan1 || d - y->jan1 >= y->ndays) {
            y = year_get(cal, y->year + step);
            while (left > y->nwork)
                left -= y->nwork, y = year_get(cal, y->year + step);
            d = step > 0 ? y->jan1 : y->jan1 + y->ndays - 1;
        }
        left -= !y->off[d - y->jan1];
    }
    cal->last = y;
    return d;
}

/* ---- The holidays file ----------------------------------------------------- */

struct loader {
    const char *label;
    cb_err *err;
    int failed;
    long line;     /* the line being fed to the parser */
    long rec_line; /* where the record being parsed started */
    int rec_open;  /* a record has started and not ended */
    int rec_ended; /* a record ended in the line just fed */
    char **fields;
    size_t nfields, capfields;
    int have_header;
    int col_date, col_kind, col_name;
    struct cal_row *rows;
    size_t nrows, caprows;
};

static int load_fail(struct loader *ld, int code, const char *what)
{
    ld->failed = 1;
    return cb_err_set(ld->err, code, "%s: %s", ld->label, what);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

static void on_field(void *s, size_t len, void *data)
{
    struct loader *ld = data;
    if (ld->failed)
        return;
    if (ld->nfields == ld->capfields) {
        size_t cap = ld->capfields ? ld->capfields * 2 : 8;
        char **f = realloc(ld->fields, cap * sizeof *f);
        if (f == NULL) {
            load_fail(ld, EX_SOFTWARE, "out of memory");
            return;
        }
        ld->fields = f;
        ld->capfields = cap;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        load_fail(ld, EX_SOFTWARE, "out of memory");
        return;
    }
    if (len > 0)
        memcpy(copy, s, len);
    copy[len] = '\0';
    ld->fields[ld->nfields++] = copy;
}

static const char *field(struct loader *ld, int col)
{
    return col >= 0 && (size_t)col < ld->nfields ? trim(ld->fields[col]) : "";
}

static const char *const weekday_names[] = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};

static void take_header(struct loader *ld)
{
    cb_date probe;
    ld->col_date = ld->col_kind = ld->col_name = -1;
    for (size_t i = 0; i < ld->nfields; i++) {
        const char *h = trim(ld->fields[i]);
        if (strcasecmp(h, "date") == 0 && ld->col_date < 0)
            ld->col_date = (int)i;
        else if (strcasecmp(h, "kind") == 0 && ld->col_kind < 0)
            ld->col_kind = (int)i;
        else if (strcasecmp(h, "name") == 0 && ld->col_name < 0)
            ld->col_name = (int)i;
    }
    if (ld->col_date >= 0 && ld->col_kind >= 0) {
        ld->have_header = 1;
        return;
    }
    ld->failed = 1;
    if (cb_date_parse(field(ld, 0), &probe) == 0)
        cb_err_set(ld->err, EX_DATAERR,
                   "%s:%ld: no header row; the first line must be `date,kind,name`", ld->label,
                   ld->rec_line);
    else
        cb_err_set(ld->err, EX_DATAERR,
                   "%s:%ld: the header has no `%s` column; it must be `date,kind,name`",
                   ld->label, ld->rec_line, ld->col_date < 0 ? "date" : "kind");
}

static void take_row(struct loader *ld)
{
    const char *ds = field(ld, ld->col_date);
    const char *ks = field(ld, ld->col_kind);
    cb_date day;
    int workday;
    if (*ds == '\0') {
        ld->failed = 1;
        cb_err_set(ld->err, EX_DATAERR, "%s:%ld: the date is empty", ld->label, ld->rec_line);
        return;
    }
    if (cb_date_parse(ds, &day) < 0) {
        ld->failed = 1;
        cb_err_set(ld->err, EX_DATAERR,
                   "%s:%ld: '%.40s' is not a date (want YYYY-MM-DD or DD/MM/YYYY)", ld->label,
                   ld->rec_line, ds);
        return;
    }
    if (strcasecmp(ks, "holiday") == 0) {
        workday = 0;
    } else if (strcasecmp(ks, "workday") == 0) {
        workday = 1;
    } else {
        ld->failed = 1;
        cb_err_set(ld->err, EX_DATAERR, "%s:%ld: kind '%.40s' must be holiday or workday",
                   ld->label, ld->rec_line, ks);
        return;
    }
    if (workday && !is_weekend(day)) {
        char buf[11];
        cb_date_format(day, buf);
        ld->failed = 1;
        cb_err_set(ld->err, EX_DATAERR,
                   "%s:%ld: workday %s is a %s; a workday row names a Saturday or Sunday "
                   "that is worked",
                   ld->label, ld->rec_line, buf, weekday_names[cb_date_weekday(day)]);
        return;
    }
    if (ld->nrows == ld->caprows) {
        size_t cap = ld->caprows ? ld->caprows * 2 : 64;
        struct cal_row *r = realloc(ld->rows, cap * sizeof *r);
        if (r == NULL) {
            load_fail(ld, EX_SOFTWARE, "out of memory");
            return;
        }
        ld->rows = r;
        ld->caprows = cap;
    }
    char *name = strdup(field(ld, ld->col_name));
    if (name == NULL) {
        load_fail(ld, EX_SOFTWARE, "out of memory");
        return;
    }
    ld->rows[ld->nrows++] = (struct cal_row){day, workday, ld->rec_line, name};
}

static void on_record(int c, void *data)
{
    struct loader *ld = data;
    (void)c;
    ld->rec_open = 0;
    ld->rec_ended = 1;
    if (!ld->failed) {
        int blank = 1;
        for (size_t i = 0; i < ld->nfields && blank; i++)
            blank = *trim(ld->fields[i]) == '\0';
        if (!blank) {
            if (ld->have_header)
                take_row(ld);
            else
                take_header(ld);
        }
    }
    for (size_t i = 0; i < ld->nfields; i++)
        free(ld->fields[i]);
    ld->nfields = 0;
}

static int row_cmp(const void *a, const void *b)
{
    const struct cal_row *x = a, *y = b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

/* Sorts the rows and keeps one per day; a day both off and worked is an
 * error naming both lines. */
static int rows_settle(struct loader *ld)
{
    if (ld->nrows > 1)   /* an empty holidays file has no rows at all */
        qsort(ld->rows, ld->nrows, sizeof *ld->rows, row_cmp);
    for (size_t i = 1; i < ld->nrows; i++) {
        const struct cal_row *first = &ld->rows[i - 1], *again = &ld->rows[i];
        if (first->day == again->day && first->workday != again->workday) {
            char buf[11];
            cb_date_format(again->day, buf);
            ld->failed = 1;
            return cb_err_set(ld->err, EX_DATAERR, "%s:%ld: %s is a %s here but a %s on line %ld",
                              ld->label, again->line, buf, again->workday ? "workday" : "holiday",
                              first->workday ? "workday" : "holiday", first->line);
        }
    }
    size_t out = 0;
    for (size_t i = 0; i < ld->nrows; i++) {
        if (out > 0 && ld->rows[out - 1].day == ld->rows[i].day)
            free(ld->rows[i].name);
        else
            ld->rows[out++] = ld->rows[i];
    }
    ld->nrows = out;
    return 0;
}

/* Replaces the calendar's rows for the years the new rows cover. */
static int rows_merge(cb_calendar *cal, struct loader *ld)
{
    struct cal_row *all = malloc((cal->nrows + ld->nrows + 1) * sizeof *all);
    if (all == NULL)
        return load_fail(ld, EX_SOFTWARE, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < cal->nrows; i++) {
        int y = year_of(cal->rows[i].day);
        cb_date jan1 = cb_date_from_ymd(y, 1, 1);
        size_t j = rows_lower_bound(ld->rows, ld->nrows, jan1);
        if (j < ld->nrows && ld->rows[j].day < cb_date_from_ymd(y + 1, 1, 1))
            free(cal->rows[i].name);
        else
            all[n++] = cal->rows[i];
    }
    if (ld->nrows > 0)
        memcpy(all + n, ld->rows, ld->nrows * sizeof *all);
    n += ld->nrows;
    if (n > 1)
        qsort(all, n, sizeof *all, row_cmp);
    free(cal->rows);
    free(ld->rows);
    ld->rows = NULL;
    ld->nrows = 0;
    cal->rows = all;
    cal->nrows = n;
    cache_clear(cal);
    return 0;
}

int cb_calendar_load_buffer(cb_calendar *cal, const char *label, const char *text, size_t len,
                            cb_err *err)
{
    struct loader ld = {.label = label, .err = err};
    struct csv_parser parser;
    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return cb_err_set(err, EX_SOFTWARE, "%s: out of memory", label);

    const char *p = text, *end = text + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    /* Fed a line at a time, so that each record is known by the line it
     * starts on, even when a quoted name spans lines. */
    while (p < end && !ld.failed) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        ld.line++;
        if (!ld.rec_open)
            ld.rec_line = ld.line;
        ld.rec_ended = 0;
        if (csv_parse(&parser, p, n, on_field, on_record, &ld) != n && !ld.failed) {
            ld.failed = 1;
            cb_err_set(err, EX_DATAERR,
                       "%s:%ld: malformed CSV: a quote inside an unquoted field or after a "
                       "closing quote",
                       label, ld.line);
        }
        if (!ld.rec_ended) {
            for (size_t i = 0; i < n && !ld.rec_open; i++)
                ld.rec_open = p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n';
        }
        p += n;
    }
    if (!ld.failed && csv_fini(&parser, on_field, on_record, &ld) != 0 && !ld.failed) {
        ld.failed = 1;
        cb_err_set(err, EX_DATAERR, "%s:%ld: a quoted field is not closed", label,
                   ld.rec_line);
    }
    csv_free(&parser);
    for (size_t i = 0; i < ld.nfields; i++)
        free(ld.fields[i]);
    free(ld.fields);

    if (!ld.failed && !ld.have_header)
        load_fail(&ld, EX_DATAERR, "empty holidays file; the first line must be `date,kind,name`");
    if (!ld.failed)
        rows_settle(&ld);
    if (!ld.failed)
        rows_merge(cal, &ld);
    rows_free(ld.rows, ld.nrows);
    return ld.failed ? -1 : 0;
}

int cb_calendar_load_file(cb_calendar *cal, const char *path, cb_err *err)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return cb_err_sys(err, EX_NOINPUT, "%s: cannot open holidays file", path);
    unsigned char *buf;
    size_t len;
    int rd = cb_read_all(fp, &buf, &len);
    fclose(fp);
    if (rd < 0)
        return cb_err_sys(err, errno == ENOMEM ? EX_SOFTWARE : EX_IOERR, "%s: cannot read holidays file", path);
    int rc = cb_calendar_load_buffer(cal, path, (const char *)buf, len, err);
    free(buf);
    return rc;
}

int cb_calendar_load_default(cb_calendar *cal, cb_err *err)
{
    return cb_calendar_load_buffer(cal, "built-in holidays", cb_holidays_default_csv,
                                   strlen(cb_holidays_default_csv), err);
}
