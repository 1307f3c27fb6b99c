"""The comment corpus (``data/comment_corpus.yaml``): comments with personal data, each
with the strings that identify somebody, and comments without any."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

CORPUS = Path(__file__).parent / "data" / "comment_corpus.yaml"
_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


@dataclass(frozen=True)
class PersonalComment:
    text: str
    personal: tuple[str, ...]


@cache
def personal_comments() -> tuple[PersonalComment, ...]:
    data = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    return tuple(PersonalComment(item["text"], tuple(item["personal"]))
                 for item in data["personal"])


@cache
def clean_comments() -> tuple[str, ...]:
    return tuple(yaml.safe_load(CORPUS.read_text(encoding="utf-8"))["clean"])


def digits(text: str) -> str:
    return re.sub(r"\D", "", text.translate(_FULL_WIDTH))


def leaks(text: str, personal: tuple[str, ...] | None = None) -> list[str]:
    """The corpus's personal strings found in ``text``: as written, or (numbers of 7 or
    more digits) as their digits with the separators dropped."""
    if personal is None:
        personal = tuple(p for c in personal_comments() for p in c.personal)
    flat = digits(text)
    return [p for p in personal
            if p in text or (len(digits(p)) >= 7 and digits(p) in flat)]
