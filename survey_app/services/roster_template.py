"""The roster template offered on the admin roster page: CSV and XLSX with the Chinese
headers the import reads, two example rows (one per household group) and, in the XLSX, a
填写说明 sheet with every accepted value of 类别 and the format of each column.

The examples use 演示 names like the demo data, landlines only (a page or file we serve
never shows a mobile number: tests/security/test_personal_data.py scans for them), and
household codes starting with 示例 so they are recognised (and deleted) before an upload.

>>> template_rows()[0][:4]
['户编号', '类别', '项目', '社区']
>>> sorted(accepted_group_values())
['rental_subsidy', 'relocated']
"""

from __future__ import annotations

import csv
import io

from survey_app.services.formula_safety import neutralise_row
from survey_app.services.roster import COLUMNS, GROUP_VALUES, REQUIRED

COLUMN_NOTES = {
    "household_code": "必填；本次调查内唯一，最多 32 个字母、数字、- 或 _",
    "group": "必填；可填的值见下表",
    "project": "棚改货币化安置户必填（所属棚改项目名称）；租赁补贴户可空",
    "community": "必填",
    "street": "可空",
    "head_name": "可空；只保存脱敏后的形式（如 王**）",
    "id_number": "可空；18 位身份证号（校验位须正确），只保存密钥哈希和脱敏形式",
    "phone": "可空；手机号或带区号的固定电话（0737-4212345、(0737)4212345，分机可写 转801），"
             "多个号码用 ；、, / 或空格分隔，最多 4 个",
    "address": "可空；只保存脱敏后的形式",
}
EXAMPLES = [
    {"household_code": "示例001", "group": "棚改", "project": "金银湖棚改项目",
     "community": "桃花仑社区", "street": "桃花仑街道", "head_name": "演示王某",
     "id_number": "", "phone": "0737-4212345；(0737)4212346", "address": "示例路1号"},
    {"household_code": "示例002", "group": "租赁补贴", "project": "", "community": "会龙山社区",
     "street": "桃花仑街道", "head_name": "演示李某", "id_number": "",
     "phone": "0737-4212347 转801", "address": "示例路2号"},
]


def accepted_group_values(*, chinese_only: bool = False) -> dict[str, list[str]]:
    """The household groups and every value of 类别 that names each; ``chinese_only`` leaves
    out the English codes (still accepted) for a page read in Chinese."""
    values: dict[str, list[str]] = {}
    for text, group in GROUP_VALUES.items():
        if not (chinese_only and text.isascii()):
            values.setdefault(str(group), []).append(text)
    return values


def template_rows() -> list[list[str]]:
    """The header (Chinese names, as the import reads them) and the example rows."""
    header = [names[0] for names in COLUMNS.values()]
    return [header, *([example[key] for key in COLUMNS] for example in EXAMPLES)]


def template_csv() -> bytes:
    """The template as CSV UTF-8 with a BOM (Excel and WPS then read the Chinese)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(neutralise_row(row) for row in template_rows())
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    """The template as XLSX: 名册 (read by the import) and 填写说明 (ignored by it)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "名册"
    for row in template_rows():
        sheet.append(neutralise_row(row))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    notes = workbook.create_sheet("填写说明")
    notes.append(["列名", "也可写作", "说明"])
    for key, names in COLUMNS.items():
        required = "（必填）" if key in REQUIRED else ""
        notes.append([names[0] + required, "、".join(names[1:]), COLUMN_NOTES[key]])
    notes.append([])
    notes.append(["类别可填的值", "住户类别"])
    labels = {"relocated": "棚改货币化安置户", "rental_subsidy": "租赁补贴户"}
    for group, texts in accepted_group_values().items():
        notes.append(["、".join(texts), labels.get(group, group)])
    notes.append([])
    notes.append(["以“示例”开头的两行是填写示例，上传前请删除。"])
    for column, width in zip("ABC", (20, 40, 80), strict=True):
        notes.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
