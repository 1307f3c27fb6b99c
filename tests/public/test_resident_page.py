"""The resident page keeps every answer whatever the resident presses (issue 19, item 6):
language switch, Enter in a text box, large text remembered per link, range messages,
progress, favicon."""

from __future__ import annotations

import uuid

from tests.public.conftest import form_data


def _partial(**extra) -> dict:
    data = {"instance_id": str(uuid.uuid4()), "a_age_band": "3", "a_household_size": "4",
            "a_comments": "楼道灯坏了"}
    data.update(extra)
    return data


def test_switching_language_in_the_form_keeps_every_answer(client, survey_campaign):
    token = survey_campaign.token()
    page = client.get(f"/s/{token}").get_data(as_text=True)
    # The header's language link is replaced by a button of the form (works without script).
    assert 'form="survey" name="language" value="en"' in page and '?lang=en' not in page
    english = client.post(f"/s/{token}", data=_partial(language="en")).get_data(as_text=True)
    assert "How many people live in your household?" in english
    assert 'name="a_age_band" value="3" checked' in english
    assert 'value="4"' in english and ">楼道灯坏了</textarea>" in english
    assert 'name="language" value="zh"' in english
    # The choice holds for the next page load.
    assert "How many people" in client.get(f"/s/{token}").get_data(as_text=True)


def test_enter_in_a_text_box_presses_the_keep_button_first(client, survey_campaign):
    token = survey_campaign.token()
    page = client.get(f"/s/{token}").get_data(as_text=True)
    form = page[page.index('<form method="post" id="survey"'):]
    first_button = form.index('type="submit"')
    assert 'name="keep"' in form[:first_button + 40]  # the form's default button
    kept = client.post(f"/s/{token}", data=_partial(keep="保留我的回答"))
    body = kept.get_data(as_text=True)
    assert kept.status_code == 200 and 'name="a_age_band" value="3" checked' in body
    assert "large-text" not in body  # nothing else was switched


def test_large_text_is_remembered_for_that_link_only(client, survey_campaign):
    token, other = survey_campaign.token(), survey_campaign.token(index=1)
    switched = client.post(f"/s/{token}", data=_partial(larger_text="大字版"))
    assert 'class="resident large-text"' in switched.get_data(as_text=True)
    cookie = switched.headers["Set-Cookie"]
    assert "text_size=large" in cookie and f"Path=/s/{token}" in cookie
    assert "Max-Age=" in cookie  # kept across browser restarts: resuming a draft next day
    assert 'class="resident large-text"' in client.get(f"/s/{token}").get_data(as_text=True)
    assert 'class="resident large-text"' not in client.get(
        f"/s/{other}").get_data(as_text=True)


def test_a_number_out_of_range_says_the_range(client, survey_campaign):
    from tests.public.conftest import RELOCATED_ANSWERS

    token = survey_campaign.token()
    page = client.post(f"/s/{token}", data=form_data(
        {**RELOCATED_ANSWERS, "household_size": "0"}, str(uuid.uuid4())))
    assert page.status_code == 422
    assert "请填写 1 到 20 之间的整数。" in page.get_data(as_text=True)


def test_sections_show_where_the_resident_is_without_script(client, survey_campaign):
    page = client.get(f"/s/{survey_campaign.token()}").get_data(as_text=True)
    assert "第 1 部分，共 " in page and 'id="progress"' in page


def test_favicon(client):
    reply = client.get("/favicon.ico")
    assert reply.status_code == 301
    icon = client.get(reply.headers["Location"])
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert b"<svg" in icon.get_data()
    icon.close()
