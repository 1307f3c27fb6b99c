"""Synthetic rosters for tests: valid 18-digit ID numbers (GB 11643 check digit) and
mobile numbers, as CSV text or XLSX bytes."""

from __future__ import annotations

import io

from survey_app.services.personal_data import id_number_check_char

HEADER_ZH = ["户编号", "类别", "项目", "社区", "街道", "户主姓名", "身份证号", "联系电话", "地址"]
HEADER_EN = ["household_code", "group", "project", "community", "street", "head_name",
             "id_number", "phone", "address"]


def id_number(i: int) -> str:
    first17 = f"430903{1950 + i % 50}{i % 12 + 1:02d}{i % 28 + 1:02d}{i % 1000:03d}"
    return first17 + id_number_check_char(first17)


def phone(i: int) -> str:
    return f"139{i:08d}"


def rows(n: int, *, relocated_share: float = 0.3) -> list[list[str]]:
    out = []
    for i in range(n):
        relocated = i < n * relocated_share
        out.append([f"H{i:05d}", "棚改" if relocated else "租赁补贴",
                    "金银湖棚改项目" if relocated else "", "桃花仑社区" if i % 2 else "会龙山社区",
                    "桃花仑街道", f"王{i}明", id_number(i), phone(i), f"龙岭路{i}号"])
    return out


def csv_text(table: list[list[str]], header: list[str] = HEADER_ZH) -> str:
    lines = [",".join(header)] + [",".join(row) for row in table]
    return "\r\n".join(lines) + "\r\n"


def xlsx_bytes(table: list[list[str]], header: list[str] = HEADER_ZH) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in table:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
