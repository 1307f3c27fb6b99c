"""analysis must not import the web stack (STYLE.md: dependencies point one way)."""

import subprocess
import sys

import pytest

CODE = """
import importlib, pkgutil, sys
import analysis
for m in pkgutil.iter_modules(analysis.__path__):
    importlib.import_module("analysis." + m.name)
bad = [name for name in ("flask", "sqlmodel", "sqlalchemy", "survey_app", "questionnaires")
       if name in sys.modules]
assert not bad, bad
print("ok", len(list(pkgutil.iter_modules(analysis.__path__))))
"""


def test_analysis_imports_no_web_stack():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")


@pytest.mark.slow
def test_comments_first_use_is_quiet():
    code = "from analysis import comment_themes; comment_themes(['物业维修不及时'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert "Building prefix dict" not in out.stderr
