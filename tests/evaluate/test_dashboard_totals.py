"""The dashboard reconciles: each total is the sum of the lines above it, or the page says
what is left out; comments are counted as the non-empty ones."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from survey_app.services import campaigns, demo, progress, scores
from survey_app.services.dashboard_totals import CountRow, progress_tables, totals_table
from tests.factories import login, make_user


class _Tables(HTMLParser):
    """The rows of every ``table.totals`` as lists of cell texts."""

    def __init__(self):
        super().__init__()
        self.tables, self._in, self._cell = [], False, None

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table" and "totals" in classes:
            self._in = True
            self.tables.append([])
        elif self._in and tag == "tr":
            self.tables[-1].append([])
        elif self._in and tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._in = False
        elif self._in and tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


@pytest.mark.demo_data
def test_every_total_on_the_dashboard_is_the_sum_of_its_lines(app, client, session):
    login(client, make_user(session))
    page = client.get(f"/evaluate/{demo.SLUG}").get_data(as_text=True)
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    prog = progress.progress_document(campaign, session=session)
    parser = _Tables()
    parser.feed(page)
    assert len(parser.tables) == 2  # by household group, by community
    for table in parser.tables:
        header, *lines, total = table
        assert total[0] == "合计"
        assert lines[-1][0] == "公开链接·未核验住户"
        for column in (1, 2):  # households and sample: the rows of the sample only
            assert int(total[column]) == sum(int(r[column]) for r in lines if r[column] != "—")
        assert int(total[3]) == sum(int(r[3]) for r in lines) == prog.completed
    assert (f"其中名册住户{prog.completed_from_sample}份、未核验的公开链接答卷"
            f"{prog.completed_open_link}份" in page)
    # The unverified line is the scores document's count of them (left out by default).
    doc_unverified = scores.scores_document(campaign, session=session).unverified
    assert doc_unverified == prog.completed_open_link > 0
    assert f"另有 {doc_unverified} 份公开链接答卷未能对应名册住户（未核验），未计入" in page
    doc = scores.scores_document(campaign, session=session)
    written = doc.comments.n_comments - doc.comments.n_empty
    assert (f"填写了意见的问卷：{written}份（共{doc.n_respondents}份，{doc.comments.n_empty}份"
            "未填写意见）") in page
    in_communities = sum(r.respondents for r in doc.communities)
    assert f"以上各行合计{in_communities}份，计入统计的问卷共{doc.n_respondents}份" in page
    # Every counted response now has its roster household, hence a community (unverified
    # open-link answers are not counted); projects cover relocated households only.
    assert in_communities == doc.n_respondents and "其余0份" not in page
    in_projects = sum(r.respondents for r in doc.projects)
    assert f"其余{doc.n_respondents - in_projects}份不属于任何一行" in page


@pytest.mark.demo_data
def test_mode_effects_name_items_neutrally(app, client, session):
    login(client, make_user(session))
    page = client.get(f"/evaluate/{demo.SLUG}").get_data(as_text=True)
    mode_table = page[page.index("<h2>作答方式"):] if "<h2>作答方式" in page else page
    assert "<td>payment_timeliness</td>" not in mode_table
    assert re.search(r"<td>资金发放及时足额</td><td>(棚改货币化安置户|租赁补贴户)</td>",
                     mode_table)


def test_a_further_line_outside_the_sample_is_one_more_entry():
    """How an 'unverified open-link' line joins: one more outside row, the total follows."""
    rows = [CountRow("relocated", "棚改货币化安置户", 600, 294, 208, 0.7075),
            CountRow("rental_subsidy", "租赁补贴户", 2500, 418, 315, 0.7536)]
    outside = [CountRow("open_link", "", None, None, 40, None, "outside"),
               CountRow("unverified", "", None, None, 7, None, "outside")]
    table = totals_table(rows, outside, response_rate=0.7346)
    total = table[-1]
    assert (total.households, total.sampled, total.completed) == (3100, 712, 570)
    assert [r.kind for r in table] == ["row", "row", "outside", "outside", "total"]


def test_progress_tables_without_open_link_answers_have_no_outside_line():
    from survey_app.services.scores_model import ProgressCampaign, ProgressDocument, ProgressRow

    row = ProgressRow(code="relocated", label="棚改货币化安置户", households=10, sampled=5,
                      refused=0, completed=4, response_rate=0.8)
    doc = ProgressDocument(
        campaign=ProgressCampaign(slug="x", title="x", status="open", opens_on=None,
                                  closes_on=None),
        households=10, sampled=5, completed=4, completed_from_sample=4, completed_open_link=0,
        excluded=0, partial=0, completed_by_mode={"paper": 4}, response_rate=0.8,
        groups=[row], communities=[], convention="")
    tables = progress_tables(doc)
    assert [r.code for r in tables["groups"]] == ["relocated", "total"]
    assert [r.code for r in tables["communities"]] == ["total"]
