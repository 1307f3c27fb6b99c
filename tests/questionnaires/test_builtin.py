"""The two built-in questionnaires: valid, uniform scale, skip logic, storage round trips."""

from __future__ import annotations

import subprocess
import sys

import pytest

from questionnaires import (
    Questionnaire,
    RatingQuestion,
    SingleChoiceQuestion,
    builtin_names,
    dump_yaml,
    load_builtin,
    load_text,
)

REQUIRED_DIMENSIONS = {
    "policy_awareness": "政策知晓",
    "process_fairness": "公开公平",
    "payment_timeliness": "资金发放及时足额",
    "housing_improvement": "居住条件改善",
    "staff_attitude": "工作人员服务态度",
    "information_disclosure": "信息公开",
    "complaint_handling": "投诉处理",
    "procedure_convenience": "办理便捷",
    "overall": "总体满意度",
}
BENEFIT_LABEL = {"relocated": "补偿标准", "rental_subsidy": "补贴标准"}


def test_builtin_names():
    assert builtin_names() == ("relocated", "rental_subsidy")


def test_unknown_builtin_name():
    with pytest.raises(ValueError, match="available: relocated, rental_subsidy"):
        load_builtin("public_rental")


@pytest.mark.parametrize("name", ["relocated", "rental_subsidy"])
class TestBuiltin:
    def test_validates(self, name):
        questionnaire = load_builtin(name)
        assert questionnaire.id == name
        assert 12 <= len(list(questionnaire.questions())) <= 17

    def test_scale_reads_exactly(self, name):
        scale = load_builtin(name).scale
        assert [label.zh_CN for label in scale.codes.values()] == [
            "非常满意",
            "满意",
            "一般",
            "不满意",
            "非常不满意",
        ]
        assert list(scale.codes) == ["5", "4", "3", "2", "1"]
        assert (scale.na_code, scale.na_label.zh_CN) == ("9", "不清楚")
        assert "scores" not in load_builtin(name).to_dict()["scale"]

    def test_dimensions(self, name):
        questionnaire = load_builtin(name)
        labels = {d.id: d.label.zh_CN for d in questionnaire.dimensions}
        assert labels == {**REQUIRED_DIMENSIONS, "benefit_standard": BENEFIT_LABEL[name]}
        assert all(d.label.en for d in questionnaire.dimensions)
        assert {item.dimension for item in questionnaire.rating_items()} == set(labels)

    def test_overall_item(self, name):
        overall = load_builtin(name).overall_item()
        assert (overall.id, overall.dimension) == ("overall_satisfaction", "overall")
        assert overall.show_if is None and overall.required

    def test_complaint_handling_only_after_a_complaint(self, name):
        questionnaire = load_builtin(name)
        complained = questionnaire.question("has_complained")
        assert isinstance(complained, SingleChoiceQuestion)
        assert [(o.code, o.label.zh_CN) for o in complained.options] == [("1", "是"), ("2", "否")]
        handling = questionnaire.question("complaint_handling")
        assert isinstance(handling, RatingQuestion)
        assert handling.show_if is not None
        assert (handling.show_if.question, handling.show_if.codes()) == ("has_complained", ("1",))

    def test_respondent_facts_and_comment(self, name):
        questionnaire = load_builtin(name)
        size = questionnaire.question("household_size")
        assert (size.type, size.min, size.max) == ("integer", 1, 20)
        assert questionnaire.question("is_household_head").type == "single"
        assert questionnaire.question("age_band").type == "single"
        awareness = questionnaire.question("knows_policy")
        assert [o.label.zh_CN for o in awareness.options] == ["了解", "部分了解", "不了解"]
        comments = questionnaire.question("comments")
        assert comments.type == "text" and not comments.required
        assert comments.text.zh_CN.endswith("意见和建议？")

    def test_every_text_is_translated(self, name):
        questionnaire = load_builtin(name)
        for question in questionnaire.questions():
            assert question.text.en, question.id
            for option in questionnaire.options(question.id):
                assert option.label.en, (question.id, option.code)
        assert all(section.title.en for section in questionnaire.sections)

    def test_content_hash_is_stable_across_reload(self, name):
        load_builtin.cache_clear()
        first = load_builtin(name).content_hash()
        load_builtin.cache_clear()
        assert load_builtin(name).content_hash() == first
        assert len(first) == 64

    def test_dict_round_trip(self, name):
        questionnaire = load_builtin(name)
        data = questionnaire.to_dict()
        rebuilt = Questionnaire.from_dict(data)
        assert rebuilt == questionnaire
        assert rebuilt.content_hash() == questionnaire.content_hash()

    def test_yaml_round_trip(self, name):
        questionnaire = load_builtin(name)
        assert load_text(dump_yaml(questionnaire)) == questionnaire


def test_the_two_questionnaires_share_ids_for_pooling():
    relocated, rental = load_builtin("relocated"), load_builtin("rental_subsidy")
    assert [q.id for q in relocated.questions()] == [q.id for q in rental.questions()]
    assert relocated.content_hash() != rental.content_hash()


def test_content_hash_ignores_formatting_and_spelled_out_defaults(mini):
    from tests.questionnaires.conftest import MINI_YAML

    reformatted = MINI_YAML.replace(
        "        dimension: service\n", "        dimension: service\n        required: true\n"
    ).replace("id: mini\n", "# a comment\nid:   mini\n")
    assert reformatted != MINI_YAML
    assert load_text(reformatted).content_hash() == mini.content_hash()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("{zh_CN: 对服务态度是否满意？}", "{zh_CN: 对服务态度满意吗？}"),
        ("{zh_CN: 测试问卷, en: Test questionnaire}", "{zh_CN: 测试问卷, en: Test survey}"),
        ('{code: "2", label: {zh_CN: 否}}', '{code: "3", label: {zh_CN: 否}}'),
        ("max_length: 10", "max_length: 11"),
    ],
    ids=["question-text", "english-title", "option-code", "max-length"],
)
def test_content_hash_changes_with_content(mini, old, new):
    from tests.questionnaires.conftest import MINI_YAML

    assert old in MINI_YAML
    assert load_text(MINI_YAML.replace(old, new)).content_hash() != mini.content_hash()


def test_package_does_not_import_the_web_stack():
    # A fresh interpreter: the test session itself has Flask loaded by other tests.
    code = (
        "import sys, questionnaires, questionnaires.xlsform; "
        "questionnaires.load_builtin('relocated'); "
        "web = {'flask', 'sqlmodel', 'sqlalchemy', 'survey_app'}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & web))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "scores",
    ['{"5": 100, "4": 80, "3": 60, "2": 40, "1": 20}', "{1: 20.0, 2: 40, 3: 60, 4: 80, 5: 100}"],
    ids=["as-written-before", "other-order-and-types"],
)
def test_files_spelling_out_the_fixed_scores_still_load(mini, scores):
    """Files and stored versions from before scale.scores was retired: accepted, dropped."""
    from tests.questionnaires.conftest import MINI_YAML

    old = MINI_YAML.replace('  na_code: "9"\n', f'  na_code: "9"\n  scores: {scores}\n')
    assert old != MINI_YAML
    assert load_text(old) == mini
    assert load_text(old).content_hash() == mini.content_hash()
    stored = {**mini.to_dict(), "scale": {**mini.to_dict()["scale"], "scores": {
        "5": 100, "4": 80, "3": 60, "2": 40, "1": 20}}}
    assert Questionnaire.from_dict(stored) == mini
