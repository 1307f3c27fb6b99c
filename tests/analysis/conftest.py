import csv
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def cronbach_long_wide():
    """pingouin dataset `cronbach_alpha` (15 subjects x 10 items), pivoted to wide."""
    with (DATA / "cronbach_alpha.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    items = sorted({r["Items"] for r in rows}, key=lambda s: int(s[1:]))
    subjects = sorted({int(r["Subj"]) for r in rows})
    wide = np.full((len(subjects), len(items)), np.nan)
    for r in rows:
        wide[subjects.index(int(r["Subj"])), items.index(r["Items"])] = float(r["Scores"])
    return wide


@pytest.fixture(scope="session")
def cronbach_wide_missing():
    """pingouin dataset `cronbach_wide_missing` (12 x 11 binary, blanks = missing)."""
    with (DATA / "cronbach_wide_missing.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    return np.array([[float(v) if v else np.nan for v in r] for r in rows[1:]])
