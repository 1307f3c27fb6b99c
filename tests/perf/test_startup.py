"""Start-up: the app and the resident and entry pages do without the statistics stack; the
gunicorn master loads the comment segmenter once a worker has segmented a comment and shares
it with workers forked after loading it; numpy runs one BLAS thread per worker. Timings and
memory: benchmarks/bench_startup.py."""

import gc
import json
import runpy
import subprocess
import sys
from pathlib import Path

from sqlalchemy import event

from questionnaires import load_builtin
from survey_app import create_app
from survey_app.extensions import db, limiter
from survey_app.models import CampaignStatus, Role
from survey_app.services import campaigns, questionnaire_versions
from tests.factories import make_community, make_user

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {"TESTING": True, "SECRET_KEY": "test-secret", "PII_KEY": "test-pii-key",
            "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
# Nothing of the statistics stack: numpy, scipy, the statistics (`analysis`, whose package
# loads its modules on first use, PEP 562: of it only its convention texts may load), jieba,
# the document and workbook writers.
STATISTICS_STACK = ("numpy", "scipy", "analysis.", "jieba", "matplotlib", "docx", "openpyxl",
                    "pandas", "pyreadstat", "docxtpl", "cairosvg")
LIGHT = ("analysis.conventions",)

# In a fresh interpreter: what creating the app and serving residents and community
# workers imported. argv: the settings (JSON), a worker's login id, resident answers (JSON).
PAGES = f"STACK = {STATISTICS_STACK!r}\nLIGHT = {LIGHT!r}\n" + """
import json, sys
from survey_app import create_app

settings = json.loads(sys.argv[1])
app = create_app(settings)
client = app.test_client()
loaded = {}
def note(step, status):
    loaded[step] = {"status": status, "modules": sorted(
        {s for s in STACK for m in sys.modules
         if m not in LIGHT and (m == s or m.startswith(s.rstrip(".") + "."))})}
note("create_app", None)
page = client.get("/c/startup/relocated?unverified=1")
note("resident page", page.status_code)
instance = page.get_data(as_text=True).split('name="instance_id"')[1].split('value="')[1]
answers = json.loads(sys.argv[3])
post = client.post("/c/startup/relocated", data={**answers, "instance_id": instance.split('"')[0],
                                                  "submit": "1"})
note("resident submit without a comment", post.status_code)
with client.session_transaction() as flask_session:
    flask_session["_user_id"] = sys.argv[2]
    flask_session["_fresh"] = True
note("entry page", client.get("/entry/").status_code)
print(json.dumps(loaded))
"""


def _resident_answers() -> dict[str, str]:
    """Every question answered, no free text (skip logic: nobody complained)."""
    answers = {}
    for question in load_builtin("relocated").questions():
        if question.type == "rating":
            answers[f"a_{question.id}"] = "5"
        elif question.id == "has_complained":
            answers[f"a_{question.id}"] = "2"
        elif question.type == "single":
            answers[f"a_{question.id}"] = question.options[0].code
        elif question.type == "integer":
            answers[f"a_{question.id}"] = "3"
    return answers


def test_app_resident_and_entry_pages_do_not_import_the_statistics_stack(fresh_database_url):
    settings = {**SETTINGS, "DATABASE_URL": fresh_database_url}
    app = create_app(settings)
    with app.app_context():
        campaign = campaigns.create_campaign("startup", "启动测试", 2026, session=db.session)
        campaign.status = CampaignStatus.OPEN
        questionnaire_versions.attach_builtin_questionnaires(campaign, session=db.session)
        worker = make_user(db.session, Role.WORKER, community=make_community(db.session))
        worker_id = worker.get_id()
        db.session.commit()
    db.dispose(app)

    out = subprocess.run(
        [sys.executable, "-c", PAGES, json.dumps(settings), worker_id,
         json.dumps(_resident_answers())],
        cwd=ROOT, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == {
        "create_app": {"status": None, "modules": []},
        "resident page": {"status": 200, "modules": []},
        "resident submit without a comment": {"status": 302, "modules": []},
        "entry page": {"status": 200, "modules": []},
    }


SEGMENTER = """
import os, runpy, signal, sys, threading

os.environ.pop("OPENBLAS_NUM_THREADS", None)
conf = runpy.run_module("survey_app.gunicorn_conf")
assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
assert conf["preload_app"] is True
hangups = []
signal.signal(signal.SIGHUP, lambda *_: hangups.append(1))

class Log:
    def info(self, *args):
        pass

class Master:  # what share_comment_segmenter reads of gunicorn's Arbiter
    log = Log()

thread = threading.Thread(target=conf["share_comment_segmenter"], args=(Master(),),
                          kwargs={"poll_seconds": 0.01})
thread.start()

def worker(load_jieba):  # a forked worker's request, then gunicorn's post_request hook
    pid = os.fork()
    if pid == 0:
        if load_jieba:
            import jieba
        conf["post_request"](None, None, None, None)
        os._exit(0)
    assert os.waitpid(pid, 0)[1] == 0

worker(load_jieba=False)  # pages without a comment: the master keeps waiting
thread.join(0.3)
assert thread.is_alive() and "jieba" not in sys.modules and not hangups
worker(load_jieba=True)  # a worker segmented a comment: told through the shared byte
thread.join(60)
assert not thread.is_alive()
import jieba
assert jieba.dt.initialized
from analysis import comments
assert {"租赁补贴", "补偿标准"} <= comments._USER_WORDS
assert hangups == [1]  # the master is asked to replace its workers
pid = os.fork()  # forks still work after the loading (the fork lock was released)
if pid == 0:
    os._exit(0)
assert os.waitpid(pid, 0)[1] == 0
print("ok")
"""


def test_gunicorn_master_loads_the_comment_segmenter_once_a_worker_needed_it():
    out = subprocess.run([sys.executable, "-c", SEGMENTER], cwd=ROOT, capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


SEGMENTER_AT_START = """
import os, runpy, signal, sys, threading

os.environ["SURVEY_COMMENT_SEGMENTER"] = "start"
conf = runpy.run_module("survey_app.gunicorn_conf")
hangups = []
signal.signal(signal.SIGHUP, lambda *_: hangups.append(1))

class Log:
    def info(self, *args):
        pass

    def exception(self, *args):  # the warm-up: this Master has no app
        pass

class Master:  # what when_ready and share_comment_segmenter read of gunicorn's Arbiter
    WORKERS = {}
    num_workers = 4
    log = Log()

import gc
assert not gc.isenabled()  # no collection while the master imports the app
master = Master()
conf["when_ready"](master)
assert gc.isenabled()  # back on for the master and its workers
assert master.num_workers == 1  # one worker first: it serves while the master loads
threading.Event().wait(0.2)
assert "jieba" not in sys.modules and not hangups  # waits for that worker
master.WORKERS = {1: None}
thread = [t for t in threading.enumerate() if t.name == "share-comment-segmenter"][0]
thread.join(60)
assert not thread.is_alive()
import jieba
assert jieba.dt.initialized and hangups == [1]  # then the reload forks the configured number
print("ok")
"""


def test_gunicorn_master_can_load_the_comment_segmenter_at_start():
    out = subprocess.run([sys.executable, "-c", SEGMENTER_AT_START], cwd=ROOT,
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_gunicorn_master_warm_up_only_reads_and_leaves_no_connection_or_setting_behind(
        fresh_database_url):
    try:
        warm_up = runpy.run_module("survey_app.gunicorn_conf")["warm_up"]
    finally:
        gc.enable()  # the settings turn collection off until the master's when_ready
    app = create_app({**SETTINGS, "DATABASE_URL": fresh_database_url,
                      "RATELIMIT_ENABLED": True})
    state = app.extensions["survey_db"]
    statements = []
    for engine in {state.read_engine, state.write_engine}:
        event.listen(engine, "before_cursor_execute",
                     lambda _c, _cur, statement, *_: statements.append(statement))
    warm_up(app)
    assert statements, "the link look-up was not exercised"
    assert all(statement.lstrip().upper().startswith(("SELECT", "PRAGMA", "BEGIN", "ROLLBACK"))
               for statement in statements), statements
    assert all(engine.pool.checkedin() == 0 and engine.pool.checkedout() == 0
               for engine in {state.read_engine, state.write_engine})  # disposed: none open
    assert app.config["RATELIMIT_ENABLED"] is True and limiter.enabled
    compiled = {template.name for template in app.jinja_env.cache.values()}
    assert {"public/survey.html", "public/identify.html", "base.html"} <= compiled
