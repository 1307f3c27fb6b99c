"""Reading uploaded spreadsheets and text files without letting one take the server down.

Every roster upload or import (CSV/XLSX, admin page and CLI) and every XLSForm import reads
its file through here. A hostile or merely broken file is refused quickly, cheaply and with
a clear Chinese/English message (:class:`FileRefused`), never a traceback:

- **size**: the file itself (:attr:`Limits.max_bytes`), checked before it is read;
- **XLSX, before loading**: the zip's entries from its central directory (how many, and the
  decompressed size of each and of all, so a zip bomb is never inflated) and each sheet's
  ``<dimension>`` (a 2 KB file can declare 1,048,576 × 16,384 cells, which openpyxl's
  read-only reader would pad row by row);
- **while reading**: openpyxl in read-only mode, streamed row by row with the column count
  capped, at most :attr:`Limits.max_rows` non-empty rows, and a wall-clock limit;
- **text**: the encoding detected (UTF-8, UTF-8 with BOM, UTF-16 with BOM, GB18030/GBK),
  and a file in none of them refused with the byte where it fails.

The figures are measured by ``benchmarks/bench_hostile_files.py`` (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import IO, Any

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one kind of file may hold."""

    max_bytes: int = 8 * MB
    max_rows: int = 50_000
    max_columns: int = 64
    max_seconds: float = 10.0
    # Decompressed, from the zip's central directory.
    max_entries: int = 1_000
    max_entry_bytes: int = 40 * MB
    max_total_bytes: int = 64 * MB
    # openpyxl parses the shared strings and styles whole, even in read-only mode.
    max_shared_strings_bytes: int = 16 * MB


ROSTER_LIMITS = Limits()
XLSFORM_LIMITS = Limits(max_bytes=5 * MB, max_rows=5_000, max_columns=256, max_seconds=10.0)


class FileRefused(ValueError):
    """The file was refused before or while reading it; ``str()`` is the message to show."""


def _megabytes(size: int) -> str:
    return f"{size / MB:.1f} MB"


def check_size(size: int, limits: Limits) -> None:
    """Refuse a file larger than ``limits.max_bytes``."""
    if size > limits.max_bytes:
        raise FileRefused(
            f"文件太大（{_megabytes(size)}），上限为 {_megabytes(limits.max_bytes)} / "
            f"the file is too large ({_megabytes(size)}; at most {_megabytes(limits.max_bytes)})")


def read_file(path: str | PathLike[str], limits: Limits) -> bytes:
    """The bytes of a file on disk, its size checked before it is read."""
    check_size(Path(path).stat().st_size, limits)
    return Path(path).read_bytes()


# -- text --------------------------------------------------------------------------------------

_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig", "UTF-8"), (b"\xff\xfe", "utf-16-le", "UTF-16"),
         (b"\xfe\xff", "utf-16-be", "UTF-16"))


def decode_text(data: bytes) -> str:
    """Text of a CSV file: a BOM decides (UTF-8, UTF-16), else UTF-8, else GB18030 (a
    superset of GBK, as Excel and WPS save "CSV" in China). Refused with a clear message
    when the bytes are none of them.

    >>> decode_text("户编号".encode("gbk")), decode_text("\\ufeff户编号".encode("utf-16-le"))
    ('户编号', '户编号')
    """
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            body = data[len(bom):]
            try:
                return body.decode(codec.removesuffix("-sig"))
            except UnicodeDecodeError as exc:
                raise FileRefused(
                    f"文件以 {name} 标记开头，但第 {exc.start + len(bom)} 字节处不是有效的 {name} "
                    f"文本 / the file starts with a {name} byte-order mark but is not valid "
                    f"{name} text (byte {exc.start + len(bom)}: {exc.reason})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if data[:4096].count(b"\x00") > 8:
        raise FileRefused(
            "文件似乎是没有 BOM 标记的 UTF-16 文本，请另存为 UTF-8 CSV / the file looks like "
            "UTF-16 text without a byte-order mark; save it as CSV UTF-8")
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise FileRefused(
            f"文件既不是 UTF-8 也不是 GBK/GB18030 文本（第 {exc.start} 字节），请另存为 UTF-8 CSV "
            f"/ the file is neither UTF-8 nor GBK/GB18030 text (byte {exc.start}); save it as "
            "CSV UTF-8") from None


# -- XLSX --------------------------------------------------------------------------------------

_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?\"")


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.decode():
        number = number * 26 + ord(letter) - 64
    return number


def inspect_xlsx(source: bytes | str | PathLike[str], limits: Limits) -> None:
    """Refuse an XLSX whose zip or declared sheet sizes exceed the limits, before loading it.

    Reads only the central directory and the first 4 KB of each worksheet.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileRefused(f"不是可读取的 .xlsx 文件 / not a readable .xlsx file ({exc})") \
            from None
    with archive:
        entries = archive.infolist()
        _check_entries(entries, limits)
        for entry in entries:
            if entry.filename.startswith("xl/worksheets/") and entry.filename.endswith(".xml"):
                _check_dimension(archive, entry, limits)


# Parsed whole by openpyxl even in read-only mode, so held to a lower cap.
_PARSED_WHOLE = frozenset({"xl/sharedstrings.xml", "xl/styles.xml", "xl/workbook.xml"})


def _check_entries(entries: list[zipfile.ZipInfo], limits: Limits) -> None:
    if len(entries) > limits.max_entries:
        raise FileRefused(f"文件包含 {len(entries)} 个部件，过多 / the workbook has "
                          f"{len(entries)} parts (at most {limits.max_entries})")
    total = sum(entry.file_size for entry in entries)
    caps = [(entry, limits.max_shared_strings_bytes if entry.filename.lower() in _PARSED_WHOLE
             else limits.max_entry_bytes) for entry in entries]
    over = [(entry, cap) for entry, cap in caps if entry.file_size > cap]
    if over or total > limits.max_total_bytes:
        entry, cap = over[0] if over else max(caps, key=lambda pair: pair[0].file_size)
        raise FileRefused(
            f"工作簿解压后过大（共 {_megabytes(total)}，其中 {entry.filename} 为 "
            f"{_megabytes(entry.file_size)}），可能是压缩炸弹 / the workbook is too large "
            f"once decompressed ({_megabytes(total)} in all, {entry.filename} "
            f"{_megabytes(entry.file_size)}; at most {_megabytes(limits.max_total_bytes)} in "
            f"all and {_megabytes(cap)} per part): refused without decompressing it")


def _check_dimension(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limits: Limits) -> None:
    try:
        with archive.open(entry) as stream:
            head = stream.read(4096)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
        raise FileRefused(f"不是可读取的 .xlsx 文件 / not a readable .xlsx file ({exc})") \
            from None
    match = _DIMENSION.search(head)
    if match is None:
        return
    last_column = _column_number(match[3] or match[1])
    last_row = int(match[4] or match[2])
    if last_row > limits.max_rows + 1 or last_column > limits.max_columns:
        declared = (match[0].split(b'"')[1]).decode()
        raise FileRefused(
            f"工作表 {entry.filename} 声明的范围 {declared}（{last_row} 行 × {last_column} 列）"
            f"超过上限（{limits.max_rows} 行、{limits.max_columns} 列） / the sheet "
            f"{entry.filename} declares the range {declared} ({last_row} rows × {last_column} "
            f"columns; at most {limits.max_rows} rows and {limits.max_columns} columns)")


class GuardedRows:
    """The rows of one read-only worksheet, streamed under the limits.

    Offers ``iter_rows(values_only=True)`` like a worksheet. Empty rows are passed through,
    up to row ``2 × max_rows``, and only ``max_rows`` non-empty ones are read; a value beyond
    ``max_columns`` or reading past the deadline refuses the file.
    """

    def __init__(self, sheet: Any, limits: Limits, deadline: float) -> None:
        self.sheet = sheet
        self.title = sheet.title
        self.limits = limits
        self.deadline = deadline

    def iter_rows(self, values_only: bool = True) -> Iterator[tuple[object, ...]]:
        limits = self.limits
        filled = 0
        # No max_col: a row is as wide as its last cell (reset_dimensions), so a value far
        # to the right is seen and refused rather than silently cut off.
        rows = self.sheet.iter_rows(values_only=True)
        for number, row in enumerate(rows, start=1):
            if number % 1000 == 0 and time.monotonic() > self.deadline:
                raise FileRefused(
                    f"读取工作表“{self.title}”超过 {limits.max_seconds:g} 秒 / reading the sheet "
                    f"{self.title!r} took longer than {limits.max_seconds:g} s (row {number})")
            if number > 2 * limits.max_rows:
                # Rows openpyxl fills in up to a far-off row, each costing a step: stop early.
                raise FileRefused(
                    f"工作表“{self.title}”的行号超过 {2 * limits.max_rows} / the sheet "
                    f"{self.title!r} goes beyond row {2 * limits.max_rows} (at most "
                    f"{limits.max_rows} rows are read)")
            if not any(value is not None and value != "" for value in row):
                yield row[:limits.max_columns]
                continue
            filled += 1
            if filled > limits.max_rows + 1:
                raise FileRefused(
                    f"工作表“{self.title}”超过 {limits.max_rows} 行 / the sheet {self.title!r} "
                    f"has more than {limits.max_rows} rows (row {number})")
            if any(value is not None for value in row[limits.max_columns:]):
                raise FileRefused(
                    f"工作表“{self.title}”第 {number} 行超过 {limits.max_columns} 列 / the sheet "
                    f"{self.title!r} has more than {limits.max_columns} columns (row {number})")
            yield row[:limits.max_columns]


class SafeWorkbook:
    """An XLSX opened read-only after :func:`inspect_xlsx`; its sheets as :class:`GuardedRows`.

    Use as a context manager; the wall-clock limit starts when it is opened.
    """

    def __init__(self, source: bytes | str | PathLike[str], limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self._workbook: Any = None

    def __enter__(self) -> SafeWorkbook:
        from openpyxl import load_workbook

        deadline_start = time.monotonic()
        if not isinstance(self.source, bytes):
            check_size(Path(self.source).stat().st_size, self.limits)
        else:
            check_size(len(self.source), self.limits)
        inspect_xlsx(self.source, self.limits)
        stream: IO[bytes] | str | PathLike[str] = (
            io.BytesIO(self.source) if isinstance(self.source, bytes) else self.source)
        try:
            self._workbook = load_workbook(stream, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
            raise FileRefused(f"不是可读取的 .xlsx 文件 / not a readable .xlsx file ({exc})") \
                from None
        self.deadline = deadline_start + self.limits.max_seconds
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._workbook is not None:
            self._workbook.close()

    def sheets(self) -> list[GuardedRows]:
        """Every worksheet (chart sheets left out), in the workbook's order."""
        for sheet in self._workbook.worksheets:
            # Pad rows to what is in them, not to the <dimension> the file declares.
            sheet.reset_dimensions()
        return [GuardedRows(sheet, self.limits, self.deadline)
                for sheet in self._workbook.worksheets]
