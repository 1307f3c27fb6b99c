"""What a staff account's username and password must be, and how failed logins back off.

Staff accounts decide who may key paper forms and exclude responses, so they are what an
attacker of the indicator aims at. The rules:

- **Usernames** are NFKC-normalised (full-width ``ａｄｍｉｎ`` is ``admin``) and may hold
  only ASCII letters and digits, ``. _ - @`` and Chinese characters. That refuses the
  look-alikes of another script (``аdmin`` with a Cyrillic ``а``) without a confusables
  table: no Latin look-alike is left in what is allowed.
- **Passwords** have at least :data:`MIN_PASSWORD_LENGTH` characters, are not on the list
  of common passwords shipped in ``survey_app/data`` (19,640 entries, compared in lower
  case), are not all one character or all digits, and neither contain the username (of 4
  or more characters) nor are contained in it (NIST SP 800-63B §5.1.1.2: length and a
  blocklist, no composition rules).
- **Failed logins** back off per account, on top of the per-address rate limit: after
  :data:`FREE_FAILURES` failures in a row each further attempt must wait twice as long as
  the one before (from 30 s up to 15 min), whatever address it comes from. A correct
  password during the wait is refused too (otherwise the wait tells nothing), and a
  successful login clears the count.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from datetime import datetime, timedelta
from functools import cache
from importlib import resources

from flask_babel import gettext as _

MIN_PASSWORD_LENGTH = 8
MAX_USERNAME_LENGTH = 64
FREE_FAILURES = 5
FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=15)

_USERNAME = re.compile(r"[A-Za-z0-9._\-@\u4e00-\u9fff]+")


class PolicyError(ValueError):
    """A username or password breaks the account policy; the message says which rule."""


def normalise_username(raw: str) -> str:
    """The username as stored and compared: NFKC, surrounding blanks removed.

    >>> normalise_username(" ａｄｍｉｎ ")
    'admin'
    """
    return unicodedata.normalize("NFKC", raw).strip()


def check_username(raw: str) -> str:
    """The normalised username, or PolicyError saying what is wrong with it."""
    username = normalise_username(raw)
    if not username:
        raise PolicyError(_("username must not be empty"))
    if len(username) > MAX_USERNAME_LENGTH:
        raise PolicyError(_("username must have at most %(n)s characters",
                            n=MAX_USERNAME_LENGTH))
    if not _USERNAME.fullmatch(username):
        bad = next(ch for ch in username if not _USERNAME.fullmatch(ch))
        raise PolicyError(_(
            "username may hold only ASCII letters and digits, . _ - @ and Chinese "
            "characters; %(char)s (%(name)s) is not allowed", char=repr(bad),
            name=unicodedata.name(bad, "unnamed character")))
    return username


@cache
def common_passwords() -> frozenset[str]:
    data = resources.files("survey_app").joinpath("data", "common-passwords.txt.gz")
    with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def check_password(password: str, *, username: str) -> None:
    """PolicyError naming the first rule ``password`` breaks for ``username``."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PolicyError(_("password must have at least %(n)s characters",
                            n=MIN_PASSWORD_LENGTH))
    lowered = password.lower()
    if len(set(password)) == 1 or password.isdigit():
        raise PolicyError(_("password must not be all digits or one character repeated"))
    name = normalise_username(username).lower()
    # A short name ("li") is in many good passwords by chance; a longer one is not.
    if name and (lowered in name or (len(name) >= 4 and name in lowered)):
        raise PolicyError(_("password must not contain the username"))
    if lowered in common_passwords():
        raise PolicyError(_("password is on the list of commonly used passwords; choose "
                            "another"))


def login_wait(failures: int) -> timedelta:
    """How long an account must wait after ``failures`` failed logins in a row.

    >>> [login_wait(n).total_seconds() for n in (5, 6, 7, 8)]
    [0.0, 30.0, 60.0, 120.0]
    >>> login_wait(40) == LONGEST_WAIT
    True
    """
    extra = failures - FREE_FAILURES
    if extra <= 0:
        return timedelta(0)
    return min(FIRST_WAIT * 2 ** min(extra - 1, 16), LONGEST_WAIT)


def login_blocked(failures: int, last_failure: datetime | None, now: datetime) -> bool:
    """Whether an attempt at ``now`` falls inside the wait earned by the failures so far."""
    if last_failure is None:
        return False
    return now < last_failure + login_wait(failures)
