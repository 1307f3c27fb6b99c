"""The read-only JSON API: bearer tokens, the OpenAPI document, responses that conform to it."""

import json

import jsonschema
import pytest
from openapi_spec_validator import validate

from survey_app.api.openapi import openapi_document
from survey_app.models import Role
from survey_app.services import api_tokens, demo, demo_previous
from tests.factories import make_user


def _schema(name: str) -> dict:
    # Resolve "#/components/..." references against the whole document.
    return {"$ref": f"#/components/schemas/{name}", "components": openapi_document()["components"]}


def _conforms(payload: dict, name: str) -> None:
    jsonschema.validate(payload, _schema(name), cls=jsonschema.Draft202012Validator,
                        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _token(session, role=Role.EVALUATOR) -> str:
    return api_tokens.create_api_token(make_user(session, role), session=session)


def test_openapi_document_is_valid_and_public(client):
    validate(openapi_document())
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == json.loads(json.dumps(openapi_document()))


@pytest.mark.parametrize("header, status", [
    (None, 401),
    ("Bearer", 401),
    ("Basic abc", 401),
    ("Bearer not-a-token", 401),
])
def test_requests_without_a_valid_token_get_401(client, header, status):
    headers = {"Authorization": header} if header else {}
    for path in ("/api/v1/campaigns", "/api/v1/campaigns/x/scores", "/api/v1/campaigns/x/progress"):
        response = client.get(path, headers=headers)
        assert response.status_code == status
        _conforms(response.get_json(), "Error")


def test_worker_token_gets_403_and_revoked_token_401(app, client, session):
    worker = _token(session, Role.WORKER)
    response = client.get("/api/v1/campaigns", headers={"Authorization": f"Bearer {worker}"})
    assert response.status_code == 403
    _conforms(response.get_json(), "Error")
    evaluator = make_user(session, Role.EVALUATOR)
    token = api_tokens.create_api_token(evaluator, session=session)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/campaigns", headers=headers).status_code == 200
    from sqlmodel import select

    from survey_app.models import ApiToken
    record = session.exec(select(ApiToken).where(ApiToken.user_id == evaluator.id)).one()
    api_tokens.revoke_api_token(record.id, session=session)
    assert client.get("/api/v1/campaigns", headers=headers).status_code == 401


@pytest.mark.demo_data
def test_every_api_response_conforms_to_the_openapi_document(app, client, session):
    headers = {"Authorization": f"Bearer {_token(session)}"}
    listing = client.get("/api/v1/campaigns", headers=headers)
    assert listing.status_code == 200 and listing.headers["Cache-Control"] == "no-store"
    _conforms(listing.get_json(), "CampaignList")
    # Heshan, its 2020 predecessor and the demo region's two other counties.
    assert sorted(c["slug"] for c in listing.get_json()["campaigns"]) == sorted(
        [demo.SLUG, demo_previous.SLUG, "taojiang-2021", "ziyang-2021"])
    rollup = client.get("/api/v1/units/430900/2021/rollup", headers=headers)
    assert rollup.status_code == 200 and len(rollup.get_json()["counties"]) == 3
    _conforms(rollup.get_json(), "Rollup")

    base = f"/api/v1/campaigns/{demo.SLUG}"
    progress = client.get(base + "/progress", headers=headers)
    _conforms(progress.get_json(), "Progress")
    p = progress.get_json()
    assert p["households"] == 3100 and p["completed"] == sum(p["completed_by_mode"].values())

    for query in ("", "?group=relocated", "?community=HS-THL&mode=paper", "?project=P01",
                  "?mode=web&date_from=2021-11-03&date_to=2021-11-03",
                  "?include_excluded=y", "?weighting=raked",
                  "?weighting=raked&community=HS-THL&mode=paper"):
        response = client.get(base + "/scores" + query, headers=headers)
        assert response.status_code == 200, query
        _conforms(response.get_json(), "Scores")
    one_day = client.get(base + "/scores?date_from=2021-11-03&date_to=2021-11-03&mode=paper",
                         headers=headers).get_json()
    # Fewer than 5 respondents: counts only, never scores.
    assert one_day["n_respondents"] < 5 and one_day["pooled"] == {
        "respondents": one_day["n_respondents"], "suppressed": True}
    assert one_day["indicator"] is None

    bad = client.get(base + "/scores?mode=fax&date_from=2021-12-01&date_to=2021-11-01",
                     headers=headers)
    assert bad.status_code == 400
    _conforms(bad.get_json(), "Error")
    assert set(bad.get_json()["fields"]) == {"mode", "date_to"}
    unknown = client.get(base + "/scores?weighting=calibrated", headers=headers)
    assert unknown.status_code == 400 and set(unknown.get_json()["fields"]) == {"weighting"}
    missing = client.get("/api/v1/campaigns/nope/scores", headers=headers)
    assert missing.status_code == 404
    _conforms(missing.get_json(), "Error")


@pytest.mark.demo_data
def test_cli_scores_json_is_the_api_document(app, client, session, runner):
    headers = {"Authorization": f"Bearer {_token(session)}"}
    api = client.get(f"/api/v1/campaigns/{demo.SLUG}/scores", headers=headers).get_json()
    result = runner.invoke(args=["scores", demo.SLUG, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == api
    raked_api = client.get(f"/api/v1/campaigns/{demo.SLUG}/scores?weighting=raked",
                           headers=headers).get_json()
    raked_cli = runner.invoke(args=["scores", demo.SLUG, "--weighting", "raked"])
    assert raked_cli.exit_code == 0, raked_cli.output
    assert json.loads(raked_cli.output) == raked_api != api
    assert raked_api["filters"]["weighting"] == "raked"
    text = runner.invoke(args=["scores", demo.SLUG, "--format", "text"])
    assert "overall_satisfaction" in text.output and "indicator:" in text.output
    assert runner.invoke(args=["scores", "nope"]).exit_code != 0


@pytest.mark.demo_data
def test_cli_export_anchors_the_snapshot_it_wrote(app, session, runner, tmp_path):
    from sqlmodel import select

    from survey_app.models import AuditEvent, AuditSeal
    from survey_app.services import campaigns, scores

    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    snapshot = scores.scores_document(campaign, session=session).snapshot
    out = tmp_path / "responses.csv"
    result = runner.invoke(args=["export", demo.SLUG, "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "scores.snapshot")).one()
    assert event.details == {"snapshot": snapshot, "for": "export.csv"}
    assert event.actor_label == "cli"
    assert session.exec(select(AuditSeal).where(AuditSeal.event_id == event.id)).one()


def test_a_token_lasts_180_days_by_default_and_an_expired_one_gets_a_clear_401(
        client, session):
    from datetime import timedelta

    from sqlmodel import select

    from survey_app.models import ApiToken, as_utc, utcnow

    evaluator = make_user(session, Role.EVALUATOR)
    token = api_tokens.create_api_token(evaluator, session=session)
    record = session.exec(select(ApiToken).where(ApiToken.user_id == evaluator.id)).one()
    lifetime = as_utc(record.expires_at) - as_utc(record.created_at)
    assert abs(lifetime - timedelta(days=180)) < timedelta(minutes=1)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/campaigns", headers=headers).status_code == 200
    record.expires_at = utcnow() - timedelta(seconds=1)
    session.add(record)
    session.flush()
    refused = client.get("/api/v1/campaigns", headers=headers)
    assert refused.status_code == 401
    _conforms(refused.get_json(), "Error")
    assert "expired" in refused.get_json()["message"]
    assert record.expires_at.strftime("%Y-%m-%d") in refused.get_json()["message"]
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def test_an_expired_token_is_not_counted_as_a_guess(make_app, session):
    from datetime import timedelta

    client = make_app(RATELIMIT_ENABLED=True, TOKEN_RATE_LIMIT="2 per day").test_client()
    token = api_tokens.create_api_token(make_user(session, Role.EVALUATOR), session=session,
                                        days=1)
    from sqlmodel import select

    from survey_app.models import ApiToken, utcnow

    record = session.exec(select(ApiToken).order_by(ApiToken.id.desc())).first()
    record.expires_at = utcnow() - timedelta(hours=1)
    session.flush()
    headers = {"Authorization": f"Bearer {token}"}
    assert [client.get("/api/v1/campaigns", headers=headers).status_code
            for _ in range(4)] == [401] * 4


def test_the_cli_creates_a_token_with_an_expiry_and_lists_it(runner, session):
    from datetime import timedelta

    from sqlmodel import select

    from survey_app.models import ApiToken, as_utc, utcnow

    user = make_user(session, Role.EVALUATOR)
    created = runner.invoke(args=["api-token", "create", user.username, "--name", "ci",
                                  "--days", "30"])
    assert created.exit_code == 0, created.output
    record = session.exec(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    assert abs(as_utc(record.expires_at) - (utcnow() + timedelta(days=30))) < timedelta(
        minutes=1)
    assert record.expires_at.strftime("%Y-%m-%d") in created.output
    listed = runner.invoke(args=["api-token", "list"])
    assert listed.exit_code == 0, listed.output
    line = next(row for row in listed.output.splitlines() if row.split()[:1] == [str(record.id)])
    assert user.username in line and "ci" in line
    assert record.expires_at.strftime("%Y-%m-%d") in line and "active" in line
    too_long = runner.invoke(args=["api-token", "create", user.username, "--days", "5000"])
    assert too_long.exit_code != 0
