"""Hostile and broken upload files (issue 17, item 3), built in memory or on disk.

Shared by the tests (tests/services/test_hostile_files.py) and the benchmark
(benchmarks/bench_hostile_files.py), so both measure the same files.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from tests.services import rosters

MB = 1024 * 1024


def small_xlsx() -> bytes:
    """A genuine roster workbook of 5 households (openpyxl writes it)."""
    return rosters.xlsx_bytes(rosters.rows(5))


def _rewrite_sheet(data: bytes, change) -> bytes:
    """The workbook with its first sheet's XML passed through ``change``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "xl/worksheets/sheet1.xml":
                content = change(content)
            target.writestr(entry.filename, content)
    return out.getvalue()


def dimension_bomb(workbook: bytes | None = None) -> bytes:
    """A ~5 KB workbook (a roster unless given) whose first sheet declares every cell Excel
    allows (A1:XFD1048576): openpyxl's read-only reader pads each row to it and yields rows
    to the last one declared."""
    def declare_everything(xml: bytes) -> bytes:
        return re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', xml)

    return _rewrite_sheet(workbook or small_xlsx(), declare_everything)


def far_cell_bomb() -> bytes:
    """A workbook without a <dimension> whose one extra cell sits in the last row and
    column: the padding comes from the cell itself."""
    def far_cell(xml: bytes) -> bytes:
        xml = re.sub(rb"<dimension[^>]*/>", b"", xml)
        return xml.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="inlineStr">'
                                            b"<is><t>x</t></is></c></row></sheetData>")

    return _rewrite_sheet(small_xlsx(), far_cell)


def zip_bomb(path: Path, decompressed_mb: int = 200) -> Path:
    """A workbook whose sheet XML inflates to ``decompressed_mb`` MB (a few hundred KB on
    disk): a valid start, then blank padding, written in 1 MB pieces."""
    genuine = zipfile.ZipFile(io.BytesIO(small_xlsx()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for entry in genuine.infolist():
            if entry.filename == "xl/worksheets/sheet1.xml":
                continue
            target.writestr(entry.filename, genuine.read(entry.filename))
        with target.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats'
                        b'.org/spreadsheetml/2006/main"><sheetData>')
            blank = b" " * MB
            for _ in range(decompressed_mb):
                sheet.write(blank)
            sheet.write(b"</sheetData></worksheet>")
    return path


def big_csv(path: Path, megabytes: int = 50) -> Path:
    """A genuine roster CSV (UTF-8) repeated to exactly ``megabytes`` MB (the last line cut)."""
    header, *body = rosters.csv_text(rosters.rows(2000)).splitlines(keepends=True)
    chunk = "".join(body).encode()
    with path.open("wb") as out:
        out.write(header.encode())
        for i in range(megabytes * MB // len(chunk) + 1):
            # Distinct codes, so it is a plausible (if huge) roster.
            out.write(chunk.replace(b"H", f"X{i}-".encode()))
        out.truncate(megabytes * MB)
    return path


def malformed_utf16() -> bytes:
    """A UTF-16 LE roster (BOM) cut in the middle of a character, with a lone surrogate."""
    text = rosters.csv_text(rosters.rows(20))
    return b"\xff\xfe" + text.encode("utf-16-le") + b"\x00\xd8A\x00" + b"\x41"


def malformed_gbk() -> bytes:
    """A GBK roster with bytes that are neither GBK/GB18030 nor UTF-8."""
    text = rosters.csv_text(rosters.rows(20)).encode("gbk")
    return text[:200] + b"\xff\xff\x80" + text[200:]


def utf16_without_bom() -> bytes:
    return rosters.csv_text(rosters.rows(20)).encode("utf-16-le")
