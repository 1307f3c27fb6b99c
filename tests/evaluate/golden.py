"""Golden files of the generated documents for the demo campaign, and how to rewrite them.

The demo data may be regenerated (``survey_app/services/demo.py``); then the golden files
are rewritten on purpose, read, and committed:

    SURVEY_REWRITE_GOLDEN=1 .venv/bin/pytest tests/evaluate -k golden -p no:xdist

With the variable set, a golden test writes what the code produces and passes; without it,
it compares. Both backends produce the same documents, so either run may rewrite them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def rewriting() -> bool:
    return os.environ.get("SURVEY_REWRITE_GOLDEN") == "1"


def check_text(name: str, actual: str) -> None:
    path = GOLDEN / name
    if rewriting():
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    assert actual.splitlines() == expected.splitlines(), (
        f"{name} differs from the golden file; if the change is intended, rewrite it "
        "(see tests/evaluate/golden.py)")


def check_json(name: str, actual) -> None:
    path = GOLDEN / name
    if rewriting():
        path.write_text(json.dumps(actual, ensure_ascii=False, indent=1) + "\n",
                        encoding="utf-8")
        return
    assert actual == json.loads(path.read_text(encoding="utf-8")), (
        f"{name} differs from the golden file; if the change is intended, rewrite it "
        "(see tests/evaluate/golden.py)")
