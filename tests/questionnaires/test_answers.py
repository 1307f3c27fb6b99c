"""Answer validation shared by the web form, the API and paper entry."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from questionnaires import load_builtin, validate_answers, visible_questions

COMPLETE = {
    "household_size": "3",
    "has_complained": "2",
    "staff_attitude": "5",
    "overall_satisfaction": "4",
}


def test_complete_answers(mini):
    check = validate_answers(mini, COMPLETE)
    assert check.ok
    assert check.values == {
        "household_size": 3,
        "has_complained": "2",
        "staff_attitude": "5",
        "overall_satisfaction": "4",
    }


def test_required_question_missing(mini):
    answers = {k: v for k, v in COMPLETE.items() if k != "staff_attitude"}
    check = validate_answers(mini, answers)
    assert check.errors == {"staff_attitude": "required"}
    assert "staff_attitude" not in check.values


@pytest.mark.parametrize("blank", ["", "   ", [], [""], None])
def test_blank_answer_counts_as_missing(mini, blank):
    check = validate_answers(mini, {**COMPLETE, "staff_attitude": blank})
    assert check.errors == {"staff_attitude": "required"}


def test_skipped_question_required_only_when_shown(mini):
    check = validate_answers(mini, {**COMPLETE, "has_complained": "1"})
    assert check.errors == {"complaint_channels": "required", "complaint_handling": "required"}


def test_answer_to_hidden_question_is_dropped(mini):
    posted = {**COMPLETE, "complaint_handling": "1", "complaint_channels": ["1", "2"]}
    check = validate_answers(mini, posted)
    assert check.ok
    assert "complaint_handling" not in check.values
    assert "complaint_channels" not in check.values


def test_invalid_answer_to_hidden_question_is_not_an_error(mini):
    check = validate_answers(mini, {**COMPLETE, "complaint_handling": "banana"})
    assert check.ok


def test_shown_question_is_kept(mini):
    posted = {
        **COMPLETE,
        "has_complained": "1",
        "complaint_handling": "9",
        "complaint_channels": ["10", "2", "2"],
    }
    check = validate_answers(mini, posted)
    assert check.ok
    assert check.values["complaint_handling"] == "9"
    assert check.values["complaint_channels"] == ["2", "10"]  # numeric order, no duplicates


def test_invalid_skip_source_hides_its_dependants(mini):
    check = validate_answers(mini, {**COMPLETE, "has_complained": "7", "complaint_handling": "5"})
    assert check.errors == {"has_complained": "invalid_choice"}
    assert "complaint_handling" not in check.values


@pytest.mark.parametrize(
    ("qid", "posted", "error"),
    [
        ("staff_attitude", "6", "invalid_choice"),
        ("staff_attitude", "非常满意", "invalid_choice"),
        ("staff_attitude", ["5", "4"], "invalid_choice"),
        ("overall_satisfaction", "9", "invalid_choice"),  # allow_na: false
        ("has_complained", "3", "invalid_choice"),
        ("household_size", "0", "out_of_range"),
        ("household_size", "21", "out_of_range"),
        ("household_size", "-1", "out_of_range"),
        ("household_size", "9" * 40, "out_of_range"),
        ("household_size", "2.5", "not_an_integer"),
        ("household_size", "three", "not_an_integer"),
        ("household_size", "1_0", "not_an_integer"),
        ("household_size", ["2", "3"], "not_an_integer"),
        ("comments", "x" * 11, "too_long"),
    ],
)
def test_invalid_answers(mini, qid, posted, error):
    check = validate_answers(mini, {**COMPLETE, qid: posted})
    assert check.errors == {qid: error}
    assert qid not in check.values


def test_invalid_multiple_choice(mini):
    posted = {**COMPLETE, "has_complained": "1", "complaint_channels": ["1", "4"]}
    posted["complaint_handling"] = "3"
    assert validate_answers(mini, posted).errors == {"complaint_channels": "invalid_choice"}


@pytest.mark.parametrize(
    ("posted", "stored"),
    [(" 3 ", 3), ("３", 3), ("+4", 4), ("020", 20), ("1", 1), ("20", 20)],
    ids=["spaces", "full-width", "plus", "leading-zero", "min", "max"],
)
def test_integer_forms(mini, posted, stored):
    check = validate_answers(mini, {**COMPLETE, "household_size": posted})
    assert check.values["household_size"] == stored


@pytest.mark.parametrize(
    ("posted", "stored"),
    [
        ("  好\r\n很好 ", "好\n很好"),
        ("a\x00b\x1bc", "abc"),
        ("a\tb", "a b"),
        ("\u202eabc", "abc"),
        ("x" * 10, "x" * 10),
    ],
    ids=["crlf-and-strip", "control-chars", "tab", "bidi-override", "at-max-length"],
)
def test_text_is_cleaned(mini, posted, stored):
    check = validate_answers(mini, {**COMPLETE, "comments": posted})
    assert check.ok
    assert check.values["comments"] == stored


def test_text_of_only_control_characters_is_no_answer(mini):
    check = validate_answers(mini, {**COMPLETE, "comments": "\x00\x01 "})
    assert check.ok and "comments" not in check.values


def test_partial_mode_skips_required_but_not_other_checks(mini):
    check = validate_answers(mini, {"household_size": "99", "staff_attitude": "4"}, partial=True)
    assert check.errors == {"household_size": "out_of_range"}
    assert check.values == {"staff_attitude": "4"}


def test_unknown_keys_are_ignored(mini):
    check = validate_answers(mini, {**COMPLETE, "csrf_token": "abc", "is_admin": "1"})
    assert check.ok and set(check.values) == set(COMPLETE)


def test_multidict_like_input(mini):
    class MultiDict(dict):
        """Stands in for werkzeug.MultiDict: get() returns the first value."""

        def get(self, key, default=None):
            return super().get(key, [default])[0]

        def getlist(self, key):
            return list(super().get(key, []))

    posted = MultiDict({k: [v] for k, v in COMPLETE.items()})
    posted["has_complained"] = ["1"]
    posted["complaint_channels"] = ["2", "1"]
    posted["complaint_handling"] = ["5"]
    check = validate_answers(mini, posted)
    assert check.ok
    assert check.values["complaint_channels"] == ["1", "2"]


def test_non_string_values_from_json(mini):
    check = validate_answers(mini, {**COMPLETE, "household_size": 3, "staff_attitude": 5})
    assert check.ok
    assert check.values["household_size"] == 3
    assert check.values["staff_attitude"] == "5"


def test_visible_questions(mini):
    ids = [q.id for q in visible_questions(mini, {"has_complained": "2"})]
    assert "complaint_handling" not in ids and "complaint_channels" not in ids
    ids = [q.id for q in visible_questions(mini, {"has_complained": "1"})]
    assert "complaint_handling" in ids and "complaint_channels" in ids
    assert len(visible_questions(mini, {})) == len(list(mini.questions())) - 2


def test_visible_questions_with_multiple_choice_condition(mini_definition):
    from questionnaires import Questionnaire

    ratings = mini_definition["sections"][1]["questions"]
    ratings[1]["show_if"] = {"question": "complaint_channels", "in": ["2", "10"]}
    questionnaire = Questionnaire.from_dict(mini_definition)

    def shown(values):
        return "complaint_handling" in [q.id for q in visible_questions(questionnaire, values)]

    assert shown({"has_complained": "1", "complaint_channels": ["1", "10"]})
    assert not shown({"has_complained": "1", "complaint_channels": ["1"]})
    # A stale answer to a hidden question does not make its dependants visible.
    assert not shown({"has_complained": "2", "complaint_channels": ["10"]})


def test_builtin_complaint_skip_logic():
    questionnaire = load_builtin("relocated")
    ratings = {item.id: "4" for item in questionnaire.rating_items()}
    base = {
        **ratings,
        "is_household_head": "1",
        "age_band": "2",
        "household_size": "4",
        "knows_policy": "2",
    }
    no = validate_answers(questionnaire, {**base, "has_complained": "2"})
    assert no.ok and "complaint_handling" not in no.values
    yes = validate_answers(questionnaire, {**base, "has_complained": "1"})
    assert yes.ok and yes.values["complaint_handling"] == "4"
    missing = {k: v for k, v in base.items() if k != "complaint_handling"}
    assert validate_answers(questionnaire, {**missing, "has_complained": "1"}).errors == {
        "complaint_handling": "required"
    }


MINI_IDS = [
    "household_size",
    "has_complained",
    "complaint_channels",
    "staff_attitude",
    "complaint_handling",
    "overall_satisfaction",
    "comments",
]
posted_value = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.sampled_from(["1", "2", "5", "9", "10", "20", " 3 ", "-0"]),
    st.integers(),
    st.lists(st.one_of(st.text(max_size=5), st.sampled_from(["1", "2", "10"])), max_size=4),
)
posted_dicts = st.dictionaries(
    keys=st.one_of(st.sampled_from(MINI_IDS), st.text(max_size=10)), values=posted_value
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(posted=posted_dicts, partial=st.booleans())
def test_arbitrary_posts_never_raise(mini, posted, partial):
    check = validate_answers(mini, posted, partial=partial)
    known = set(MINI_IDS)
    assert set(check.values) <= known and set(check.errors) <= known
    assert not set(check.values) & set(check.errors)
    visible = {q.id for q in visible_questions(mini, check.values)}
    assert set(check.values) <= visible
    # Stored values pass validation again unchanged (what the app stores, it can re-check).
    if not check.errors:
        resubmitted = {
            k: [str(v) for v in value] if isinstance(value, list) else str(value)
            for k, value in check.values.items()
        }
        assert validate_answers(mini, resubmitted, partial=partial).values == check.values
