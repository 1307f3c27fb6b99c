"""Time of ``convert_xlsform`` on an XLSForm at the row limit (5,000 rows: the test form's
questions plus ~4,980 rating items). Run: ``.venv/bin/python benchmarks/bench_xlsform_size.py``."""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from questionnaires.xlsform import convert_xlsform  # noqa: E402
from tests.questionnaires.test_xlsform import (  # noqa: E402
    CHOICES,
    SURVEY,
    SURVEY_HEADER,
    write_workbook,
)


def main() -> None:
    extra = [["select_one sat", f"item_{i}", f"第{i}项是否满意？", f"Item {i}?", None, "yes",
              None, None, "service"] for i in range(4980)]
    survey = [SURVEY_HEADER, *SURVEY[:-1], *extra, SURVEY[-1]]
    with tempfile.TemporaryDirectory() as folder:
        path = write_workbook(Path(folder) / "big.xlsx", {"survey": survey, "choices": CHOICES})
        start = time.perf_counter()
        result = convert_xlsform(path)
        seconds = time.perf_counter() - start
    print(f"rows {len(survey)}  convert {seconds:.2f} s  refusals {len(result.refusals)}  "
          f"converted {result.questionnaire is not None}")


if __name__ == "__main__":
    main()
