/* Unit tests for the working-day calendar (lib/vn/calendar.c). Every expected
 * date comes from outside the code: published lunar new years and Giỗ Tổ
 * days, the Labour Code's rules applied by hand, the Government's 2025-2026
 * schedules and the due_date example of FORMS.md. */
#include "calendar.h"
#include "tap.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static cb_date D(int y, int m, int d)
{
    return cb_date_from_ymd(y, m, d);
}

static const char *iso(cb_date day)
{
    static char buf[4][11];
    static int i;
    i = (i + 1) % 4;
    cb_date_format(day, buf[i]);
    return buf[i];
}

static const char *lunar_to_iso(int y, int m, int d, int leap, double tz)
{
    cb_date out;
    if (cb_lunar_to_solar(y, m, d, leap, tz, &out) != 0)
        return "(none)";
    return iso(out);
}

static const char *tet(int lunar_year)
{
    return lunar_to_iso(lunar_year, 1, 1, 0, CB_VN_TZ_HOURS);
}

/* A holidays file in a temporary directory; the path is static storage. */
static const char *write_file(const char *text)
{
    static char path[4][64];
    static int i;
    i = (i + 1) % 4;
    snprintf(path[i], sizeof path[i], "/tmp/cb-holidays-XXXXXX");
    int fd = mkstemp(path[i]);
    if (fd < 0)
        return "/nonexistent";
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len)
        path[i][0] = '\0';
    close(fd);
    return path[i];
}

static int load_text(cb_calendar *cal, const char *text, cb_err *err)
{
    const char *path = write_file(text);
    int rc = cb_calendar_load_file(cal, path, err);
    unlink(path);
    return rc;
}

static void test_lunar(void)
{
    is_str(tet(2025), "2025-01-29", "Tết Ất Tỵ is 29 January 2025");
    is_str(tet(2026), "2026-02-17", "Tết Bính Ngọ is 17 February 2026");
    is_str(tet(2027), "2027-02-06", "Tết Đinh Mùi is 6 February 2027");
    is_str(tet(2024), "2024-02-10", "Tết Giáp Thìn is 10 February 2024");
    is_str(tet(2023), "2023-01-22", "Tết Quý Mão is 22 January 2023");
    is_str(tet(2022), "2022-02-01", "Tết Nhâm Dần is 1 February 2022");
    is_str(tet(2021), "2021-02-12", "Tết Tân Sửu is 12 February 2021");
    is_str(tet(2020), "2020-01-25", "Tết Canh Tý is 25 January 2020");
    /* 2030 is one of the years Vietnam's Tết comes a day before China's:
     * the new moon is late on 2 February at UTC+07:00, early on the 3rd at
     * UTC+08:00. */
    is_str(tet(2030), "2030-02-02", "Tết Canh Tuất is 2 February 2030 in Vietnam");
    is_str(lunar_to_iso(2030, 1, 1, 0, 8.0), "2030-02-03", "Chinese New Year 2030 at UTC+08:00 is 3 February");
    is_str(tet(2033), "2033-01-31", "Tết Quý Sửu is 31 January 2033");

    is_str(lunar_to_iso(1985, 1, 1, 0, 7.0), "1985-01-21", "Tết 1985 at UTC+07:00 is 21 January");
    is_str(lunar_to_iso(1985, 1, 1, 0, 8.0), "1985-02-20", "Chinese New Year 1985 at UTC+08:00 is 20 February");
    is_str(lunar_to_iso(2007, 1, 1, 0, 7.0), "2007-02-17", "Tết 2007 at UTC+07:00 is 17 February");
    is_str(lunar_to_iso(2007, 1, 1, 0, 8.0), "2007-02-18", "Chinese New Year 2007 at UTC+08:00 is 18 February");
    is_str(lunar_to_iso(1968, 1, 1, 0, 7.0), "1968-01-29", "Tết Mậu Thân 1968 at UTC+07:00 is 29 January");
    is_str(lunar_to_iso(1968, 1, 1, 0, 8.0), "1968-01-30", "Chinese New Year 1968 at UTC+08:00 is 30 January");

    is_str(lunar_to_iso(2025, 3, 10, 0, 7.0), "2025-04-07", "Giỗ Tổ 2025 is 7 April");
    is_str(lunar_to_iso(2026, 3, 10, 0, 7.0), "2026-04-26", "Giỗ Tổ 2026 is 26 April");
    is_str(lunar_to_iso(2024, 3, 10, 0, 7.0), "2024-04-18", "Giỗ Tổ 2024 is 18 April");
    is_str(lunar_to_iso(2023, 3, 10, 0, 7.0), "2023-04-29", "Giỗ Tổ 2023, after the leap 2nd month, is 29 April");

    is_str(lunar_to_iso(2025, 6, 1, 1, 7.0), "2025-07-25", "the leap 6th month of 2025 starts 25 July");
    is_str(lunar_to_iso(2025, 6, 1, 0, 7.0), "2025-06-25", "the ordinary 6th month of 2025 starts 25 June");
    is_str(lunar_to_iso(2025, 8, 15, 0, 7.0), "2025-10-06", "Trung thu 2025 is 6 October");
    is_str(lunar_to_iso(2023, 2, 1, 1, 7.0), "2023-03-22", "the leap 2nd month of 2023 starts 22 March");
    is_str(lunar_to_iso(2025, 5, 1, 1, 7.0), "(none)", "2025 has no leap 5th month");
    is_str(lunar_to_iso(2024, 3, 1, 1, 7.0), "(none)", "2024 has no leap month at all");
    is_str(lunar_to_iso(2024, 12, 30, 0, 7.0), "(none)", "the last month of Giáp Thìn has no 30th day");
    is_str(lunar_to_iso(2024, 12, 29, 0, 7.0), "2025-01-28", "29 tháng Chạp Giáp Thìn is 28 January 2025");
    is_str(lunar_to_iso(2025, 13, 1, 0, 7.0), "(none)", "there is no 13th lunar month");

    int y, m, d, leap;
    cb_solar_to_lunar(D(2025, 1, 28), 7.0, &y, &m, &d, &leap);
    ok(y == 2024 && m == 12 && d == 29 && !leap, "28 January 2025 is 29/12 of lunar 2024 (got %d/%d/%d%s)",
       d, m, y, leap ? " leap" : "");
    cb_solar_to_lunar(D(2025, 8, 22), 7.0, &y, &m, &d, &leap);
    ok(y == 2025 && m == 6 && d == 29 && leap, "22 August 2025 is 29/6 leap of lunar 2025 (got %d/%d/%d%s)",
       d, m, y, leap ? " leap" : "");
    cb_solar_to_lunar(D(2025, 10, 6), 7.0, &y, &m, &d, &leap);
    ok(y == 2025 && m == 8 && d == 15 && !leap, "6 October 2025 is 15/8 of lunar 2025 (got %d/%d/%d%s)",
       d, m, y, leap ? " leap" : "");
    cb_solar_to_lunar(D(1985, 1, 21), 8.0, &y, &m, &d, &leap);
    ok(y == 1984 && m == 12 && d == 1, "at UTC+08:00, 21 January 1985 starts the 12th month of 1984 (got %d/%d/%d)",
       d, m, y);

    /* Property: the two conversions are inverse over two centuries. */
    int bad = 0;
    cb_date first_bad = 0;
    for (cb_date day = D(1900, 1, 1); day <= D(2100, 12, 31); day++) {
        cb_date back;
        cb_solar_to_lunar(day, 7.0, &y, &m, &d, &leap);
        if (cb_lunar_to_solar(y, m, d, leap, 7.0, &back) != 0 || back != day) {
            if (bad++ == 0)
                first_bad = day;
        }
    }
    ok(bad == 0, "solar -> lunar -> solar gives the same day for 1900-2100 (%d differ, first %s)", bad,
       bad ? iso(first_bad) : "none");
}

static void test_computed(void)
{
    cb_calendar *cal = cb_calendar_new();
    const char *name = NULL;
    ok(cal != NULL, "a new calendar");
    ok(!cb_calendar_covers_year(cal, 2026), "an empty calendar covers no year");

    /* Tết 2027: 5 Feb (last day of Bính Ngọ) to 9 Feb; 6-7 Feb are a weekend. */
    ok(cb_calendar_is_workday(cal, D(2027, 2, 4)), "Thursday 4/2/2027 is worked");
    for (int day = 5; day <= 11; day++)
        ok(!cb_calendar_is_workday(cal, D(2027, 2, day)), "%d/2/2027 is off (Tết 2027 and its compensation)", day);
    ok(cb_calendar_is_workday(cal, D(2027, 2, 12)), "Friday 12/2/2027 is worked again");
    ok(cb_calendar_holiday_name(cal, D(2027, 2, 10), &name) == 1, "10/2/2027 has a holiday name");
    is_str(name, "Nghỉ bù Tết Nguyên Đán", "10/2/2027 is the compensation for Tết");
    ok(cb_calendar_holiday_name(cal, D(2027, 2, 5), &name) == 1, "5/2/2027 has a holiday name");
    is_str(name, "Tết Nguyên Đán", "5/2/2027, the last day of the lunar year, is Tết");

    /* Giỗ Tổ 2026 falls on Sunday 26 April. */
    ok(!cb_calendar_is_workday(cal, D(2026, 4, 27)), "computed 2026: Monday 27/4 is off for Giỗ Tổ on Sunday");
    ok(cb_calendar_holiday_name(cal, D(2026, 4, 27), &name) == 1, "27/4/2026 has a holiday name");
    is_str(name, "Nghỉ bù Giỗ Tổ Hùng Vương", "27/4/2026 is the compensation for Giỗ Tổ");
    ok(cb_calendar_is_workday(cal, D(2026, 4, 28)), "computed 2026: Tuesday 28/4 is worked");
    ok(!cb_calendar_is_workday(cal, D(2025, 4, 7)), "computed 2025: Monday 7/4 (Giỗ Tổ) is off");

    /* 2 September and its neighbour. */
    ok(!cb_calendar_is_workday(cal, D(2026, 9, 1)), "computed 2026: 2/9 is a Wednesday, so Tuesday 1/9 is off");
    ok(cb_calendar_is_workday(cal, D(2026, 8, 31)), "computed 2026: Monday 31/8 is worked (no decision assumed)");
    ok(cb_calendar_is_workday(cal, D(2026, 9, 3)), "computed 2026: Thursday 3/9 is worked");
    ok(!cb_calendar_is_workday(cal, D(2027, 9, 3)), "computed 2027: 2/9 is a Thursday, so Friday 3/9 is off");
    ok(cb_calendar_is_workday(cal, D(2027, 9, 1)), "computed 2027: Wednesday 1/9 is worked");
    ok(!cb_calendar_is_workday(cal, D(2029, 9, 3)), "computed 2029: 2/9 is a Sunday, so Monday 3/9 is off");
    ok(!cb_calendar_is_workday(cal, D(2029, 9, 4)), "computed 2029: Tuesday 4/9 is off in compensation for Sunday 2/9");
    ok(cb_calendar_is_workday(cal, D(2029, 9, 5)), "computed 2029: Wednesday 5/9 is worked");

    /* 2022: 30/4 Saturday, 1/5 Sunday; the official break was 30/4-3/5. */
    ok(!cb_calendar_is_workday(cal, D(2022, 5, 2)), "computed 2022: Monday 2/5 is off for 30/4 on Saturday");
    ok(!cb_calendar_is_workday(cal, D(2022, 5, 3)), "computed 2022: Tuesday 3/5 is off for 1/5 on Sunday");
    ok(cb_calendar_is_workday(cal, D(2022, 5, 4)), "computed 2022: Wednesday 4/5 is worked");
    ok(!cb_calendar_is_workday(cal, D(2028, 1, 3)), "computed 2028: 1/1 is a Saturday, so Monday 3/1 is off");
    ok(!cb_calendar_is_workday(cal, D(2025, 2, 3)), "computed 2025 (no schedule): Monday 3/2 compensates Tết day Saturday 1/2");

    ok(cb_calendar_is_workday(cal, D(2026, 3, 10)), "an ordinary Tuesday is worked");
    ok(!cb_calendar_is_workday(cal, D(2026, 3, 14)), "an ordinary Saturday is not");
    ok(cb_calendar_holiday_name(cal, D(2026, 3, 14), &name) == 0, "an ordinary Saturday has no holiday name");

    cb_calendar_free(cal);
}

static void test_default(void)
{
    cb_calendar *cal = cb_calendar_new();
    cb_err err = {0};
    const char *name = NULL;
    is_int(cb_calendar_load_default(cal, &err), 0, "the shipped schedules load");
    ok(cb_calendar_covers_year(cal, 2025) && cb_calendar_covers_year(cal, 2026), "they cover 2025 and 2026");
    ok(!cb_calendar_covers_year(cal, 2027), "they do not cover 2027");

    is_str(iso(cb_calendar_add_workdays(cal, D(2026, 2, 12), 4)), "2026-02-25",
           "received Thursday 12/2/2026, 4 working days: due Wednesday 25/2/2026");
    is_str(iso(cb_calendar_add_workdays(cal, D(2026, 2, 12), 1)), "2026-02-13", "the first working day after 12/2/2026 is 13/2");
    is_str(iso(cb_calendar_add_workdays(cal, D(2026, 2, 12), 0)), "2026-02-12", "0 working days is the day itself");
    is_str(iso(cb_calendar_add_workdays(cal, D(2026, 2, 25), -4)), "2026-02-12", "4 working days before 25/2/2026 is 12/2");
    is_str(iso(cb_calendar_add_workdays(cal, D(2026, 2, 14), 1)), "2026-02-23", "received on a Tết day, the first working day is 23/2/2026");
    is_str(iso(cb_calendar_add_workdays(cal, D(2026, 12, 31), 1)), "2027-01-04",
           "31/12/2026 + 1 working day skips New Year 2027 and the weekend");
    is_str(iso(cb_calendar_add_workdays(cal, D(2025, 4, 24), 3)), "2025-04-28",
           "Thursday 24/4/2025 + 3 counts Friday 25, Saturday 26 (worked), due Monday 28/4");

    ok(!cb_calendar_is_workday(cal, D(2025, 5, 2)), "2025: Friday 2/5 is off");
    ok(cb_calendar_is_workday(cal, D(2025, 4, 26)), "2025: Saturday 26/4 is worked");
    for (int i = 0; i < 4; i++) {
        cb_date day = D(2025, 8, 30) + i;
        ok(!cb_calendar_is_workday(cal, day), "2025: %s is off (Quốc khánh)", iso(day));
    }
    ok(cb_calendar_is_workday(cal, D(2025, 9, 3)), "2025: Wednesday 3/9 is worked");
    ok(cb_calendar_is_workday(cal, D(2025, 2, 3)), "2025: Monday 3/2 is worked (the schedule, not the computed rule)");
    ok(!cb_calendar_is_workday(cal, D(2025, 1, 27)), "2025: Monday 27/1 is off (Tết 25/1-2/2)");
    ok(!cb_calendar_is_workday(cal, D(2025, 4, 7)), "2025: Monday 7/4 is off (Giỗ Tổ)");
    ok(!cb_calendar_is_workday(cal, D(2026, 8, 31)), "2026: Monday 31/8 is off");
    ok(cb_calendar_is_workday(cal, D(2026, 8, 22)), "2026: Saturday 22/8 is worked");
    ok(!cb_calendar_is_workday(cal, D(2026, 1, 2)), "2026: Friday 2/1 is off");
    ok(cb_calendar_is_workday(cal, D(2026, 1, 10)), "2026: Saturday 10/1 is worked");
    ok(!cb_calendar_is_workday(cal, D(2026, 4, 27)), "2026: Monday 27/4 is off (Giỗ Tổ on Sunday)");
    ok(cb_calendar_holiday_name(cal, D(2026, 2, 17), &name) == 1, "17/2/2026 has a holiday name");
    is_str(name, "Tết Nguyên Đán", "17/2/2026 is Tết");
    ok(cb_calendar_holiday_name(cal, D(2026, 1, 10), &name) == 0, "a worked Saturday is no holiday");
    ok(!cb_calendar_is_workday(cal, D(2027, 2, 10)), "2027 is still computed: 10/2/2027 is off");

    /* A later file replaces the schedule of the years it covers only. */
    is_int(load_text(cal, "date,kind,name\n2026-02-13,holiday,Extra day\n", &err), 0,
           "a file covering 2026 loads over the default");
    ok(!cb_calendar_is_workday(cal, D(2026, 2, 13)), "its day off is off");
    ok(cb_calendar_is_workday(cal, D(2026, 2, 17)), "the default's 2026 days off are gone");
    ok(!cb_calendar_is_workday(cal, D(2025, 5, 2)), "the default's 2025 stays");

    /* Walking far must agree with asking day by day. */
    struct { cb_date start; int n; } walks[] = {
        {D(2024, 12, 20), 10}, {D(2025, 1, 1), 300}, {D(2025, 6, 1), 2000},
        {D(2030, 3, 3), -700}, {D(2026, 12, 31), 250}, {D(2026, 12, 31), 251},
    };
    for (size_t i = 0; i < sizeof walks / sizeof walks[0]; i++) {
        cb_date d = walks[i].start;
        int step = walks[i].n > 0 ? 1 : -1;
        for (int left = abs(walks[i].n); left > 0;) {
            d += step;
            left -= cb_calendar_is_workday(cal, d);
        }
        is_str(iso(cb_calendar_add_workdays(cal, walks[i].start, walks[i].n)), iso(d),
               "%s %+d working days agrees with counting day by day", iso(walks[i].start), walks[i].n);
    }

    cb_calendar_free(cal);
}

static void test_file_errors(void)
{
    cb_calendar *cal = cb_calendar_new();
    cb_err err = {0};

    is_int(load_text(cal, "\xEF\xBB\xBF" "Date,Kind,Name,note\r\n"
                          "01/01/2031,holiday,\"Tết Dương lịch, 2031\",x\r\n"
                          "\r\n"
                          "2031-01-04,WORKDAY,,\r\n",
                     &err),
           0, "a file with BOM, CRLF, DD/MM/YYYY, quotes, blank line and an extra column loads");
    ok(cb_calendar_covers_year(cal, 2031), "it covers 2031");
    ok(cb_calendar_is_workday(cal, D(2031, 1, 4)), "Saturday 4/1/2031 is worked");
    ok(cb_calendar_is_workday(cal, D(2031, 9, 2)), "2/9/2031 is worked: the file is all of 2031's days off");
    const char *name = NULL;
    cb_calendar_holiday_name(cal, D(2031, 1, 1), &name);
    is_str(name, "Tết Dương lịch, 2031", "the quoted name is kept whole");

    err = (cb_err){0};
    ok(load_text(cal, "date,kind,name\n2032-01-01,holiday,ok\n31/02/2032,holiday,bad\n", &err) < 0,
       "an impossible date is refused");
    ok(strstr(err.msg, ":3: '31/02/2032' is not a date") != NULL, "the error names line 3 and the date: %s", err.msg);
    is_int(err.code, EX_DATAERR, "it is a data error");
    ok(!cb_calendar_covers_year(cal, 2032), "a refused file changes nothing");

    err = (cb_err){0};
    ok(load_text(cal, "date,kind,name\n2032-01-01,holliday,typo\n", &err) < 0, "an unknown kind is refused");
    ok(strstr(err.msg, ":2: kind 'holliday' must be holiday or workday") != NULL, "the error names line 2: %s", err.msg);

    err = (cb_err){0};
    ok(load_text(cal, "2032-01-01,holiday,no header\n", &err) < 0, "a file without header is refused");
    ok(strstr(err.msg, ":1: no header row") != NULL, "the error says the header is missing: %s", err.msg);

    err = (cb_err){0};
    ok(load_text(cal, "day,type\n2032-01-01,holiday\n", &err) < 0, "a header without date column is refused");
    ok(strstr(err.msg, ":1: the header has no `date` column") != NULL, "the error names the column: %s", err.msg);

    err = (cb_err){0};
    ok(load_text(cal, "date,kind,name\n2032-01-01,holiday,a\n2032-04-26,workday,Monday\n", &err) < 0,
       "a workday on a weekday is refused");
    ok(strstr(err.msg, ":3: workday 2032-04-26 is a Monday") != NULL, "the error names line 3: %s", err.msg);

    err = (cb_err){0};
    ok(load_text(cal, "date,kind,name\n2032-01-03,holiday,a\n2032-01-01,holiday,b\n2032-01-03,workday,c\n", &err) < 0,
       "a day both off and worked is refused");
    ok(strstr(err.msg, ":4: 2032-01-03 is a workday here but a holiday on line 2") != NULL,
       "the error names both lines: %s", err.msg);

    err = (cb_err){0};
    ok(load_text(cal, "date,kind,name\n2032-01-01,holiday,\"two\nlines\"\n2032-02-30,holiday,x\n", &err) < 0,
       "a bad date after a two-line quoted name is refused");
    ok(strstr(err.msg, ":4: '2032-02-30'") != NULL, "the error counts the quoted line break: %s", err.msg);

    err = (cb_err){0};
    ok(load_text(cal, "date,kind,name\n2032-01-01,holiday,a \"quoted\" b\n", &err) < 0, "a stray quote is refused");
    ok(strstr(err.msg, ":2: malformed CSV") != NULL, "the error names line 2: %s", err.msg);

    err = (cb_err){0};
    ok(load_text(cal, "date,kind,name\n2032-01-01,holiday,\"open\n", &err) < 0, "an unclosed quote is refused");
    ok(strstr(err.msg, ":2: a quoted field is not closed") != NULL, "the error names line 2: %s", err.msg);

    err = (cb_err){0};
    ok(load_text(cal, "", &err) < 0, "an empty file is refused");
    ok(strstr(err.msg, "empty holidays file") != NULL, "the error says so: %s", err.msg);

    err = (cb_err){0};
    ok(cb_calendar_load_file(cal, "/nonexistent/holidays.csv", &err) < 0, "a missing file is refused");
    is_int(err.code, EX_NOINPUT, "with EX_NOINPUT");
    ok(strstr(err.msg, "/nonexistent/holidays.csv") != NULL, "naming the file: %s", err.msg);

    ok(!cb_calendar_covers_year(cal, 2032), "after all these, 2032 is still computed");
    cb_calendar_free(cal);
}

static void test_speed(void)
{
    cb_calendar *cal = cb_calendar_new();
    cb_err err = {0};
    cb_calendar_load_default(cal, &err);
    const int calls = 1000000;
    cb_date start = D(2025, 1, 1);
    long sum = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < calls; i++)
        sum += cb_calendar_add_workdays(cal, start + i % 730, 3 + i % 2);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / calls;
    printf("# add_workdays: %.0f ns a call over 2025-2026 (checksum %ld)\n", ns, sum);
    ok(ns < 5000, "a million add_workdays calls take under 5 µs each (%.0f ns)", ns);
    cb_calendar_free(cal);
}

int main(void)
{
    test_lunar();
    test_computed();
    test_default();
    test_file_errors();
    test_speed();
    return done_testing();
}
