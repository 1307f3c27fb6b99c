"""CPU cost of scrubbing residents' free text (services/text_scrub.scrub).

Every export scrubs each free-text answer, and every submission its comment once. Measured
in CPU time (``time.process_time``, best of ``--repeat``), so that a shared, loaded machine
changes the figures less than wall time: the corpus's comments with personal data, the
corpus's clean comments, and the demo's ten-odd phrases (the bulk data's comments), per
comment and for 100,000 comments.

Usage: .venv/bin/python benchmarks/bench_scrub.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from survey_app.services.demo import COMMENTS  # noqa: E402
from survey_app.services.text_scrub import scrub  # noqa: E402


def per_comment_us(texts: list[str], repeat: int, rounds: int = 200) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(rounds):
            for text in texts:
                scrub(text)
        best = min(best, time.process_time() - start)
    return best / (rounds * len(texts)) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    corpus = yaml.safe_load((ROOT / "tests/services/data/comment_corpus.yaml")
                            .read_text(encoding="utf-8"))
    sets = {"personal (corpus)": [c["text"] for c in corpus["personal"]],
            "clean (corpus)": list(corpus["clean"]), "demo phrases": list(COMMENTS)}
    for name, texts in sets.items():
        us = per_comment_us(texts, args.repeat)
        print(f"{name:18} {len(texts):4} comments: {us:6.1f} us CPU each, "
              f"{us / 10:6.2f} s per 100,000")


if __name__ == "__main__":
    main()
