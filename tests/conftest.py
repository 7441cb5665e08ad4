import shutil
import signal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def away_from_kink(x: np.ndarray, margin: float = 0.1) -> np.ndarray:
    """Move entries with |x| < margin out to +-margin, so that h-steps never cross 0."""
    return np.where(np.abs(x) < margin, np.copysign(margin, x), x)


@pytest.fixture(scope="module")
def instructor(tmp_path_factory) -> Path:
    """A private copy of the instructor's checkout (package and packaging files), for the course kit's grader."""
    root = tmp_path_factory.mktemp("instructor") / "numgan-course"
    shutil.copytree(ROOT / "numgan", root / "numgan", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(ROOT / "setup.cfg", root / "setup.cfg")
    return root


@pytest.fixture
def python_sigint():
    """Python's own Ctrl-C handler for the test, put back after it.

    A process started with SIGINT ignored (``pytest ... &`` in a script, ``nohup``) keeps it ignored, and
    then :func:`numgan.train.fit` rightly leaves it so: the Ctrl-C tests set the precondition they test.
    Their subprocesses get it from ``preexec_fn=default_sigint`` (below).
    """
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


def default_sigint() -> None:
    """``preexec_fn`` of a subprocess that must see Ctrl-C: SIGINT back to its default, so Python handles it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def passed_parts(result: dict[str, Any]) -> set[str]:
    """The names of the parts a self-check result passed."""
    return {p["part"] for p in result["parts"] if p["passed"]}


def assert_a_bug_loses_its_part_only(monkeypatch: pytest.MonkeyPatch, name: str,
                                     patches: list[tuple[Any, str, Any]], failing: str) -> None:
    """With ``patches`` (owner, attribute, buggy function) applied, exercise ``name`` loses part ``failing``
    (0 points and a one-line message) and keeps every other part."""
    from numgan.course.exercises import exercise
    from numgan.course.selfcheck import run_check
    for owner, attr, fn in patches:
        monkeypatch.setattr(owner, attr, fn)
    result = run_check(name)
    assert result["status"] == "failed", result
    others = {p.name for p in exercise(name).parts} - {failing}
    assert passed_parts(result) == others, result
    failed = next(p for p in result["parts"] if p["part"] == failing)
    assert failed["points"] == 0 and failed["message"] and "\n" not in failed["message"], failed
    assert result["points"] == exercise(name).points - failed["max_points"]
