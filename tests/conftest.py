import shutil
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
