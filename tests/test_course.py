"""The course kit (numgan.course): the student edition and the grader.

One student edition (with notebooks) and one solution edition (package only) are
built per session; the graded variants copy only their ``numgan/`` package.
Each grading runs one subprocess per exercise (about 0.2 s each, 1 s for the GAN step).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from numgan import course

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
ALL = [ex.name for ex in course.EXERCISES]
MAX_POINTS = sum(ex.points for ex in course.EXERCISES)


def run_course(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "numgan.course", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    """The student edition, built by the command line as an instructor would."""
    out = tmp_path_factory.mktemp("course") / "student"
    proc = run_course("make-student", out)
    assert proc.returncode == 0, proc.stderr
    assert "marked blocks in the package" in proc.stdout
    return out


@pytest.fixture(scope="module")
def solution(tmp_path_factory):
    out = tmp_path_factory.mktemp("course") / "solution"
    course.make_student(out, with_solutions=True, notebooks=False)
    return out


def package_copy(edition: Path, dest: Path, edit: dict[str, tuple[str, str]] | None = None) -> Path:
    """A copy of an edition's numgan/ package in ``dest``, with ``{file: (old, new)}`` replaced once each."""
    shutil.copytree(edition / "numgan", dest / "numgan", ignore=shutil.ignore_patterns("*.npz", "__pycache__"))
    for name, (old, new) in (edit or {}).items():
        path = dest / "numgan" / name
        text = path.read_text()
        assert text.count(old) == 1, (name, old)
        path.write_text(text.replace(old, new))
    return dest


def _normal(line: str) -> str:
    return " ".join(re.sub(r"\s+#.*$", "", line).split())


def repository_solution_lines() -> set[str]:
    """Lines between the markers in the package and the notebooks (12+ characters, found nowhere else)."""
    sources = [p.read_text() for p in sorted((ROOT / "numgan").rglob("*.py")) if p.name != "course.py"]
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        sources += [c.source for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code"]
    inside, outside = set(), set()
    for text in sources:
        marked = False
        for line in text.splitlines():
            if line.strip() in (BEGIN, END):
                marked = line.strip() == BEGIN
            elif marked:
                inside.add(_normal(line))
            else:
                outside.add(_normal(line))
    return {line for line in inside - outside if len(line) >= 12}


def edition_lines(out: Path):
    """(file, normalised line) of every text file of an edition, notebooks by their cells' sources."""
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.suffix not in (".py", ".md", ".ipynb", ".cfg", ".toml", ".yml", ".txt"):
            continue
        if path.suffix == ".ipynb":
            text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
        else:
            text = path.read_text()
        for line in text.splitlines():
            yield path.relative_to(out), line


# -- the student edition -----------------------------------------------------------------------

def test_student_edition_holds_what_installs_and_no_solution(student):
    for name in ("setup.cfg", "pyproject.toml", "README.md", "docs/backprop.md", "tests/test_layers.py",
                 "notebooks/01_dense_layer_backprop.ipynb", "numgan/course.py"):
        assert (student / name).is_file(), name
    assert not (student / "tests" / "test_course.py").exists()
    npz = sorted(p.name for p in (ROOT / "numgan" / "data").glob("*.npz"))
    assert npz and sorted(p.name for p in (student / "numgan" / "data").glob("*.npz")) == npz
    assert "numgan-course = numgan.course:main" in (student / "setup.cfg").read_text()

    solutions = repository_solution_lines()
    assert len(solutions) > 30                     # the scan itself found the blocks
    assert 'np.sum(dy, axis=0, out=out["b"])' in solutions and "db = dy.sum(axis=0)" in solutions
    left = [(str(f), line) for f, line in edition_lines(student) if _normal(line) in solutions]
    assert left == []
    markers = [str(f) for f, line in edition_lines(student)
               if line.strip() in (BEGIN, END) and f.parts[0] in ("numgan", "notebooks")]
    assert markers == []


def test_blocks_become_hints_indented_like_the_block(student):
    layers = (student / "numgan" / "layers.py").read_text()
    assert re.search(r"\n    def backward\(self, dy: np.ndarray, cache: np.ndarray, \*, param_grads: bool = True,\n"
                     r".*\n.*\n(.*\n)*?        x = cache\n        W = self.params\[\"W\"\]\n        check_matrix\(dy, .*\n"
                     r"        raise NotImplementedError\(\n            [\"']Exercise dense_backward: dx = dy @ W.T",
                     layers)
    assert "\n    raise NotImplementedError(\n        'Exercise sigmoid:" in layers     # module level: 4 spaces
    package = "".join(p.read_text() for p in (student / "numgan").glob("*.py") if p.name != "course.py")
    for ex in course.EXERCISES:
        assert f"Exercise {ex.name}:" in package, ex.name
    nb = nbformat.read(student / "notebooks" / "01_dense_layer_backprop.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and "raise NotImplementedError" in c.source]
    assert len(cells) == 2 and all(c.outputs == [] and c.execution_count is None for c in cells)
    assert "Exercise dense_backward: dx = dy @ W.T" in cells[1].source
    original = nbformat.read(ROOT / "notebooks" / "01_dense_layer_backprop.ipynb", as_version=4)
    assert sum(bool(c.get("outputs")) for c in nb.cells) == sum(bool(c.get("outputs")) for c in original.cells) - 2


def test_make_student_refuses_a_non_empty_out_unless_forced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="is not empty; pass --force"):
        course.make_student(out, notebooks=False)
    assert (out / "keep.txt").read_text() == "mine"
    proc = run_course("make-student", out)
    assert proc.returncode == 2 and "pass --force" in proc.stderr
    course.make_student(out, notebooks=False, force=True)
    assert not (out / "keep.txt").exists() and (out / "numgan" / "layers.py").is_file()
    assert not (out / "notebooks").exists()
    with pytest.raises(ValueError, match="must not be the repository"):
        course.make_student(ROOT, force=True)


def test_markers_must_pair_up_and_belong_to_an_exercise(tmp_path):
    with pytest.raises(course.MarkerError, match=r"x.py:3: ### BEGIN SOLUTION is never closed"):
        course.find_blocks(["a = 1", "", f"    {BEGIN}", "    b = 2"], "x.py")
    with pytest.raises(course.MarkerError, match=r"x.py:1: ### END SOLUTION without"):
        course.find_blocks([END], "x.py")
    src = f"def f(x):\n    y = 1\n    {BEGIN}\n    return x + y\n    {END}\n"
    (block,) = course.locate_blocks(src, "x.py")
    assert block.function == "f" and block.indent == "    "
    assert course.rewrite(src, [block], ["Exercise f: hint"], False) == \
        "def f(x):\n    y = 1\n    raise NotImplementedError('Exercise f: hint')\n"
    assert course.rewrite(src, [block], ["-"], True) == "def f(x):\n    y = 1\n    return x + y\n"
    fake = tmp_path / "repo"
    package_copy(ROOT, fake, {"layers.py": ("        y = np.tanh(as_float_array(x, \"x\"))",
                                            f"        {BEGIN}\n        {END}\n"
                                            f"        y = np.tanh(as_float_array(x, \"x\"))")})
    (fake / "setup.cfg").write_text("")
    with pytest.raises(course.MarkerError, match=r"no exercise .* lists .*numgan/layers.py:\d+ \(in Tanh.forward\)"):
        course.make_student(tmp_path / "out", source=fake)


# -- the grader ----------------------------------------------------------------------------------

def test_grading_the_untouched_edition_fails_every_exercise_with_its_hint(student):
    proc = run_course("grade", student, "--json")
    assert proc.returncode == 1, proc.stderr
    result = json.loads(proc.stdout)
    assert result["numgan_file"] == str((student / "numgan" / "__init__.py").resolve())
    assert (result["points"], result["max_points"]) == (0, MAX_POINTS)
    assert [r["exercise"] for r in result["exercises"]] == ALL
    for r in result["exercises"]:
        assert r["status"] == "failed" and r["points"] == 0
        assert r["message"].startswith(f"NotImplementedError: Exercise {r['exercise']}")
        assert "see docs/" in r["message"] and " (at numgan/" in r["message"]


def test_grading_the_solutions_gives_full_points(solution):
    result = course.grade(solution)
    assert [(r["exercise"], r["status"]) for r in result["exercises"]] == [(name, "passed") for name in ALL]
    assert result["points"] == result["max_points"] == MAX_POINTS
    assert result["numgan_file"] == str((solution / "numgan" / "__init__.py").resolve())
    table = course.format_table(result)
    assert f"total            {MAX_POINTS}/{MAX_POINTS}" in table


def test_a_wrong_bias_gradient_fails_dense_backward_only_and_names_b(solution, tmp_path):
    no_sum = 'out["b"][...] = dy[0]     # the sum over the batch dropped'
    wrong = package_copy(solution, tmp_path, {"layers.py": ('np.sum(dy, axis=0, out=out["b"])', no_sum)})
    result = course.grade(wrong)
    failed = [r for r in result["exercises"] if r["status"] != "passed"]
    assert [r["exercise"] for r in failed] == ["dense_backward"]
    (r,) = failed
    assert r["points"] == 0 and result["points"] == MAX_POINTS - r["max_points"]
    assert r["gradient"]["name"] == "b" and r["gradient"]["wrong"] == ["b"] and r["gradient"]["rel_error"] > 0.1
    assert "gradient b is off: rel. error" in r["message"] and "largest at index (" in r["message"]
    assert "right: x, W" in r["message"]
    table = course.format_table(result)
    assert re.search(r"dense_backward +0/2 +FAILED +Dense\(4, 3\) on a batch of 5: gradient b is off", table)
    assert re.search(r"\n +b +\S+ +\(\d+,\) .* WRONG", table)          # the gradient-check report under the row


def test_an_endless_loop_is_stopped_and_the_other_exercises_still_run(solution, tmp_path):
    looping = package_copy(solution, tmp_path, {"layers.py": ("        slope = (x > 0).astype(x.dtype)",
                                                              "        while True:\n            pass\n"
                                                              "        slope = (x > 0).astype(x.dtype)")})
    start = time.perf_counter()
    proc = run_course("grade", looping / "numgan", "--timeout", 2, "-e", "leaky_relu,dense_forward",
                      "-e", "non_saturating")
    assert time.perf_counter() - start < 30
    assert proc.returncode == 1, proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.splitlines() if line.split()[:1] in
            (["leaky_relu"], ["dense_forward"], ["non_saturating"])}
    assert "TIMEOUT" in rows["leaky_relu"] and "timed out after 2 s" in rows["leaky_relu"]
    assert "passed" in rows["dense_forward"] and "passed" in rows["non_saturating"]
    assert "total           3/4" in proc.stdout


def test_exit_and_crash_in_student_code_fail_that_exercise_only(solution, tmp_path):
    exiting = package_copy(solution, tmp_path / "a", {"optim.py": ("        m, v = state[\"m\"], state[\"v\"]\n",
                                                                   "        import sys; sys.exit(3)\n")})
    crashing = package_copy(solution, tmp_path / "b", {"optim.py": ("        m, v = state[\"m\"], state[\"v\"]\n",
                                                                    "        import os; os._exit(3)\n")})
    r = course.grade(exiting, ["adam", "dense_forward"])["exercises"]
    assert [x["status"] for x in r] == ["passed", "failed"]          # table order: dense_forward first
    assert r[1]["message"].startswith("SystemExit: 3 (at numgan/optim.py:")
    (r,) = course.grade(crashing, ["adam"])["exercises"]
    assert r["status"] == "crashed" and "exit status 3" in r["message"]


def test_grade_refuses_a_folder_without_numgan_and_unknown_exercises(tmp_path, solution):
    with pytest.raises(ValueError, match="holds no numgan package"):
        course.grade(tmp_path)
    with pytest.raises(ValueError, match=r"unknown exercise\(s\) \['dense'\]"):
        course.grade(solution, ["dense"])


def test_every_marked_block_is_a_whole_unit():
    """A function holds at most one marked block, and no unmarked line after a block uses a name that only
    the block defines (so a student's block is a unit whose result the code around it never guesses)."""
    import ast
    problems = []
    for path in sorted((ROOT / "numgan").rglob("*.py")):
        source = path.read_text()
        blocks = course.locate_blocks(source, str(path))
        if not blocks:
            continue
        by_function: dict = {}
        for b in blocks:
            by_function.setdefault(b.function, []).append(b)
        tree = ast.parse(source)
        functions = {}

        def visit(node, prefix=""):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    functions[prefix + child.name] = child
                    visit(child, prefix + child.name + ".")
                elif isinstance(child, ast.ClassDef):
                    visit(child, prefix + child.name + ".")
        visit(tree)
        for name, found in by_function.items():
            if len(found) > 1:
                problems.append(f"{path.name}:{name} holds {len(found)} blocks")
            fn = functions[name]
            (b,) = found[:1]
            first, last = b.begin + 1, b.end + 1              # 1-based lines of the markers
            outside = {a.arg for a in fn.args.args + fn.args.kwonlyargs}
            inside, used_after = set(), set()
            for node in ast.walk(fn):
                if isinstance(node, ast.Name):
                    if isinstance(node.ctx, ast.Store):
                        (inside if first < node.lineno < last else outside).add(node.id)
                    elif node.lineno > last:
                        used_after.add(node.id)
            leaked = sorted(used_after & (inside - outside))
            if leaked:
                problems.append(f"{path.name}:{name} uses {leaked} after its block, defined only inside it")
    assert problems == []


@pytest.mark.parametrize("args, words", [(["--timeout", "inf"], "expected a number of seconds"),
                                          (["--timeout", "-1"], "expected a number of seconds"),
                                          (["-e", ""], "--exercise must name at least one exercise")])
def test_grade_options_fail_in_one_line(args, words, tmp_path):
    out = subprocess.run([sys.executable, "-m", "numgan.course", "grade", str(ROOT), *args],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and words in out.stderr and "Traceback" not in out.stderr
