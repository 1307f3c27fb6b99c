"""The field page's skip-logic interpreter (static/field-rules.js) agrees with the server's
``validate_answers`` on 1,000 seeded answer sets per built-in questionnaire, run in
Debian's Chromium (no Node, no new dependency).

The sets mix valid answers, blanks, padding, full-width digits, out-of-range and non-integer
numbers, unknown and repeated codes, answers to questions skip logic hides, control and
bidirectional characters and over-long text, for full and partial (save) validation.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from questionnaires import load_builtin, validate_answers
from tests.live import launch_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RULES_JS = Path(__file__).parents[2] / "survey_app" / "static" / "field-rules.js"
BUILTINS = ("relocated", "rental_subsidy")
SETS = 1000
SPACES = ["", " ", "\t", "\u3000", "\xa0", "\n"]
TEXT_PIECES = ["好", "希望加快进度", " ", "\t", "\r\n", "\x00", "\x1f", "\u202e", "\ufeff",
               "😀", "a", "\u3000", "\x85"]


def _choice_entry(rng: random.Random, codes: list[str]) -> str:
    pick = rng.random()
    if pick < 0.7:
        return rng.choice(codes)
    if pick < 0.8:
        return rng.choice(SPACES) + rng.choice(codes) + rng.choice(SPACES)
    return rng.choice(["0", "6", "9", "99", "x", "", "１", " 5 "])


def _integer_entry(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.6:
        return str(rng.randint(0, 25))
    return rng.choice(["３", "+4", "-1", "007", "4.0", "1e2", "", " 12 ", "２０", "21",
                       "9" * 19, "0" * 30 + "5", "四", "-0"])


def _text_entry(rng: random.Random, max_length: int) -> str:
    if rng.random() < 0.1:
        return "长" * (max_length + rng.choice([0, 1, -1]))
    return "".join(rng.choice(TEXT_PIECES) for _ in range(rng.randint(0, 6)))


def _entries(rng: random.Random, definition: dict, question: dict) -> object:
    kind = question["type"]
    if kind == "text":
        return _text_entry(rng, question.get("max_length", 500))
    if kind == "integer":
        make = lambda: _integer_entry(rng)  # noqa: E731
    else:
        codes = ([*definition["scale"]["codes"], definition["scale"].get("na_code", "9")]
                 if kind == "rating" else [o["code"] for o in question["options"]])
        make = lambda: _choice_entry(rng, codes)  # noqa: E731
    count = rng.choice([1, 1, 1, 2, 3]) if kind == "multiple" else rng.choice([1] * 9 + [2])
    entries = [make() for _ in range(count)]
    return entries[0] if count == 1 and rng.random() < 0.5 else entries


def answer_sets(definition: dict, *, seed: int, count: int) -> list[dict]:
    rng = random.Random(seed)
    questions = [q for s in definition["sections"] for q in s["questions"]]
    sets = []
    for _ in range(count):
        skip = rng.choice([0.0, 0.05, 0.3])
        sets.append({q["id"]: _entries(rng, definition, q)
                     for q in questions if rng.random() >= skip})
    return sets


def _normal(check_values: dict) -> dict:
    return {qid: str(v) if isinstance(v, int) else v for qid, v in check_values.items()}


def test_browser_rules_agree_with_validate_answers_on_generated_answers():
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            page.add_script_tag(content=RULES_JS.read_text(encoding="utf-8"))
            for index, name in enumerate(BUILTINS):
                questionnaire = load_builtin(name)
                definition = json.loads(json.dumps(questionnaire.to_dict()))
                sets = answer_sets(definition, seed=20261206 + index, count=SETS)
                browser_results = page.evaluate(
                    """([def, sets]) => sets.map(raw => [false, true].map(partial => {
                         const r = FieldRules.validateAnswers(def, raw, partial);
                         const v = {};
                         for (const k in r.values) v[k] = typeof r.values[k] === "number"
                           ? String(r.values[k]) : r.values[k];
                         return {values: v, errors: r.errors,
                                 visible: FieldRules.visibleQuestions(def, r.values)
                                   .map(q => q.id)};
                       }))""", [definition, sets])
                mismatches = []
                for raw, pair in zip(sets, browser_results, strict=True):
                    for partial, got in zip((False, True), pair, strict=True):
                        check = validate_answers(questionnaire, raw, partial=partial)
                        visible = [q.id for q in _visible(questionnaire, check.values)]
                        want = {"values": _normal(check.values), "errors": check.errors,
                                "visible": visible}
                        if got != want:
                            mismatches.append((raw, partial, got, want))
                assert not mismatches, f"{name}: {len(mismatches)} disagree, first: " \
                                       f"{mismatches[0]!r}"
                # The generated sets exercise both outcomes and the skip rule.
                outcomes = [validate_answers(questionnaire, raw).ok for raw in sets]
                assert 0 < sum(outcomes) < SETS
        finally:
            browser.close()


def _visible(questionnaire, values):
    from questionnaires.answers import visible_questions
    return visible_questions(questionnaire, values)
