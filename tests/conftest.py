import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def away_from_kink(x: np.ndarray, margin: float = 0.1) -> np.ndarray:
    """Move entries with |x| < margin out to +-margin, so that h-steps never cross 0."""
    return np.where(np.abs(x) < margin, np.copysign(margin, x), x)
