"""gunicorn's master loads jieba's dictionary before forking, so no request pays it, and
numpy runs one BLAS thread per worker."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import os
import runpy
import jieba
from analysis import comments

os.environ.pop("OPENBLAS_NUM_THREADS", None)
conf = runpy.run_path("gunicorn.conf.py")
assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
assert conf["preload_app"] is True
assert not jieba.dt.initialized
conf["when_ready"](None)
assert jieba.dt.initialized
assert {"租赁补贴", "补偿标准"} <= comments._USER_WORDS
print("ok")
"""


@pytest.mark.slow
def test_gunicorn_master_loads_the_comment_segmenter():
    out = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
