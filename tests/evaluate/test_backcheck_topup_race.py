"""Two top-ups of one back-check at once (a double click, two evaluators) on committed data
with real connections: the second waits for the first and then finds nothing left to
replace, rather than failing on the round's unique key (a server error on PostgreSQL)."""

from __future__ import annotations

import threading

from sqlmodel import Session, select

from survey_app import create_app
from survey_app.db import make_engine
from survey_app.extensions import db
from survey_app.models import BackcheckCase, BackcheckTopup, Campaign, User
from survey_app.services import backcheck_topup, backchecks
from tests.evaluate.backcheck_field import build_backcheck_field
from tests.fixtures.settings import TEST_SETTINGS


def test_concurrent_topups_draw_one_round(fresh_database_url):
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": fresh_database_url})
    with app.app_context(), db.write() as session:
        field = build_backcheck_field(session)
        draw = backchecks.draw_backchecks(field.campaign, seed=42, session=session)
        case = session.exec(select(BackcheckCase).where(BackcheckCase.draw_id == draw.id)
                            .order_by(BackcheckCase.id)).first()
        backchecks.record_call(case, campaign=field.campaign, outcome="refused", answers={},
                               session=session, actor=field.evaluator)
        campaign_id, evaluator_id = field.campaign.id, field.evaluator.id

    engine = make_engine(fresh_database_url, immediate=True)
    first = Session(engine)
    with app.app_context():
        backcheck_topup.topup_backchecks(first.get(Campaign, campaign_id), session=first,
                                         actor=first.get(User, evaluator_id))
        outcome: list[object] = []

        def second() -> None:
            with app.app_context(), Session(engine) as other:
                try:
                    backcheck_topup.topup_backchecks(other.get(Campaign, campaign_id),
                                                     session=other,
                                                     actor=other.get(User, evaluator_id))
                    other.commit()
                    outcome.append("drawn")
                except Exception as exc:  # noqa: BLE001 - which one is the test's question
                    outcome.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=2)
        assert thread.is_alive()  # waiting for the first top-up's transaction
        first.commit()
        first.close()
        thread.join(timeout=60)

    assert len(outcome) == 1 and isinstance(outcome[0], backchecks.BackcheckRefused), outcome
    assert outcome[0].reason == "nothing_to_replace"
    with Session(engine) as check:
        assert len(check.exec(select(BackcheckTopup)).all()) == 1
    engine.dispose()
    db.dispose(app)
