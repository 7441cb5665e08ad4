import shutil
import signal
from pathlib import Path

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
