"""The region hierarchy: import of administrative units from CSV, subtree queries, and the
unit a campaign belongs to.

A unit file has one row per unit: its code (GB/T 2260, six digits for a province, city or
county; nine for a street/township and twelve for a community, as the statistical division
codes), its name and its parent's code (empty for a province). The level follows from the
code: ``xx0000`` a province, ``xxxx00`` a city, other six-digit codes a county. A child's
code must begin with its parent's significant digits (430903 under 430900 under 430000).
The import is all or nothing: every row is checked first, and a file with any bad row is
refused with (row, column, reason) for each. A unit already present keeps its place (a
row may rename it; moving it under another parent is refused), so importing the same file
twice changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlmodel import Session, col, select

from survey_app.models import Campaign, Unit, UnitLevel, User
from survey_app.services import audit
from survey_app.services.roster import RowProblem
from survey_app.services.roster_files import decode_csv_bytes

#: Accepted headers (lower case) for each column.
HEADERS = {
    "code": ("code", "代码", "区划代码", "行政区划代码"),
    "name": ("name", "名称", "区划名称"),
    "parent": ("parent", "parent_code", "上级代码", "上级区划代码"),
}
LEVEL_ORDER = (UnitLevel.PROVINCE, UnitLevel.CITY, UnitLevel.COUNTY, UnitLevel.STREET,
               UnitLevel.COMMUNITY)
LEVEL_LABELS = {UnitLevel.PROVINCE: "省", UnitLevel.CITY: "市", UnitLevel.COUNTY: "县（区）",
                UnitLevel.STREET: "街道（乡镇）", UnitLevel.COMMUNITY: "社区（村）"}
MAX_UNITS_PER_FILE = 100_000
_CODE = re.compile(r"^(\d{6}|\d{9}|\d{12})$")


class UnitImportError(ValueError):
    """The unit file was refused; nothing was written. ``problems`` lists every reason."""

    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        shown = "\n".join(str(p) for p in problems[:50])
        super().__init__(_("unit file rejected, nothing imported (%(n)s problems):",
                           n=len(problems)) + f"\n{shown}")


@dataclass(frozen=True)
class UnitRow:
    row: int
    code: str
    name: str
    parent: str


@dataclass
class UnitImportResult:
    created: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    unchanged: int = 0


def level_of(code: str) -> UnitLevel | None:
    """The level a GB/T 2260 (or statistical division) code names; None if malformed.

    >>> [str(level_of(c)) for c in ("430000", "430900", "430903", "430903001", "43")]
    ['province', 'city', 'county', 'street', 'None']
    """
    if not _CODE.match(code or ""):
        return None
    if len(code) == 12:
        return UnitLevel.COMMUNITY
    if len(code) == 9:
        return UnitLevel.STREET
    if code.endswith("0000"):
        return UnitLevel.PROVINCE
    return UnitLevel.CITY if code.endswith("00") else UnitLevel.COUNTY


def significant_prefix(code: str) -> str:
    """The digits a child's code starts with: 430000 → 43, 430900 → 4309, 430903 → 430903.

    >>> significant_prefix("430000"), significant_prefix("430900"), significant_prefix("430903")
    ('43', '4309', '430903')
    """
    level = level_of(code)
    if level == UnitLevel.PROVINCE:
        return code[:2]
    if level == UnitLevel.CITY:
        return code[:4]
    return code


def read_unit_csv(data: bytes) -> list[UnitRow]:
    """Rows of a unit CSV (UTF-8, UTF-8 with BOM, UTF-16, GBK); header row required."""
    try:
        text = decode_csv_bytes(data)
    except ValueError as exc:
        raise UnitImportError([RowProblem(0, _("file"), str(exc))]) from None
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = next(reader, None) or []
    index = {}
    for position, name in enumerate(header):
        for key, names in HEADERS.items():
            if name.strip().lower() in names:
                index[key] = position
    missing = [key for key in ("code", "name") if key not in index]
    if missing:
        raise UnitImportError([RowProblem(1, key, _("missing column")) for key in missing])
    rows = []
    for number, cells in enumerate(reader, start=2):
        if number > MAX_UNITS_PER_FILE + 1:
            raise UnitImportError([RowProblem(number, _("file"), _("too many rows"))])
        if not any(c.strip() for c in cells):
            continue

        def cell(key: str, cells=cells) -> str:
            at = index.get(key)
            return cells[at].strip() if at is not None and at < len(cells) else ""

        rows.append(UnitRow(number, cell("code"), cell("name"), cell("parent")))
    return rows


def _may_contain(parent: str, parent_level: str, code: str, level: str) -> bool:
    """Whether ``parent`` can hold ``code``: a higher level whose significant digits
    begin the code; a street's parent is the county of its first six digits, a
    community's the street of its first nine."""
    if level == UnitLevel.STREET:
        return parent == code[:6] and parent_level == UnitLevel.COUNTY
    if level == UnitLevel.COMMUNITY:
        return parent == code[:9] and parent_level == UnitLevel.STREET
    return (LEVEL_ORDER.index(parent_level) < LEVEL_ORDER.index(level)
            and code.startswith(significant_prefix(parent)))


def _row_problems(row: UnitRow, known: dict[str, tuple[str, str]],
                  seen: dict[str, int]) -> list[RowProblem]:
    """Problems of one row; ``known`` code -> (level, parent code) of the database and the
    file, ``seen`` code -> first row in the file."""
    level = level_of(row.code)
    if level is None:
        return [RowProblem(row.row, "code", _("not a 6, 9 or 12 digit region code"))]
    problems = []
    if row.code in seen:
        problems.append(RowProblem(row.row, "code", _("code %(code)s repeats row %(first)s",
                                                      code=row.code, first=seen[row.code])))
    if not row.name or len(row.name) > 100:
        problems.append(RowProblem(row.row, "name", _("a name of 1 to 100 characters")))
    if level == UnitLevel.PROVINCE:
        if row.parent:
            problems.append(RowProblem(row.row, "parent", _("a province has no parent")))
        return problems
    parent = known.get(row.parent)
    if parent is None:
        problems.append(RowProblem(row.row, "parent", _(
            "parent %(code)s is neither in the file nor already imported", code=row.parent)))
    elif not _may_contain(row.parent, parent[0], row.code, level):
        problems.append(RowProblem(row.row, "parent", _(
            "%(code)s cannot lie under %(parent)s", code=row.code, parent=row.parent)))
    return problems


def check_unit_rows(rows: list[UnitRow], *, session: Session) -> list[RowProblem]:
    """Every problem of the file, against the units already imported."""
    existing = {u.code: u for u in session.exec(select(Unit)).all()}
    parents = {u.id: u.code for u in existing.values()}
    known = {code: (u.level, parents.get(u.parent_id, "")) for code, u in existing.items()}
    for row in rows:
        level = level_of(row.code)
        if level is not None and row.code not in known:
            known[row.code] = (level, row.parent)
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for row in rows:
        problems += _row_problems(row, known, seen)
        seen.setdefault(row.code, row.row)
        unit = existing.get(row.code)
        if unit is not None and parents.get(unit.parent_id, "") != row.parent:
            problems.append(RowProblem(row.row, "parent", _(
                "%(code)s is already imported under another parent", code=row.code)))
    if not rows:
        problems.append(RowProblem(2, _("file"), _("the file has no unit rows")))
    return problems


def import_units(rows: list[UnitRow], *, session: Session,
                 actor: User | None = None) -> UnitImportResult:
    """Check every row, then write all units, or raise :class:`UnitImportError` and write
    nothing. Parents are written before their children whatever the file's order."""
    problems = check_unit_rows(rows, session=session)
    if problems:
        raise UnitImportError(problems)
    by_code = {u.code: u for u in session.exec(select(Unit)).all()}
    result = UnitImportResult()
    for row in sorted(rows, key=lambda r: LEVEL_ORDER.index(level_of(r.code))):
        unit = by_code.get(row.code)
        if unit is not None:
            if unit.name != row.name:
                unit.name = row.name
                session.add(unit)
                result.renamed.append(row.code)
            else:
                result.unchanged += 1
            continue
        parent = by_code.get(row.parent)
        unit = Unit(code=row.code, name=row.name, level=level_of(row.code),
                    parent_id=parent.id if parent else None,
                    path=(parent.path if parent else "/") + row.code + "/")
        session.add(unit)
        session.flush()
        by_code[row.code] = unit
        result.created.append(row.code)
    audit.record("units.import", "unit", "", session=session, actor=actor,
                 details={"created": len(result.created), "renamed": len(result.renamed),
                          "unchanged": result.unchanged})
    return result


def unit_by_code(code: str, *, session: Session) -> Unit | None:
    return session.exec(select(Unit).where(Unit.code == code)).first()


def subtree(unit: Unit, *, session: Session) -> list[Unit]:
    """The unit and every unit below it (one prefix query on the path), by path."""
    return list(session.exec(select(Unit).where(col(Unit.path).startswith(unit.path))
                             .order_by(Unit.path)).all())


def ancestors(unit: Unit, *, session: Session) -> list[Unit]:
    """The units above ``unit``, root first (from its path)."""
    codes = [c for c in unit.path.strip("/").split("/")[:-1] if c]
    found = {u.code: u for u in session.exec(select(Unit).where(col(Unit.code).in_(codes)))}
    return [found[c] for c in codes if c in found]


def campaigns_under(unit: Unit, year: int, *, session: Session) -> list[tuple[Campaign, Unit]]:
    """The campaigns of ``year`` whose unit lies in ``unit``'s subtree, with their unit."""
    return list(session.exec(
        select(Campaign, Unit).join(Unit, Campaign.unit_id == Unit.id)
        .where(col(Unit.path).startswith(unit.path), Campaign.year == year)
        .order_by(Unit.path, Campaign.slug)).all())


def assign_campaign(campaign: Campaign, unit: Unit | None, *, session: Session,
                    actor: User | None = None) -> None:
    """Place ``campaign`` in ``unit`` (None: no unit), audited."""
    campaign.unit_id = unit.id if unit else None
    session.add(campaign)
    audit.record("campaign.unit", "campaign", campaign.id, session=session, actor=actor,
                 campaign_id=campaign.id, details={"unit": unit.code if unit else None})


def rollup_index(*, session: Session) -> list[tuple[Unit, list[int]]]:
    """Every unit with campaigns in its subtree and the years of those campaigns, by path:
    the roll-ups there are to look at."""
    years: dict[str, set[int]] = {}
    for year, path in session.exec(select(Campaign.year, Unit.path)
                                   .join(Unit, Campaign.unit_id == Unit.id)).all():
        for code in path.strip("/").split("/"):
            years.setdefault(code, set()).add(year)
    found = session.exec(select(Unit).where(col(Unit.code).in_(list(years)))
                         .order_by(Unit.path)).all()
    return [(unit, sorted(years[unit.code], reverse=True)) for unit in found]


def children(unit: Unit, *, session: Session) -> list[Unit]:
    """The units directly below ``unit``."""
    return list(session.exec(select(Unit).where(Unit.parent_id == unit.id)
                             .order_by(Unit.code)).all())
