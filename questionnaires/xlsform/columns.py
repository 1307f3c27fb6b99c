"""Which parts of a pyxform element convert, which are presentation only (noted), and which
cannot be represented (the conversion is refused), each named by its XLSForm column."""

from __future__ import annotations

from functools import cache
from typing import Any

from questionnaires.xlsform.reading import ROW_COLUMN
from questionnaires.xlsform.sheets import Problem, row_of

# Keys of a pyxform element that the conversion reads (our own columns included).
CONVERTED = frozenset({
    "type", "name", "label", "hint", "children", "choices", "itemset", "list_name",
    "dimension", "overall", "scale_direction", ROW_COLUMN,
})
CONVERTED_BIND = frozenset({"required", "relevant", "constraint"})
# Presentation only: how a client lays out or words a message. Our form has its own.
PRESENTATION = {
    ("control", "appearance"): "appearance",
    ("bind", "jr:constraintMsg"): "constraint_message",
    ("bind", "jr:requiredMsg"): "required_message",
    ("guidance_hint", None): "guidance_hint",
    ("control", "bodyless"): "appearance",
    # HXL hashtags label the data for exports; they change nothing in the form.
    ("hxl", None): "hxl",
    ("instance", "hxl"): "hxl",
    # The order the options are shown in; the answers and their codes are the same.
    ("parameters", "randomize"): "parameters (randomize)",
    ("parameters", "seed"): "parameters (seed)",
}
# Keys whose value is a mapping of XLSForm columns (the others map languages to texts).
_NESTED = frozenset({"bind", "control", "media", "instance", "parameters"})
# The XLSForm column of a pyxform key, where it is spelled otherwise.
_COLUMN_NAMES = {
    ("bind", "calculate"): "calculation",
    ("bind", "readonly"): "read_only",
    ("bind", "jr:noAppErrorString"): "no_app_error_string",
    ("control", "jr:count"): "repeat_count",
    ("bind", "entities:saveto"): "save_to",
}
# What a refused column is, in the message.
_FEATURES = {
    "choice_filter": "a cascading select",
    "calculation": "a calculation",
    "default": "a default answer",
    "trigger": "a recalculation trigger",
    "read_only": "a read-only question",
    "repeat_count": "a repeat count",
    "image": "media", "big-image": "media", "audio": "media", "video": "media",
}
_METADATA_TYPES = frozenset({
    "start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber",
    "username", "email", "audit", "start-geopoint", "background-audio",
})


def metadata_type(kind: str) -> bool:
    """A field the client fills in by itself (start time, device id…), never asked."""
    preloaded = "jr:preload" in (_pyxform_types().get(kind, {}).get("bind") or {})
    return kind in _METADATA_TYPES or preloaded


def our_type(kind: str) -> str | None:
    """``single``, ``multiple``, ``integer``, ``text`` or ``note`` for a pyxform type that is
    one of them under another name (``int``, ``string``, ``add integer prompt``…).

    >>> our_type("int"), our_type("q string"), our_type("select all that apply")
    ('integer', 'text', 'multiple')
    >>> our_type("percentage") is None  # an integer with a constraint of its own
    True
    >>> our_type("select one external") is None  # an input whose choices are elsewhere
    True
    """
    types = _pyxform_types()
    definition = types.get(kind)
    if definition is None:
        return None
    for name, ours in _OURS:
        # 'select one external' is an input like text, with its choices from elsewhere.
        if definition == types[name] and ("select" in kind) == (ours in _SELECTS):
            return ours
    return None


_SELECTS = frozenset({"single", "multiple"})
_OURS = (("select one", "single"), ("select all that apply", "multiple"),
         ("integer", "integer"), ("text", "text"), ("note", "note"))


@cache
def _pyxform_types() -> dict[str, Any]:
    from pyxform.question_type_dictionary import QUESTION_TYPE_DICT

    return QUESTION_TYPE_DICT


def column_name(key: str, subkey: str | None = None) -> str:
    """The XLSForm column a pyxform key comes from.

    >>> column_name("bind", "calculate"), column_name("media", "image"), column_name("default")
    ('calculation', 'image', 'default')
    """
    if (key, subkey) in _COLUMN_NAMES:
        return _COLUMN_NAMES[(key, subkey)]
    if (key, subkey) in PRESENTATION:
        return PRESENTATION[(key, subkey)]
    if key == "parameters":
        return f"parameters ({subkey})"
    if key == "instance":
        return f"instance::{subkey}"
    return subkey if subkey else key


def check_columns(element: dict[str, Any], what: str, problems: list[Problem],
                  converted: frozenset[str] = CONVERTED, sheet: str = "survey") -> None:
    """Report every part of ``element`` that is not converted: a note for presentation,
    a refusal for anything with meaning (a default, a calculation, media, parameters…)."""
    row = row_of(element)
    for key, value in element.items():
        if key in converted or value in (None, "", {}, []):
            continue
        parts = value.items() if key in _NESTED and isinstance(value, dict) else [
            (None, value)]
        for subkey, item in parts:
            if key == "bind" and subkey in CONVERTED_BIND:
                continue
            column = column_name(key, subkey)
            if (key, subkey) in PRESENTATION:
                problems.append(Problem(sheet, row, (
                    f"{what}: {column} {_shown(item)} does not change what is asked or "
                    "stored, not kept"), column))
            else:
                feature = f" ({_FEATURES[column]})" if column in _FEATURES else ""
                problems.append(Problem(sheet, row, (
                    f"{what}: {column} {_shown(item)}{feature} is not supported"), column,
                    refuses=True))


def _shown(value: object) -> str:
    text = repr(value) if not isinstance(value, dict) else repr(next(iter(value.values())))
    return text if len(text) <= 80 else text[:77] + "…'"
