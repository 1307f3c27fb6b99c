"""Print the code-shape limits the project keeps, and exit 1 where one is broken.

Limits (issue 15): no module in ``survey_app/``, ``analysis/`` or ``questionnaires/`` over
500 lines; no function over 60 lines or over cyclomatic complexity 15 (radon's count).
A function's length leaves out its docstring: numpy-style docstrings with runnable examples
are wanted, not a sign of a function doing too much. Migrations are left out: they are
written once and never change.

Run by ``make lint``: ``python scripts/check_shape.py [--report]``.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Class

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("survey_app", "analysis", "questionnaires")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
MAX_COMPLEXITY = 15


def _functions(blocks):
    for block in blocks:
        if isinstance(block, Class):
            yield from _functions(block.methods)
        else:
            yield block
            yield from _functions(getattr(block, "closures", []))


def _docstring_lines(tree: ast.AST) -> dict[int, int]:
    """Line count of each function's docstring, by the line the function starts on."""
    counts = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                line = node.decorator_list[0].lineno if node.decorator_list else node.lineno
                counts[line] = counts[node.lineno] = first.end_lineno - first.lineno + 1
    return counts


def shape_problems(root: Path = ROOT) -> list[str]:
    """Every module, function or method over a limit, as ``path:line: what``."""
    problems = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root)
            source = path.read_text(encoding="utf-8")
            lines = source.count("\n") + (not source.endswith("\n") and bool(source))
            if lines > MAX_MODULE_LINES:
                problems.append(f"{relative}: {lines} lines (limit {MAX_MODULE_LINES})")
            docstrings = _docstring_lines(ast.parse(source))
            seen = set()
            for function in _functions(cc_visit(source)):
                if (function.lineno, function.fullname) in seen:
                    continue
                seen.add((function.lineno, function.fullname))
                length = function.endline - function.lineno + 1 - docstrings.get(function.lineno, 0)
                name = function.fullname
                if length > MAX_FUNCTION_LINES:
                    problems.append(f"{relative}:{function.lineno}: {name} is {length} lines "
                                    f"(limit {MAX_FUNCTION_LINES})")
                if function.complexity > MAX_COMPLEXITY:
                    problems.append(f"{relative}:{function.lineno}: {name} has complexity "
                                    f"{function.complexity} (limit {MAX_COMPLEXITY})")
    return problems


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    problems = shape_problems()
    for problem in problems:
        print(problem)
    print(f"shape: {len(problems)} over the limits" if problems else "shape: within the limits")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
