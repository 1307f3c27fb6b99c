"""Tables of counts that add up: every total is the sum of the rows above it.

A completed response belongs to a household group and a community only through its roster
household; answers that have none (the open link) are no group's or community's row. So
each table lists them on a line of their own, *outside the sample*, before the total, and
the total is the sum of every line shown. A new kind of response outside the rows (e.g.
unverified open-link answers, once the progress document counts them) is one more entry in
:func:`outside_rows`.

Examples
--------
>>> rows = [CountRow("relocated", "棚改货币化安置户", 600, 294, 208, 0.7075)]
>>> table = totals_table(rows, [CountRow("open_link", "", None, None, 40, None, "outside")],
...                      response_rate=0.7075)
>>> [(r.code, r.completed) for r in table]
[('relocated', 208), ('open_link', 40), ('total', 248)]
"""

from __future__ import annotations

from dataclasses import dataclass

from survey_app.services.scores_model import ProgressDocument


@dataclass(frozen=True)
class CountRow:
    """One line: a group or community (``row``), a line outside the sample (``outside``:
    no households or sample of its own) or the ``total``."""

    code: str
    label: str
    households: int | None
    sampled: int | None
    completed: int
    response_rate: float | None
    kind: str = "row"


def outside_rows(progress: ProgressDocument) -> list[CountRow]:
    """Counted responses that belong to no group or community row (labels: the template's)."""
    rows = []
    if progress.completed_open_link:
        rows.append(CountRow("open_link", "", None, None, progress.completed_open_link, None,
                             "outside"))
    return rows


def totals_table(rows: list[CountRow], outside: list[CountRow], *,
                 response_rate: float | None) -> list[CountRow]:
    """``rows``, the ``outside`` lines, and their total (households and sample: rows only)."""
    total = CountRow("total", "", sum(r.households or 0 for r in rows),
                     sum(r.sampled or 0 for r in rows),
                     sum(r.completed for r in rows + outside), response_rate, "total")
    return [*rows, *outside, total]


def progress_tables(progress: ProgressDocument) -> dict[str, list[CountRow]]:
    """The dashboard's two progress tables, by household group and by community."""
    outside = outside_rows(progress)
    return {key: totals_table([CountRow(r.code, r.label, r.households, r.sampled, r.completed,
                                        r.response_rate)
                               for r in getattr(progress, key)], outside,
                              response_rate=progress.response_rate)
            for key in ("groups", "communities")}
