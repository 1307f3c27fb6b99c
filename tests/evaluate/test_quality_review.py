"""Quality review at scale (issue 16 item 7): the grouped-query flags equal a brute-force
reading of their definitions, the page lists and filters them, bulk decisions are audited.

The random data set rewrites the demo's complete responses: start times around the
one-minute limit, straight and mixed rating codes, open-link fingerprints with submits
minutes apart (bursts, ties), households answered on paper and on the web.
"""

import random
from datetime import timedelta

import pytest
from sqlmodel import select

from questionnaires.elements import RATING_CODES
from survey_app.models import AuditEvent, Community, Household, Response, Role
from survey_app.services import bulk_exclusion, campaigns, demo, quality_flags, quality_review
from survey_app.services.quality_flags import BURST_COUNT, BURST_WINDOW, MIN_SECONDS, Flag
from survey_app.services.quality_review import ReviewFilters
from tests.factories import login, make_user

SECONDS = (5, 30, 59, 59.999, 60, 60.001, 61, 300, 900)


def _in_heshan(session):
    """Heshan's responses only: the demo's other counties have campaigns of their own."""
    return Response.campaign_id == campaigns.get_campaign(demo.SLUG, session=session).id


def _randomise(session, seed: int) -> list[Response]:
    rng = random.Random(seed)
    complete = session.exec(select(Response).where(
        Response.status == "complete", _in_heshan(session))
                            .order_by(Response.id)).all()
    base = complete[0].submitted_at
    households = [r.household_id for r in complete]
    for response in complete:
        response.submitted_at = base + timedelta(minutes=rng.randrange(0, 240))
        response.started_at = (None if rng.random() < 0.1 else response.submitted_at
                               - timedelta(seconds=rng.choice(SECONDS)))
        n = len(response.rating_codes)
        if rng.random() < 0.4:  # straight on one code, with NA and blanks in between
            code = rng.choice(RATING_CODES)
            response.rating_codes = "".join(rng.choice((code, code, code, "9", "-"))
                                            for _ in range(n))
        else:
            response.rating_codes = "".join(rng.choice("123459-") for _ in range(n))
        response.mode = rng.choice(("web_token", "web_open", "web_open", "paper"))
        response.client_fingerprint = None
        if response.mode == "web_open":
            response.client_fingerprint = rng.choice(("a", "b", "c", "d", None))
            if rng.random() < 0.5:
                response.household_id = None
        elif rng.random() < 0.15:  # a second answer from an already answering household
            response.household_id = rng.choice(households)
    session.add_all(complete)
    session.flush()
    return complete


def _brute_force(responses: list[Response]) -> dict[int, tuple[Flag, ...]]:
    """Every flag straight from its definition, O(n^2)."""
    found: dict[int, list[Flag]] = {r.id: [] for r in responses}
    for r in responses:
        if r.started_at and r.submitted_at:
            seconds = (r.submitted_at - r.started_at).total_seconds()
            if seconds < MIN_SECONDS:
                found[r.id].append(Flag("too_fast", int(seconds)))
    for r in responses:
        valid = [c for c in r.rating_codes if c in RATING_CODES]
        if len(valid) >= 5 and len(set(valid)) == 1:
            found[r.id].append(Flag("straight_lining", len(valid), valid[0]))
    for fingerprint in {r.client_fingerprint for r in responses if r.client_fingerprint}:
        group = sorted((r.submitted_at, r.id) for r in responses
                        if r.mode == "web_open" and r.client_fingerprint == fingerprint)
        for position, (_, response_id) in enumerate(group):
            # The first window (from the i-th response, BURST_WINDOW long) big enough that
            # holds this response.
            for i, (start, _) in enumerate(group[:position + 1]):
                size = sum(1 for at, _ in group[i:] if at - start <= BURST_WINDOW)
                if size >= BURST_COUNT and position < i + size:
                    found[response_id].append(Flag("open_link_burst", size))
                    break
    for r in responses:
        same = [o for o in responses if r.household_id and o.household_id == r.household_id]
        if {o.mode == "paper" for o in same} == {True, False}:
            found[r.id].append(Flag("web_and_paper", len(same)))
    return {k: tuple(v) for k, v in sorted(found.items()) if v}


@pytest.mark.demo_data
@pytest.mark.parametrize("seed", [1, 2])
def test_flags_equal_a_brute_force_reading_of_their_definitions(session, seed):
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    responses = _randomise(session, seed)
    expected = _brute_force(responses)
    assert {f.kind for flags in expected.values() for f in flags} == set(
        quality_flags.FLAG_KINDS)  # the data set exercises every check
    assert quality_flags.campaign_flags(campaign, session=session) == expected
    for response in responses[:40]:
        assert quality_flags.response_flags(response, session=session) == expected.get(
            response.id, ())


def _community_of(session) -> dict[int, str]:
    return dict(session.exec(select(Household.id, Community.code)
                             .join(Community, Community.id == Household.community_id)).all())


@pytest.mark.demo_data
def test_pages_and_filters_list_exactly_the_matching_flagged_responses(session):
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    responses = _randomise(session, 3)
    expected = _brute_force(responses)
    decided = responses[::5]
    for response in decided:
        response.decided_at = response.submitted_at
    session.add_all(decided)
    session.flush()
    by_id = {r.id: r for r in responses}
    community = _community_of(session)
    some_community = community[responses[0].household_id or responses[1].household_id]
    for filters in (ReviewFilters(), ReviewFilters(kind="too_fast"),
                    ReviewFilters(kind="open_link_burst", mode="web_open"),
                    ReviewFilters(community=some_community), ReviewFilters(decided=False),
                    ReviewFilters(kind="straight_lining", decided=True, mode="paper")):
        wanted = [i for i, flags in expected.items()
                  if (filters.kind is None or filters.kind in [f.kind for f in flags])
                  and (filters.mode is None or by_id[i].mode == filters.mode)
                  and (filters.community is None
                       or community.get(by_id[i].household_id) == filters.community)
                  and (filters.decided is None
                       or (by_id[i].decided_at is not None) == filters.decided)]
        assert wanted, filters
        listed, page = [], quality_review.flagged_page(campaign, filters, session=session,
                                                       page=1, per_page=7)
        assert page.total == len(wanted) and page.pages == -(-len(wanted) // 7)
        for number in range(1, page.pages + 1):
            page = quality_review.flagged_page(campaign, filters, session=session,
                                               page=number, per_page=7)
            listed += [row.response_id for row in page.rows]
            assert all(row.flags == expected[row.response_id] for row in page.rows)
        assert listed == wanted
    # Out of range: the last page; the counts ignore the filters.
    last = quality_review.flagged_page(campaign, ReviewFilters(), session=session, page=999)
    assert last.page == last.pages and last.rows
    assert last.counts["too_fast"] == sum(
        1 for flags in expected.values() if "too_fast" in [f.kind for f in flags])


def test_an_unknown_flag_is_refused():
    with pytest.raises(quality_review.ReviewFilterError, match="unknown flag 'fast'"):
        ReviewFilters(kind="fast")


def _flagged_open_link(session, count: int) -> list[Response]:
    """``count`` open-link responses from one device within minutes: a burst."""
    complete = session.exec(select(Response).where(
        Response.status == "complete", _in_heshan(session))
                            .order_by(Response.id).limit(count)).all()
    for minute, response in enumerate(complete):
        response.mode, response.client_fingerprint = "web_open", "one-phone"
        response.submitted_at = complete[0].submitted_at + timedelta(minutes=minute)
    session.add_all(complete)
    session.flush()
    return complete


@pytest.mark.demo_data
def test_the_page_lists_filters_and_decides_in_bulk(app, client, session):
    burst = _flagged_open_link(session, 60)
    evaluator = make_user(session, Role.EVALUATOR)
    login(client, evaluator)
    page = client.get(f"/evaluate/{demo.SLUG}/quality?flag=open_link_burst").get_data(
        as_text=True)
    assert "同一设备或网络提交多份公开链接问卷" in page and "1小时内" in page
    assert "符合条件的标记问卷共 60 份；第 1 页，共 2 页。" in page
    assert "下一页" in page and "剔除所列全部问卷" in page
    second = client.get(f"/evaluate/{demo.SLUG}/quality?flag=open_link_burst&page=2")
    assert f"/responses/{burst[-1].id}\"" in second.get_data(as_text=True)
    assert client.get(f"/evaluate/{demo.SLUG}/quality?flag=nonsense").status_code == 200

    refused = client.post(f"/evaluate/{demo.SLUG}/quality/decisions",
                          data={"flag": "open_link_burst", "reason": "", "exclude": "1"})
    assert refused.status_code == 302
    assert session.exec(select(Response.id).where(Response.excluded)).first() is None

    done = client.post(f"/evaluate/{demo.SLUG}/quality/decisions", data={
        "flag": "open_link_burst", "mode": "web_open", "reason": "one phone, one hour",
        "exclude": "1"})
    assert done.status_code == 302 and "flag=open_link_burst" in done.headers["Location"]
    ids = {r.id for r in burst}
    assert set(session.exec(select(Response.id).where(Response.excluded)).all()) == ids
    events = session.exec(select(AuditEvent).where(
        AuditEvent.action == "response.exclude")).all()
    assert {int(e.object_id) for e in events} == ids
    assert all(e.actor_id == evaluator.id and e.reason == "one phone, one hour"
               for e in events)
    bulk = session.exec(select(AuditEvent).where(
        AuditEvent.action == "response.bulk_exclude")).one()
    assert bulk.details == {"flag": "open_link_burst", "mode": "web_open", "responses": 60,
                            "kept": 0}
    listed = client.get(f"/evaluate/{demo.SLUG}/quality?flag=open_link_burst&decided=undecided")
    assert "符合条件的标记问卷共 0 份" in listed.get_data(as_text=True)


@pytest.mark.demo_data
def test_workers_can_neither_see_nor_decide(app, client, session):
    burst = _flagged_open_link(session, 5)
    worker = make_user(session, Role.WORKER)
    login(client, worker)
    assert client.get(f"/evaluate/{demo.SLUG}/quality").status_code == 403
    assert client.get(f"/evaluate/{demo.SLUG}/responses/{burst[0].id}").status_code == 403
    refused = client.post(f"/evaluate/{demo.SLUG}/quality/decisions", data={
        "flag": "open_link_burst", "reason": "a worker tries", "exclude": "1"})
    assert refused.status_code == 403
    assert session.exec(select(Response.id).where(Response.excluded)).first() is None
    assert session.exec(select(AuditEvent).where(
        AuditEvent.action.like("response.%"))).first() is None


@pytest.mark.demo_data
def test_including_counts_excluded_ones_again_and_marks_the_rest_kept(runner, session):
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    burst = _flagged_open_link(session, 6)
    evaluator = make_user(session, Role.EVALUATOR)
    quality_flags.set_exclusion(burst[0].id, campaign=campaign, excluded=True,
                                reason="checked: a test", actor=evaluator, session=session)
    result = runner.invoke(args=["responses", "include", demo.SLUG, "--flag",
                                 "open_link_burst", "--reason", "one family's phone",
                                 "--by", evaluator.username])
    assert result.exit_code == 0, result.output
    assert ("1 responses flagged open_link_burst counted again; 5 kept as counted (decided); "
            "0 were already counted and decided") in result.output
    ids = {r.id for r in burst}
    assert session.exec(select(Response.id).where(Response.excluded)).first() is None
    assert set(session.exec(select(Response.id).where(
        Response.decided_at.is_not(None))).all()) == ids
    actions = {(e.action, int(e.object_id)) for e in session.exec(select(AuditEvent).where(
        AuditEvent.action.in_(["response.restore", "response.keep"]))).all()}
    assert actions == {("response.restore", burst[0].id)} | {
        ("response.keep", r.id) for r in burst[1:]}
    undecided = quality_review.flagged_ids(
        campaign, ReviewFilters(kind="open_link_burst", decided=False), session=session)
    assert undecided == []
    # The events written in bulk seal and verify like any other.
    assert runner.invoke(args=["audit", "seal"]).exit_code == 0
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and "intact" in verified.output


@pytest.mark.demo_data
def test_a_bulk_decision_keeps_to_its_community(runner, session):
    campaign = campaigns.get_campaign(demo.SLUG, session=session)
    responses = _randomise(session, 4)
    evaluator = make_user(session, Role.EVALUATOR)
    community = _community_of(session)
    code = community[next(r.household_id for r in responses if r.household_id)]
    expected = quality_review.flagged_ids(
        campaign, ReviewFilters(kind="straight_lining", community=code), session=session)
    assert expected
    result = runner.invoke(args=["responses", "exclude", demo.SLUG, "--flag",
                                 "straight_lining", "--community", code, "--reason",
                                 "straight answers", "--by", evaluator.username])
    assert result.exit_code == 0, result.output
    assert sorted(session.exec(select(Response.id).where(Response.excluded)).all()) == expected
    with pytest.raises(bulk_exclusion.BulkExclusionError, match="unknown flag"):
        bulk_exclusion.decide_flagged(campaign, "nonsense", exclude=True, reason="r",
                                      actor=evaluator, session=session)


@pytest.mark.demo_data
def test_the_cached_flags_follow_a_changed_response(app, client, session):
    from survey_app.models import utcnow

    app.config["SCORE_CACHE_SETTLE_SECONDS"] = 0  # cache at once (demo data is recent)
    login(client, make_user(session, Role.EVALUATOR))
    path = f"/evaluate/{demo.SLUG}/quality?flag=too_fast"
    response = session.exec(select(Response).where(
        Response.status == "complete", _in_heshan(session))
                            .order_by(Response.id.desc())).first()
    assert f"/responses/{response.id}\"" not in client.get(path).get_data(as_text=True)
    # As every writer of a response does (services.response_edits): updated_at moves.
    response.started_at = response.submitted_at - timedelta(seconds=12)
    response.updated_at = utcnow()
    session.add(response)
    session.flush()
    assert f"/responses/{response.id}\"" in client.get(path).get_data(as_text=True)
