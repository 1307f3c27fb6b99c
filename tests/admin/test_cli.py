"""The survey-design CLI through the ``runner`` fixture, and the QR codes on printed letters."""

import csv
import io
import re

import pytest
import segno
from sqlmodel import select

from survey_app.models import Campaign, QuestionnaireVersion
from survey_app.services.letters import qr_svg
from tests.services import rosters

zxingcpp = pytest.importorskip("zxingcpp")


def _run(runner, *args):
    return runner.invoke(args=list(args))


def _campaign_with_sample(runner, tmp_path, slug="cli-1"):
    assert _run(runner, "campaign", "create", slug, "--title", "测试", "--year", "2024"
                ).exit_code == 0
    path = tmp_path / "roster.csv"
    path.write_bytes(rosters.csv_text(rosters.rows(120)).encode("gbk"))
    result = _run(runner, "roster", "import", slug, str(path))
    assert result.exit_code == 0, result.output
    assert _run(runner, "sample", "draw", slug, "--seed", "9").exit_code == 0


def test_campaign_create_attaches_builtins_and_settings(runner, session):
    result = _run(runner, "campaign", "create", "c-a", "--title", "赫山 2024", "--year", "2024")
    assert result.exit_code == 0 and "built-in" in result.output
    assert _run(runner, "campaign", "create", "c-b", "--title", "T", "--no-builtin").exit_code == 0
    assert _run(runner, "campaign", "create", "c-a", "--title", "again").exit_code == 1
    result = _run(runner, "campaign", "settings", "c-a", "--rule", "stepwise", "--deduction",
                  "0.5", "--floor", "2", "--single-entry")
    assert result.exit_code == 0, result.output
    campaign = session.exec(select(Campaign).where(Campaign.slug == "c-a")).one()
    session.refresh(campaign)
    assert campaign.indicator_rule_params == {"deduction_per_point": 0.5, "floor": 2.0,
                                              "whole_points": False}
    assert campaign.double_entry is False
    assert _run(runner, "campaign", "open", "c-a").exit_code == 0
    assert "already open" in _run(runner, "campaign", "open", "c-a").output
    assert _run(runner, "campaign", "close", "c-a").exit_code == 0


def test_questionnaire_validate_prints_every_problem_and_fails(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ntitle: {en: only english}\n", encoding="utf-8")
    result = _run(runner, "questionnaire", "validate", str(bad))
    assert result.exit_code == 1
    assert f"{bad}: title.zh_CN:" in result.output
    assert f"{bad}: sections:" in result.output


def test_questionnaire_load_makes_a_new_version_only_when_content_changed(
        runner, session, tmp_path):
    from questionnaires import dump_yaml, load_builtin

    path = tmp_path / "q.yaml"
    path.write_text(dump_yaml(load_builtin("relocated")), encoding="utf-8")
    first = _run(runner, "questionnaire", "load", str(path))
    again = _run(runner, "questionnaire", "load", str(path))
    assert again.exit_code == 0 and "unchanged" in again.output
    path.write_text(dump_yaml(load_builtin("relocated")).replace(
        "id: relocated", "id: relocated_v2", 1), encoding="utf-8")
    changed = _run(runner, "questionnaire", "load", str(path))
    assert first.exit_code == 0 and changed.exit_code == 0 and "registered new" in changed.output
    assert _run(runner, "campaign", "create", "q-1", "--title", "T", "--no-builtin"
                ).exit_code == 0
    result = _run(runner, "questionnaire", "attach", "q-1", "租赁补贴", str(path))
    assert result.exit_code == 0 and "rental_subsidy answers relocated_v2" in result.output
    assert _run(runner, "questionnaire", "attach", "q-1", "x", "relocated").exit_code == 1
    assert session.exec(select(QuestionnaireVersion).where(
        QuestionnaireVersion.name == "relocated_v2")).one()


def test_roster_import_failure_lists_rows_and_writes_nothing(runner, tmp_path):
    assert _run(runner, "campaign", "create", "r-1", "--title", "T").exit_code == 0
    table = rosters.rows(1000)
    table[10][6] = "430903199001011230"
    table[700][1] = "公租房"
    path = tmp_path / "r.csv"
    path.write_bytes(rosters.csv_text(table).encode("utf-8-sig"))
    result = _run(runner, "roster", "import", "r-1", str(path))
    assert result.exit_code == 1
    assert "第12行，“身份证号”列" in result.output  # the default language: Chinese
    assert "第702行，“类别”列" in result.output
    assert "nothing was imported" in result.output
    assert "households 0" in _run(runner, "campaign", "list").output


def test_sample_plan_draw_and_redraw(runner, tmp_path):
    _campaign_with_sample(runner, tmp_path)
    plan = _run(runner, "sample", "plan", "cli-1")
    assert "n = ceil(n0 / (1 + (n0 - 1)/N))" in plan.output
    assert _run(runner, "sample", "draw", "cli-1", "--seed", "10").exit_code == 1
    assert _run(runner, "sample", "draw", "cli-1", "--seed", "10", "--redraw").exit_code == 0


def test_tokens_issue_writes_the_links_once(runner, tmp_path):
    _campaign_with_sample(runner, tmp_path)
    out = tmp_path / "links.csv"
    assert _run(runner, "tokens", "issue", "cli-1", "--out", str(out)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows and set(rows[0]) == {"household_code", "group", "community", "survey_url"}
    assert all(re.fullmatch(r"http://survey\.test/s/[\w-]{27}", r["survey_url"]) for r in rows)
    refused = _run(runner, "tokens", "issue", "cli-1", "--out", str(out))
    assert refused.exit_code == 1 and "--reissue" in refused.output
    assert _run(runner, "tokens", "issue", "cli-1", "--out", str(out), "--only-missing"
                ).exit_code == 0


def test_tokens_reissue_skips_households_that_answered(runner, session, tmp_path):
    from survey_app.models import Household, Response, utcnow
    from survey_app.services import questionnaire_versions
    from survey_app.services.answer_copies import answer_copies

    _campaign_with_sample(runner, tmp_path)
    first = tmp_path / "first.csv"
    assert _run(runner, "tokens", "issue", "cli-1", "--out", str(first)).exit_code == 0
    codes = [r["household_code"] for r in csv.DictReader(
        io.StringIO(first.read_text(encoding="utf-8-sig")))]
    campaign = session.exec(select(Campaign).where(Campaign.slug == "cli-1")).one()
    household = session.exec(select(Household).where(
        Household.campaign_id == campaign.id, Household.household_code == codes[0])).one()
    version = questionnaire_versions.version_for_group(campaign, household.household_group,
                                                       session=session)
    session.add(Response(campaign_id=campaign.id, household_id=household.id,
                         household_group=household.household_group,
                         questionnaire_version_id=version.id, mode="paper",
                         instance_id="paper-1", submitted_at=utcnow(),
                         **answer_copies({}, questionnaire_versions.questionnaire_of(version))))
    session.flush()

    again = tmp_path / "again.csv"
    result = _run(runner, "tokens", "issue", "cli-1", "--out", str(again), "--reissue")

    assert result.exit_code == 0, result.output
    assert "1 households have already answered" in result.output
    reissued = [r["household_code"] for r in csv.DictReader(
        io.StringIO(again.read_text(encoding="utf-8-sig")))]
    assert sorted(reissued) == sorted(codes[1:])


def _letter_urls(page):
    return re.findall(r'data-household="([^"]+)".*?<p class="letter-url">([^<]+)</p>', page,
                      re.S)


@pytest.mark.slow
def test_printed_qr_code_decodes_to_the_households_url(runner, tmp_path):
    _campaign_with_sample(runner, tmp_path)
    out = tmp_path / "letters"
    result = _run(runner, "letters", "cli-1", "--out", str(out))
    assert result.exit_code == 0, result.output
    links = {r["household_code"]: r["survey_url"] for r in csv.DictReader(
        io.StringIO((out / "tokens.csv").read_text(encoding="utf-8-sig")))}
    pages = sorted(out.glob("letters-*.html"))
    assert len(pages) == 2 and (out / "poster.html").exists() and (out / "letters.css").exists()
    page = pages[0].read_text(encoding="utf-8")
    letters = _letter_urls(page)
    assert letters
    for code, url in letters[:5]:
        assert links[code] == url
        # The SVG printed on the sheet is exactly segno's code for this URL ...
        assert str(qr_svg(url)) in page
        # ... and that code, rendered as an image, decodes back to the household's URL.
        png = tmp_path / f"{code}.png"
        segno.make(url, error="m", micro=False).save(str(png), scale=6, border=4)
        from PIL import Image

        decoded = zxingcpp.read_barcodes(Image.open(png))
        assert [d.text for d in decoded] == [url]


def test_letters_again_without_an_option_points_to_reprint(runner, tmp_path):
    _campaign_with_sample(runner, tmp_path)
    assert _run(runner, "letters", "cli-1", "--out", str(tmp_path / "a")).exit_code == 0
    result = _run(runner, "letters", "cli-1", "--out", str(tmp_path / "b"))
    assert result.exit_code == 1
    assert "--reprint: the same letters again, links unchanged" in result.output
    again = _run(runner, "letters", "cli-1", "--out", str(tmp_path / "b"), "--reprint")
    assert again.exit_code == 0 and "reprinted" in again.output


@pytest.mark.browser
def test_letters_page_screenshot_in_chromium_decodes(runner, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    from PIL import Image

    _campaign_with_sample(runner, tmp_path)
    out = tmp_path / "letters"
    assert _run(runner, "letters", "cli-1", "--out", str(out)).exit_code == 0
    page_file = sorted(out.glob("letters-*.html"))[0]
    (code, url), *_ = _letter_urls(page_file.read_text(encoding="utf-8"))
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 900, "height": 1300})
            page.goto(page_file.as_uri())
            letter = page.locator(f'article[data-household="{code}"]')
            shot = tmp_path / "letter.png"
            letter.screenshot(path=str(shot))
            width = page.locator(f'article[data-household="{code}"] svg.qr').bounding_box()
        finally:
            browser.close()
    assert width["width"] > 150  # the CSS applied: 50 mm, not the bare 0-size SVG
    decoded = zxingcpp.read_barcodes(Image.open(shot))
    assert [d.text for d in decoded] == [url]


def test_letters_reprint_writes_the_same_links_again(runner, tmp_path):
    _campaign_with_sample(runner, tmp_path)
    first, again = tmp_path / "first", tmp_path / "again"
    assert _run(runner, "letters", "cli-1", "--out", str(first)).exit_code == 0
    result = _run(runner, "letters", "cli-1", "--out", str(again), "--reprint")
    assert result.exit_code == 0, result.output
    assert "reprinted" in result.output

    def links(folder):
        return sorted(csv.DictReader(io.StringIO(
            (folder / "tokens.csv").read_text(encoding="utf-8-sig"))), key=str)

    assert links(first) == links(again) and links(first)
    # The test app's http://survey.test looks public: no warning on the console.
    assert "warning" not in result.output
