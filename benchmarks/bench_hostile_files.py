"""Hostile and broken upload files: how long the refusal takes and how much memory it costs.

The files are built first (tests/services/hostile_files.py). Each case then runs in a
fresh interpreter (``--case NAME DIR``), which loads the small files into memory as an
upload's body would be (the big ones are read from disk by the CLI path), resets the
process's peak-RSS mark (``/proc/self/clear_refs``), reads the file the way the upload and
the CLI do (``roster_files.read_roster_file`` / ``read_roster_path``, ``convert_xlsform``), and
reports the wall-clock time of the read and the peak RSS growth over the RSS before it
(``VmHWM`` − ``VmRSS`` from ``/proc/self/status``). Goals (issue 17): refused in < 5 s,
RSS growth < 200 MB.

Usage: .venv/bin/python benchmarks/bench_hostile_files.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = ("roster-dimension-bomb", "roster-far-cell", "roster-zip-bomb", "roster-csv-50mb",
         "roster-utf16-malformed", "roster-gbk-malformed", "xlsform-dimension-bomb",
         "xlsform-zip-bomb", "roster-genuine-10000-rows")


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def build_files(folder: Path) -> None:
    """Write every case's file into ``folder`` (in this process, not the measuring one)."""
    from tests.questionnaires.test_xlsform import CHOICES, SURVEY, SURVEY_HEADER, write_workbook
    from tests.services import hostile_files, rosters

    (folder / "roster-dimension-bomb.xlsx").write_bytes(hostile_files.dimension_bomb())
    (folder / "roster-far-cell.xlsx").write_bytes(hostile_files.far_cell_bomb())
    hostile_files.zip_bomb(folder / "roster-zip-bomb.xlsx")
    hostile_files.big_csv(folder / "roster-csv-50mb.csv", megabytes=50)
    (folder / "roster-utf16-malformed.csv").write_bytes(hostile_files.malformed_utf16())
    (folder / "roster-gbk-malformed.csv").write_bytes(hostile_files.malformed_gbk())
    (folder / "roster-genuine-10000-rows.xlsx").write_bytes(
        rosters.xlsx_bytes(rosters.rows(10_000)))
    form = write_workbook(folder / "form.xlsx", {"survey": [SURVEY_HEADER, *SURVEY],
                                                 "choices": CHOICES})
    (folder / "xlsform-dimension-bomb.xlsx").write_bytes(
        hostile_files.dimension_bomb(form.read_bytes()))
    hostile_files.zip_bomb(folder / "xlsform-zip-bomb.xlsx")


def run_case(case: str, folder: Path) -> dict[str, object]:
    """Read one case's file as the upload (bytes in memory) or the import (a path) does."""
    from questionnaires.xlsform import convert_xlsform
    from survey_app.services import roster, roster_files

    path = next(folder.glob(f"{case}.*"))
    if case.startswith("xlsform"):
        def read():
            return convert_xlsform(path)
    elif path.stat().st_size > 8 * 2**20 or "zip-bomb" in case:
        def read():
            return roster_files.read_roster_path(str(path))
    else:
        data = path.read_bytes()  # the upload's body, already in the server's memory

        def read():
            return roster_files.read_roster_file(path.name, data)
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_kb("VmRSS")
    start = time.perf_counter()
    try:
        result = read()
        outcome = (f"{len(result)} rows read" if isinstance(result, list)
                   else "; ".join(str(p) for p in result.problems))
    except roster.RosterImportError as exc:
        outcome = str(exc.problems[0])
    seconds = time.perf_counter() - start
    growth_mb = (_status_kb("VmHWM") - before) / 1024
    english = outcome.rpartition(" / ")[2]
    return {"case": case, "seconds": seconds, "rss_growth_mb": growth_mb,
            "outcome": english[:110]}


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--case":
        print(json.dumps(run_case(sys.argv[2], Path(sys.argv[3])), ensure_ascii=False))
        return
    folder = Path(tempfile.mkdtemp(prefix="hostile-files-"))
    build_files(folder)
    print("| case | seconds | peak RSS growth (MB) | outcome |")
    print("|---|---:|---:|---|")
    for case in CASES:
        done = subprocess.run([sys.executable, __file__, "--case", case, str(folder)],
                              capture_output=True, text=True, check=True, cwd=ROOT)
        row = json.loads(done.stdout)
        print(f"| {row['case']} | {row['seconds']:.3f} | {row['rss_growth_mb']:.1f} | "
              f"{row['outcome']} |", flush=True)
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
