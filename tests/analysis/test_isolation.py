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


def test_importing_analysis_does_not_import_jieba():
    # jieba's import and dictionary cost start-up time and worker memory: only segmenting a
    # comment may load it (issue 15, start-up and memory).
    code = ("import sys, analysis; assert 'jieba' not in sys.modules, 'jieba imported'; "
            "analysis.word_tokens('维修太慢'); assert 'jieba' in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")


def test_every_exported_name_resolves_and_no_module_shadows_one():
    import importlib
    import pkgutil
    import types

    import analysis

    modules = {m.name for m in pkgutil.iter_modules(analysis.__path__)}
    for module in modules:  # a submodule imported later must not replace an exported name
        importlib.import_module("analysis." + module)
    assert not modules & set(analysis.__all__)
    for name in analysis.__all__:
        assert not isinstance(getattr(analysis, name), types.ModuleType), name
    assert set(dir(analysis)) >= set(analysis.__all__)


def test_planning_imports_only_what_it_needs():
    # The admin's sampling page plans samples: it must not load scipy.stats, the whole
    # analysis package or jieba (issue 15, start-up and memory).
    code = ("import sys; from analysis.planning import cochran_sample_size; "
            "from analysis import word_tokens; "
            "loaded = sorted(m for m in sys.modules if m.startswith('analysis.')); "
            "assert loaded == ['analysis.comments', 'analysis.planning'], loaded; "
            "assert 'scipy.stats' not in sys.modules and 'jieba' not in sys.modules; "
            "print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")


def test_conventions_and_indicator_rules_need_no_statistics_stack():
    # The API schema lists the conventions and the admin builds indicator rules at start-up.
    code = ("import sys; from analysis.conventions import scores_conventions; "
            "from analysis.indicator import BandRule, StepwiseRule; "
            "assert 'scipy.stats' not in sys.modules and 'analysis.estimates' not in "
            "sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")
