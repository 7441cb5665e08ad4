"""Notebook cells for the student edition and for nbgrader, and the handler that stops at an unfinished exercise.

A notebook exercise is a function or class in a code cell whose body holds
``### BEGIN SOLUTION`` ... ``### END SOLUTION`` lines (the markers of
:mod:`numgan.course.markers`); a *check cell* after it calls
``check("01.dense_backward")`` (or ``check("dense_backward")`` for a package
exercise done in that notebook).

* :func:`student_notebook`: the student edition's notebook. Each marked block
  becomes ``raise NotImplementedError("Exercise NAME: <level-1 hint> ...")``,
  each exercise cell is tagged ``{"numgan": {"exercise": NAME}}``, every
  output and execution count is cleared (an output can show a solution's
  results), any other line equal to a solution line is replaced by a comment,
  and a cell after the first code cell installs
  :func:`stop_at_unfinished_exercises`.
* :func:`nbgrader_notebook` and :func:`write_nbgrader_source`: the *source*
  notebooks for nbgrader (solutions kept; ``nbgrader generate_assignment``
  blanks them): exercise cells become solution cells, and the check cell of
  each notebook exercise becomes one autograded test cell per part
  (``assert check("NAME", part="PART")``) worth the part's points. Package
  exercises are not graded by nbgrader: a submission of notebooks does not
  hold the student's ``numgan/``; ``numgan-course grade`` grades those.
* :func:`stop_at_unfinished_exercises`: in IPython, a ``NotImplementedError``
  of an unfinished exercise shows one line (which exercise, where to write
  it, how to check it, the level-1 hint) instead of a traceback, and the cell
  still counts as failed, so that "Run All" stops there.

Notebooks are handled as nbformat-4 JSON dicts (``json.load`` of the file);
the functions return new dicts and never change their argument.
"""
from __future__ import annotations

import ast
import copy
import importlib
import json
import re
from pathlib import Path
from types import TracebackType
from typing import Any

from .exercises import EXERCISES, EXERCISES_BY_NAME, Exercise, exercise_for, not_done_message
from .markers import BEGIN, END, Block, MarkerError, locate_blocks, rewrite

Notebook = dict[str, Any]
Cell = dict[str, Any]

#: Solution lines shorter than this (``return y, y``) say nothing of a solution and are not scrubbed.
MIN_SOLUTION_LINE = 12
#: The marker in the metadata of the cell that installs the stop handler (so it is added once).
STOP_CELL_KEY = "stop_handler"
STOP_CELL_SOURCE = (
    "# Run All stops at the first exercise you have not done yet, with one line saying which,\n"
    "# where to write it and how to check it (instead of a traceback from inside numgan).\n"
    "from numgan.course.notebook_cells import stop_at_unfinished_exercises\n"
    "stop_at_unfinished_exercises()"
)
NBGRADER_SCHEMA = 3
_ID = re.compile(r"[^A-Za-z0-9_-]+")


# ---------------------------------------------------------------------------------------------------
# cells
# ---------------------------------------------------------------------------------------------------

def cell_source(cell: Cell) -> str:
    """A cell's source as one string (nbformat stores a string or a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _set_source(cell: Cell, text: str) -> None:
    cell["source"] = text.splitlines(keepends=True)


def normal_line(line: str) -> str:
    """A code line without its trailing comment and with its spaces collapsed (to compare lines)."""
    return " ".join(re.sub(r"\s+#.*$", "", line).split())


def scrubbed_line(line: str, exercise: str) -> str:
    """The comment that replaces a solution line found outside its block, indented like the line."""
    indent = line[:len(line) - len(line.lstrip())]
    return f"{indent}...  # left out of the student edition: exercise {exercise}"


def _code_cell(source: str, cell_id: str, metadata: dict[str, Any] | None = None) -> Cell:
    cell: Cell = {"cell_type": "code", "execution_count": None, "id": cell_id,
                  "metadata": metadata or {}, "outputs": [], "source": []}
    _set_source(cell, source)
    return cell


def _unique_id(wanted: str, taken: set[str]) -> str:
    """A cell id (1 to 64 of ``[A-Za-z0-9_-]``) from ``wanted``, not in ``taken`` (which it joins)."""
    base = _ID.sub("-", wanted).strip("-")[:56] or "cell"
    cell_id, k = base, 1
    while cell_id in taken:
        k += 1
        cell_id = f"{base}-{k}"
    taken.add(cell_id)
    return cell_id


def _fix_ids(nb: Notebook) -> None:
    """Give every cell a unique id where the notebook's format has ids (nbformat 4.5 and later)."""
    if (nb.get("nbformat", 4), nb.get("nbformat_minor", 0)) < (4, 5):
        for cell in nb["cells"]:
            cell.pop("id", None)
        return
    taken: set[str] = set()
    for cell in nb["cells"]:
        cell["id"] = _unique_id(str(cell.get("id") or "cell"), taken)


def _exercise_of_block(rel: str, block: Block, where: str) -> Exercise:
    """The exercise whose ``where`` names the block's function or a class around it; ``MarkerError`` if none."""
    if block.function is None:
        raise MarkerError(f"{where} line {block.begin + 1}: a {BEGIN} block outside any function or class")
    names = block.function.split(".")
    for k in range(len(names), 0, -1):
        ex = exercise_for(f"{rel}:{'.'.join(names[:k])}")
        if ex is not None:
            return ex
    raise MarkerError(f"{where} line {block.begin + 1}: the block in {block.function} belongs to no exercise "
                      f"(no `where` of numgan.course.EXERCISES lists {rel}:{block.function})")


def exercise_blocks(nb: Notebook, rel: str) -> list[tuple[int, list[Block], list[Exercise]]]:
    """``(cell index, blocks, their exercises)`` of every code cell with marked blocks.

    ``MarkerError`` for unbalanced markers or a block that no exercise lists.
    """
    found = []
    for k, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        where = f"{rel} cell {k}"
        blocks = locate_blocks(cell_source(cell), where)
        if blocks:
            found.append((k, blocks, [_exercise_of_block(rel, b, where) for b in blocks]))
    return found


def _block_lines(blocks: list[Block]) -> set[int]:
    return {i for b in blocks for i in range(b.begin, b.end + 1)}


def solution_lines_of_notebook(nb: Notebook, rel: str) -> dict[str, str]:
    """Normalised lines of the notebook's solution blocks -> the exercise's name.

    Lines under :data:`MIN_SOLUTION_LINE` characters are left out, and so are
    lines that also stand outside the blocks in the notebook's code cells
    (they are not secret); :func:`code_lines_outside_blocks` gives those, for
    merging with the package's solution lines.
    """
    inside: dict[str, str] = {}
    for k, blocks, exercises in exercise_blocks(nb, rel):
        lines = cell_source(nb["cells"][k]).splitlines()
        for b, ex in zip(blocks, exercises):
            for line in lines[b.begin + 1:b.end]:
                text = normal_line(line)
                if len(text) >= MIN_SOLUTION_LINE:
                    inside.setdefault(text, ex.name)
    outside = code_lines_outside_blocks(nb, rel)
    return {text: name for text, name in inside.items() if text not in outside}


def code_lines_outside_blocks(nb: Notebook, rel: str) -> set[str]:
    """Normalised lines of the notebook's code cells that are not inside a marked block."""
    outside: set[str] = set()
    for k, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = cell_source(cell)
        marked = _block_lines(locate_blocks(source, f"{rel} cell {k}"))
        outside.update(normal_line(line) for i, line in enumerate(source.splitlines()) if i not in marked)
    return outside


def _first_code_cell(nb: Notebook) -> int | None:
    return next((k for k, c in enumerate(nb["cells"]) if c.get("cell_type") == "code"), None)


def _has_stop_cell(nb: Notebook) -> bool:
    return any(c.get("metadata", {}).get("numgan", {}).get(STOP_CELL_KEY) for c in nb["cells"])


def _insert_stop_cell(nb: Notebook, metadata: dict[str, Any]) -> int | None:
    """Insert the cell that installs the stop handler after the first code cell; its index (None if none)."""
    first = _first_code_cell(nb)
    if first is None or _has_stop_cell(nb):
        return None
    metadata = {**metadata, "numgan": {STOP_CELL_KEY: True}}
    nb["cells"].insert(first + 1, _code_cell(STOP_CELL_SOURCE, "numgan-stop-at-unfinished", metadata))
    return first + 1


# ---------------------------------------------------------------------------------------------------
# the student edition
# ---------------------------------------------------------------------------------------------------

def student_notebook(nb: Notebook, rel: str, solutions: dict[str, str] | None = None) -> tuple[Notebook, list[str]]:
    """The student edition of notebook ``nb`` (at ``rel`` in the repository) and what was done to it.

    Each marked block becomes ``raise NotImplementedError(not_done_message(ex))``
    (the level-1 hint only) and its cell gets the metadata
    ``{"numgan": {"exercise": NAME}}``; every output, execution count and
    execution time stamp is cleared; every line (code or text, outside the
    blocks) whose normal form is a key of ``solutions`` (normalised solution
    line -> exercise, see :func:`solution_lines_of_notebook`) becomes a comment
    saying it was left out; a cell after the first code cell installs
    :func:`stop_at_unfinished_exercises`. The report lines name the cells by
    their index in ``nb``: ``"notebooks/01_x.ipynb cell 5: 01.dense_backward"``
    for an exercise cell, ``"... cell 9 line 2: removed a line of NAME"``
    for a scrubbed line. ``MarkerError`` for broken markers or a block of no
    exercise.
    """
    out = copy.deepcopy(nb)
    solutions = solutions or {}
    report: list[str] = []
    done = {k: (blocks, exercises) for k, blocks, exercises in exercise_blocks(out, rel)}
    for k, cell in enumerate(out["cells"]):
        metadata = cell.setdefault("metadata", {})
        metadata.pop("nbgrader", None)
        metadata.pop("execution", None)
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
        if k in done:
            blocks, exercises = done[k]
            messages = [not_done_message(ex) for ex in exercises]
            _set_source(cell, rewrite(cell_source(cell), blocks, messages, with_solutions=False))
            names = list(dict.fromkeys(ex.name for ex in exercises))
            metadata["numgan"] = {"exercise": names[0], **({"exercises": names} if len(names) > 1 else {})}
            report.append(f"{rel} cell {k}: {', '.join(names)}")
        report += _scrub(cell, solutions, f"{rel} cell {k}")
    _insert_stop_cell(out, {"editable": False})
    _fix_ids(out)
    leftover = [k for k, c in enumerate(out["cells"])
                if any(line.strip() in (BEGIN, END) for line in cell_source(c).splitlines())]
    if leftover:
        raise MarkerError(f"{rel}: marker lines are left in cells {leftover} after the rewrite")
    return out, report


def _scrub(cell: Cell, solutions: dict[str, str], where: str) -> list[str]:
    """Replace the cell's solution lines by comments; the report lines."""
    if not solutions:
        return []
    lines = cell_source(cell).splitlines(keepends=True)
    report = []
    for i, line in enumerate(lines):
        name = solutions.get(normal_line(line))
        if name is not None:
            end = "\n" if line.endswith("\n") else ""
            lines[i] = scrubbed_line(line.rstrip("\r\n"), name) + end
            report.append(f"{where} line {i + 1}: removed a line of {name}")
    if report:
        cell["source"] = lines
    return report


# ---------------------------------------------------------------------------------------------------
# nbgrader
# ---------------------------------------------------------------------------------------------------

def _grade_id(text: str) -> str:
    return _ID.sub("_", text).strip("_") or "cell"


def _nbgrader(grade_id: str, *, solution: bool, grade: bool, locked: bool,
              points: int | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"grade": grade, "grade_id": grade_id, "locked": locked,
                            "schema_version": NBGRADER_SCHEMA, "solution": solution}
    if points is not None:
        meta["points"] = points
    return meta


_NBGRADER_DELIMITERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def _defuse_delimiters(cell: Cell) -> None:
    """Hide nbgrader's delimiters in lines that are not marker lines (text quoting ``### BEGIN SOLUTION``).

    nbgrader looks for them as substrings of any line of any cell; a no-break
    space between the words (it looks the same) keeps them from starting a region.
    """
    lines = cell_source(cell).splitlines(keepends=True)
    changed = False
    for i, line in enumerate(lines):
        if line.strip() in (BEGIN, END) and cell.get("cell_type") == "code":
            continue
        for delimiter in _NBGRADER_DELIMITERS:
            if delimiter in line:
                line = line.replace(delimiter, delimiter.replace(" ", "\u00a0"))
                changed = True
        lines[i] = line
    if changed:
        cell["source"] = lines


def check_calls(source: str) -> list[tuple[int, int, str]]:
    """``(first line, last line, exercise name)`` (1-based) of each top-level ``check("NAME")`` of a cell.

    Plain calls and ``assert check(...)`` count, with the name as a string
    literal first argument; a cell that does not parse has none.
    """
    try:
        tree = ast.parse("\n".join("#" + line if line.lstrip().startswith(("%", "!")) else line
                                   for line in source.splitlines()))
    except SyntaxError:
        return []
    found = []
    for node in tree.body:
        call = node.value if isinstance(node, ast.Expr) else node.test if isinstance(node, ast.Assert) else None
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "check"
                and call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)):
            found.append((node.lineno, node.end_lineno or node.lineno, call.args[0].value))
    return found


def part_test_source(ex: Exercise, part: str, first: bool) -> str:
    """The source of the autograded test cell of one part (the report is printed under the first part only)."""
    quiet = "" if first else ", quiet=True"
    why = f"part {part!r} of {ex.name} fails: see the report under the first test cell"
    return f"assert check({json.dumps(ex.name)}, part={json.dumps(part)}{quiet}), {json.dumps(why)}"


def _test_cells(ex: Exercise, taken: set[str], metadata: dict[str, Any]) -> list[Cell]:
    cells = []
    for i, part in enumerate(ex.parts):
        grade_id = _grade_id(f"{ex.name}_test_{part.name}")
        meta = {**metadata, "nbgrader": _nbgrader(grade_id, solution=False, grade=True, locked=True,
                                                   points=part.points)}
        cells.append(_code_cell(part_test_source(ex, part.name, i == 0), _unique_id(grade_id, taken), meta))
    return cells


def nbgrader_notebook(nb: Notebook, rel: str) -> Notebook:
    """The nbgrader *source* version of notebook ``nb`` (at ``rel``): solutions kept, nbgrader cell metadata.

    Cells with marked blocks become solution cells (``nbgrader generate_assignment``
    replaces each block by its ``YOUR CODE HERE`` stub). The first check cell
    of each notebook exercise becomes one locked test cell per part,
    ``assert check("NAME", part="PART")``, worth the part's points (the other
    lines of that cell stay in an ordinary cell before them). Check cells of
    package exercises stay ordinary cells (nbgrader grades notebooks only).
    The stop-handler cell is added, locked. Outputs are cleared.
    """
    out = copy.deepcopy(nb)
    blocks = {k: exercises for k, _, exercises in exercise_blocks(out, rel)}
    taken = {str(c["id"]) for c in out["cells"] if c.get("id")}
    graded: set[str] = set()
    cells: list[Cell] = []
    for k, cell in enumerate(out["cells"]):
        metadata = cell.setdefault("metadata", {})
        metadata.pop("execution", None)
        metadata.pop("nbgrader", None)
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
        _defuse_delimiters(cell)
        if k in blocks:
            names = list(dict.fromkeys(ex.name for ex in blocks[k]))
            metadata["nbgrader"] = _nbgrader(_grade_id(f"{names[0]}_solution_cell{k}"), solution=True,
                                             grade=False, locked=False)
            metadata["numgan"] = {"exercise": names[0]}
        source = cell_source(cell)
        to_grade = []
        for first, last, name in check_calls(source):
            if name in EXERCISES_BY_NAME and EXERCISES_BY_NAME[name].in_notebook and name not in graded:
                graded.add(name)
                to_grade.append((first, last, EXERCISES_BY_NAME[name]))
        if not to_grade or cell.get("cell_type") != "code":
            cells.append(cell)
            continue
        drop = {i for first, last, _ in to_grade for i in range(first - 1, last)}
        rest = "".join(line for i, line in enumerate(source.splitlines(keepends=True)) if i not in drop)
        if rest.strip() or k in blocks:
            _set_source(cell, rest.rstrip("\n"))
            cells.append(cell)
        for _, _, ex in to_grade:
            cells += _test_cells(ex, taken, {"numgan": {"check": ex.name}})
    out["cells"] = cells
    stop = _insert_stop_cell(out, {})
    if stop is not None:
        out["cells"][stop]["metadata"]["nbgrader"] = _nbgrader("numgan_stop_handler", solution=False,
                                                               grade=False, locked=True)
    _fix_ids(out)
    return out


def read_notebook(path: Path) -> Notebook:
    """A notebook file as its JSON dict."""
    nb: Notebook = json.loads(path.read_text(encoding="utf-8"))
    if nb.get("nbformat") != 4:
        raise ValueError(f"{path}: nbformat {nb.get('nbformat')!r} notebooks are not supported (4 is)")
    return nb


def write_notebook(nb: Notebook, path: Path) -> None:
    """Write a notebook dict the way Jupyter does (one-space indent, sorted keys, final newline)."""
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def write_nbgrader_source(source_dir: Path, notebooks_root: Path) -> list[Path]:
    """Write the nbgrader source version of every notebook of ``notebooks_root`` into ``source_dir``.

    ``notebooks_root`` is the repository's ``notebooks/`` folder; ``source_dir``
    is an assignment folder of an nbgrader course (``source/ps1``), made if
    missing. Returns the files written.
    """
    source_dir, notebooks_root = Path(source_dir), Path(notebooks_root)
    paths = sorted(notebooks_root.glob("*.ipynb"))
    if not paths:
        raise ValueError(f"{notebooks_root} holds no notebooks (*.ipynb)")
    source_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        target = source_dir / path.name
        write_notebook(nbgrader_notebook(read_notebook(path), f"notebooks/{path.name}"), target)
        written.append(target)
    return written


# ---------------------------------------------------------------------------------------------------
# stop at the first unfinished exercise
# ---------------------------------------------------------------------------------------------------

_NOT_DONE = re.compile(r"Exercise ([\w.]+): ")


def _where_text(ex: Exercise) -> str:
    by_file: dict[str, list[str]] = {}
    for w in ex.where:
        path, function = w.split(":", 1)
        by_file.setdefault(path, []).append(function)
    return "; ".join(f"{path} ({', '.join(functions)})" for path, functions in by_file.items())


def unfinished_line(ex: Exercise) -> str:
    """The one line shown for an unfinished exercise: which, where to write it, how to check it, the hint."""
    return (f"Exercise {ex.name} is not done yet: write it in {_where_text(ex)}, "
            f'check it with check("{ex.name}"); hint: {ex.hint(1)}')


def _innermost_function(tb: TracebackType | None) -> str | None:
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    if last is None:
        return None
    code = last.tb_frame.f_code
    return str(getattr(code, "co_qualname", code.co_name)).split("<locals>.")[-1]


def unfinished_exercise(error: BaseException, tb: TracebackType | None = None) -> Exercise | None:
    """The exercise a ``NotImplementedError`` says is unfinished, or None if it is another one.

    Either its message starts with ``"Exercise NAME: "`` (the edition's
    blocks), or it has no message (nbgrader's ``YOUR CODE HERE`` stub) and was
    raised directly in a function that an exercise's ``where`` names.
    """
    if not isinstance(error, NotImplementedError):
        return None
    text = str(error)
    found = _NOT_DONE.match(text)
    if found:
        return EXERCISES_BY_NAME.get(found.group(1))
    if text.strip():
        return None
    function = _innermost_function(tb if tb is not None else error.__traceback__)
    if function is None:
        return None
    for ex in EXERCISES:
        if not ex.in_notebook:
            continue
        for w in ex.where:
            target = w.split(":", 1)[1]
            if function == target or function.startswith(target + "."):
                return ex
    return None


def _handler(shell: Any, etype: type[BaseException], value: BaseException, tb: TracebackType | None,
             tb_offset: int | None = None) -> list[str] | None:
    """IPython's custom exception handler: one line for an unfinished exercise, the usual traceback else.

    The line goes out as the cell's error (``ename``, ``evalue`` and a one-line
    traceback), so the cell still fails and "Run All" stops there.
    """
    ex = unfinished_exercise(value, tb)
    if ex is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)
        return None
    stb = [unfinished_line(ex)]
    show = getattr(shell, "_showtraceback", None)
    if show is not None:
        show(etype, value, stb)
    else:                                    # an IPython without it: print the line at least
        print(stb[0])
    return stb


def stop_at_unfinished_exercises() -> bool:
    """Show an unfinished exercise's ``NotImplementedError`` as one line, and stop "Run All" there.

    In IPython (Jupyter included) this installs a custom exception handler
    for ``NotImplementedError``: an exercise's error prints "Exercise NAME is
    not done yet: write it in FILE (FUNCTION), check it with check("NAME");
    hint: ..." in place of the traceback; the cell still fails, so the cells
    after it do not run. Other ``NotImplementedError`` keep their traceback.
    Outside IPython it does nothing. Returns whether it was installed.
    """
    try:
        ipython = importlib.import_module("IPython")
    except ImportError:
        return False
    shell = ipython.get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((NotImplementedError,), _handler)
    return True
