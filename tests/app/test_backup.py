"""Backups are consistent while the app takes writes, and restore brings every response back."""

import threading

import pytest
from sqlmodel import Session, select

from survey_app import create_app
from survey_app.db import make_engine
from survey_app.models import Answer, AuditEvent, Response
from survey_app.services import audit, backup
from tests.fixtures.settings import TEST_SETTINGS


def _snapshot(url):
    engine = make_engine(url)
    with Session(engine) as session:
        responses = sorted((r.instance_id, r.payload_hash, r.status, r.mode)
                           for r in session.exec(select(Response)).all())
        answers = sorted((a.response_id, a.question_id, a.code, a.number, a.text)
                         for a in session.exec(select(Answer)).all())
    engine.dispose()
    return responses, answers


@pytest.mark.slow
def test_backup_while_writing_then_restore_round_trips(fresh_demo_database_url, tmp_path):
    url = fresh_demo_database_url  # the committed demo: data worth restoring
    before = _snapshot(url)

    stop = threading.Event()
    writes = []

    def keep_writing():
        engine = make_engine(url, immediate=True)
        while not stop.is_set():
            with Session(engine) as session:
                audit.record("test.write", "test", len(writes), session=session, label="test")
                session.commit()
            writes.append(1)
        engine.dispose()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        target = backup.backup(url, tmp_path / "snapshot.bak")
    finally:
        stop.set()
        writer.join()
    assert writes, "the writer never committed during the backup"

    # Damage the live data, then restore the snapshot over it.
    engine = make_engine(url, immediate=True)
    with Session(engine) as session:
        for response in session.exec(select(Response).limit(5)).all():
            response.status = "deleted"
            session.add(response)
        session.commit()
    engine.dispose()
    assert _snapshot(url) != before

    backup.restore(url, target)
    assert _snapshot(url) == before
    engine = make_engine(url)
    with Session(engine) as session:
        # The append-only trigger survived the restore.
        assert session.exec(select(AuditEvent)).first() is not None
    engine.dispose()


def test_backup_cli_writes_a_file(fresh_database_url, tmp_path):
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": fresh_database_url})
    out = tmp_path / "b.bak"
    result = app.test_cli_runner().invoke(args=["backup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0
    result = app.test_cli_runner().invoke(args=["restore", str(out), "--yes"])
    assert result.exit_code == 0, result.output


def test_pg_dump_reads_every_unit_explicitly(monkeypatch, tmp_path):
    """Row-level security fails closed (migration 0028): a dump by the schema's owner, who
    is filtered too, must carry the all-units marker or it would hold no campaign row."""
    import subprocess

    seen = {}

    def fake_run(command, **kwargs):
        seen["env"] = kwargs["env"]
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(backup.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(backup.subprocess, "run", fake_run)
    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=0")
    target = tmp_path / "x.dump"
    target.touch()
    backup.backup("postgresql+psycopg://owner@127.0.0.1/survey", target)
    assert seen["env"]["PGOPTIONS"] == "-c statement_timeout=0 -c survey.unit_path=*"
