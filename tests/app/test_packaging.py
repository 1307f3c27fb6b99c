"""The README's production install works from a built wheel, away from the checkout.

The wheel is built as ``pip install .`` builds it (an isolated build running setup.py's
hook), installed into a fresh virtual environment without the system's or the project's
packages, and run from an empty directory: ``survey-app db upgrade`` must find the
migrations inside the package, and gunicorn with the packaged settings must serve the
resident page and the staff login in Chinese (compiled catalogues and every blueprint's
templates in the wheel). Dependencies come from pip's usual index and cache (~30 s).
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _run(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, f"{args[:3]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, deadline: float) -> tuple[int, str]:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:
                return reply.status, reply.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # setuptools builds in the checkout's build/ folder: two xdist workers building at once
    # removed each other's files there, so the builds take turns.
    with open(tmp_path_factory.getbasetemp().parent / "wheel-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w",
              str(out)], cwd=out, env=dict(os.environ))
    (built,) = out.glob("housing_satisfaction_survey-*.whl")
    return built


def test_wheel_holds_templates_catalogues_and_migrations(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for blueprint in ("public", "entry", "evaluate", "admin", "auth"):
        assert any(n.startswith(f"survey_app/{blueprint}/templates/") for n in names), blueprint
    for catalogue in ("translations", "public/translations", "entry/translations",
                      "evaluate/translations", "admin/translations", "api/translations"):
        assert f"survey_app/{catalogue}/zh/LC_MESSAGES/messages.mo" in names, catalogue
    migrations = {Path(n).name for n in names
                  if n.startswith("survey_app/_alembic/migrations/versions/")}
    assert migrations == {p.name for p in (ROOT / "migrations" / "versions").glob("*.py")}
    assert {"survey_app/_alembic/alembic.ini", "survey_app/_alembic/migrations/env.py",
            "survey_app/static/app.css", "survey_app/gunicorn_conf.py",
            "survey_app/data/report_template.docx", "questionnaires/builtin/relocated.yaml",
            } <= names


def test_installed_wheel_migrates_and_serves_chinese_pages(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # no site packages
    bin_dir = venv / "bin"
    base_env = {key: os.environ[key] for key in ("HOME", "LANG", "TMPDIR") if key in os.environ}
    base_env["PATH"] = f"{bin_dir}:/usr/bin:/bin"
    # pip's own settings (index, cache, certificates) but nothing pointing at the checkout.
    pip_env = {**base_env, **{k: v for k, v in os.environ.items() if k.startswith("PIP_")}}
    _run([str(bin_dir / "pip"), "install", "-q", str(wheel)], cwd=tmp_path, env=pip_env)

    elsewhere = tmp_path / "site"
    elsewhere.mkdir()
    env = {**base_env, "SURVEY_DATABASE_URL": f"sqlite:///{elsewhere / 'survey.db'}",
           "SURVEY_SECRET_KEY": "wheel-test-secret-key-0123456789",
           "SURVEY_PII_KEY": "wheel-test-pii-key-0123456789",
           "SURVEY_CONTACT_KEY": "wheel-test-contact-key-0123456789"}
    where = _run([str(bin_dir / "python"), "-c", "import survey_app; print(survey_app.__file__)"],
                 cwd=elsewhere, env=env)
    assert where.startswith(str(venv)), where
    cli = str(bin_dir / "survey-app")
    _run([cli, "db", "upgrade"], cwd=elsewhere, env=env)
    assert "(head)" in _run([cli, "db", "current"], cwd=elsewhere, env=env)
    _run([cli, "campaign", "create", "wheel-2022", "--title", "安装测试满意度调查",
          "--year", "2022"], cwd=elsewhere, env=env)
    _run([cli, "campaign", "open", "wheel-2022"], cwd=elsewhere, env=env)

    port = _free_port()
    server = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "-c", "python:survey_app.gunicorn_conf",
         "survey_app:create_app()"],
        cwd=elsewhere, env={**env, "SURVEY_BIND": f"127.0.0.1:{port}", "SURVEY_WORKERS": "1"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        base = f"http://127.0.0.1:{port}"
        status, identify = _get(f"{base}/c/wheel-2022/relocated", deadline)
        assert status == 200, identify[-2000:]
        assert "不核验，直接答题" in identify
        status, resident = _get(f"{base}/c/wheel-2022/relocated?unverified=1", deadline)
        assert status == 200, resident[-2000:]
        assert "提交问卷" in resident  # from the public blueprint's catalogue
        status, login = _get(f"{base}/auth/login", deadline)
        assert status == 200, login[-2000:]
        assert "工作人员登录" in login and "用户名" in login and "密码" in login
        status, css = _get(f"{base}/static/app.css", deadline)
        assert status == 200 and css
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
