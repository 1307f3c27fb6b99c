"""Every web response has a duration, from the form's first showing to the submit
(issue 16 item 6): a signed start time travels with the form, no server session."""

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from survey_app.models import Response
from survey_app.public.forms import form_started_at
from survey_app.services import quality_flags
from tests.public.conftest import RELOCATED_ANSWERS, form_data


def _form(client, path):
    page = client.get(path).get_data(as_text=True)
    instance = re.search(r'name="instance_id" type="hidden" value="([^"]+)"', page).group(1)
    started = re.search(r'name="started" type="hidden" value="([^"]+)"', page).group(1)
    return instance, started


def test_an_open_link_response_runs_from_the_form_shown_to_the_submit(client, session,
                                                                      survey_campaign):
    path = f"/c/{survey_campaign.campaign.slug}/relocated?unverified=1"
    instance, started = _form(client, path)
    assert client.post(path, data=form_data(RELOCATED_ANSWERS, instance,
                                            started=started)).status_code == 302
    response = session.exec(select(Response)).one()
    assert response.started_at is not None
    seconds = (response.submitted_at - response.started_at).total_seconds()
    assert 0 <= seconds < 5  # itsdangerous stamps whole seconds
    # Answered in seconds: the speeding check sees it now.
    flags = quality_flags.response_flags(response, session=session)
    assert "too_fast" in [f.kind for f in flags]


@pytest.mark.parametrize("stamp", ["", "forged.stamp.value", "OTHER"])
def test_a_missing_forged_or_borrowed_start_is_ignored(client, session, survey_campaign,
                                                       stamp):
    path = f"/c/{survey_campaign.campaign.slug}/relocated?unverified=1"
    instance, _ = _form(client, path)
    if stamp == "OTHER":  # the signed start of another form instance
        _, stamp = _form(client.application.test_client(), path)
    assert client.post(path, data=form_data(RELOCATED_ANSWERS, instance,
                                            started=stamp)).status_code == 302
    assert session.exec(select(Response.started_at)).one() is None


def test_a_start_older_than_thirty_days_is_not_believed(app, monkeypatch):
    import time

    with app.test_request_context():
        from survey_app.public import forms

        instance = "0b3f1d9e-2c4a-4f5e-9a7b-1c2d3e4f5a6b"
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() - 31 * 24 * 3600)
        stamp = forms._start_signer().dumps(instance)
        monkeypatch.setattr(time, "time", real)
        assert form_started_at(stamp, instance) is None
        assert form_started_at(forms._start_signer().dumps(instance), instance) is not None


def test_a_resumed_draft_keeps_its_first_start(client, session, survey_campaign):
    token = survey_campaign.token()
    path = f"/s/{token}"
    instance, started = _form(client, path)
    partial = {k: v for k, v in list(RELOCATED_ANSWERS.items())[:3]}
    client.post(path, data=form_data(partial, instance, started=started, save="1"))
    draft = session.exec(select(Response)).one()
    first_start = draft.started_at
    # The draft's start is moved back, as if the first sitting was ten minutes ago.
    draft.started_at = first_start - timedelta(minutes=10)
    session.add(draft)
    session.flush()
    instance2, started2 = _form(client, path)
    assert client.post(path, data=form_data(RELOCATED_ANSWERS, instance2,
                                            started=started2)).status_code == 302
    done = session.exec(select(Response)).one()
    assert done.status == "complete"
    assert done.started_at.replace(tzinfo=None) == (
        first_start - timedelta(minutes=10)).replace(tzinfo=None)
