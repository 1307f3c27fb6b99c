"""gunicorn's master loads jieba's dictionary before forking, so no request pays it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import runpy
import jieba
from analysis import comments

conf = runpy.run_path("gunicorn.conf.py")
assert conf["preload_app"] is True
assert not jieba.dt.initialized
conf["when_ready"](None)
assert jieba.dt.initialized
assert {"租赁补贴", "补偿标准"} <= comments._USER_WORDS
print("ok")
"""


def test_gunicorn_master_loads_the_comment_segmenter():
    out = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
