"""Printable letters with QR codes for sampled households, and the open-link poster.

Each letter is one A4 page that a resident can trust and act on without the QR code: who is
asking (委托单位 and 评价机构 from the campaign), the date the link was issued, the deadline
(the campaign's closing date), the hotline, the privacy sentence, the QR code as inline
vector SVG (segno), and a short address to type (``/c/<slug>``) with the household code and
its 5-character check code (``services.open_identity.check_code``). Letters are rendered from
the links' encrypted copies (``services.link_copies``), so the letters page can be reloaded
and a letter printed again without revoking its link. The page layout lives in
``static/letters.css`` because the Content-Security-Policy forbids inline styles.

The letters are always rendered in Chinese (``force_locale("zh")``): they go to residents,
whatever language the administrator's screen uses.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import segno
from flask import current_app
from flask_babel import force_locale
from markupsafe import Markup
from sqlmodel import Session, select

from survey_app.models import Campaign, Community, as_utc
from survey_app.services.open_identity import check_code
from survey_app.services.public_address import AddressProblem
from survey_app.services.score_filters import BEIJING
from survey_app.services.tokens import (
    IssuedToken,
    open_url,
    receipt_check_url,
    survey_url,
    tokens_csv,
)

LETTERS_CSS = "letters.css"
POSTER_FILE = "poster.html"
TOKENS_CSV = "tokens.csv"


@dataclass(frozen=True)
class Letter:
    household_code: str
    group: str
    url: str
    qr_svg: Markup
    #: Typed with the household code on the open link when the QR code can't be used
    #: (services.open_identity.check_code).
    check_code: str = ""
    #: The day the link was issued, as printed (``2026年12月6日``).
    issued_on: str = ""


@dataclass(frozen=True)
class CommunityLetters:
    community: Community
    letters: list[Letter]


def qr_svg(url: str, *, title: str = "") -> Markup:
    """The QR code of ``url`` as inline SVG, sized by CSS (class ``qr``), error level M."""
    code = segno.make(url, error="m", micro=False)
    # segno escapes the title; the SVG holds only paths, so it is safe to mark up.
    return Markup(code.svg_inline(scale=1, border=4, omitsize=True, svgclass="qr",  # noqa: S704
                                  lineclass="qr-modules", title=title or None))


def letters_by_community(issued: Iterable[IssuedToken], *, session: Session,
                         base_url: str) -> list[CommunityLetters]:
    """Group freshly issued tokens into one batch of letters per community."""
    by_community: dict[int, list[Letter]] = {}
    key = current_app.config["PII_KEY"]
    for item in issued:
        household = item.household
        url = survey_url(base_url, item.token)
        by_community.setdefault(household.community_id, []).append(
            Letter(household.household_code, household.household_group, url, qr_svg(url),
                   check_code(household.campaign_id, household.household_code, key),
                   chinese_date(as_utc(item.issued_at).astimezone(BEIJING).date())))
    communities = {c.id: c for c in session.exec(
        select(Community).where(Community.id.in_(list(by_community)))).all()}
    batches = [CommunityLetters(communities[cid], sorted(letters,
                                                         key=lambda x: x.household_code))
               for cid, letters in by_community.items()]
    return sorted(batches, key=lambda b: b.community.code)


def chinese_date(day: date | None) -> str:
    """``2021年12月31日``, or empty for no date."""
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def deadline_text(campaign: Campaign) -> str:
    """The campaign's closing date as printed, or empty when it has none."""
    return chinese_date(campaign.closes_on)


def _render(template: str, **context) -> str:
    # Straight from the Jinja environment: the sheets need no request (the CLI writes them
    # too), so the request-bound context processors of the staff pages must not run.
    with force_locale("zh"):
        return current_app.jinja_env.get_template(template).render(**context)


def render_letters(campaign: Campaign, batches: list[CommunityLetters], *, base_url: str,
                   css_href: str, problems: Iterable[AddressProblem] = (),
                   without_copy: int = 0) -> str:
    """The letters as one HTML page; ``problems`` (of the public address) and the number of
    live links that cannot be printed (``without_copy``) are shown above them on screen,
    never printed."""
    return _render("admin/print/letters.html", campaign=campaign, batches=batches,
                   without_copy=without_copy,
                   deadline=deadline_text(campaign), css_href=css_href,
                   open_url=open_url(base_url, campaign.slug),
                   receipt_url=receipt_check_url(base_url), problems=list(problems))


def render_poster(campaign: Campaign, *, base_url: str, css_href: str,
                  problems: Iterable[AddressProblem] = ()) -> str:
    url = open_url(base_url, campaign.slug)
    return _render("admin/print/poster.html", campaign=campaign, url=url, qr=qr_svg(url),
                   deadline=deadline_text(campaign), css_href=css_href,
                   problems=list(problems))


def letters_css_path() -> Path:
    return Path(current_app.static_folder or "") / LETTERS_CSS


def letter_files(campaign: Campaign, issued: list[IssuedToken], *, session: Session,
                 base_url: str, problems: Iterable[AddressProblem] = ()) -> dict[str, str]:
    """File name → content: ``letters-<community code>.html`` per community, ``poster.html``,
    ``letters.css`` and ``tokens.csv`` (with a BOM so Excel/WPS read the Chinese)."""
    files = {}
    problems = list(problems)
    for batch in letters_by_community(issued, session=session, base_url=base_url):
        files[f"letters-{batch.community.code}.html"] = render_letters(
            campaign, [batch], base_url=base_url, css_href=LETTERS_CSS, problems=problems)
    files[POSTER_FILE] = render_poster(campaign, base_url=base_url, css_href=LETTERS_CSS,
                                       problems=problems)
    files[LETTERS_CSS] = letters_css_path().read_text(encoding="utf-8")
    files[TOKENS_CSV] = "\ufeff" + tokens_csv(issued, session=session, base_url=base_url)
    return files


def write_letters(campaign: Campaign, issued: list[IssuedToken], out_dir: Path, *,
                  session: Session, base_url: str,
                  problems: Iterable[AddressProblem] = ()) -> list[Path]:
    """Write :func:`letter_files` into ``out_dir``; the CSV and letters are readable by the
    owner only, because they hold live survey links."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in letter_files(campaign, issued, session=session, base_url=base_url,
                                      problems=problems).items():
        path = out_dir / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                     0o644 if name in (LETTERS_CSS, POSTER_FILE) else 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(content)
        written.append(path)
    return written


def letters_zip(campaign: Campaign, issued: list[IssuedToken], *, session: Session,
                base_url: str, problems: Iterable[AddressProblem] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in letter_files(campaign, issued, session=session,
                                          base_url=base_url, problems=problems).items():
            archive.writestr(f"{campaign.slug}/{name}", content)
    return buffer.getvalue()
