"""The grader's references: the expected outputs of every exercise (instructor only).

Not in the student edition (``numgan-course make-student`` leaves this folder
out, and a test checks it). Each group module holds ``ANSWERS``: exercise name
-> ``expected(inputs) -> outputs``. Values come from the formulas (or from the
instructor's own package, which is the solution), gradients from the
grader's own centred finite differences of the reference forward, so that
they do not rest on any backward pass that a student writes.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

Answer = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


def _all_answers() -> dict[str, Answer]:
    from . import classifier, conv, gan, layers, losses, notebooks, optim, penalties

    answers: dict[str, Answer] = {}
    for group in (layers, conv, losses, optim, gan, penalties, classifier, notebooks):
        answers.update(group.ANSWERS)
    return answers


def expected(name: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The reference outputs of exercise ``name`` on ``inputs``."""
    answers = _all_answers()
    if name not in answers:
        raise KeyError(f"no reference for exercise {name!r}")
    return {k: np.asarray(v) for k, v in answers[name](inputs).items()}
