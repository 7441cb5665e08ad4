"""The marked blocks: ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` in the package and in notebook cells.

The markers are comment lines (nbgrader's), so the package runs as if they
were not there. :func:`locate_blocks` finds the blocks of a source with the
innermost function (``Class.method``) holding each, :func:`rewrite` replaces
each by a ``raise NotImplementedError(hint)`` for the student edition, and
:func:`function_source` / :func:`replace_functions` move whole functions
between two versions of a file (the grader puts the instructor's solutions
of the *other* exercises into a submission's file).
"""
from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"


class MarkerError(ValueError):
    """Unbalanced markers, a block outside any known exercise, or an exercise without a block."""


@dataclass
class Block:
    """Lines ``begin`` (the BEGIN marker) to ``end`` (the END marker), 0-based, in one file or cell."""

    begin: int
    end: int
    indent: str
    function: str | None = None


def find_blocks(lines: list[str], where: str) -> list[Block]:
    """The marked blocks of a file's (or cell's) lines; ``MarkerError`` when they do not pair up."""
    blocks, open_at = [], None
    for i, line in enumerate(lines):
        text = line.strip()
        if text == BEGIN:
            if open_at is not None:
                raise MarkerError(f"{where}:{i + 1}: {BEGIN} inside the block opened at line {open_at + 1}")
            open_at = i
        elif text == END:
            if open_at is None:
                raise MarkerError(f"{where}:{i + 1}: {END} without a {BEGIN} before it")
            first = lines[open_at]
            blocks.append(Block(open_at, i, first[:len(first) - len(first.lstrip())]))
            open_at = None
    if open_at is not None:
        raise MarkerError(f"{where}:{open_at + 1}: {BEGIN} is never closed by {END}")
    return blocks


def _without_magics(source: str) -> str:
    return "\n".join("#" + line if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def function_spans(source: str) -> list[tuple[int, int, str]]:
    """``(first line, last line, qualified name)`` of every function and class, 1-based; [] if it does not parse.

    The first line is the first decorator's, if any. IPython magics are skipped.
    """
    try:
        tree = ast.parse(_without_magics(source))
    except SyntaxError:
        return []
    spans: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                first = min([child.lineno] + [d.lineno for d in child.decorator_list])
                spans.append((first, child.end_lineno or child.lineno, prefix + child.name))
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return spans


def locate_blocks(source: str, where: str) -> list[Block]:
    """The blocks of ``source`` with the innermost function (or class) holding each."""
    blocks = find_blocks(source.splitlines(), where)
    spans = function_spans(source)
    for b in blocks:
        inside = [s for s in spans if s[0] <= b.begin + 1 <= s[1]]
        b.function = max(inside, key=lambda s: s[0])[2] if inside else None
    return blocks


def raise_statement(message: str, indent: str, width: int = 110) -> str:
    """``raise NotImplementedError(message)`` at ``indent``, the message split over lines of at most ``width``."""
    one = f"{indent}raise NotImplementedError({message!r})"
    if len(one) <= width:
        return one
    chunks = textwrap.wrap(message, max(30, width - len(indent) - 8), drop_whitespace=False,
                           break_long_words=False, break_on_hyphens=False)
    inner = "\n".join(f"{indent}    {chunk!r}" for chunk in chunks)
    return f"{indent}raise NotImplementedError(\n{inner})"


def rewrite(source: str, blocks: list[Block], messages: list[str], with_solutions: bool) -> str:
    """``source`` with each block replaced by a raise of its message (``with_solutions``: its markers dropped)."""
    lines = source.splitlines(keepends=True)
    for b, message in sorted(zip(blocks, messages), key=lambda bm: -bm[0].begin):
        if with_solutions:
            lines[b.begin:b.end + 1] = lines[b.begin + 1:b.end]
        else:
            ends_with_newline = lines[b.end].endswith("\n")
            lines[b.begin:b.end + 1] = [raise_statement(message, b.indent) + ("\n" if ends_with_newline else "")]
    return "".join(lines)


def function_source(source: str, qualname: str) -> str | None:
    """The lines of function ``qualname`` in ``source`` (decorators included), or None if it has none.

    With several definitions of one name (``@overload`` stubs, then the
    implementation) the last one is meant.
    """
    found = [(first, last) for first, last, name in function_spans(source) if name == qualname]
    if not found:
        return None
    first, last = found[-1]
    return "".join(source.splitlines(keepends=True)[first - 1:last])


def replace_functions(source: str, replacements: dict[str, str]) -> str:
    """``source`` with each function ``qualname`` replaced by the text ``replacements[qualname]``.

    ``MarkerError`` when ``source`` does not parse or lacks one of the functions.
    """
    spans = {name: (first, last) for first, last, name in function_spans(source)}
    if not spans and source.strip():
        raise MarkerError("the file does not parse as Python")
    missing = [q for q in replacements if q not in spans]
    if missing:
        raise MarkerError(f"the file has no function {', '.join(missing)}")
    lines = source.splitlines(keepends=True)
    for qualname in sorted(replacements, key=lambda q: -spans[q][0]):
        first, last = spans[qualname]
        text = replacements[qualname]
        lines[first - 1:last] = [text if text.endswith("\n") else text + "\n"]
    return "".join(lines)
