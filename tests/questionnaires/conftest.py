"""Fixtures for the questionnaire tests: a small valid definition to break in many ways."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from questionnaires import Questionnaire, load_text

MINI_YAML = """\
id: mini
title: {zh_CN: 测试问卷, en: Test questionnaire}
scale:
  codes:
    "5": {zh_CN: 非常满意}
    "4": {zh_CN: 满意}
    "3": {zh_CN: 一般}
    "2": {zh_CN: 不满意}
    "1": {zh_CN: 非常不满意}
  na_code: "9"
  na_label: {zh_CN: 不清楚}
dimensions:
  - {id: service, label: {zh_CN: 服务态度}}
  - {id: complaint, label: {zh_CN: 投诉处理}}
  - {id: overall, label: {zh_CN: 总体满意度}}
sections:
  - id: basics
    title: {zh_CN: 基本情况}
    questions:
      - id: household_size
        type: integer
        text: {zh_CN: 家庭人口}
        min: 1
        max: 20
      - id: has_complained
        type: single
        text: {zh_CN: 是否投诉过？}
        options:
          - {code: "1", label: {zh_CN: 是}}
          - {code: "2", label: {zh_CN: 否}}
      - id: complaint_channels
        type: multiple
        text: {zh_CN: 通过哪些渠道投诉？}
        show_if: {question: has_complained, equals: "1"}
        options:
          - {code: "1", label: {zh_CN: 电话}}
          - {code: "2", label: {zh_CN: 上门}}
          - {code: "10", label: {zh_CN: 网上}}
  - id: ratings
    title: {zh_CN: 满意度}
    questions:
      - id: staff_attitude
        type: rating
        dimension: service
        text: {zh_CN: 对服务态度是否满意？}
      - id: complaint_handling
        type: rating
        dimension: complaint
        show_if: {question: has_complained, in: ["1"]}
        text: {zh_CN: 对投诉处理是否满意？}
      - id: overall_satisfaction
        type: rating
        dimension: overall
        overall: true
        allow_na: false
        text: {zh_CN: 总体是否满意？}
      - id: comments
        type: text
        required: false
        max_length: 10
        text: {zh_CN: 意见和建议}
"""


@pytest.fixture
def mini_definition() -> dict[str, Any]:
    """The small valid definition as plain data, fresh for each test."""
    return copy.deepcopy(_MINI_DATA)


@pytest.fixture
def mini() -> Questionnaire:
    return load_text(MINI_YAML, source="mini.yaml")


@pytest.fixture
def load_mutated(mini_definition: dict[str, Any]) -> Callable[..., Questionnaire]:
    """Apply a mutation to the small definition, write it as YAML and load it."""

    def load(mutate: Callable[[dict[str, Any]], object]) -> Questionnaire:
        mutate(mini_definition)
        text = yaml.safe_dump(mini_definition, allow_unicode=True, sort_keys=False)
        return load_text(text, source="mini.yaml")

    return load


_MINI_DATA = yaml.safe_load(MINI_YAML)
