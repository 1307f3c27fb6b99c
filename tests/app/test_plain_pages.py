"""What a user trips over on the newer staff screens, checked in the served HTML: wide tables
and charts scroll inside a wrapper on a phone, statistical terms come with a plain Chinese
explanation, a rejected upload says so at the top of the page, and no English source string
is left in the Chinese page."""

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from survey_app.models import Role
from tests.factories import login, make_campaign, make_user

CITY = "430900"


class _Tables(HTMLParser):
    """Each <table>'s class and whether an ancestor is a ``table-scroll`` wrapper."""

    def __init__(self):
        super().__init__()
        self.stack, self.tables, self.charts = [], [], []

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table":
            wrapped = any("table-scroll" in c for _, c in self.stack)
            self.tables.append((classes, wrapped))
        if tag == "svg":
            self.charts.append(any("chart-scroll" in c for _, c in self.stack))
        if tag not in ("input", "br", "meta", "link", "img", "circle", "line", "rect", "path",
                       "polyline", "text"):
            self.stack.append((tag, classes))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break


def _parse(page):
    parser = _Tables()
    parser.feed(page)
    return parser


def _scrolls_on_a_phone(classes, wrapped):
    # table.scores is a scroll box itself on a phone (evaluate.css); the rest need a wrapper.
    return wrapped or "scores" in classes


@pytest.mark.demo_data
@pytest.mark.parametrize("path", ["/evaluate/", f"/evaluate/units/{CITY}/2021",
                                  "/evaluate/heshan-2021"])
def test_evaluator_tables_and_charts_scroll_on_a_phone(app, client, session, path):
    login(client, make_user(session, Role.EVALUATOR))
    parsed = _parse(client.get(path).get_data(as_text=True))
    assert parsed.tables
    assert all(_scrolls_on_a_phone(c, w) for c, w in parsed.tables), parsed.tables
    assert all(parsed.charts)  # every chart in a chart-scroll box


@pytest.mark.demo_data
def test_roll_up_explains_intervals_ranks_and_the_funnel_plot_in_plain_chinese(
        app, client, session):
    login(client, make_user(session, Role.EVALUATOR))
    page = client.get(f"/evaluate/units/{CITY}/2021").get_data(as_text=True)
    for text in ("只调查了部分住户，真实数值无法精确得知", "不能断定谁高谁低", "读图方法",
                 "有效样本量：", "点落在实线（99.8%控制限）之外"):
        assert text in page
    assert "正态近似" not in page  # neither in the note nor in the funnel plot's legend
    assert "全域数值按“县（区）× 住户类别”分层合并计算" in page and "方差相加" not in page
    for english in ("How to read it", "Rank 1 is the highest", "95% interval: only a sample"):
        assert english not in page


@pytest.mark.demo_data
def test_a_single_county_has_no_league_table_but_a_link_to_its_results(app, client, session):
    login(client, make_user(session, Role.EVALUATOR))
    page = client.get("/evaluate/units/430902/2021").get_data(as_text=True)
    assert "排名表" not in page and "<svg" not in page
    assert "只有一个县（区），不排名" in page
    assert 'href="/evaluate/ziyang-2021">查看资阳区的完整结果</a>' in page


@pytest.mark.demo_data
def test_the_dashboard_explains_downloads_changes_and_weighting_plainly(app, client, session):
    login(client, make_user(session, Role.EVALUATOR))
    page = client.get("/evaluate/heshan-2021").get_data(as_text=True)
    jobs = page.split('id="jobs"', 1)[1].split("</section>", 1)[0]
    assert "系统按上方的筛选条件在后台生成文件" in jobs
    year_over_year = page.split('id="year-over-year"', 1)[1].split("</section>", 1)[0]
    assert "读表方法：“达到”表示本年数值不低于上年" in year_over_year
    assert "区间跨过0（一负一正）说明两年没有明显变化" in year_over_year
    assert "下表两列数值相差很小，说明未作答对结果影响不大" in page
    assert page.count("95%置信区间：只调查了部分住户") == 1


@pytest.mark.demo_data
@pytest.mark.parametrize(("username", "path"), [
    ("worker-thl", "/entry/heshan-2021/progress"), ("worker-thl", "/entry/heshan-2021/households"),
    ("admin", "/admin/users"), ("admin", "/admin/campaigns/heshan-2021/sms")])
def test_staff_lists_scroll_inside_a_wrapper(app, client, session, username, path):
    from survey_app.services import demo

    password = {n: p for n, p, _, _ in demo.DEMO_ACCOUNTS}[username]
    client.post("/auth/login", data={"username": username, "password": password})
    parsed = _parse(client.get(path).get_data(as_text=True))
    assert parsed.tables and all(w for c, w in parsed.tables if "preview" not in c), parsed.tables
    page = client.get(path).get_data(as_text=True)
    assert "AAPOR" not in page.split("<thead>", 1)[-1].split("</thead>", 1)[0]


def test_a_rejected_roster_is_announced_at_the_top_of_the_page(app, client, session):
    make_campaign(session, slug="r-top")
    login(client, make_user(session, Role.ADMIN))
    bad = "户编号,类别,项目,社区,街道,户主姓名,身份证号,联系电话,地址\nT1,火星人,,社区,,张三,,,路\n"
    response = client.post("/admin/campaigns/r-top/roster",
                           data={"roster": (io.BytesIO(bad.encode()), "r.csv")},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    top = page.split("<section", 1)[0]  # before the first section of the long page
    assert "名册未通过检查，未导入任何数据。" in top and 'href="#roster-problems"' in top


def test_a_rejected_form_is_announced_at_the_top_with_a_link_to_the_field(app, client, session):
    make_campaign(session, slug="u-top")
    login(client, make_user(session, Role.ADMIN))
    response = client.post("/admin/campaigns/u-top/unit", data={"code": "12"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    top = page.split("<section", 1)[0]
    assert "未保存：下方有需要修改的内容。" in top
    link = re.search(r'href="#([\w-]+)">前往修改</a>', top)
    assert link and f'id="{link.group(1)}"' in page


def test_english_chosen_on_the_login_page_stays_after_logging_in_and_out(app, client, session):
    user = make_user(session, Role.EVALUATOR)
    assert "Staff login" in client.get("/auth/login?lang=en").get_data(as_text=True)
    home = login(client, user)
    assert home.status_code == 302
    page = client.get(home.headers["Location"]).get_data(as_text=True)
    assert "Log out" in page and 'lang="en"' in page
    client.post("/auth/logout", data={})
    assert 'lang="en"' in client.get("/").get_data(as_text=True)


@pytest.mark.demo_data
def test_back_check_items_are_listed_in_the_page_language(app, client, session):
    login(client, make_user(session, Role.EVALUATOR))
    english = client.get("/evaluate/heshan-2021/backchecks?lang=en").get_data(as_text=True)
    assert "How many people live in your household?" in english
    assert "您家共同生活的家庭人口有几人" not in english
    chinese = client.get("/evaluate/heshan-2021/backchecks?lang=zh").get_data(as_text=True)
    assert "您家共同生活的家庭人口有几人" in chinese


@pytest.mark.demo_data
def test_the_dashboard_reads_as_chinese_sentences_with_units(app, client, session):
    """Labels take the full-width colon, counts their unit 份, the response rate no AAPOR
    code, and the web–paper comparison plain headings, a reading note and p<0.001 rather
    than 0.000."""
    from tests.staff_crawl import reading_text

    login(client, make_user(session, Role.EVALUATOR))
    page = client.get("/evaluate/heshan-2021").get_data(as_text=True)
    text = reading_text(page)
    assert not re.findall(r".{8}[\u4e00-\u9fff）]: ", text)
    assert "RR1" not in text and "样本户回答率" in text
    assert re.search(r"按作答方式：纸质\d+份、", text)
    assert "计分规则：比例法（实际完成值达到目标值的得满分" in text  # not 计分规则：比例法：
    assert re.search(r"计入统计的问卷：\d+份。", text)
    assert re.search(r"棚改货币化安置户（\d+份问卷）", text)
    assert re.search(r"综合指数（各维度等权）：\s*[\d.]+\s*（95%置信区间[\d.]+–[\d.]+）", text)
    modes = page.split("调查方式效应", 1)[1].split("意见主题", 1)[0]
    for heading in ("网络问卷份数", "U统计量", "p值", "效应量r", "卡方检验p值"):
        assert f">{heading}</th>" in modes
    assert "读表方法：p值小于0.05" in modes
    assert "&lt;0.001" in page and ">0.000<" not in page


@pytest.mark.demo_data
def test_project_and_community_filters_offer_the_names_behind_the_codes(app, client, session):
    """The filters take a code (P01, HS-THL) nobody knows by heart: each offers the
    campaign's projects and communities by name to pick from."""
    login(client, make_user(session, Role.EVALUATOR))
    page = client.get("/evaluate/heshan-2021").get_data(as_text=True)
    assert 'list="project-codes"' in page and 'list="community-codes"' in page
    projects = page.split('<datalist id="project-codes">', 1)[1].split("</datalist>", 1)[0]
    communities = page.split('<datalist id="community-codes">', 1)[1].split("</datalist>", 1)[0]
    assert projects.count("<option") == 3 and "龙岭片区棚户区改造项目</option>" in projects
    assert communities.count("<option") == 5 and '<option value="HS-THL">桃花仑社区</option>' \
        in communities


@pytest.mark.demo_data
def test_method_names_are_said_in_chinese_where_staff_read_them(app, client, session):
    """Table headings name the statistic in Chinese as the report does (克隆巴赫α系数,
    等级相关) instead of Cronbach, Feldt or Spearman, and a community worker's progress page
    explains the response rate without the AAPOR code."""
    from survey_app.services import demo

    login(client, make_user(session, Role.EVALUATOR))
    page = client.get("/evaluate/heshan-2021").get_data(as_text=True)
    heads = " ".join(re.findall(r"<th[^>]*>([^<]*)</th>", page))
    assert "克隆巴赫α系数" in heads and "重要性（与总体满意度的等级相关）" in heads
    for name in ("Cronbach", "Feldt", "Spearman"):
        assert name not in heads, name
    assert "重要性（与总体满意度的等级相关系数）</text>" in page  # the chart's axis
    rollup = client.get(f"/evaluate/units/{CITY}/2021").get_data(as_text=True)
    assert "<th class=\"num\">克隆巴赫α系数</th>" in rollup and "克朗巴哈" not in rollup
    client.post("/auth/logout", data={})
    password = {n: p for n, p, _, _ in demo.DEMO_ACCOUNTS}["worker-thl"]
    client.post("/auth/login", data={"username": "worker-thl", "password": password})
    progress = client.get("/entry/heshan-2021/progress").get_data(as_text=True)
    assert "回答率 = 完成数 ÷ 抽中户数" in progress and "AAPOR" not in progress


@pytest.mark.demo_data
def test_brackets_on_chinese_pages_are_full_width(app, client, session):
    """The log-out link and an optional question on the paper-entry form read 退出（名）
    and （选填）, not the ASCII brackets of 退出 (worker-thl) and (选填)."""
    from survey_app.services import demo

    password = {n: p for n, p, _, _ in demo.DEMO_ACCOUNTS}["worker-thl"]
    client.post("/auth/login", data={"username": "worker-thl", "password": password})
    campaign = client.get("/entry/heshan-2021/").get_data(as_text=True)
    assert "退出（worker-thl）" in campaign and "退出 (" not in campaign
    form = client.post("/entry/heshan-2021/", data={"code": "PG00073-0"},
                       follow_redirects=True).get_data(as_text=True)
    assert "录入纸质问卷" in form
    assert "（选填）" in form and "(选填)" not in form
    english = client.get("/entry/heshan-2021/?lang=en").get_data(as_text=True)
    assert "Log out (worker-thl)" in english


@pytest.mark.demo_data
def test_the_admin_campaign_page_names_its_sample_figures_in_chinese(app, client, session):
    """The sample table's n0 column is named in words, and the title's and the region's
    codes sit in full-width brackets."""
    login(client, make_user(session, Role.ADMIN))
    page = client.get("/admin/campaigns/heshan-2021").get_data(as_text=True)
    assert ">未按总户数修正的样本量（n0）</th>" in page and ">n0</th>" not in page
    assert "<small>（heshan-2021，2021年度）</small>" in page
    assert "赫山区（430903，" in page


@pytest.mark.demo_data
def test_the_quality_page_reads_with_chinese_punctuation(app, client, session):
    """The flag counts and each flag's evidence: 评分题答案全部相同：74 and
    评分题答案全部相同（9题均选5）, and the phone cards' labels end in a full-width colon."""
    login(client, make_user(session, Role.EVALUATOR))
    page = client.get("/evaluate/heshan-2021/quality").get_data(as_text=True)
    assert re.search(r"评分题答案全部相同</a>：\d+", page)
    assert re.search(r"评分题答案全部相同（\d+题均选\d）", page)
    assert "</a>: " not in page and " 题均选 " not in page
    css = (Path(app.static_folder) / "evaluate.css").read_text(encoding="utf-8")
    assert ':lang(zh) table.quality td[data-label]::before{content:attr(data-label) "："}' in css
    english = client.get("/evaluate/heshan-2021/quality?lang=en").get_data(as_text=True)
    assert re.search(r"</a>: \d+", english) and re.search(r"\(\d+ answers all \d\)", english)


@pytest.mark.demo_data
@pytest.mark.parametrize(("username", "path"), [
    ("evaluator", "/evaluate/heshan-2021"), ("worker-thl", "/entry/heshan-2021/progress"),
    ("admin", "/admin/campaigns/heshan-2021")])
def test_response_rates_have_one_name_on_every_screen(app, client, session, username, path):
    """The report's Table 1 says 回答率 and 作答; the screens said 应答率, 未应答 and
    已应答 beside it for the same figures."""
    from survey_app.services import demo
    from tests.staff_crawl import reading_text

    password = {n: p for n, p, _, _ in demo.DEMO_ACCOUNTS}[username]
    client.post("/auth/login", data={"username": username, "password": password})
    text = reading_text(client.get(path).get_data(as_text=True))
    assert "回答率" in text and "应答" not in text


@pytest.mark.demo_data
def test_a_response_page_shows_beijing_time_and_chinese_brackets(app, client, session):
    """The submission time was the stored UTC time (8 hours early, unlabelled); answers read
    是（1）, the heading 问卷10：R…."""
    from datetime import timedelta

    from sqlmodel import select

    from survey_app.models import Response
    from survey_app.models.campaign import Campaign

    campaign = session.exec(select(Campaign).where(Campaign.slug == "heshan-2021")).one()
    response = session.exec(select(Response).where(
        Response.campaign_id == campaign.id, Response.submitted_at.is_not(None))
        .order_by(Response.id)).first()
    login(client, make_user(session, Role.EVALUATOR))
    page = client.get(f"/evaluate/heshan-2021/responses/{response.id}").get_data(as_text=True)
    shown = (response.submitted_at.replace(tzinfo=None) + timedelta(hours=8))
    assert f"{shown:%Y-%m-%d %H:%M}（北京时间）" in page
    assert re.search(rf"<h1>问卷{response.id}：R[0-9A-F]{{8}}</h1>", page)
    assert re.search(r"<td>[是否]（[12]）</td>", page) and " (1)<" not in page
