"""The injection corpus (payloads.txt) and the checks every page and export must pass."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile
from pathlib import Path

from tests.security.conftest import html_elements

PAYLOAD_FILE = Path(__file__).with_name("payloads.txt")
# Escapes at the start of a line in payloads.txt for characters a text line cannot hold.
LINE_ESCAPES = {"\\t": "\t", "\\r": "\r", "\\0": "\0"}
# Template payloads whose evaluated result would be unmistakable.
EVALUATED = {"{{ 12345*3 }}": "37035", "{% print(11111*7) %}": "77777",
             "${{ 4321*9 }}": "38889", "{% for x in range(3) %}loop{% endfor %}": "looploop"}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Elements our templates never produce; if one appears, it came from a payload.
FOREIGN_TAGS = {
    "iframe", "frame", "frameset", "object", "embed", "applet", "base", "style", "math",
    "mglyph", "maction", "mtext", "animate", "set", "use", "video", "audio", "source",
    "details", "marquee", "keygen", "isindex", "template", "noscript", "x", "xss", "ſcript",
}
URL_SCHEMES_FORBIDDEN = ("javascript:", "vbscript:", "data:text", "data:application")


def load_payloads() -> list[str]:
    payloads = []
    for line in PAYLOAD_FILE.read_text(encoding="utf-8").split("\n"):
        if not line:
            continue
        for escape, char in LINE_ESCAPES.items():
            if line.startswith(escape):
                line = char + line[len(escape):]
        payloads.append(line)
    return payloads


def _field_manifest(values: dict) -> bool:
    """The offline interviewer page's web app manifest (issue 22), served by the app."""
    return values.get("rel") == "manifest" and re.fullmatch(
        r"/entry/[\w-]+/field/app\.webmanifest", values.get("href") or "") is not None


def html_problems(page: str, where: str) -> list[str]:
    """Elements or attributes in ``page`` that no template of ours produces."""
    problems = []
    for tag, attrs in html_elements(page):
        values = dict(attrs)
        if tag in FOREIGN_TAGS:
            problems.append(f"{where}: <{tag}> element")
        if tag == "script" and not (values.get("src") or "").startswith("/static/"):
            problems.append(f"{where}: <script> not from /static/: {attrs}")
        if tag == "svg" and values.get("class") not in ("chart", "qr"):  # charts, QR codes
            problems.append(f"{where}: <svg> that is not one of our charts")
        if tag == "img" and not (values.get("src") or "").startswith(("/static/",
                                                                        "data:image/png")):
            problems.append(f"{where}: <img> with src {values.get('src')!r}")
        if tag == "link" and not (values.get("href") or "").startswith("/static/") \
                and not _field_manifest(values):
            problems.append(f"{where}: <link> to {values.get('href')!r}")
        if tag == "meta" and "http-equiv" in values:
            problems.append(f"{where}: <meta http-equiv>")
        for name, value in attrs:
            if name.startswith("on"):
                problems.append(f"{where}: event handler {name}= on <{tag}>")
            if name in ("srcdoc", "formaction", "xlink:href"):
                problems.append(f"{where}: {name}= on <{tag}>")
            squashed = "".join((value or "").split()).lower()
            if squashed.startswith(URL_SCHEMES_FORBIDDEN):
                problems.append(f"{where}: {name}={value!r} on <{tag}>")
            if name == "style" and ("expression(" in squashed or "url(" in squashed):
                problems.append(f"{where}: style={value!r}")
    return problems


def evaluated_templates(text: str, where: str) -> list[str]:
    return [f"{where}: template {payload!r} evaluated to {result}"
            for payload, result in EVALUATED.items() if result in text]


def csv_problems(data: bytes, where: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    problems = [f"{where}: cell {cell!r} starts a formula" for row in rows for cell in row
                if cell.startswith(FORMULA_PREFIXES) and not _is_number(cell)]
    return problems, rows


def xlsx_problems(data: bytes, where: str) -> tuple[list[str], list[str]]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data))
    problems, texts = [], []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    problems.append(f"{where}: {sheet.title}!{cell.coordinate} is a formula "
                                    f"{cell.value!r}")
                elif isinstance(cell.value, str):
                    texts.append(cell.value)
                    if cell.value.startswith(FORMULA_PREFIXES):
                        problems.append(f"{where}: {sheet.title}!{cell.coordinate} starts a "
                                        f"formula {cell.value!r}")
    return problems, texts


def docx_text(data: bytes) -> str:
    # The document's XML is enough to look for evaluated templates and personal data.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "".join(archive.read(name).decode("utf-8", "replace")
                       for name in archive.namelist() if name.endswith(".xml"))


def page_text(page: str) -> str:
    return html.unescape(page)


def json_text(data: bytes) -> str:
    return json.dumps(json.loads(data), ensure_ascii=False)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
