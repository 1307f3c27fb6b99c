"""read_survey_post reads a post exactly as SurveyAnswerForm would validate it."""

from __future__ import annotations

import itertools
import uuid

import pytest
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import MultiDict

from survey_app import create_app
from survey_app.public.forms import BUTTONS, SurveyAnswerForm, read_survey_post
from tests.fixtures.settings import TEST_SETTINGS

GOOD_ID = str(uuid.uuid4())
INSTANCE_IDS = [GOOD_ID, None, "", "   ", GOOD_ID.upper(), GOOD_ID + "\n", GOOD_ID + "x",
                str(uuid.uuid1()), "../../etc"]
BUTTON_VALUES = [None, "", "false", "1", "提交"]


@pytest.fixture(params=[True, False], ids=["csrf-on", "csrf-off"])
def csrf_app(request):
    return create_app({**TEST_SETTINGS, "DATABASE_URL": "sqlite://",
                       "WTF_CSRF_ENABLED": request.param})


def _formdata(instance_id, csrf, button, value) -> MultiDict:
    data = MultiDict()
    if instance_id is not None:
        data["instance_id"] = instance_id
    if csrf is not None:
        data["csrf_token"] = csrf
    if value is not None:
        data[button] = value
    return data


def test_same_verdict_as_the_form(csrf_app):
    with csrf_app.test_request_context("/", method="POST"):
        good_csrf = generate_csrf()
        cases = itertools.product(INSTANCE_IDS, [good_csrf, None, "forged", good_csrf[:-2]],
                                  BUTTONS, BUTTON_VALUES)
        checked = 0
        for instance_id, csrf, button, value in cases:
            data = _formdata(instance_id, csrf, button, value)
            form = SurveyAnswerForm(formdata=data)
            form.validate()
            post = read_survey_post(data)
            assert (post.instance_id is not None) == ("instance_id" not in form.errors), data
            assert post.instance_id == (form.instance_id.data if post.instance_id else None)
            assert (post.csrf_error is not None) == ("csrf_token" in form.errors), data
            assert post.pressed == {name for name in BUTTONS if form[name].data}, data
            checked += 1
        assert checked == len(INSTANCE_IDS) * 4 * len(BUTTONS) * len(BUTTON_VALUES)


def test_csrf_error_says_why():
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": "sqlite://", "WTF_CSRF_ENABLED": True})
    with app.test_request_context("/", method="POST"):
        generate_csrf()
        assert read_survey_post(MultiDict({"instance_id": GOOD_ID})).csrf_error == \
            "The CSRF token is missing."
        assert read_survey_post(MultiDict({"csrf_token": "x"})).csrf_error == \
            "The CSRF token is invalid."
