"""The course kit (numgan.course): the table, the markers, the student edition, hints and the command line.

One student edition (notebooks included) and one solution edition are built
per module; grading and its attacks are in test_course_grading.py, the
exercises' own checks in test_course_exercises_*.py, notebooks in
test_course_edition_notebooks.py and test_course_notebook_exercises.py.
"""
from __future__ import annotations

import ast
import configparser
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from numgan.course import answers, probes, tasks
from numgan.course.edition import MANIFEST, WORKFLOW, make_student, normal, package_blocks, solution_lines
from numgan.course.exercises import EXERCISES, EXERCISES_BY_NAME, exercise
from numgan.course.grading import Grader
from numgan.course.markers import MarkerError, find_blocks, locate_blocks, replace_functions

ROOT = Path(__file__).resolve().parents[1]
MAX_POINTS = sum(ex.points for ex in EXERCISES)


def run_course(*args: object, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "numgan.course", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


@pytest.fixture(scope="module")
def student(tmp_path_factory) -> Path:
    """The student edition, built by the command line as an instructor would."""
    out = tmp_path_factory.mktemp("course") / "student"
    proc = run_course("make-student", out)
    assert proc.returncode == 0, proc.stderr
    assert "marked blocks in the package" in proc.stdout
    return out


@pytest.fixture(scope="module")
def solution(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("course") / "solution"
    make_student(out, with_solutions=True)
    return out


# -- the table -------------------------------------------------------------------------------------

def test_every_exercise_has_parts_hints_a_task_a_probe_and_a_reference():
    assert len(EXERCISES_BY_NAME) == len(EXERCISES)
    for ex in EXERCISES:
        assert ex.parts and all(p.points > 0 for p in ex.parts), ex.name
        assert len({p.name for p in ex.parts}) == len(ex.parts), ex.name
        assert all(len(h) > 20 for h in ex.hints) and len(set(ex.hints)) == 3, ex.name
        assert (ROOT / "notebooks").glob(f"{ex.notebook}_*.ipynb"), ex.name
        assert all((ROOT / f).is_file() for f in ex.files), ex.name
        assert set(ex.uses) <= set(EXERCISES_BY_NAME), ex.name
        tasks.task(ex.name)
        assert ex.name in probes.PROBES
        assert ex.name in answers._all_answers()
    assert {"dense_backward", "tanh_backward", "softmax_cross_entropy", "sgd_momentum", "r1_penalty", "wgan_gp",
            "classifier_training", "01.scale_layer", "02.softplus", "04.arrows", "08.extragradient"} <= set(
        EXERCISES_BY_NAME)
    assert [p.name for p in exercise("gan_step").parts] == ["D step", "G step"]
    assert [p.name for p in exercise("adam").parts] == ["moments", "bias correction"]


def test_every_package_exercise_has_a_pytest_marker_registered():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    registered = {line.split(":")[0].strip() for line in cfg["tool:pytest"]["markers"].strip().splitlines()}
    assert registered == {ex.name for ex in EXERCISES if not ex.in_notebook}


def test_the_blocks_of_the_package_and_the_table_agree():
    blocks = package_blocks(ROOT)
    located = {f"{p.relative_to(ROOT).as_posix()}:{b.function}" for p, pairs in blocks.items() for b, _ in pairs}
    assert located == {w for ex in EXERCISES if not ex.in_notebook for w in ex.where}


def test_every_marked_block_is_a_whole_unit_of_code():
    # each block parses alone once dedented: it does not cut a statement in two
    for path, pairs in package_blocks(ROOT).items():
        lines = path.read_text().splitlines()
        for b, ex in pairs:
            body = "\n".join(lines[b.begin + 1:b.end])
            indent = b.indent
            ast.parse("def f():\n" + "\n".join("    " + line[len(indent):] for line in body.splitlines()))


def test_markers_must_pair_up():
    with pytest.raises(MarkerError, match="never closed"):
        find_blocks(["### BEGIN SOLUTION", "x = 1"], "f.py")
    with pytest.raises(MarkerError, match="without a"):
        find_blocks(["x = 1", "### END SOLUTION"], "f.py")
    with pytest.raises(MarkerError, match="inside the block"):
        find_blocks(["### BEGIN SOLUTION", "### BEGIN SOLUTION"], "f.py")
    blocks = locate_blocks("class A:\n    def f(self):\n        ### BEGIN SOLUTION\n        return 1\n"
                           "        ### END SOLUTION\n", "a.py")
    assert [(b.begin, b.end, b.function) for b in blocks] == [(2, 4, "A.f")]


def test_replace_functions_swaps_whole_functions_and_refuses_a_missing_one():
    source = "import os\n\nclass A:\n    def f(self):\n        return 1\n\n    def g(self):\n        return 2\n"
    out = replace_functions(source, {"A.f": "    def f(self):\n        return 10\n"})
    assert "return 10" in out and "return 2" in out and "import os" in out
    with pytest.raises(MarkerError, match="no function A.h"):
        replace_functions(source, {"A.h": "    def h(self): pass\n"})
    with pytest.raises(MarkerError, match="does not parse"):
        replace_functions("def f(:\n", {"f": "def f(): pass\n"})


# -- the student edition ---------------------------------------------------------------------------

def test_the_edition_holds_no_reference_and_no_solution(student):
    assert not (student / "numgan" / "course" / "answers").exists()
    assert not list(student.glob("tests/test_course*.py"))
    # the references' own names: every top-level name of numgan/course/answers/ that no other file uses
    reference_names = {"ANSWERS"}
    for path in (ROOT / "numgan" / "course" / "answers").glob("*.py"):
        tree = ast.parse(path.read_text())
        reference_names |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    elsewhere = " ".join(p.read_text(errors="replace") for folder in ("numgan", "docs", "notebooks")
                         for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".md", ".ipynb")
                         and "answers" not in p.parts)
    reference_names = {n for n in reference_names if not re.search(rf"\b{re.escape(n)}\b", elsewhere)}
    assert len(reference_names) > 20 and "dense_backward_expected" in reference_names
    solutions = solution_lines(ROOT)
    assert len(solutions) > 40
    for path in student.rglob("*"):
        if not path.is_file() or path.suffix not in (".py", ".md", ".ipynb", ".cfg", ".txt", ".yml"):
            continue
        text = path.read_text(errors="replace")
        if path.suffix in (".py", ".ipynb"):              # docs/course.md shows the markers in its examples
            assert not any(line.strip().strip('",\\n') in ("### BEGIN SOLUTION", "### END SOLUTION")
                           for line in text.splitlines()), path
        for name in reference_names:
            assert not re.search(rf"\b{re.escape(name)}\b", text), (path, name)
        if path.suffix == ".ipynb":
            nb = json.loads(text)
            lines = [line for cell in nb["cells"] for line in "".join(cell["source"]).splitlines()]
            assert all(not cell.get("outputs") for cell in nb["cells"] if cell["cell_type"] == "code"), path
        else:
            lines = text.splitlines()
        for line in lines:
            assert normal(line) not in solutions, (path, line)


def test_the_edition_raises_the_level_one_hint_and_keeps_public_numbers(student):
    layers = (student / "numgan" / "layers.py").read_text()
    assert "Exercise dense_backward:" in layers and exercise("dense_backward").hints[0][:40] in layers
    assert exercise("dense_backward").hints[2] not in layers
    with np.load(student / "numgan" / "course" / "public_expected.npz", allow_pickle=False) as data:
        stored = {k.split("/")[0] for k in data.files}
    assert stored == set(EXERCISES_BY_NAME)
    manifest = json.loads((student / MANIFEST).read_text())
    assert manifest["files"]["numgan/layers.py"]
    workflow = (student / WORKFLOW).read_text()
    for ex in EXERCISES:
        assert f"test-name: {ex.name}\n" in workflow and f"max-score: {ex.points}\n" in workflow.split(
            f"test-name: {ex.name}\n")[1]


def test_a_student_fails_with_the_hint_then_solves_dense_backward_and_sees_pass(student, tmp_path):
    work = tmp_path / "alice"
    shutil.copytree(student, work)
    proc = run_course("check", "dense_backward", cwd=work)
    assert proc.returncode == 1 and "FAIL dense_backward" in proc.stdout and "not done yet" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    layers = work / "numgan" / "layers.py"
    text = layers.read_text()
    blanks = [node for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Raise)
              and isinstance(node.exc, ast.Call) and getattr(node.exc.func, "id", "") == "NotImplementedError"
              and node.exc.args and isinstance(node.exc.args[0], ast.Constant)
              and re.match(r"Exercise (dense_forward|dense_backward):", ast.literal_eval(node.exc.args[0]))]
    assert len(blanks) == 2
    solutions = {"dense_forward": "return x @ self.params['W'] + self.params['b'], x",
                 "dense_backward": ("dx = dy @ W.T if input_grad else None\n"
                                    "if not param_grads:\n    return dx, {}\n"
                                    "grads = {'W': x.T @ dy, 'b': dy.sum(axis=0)}\n"
                                    "if out is not None:\n    out['W'][...] = grads['W']\n"
                                    "    out['b'][...] = grads['b']\n    grads = out\n"
                                    "return dx, grads")}
    lines = text.splitlines(keepends=True)
    for node in sorted(blanks, key=lambda n: -n.lineno):
        name = ast.literal_eval(node.exc.args[0]).split(":")[0].split()[1]
        indent = " " * node.col_offset
        code = "".join(indent + line + "\n" for line in solutions[name].splitlines())
        lines[node.lineno - 1:node.end_lineno] = [code]
    text = "".join(lines)
    layers.write_text(text)
    proc = run_course("check", "dense_forward", "dense_backward", cwd=work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS dense_backward" in proc.stdout
    marked = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                             "-m", "dense_backward", "tests/test_exercises.py"], capture_output=True, text=True,
                            cwd=work, timeout=120)
    assert marked.returncode == 0 and "1 passed" in marked.stdout, marked.stdout[-2000:]


def test_grading_the_untouched_edition_gives_no_points_and_the_solutions_all(student, solution):
    grader = Grader(ROOT, timeout=20)
    untouched = grader.grade(student)
    assert untouched["points"] == 0 and untouched["max_points"] == MAX_POINTS
    package = [e for e in untouched["exercises"] if not exercise(e["exercise"]).in_notebook]
    assert all(e["message"].startswith("not done yet") for e in package), [e["message"] for e in package]
    full = grader.grade(solution)
    assert full["points"] == MAX_POINTS, [(e["exercise"], e["message"]) for e in full["exercises"]
                                          if e["status"] != "passed"]


def test_make_student_refuses_a_non_empty_out_and_an_edition_as_source(student, tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "f").write_text("")
    proc = run_course("make-student", tmp_path / "x")
    assert proc.returncode == 2 and "not empty" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_course("make-student", tmp_path / "y", "--source", student)
    assert proc.returncode == 2 and "no numgan/course/answers" in proc.stderr


# -- hints and the command line --------------------------------------------------------------------

def test_hints_come_in_three_levels():
    for level in (1, 2, 3):
        proc = run_course("hint", "adam", "--level", level)
        assert proc.returncode == 0 and exercise("adam").hint(level) in proc.stdout
    with pytest.raises(ValueError, match="level must be 1, 2 or 3"):
        exercise("adam").hint(4)


@pytest.mark.parametrize("args,words", [
    (["hint", "nope"], "exercise must be one of"),
    (["hint", "adam", "--level", "4"], "expected 1, 2 or 3"),
    (["check", "01.scale_layer"], "notebook exercise"),
    (["grade", "{tmp}", "--timeout", "nan"], "number of seconds"),
    (["grade", "{tmp}/missing"], "does not exist"),
    (["grade", "{tmp}", "-e", "nope"], "unknown exercise"),
    (["grade-all", "{tmp}/missing", "--csv", "{tmp}/g.csv"], "SUBMISSIONS_DIR"),
    (["grade", "{root}", "--seed-file", "{tmp}/missing"], "No such file"),
    (["grade", "{root}", "--seed-file", "{tmp}/empty"], "must hold the secret"),
    (["grade", "{root}", "--seed-file", "{tmp}/empty", "--seed", "x"], "not both"),
    (["grade", "{root}", "--manifest", "{tmp}/garbage"], "must be the .numgan-edition.json"),
    (["grade", "{root}", "--manifest", "{tmp}/missing"], "must be the .numgan-edition.json"),
])
def test_command_line_errors_are_one_line(args, words, tmp_path):
    (tmp_path / "empty").write_text("\n")
    (tmp_path / "garbage").write_bytes(b"\x00{\"files\": [1, 2]}\xff")
    proc = run_course(*[a.replace("{tmp}", str(tmp_path)).replace("{root}", str(ROOT)) for a in args])
    text = proc.stderr.strip()
    assert proc.returncode == 2, (proc.returncode, text)
    assert words in text and "Traceback" not in text and len(text.splitlines()) <= 2, text


def test_the_docs_order_table_agrees_with_the_exercise_table():
    text = (ROOT / "docs" / "course.md").read_text()
    rows = re.findall(r"^\| (\d\d) \| `([^`]+)` \| [^|]+ \| ([^|]+) \|$", text, flags=re.M)
    assert [(nb, name) for nb, name, _ in rows] == [(ex.notebook, ex.name) for ex in EXERCISES]
    for (_, name, parts) in rows:
        assert parts.strip() == ", ".join(f"{p.name} {p.points}" for p in exercise(name).parts)
    assert f"{MAX_POINTS} points in all" in text


def test_make_student_needs_out_or_nbgrader_and_writes_nbgrader_sources(tmp_path):
    proc = run_course("make-student")
    assert proc.returncode == 2 and "needs OUT" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_course("make-student", "--nbgrader", tmp_path / "source" / "ps1")
    assert proc.returncode == 0, proc.stderr
    written = sorted(p.name for p in (tmp_path / "source" / "ps1").glob("*.ipynb"))
    assert written == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))


def test_in_the_edition_notebook_01_shows_pass_under_the_solved_cells_and_stops_at_the_next_exercise(student,
                                                                                                     tmp_path):
    # a student writes 01.dense_forward and 01.dense_backward in the edition's notebook 01 and runs it all
    nbclient = pytest.importorskip("nbclient")
    work = tmp_path / "bob"
    shutil.copytree(student, work)
    rel = "notebooks/01_dense_layer_backprop.ipynb"
    nb = json.loads((work / rel).read_text())
    answers_by_name = {
        "01.dense_forward": "def dense_forward(x, W, b):\n    return x @ W + b, (x, W)\n",
        "01.dense_backward": "def dense_backward(dy, cache):\n    x, W = cache\n"
                             "    return dy @ W.T, x.T @ dy, dy.sum(axis=0)\n"}
    for cell in nb["cells"]:
        name = cell.get("metadata", {}).get("numgan", {}).get("exercise")
        if name in answers_by_name:
            cell["source"] = answers_by_name[name]
    nb["cells"].insert(0, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                           "id": "path0000", "source": f"import sys\nsys.path.insert(0, {str(work)!r})\n"
                                                       "import numgan\nprint('NUMGAN', numgan.__file__)"})
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.reads(json.dumps(nb), as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=False,
                                     resources={"metadata": {"path": str(work / "notebooks")}})
    with pytest.raises(nbclient.exceptions.CellExecutionError):
        client.execute()
    texts = ["".join(o.get("text", "")) for cell in nb["cells"] if cell["cell_type"] == "code"
             for o in cell.get("outputs", [])]
    assert texts[0].strip() == f"NUMGAN {work / 'numgan' / '__init__.py'}"
    assert any(t.startswith("PASS 01.dense_forward") for t in texts), texts
    assert any(t.startswith("PASS 01.dense_backward") for t in texts), texts
    errors = [o for cell in nb["cells"] if cell["cell_type"] == "code" for o in cell.get("outputs", [])
              if o["output_type"] == "error"]
    assert len(errors) == 1 and len(errors[0]["traceback"]) == 1, errors
    assert "Exercise dense_forward is not done yet: write it in numgan/layers.py" in errors[0]["traceback"][0]
