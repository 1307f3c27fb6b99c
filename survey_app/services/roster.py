"""Household roster import: CSV (UTF-8, UTF-8 with BOM, GBK) or XLSX, all or nothing.

Every row is checked before anything is written. A file with any bad row is
rejected whole with a list of (row, column, reason); spreadsheet row numbers are
used (the header is row 1). ID numbers and phones are kept only as a keyed HMAC
plus a masked display form; name, address and phone are also sealed in the contact vault
(:mod:`survey_app.services.contact_vault`) for the field worker.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import insert
from sqlmodel import Session, select

from questionnaires import workbooks
from survey_app.models import (
    Campaign,
    Community,
    Disposition,
    Household,
    HouseholdGroup,
    HouseholdPhone,
    Project,
    User,
    utcnow,
)
from survey_app.services import audit, phone_numbers
from survey_app.services.contact_vault import Contact, key_id, seal
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
        return _("row %(row)s, column %(column)s: %(message)s", row=self.row,
                 column=self.column, message=self.message)


class RosterImportError(ValueError):
    """The file was rejected; nothing was written. ``problems`` lists every reason."""

    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        shown = "\n".join(str(p) for p in problems[:50])
        more = ("\n" + _("… and %(n)s more", n=len(problems) - 50)
                if len(problems) > 50 else "")
        super().__init__(_("roster rejected, nothing imported (%(n)s problems):",
                           n=len(problems)) + f"\n{shown}{more}")


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
    return [(required, _("required value is empty")) for required in REQUIRED
            if not v.get(required)]


def _household_code_problems(row: RosterRow, seen_codes: dict[str, int],
                             existing_codes: set[str]) -> list[_CellProblem]:
    """Format and uniqueness (in the file and the campaign); records the code as seen."""
    code = row.values.get("household_code", "")
    if not code:
        return []
    problems = []
    if len(code) > MAX_CODE_LENGTH or not all(c.isalnum() or c in "-_" for c in code):
        problems.append(("household_code", _("use up to 32 letters, digits, '-' or '_'")))
    elif code in seen_codes:
        problems.append(("household_code",
                         _("duplicate household code (also row %(row)s)", row=seen_codes[code])))
    elif code in existing_codes:
        problems.append(("household_code",
                         _("household code already exists in this campaign")))
    seen_codes.setdefault(code, row.row)
    return problems


def _group_problems(v: dict[str, str]) -> list[_CellProblem]:
    group = group_of(v.get("group", ""))
    problems = []
    if v.get("group") and group is None:
        problems.append(("group", _("unknown group “%(group)s”; use 棚改 or 租赁补贴",
                                    group=v["group"])))
    if group == HouseholdGroup.RELOCATED and not v.get("project"):
        problems.append(("project", _("a relocated household needs its project")))
    return problems


def _id_number_problems(row: RosterRow, seen_ids: dict[str, int], existing_id_hashes: set[str],
                        pii_key: str) -> list[_CellProblem]:
    """Check digit, birth date and uniqueness (by keyed hash); records the hash as seen."""
    id_number = normalise_id_number(row.values.get("id_number", ""))
    if not id_number:
        return []
    if not is_valid_id_number(id_number):
        return [("id_number",
                 _("not a valid 18-character ID number (length or check digit)"))]
    if not _plausible_birth_date(id_number):
        return [("id_number", _("the birth date inside the ID number is not a real date"))]
    digest = keyed_hash(id_number, pii_key)
    problems = []
    if digest in seen_ids:
        problems.append(("id_number",
                         _("duplicate ID number (also row %(row)s)", row=seen_ids[digest])))
    elif digest in existing_id_hashes:
        problems.append(("id_number", _("ID number already exists in this campaign")))
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
            problems.append((column, _("contains control characters (%(chars)s); is this a "
                                       "text file?", chars=", ".join(bad_chars))))
    for column, limit in TEXT_LIMITS:
        if len(v.get(column, "")) > limit:
            problems.append((column, _("longer than %(limit)s characters", limit=limit)))
    return problems


def import_roster(campaign: Campaign, rows: list[RosterRow], *, session: Session, pii_key: str,
                  contact_key: str, actor: User | None = None,
                  is_demo: bool = False) -> RosterImportResult:
    """Check every row, then write all households, or raise and write nothing.

    ``pii_key`` keys the matching hashes, ``contact_key`` seals the contact details.
    """
    if not rows:
        raise RosterImportError([RowProblem(2, _("file"), _("the file has no household rows"))])
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
    further_phones: dict[str, list[phone_numbers.PhoneNumber]] = {}
    households, sealed_by = [], key_id(contact_key)
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
        household["contact_sealed"] = seal(
            Contact(name=v.get("head_name", ""), address=v.get("address", ""),
                    phone=phone_numbers.dialable(numbers)),
            campaign_id=campaign.id, household_code=household["household_code"],
            secret=contact_key)
        household["contact_key_id"] = sealed_by
        households.append(household)
        if len(numbers) > 1:
            further_phones[household["household_code"]] = numbers[1:]
    _insert_households(households, further_phones, pii_key, session=session)
    result.households = len(households)
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
               first_phone: phone_numbers.PhoneNumber | None) -> dict:
    """The household row of a checked roster row; personal data only masked or keyed-hashed.
    Its first phone number is on the row, further ones in HouseholdPhone."""
    id_number = normalise_id_number(v.get("id_number", ""))
    phone = first_phone.digits if first_phone else ""
    return {
        "campaign_id": campaign.id, "household_code": v["household_code"],
        "household_group": group_of(v["group"]),
        "project_id": project.id if project else None, "community_id": community.id,
        "head_name_masked": mask_name(v.get("head_name", "")),
        "id_number_masked": mask_id_number(id_number) if id_number else "",
        "id_number_hmac": keyed_hash(id_number, pii_key) if id_number else None,
        "id_tail_hmac": id_tail_hash(id_number, pii_key) if id_number else None,
        "phone_masked": mask_phone(phone) if phone else "",
        "phone_hmac": keyed_hash(phone, pii_key) if phone else None,
        "address_masked": mask_address(v.get("address", "")),
        "pseudonym": pseudonym, "is_demo": is_demo, "sampled": False, "sample_rank": None,
        "disposition": Disposition.PENDING, "contact_purged_at": None,
        "sms_opted_out_at": None,
    }


def _insert_households(households: list[dict], further_phones: dict, pii_key: str, *,
                       session: Session) -> None:
    """Insert the rows in one executemany (and their further phones).

    Rows, not ORM objects: building and flushing 10,000 ``Household`` objects was two
    thirds of a county's import (benchmarks/bench_province.py). The session's pending
    objects (new projects, communities) are flushed first, so the rows can name them.
    """
    if not households:
        return
    session.flush()
    now = utcnow()
    for row in households:
        row["created_at"] = now
    if not further_phones:
        session.execute(insert(Household.__table__), households)
        return
    ids = dict(session.execute(
        insert(Household.__table__).returning(Household.household_code, Household.id,
                                              sort_by_parameter_order=True),
        households).all())
    session.execute(insert(HouseholdPhone.__table__), [
        {"household_id": ids[code], "phone_masked": mask_phone(n.digits),
         "phone_hmac": keyed_hash(n.digits, pii_key)}
        for code, numbers in further_phones.items() for n in numbers])


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
