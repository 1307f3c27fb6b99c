"""analysis must not import the web stack (STYLE.md: dependencies point one way)."""

import subprocess
import sys

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


def test_comments_first_use_is_quiet():
    code = "from analysis import comment_themes; comment_themes(['物业维修不及时'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert "Building prefix dict" not in out.stderr


def test_importing_analysis_does_not_import_jieba():
    # jieba's import and dictionary cost start-up time and worker memory: only segmenting a
    # comment may load it (issue 15, start-up and memory).
    code = ("import sys, analysis; assert 'jieba' not in sys.modules, 'jieba imported'; "
            "analysis.word_tokens('维修太慢'); assert 'jieba' in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")
