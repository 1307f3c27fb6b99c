"""Reading and writing questionnaire definitions as YAML, and the built-in questionnaires."""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping
from importlib import resources
from os import PathLike
from typing import Any

import yaml

from questionnaires import scale_direction, workbooks
from questionnaires.errors import Issue, QuestionnaireError
from questionnaires.model import Questionnaire

_BUILTIN_PACKAGE = "questionnaires"
#: A questionnaire is a few dozen KB; a file far larger is refused before it is read.
YAML_LIMITS = workbooks.Limits(max_bytes=2 * workbooks.MB)
_BUILTIN_DIR = "builtin"


def load_file(path: str | PathLike[str]) -> Questionnaire:
    """Load and validate a YAML definition file.

    Raises QuestionnaireError listing every problem (OSError if the file cannot be read).
    """
    source = str(path)
    try:
        raw = workbooks.read_file(path, YAML_LIMITS)
    except workbooks.FileRefused as exc:
        raise QuestionnaireError([Issue(source, "", str(exc))]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QuestionnaireError(
            [Issue(source, "", f"the file is not UTF-8 text (byte {exc.start})")]
        ) from None
    return load_text(text, source=source)


def load_text(text: str, source: str = "<string>") -> Questionnaire:
    """Validate a YAML definition given as text; ``source`` names it in error messages.

    The scale's direction is proven here (:mod:`questionnaires.scale_direction`): by its
    labels, or by ``scale.direction`` (``reversed`` is recoded to our codes). Stored versions
    (:meth:`Questionnaire.from_dict`) were checked when they were loaded, so they are not
    checked again: a version stored before the check existed stays readable with its answers.
    """
    data, refusals = scale_direction.settle_definition(_parse_yaml(text, source))
    issues = [Issue(source, path, message) for path, message in refusals]
    try:
        questionnaire = Questionnaire.from_dict(data, source=source)
    except QuestionnaireError as exc:
        # The model's own word on a refused declaration would only repeat it.
        refused = {issue.path for issue in issues}
        raise QuestionnaireError(
            [*issues, *(issue for issue in exc.issues if issue.path not in refused)]
        ) from None
    if issues:
        raise QuestionnaireError(issues)
    return questionnaire


def builtin_names() -> tuple[str, ...]:
    """Names of the questionnaires shipped with the package, e.g. ``relocated``."""
    folder = resources.files(_BUILTIN_PACKAGE).joinpath(_BUILTIN_DIR)
    return tuple(
        sorted(
            entry.name.removesuffix(".yaml")
            for entry in folder.iterdir()
            if entry.name.endswith(".yaml")
        )
    )


@functools.cache
def load_builtin(name: str) -> Questionnaire:
    """A built-in questionnaire by name (see :func:`builtin_names`); ValueError if unknown."""
    if name not in builtin_names():
        raise ValueError(
            f"unknown built-in questionnaire {name!r} (available: {', '.join(builtin_names())})"
        )
    resource = resources.files(_BUILTIN_PACKAGE).joinpath(_BUILTIN_DIR, f"{name}.yaml")
    return load_text(resource.read_text(encoding="utf-8"), source=f"builtin:{name}")


def dump_yaml(questionnaire: Questionnaire) -> str:
    """The definition as YAML text that :func:`load_text` reads back to an equal questionnaire."""
    return dump_definition(questionnaire.to_dict())


def dump_definition(data: Mapping[str, Any]) -> str:
    """YAML text for definition data in its natural key order, Chinese left readable."""
    return yaml.dump(dict(data), Dumper=_SafeDumper, allow_unicode=True, sort_keys=False,
                     width=100)


# libyaml's parser and emitter where PyYAML was built with it (the wheels are): the pure-Python
# ones made a 5,000-question XLSForm import spend most of its ~28 s writing and re-reading the
# YAML. Same safe constructors and resolvers, same marks on nodes for the line numbers below.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SafeDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _DefinitionLoader(_SafeLoader):
    """SafeLoader that records duplicate mapping keys instead of silently keeping the last."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[tuple[int, int, object]] = []


def _construct_mapping(loader: _DefinitionLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            continue  # construct_mapping below reports it
        if key in seen:
            mark = key_node.start_mark
            loader.duplicate_keys.append((mark.line + 1, mark.column + 1, key))
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_DefinitionLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def _parse_yaml(text: str, source: str) -> object:
    loader = _DefinitionLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise QuestionnaireError([Issue(source, where, f"YAML syntax error: {problem}")]) from None
    finally:
        loader.dispose()
    if loader.duplicate_keys:
        raise QuestionnaireError(
            Issue(source, f"line {line}, column {column}", f"duplicate key {key!r}")
            for line, column, key in sorted(loader.duplicate_keys, key=lambda d: d[:2])
        )
    return data
