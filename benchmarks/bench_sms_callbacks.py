"""SMS delivery receipts: how long one callback post takes (review finding F14).

A scratch database per backend gets one open campaign with ``--messages`` sent messages
(one wave; ``client_ref`` and ``biz_id`` set, as after a send). Each run posts receipts to
``/gateway/sms/report`` through the app (Flask test client: JSON parsing, the URL secret,
the write transaction) for fresh ``sent`` messages: a batch of ``--batch`` receipts (the
largest a post may carry, ``SMS_CALLBACK_MAX_RECEIPTS``), then an 8 MB body of receipts
(what the review sent; ``--full`` only: before the cap it takes minutes). Best of
``--repeat`` runs for the batch.

Usage: .venv/bin/python benchmarks/bench_sms_callbacks.py [--messages 20000] [--batch 1000]
       [--backends sqlite postgresql] [--repeat 3] [--full]
"""

from __future__ import annotations

import argparse
import json
import time

from bulk_data import make_bench_app, scratch_database
from sqlalchemy import insert, update

from survey_app.extensions import db
from survey_app.models import (
    Campaign,
    CampaignStatus,
    Community,
    Household,
    MessageStatus,
    OutboxMessage,
    SmsWave,
    utcnow,
)

SECRET = "bench-callback-secret"
BODY_LIMIT = 8 * 1024 * 1024


def _messages(count: int) -> None:
    with db.write() as session:
        campaign = Campaign(slug="bench-sms", title="短信回执", year=2026,
                            status=CampaignStatus.OPEN)
        community = Community(code="C1", name="桃花仑社区")
        session.add_all([campaign, community])
        session.flush()
        wave = SmsWave(campaign_id=campaign.id, number=0, kind="invitation", messages=count)
        session.add(wave)
        session.flush()
        session.execute(insert(Household), [
            {"campaign_id": campaign.id, "household_code": f"H{i:06d}",
             "household_group": "relocated", "community_id": community.id,
             "pseudonym": f"P{i:06d}", "sampled": True} for i in range(count)])
        ids = [h for (h,) in session.execute(
            Household.__table__.select().with_only_columns(Household.id)
            .order_by(Household.id)).all()]
        now = utcnow()
        session.execute(insert(OutboxMessage), [
            {"campaign_id": campaign.id, "household_id": hid, "wave_id": wave.id,
             "wave_number": 0, "client_ref": f"ref-{i}", "provider_message_id": f"biz-{i}",
             "status": MessageStatus.SENT, "attempts": 1, "created_at": now,
             "updated_at": now, "sent_at": now} for i, hid in enumerate(ids)])


def _reset() -> None:
    with db.write() as session:
        session.execute(update(OutboxMessage).values(status=MessageStatus.SENT,
                                                     delivered_at=None, error=None))


def _receipts(first: int, count: int, total: int) -> list[dict]:
    return [{"out_id": f"ref-{(first + i) % total}", "biz_id": f"biz-{(first + i) % total}",
             "success": i % 7 != 0, "err_code": "DELIVERED" if i % 7 else "MK:0001",
             "phone_number": "13900000000", "report_time": "2026-12-06 10:00:00",
             "send_time": "2026-12-06 09:59:58", "sms_size": "1"} for i in range(count)]


def _post(client, items: list[dict]) -> tuple[float, int]:
    body = json.dumps(items)
    start = time.perf_counter()
    answer = client.post(f"/gateway/sms/report?key={SECRET}", data=body,
                         content_type="application/json")
    return time.perf_counter() - start, answer.status_code


def measure(backend: str, messages: int, batch: int, repeat: int, full: bool) -> None:
    with scratch_database(backend) as url:
        app = make_bench_app(url, SMS_CALLBACK_SECRET=SECRET, RATELIMIT_ENABLED=False)
        with app.app_context():
            _messages(messages)
            client = app.test_client()
            times = []
            for run in range(repeat):
                _reset()
                seconds, status = _post(client, _receipts(run * batch, batch, messages))
                assert status == 200, status
                times.append(seconds)
            print(f"{backend:10s} {batch:6d} receipts   best {min(times) * 1000:8.1f} ms"
                  f"   ({batch / min(times):,.0f} receipts/s)")
            if full:
                items = _receipts(0, 50_000, messages)
                size = len(json.dumps(items))  # just under the body limit (MAX_CONTENT_LENGTH)
                items = items[:int(len(items) * (BODY_LIMIT - 65536) / size)]
                _reset()
                seconds, status = _post(client, items)
                print(f"{backend:10s} 8 MB body ({len(items):,} receipts): HTTP {status} in "
                      f"{seconds:8.2f} s")
        db.dispose(app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    for backend in args.backends:
        measure(backend, args.messages, args.batch, args.repeat, args.full)


if __name__ == "__main__":
    main()
