"""Themes of open Chinese comments (意见和建议): jieba word segmentation, stop words removed,
terms ranked by the number of comments that mention them, with example comments.

jieba is imported on first segmentation, not with ``analysis``: importing it costs time and
memory that processes never segmenting a comment (resident and entry requests) should not
pay. jieba logs "Building prefix dict ..." to stderr when its dictionary is first loaded;
its logger is set to WARNING on import so that the first call stays quiet.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from types import ModuleType

__all__ = ["DEFAULT_STOP_WORDS", "Theme", "CommentThemes", "comment_themes", "is_praise",
           "load_segmenter", "word_tokens"]

_STOP_WORDS_TEXT = """
    的 了 是 我 我们 你 你们 他 他们 她 它 这 那 这个 那个 这些 那些 就 也 都 还 又 很 太 非常
    比较 有 没有 没 不 在 和 与 及 以及 或 或者 但 但是 而 而且 并 并且 所以 因为 如果 希望
    建议 觉得 认为 感觉 一些 一下 一点 有点 有些 可以 能 能够 会 要 应该 需要 把 被 让 给 对
    对于 为 为了 从 到 向 于 上 下 中 里 等 等等 啊 吧 呢 吗 哦 嗯 呀 没什么 什么 无 暂无
    挺 更 再 多 少 好 大 小 一个 个 还是 已经 目前 现在 其他 方面 问题 情况 工作 满意 不错
    谢谢 无意见 没意见
    以后 以前 之后 之前 后来 然后 时候 一直 总是 经常 有时 有时候 每次 几次 一次 两次 多次
    结果 就是 还有 这样 那样 怎么 为什么 一定 真的 确实 特别 实在
"""
#: Function words, adverbs of time and frequency (以后, 一直, 几次: one complaint must not
#: show as two themes) and empty survey phrases that never make a theme.
DEFAULT_STOP_WORDS: frozenset[str] = frozenset(_STOP_WORDS_TEXT.split())

# Praise and thanks, longest first so that "希望继续保持" is taken before "希望" is read as a
# wish; and the words that make a comment raise something (a wish, a "but", a negation).
PRAISE_MARKERS: tuple[str, ...] = (
    "希望继续保持", "没有什么意见", "继续保持", "实实在在", "辛苦了", "感谢", "谢谢", "满意",
    "挺好", "很好", "不错", "好事", "点赞", "没意见", "无意见")
CONCERN_MARKERS: tuple[str, ...] = (
    "希望", "建议", "但", "可是", "不过", "却", "不", "没", "太", "慢", "差", "拖", "问题",
    "请", "要求", "应该", "尽快", "麻烦", "投诉", "反映", "意见")


def is_praise(text: str) -> bool:
    """True for a comment that only praises or thanks (no wish, complaint or "but").

    A comment is praise when it holds a praise marker and, with the praise markers taken
    out, no concern marker (:data:`PRAISE_MARKERS`, :data:`CONCERN_MARKERS`). Such comments
    are left out of the *problem* themes; they still count as comments.

    >>> [is_praise(t) for t in ("解决了我家的实际困难，非常感谢。", "整体满意，希望继续保持。",
    ...                         "很满意，但是补贴发放太慢。", "打了几次电话反映情况。", "不满意")]
    [True, True, False, False, False]
    """
    rest = text
    for marker in PRAISE_MARKERS:
        rest = rest.replace(marker, "|")  # a gap, so no new word forms across it
    if rest == text:
        return False
    return not any(marker in rest for marker in CONCERN_MARKERS)


_WORD = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
#: User words already in jieba's dictionary (added once per process, see _add_user_words).
_USER_WORDS: set[str] = set()
_USER_WORDS_LOCK = threading.Lock()


@cache
def _jieba() -> ModuleType:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


@lru_cache(maxsize=200_000)
def _segment(text: str) -> tuple[str, ...]:
    # Segmentation is the dominant cost (seconds for 100,000 comments) and the tokens of an
    # unchanged text never change while the dictionary does not: cache them per text.
    return tuple(_jieba().lcut(text))


def word_tokens(text: str, user_words: Sequence[str] = ()) -> tuple[str, ...]:
    """The tokens of ``text`` that :func:`comment_themes` considers, before its stop words.

    jieba's precise mode, keeping tokens with a CJK character, letter or digit (punctuation
    and white space dropped). Not cached: meant for segmenting each comment once when it is
    stored, so that themes of many comments need not segment them again (``segmented``).

    Parameters
    ----------
    text : str
        One comment.
    user_words : sequence of str, default ()
        Domain terms added to jieba's dictionary (as for :func:`comment_themes`).

    Examples
    --------
    >>> word_tokens("维修太慢，停车位少")
    ('维修', '太慢', '停车位', '少')
    """
    _add_user_words(user_words)
    return tuple(t for t in _jieba().lcut(text.strip()) if _WORD.search(t))


def _add_user_words(words: Sequence[str]) -> None:
    # Each jieba.add_word of a word already present raises its frequency by one, so adding
    # on every call made segmentation depend on how often themes had been computed; add
    # each word once (under a lock: threaded servers segment at submit time), and forget
    # cached segmentations whenever the dictionary changes.
    if all(w in _USER_WORDS for w in words):
        return
    with _USER_WORDS_LOCK:
        new = [w for w in words if w not in _USER_WORDS]
        for word in new:
            _jieba().add_word(word)
            _USER_WORDS.add(word)
        if new:
            _segment.cache_clear()


def load_segmenter(user_words: Sequence[str] = ()) -> None:
    """Load jieba's dictionary and add ``user_words`` now instead of in the first call.

    jieba reads its dictionary (about 0.7 s) on first use; a server calls this once at
    start-up so that no request pays it. Calling it again does nothing.

    Parameters
    ----------
    user_words : sequence of str, default ()
        The domain terms later calls of :func:`comment_themes` will pass.

    Examples
    --------
    >>> load_segmenter(["租赁补贴"])
    >>> sorted(t.term for t in comment_themes(["租赁补贴发放慢"], user_words=["租赁补贴"]).themes)
    ['放慢', '租赁补贴']
    """
    _jieba().initialize()
    _add_user_words(user_words)


@dataclass(frozen=True, slots=True)
class Theme:
    term: str
    comment_count: int
    occurrences: int
    examples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CommentThemes:
    themes: tuple[Theme, ...]
    n_comments: int
    n_empty: int
    convention: str


def comment_themes(
    comments: Iterable[str | None],
    *,
    top_n: int = 10,
    stop_words: Iterable[str] | None = None,
    extra_stop_words: Iterable[str] = (),
    min_length: int = 2,
    examples_per_theme: int = 3,
    user_words: Sequence[str] = (),
    segmented: Mapping[str, Sequence[str]] | None = None,
) -> CommentThemes:
    """Most frequent themes (terms) in Chinese free-text comments.

    Parameters
    ----------
    comments : iterable of str or None
        One comment per respondent; empty/None comments are counted in ``n_empty``.
    top_n : int, default 10
        Number of themes returned.
    stop_words : iterable of str, optional
        Replaces :data:`DEFAULT_STOP_WORDS`.
    extra_stop_words : iterable of str, default ()
        Added to the stop words.
    min_length : int, default 2
        Minimum term length in characters (single characters are rarely themes).
    examples_per_theme : int, default 3
        Example comments kept per theme (first occurrences, in input order).
    user_words : sequence of str, default ()
        Domain terms added to jieba's dictionary (e.g. "租赁补贴", "棚改").
    segmented : mapping of str to sequence of str, optional
        Comments (stripped) already segmented by :func:`word_tokens` with the same
        ``user_words``, e.g. when they were stored: their tokens are used instead of
        segmenting them again. Other comments are segmented here.

    Returns
    -------
    CommentThemes
        Themes sorted by comment count (then occurrences, then term), with examples.

    Notes
    -----
    Tokens come from ``jieba.lcut`` (precise mode), cached per distinct text (or from
    ``segmented``);
    ``user_words`` are added to jieba's dictionary once per process. Tokens without a CJK
    character, letter or digit (punctuation, whitespace), stop words and tokens shorter than
    ``min_length`` are dropped. comment_count = number of comments containing the term (a
    comment repeating a word counts once); occurrences = total token count.

    References
    ----------
    Sun, J. jieba Chinese word segmentation, https://github.com/fxsjy/jieba.

    Examples
    --------
    >>> r = comment_themes(["物业维修不及时", "维修太慢，停车位少", "停车位不够"], top_n=2)
    >>> [(t.term, t.comment_count) for t in r.themes]
    [('停车位', 2), ('维修', 2)]
    >>> stored = {c: word_tokens(c) for c in ["物业维修不及时", "停车位不够"]}
    >>> r2 = comment_themes(["物业维修不及时", "维修太慢，停车位少", "停车位不够"], top_n=2,
    ...                     segmented=stored)
    >>> r2 == r
    True
    """
    stops = set(DEFAULT_STOP_WORDS if stop_words is None else stop_words)
    stops.update(extra_stop_words)
    _add_user_words(user_words)
    texts = [comment.strip() if comment else "" for comment in comments]
    # Each distinct text is segmented and filtered once and counted with its multiplicity.
    seen: Counter[str] = Counter(texts)
    n_empty = seen.pop("", 0)
    tokens_of = _tokens_of_texts(seen, segmented or {})
    # The filter is decided once per distinct token, then applied to each comment by
    # filter() in C: a million tokens of 100,000 comments cost no Python call each.
    vocabulary = set().union(*tokens_of.values())
    keep = {t for t in vocabulary
            if len(t) >= min_length and t not in stops and _WORD.search(t)}.__contains__
    kept = {text: list(filter(keep, tokens)) for text, tokens in tokens_of.items()}
    doc_count, occ = _term_counts(seen, kept)
    ranked = sorted(doc_count, key=lambda t: (-doc_count[t], -occ[t], t))[:top_n]
    examples = _theme_examples(texts, kept, ranked, doc_count, examples_per_theme)
    return CommentThemes(
        themes=tuple(Theme(t, doc_count[t], occ[t], tuple(examples[t])) for t in ranked),
        n_comments=len(texts),
        n_empty=n_empty,
        convention="jieba precise mode; stop words, punctuation and terms shorter than "
        f"{min_length} removed; ranked by number of comments mentioning the term",
    )


def _tokens_of_texts(seen: Mapping[str, int],
                     known: Mapping[str, Sequence[str]]) -> dict[str, Sequence[str]]:
    """Tokens of each distinct text: the stored ones where given, else segmented here."""
    tokens_of = {}
    for text in seen:
        stored = known.get(text)
        tokens_of[text] = _segment(text) if stored is None else stored
    return tokens_of


def _term_counts(seen: Mapping[str, int],
                 kept: Mapping[str, list[str]]) -> tuple[Counter[str], Counter[str]]:
    """(comments mentioning each term, occurrences of each term), each text counted as
    often as it was given."""
    doc_count: Counter[str] = Counter()
    occ: Counter[str] = Counter()
    for text, count in seen.items():
        terms = kept[text]
        if count == 1:  # most real comments: Counter.update counts in C
            occ.update(terms)
            doc_count.update(set(terms))
        else:
            for term, k in Counter(terms).items():
                occ[term] += k * count
                doc_count[term] += count
    return doc_count, occ


def _theme_examples(texts: Sequence[str], kept: Mapping[str, list[str]], ranked: list[str],
                    doc_count: Mapping[str, int], per_theme: int) -> dict[str, list[str]]:
    """The first comments mentioning each ranked term, in input order.

    A repeated comment can be an example more than once; the scan stops as soon as every
    ranked term has its examples.
    """
    examples: dict[str, list[str]] = {term: [] for term in ranked}
    missing = sum(min(per_theme, doc_count[term]) for term in ranked)
    for text in texts:
        if not missing:
            break
        if not text:
            continue
        for term in dict.fromkeys(kept[text]):
            found = examples.get(term)
            if found is not None and len(found) < per_theme:
                found.append(text)
                missing -= 1
    return examples
