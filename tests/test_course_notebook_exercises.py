"""The notebook exercises: the instructor's cells pass their checks, one realistic bug per part loses that part.

Each notebook exercise is a function or class in one code cell of a
notebook, with its solution between ``### BEGIN SOLUTION`` and ``### END
SOLUTION``. The tests read the cell from the ``.ipynb``, run it alone in a
namespace holding only ``np`` (as the grader does), and run the self-check on
that namespace. A bug is a text substitution in the cell's solution.
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from numgan.course.answers import expected
from numgan.course.exercises import EXERCISES, exercise
from numgan.course.markers import locate_blocks, rewrite
from numgan.course.probes import run_probe
from numgan.course.selfcheck import run_check
from numgan.course.tasks import public_seed, task

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_EXERCISES = [ex.name for ex in EXERCISES if ex.in_notebook]


def _cells(path: str) -> list[dict[str, Any]]:
    nb = json.loads((ROOT / path).read_text(encoding="utf-8"))
    return [c for c in nb["cells"]]


def _source(cell: dict[str, Any]) -> str:
    return "".join(cell["source"])


def exercise_cell(name: str) -> str:
    """The source of the code cell that defines ``name``'s function or class."""
    ex = exercise(name)
    rel, qualname = ex.where[0].split(":", 1)
    found = [_source(c) for c in _cells(rel) if c["cell_type"] == "code"
             and re.search(rf"^(def {qualname}\(|class {qualname}[(:])", _source(c), re.M)]
    assert len(found) == 1, f"{rel} must define {qualname} in exactly one cell, found {len(found)}"
    return found[0]


def namespace_of(*names: str, replace: tuple[str, str] | None = None) -> dict[str, Any]:
    """A namespace with ``np`` and the cells of ``names`` run in it (the first cell's text edited by ``replace``)."""
    ns: dict[str, Any] = {"np": np}
    for k, name in enumerate(names):
        source = exercise_cell(name)
        if replace is not None and k == 0:
            old, new = replace
            assert source.count(old) == 1, f"{old!r} must occur once in the cell of {name}"
            source = source.replace(old, new)
        exec(compile(source, f"<cell of {name}>", "exec"), ns)
    return ns


def cells_for(name: str) -> tuple[str, ...]:
    """The exercise's cell first, then the cells of the notebook exercises it uses."""
    return (name, *(u for u in exercise(name).uses if exercise(u).in_notebook))


def points(result: dict[str, Any]) -> dict[str, int]:
    return {p["part"]: p["points"] for p in result["parts"]}


# -- the instructor's cells pass -----------------------------------------------------------------------


@pytest.mark.parametrize("name", NOTEBOOK_EXERCISES)
def test_the_instructors_cell_passes_alone(name: str) -> None:
    result = run_check(name, namespace_of(*cells_for(name)))
    assert result["status"] == "passed", result
    assert result["points"] == exercise(name).points


@pytest.mark.parametrize("name", NOTEBOOK_EXERCISES)
def test_the_cell_holds_a_block_inside_the_named_function(name: str) -> None:
    ex = exercise(name)
    rel, qualname = ex.where[0].split(":", 1)
    assert len(ex.where) == 1
    blocks = locate_blocks(exercise_cell(name), rel)
    assert blocks, f"the cell of {name} has no solution block"
    for b in blocks:
        assert b.function is not None and (b.function == qualname or b.function.startswith(qualname + "."))


# -- a realistic bug per part loses that part only -----------------------------------------------------

BUGS: list[tuple[str, str, str, set[str]]] = [
    # (exercise, solution text, buggy text, the parts that must fail)
    ("01.dense_forward", "    y = x @ W + b\n", "    y = x @ W\n", {"forward"}),
    ("01.dense_backward", "dx = dy @ W.T ", "dx = dy @ W.T / len(dy) ", {"dx"}),
    ("01.dense_backward", "db = dy.sum(axis=0)", "db = dy.mean(axis=0)", {"dW and db"}),
    ("01.scale_layer", '(dy * x).sum(axis=0)', '(dy * x).mean(axis=0)', {"forward and backward"}),
    ("02.softplus", "y = np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))", "y = np.log(1 + np.exp(x))",
     {"forward"}),
    ("02.softplus", "np.where(x >= 0, 1 / (1 + e), e / (1 + e))", "np.where(x >= 0, e / (1 + e), 1 / (1 + e))",
     {"backward"}),
    ("03.my_adam", "self.b1 * m + (1 - self.b1) * g", "(1 - self.b1) * m + self.b1 * g", {"moments"}),
    ("03.my_adam", "v / (1 - self.b2 ** self.t)", "v", {"bias correction"}),
    ("04.hand_step", "discriminator_loss(s[:n], s[n:],", "discriminator_loss(s[n:], s[:n],", {"D gradients"}),
    ("04.hand_step", "opt_D.step(grads_D)", "pass", {"D gradients"}),
    ("04.hand_step", 'generator_loss(s_fake, "non_saturating")', 'generator_loss(s_fake, "minimax")',
     {"G gradients"}),
    ("04.arrows", "-(loss(points + e) - loss(points - e)) / (2 * h)", "-(loss(points + e) - loss(points)) / h",
     {"finite differences"}),
    ("08.extragradient", "gx, gy = grad(x_look, y_look)", "gx, gy = grad(x, y)", {"extrapolation step"}),
]


@pytest.mark.parametrize("name, old, new, failing", BUGS, ids=[f"{b[0]}:{b[2][:30]}" for b in BUGS])
def test_a_bug_loses_its_part_only(name: str, old: str, new: str, failing: set[str]) -> None:
    with np.errstate(all="ignore"):
        result = run_check(name, namespace_of(*cells_for(name), replace=(old, new)))
    assert result["status"] == "failed", result
    by_part = {p["part"]: p for p in result["parts"]}
    for part in exercise(name).parts:
        got = by_part[part.name]
        if part.name in failing:
            assert not got["passed"] and got["points"] == 0 and got["message"], got
            assert "\n" not in got["message"]
        else:
            assert got["passed"] and got["points"] == part.points, got


def test_a_wrong_forward_is_named_in_the_backward_check() -> None:
    from numgan.course import check

    ns = namespace_of("01.dense_backward", "01.dense_forward")
    exec("def dense_forward(x, W, b):\n    return x @ W, (x, W)\n", ns)
    assert check("01.dense_forward", ns, quiet=True) is False
    assert check("01.dense_backward", ns, quiet=True) is True      # the cache is still right


# -- unfinished and hard-coded -------------------------------------------------------------------------


@pytest.mark.parametrize("name", NOTEBOOK_EXERCISES)
def test_an_unfinished_cell_is_an_error_with_no_points(name: str) -> None:
    source = exercise_cell(name)
    blocks = locate_blocks(source, name)
    message = f"Exercise {name}: {exercise(name).hint(1)}"
    student = rewrite(source, blocks, [message] * len(blocks), with_solutions=False)
    assert "### BEGIN SOLUTION" not in student
    ns: dict[str, Any] = {"np": np}
    for other in cells_for(name)[1:]:
        ns.update(namespace_of(other))
    exec(compile(student, "<student cell>", "exec"), ns)
    result = run_check(name, ns)
    assert result["status"] == "error" and result["points"] == 0, result
    assert "not done yet" in result["message"] and name in result["message"]


@pytest.mark.parametrize("name", NOTEBOOK_EXERCISES)
def test_a_hard_coded_public_output_fails_on_another_seed(name: str) -> None:
    the_task = task(name)
    public = the_task.inputs(np.random.default_rng(public_seed(name)))
    other = the_task.inputs(np.random.default_rng(123))
    ns = namespace_of(*cells_for(name))
    got = run_probe(name, {k: v.copy() for k, v in other.items()}, ns)
    got.update(expected(name, public))                  # the student's code returns the public answers
    parts = the_task.judge(other, got, expected(name, other))
    assert [p.part for p in parts] == [p.name for p in exercise(name).parts]
    assert not any(p.passed for p in parts), parts


def test_inputs_vary_with_the_seed() -> None:
    for name in NOTEBOOK_EXERCISES:
        a = task(name).inputs(np.random.default_rng(1))
        b = task(name).inputs(np.random.default_rng(2))
        assert any(a[k].shape != b[k].shape or not np.array_equal(a[k], b[k]) for k in a), name


@pytest.mark.parametrize("name", NOTEBOOK_EXERCISES)
def test_hostile_outputs_fail_without_crashing(name: str) -> None:
    inputs = task(name).inputs(np.random.default_rng(5))
    want = expected(name, inputs)
    for got in ({}, {k: "x" for k in want}, {k: np.full((1,), np.nan) for k in want}):
        parts = task(name).judge(inputs, got, want)
        assert len(parts) == len(exercise(name).parts) and not any(p.passed for p in parts)


def test_a_missing_function_says_which_cell_to_run() -> None:
    result = run_check("08.extragradient", {"np": np})
    assert result["status"] == "error"
    assert "extragradient_step is not defined" in result["message"] and "08.extragradient" in result["message"]


def test_a_probe_turns_a_wrong_return_into_a_clear_error() -> None:
    ns = {"np": np, "extragradient_step": lambda x, y, lr, grad: x}
    result = run_check("08.extragradient", ns)
    assert result["status"] == "error" and "pair" in result["message"]


# -- the notebooks: check cells under the exercises, and outputs that say PASS -------------------------


def _check_names(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [n.value.args[0].value for n in tree.body
            if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call) and isinstance(n.value.func, ast.Name)
            and n.value.func.id == "check" and n.value.args and isinstance(n.value.args[0], ast.Constant)]


def _notebook_path(number: str) -> Path:
    (path,) = sorted((ROOT / "notebooks").glob(f"{number}_*.ipynb"))
    return path


@pytest.mark.parametrize("name", NOTEBOOK_EXERCISES)
def test_the_check_cell_is_right_under_the_exercise_cell(name: str) -> None:
    cells = _cells(exercise(name).where[0].split(":", 1)[0])
    k = next(i for i, c in enumerate(cells) if _source(c) == exercise_cell(name))
    assert cells[k + 1]["cell_type"] == "code" and _check_names(_source(cells[k + 1])) == [name]


@pytest.mark.parametrize("name", [ex.name for ex in EXERCISES])
def test_every_exercise_is_checked_in_its_notebook_and_passes_there(name: str) -> None:
    path = _notebook_path(exercise(name).notebook)
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    checks = [c for c in cells if c["cell_type"] == "code" and name in _check_names(_source(c))]
    assert len(checks) == 1, f"{path.name} must check {name} in one cell"
    cell = checks[0]
    k = cells.index(cell)
    assert "from numgan.course import check" in "".join(_source(c) for c in cells[:k] if c["cell_type"] == "code")
    text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))
    assert f"PASS {name} " in text, f"{path.name}: the stored output of check({name!r}) is {text!r}"
    assert not any(o.get("output_type") == "error" for o in cell.get("outputs", []))
    if not exercise(name).in_notebook:                  # one markdown line saying what to write, and where
        before = cells[k - 1]
        assert before["cell_type"] == "markdown" and f"`{name}`" in _source(before)
        assert any(f.split("/")[-1] in _source(before) for f in exercise(name).files)


def test_the_stored_outputs_agree_with_the_narrative() -> None:
    def output(path: Path, start: str) -> str:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        (cell,) = [c for c in cells if c["cell_type"] == "code" and _source(c).startswith(start)]
        return "".join("".join(o.get("text", "")) for o in cell["outputs"])

    nb01 = output(_notebook_path("01"), "scale = Scale(4)")
    assert "WRONG" not in nb01 and nb01.count(" ok") == 2 + 6
    nb03 = output(_notebook_path("03"), "path_mine, _ = run(")
    assert float(nb03.split(":")[-1]) < 1e-12
    nb04 = output(_notebook_path("04"), "D_end = gan.D.astype")
    assert float(nb04.split("=")[-1]) < 1e-9                    # "agree to about 1e-10"
    step = output(_notebook_path("04"), "opt_G = Adam(G.params")
    assert "L_D = 1.6957" in step and "L_G = 0.5431" in step    # the numbers of train_step's record
    identical = output(_notebook_path("04"), "gan = GAN(*make_players()")
    assert "G identical: True   D identical: True" in identical
    eg = output(_notebook_path("08"), "def extragradient(lr")
    factors = re.findall(r"lr = ([\d.]+): distance to \(0, 0\) after 300 steps ([\d.e+-]+); per step x([\d.]+), "
                         r"sqrt\(1 - lr\^2 \+ lr\^4\) = ([\d.]+)", eg)
    assert len(factors) == 4
    for lr, distance, per_step, formula in factors:
        assert per_step == formula                              # "multiplies the distance by exactly ..."
        assert (float(distance) < 1.414) == (float(lr) < 1.0) or float(lr) == 1.0
