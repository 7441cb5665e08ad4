"""Notebooks in the student edition and for nbgrader, and the stop at the first unfinished exercise.

* :func:`student_notebook`: blocks become the exercise's ``NotImplementedError``,
  outputs go, solution lines elsewhere are scrubbed, the stop-handler cell is added.
* :func:`nbgrader_notebook`: solution cells and one autograded test cell per part;
  the real ``nbgrader generate_assignment`` accepts the repository's notebooks and
  ``nbgrader autograde`` gives a solved notebook full points (skipped without nbgrader).
* :func:`stop_at_unfinished_exercises`: executed for real in a kernel (nbclient,
  jupyter_client): one line instead of a traceback, and "Run All" stops there.
"""
from __future__ import annotations

import importlib.util
import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from numgan.course.exercises import NB01, exercise, not_done_message
from numgan.course.markers import BEGIN, END, MarkerError
from numgan.course.notebook_cells import (STOP_CELL_KEY, cell_source, code_lines_outside_blocks,
                                          nbgrader_notebook, normal_line, read_notebook, solution_lines_of_notebook,
                                          student_notebook, unfinished_exercise, unfinished_line,
                                          write_nbgrader_source, write_notebook)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
VENV_BIN = Path(sys.executable).parent
_IDS = itertools.count()


# ---------------------------------------------------------------------------------------------------
# tiny notebooks built from cells
# ---------------------------------------------------------------------------------------------------

def code(source: str, outputs: list[dict[str, Any]] | None = None, count: int | None = None) -> dict[str, Any]:
    """A code cell (with outputs and an execution count when given)."""
    return {"cell_type": "code", "execution_count": count, "id": f"c{next(_IDS)}",
            "metadata": {"execution": {"iopub.status.idle": "2026-01-01T00:00:00Z"}},
            "outputs": outputs or [], "source": source.splitlines(keepends=True)}


def normal_lines(text: str) -> set[str]:
    """The normal forms of the lines of ``text`` (as the solution lines are compared)."""
    return {normal_line(line) for line in text.splitlines()}


def markdown(source: str) -> dict[str, Any]:
    """A markdown cell."""
    return {"cell_type": "markdown", "id": f"m{next(_IDS)}", "metadata": {}, "source": source}


def notebook(*cells: dict[str, Any]) -> dict[str, Any]:
    """An nbformat 4.5 notebook of ``cells`` for the venv's python3 kernel."""
    return {"cells": list(cells), "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"}}}


IMPORTS = "import numpy as np\nfrom numgan.course import check"
FORWARD = f'''def dense_forward(x, W, b):
    """y = x @ W + b."""
    {BEGIN}
    y = x @ W + b                        # the whole batch at once
    return y, (x, W)
    {END}'''
BACKWARD = f'''def dense_backward(dy, cache):
    x, W = cache
    {BEGIN}
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)
    {END}'''
SCALE = f'''class Scale:
    def __init__(self, dim):
        self.s = np.ones(dim)

    def forward(self, x):
        {BEGIN}
        return x * self.s, x
        {END}

    def backward(self, dy, cache, *, param_grads=True):
        {BEGIN}
        ds = (dy * cache).sum(axis=0)
        return dy * self.s, ({{"s": ds}} if param_grads else {{}})
        {END}'''
LEAK = "    return dy @ W.T, x.T @ dy, dy.sum(axis=0)"
RESULT = [{"output_type": "stream", "name": "stdout", "text": "y = [[1.0, 2.0]]\n"}]


def exercise_notebook() -> dict[str, Any]:
    """Notebook 01 in small: two function exercises, a class exercise, check cells, a leaked line."""
    return notebook(
        code(IMPORTS, count=1),
        markdown(f"Fill in the blocks marked `{BEGIN}`."),
        code(FORWARD, RESULT, count=2),
        code('check("01.dense_forward")', RESULT, count=3),
        code(BACKWARD, count=4),
        code('check("01.dense_backward")\ncheck("dense_backward")', count=5),
        code(SCALE, count=6),
        code('print("a cell after")\ndx = dy @ self.W.T\ncheck("01.scale_layer")', count=7),
        markdown(f"The answer, in the text:\n\n{LEAK}\n"),
    )


# ---------------------------------------------------------------------------------------------------
# the student edition
# ---------------------------------------------------------------------------------------------------

def test_student_notebook_blanks_the_blocks_and_tags_the_cells() -> None:
    nb = exercise_notebook()
    before = json.dumps(nb, sort_keys=True)
    solutions = solution_lines_of_notebook(nb, NB01)
    out, report = student_notebook(nb, NB01, solutions)
    assert json.dumps(nb, sort_keys=True) == before, "the argument must not change"
    assert report[:3] == [f"{NB01} cell 2: 01.dense_forward", f"{NB01} cell 4: 01.dense_backward",
                          f"{NB01} cell 6: 01.scale_layer"]
    cells = {cell_source(c).split("\n")[0]: c for c in out["cells"]}
    forward = cells["def dense_forward(x, W, b):"]
    assert forward["metadata"]["numgan"] == {"exercise": "01.dense_forward"}
    assert "raise NotImplementedError(" in cell_source(forward)
    assert "Exercise 01.dense_forward:" in cell_source(forward)
    assert exercise("01.dense_forward").hint(3) not in cell_source(forward), "only the level-1 hint"
    scale = cells["class Scale:"]
    assert cell_source(scale).count("raise NotImplementedError(") == 2
    assert scale["metadata"]["numgan"] == {"exercise": "01.scale_layer"}
    text = "\n".join(cell_source(c) for c in out["cells"])
    assert BEGIN not in text.replace(f"`{BEGIN}`", "") and END not in text
    for line in ("y = x @ W + b", "return dy @ W.T, x.T @ dy, dy.sum(axis=0)", "ds = (dy * cache).sum(axis=0)"):
        assert line not in normal_lines(text), f"a solution line survives: {line}"
    compiled = [compile(cell_source(c), "cell", "exec") for c in out["cells"] if c["cell_type"] == "code"]
    assert len(compiled) == sum(c["cell_type"] == "code" for c in nb["cells"]) + 1    # and the stop cell


def test_student_notebook_clears_outputs_and_scrubs_solution_lines_elsewhere() -> None:
    nb = exercise_notebook()
    out, report = student_notebook(nb, NB01, solution_lines_of_notebook(nb, NB01))
    for c in out["cells"]:
        assert "execution" not in c["metadata"]
        if c["cell_type"] == "code":
            assert c["outputs"] == [] and c["execution_count"] is None
    text = cell_source(out["cells"][-1]).splitlines()
    assert text[2] == "    ...  # left out of the student edition: exercise 01.dense_backward"
    assert f"{NB01} cell 8 line 3: removed a line of 01.dense_backward" in report
    package = {**solution_lines_of_notebook(nb, NB01), "dx = dy @ self.W.T": "dense_backward"}
    out, report = student_notebook(nb, NB01, package)          # the lead's merge with the package's lines
    after = next(c for c in out["cells"] if cell_source(c).startswith('print("a cell after")'))
    assert cell_source(after).splitlines() == [
        'print("a cell after")', "...  # left out of the student edition: exercise dense_backward",
        'check("01.scale_layer")']
    assert f"{NB01} cell 7 line 2: removed a line of dense_backward" in report


def test_student_notebook_adds_the_stop_cell_once_after_the_first_code_cell() -> None:
    out, _ = student_notebook(exercise_notebook(), NB01)
    stop = out["cells"][1]
    assert stop["metadata"]["numgan"] == {STOP_CELL_KEY: True}
    assert "stop_at_unfinished_exercises()" in cell_source(stop)
    again, _ = student_notebook(out, NB01)
    assert sum(STOP_CELL_KEY in c["metadata"].get("numgan", {}) for c in again["cells"]) == 1
    ids = [c["id"] for c in again["cells"]]
    assert len(ids) == len(set(ids))


def test_solution_lines_leave_out_short_lines_and_lines_found_outside_the_blocks() -> None:
    nb = exercise_notebook()
    lines = solution_lines_of_notebook(nb, NB01)
    assert lines["y = x @ W + b"] == "01.dense_forward"
    assert lines["return dy @ W.T, x.T @ dy, dy.sum(axis=0)"] == "01.dense_backward"
    assert "return x * self.s, x" in lines
    assert "x, W = cache" not in lines                         # outside the block
    assert "return y, (x, W)" in lines and "return y" not in lines
    assert "x, W = cache" in code_lines_outside_blocks(nb, NB01)
    nb["cells"].append(code("return_value = 1\nreturn y, (x, W)"))
    assert "return y, (x, W)" not in solution_lines_of_notebook(nb, NB01)


def test_a_block_of_no_exercise_or_broken_markers_is_refused() -> None:
    stray = notebook(code(f"def my_helper():\n    {BEGIN}\n    return 1\n    {END}"))
    with pytest.raises(MarkerError, match="belongs to no exercise"):
        student_notebook(stray, NB01)
    unclosed = notebook(code(f"def dense_forward(x, W, b):\n    {BEGIN}\n    return x"))
    with pytest.raises(MarkerError, match="never closed"):
        student_notebook(unclosed, NB01)


def test_the_repository_notebooks_make_clean_editions() -> None:
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        rel = f"notebooks/{path.name}"
        nb = read_notebook(path)
        solutions = solution_lines_of_notebook(nb, rel)
        out, _ = student_notebook(nb, rel, solutions)
        for k, c in enumerate(out["cells"]):
            source = cell_source(c)
            assert not any(line.strip() in (BEGIN, END) for line in source.splitlines()), f"{rel} cell {k}"
            assert not normal_lines(source) & set(solutions), f"{rel} cell {k} keeps a solution line"
            if c["cell_type"] == "code":
                assert c["outputs"] == [], f"{rel} cell {k} keeps its outputs"


# ---------------------------------------------------------------------------------------------------
# nbgrader metadata
# ---------------------------------------------------------------------------------------------------

def _graded(nb: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]


def test_nbgrader_notebook_has_solution_cells_and_a_test_cell_per_part() -> None:
    nb = exercise_notebook()
    out = nbgrader_notebook(nb, NB01)
    solution = [c for c in out["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
    assert [c["metadata"]["numgan"]["exercise"] for c in solution] == \
        ["01.dense_forward", "01.dense_backward", "01.scale_layer"]
    assert all(BEGIN in cell_source(c) for c in solution), "nbgrader blanks the solutions itself"
    for c in solution:
        assert c["metadata"]["nbgrader"] == {**c["metadata"]["nbgrader"], "solution": True, "grade": False,
                                             "locked": False, "schema_version": 3}
    tests = _graded(out)
    assert [cell_source(c).split(", part=")[0] for c in tests] == [
        'assert check("01.dense_forward"', 'assert check("01.dense_backward"', 'assert check("01.dense_backward"',
        'assert check("01.scale_layer"']
    for c, (name, part) in zip(tests, [("01.dense_forward", "forward"), ("01.dense_backward", "dx"),
                                       ("01.dense_backward", "dW and db"), ("01.scale_layer",
                                                                            "forward and backward")]):
        meta = c["metadata"]["nbgrader"]
        assert meta["locked"] and not meta["solution"] and meta["schema_version"] == 3
        assert meta["points"] == next(p.points for p in exercise(name).parts if p.name == part)
        assert f'part="{part}"' in cell_source(c)
    assert sum(c["metadata"]["nbgrader"]["points"] for c in tests) == sum(
        exercise(n).points for n in ("01.dense_forward", "01.dense_backward", "01.scale_layer"))
    ids = [c["metadata"]["nbgrader"]["grade_id"] for c in out["cells"] if "nbgrader" in c["metadata"]]
    assert len(ids) == len(set(ids)) and all(i.replace("_", "").replace("-", "").isalnum() for i in ids)
    sources = [cell_source(c) for c in out["cells"]]
    assert 'check("dense_backward")' in sources, "a package exercise's check stays an ungraded cell"
    assert 'print("a cell after")\ndx = dy @ self.W.T' in sources, "the other lines of a check cell stay"
    assert f"`{BEGIN}`" not in sources[2], "nbgrader must not see a delimiter in the text"


@pytest.mark.skipif(importlib.util.find_spec("nbgrader") is None or shutil.which("nbgrader", path=str(VENV_BIN))
                    is None, reason="nbgrader is not installed (pip install -e .[dev])")
def test_nbgrader_generates_the_assignment_and_autogrades_a_solved_notebook(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = 'numgan'\nc.CourseDirectory.root = {str(course)!r}\n"
        "c.Execute.timeout = 60\n")
    written = write_nbgrader_source(course / "source" / "ps1", NOTEBOOKS)
    assert [p.name for p in written] == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    tiny = nbgrader_notebook(notebook(*exercise_notebook()["cells"][:6]), NB01)
    write_notebook(tiny, course / "source" / "ps1" / "tiny_01.ipynb")
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}   # nbgrader runs alembic

    def nbgrader(*args: str) -> None:
        done = subprocess.run([str(VENV_BIN / "nbgrader"), *args], cwd=course, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"

    nbgrader("generate_assignment", "ps1")
    release = course / "release" / "ps1"
    for path in written:
        source, released = read_notebook(path), read_notebook(release / path.name)
        assert len(_graded(released)) == len(_graded(source)), f"{path.name} lost test cells"
        text = "\n".join(cell_source(c) for c in released["cells"])
        assert BEGIN not in text and END not in text
        for line in solution_lines_of_notebook(read_notebook(NOTEBOOKS / path.name), f"notebooks/{path.name}"):
            assert line not in normal_lines(text), f"{path.name}: a solution line in the release: {line}"
    first = read_notebook(release / "01_dense_layer_backprop.ipynb")
    assert "YOUR CODE HERE" in "\n".join(cell_source(c) for c in first["cells"])
    assert len(_graded(first)) >= 3

    # a submission of the source (solutions in) gets every point; the release as it is gets none
    for student, folder in (("alice", course / "source" / "ps1"), ("bob", release)):
        submitted = course / "submitted" / student / "ps1"
        submitted.mkdir(parents=True)
        shutil.copy(folder / "tiny_01.ipynb", submitted / "tiny_01.ipynb")
    nbgrader("autograde", "ps1", "--create", "--Autograde.exclude_overwriting={}")
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", env["PATH"])
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        alice = gb.find_submission_notebook("tiny_01", "ps1", "alice")
        bob = gb.find_submission_notebook("tiny_01", "ps1", "bob")
        assert alice.max_score == 3 and alice.score == 3, [(g.name, g.score) for g in alice.grades]
        assert bob.score == 0, [(g.name, g.score) for g in bob.grades]


# ---------------------------------------------------------------------------------------------------
# the stop handler, run in a real kernel
# ---------------------------------------------------------------------------------------------------

def test_unfinished_exercise_reads_the_message_or_the_raising_function() -> None:
    ex = exercise("dense_backward")
    assert unfinished_exercise(NotImplementedError(not_done_message(ex))) is ex
    assert unfinished_exercise(NotImplementedError("abstract method")) is None
    assert unfinished_exercise(ValueError(not_done_message(ex))) is None

    def dense_forward() -> None:                               # nbgrader's stub: no message
        raise NotImplementedError()

    with pytest.raises(NotImplementedError) as info:
        dense_forward()
    assert unfinished_exercise(info.value, info.tb) is exercise("01.dense_forward")
    line = unfinished_line(ex)
    assert line.startswith("Exercise dense_backward is not done yet: write it in numgan/layers.py (Dense.backward), "
                           'check it with check("dense_backward"); hint: ')
    assert "\n" not in line


def _edition_like_notebook() -> dict[str, Any]:
    message = not_done_message(exercise("dense_backward"))
    return notebook(
        code("from numgan.course.notebook_cells import stop_at_unfinished_exercises\n"
             "print(stop_at_unfinished_exercises())"),
        code(f"def backward():\n    raise NotImplementedError({message!r})\n\nprint('before')\nbackward()"),
        code("print('the later cell ran')"),
    )


def _kernel_works() -> bool:
    return importlib.util.find_spec("nbclient") is not None and importlib.util.find_spec("ipykernel") is not None


@pytest.mark.skipif(not _kernel_works(), reason="nbclient and ipykernel are needed to run a notebook")
def test_run_all_stops_at_the_unfinished_exercise_with_one_line() -> None:
    import nbclient
    import nbformat
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.reads(json.dumps(_edition_like_notebook()), as_version=4)
    client = nbclient.NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=False,
                                     resources={"metadata": {"path": str(ROOT)}})
    with pytest.raises(CellExecutionError):
        client.execute()
    first, error_cell, later = nb.cells
    assert first.outputs[0]["text"] == "True\n"
    outputs = [o for o in error_cell.outputs]
    assert [o["output_type"] for o in outputs] == ["stream", "error"]
    assert outputs[0]["text"] == "before\n"
    error = outputs[1]
    assert error["ename"] == "NotImplementedError"
    assert error["traceback"] == [unfinished_line(exercise("dense_backward"))], "one line, no traceback"
    assert later.outputs == [] and later.get("execution_count") is None, "the later cell must not run"


@pytest.mark.skipif(not _kernel_works(), reason="jupyter_client and ipykernel are needed to run a kernel")
def test_a_queued_run_all_is_aborted_after_the_unfinished_exercise() -> None:
    """Jupyter's Run All sends every cell at once; the kernel aborts those after a failed one."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", cwd=str(ROOT))
    try:
        ids = [client.execute(cell_source(c), stop_on_error=True) for c in _edition_like_notebook()["cells"]]
        replies = {}
        while len(replies) < len(ids):
            reply = client.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") in ids:
                replies[reply["parent_header"]["msg_id"]] = reply["content"]
        assert [replies[i]["status"] for i in ids] == ["ok", "error", "aborted"]
        assert replies[ids[1]]["traceback"] == [unfinished_line(exercise("dense_backward"))]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
