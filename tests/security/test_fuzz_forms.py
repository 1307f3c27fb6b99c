"""Hypothesis over every form: hostile values and extra keys never cause a server error, and
the extra keys (``role=admin``, ``household_id=…``, ``status=…``, ``campaign_id=…``) never
reach the database.

Each example runs in a savepoint rolled back afterwards; the rows it created are checked
before the rollback. Example counts are small so that the suite stays fast; the strategies
lean on the values most likely to break something (NUL and other control characters,
empty, huge, non-BMP, repeated keys).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from questionnaires import load_builtin
from survey_app.models import Campaign, PaperForm, Response, Role, User
from tests.security.conftest import WRONG_TOKEN, login_cookie
from tests.services.rosters import HEADER_EN

EXAMPLES = 12
RELOCATED_IDS = [q.id for q in load_builtin("relocated").questions()]

hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(max_codepoint=0x1F), max_size=8),  # control characters, NUL
    st.sampled_from(["", " ", "\x00", "\u202e", "\ud7ff", "😀" * 3, "=1+1", "<script>",
                     "'; DROP TABLE response; --", "-1", "1e309", "NaN", "9" * 40, "0x10",
                     "2021-02-30", "9999-99-99"]),
    st.integers(min_value=600, max_value=30_000).map(lambda n: "长" * n),  # huge
)


@dataclass(frozen=True)
class Form:
    route: str  # "POST" path with {placeholders} filled from the scenario
    role: str
    fields: tuple[str, ...]

    def __str__(self):
        return self.route


def unknown_keys(scenario) -> dict[str, str]:
    """Keys no form has: none of them may change what is stored."""
    return {"role": "admin", "household_id": str(scenario.household_b), "status": "closed",
            "campaign_id": "999999", "id": "1", "is_demo": "1", "sampled": "0",
            "mode": "paper", "entered_by_id": str(scenario.user_ids["worker_b"]),
            "community_id": "1", "session_version": "0", "excluded": "1"}


ANSWERS = tuple(f"a_{qid}" for qid in RELOCATED_IDS)
SURVEY_BUTTONS = ("instance_id", "submit", "save", "larger_text", "normal_text")
FORMS = [
    Form("/c/{slug}/relocated", "anonymous", ANSWERS + SURVEY_BUTTONS),
    Form("/s/{token}", "anonymous", ANSWERS + SURVEY_BUTTONS),
    Form("/s/" + WRONG_TOKEN, "anonymous", ANSWERS + SURVEY_BUTTONS),
    Form("/auth/login", "anonymous", ("username", "password", "next")),
    Form("/entry/{slug}/", "worker_a", ("code", "batch")),
    Form("/entry/{slug}/households/{household_a}/enter", "worker_a",
         tuple(f"q_{qid}" for qid in RELOCATED_IDS) + ("batch",)),
    Form("/entry/{slug}/households/{household_a}", "worker_a", ("disposition",)),
    Form("/entry/{slug}/forms/{conflict_form_id}/reconcile", "admin",
         ("reason", "q_overall_satisfaction")),
    Form("/entry/{slug}/forms/{held_form_id}/decide", "admin", ("decision", "reason")),
    Form("/entry/{slug}/responses/{response_id}/edit", "admin",
         ("reason", "q_comments", "q_overall_satisfaction")),
    Form("/entry/{slug}/responses/{response_id}/delete", "admin", ("reason",)),
    Form("/evaluate/{slug}/responses/{response_id}/exclusion", "evaluator",
         ("reason", "action")),
    Form("/evaluate/{slug}/quality/decisions", "evaluator",
         ("flag", "community", "mode", "decided", "reason", "exclude", "include")),
    Form("/admin/campaigns/new", "admin", ("slug", "title", "year", "district", "builtin")),
    Form("/admin/campaigns/{slug}/settings", "admin",
         ("measure", "target", "points", "rule", "deduction_per_point", "floor",
          "whole_points", "bands", "double_entry", "duplicate_rule")),
    Form("/admin/campaigns/{slug}/dates", "admin", ("opens_on", "closes_on")),
    Form("/admin/campaigns/{slug}/status", "admin", ("status",)),
    Form("/admin/campaigns/{slug}/questionnaires", "admin", ("group", "version_id")),
    Form("/admin/campaigns/{slug}/sample/settings", "admin",
         ("confidence", "margin", "response_rate")),
    Form("/admin/campaigns/{slug}/sample/draw", "admin", ("seed", "confirm_redraw")),
    Form("/admin/campaigns/{slug}/tokens", "admin", ("only_missing", "confirm_reissue",
                                                     "output")),
    Form("/admin/users", "admin", ("username", "display_name", "password", "community")),
    Form("/admin/users/{worker_a2}/active", "admin", ("active",)),
]
# Forms whose own field is named like one of the unknown keys.
OWN_STATUS_FIELD = {"/admin/campaigns/{slug}/status"}


def body_for(form: Form):
    """Some of the form's fields (hostile values, sometimes repeated) plus unknown keys."""
    value = st.one_of(hostile_text, st.lists(hostile_text, min_size=2, max_size=3))
    fields = st.dictionaries(st.sampled_from(form.fields), value, max_size=len(form.fields))
    return st.tuples(fields, st.booleans())


def _multidict(fields: dict, extra: dict) -> MultiDict:
    items = []
    for key, value in fields.items():
        items += [(key, v) for v in (value if isinstance(value, list) else [value])]
    return MultiDict(items + list(extra.items()))


def _counts(connection, scenario) -> dict[str, int]:
    count = lambda q: connection.execute(q).scalar_one()  # noqa: E731
    return {
        "admins": count(select(func.count()).select_from(User).where(User.role == Role.ADMIN)),
        "campaigns_not_draft": count(select(func.count()).select_from(Campaign).where(
            Campaign.status != "draft")),
        "open": count(select(func.count()).select_from(Campaign).where(
            Campaign.id == scenario.campaign_id, Campaign.status == "open")),
        "responses_of_b": count(select(func.count()).select_from(Response).where(
            Response.household_id == scenario.household_b)),
        "forms_of_b": count(select(func.count()).select_from(PaperForm).where(
            PaperForm.household_id == scenario.household_b)),
        "foreign_responses": count(select(func.count()).select_from(Response).where(
            Response.campaign_id != scenario.campaign_id)),
        "open_link_with_household": count(select(func.count()).select_from(Response).where(
            Response.mode == "web_open", Response.household_id.is_not(None))),
        "paper_by_b": count(select(func.count()).select_from(Response).where(
            Response.entered_by_id == scenario.user_ids["worker_b"])),
    }


@pytest.mark.slow
def test_every_form_survives_hostile_input(app, scenario, _connection):
    cookies = {role: login_cookie(app, scenario.usernames[role])
               for role in ("worker_a", "evaluator", "admin")}
    values = {"slug": scenario.slug, "token": scenario.token, "worker_a2":
              scenario.user_ids["worker_a2"], **{k: getattr(scenario, k) for k in (
                  "household_a", "conflict_form_id", "held_form_id", "response_id")}}
    baseline = _counts(_connection, scenario)
    failures = []
    for form in FORMS:
        post = _fuzzer(app, scenario, _connection, cookies, form,
                       form.route.format(**values), baseline)
        try:
            post()
        except Exception as exc:  # noqa: BLE001 - report every form, not only the first
            failures.append(f"{form}: {exc!r}"[:1500])
    assert not failures, "\n\n".join(failures)


def _fuzzer(app, scenario, connection, cookies, form: Form, url: str, baseline: dict):
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(body_for(form))
    def post(body):
        fields, with_unknown = body
        extra = unknown_keys(scenario) if with_unknown else {}
        if form.route in OWN_STATUS_FIELD:
            extra.pop("status", None)
        savepoint = connection.begin_nested()
        try:
            client = app.test_client()
            if form.role in cookies:
                client.set_cookie("session", cookies[form.role])
            response = client.post(url, data=_multidict(fields, extra), buffered=True)
            assert response.status_code < 500, (url, fields, extra)
            after = _counts(connection, scenario)
        finally:
            savepoint.rollback()
        expected = dict(baseline)
        if form.route in OWN_STATUS_FIELD:  # closing the campaign is this form's job
            for key in ("open", "campaigns_not_draft"):
                after.pop(key), expected.pop(key)
        assert after == expected, (url, fields, extra)

    return post


ROSTER_COLUMNS = st.sampled_from(HEADER_EN + ["role", "status", "household_id", "序号"])


@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(header=st.lists(ROSTER_COLUMNS, min_size=1, max_size=10),
       rows=st.lists(st.lists(hostile_text, min_size=0, max_size=10), max_size=4),
       name=st.sampled_from(["r.csv", "r.xlsx", "r.CSV", "r.txt", "", "../r.csv"]),
       raw=st.one_of(st.none(), st.binary(max_size=200)))
def test_roster_upload_survives_hostile_files(app, scenario, _connection, header, rows, name,
                                              raw):
    cookie = _roster_cookie(app, scenario)
    if raw is None:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(rows)
        raw = buffer.getvalue().encode("utf-8")
    savepoint = _connection.begin_nested()
    try:
        client = app.test_client()
        client.set_cookie("session", cookie)
        response = client.post(f"/admin/campaigns/{scenario.slug}/roster",
                               data={"roster": (io.BytesIO(raw), name), "role": "admin",
                                     "campaign_id": "999"},
                               content_type="multipart/form-data")
        assert response.status_code in (302, 400), response.status_code
        # The scenario's admins: the global one and two granted a county; no new one.
        assert _counts(_connection, scenario)["admins"] == 3
    finally:
        savepoint.rollback()


_ROSTER_COOKIES: dict[int, str] = {}


def _roster_cookie(app, scenario) -> str:
    # One login per app (hypothesis calls the test body many times with the same fixtures).
    if id(app) not in _ROSTER_COOKIES:
        _ROSTER_COOKIES[id(app)] = login_cookie(app, scenario.usernames["admin"])
    return _ROSTER_COOKIES[id(app)]


@pytest.mark.parametrize("cell", ["\x00", "a\x00b", "\x1b[31m", "\x7f"])
def test_roster_with_control_characters_is_rejected_with_row_and_column(app, scenario, cell):
    cookie = login_cookie(app, scenario.usernames["admin"])
    client = app.test_client()
    client.set_cookie("session", cookie)
    data = ("household_code,group,community,address\r\n"
            f"Z001,rental_subsidy,新社区,路{cell}1号\r\n").encode()
    response = client.post(f"/admin/campaigns/{scenario.slug}/roster",
                           data={"roster": (io.BytesIO(data), "r.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "address" in page and "控制字符" in page


def test_a_nul_anywhere_is_a_bad_request_not_a_server_error(app, scenario):
    """Every field of every form, a query value and the address itself, with one NUL."""
    cookies = {role: login_cookie(app, scenario.usernames[role])
               for role in ("worker_a", "evaluator", "admin")}
    values = {"slug": scenario.slug, "token": scenario.token, "worker_a2":
              scenario.user_ids["worker_a2"], **{k: getattr(scenario, k) for k in (
                  "household_a", "conflict_form_id", "held_form_id", "response_id")}}
    for form in FORMS:
        client = app.test_client()
        if form.role in cookies:
            client.set_cookie("session", cookies[form.role])
        url = form.route.format(**values)
        for field in form.fields:
            response = client.post(url, data={field: "a\x00b"})
            assert response.status_code == 400, (url, field, response.status_code)
    client = app.test_client()
    client.set_cookie("session", cookies["evaluator"])
    for url in (f"/c/{scenario.slug}%00", f"/evaluate/{scenario.slug}?community=%00",
                "/s/%00abc", f"/evaluate/{scenario.slug}%00/quality"):
        assert client.get(url).status_code == 400, url
