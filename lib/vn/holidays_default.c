/* The holidays file certbatch ships: the Government's official schedules of
 * days off and swapped working days for 2025 and 2026 (FORMS.md, "Public
 * holidays"), for the state sector whose deadlines certbatch computes. It is
 * kept as CSV text, read by the same code as a user's --holidays file, so
 * the shipped data cannot drift from the format users write. Weekend days
 * inside an announced break are listed too, so a clerk asking why a due date
 * moved gets the break's name. When a new year's decision is published, add
 * its rows here (and in FORMS.md); until then that year is computed from the
 * Labour Code.
 *
 * Sources: 2025 — Tết 25/1–2/2, Giỗ Tổ 7/4, 30/4–4/5 with Friday 2/5 off
 * and Saturday 26/4 worked, Quốc khánh 30/8–2/9. 2026 — Tết Dương lịch
 * 1/1–4/1 with Friday 2/1 off and Saturday 10/1 worked (the Government's
 * agreement of 25/12/2025), Tết 14/2–22/2, Giỗ Tổ on Sunday 26/4 so Monday
 * 27/4 off (Labour Code Điều 111), 30/4 and 1/5, Quốc khánh 29/8–2/9 with
 * Monday 31/8 off and Saturday 22/8 worked. */
#include "calendar.h"

const char cb_holidays_default_csv[] =
    "date,kind,name\n"
    "2025-01-01,holiday,Tết Dương lịch\n"
    "2025-01-25,holiday,Tết Nguyên Đán\n"
    "2025-01-26,holiday,Tết Nguyên Đán\n"
    "2025-01-27,holiday,Tết Nguyên Đán\n"
    "2025-01-28,holiday,Tết Nguyên Đán\n"
    "2025-01-29,holiday,Tết Nguyên Đán\n"
    "2025-01-30,holiday,Tết Nguyên Đán\n"
    "2025-01-31,holiday,Tết Nguyên Đán\n"
    "2025-02-01,holiday,Tết Nguyên Đán\n"
    "2025-02-02,holiday,Tết Nguyên Đán\n"
    "2025-04-07,holiday,Giỗ Tổ Hùng Vương\n"
    "2025-04-26,workday,Làm bù cho thứ Sáu 02/05/2025\n"
    "2025-04-30,holiday,Ngày Chiến thắng\n"
    "2025-05-01,holiday,Ngày Quốc tế Lao động\n"
    "2025-05-02,holiday,Nghỉ hoán đổi (làm bù thứ Bảy 26/04/2025)\n"
    "2025-05-03,holiday,Nghỉ lễ 30/4 và 1/5\n"
    "2025-05-04,holiday,Nghỉ lễ 30/4 và 1/5\n"
    "2025-08-30,holiday,Nghỉ lễ Quốc khánh\n"
    "2025-08-31,holiday,Nghỉ lễ Quốc khánh\n"
    "2025-09-01,holiday,Quốc khánh\n"
    "2025-09-02,holiday,Quốc khánh\n"
    "2026-01-01,holiday,Tết Dương lịch\n"
    "2026-01-02,holiday,Nghỉ hoán đổi (làm bù thứ Bảy 10/01/2026)\n"
    "2026-01-03,holiday,Nghỉ Tết Dương lịch\n"
    "2026-01-04,holiday,Nghỉ Tết Dương lịch\n"
    "2026-01-10,workday,Làm bù cho thứ Sáu 02/01/2026\n"
    "2026-02-14,holiday,Tết Nguyên Đán\n"
    "2026-02-15,holiday,Tết Nguyên Đán\n"
    "2026-02-16,holiday,Tết Nguyên Đán\n"
    "2026-02-17,holiday,Tết Nguyên Đán\n"
    "2026-02-18,holiday,Tết Nguyên Đán\n"
    "2026-02-19,holiday,Tết Nguyên Đán\n"
    "2026-02-20,holiday,Tết Nguyên Đán\n"
    "2026-02-21,holiday,Tết Nguyên Đán\n"
    "2026-02-22,holiday,Tết Nguyên Đán\n"
    "2026-04-26,holiday,Giỗ Tổ Hùng Vương\n"
    "2026-04-27,holiday,Nghỉ bù Giỗ Tổ Hùng Vương\n"
    "2026-04-30,holiday,Ngày Chiến thắng\n"
    "2026-05-01,holiday,Ngày Quốc tế Lao động\n"
    "2026-08-22,workday,Làm bù cho thứ Hai 31/08/2026\n"
    "2026-08-29,holiday,Nghỉ lễ Quốc khánh\n"
    "2026-08-30,holiday,Nghỉ lễ Quốc khánh\n"
    "2026-08-31,holiday,Nghỉ hoán đổi (làm bù thứ Bảy 22/08/2026)\n"
    "2026-09-01,holiday,Quốc khánh\n"
    "2026-09-02,holiday,Quốc khánh\n";
