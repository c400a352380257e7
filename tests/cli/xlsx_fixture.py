"""Workbooks the way clerks make them, written by openpyxl (an independent
writer), for the program tests.

    xlsx_fixture.py form CSV XLSX SORTED_CSV
        CSV's rows as an Excel sheet: two title rows merged across the
        sheet, a blank row, the Vietnamese labels (FORMS.md) as the header
        on row 4; dates as date cells (dd/mm/yyyy), 12-digit identity
        numbers and 10-digit phone numbers as numbers (so Excel drops
        their leading 0), the agency written once and merged down over the
        rows of the same agency (rows sorted by agency, stable; SORTED_CSV
        gets them in that order). Prints how many numbers lost a 0.
    xlsx_fixture.py read XLSX [SHEET]
        Prints a workbook's cells as openpyxl reads them (tab-separated
        rows, dates ISO), with the sheet names, the frozen panes and, for
        each column, whether its cells are text, numbers or dates.
"""
import csv
import datetime
import re
import sys

import openpyxl
from openpyxl.utils import get_column_letter

LABELS = {
    "request_id": "Mã hồ sơ", "form": "Mẫu", "full_name": "Họ và tên", "birth_date": "Ngày sinh",
    "id_number": "Số định danh cá nhân", "id_issue_date": "Ngày cấp", "id_issue_place": "Nơi cấp",
    "position": "Chức vụ", "agency": "Cơ quan, tổ chức quản lý trực tiếp",
    "agency_code": "Mã định danh cơ quan", "org_name": "Tên cơ quan, tổ chức", "org_address": "Địa chỉ",
    "budget_code": "Mã quan hệ ngân sách", "province": "Tỉnh/Thành phố",
    "email": "Địa chỉ thư điện tử công vụ", "phone": "Số điện thoại di động",
    "old_serial": "Số hiệu chứng thư cũ", "device_type": "Loại thiết bị", "carrier": "Nhà mạng",
    "confirmed_by": "Người xác nhận (thủ trưởng cơ quan)", "received_date": "Ngày tiếp nhận",
}
DATES = {"birth_date", "id_issue_date", "received_date"}


def as_date(s):
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(s.strip(), fmt)
        except ValueError:
            pass
    return None


def form(src, dst, sorted_csv):
    rows = list(csv.reader(open(src, encoding="utf-8-sig", newline="")))
    head, body = rows[0], rows[1:]
    ag = head.index("agency")
    body.sort(key=lambda r: r[ag])
    with open(sorted_csv, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([head] + body)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Danh sách"
    last = get_column_letter(len(head))
    ws["A1"] = "DANH SÁCH ĐỀ NGHỊ CẤP, GIA HẠN CHỨNG THƯ SỐ CHUYÊN DÙNG CHÍNH PHỦ"
    ws.merge_cells(f"A1:{last}1")
    ws["A2"] = "(Kèm theo Công văn số 123/SNV-VP của Sở Nội vụ tỉnh Lâm Đồng)"
    ws.merge_cells(f"A2:{last}2")
    for j, name in enumerate(head, 1):
        ws.cell(row=4, column=j, value=LABELS.get(name, name))
    lost = 0
    for i, r in enumerate(body):
        for j, (name, v) in enumerate(zip(head, r), 1):
            cell = ws.cell(row=5 + i, column=j)
            d = as_date(v) if name in DATES else None
            if d is not None:
                cell.value = d
                cell.number_format = "dd/mm/yyyy"
            elif name == "id_number" and re.fullmatch(r"\d{12}", v):
                cell.value = int(v)
                lost += v.startswith("0")
            elif name == "phone" and re.fullmatch(r"0\d{9}", v):
                cell.value = int(v)
                lost += 1
            elif name == "agency" and i > 0 and v == body[i - 1][ag]:
                pass
            else:
                cell.value = v
    start = 0
    for i in range(1, len(body) + 1):
        if i == len(body) or body[i][ag] != body[start][ag]:
            if i - start > 1:
                col = get_column_letter(ag + 1)
                ws.merge_cells(f"{col}{5 + start}:{col}{5 + i - 1}")
            start = i
    wb.save(dst)
    print(lost)


def read(path, sheet=None):
    wb = openpyxl.load_workbook(path)
    print("sheets:", "|".join(wb.sheetnames))
    ws = wb[sheet] if sheet else wb.worksheets[0]
    print("freeze:", ws.freeze_panes)
    kinds = {}
    for row in ws.iter_rows(min_row=2):
        for c in row:
            if c.value is None:
                continue
            k = "date" if isinstance(c.value, datetime.datetime) else "number" if isinstance(c.value, (int, float)) else "text"
            kinds.setdefault(c.column, set()).add(k)
    print("kinds:", " ".join(f"{ws.cell(row=1, column=j).value}={'/'.join(sorted(k))}" for j, k in sorted(kinds.items())))
    for row in ws.iter_rows(values_only=True):
        out = []
        for v in row:
            if isinstance(v, datetime.datetime):
                v = v.date().isoformat()
            out.append("" if v is None else str(v))
        print("\t".join(out))


if __name__ == "__main__":
    if sys.argv[1] == "form":
        form(*sys.argv[2:5])
    else:
        read(*sys.argv[2:4])
