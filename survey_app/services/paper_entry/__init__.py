"""Typing in paper questionnaires: printed codes, scoping, blind double entry, reconciliation.

Printed household code
    Each paper form carries ``<household_code>-<check digit>``. The check digit is the Luhn
    (mod 10) digit of the code with letters expanded to two-digit numbers (A=10 … Z=35), the
    scheme of ISIN codes (ISO 6166). It catches every digit typed as another digit and every
    swap of neighbouring digits except 09/90, so a slip of the finger finds no household
    instead of the wrong one.

Scoping
    A worker sees and enters only households of their own community; for everything else the
    lookup functions return ``None`` exactly as for a household that does not exist, so the
    views answer 404 and never reveal that it exists. Admins see every community.

Entering (``enter_paper_form``)
    The typed answers are checked by :func:`questionnaires.validate_answers` (skip logic
    included); any error raises :class:`AnswerErrors` and nothing is written.

    * Single entry (``campaign.double_entry`` false): the entry creates the response at once
      (mode ``paper``, instance id ``paper:<paper form id>``) and the form is VERIFIED.
    * Double entry: the first entry leaves the form AWAITING_SECOND. The second entry is typed
      blind (the entry screen never shows the first). Both are compared field by field: all
      equal → response created, VERIFIED; any difference → CONFLICT, and
      :func:`disagreements` lists only the differing fields for :func:`reconcile`. The second
      entry must come from another account than the first (``EntryRefused("same_typist")``);
      a community with one worker gets its second entry from an administrator. Reconciling
      is for who keyed neither entry (:func:`may_reconcile`).

Household that already answered on the web (a COMPLETE non-paper response exists)
    * ``keep_first`` and ``keep_web``: the web response came first, so both rules keep it and
      the paper entry is refused with :class:`DuplicateOfWebResponse` (nothing is written), and
      so is a reconciliation of a form whose household answered meanwhile. A web answer
      *after* a verified paper form is refused under ``keep_first`` and ``ask_admin``, as an
      interview or an identified open-link answer is: the verified form marks the
      household's letter link used (it opens "already answered"), and the link's submit
      checks for a counted response of the household first (attack3: both used to count).
      Under ``keep_web`` the link stays open and the resident's own answer through the
      letter's link supersedes the paper response: one response counts (an identified
      open-link answer does not: an ID tail and a phone number are weaker than the letter).
    * ``ask_admin``: the entry is stored and the form is HELD. An admin decides with
      :func:`decide_held`: ``keep_web`` deletes the held paper form (its entries' fingerprints
      stay in the audit trail); ``keep_paper`` marks the web response SUPERSEDED and the paper
      form continues as if it had no web twin (AWAITING_SECOND under double entry, otherwise
      VERIFIED with its response). A CONFLICT form whose household answered meanwhile is
      HELD by its reconciliation instead of verified; the reviewer's decisions are kept
      (``Reconciliation`` rows), so ``keep_paper`` verifies it with the reconciled answers
      (the reviewer's response; the audit event names them) and ``keep_web`` deletes them
      with the form. Reconciled answers that no longer validate send it back to CONFLICT.

Reconciliation reviewers
    An admin, or a worker of the household's community who typed neither entry (the point of
    a second pair of eyes). The reviewer types the value written on the paper for each
    disagreeing field and gives a reason; the merged answers are validated again, stored as
    one response and the form becomes VERIFIED.

Only VERIFIED forms have a Response row, so only they count in statistics and exports.
Every write records an audit event (who, what, which form; answer values only as codes).

Modules
    ``households`` (printed codes, scoping), ``entering`` (typed answers, one entry round,
    comparing two rounds), ``reconciliation`` (disagreements, held forms, agreement
    statistics). Callers use the names re-exported here.
"""

from survey_app.services.paper_entry.entering import (
    AnswerErrors,
    DuplicateOfWebResponse,
    EntryOutcome,
    EntryRefused,
    differing_fields,
    display_value,
    enter_paper_form,
    entrants,
    entry_round_for,
    questionnaire_for,
    typed_answers,
    typed_to_raw,
    web_response_of,
)
from survey_app.services.paper_entry.households import (
    PrintedCodeError,
    check_digit,
    find_household,
    household_for,
    may_see_community,
    paper_form_for,
    parse_printed_code,
    printed_code,
    scoped_households,
)
from survey_app.services.paper_entry.reconciliation import (
    DECISIONS,
    AgreementStats,
    Disagreement,
    EntryQuality,
    HeldReconciliation,
    ReconciliationRefused,
    decide_held,
    disagreements,
    entry_quality,
    forms_needing_attention,
    held_reconciliation,
    may_reconcile,
    reconcile,
)

__all__ = [
    "DECISIONS",
    "AgreementStats", "AnswerErrors", "Disagreement", "DuplicateOfWebResponse",
    "EntryOutcome", "EntryQuality", "EntryRefused", "HeldReconciliation", "PrintedCodeError",
    "ReconciliationRefused",
    "check_digit", "decide_held", "differing_fields", "disagreements", "display_value",
    "enter_paper_form", "entrants", "entry_quality", "entry_round_for", "find_household",
    "forms_needing_attention", "held_reconciliation", "household_for", "may_reconcile",
    "may_see_community",
    "paper_form_for", "parse_printed_code", "printed_code", "questionnaire_for",
    "reconcile", "scoped_households", "typed_answers", "typed_to_raw", "web_response_of",
]
