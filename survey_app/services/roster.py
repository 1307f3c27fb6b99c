"""Household roster import: CSV (UTF-8, UTF-8 with BOM, GBK) or XLSX, all or nothing.

Every row is checked before anything is written. A file with any bad row is
rejected whole with a list of (row, column, reason); spreadsheet row numbers are
used (the header is row 1). ID numbers and phones are kept only as a keyed HMAC
plus a masked display form; name, address and phone are also sealed in the contact vault
(:mod:`survey_app.services.contact_vault`) for the field worker.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from questionnaires import workbooks
from survey_app.models import (
    Campaign,
    Community,
    Household,
    HouseholdGroup,
    HouseholdPhone,
    Project,
    User,
)
from survey_app.services import audit, phone_numbers
from survey_app.services.contact_vault import Contact, seal_household
from survey_app.services.personal_data import (
    id_tail_hash,
    is_valid_id_number,
    keyed_hash,
    mask_address,
    mask_id_number,
    mask_name,
    mask_phone,
)

# Canonical column → accepted headers (Chinese as printed on government forms, or English).
# The first name is the one used in messages when the file did not name the column.
COLUMNS = {
    "household_code": ("户编号", "household_code", "户号", "编号"),
    "group": ("类别", "group", "类型", "户类别"),
    "project": ("项目", "project", "项目名称"),
    "community": ("社区", "community"),
    "street": ("街道", "street"),
    "head_name": ("户主姓名", "head_name", "姓名", "户主"),
    "id_number": ("身份证号", "id_number", "身份证号码", "证件号码"),
    "phone": ("联系电话", "phone", "手机号", "手机号码", "电话"),
    "address": ("地址", "address", "住址", "家庭住址"),
}
# Row-number columns that spreadsheets commonly carry; ignored rather than rejected.
IGNORED_COLUMNS = frozenset({"序号", "no", "no.", "#"})
#: The target of a column mapping that skips the column.
IGNORE_WORDS = frozenset({"忽略", "ignore", "-"})
_HEADER_LOOKUP = {name.lower(): key for key, names in COLUMNS.items() for name in names}
REQUIRED = ("household_code", "group", "community")
# Looked up after stripping and lower-casing the cell.
GROUP_VALUES = {
    "relocated": HouseholdGroup.RELOCATED,
    "棚改": HouseholdGroup.RELOCATED,
    "棚改货币化安置": HouseholdGroup.RELOCATED,
    "棚改货币化安置户": HouseholdGroup.RELOCATED,
    "rental_subsidy": HouseholdGroup.RENTAL_SUBSIDY,
    "租赁补贴": HouseholdGroup.RENTAL_SUBSIDY,
    "租赁补贴户": HouseholdGroup.RENTAL_SUBSIDY,
}
MAX_CODE_LENGTH = 32
#: Size, rows, columns and time allowed to a roster file (admin upload and CLI).
ROSTER_LIMITS = workbooks.ROSTER_LIMITS
# C0 controls and DEL, except tab and line breaks (a cell may hold a line break).
CONTROL_CHARACTERS = frozenset(chr(c) for c in [*range(32), 127]) - {"\t", "\n", "\r"}


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


class RosterImportError(ValueError):
    """The file was rejected; nothing was written. ``problems`` lists every reason."""

    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        shown = "\n".join(str(p) for p in problems[:50])
        more = f"\n… and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"roster rejected, nothing imported ({len(problems)} problems):\n"
                         f"{shown}{more}")


@dataclass(frozen=True)
class RosterRow:
    row: int
    values: dict[str, str]
    # Canonical column → the header as written in the file, so problems name it as the
    # user sees it ("身份证号" or "id_number").
    headers: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass
class RosterImportResult:
    households: int = 0
    projects_created: list[str] = field(default_factory=list)
    communities_created: list[str] = field(default_factory=list)


def decode_csv_bytes(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM ("Unicode text" from Excel), then
    GB18030 (a superset of GBK, as Excel/WPS save); refused with a clear message otherwise."""
    try:
        return workbooks.decode_text(data)
    except workbooks.FileRefused as exc:
        raise RosterImportError([RowProblem(0, "file", str(exc))]) from None


def _csv_rows(text: str) -> Iterator[list[str]]:
    first_line = text.split("\n", 1)[0]
    # Excel's "Unicode text" and some exports separate with tabs.
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, row in enumerate(reader, start=1):
            if number > ROSTER_LIMITS.max_rows + 1:
                raise workbooks.FileRefused(
                    f"文件超过 {ROSTER_LIMITS.max_rows} 行 / the file has more than "
                    f"{ROSTER_LIMITS.max_rows} rows")
            yield row
    except csv.Error as exc:
        raise RosterImportError([RowProblem(reader.line_num, "file",
                                            f"not a readable CSV file ({exc})")]) from None


def parse_column_mapping(text: str) -> dict[str, str]:
    """The column mapping typed on upload: one ``文件中的列名=标准列名`` per line (or ``;``),
    the standard name any accepted header (户编号 or household_code …) or ``忽略``/``ignore``
    for a column to skip. Returns file header -> canonical column (``""``: ignored).

    >>> parse_column_mapping("手机＝联系电话；备注=忽略")
    {'手机': 'phone', '备注': ''}
    """
    mapping: dict[str, str] = {}
    problems = []
    for line in re.split(r"[\n;；]", unicodedata.normalize("NFKC", text or "")):
        if not line.strip():
            continue
        written, equals, target = line.partition("=")
        written, target = written.strip(), target.strip()
        canonical = "" if target.lower() in IGNORE_WORDS else _HEADER_LOOKUP.get(target.lower())
        if not equals or not written or canonical is None:
            known = " / ".join(names[0] for names in COLUMNS.values())
            problems.append(RowProblem(0, "column mapping", (
                f"{line.strip()!r}: write 文件中的列名=标准列名, the standard name one of "
                f"{known} (or 忽略 to skip the column)")))
            continue
        mapping[written.lower()] = canonical
    if problems:
        raise RosterImportError(problems)
    return mapping


def read_roster_file(filename: str, data: bytes, *,
                     columns: dict[str, str] | None = None) -> list[RosterRow]:
    """Parse a CSV or XLSX roster into rows keyed by canonical column names.

    The file is read under :data:`ROSTER_LIMITS` (:mod:`questionnaires.workbooks`): a file
    too large, a zip bomb, a sheet declaring millions of cells or an unknown encoding is
    refused as a problem of the file, before or while reading it.
    """
    try:
        workbooks.check_size(len(data), ROSTER_LIMITS)
        if filename.lower().endswith(".xlsx"):
            with workbooks.SafeWorkbook(data, ROSTER_LIMITS) as workbook:
                return _roster_rows(workbook.sheets()[0].iter_rows(values_only=True),
                                    columns or {})
        if filename.lower().endswith(".csv"):
            return _roster_rows(_csv_rows(decode_csv_bytes(data)), columns or {})
    except workbooks.FileRefused as exc:
        raise RosterImportError([RowProblem(0, "file", str(exc))]) from None
    raise RosterImportError([RowProblem(0, "file", "only .csv and .xlsx files are accepted")])


def read_roster_path(path: str, *, columns: dict[str, str] | None = None) -> list[RosterRow]:
    """:func:`read_roster_file` for a file on disk, its size checked before it is read."""
    try:
        data = workbooks.read_file(path, ROSTER_LIMITS)
    except workbooks.FileRefused as exc:
        raise RosterImportError([RowProblem(0, "file", str(exc))]) from None
    return read_roster_file(path, data, columns=columns)


def _roster_rows(table: Iterator[Sequence[object]], columns: dict[str, str]) -> list[RosterRow]:
    header = next(table, None)
    if header is None:
        raise RosterImportError([RowProblem(1, "header", "the file is empty")])
    mapping, headers = _map_header(list(header), columns)
    rows = []
    for number, cells in enumerate(table, start=2):
        values = {canonical: _cell_text(cells[i]) if i < len(cells) else ""
                  for i, canonical in mapping.items()}
        if any(values.values()):
            rows.append(RosterRow(number, values, headers))
    return rows


def _map_header(cells: list[object], columns: dict[str, str]) -> tuple[dict[int, str],
                                                                      dict[str, str]]:
    """Column index → canonical column, and canonical column → header as written;
    ``columns`` (:func:`parse_column_mapping`) names the headers the file spells otherwise.

    Raises RosterImportError listing every unknown, repeated or missing required column.
    """
    header = [str(cell or "").replace("\ufeff", "").strip() for cell in cells]
    mapping: dict[int, str] = {}
    headers: dict[str, str] = {}
    problems = []
    for index, name in enumerate(header):
        canonical = columns.get(name.lower(), _HEADER_LOOKUP.get(name.lower()))
        if not canonical:
            if name and name.lower() not in IGNORED_COLUMNS and canonical is None:
                known = " / ".join(f"{names[0]}/{names[1]}" for names in COLUMNS.values())
                problems.append(RowProblem(1, name, (
                    f"unknown column; known columns: {known}; or name it in the column "
                    "mapping (文件中的列名=标准列名, 忽略 to skip it)")))
            continue
        if canonical in mapping.values():
            problems.append(RowProblem(1, name,
                                       f"column appears twice (also {headers[canonical]})"))
            continue
        mapping[index] = canonical
        headers[canonical] = name
    for required in REQUIRED:
        if required not in mapping.values():
            problems.append(RowProblem(1, COLUMNS[required][0], "required column is missing"))
    if problems:
        raise RosterImportError(problems)
    return mapping, headers


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores household codes typed as numbers as floats
    return str(value).strip()


def group_of(value: str) -> HouseholdGroup | None:
    return GROUP_VALUES.get(value.strip().lower())


def normalise_id_number(value: str) -> str:
    return "".join(value.split()).upper()


def _plausible_birth_date(id_number: str) -> bool:
    try:
        born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


#: A problem found in one row: (canonical column, message).
_CellProblem = tuple[str, str]
#: Longest accepted text per free-text column.
TEXT_LIMITS = (("head_name", 50), ("address", 200), ("project", 200), ("community", 100),
               ("street", 100))


def check_rows(rows: Iterable[RosterRow], *, existing_codes: set[str],
               existing_id_hashes: set[str], pii_key: str) -> list[RowProblem]:
    """Every problem in the rows; an empty list means the file can be imported."""
    problems: list[RowProblem] = []
    seen_codes: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    for row in rows:
        v = row.values
        found = [
            *_required_problems(v),
            *_household_code_problems(row, seen_codes, existing_codes),
            *_group_problems(v),
            *_id_number_problems(row, seen_ids, existing_id_hashes, pii_key),
            *_phone_problems(v),
            *_text_problems(v),
        ]
        problems.extend(RowProblem(row.row, row.headers.get(column, COLUMNS[column][0]),
                                   message) for column, message in found)
    return problems


def _required_problems(v: dict[str, str]) -> list[_CellProblem]:
    return [(required, "required value is empty") for required in REQUIRED if not v.get(required)]


def _household_code_problems(row: RosterRow, seen_codes: dict[str, int],
                             existing_codes: set[str]) -> list[_CellProblem]:
    """Format and uniqueness (in the file and the campaign); records the code as seen."""
    code = row.values.get("household_code", "")
    if not code:
        return []
    problems = []
    if len(code) > MAX_CODE_LENGTH or not all(c.isalnum() or c in "-_" for c in code):
        problems.append(("household_code", "use up to 32 letters, digits, '-' or '_'"))
    elif code in seen_codes:
        problems.append(("household_code",
                         f"duplicate household code (also row {seen_codes[code]})"))
    elif code in existing_codes:
        problems.append(("household_code", "household code already exists in this campaign"))
    seen_codes.setdefault(code, row.row)
    return problems


def _group_problems(v: dict[str, str]) -> list[_CellProblem]:
    group = group_of(v.get("group", ""))
    problems = []
    if v.get("group") and group is None:
        problems.append(("group", f"unknown group {v['group']!r}; use 棚改/relocated or "
                                  "租赁补贴/rental_subsidy"))
    if group == HouseholdGroup.RELOCATED and not v.get("project"):
        problems.append(("project", "a relocated household needs its project"))
    return problems


def _id_number_problems(row: RosterRow, seen_ids: dict[str, int], existing_id_hashes: set[str],
                        pii_key: str) -> list[_CellProblem]:
    """Check digit, birth date and uniqueness (by keyed hash); records the hash as seen."""
    id_number = normalise_id_number(row.values.get("id_number", ""))
    if not id_number:
        return []
    if not is_valid_id_number(id_number):
        return [("id_number", "not a valid 18-character ID number (length or check digit)")]
    if not _plausible_birth_date(id_number):
        return [("id_number", "the birth date inside the ID number is not a real date")]
    digest = keyed_hash(id_number, pii_key)
    problems = []
    if digest in seen_ids:
        problems.append(("id_number", f"duplicate ID number (also row {seen_ids[digest]})"))
    elif digest in existing_id_hashes:
        problems.append(("id_number", "ID number already exists in this campaign"))
    seen_ids.setdefault(digest, row.row)
    return problems


def _phone_problems(v: dict[str, str]) -> list[_CellProblem]:
    try:
        phone_numbers.parse_phone_numbers(v.get("phone", ""))
    except phone_numbers.PhoneNumberError as exc:
        return [("phone", str(exc))]
    return []


def _text_problems(v: dict[str, str]) -> list[_CellProblem]:
    problems = []
    for column, value in v.items():
        # PostgreSQL cannot store NUL; other control characters are binary garbage.
        bad_chars = sorted({f"U+{ord(c):04X}" for c in value if c in CONTROL_CHARACTERS})
        if bad_chars:
            problems.append((column, f"contains control characters ({', '.join(bad_chars)}); "
                                     "is this a text file?"))
    for column, limit in TEXT_LIMITS:
        if len(v.get(column, "")) > limit:
            problems.append((column, f"longer than {limit} characters"))
    return problems


def import_roster(campaign: Campaign, rows: list[RosterRow], *, session: Session, pii_key: str,
                  contact_key: str, actor: User | None = None,
                  is_demo: bool = False) -> RosterImportResult:
    """Check every row, then write all households, or raise and write nothing.

    ``pii_key`` keys the matching hashes, ``contact_key`` seals the contact details.
    """
    if not rows:
        raise RosterImportError([RowProblem(2, "file", "the file has no household rows")])
    existing = session.exec(select(Household.household_code, Household.id_number_hmac)
                            .where(Household.campaign_id == campaign.id)).all()
    problems = check_rows(rows, existing_codes={c for c, _ in existing},
                          existing_id_hashes={h for _, h in existing if h}, pii_key=pii_key)
    if problems:
        raise RosterImportError(problems)

    result = RosterImportResult()
    places = _Places.of(campaign, session=session)
    pseudonyms = set(session.exec(select(Household.pseudonym)
                                  .where(Household.campaign_id == campaign.id)).all())
    further_phones: list[tuple[Household, list[phone_numbers.PhoneNumber]]] = []
    for row in rows:
        v = row.values
        project = places.project(v.get("project", ""), result, session=session)
        community = places.community(v["community"], v.get("street", ""), result,
                                     session=session)
        numbers = phone_numbers.parse_phone_numbers(v.get("phone", ""))
        household = _household(campaign, v, project=project, community=community,
                               pseudonym=_new_pseudonym(pseudonyms), pii_key=pii_key,
                               is_demo=is_demo, first_phone=numbers[0] if numbers else None)
        # The worker dials what the roster says: every number, extensions included.
        seal_household(household, Contact(name=v.get("head_name", ""),
                                          address=v.get("address", ""),
                                          phone=phone_numbers.dialable(numbers)),
                       secret=contact_key)
        session.add(household)
        if len(numbers) > 1:
            further_phones.append((household, numbers[1:]))
        result.households += 1
    session.flush()
    session.add_all(HouseholdPhone(household_id=household.id, phone_masked=mask_phone(n.digits),
                                   phone_hmac=keyed_hash(n.digits, pii_key))
                    for household, numbers in further_phones for n in numbers)
    session.flush()
    audit.record("roster.import", "campaign", campaign.id, session=session, actor=actor,
                 label=None if actor else "cli", campaign_id=campaign.id,
                 details={"households": result.households,
                          "projects_created": len(result.projects_created),
                          "communities_created": len(result.communities_created)})
    return result


@dataclass
class _Places:
    """The campaign's projects and all communities, created on first mention by a row."""

    campaign: Campaign
    projects: dict[str, Project]
    communities: dict[tuple[str, str], Community]

    @classmethod
    def of(cls, campaign: Campaign, *, session: Session) -> _Places:
        projects = {p.name: p for p in session.exec(
            select(Project).where(Project.campaign_id == campaign.id)).all()}
        communities = {(c.name, c.street): c for c in session.exec(select(Community)).all()}
        return cls(campaign, projects, communities)

    def project(self, name: str, result: RosterImportResult, *,
                session: Session) -> Project | None:
        if not name:
            return None
        project = self.projects.get(name)
        if project is None:
            project = Project(campaign_id=self.campaign.id,
                              code=f"P{len(self.projects) + 1:02d}", name=name)
            session.add(project)
            session.flush()
            self.projects[project.name] = project
            result.projects_created.append(project.name)
        return project

    def community(self, name: str, street: str, result: RosterImportResult, *,
                  session: Session) -> Community:
        community = self.communities.get((name, street))
        if community is None:
            community = Community(code=_community_code(session, len(self.communities)),
                                  name=name, street=street)
            session.add(community)
            session.flush()
            self.communities[(name, street)] = community
            result.communities_created.append(community.name)
        return community


def _household(campaign: Campaign, v: dict[str, str], *, project: Project | None,
               community: Community, pseudonym: str, pii_key: str, is_demo: bool,
               first_phone: phone_numbers.PhoneNumber | None) -> Household:
    """The household row of a checked roster row; personal data only masked or keyed-hashed.
    Its first phone number is on the row, further ones in HouseholdPhone."""
    id_number = normalise_id_number(v.get("id_number", ""))
    phone = first_phone.digits if first_phone else ""
    return Household(
        campaign_id=campaign.id, household_code=v["household_code"],
        household_group=group_of(v["group"]),
        project_id=project.id if project else None, community_id=community.id,
        head_name_masked=mask_name(v.get("head_name", "")),
        id_number_masked=mask_id_number(id_number) if id_number else "",
        id_number_hmac=keyed_hash(id_number, pii_key) if id_number else None,
        id_tail_hmac=id_tail_hash(id_number, pii_key) if id_number else None,
        phone_masked=mask_phone(phone) if phone else "",
        phone_hmac=keyed_hash(phone, pii_key) if phone else None,
        address_masked=mask_address(v.get("address", "")),
        pseudonym=pseudonym, is_demo=is_demo,
    )


def _community_code(session: Session, known: int) -> str:
    number = known + 1
    while session.exec(select(Community.id).where(Community.code == f"SQ{number:03d}")).first():
        number += 1
    return f"SQ{number:03d}"


def _new_pseudonym(taken: set[str]) -> str:
    while True:
        candidate = "R" + secrets.token_hex(4).upper()
        if candidate not in taken:
            taken.add(candidate)
            return candidate
