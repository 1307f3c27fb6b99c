"""Render every staff page of the demo campaign as each staff role, and find English left in it.

The pages are the ``GET`` routes of the route matrix (tests/security/route_matrix.py) under
the staff prefixes that the role may open (expected 200) and that answer HTML; their URL
parameters come from the demo campaign (a household, paper form and response of worker
``worker-thl``'s community). A page's reading text is its text nodes (not scripts or
styles) plus the attributes a reader sees (placeholder, title, aria-label, alt, button
values). In it, an English word is a run of two or more ASCII letters that is not on the
allow-list (product names, units, formats, abbreviations staff use in Chinese) and not part
of a code (letters joined to digits, hyphens or dots: ``PG00012``, ``HS-THL``,
``heshan-2021``, ``report.docx``). A raw enum value is a stored code (``web_token``,
``relocated`` …) shown as it is stored instead of through its label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from sqlmodel import select

from survey_app.models import Community, Disposition, Household, PaperForm, Response, User
from survey_app.models.campaign import Campaign
from survey_app.services import demo, paper_entry
from tests.entry.conftest import typed_answers
from tests.security.route_matrix import MATRIX, PARAMS, ROLES, STAFF_PREFIXES

STAFF_ROLES = {"admin": "admin", "evaluator": "evaluator", "worker_a": "worker-thl"}
PASSWORDS = {name: password for name, password, _, _ in demo.DEMO_ACCOUNTS}
# Routes that answer a file rather than a page.
NOT_PAGES = ("/export/", "report.docx", "report-template.docx", ".zip", "roster-template.",
             # a background job's progress (JSON) and file
             "/jobs/<int:job_id>",
             # the offline interviewer page's script, data and manifest
             "/field/sw.js", "/field/pack.json", "/field/app.webmanifest")
ALLOWED_WORDS = {
    # formats, products and units staff read in Chinese text
    "CSV", "XLSX", "SPSS", "Word", "WPS", "Excel", "PDF", "UTF", "GBK", "BOM", "API", "JSON",
    "OpenAPI", "QR", "ID", "IPA", "URL", "HTTPS", "KB", "MB", "IP", "SHA", "HMAC",
    "Cochran", "Wilson", "Feldt", "Spearman", "Cronbach", "AAPOR", "RR", "FPC", "XLSForm",
    "CR", "AVE",  # composite reliability, average variance extracted (GB/T 19038)
    "NC", "UO", "UH", "NE",  # AAPOR disposition codes of the visit log
    "make", "run",  # the `make run` command the admin page names
    "YAML", "sav", "docx", "xlsx", "csv", "yaml", "WeChat", "ZIP",
    # the language switch names the other language in that language; a key on the keyboard
    "English", "Tab",
    # the product's own CLI, shown where a page points to it
    "survey", "app", "outbox", "send",
}
# Stored codes that must never be shown raw (values of the models' str enums).
ENUM_VALUES = {
    "relocated", "rental_subsidy", "web_token", "web_open", "paper", "draft", "open", "closed",
    "partial", "complete", "superseded", "deleted", "proportional", "stepwise", "bands",
    "worker", "evaluator", "admin", "pending", "completed", "refused", "not_at_home", "moved",
    "verified", "awaiting_second", "conflict", "held", "rate", "score", "index",
    "unverified", "excluded",
    "sending", "sent", "delivered", "failed", "cancelled", "invitation", "reminder",
}
_WORD = re.compile(r"(?<![\w.\-/@])[A-Za-z][A-Za-z_']+(?![\w.\-/@])")
_SETTING = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}


class _ReadingText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        values = dict(attrs)
        self.parts += [v for k, v in values.items() if k in _ATTRIBUTES and v]
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def reading_text(html: str) -> str:
    parser = _ReadingText()
    parser.feed(html)
    return " ".join(parser.parts)


def english_words(text: str, allowed: set[str] = frozenset()) -> list[str]:
    """English words of a reading text outside the allow-list (and ``allowed``: data);
    setting names (``SURVEY_PUBLIC_BASE_URL``) are codes."""
    return [w for w in _WORD.findall(text)
            if w not in ALLOWED_WORDS and w not in allowed and w not in ENUM_VALUES
            and not _SETTING.fullmatch(w)]


def raw_enum_values(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if w in ENUM_VALUES]


@dataclass(frozen=True)
class Page:
    role: str
    url: str


def prepare_paper_forms(session) -> dict[str, int]:
    """Paper forms in the states the demo lacks, in worker-thl's community (committed):
    two entries that disagree (conflict), one entry waiting for the second typist, and a
    form of a household that also answered on the web (held)."""
    campaign = session.exec(select(Campaign).where(Campaign.slug == demo.SLUG)).one()
    community = session.exec(select(Community).where(Community.code == "HS-THL")).one()
    typists = [session.exec(select(User).where(User.username == name)).one()
               for name in ("worker-thl", "worker-thl2")]
    in_community = (Household.campaign_id == campaign.id,
                    Household.community_id == community.id, Household.sampled)
    pending = session.exec(select(Household).where(
        *in_community, Household.disposition == Disposition.PENDING)
        .order_by(Household.id).limit(2)).all()
    answered = session.exec(select(Household).join(
        Response, Response.household_id == Household.id).where(
        *in_community, Response.mode == "web_token").order_by(Household.id)).first()
    campaign.duplicate_rule = "ask_admin"  # a paper form after a web answer waits for admin
    forms = {}
    for state, household, entries in (("conflict", pending[0], 2), ("awaiting", pending[1], 1),
                                      ("held", answered, 1)):
        _, questionnaire = paper_entry.questionnaire_for(campaign, household, session=session)
        first = typed_answers(questionnaire, seed=household.id)
        second = {**first, "overall_satisfaction":
                  "1" if first["overall_satisfaction"] != "1" else "2"}
        for typist, typed in list(zip(typists, (first, second), strict=True))[:entries]:
            outcome = paper_entry.enter_paper_form(session=session, campaign=campaign,
                                                   household=household, typed=typed,
                                                   worker=typist)
        forms[state] = outcome.paper_form.id
    session.commit()
    return forms


def demo_parameters(session) -> dict[str, object]:
    """URL parameters from the demo: objects of worker-thl's community (HS-THL), the
    paper forms of ``prepare_paper_forms``, and the demo city's 2021 roll-up."""
    campaign = session.exec(select(Campaign).where(Campaign.slug == demo.SLUG)).one()
    community = session.exec(select(Community).where(Community.code == "HS-THL")).one()
    forms = prepare_paper_forms(session)
    verified = session.exec(select(PaperForm).where(
        PaperForm.campaign_id == campaign.id, PaperForm.status == "verified")
        .join(Household, Household.id == PaperForm.household_id)
        .where(Household.community_id == community.id).order_by(PaperForm.id)).first()
    household = session.exec(select(Household).where(
        Household.campaign_id == campaign.id, Household.community_id == community.id,
        Household.sampled).order_by(Household.id)).first()
    user = session.exec(select(User).where(User.username == "worker-thl")).one()
    return {"slug": demo.SLUG, "group": "relocated", "household_id": household.id,
            "form_id": forms["conflict"], "held_form_id": forms["held"],
            "response_id": verified.response_id, "user_id": user.id,
            "community_id": community.id, "code": "430900", "year": 2021}  # 益阳市


def staff_pages(session) -> list[Page]:
    """Every staff GET page of the route matrix each staff role may open, with its URL."""
    params = demo_parameters(session)
    pages = []
    for line, statuses in MATRIX.items():
        method, rule = line.split(" ", 1)
        if method != "GET" or not rule.startswith(STAFF_PREFIXES):
            continue
        if any(marker in rule for marker in NOT_PAGES):
            continue
        names = PARAMS.get(line, {})
        url = re.sub(r"<(?:\w+:)?(\w+)>",
                     lambda m: str(params[names.get(m.group(1), m.group(1))]), rule)
        for role in STAFF_ROLES:
            if statuses[ROLES.index(role)] == 200:
                pages.append(Page(role, url))
    # Pages the matrix reaches only with a query: an admin's sample sheets of one community.
    community = params["community_id"]
    pages.append(Page("admin", f"/entry/{demo.SLUG}/print/sample?community={community}"))
    return pages


def without_data(text: str, session) -> str:
    """The text with data taken out: web addresses, household pseudonyms (R + 8 random hex
    digits, which are sometimes all letters), the demo's usernames (``admin`` is both a
    username and a role code) and its paper batch name ``demo``."""
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"(?<![\w.\-])R[0-9A-F]{8}(?![\w.\-])", " ", text)
    for username in [*session.exec(select(User.username)).all(), "demo"]:
        text = re.sub(rf"(?<![\w.\-]){re.escape(username)}(?![\w.\-])", " ", text)
    return text


def log_in(client, role: str) -> None:
    username = STAFF_ROLES[role]
    reply = client.post("/auth/login", data={"username": username,
                                             "password": PASSWORDS[username]})
    assert reply.status_code == 302, f"{username} could not log in"
