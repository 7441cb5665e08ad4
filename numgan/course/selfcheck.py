"""The self-check: run an exercise's checks on your own code and read PASS or FAIL with the reason.

In a notebook::

    from numgan.course import check
    check("01.dense_backward")     # a notebook exercise: your function in this notebook
    check("dense_backward")        # a package exercise: your numgan/layers.py

On the command line: ``numgan-course check [NAME ...]``.

The self-check runs in your own process on the *public* inputs (the same on
every machine) and compares your outputs with the expected ones: in the
instructor's tree from the references, in a student edition from the file of
expected outputs that ``make-student`` wrote (``public_expected.npz``); it
holds numbers, not code. Grading uses other inputs (see ``docs/course.md``).
Where an exercise's code calls another exercise's (the GAN step calls your
dense layers), a failure says which of those fail too.
"""
from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from .compare import error_parts
from .exercises import Exercise, exercise
from .results import exercise_result

PUBLIC_EXPECTED = Path(__file__).with_name("public_expected.npz")


def expected_outputs(name: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The expected outputs on the public inputs: from the references, or from ``public_expected.npz``."""
    try:
        from .answers import expected
    except ImportError:                      # a student edition: no references, the stored numbers
        return _stored(name)
    return expected(name, inputs)


def _stored(name: str) -> dict[str, np.ndarray]:
    if not PUBLIC_EXPECTED.is_file():
        raise FileNotFoundError(f"{PUBLIC_EXPECTED} is missing: the student edition holds it; ask your instructor")
    prefix = name + "/"
    with np.load(PUBLIC_EXPECTED, allow_pickle=False) as data:
        out = {k[len(prefix):]: data[k] for k in data.files if k.startswith(prefix)}
    if not out:
        raise KeyError(f"{PUBLIC_EXPECTED} holds no expected outputs for {name!r}")
    return out


def _where(err: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(err.__traceback__) if "numgan/course/" not in f.filename.replace("\\", "/")]
    if not frames:
        return ""
    f = frames[-1]
    return f" (at {Path(f.filename).name}:{f.lineno}, in {f.name})"


def run_check(name: str, namespace: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check exercise ``name`` in this process on the public inputs; the result as a dict (``results``)."""
    from .probes import run_probe
    from .tasks import public_seed, task

    ex = exercise(name)
    start = time.perf_counter()
    the_task = task(name)
    inputs = the_task.inputs(np.random.default_rng(public_seed(name)))
    try:
        got = run_probe(name, {k: v.copy() for k, v in inputs.items()}, namespace)
    except NotImplementedError as err:
        text = str(err) or "not implemented"
        return exercise_result(ex, error_parts(ex.parts, f"not done yet: {text}"), "error", f"not done yet: {text}",
                               seconds=round(time.perf_counter() - start, 3))
    except Exception as err:  # noqa: BLE001 - the student's code may raise anything
        message = f"{type(err).__name__}: {err}{_where(err)}"
        return exercise_result(ex, error_parts(ex.parts, message), "error", message,
                               seconds=round(time.perf_counter() - start, 3))
    parts = the_task.judge(inputs, got, expected_outputs(name, inputs))
    return exercise_result(ex, parts, seconds=round(time.perf_counter() - start, 3))


def _caller_globals() -> dict[str, Any]:
    frame = sys._getframe(2)
    return frame.f_globals


def format_result(result: dict[str, Any], reports: bool = True) -> str:
    """``PASS name`` or ``FAIL name`` with each failed part's reason (and gradient report)."""
    name, points, top = result["exercise"], result["points"], result["max_points"]
    if result["status"] == "passed":
        return f"PASS {name} ({points}/{top} points on the public inputs)"
    lines = [f"FAIL {name} ({points}/{top} points on the public inputs)"]
    if result["status"] != "failed":
        lines.append(f"  {result['message']}")
    else:
        for p in result["parts"]:
            mark = "ok  " if p["passed"] else "FAIL"
            lines.append(f"  {mark} {p['part']} ({p['points']}/{p['max_points']})"
                         + ("" if p["passed"] else f": {p['message']}"))
            if reports and not p["passed"] and p.get("report"):
                lines += ["       " + line for line in p["report"].splitlines()]
    for note in result.get("notes", []):
        lines.append(f"  {note}")
    return "\n".join(lines)


def _dependency_note(ex: Exercise, namespace: dict[str, Any] | None) -> str | None:
    failing = []
    for other in ex.uses:
        if run_check(other, namespace)["status"] != "passed":
            failing.append(other)
    if not failing:
        return None
    return (f"{ex.name} uses your {', '.join(failing)}, which fail{'s' if len(failing) == 1 else ''}: "
            f"fix {'it' if len(failing) == 1 else 'them'} first")


def check(name: str, namespace: dict[str, Any] | None = None, *, part: str | None = None,
          quiet: bool = False) -> bool:
    """Check exercise ``name`` on the public inputs, print PASS or FAIL (with why), return whether it passed.

    For a notebook exercise (``"01.dense_backward"``) the function is looked up
    in ``namespace``, by default the globals of the caller (the notebook).
    With ``part`` (one of the exercise's parts), return whether that part passed
    (nbgrader's test cells give each part its points this way).
    """
    if part is not None and part not in [p.name for p in exercise(name).parts]:
        raise ValueError(f"part must be one of {[p.name for p in exercise(name).parts]}, got {part!r}")
    ex = exercise(name)
    if namespace is None and ex.in_notebook:
        namespace = _caller_globals()
    result = run_check(name, namespace)
    if result["status"] != "passed" and ex.uses:
        note = _dependency_note(ex, namespace)
        if note:
            result.setdefault("notes", []).append(note)
    if not quiet:
        print(format_result(result))
    if part is not None:
        return any(p["part"] == part and p["passed"] for p in result["parts"])
    return result["status"] == "passed"
