"""Tasks: for each exercise, the inputs it is checked on and how its outputs are judged.

Each group module (``layers``, ``losses``, ...) holds ``TASKS``: exercise name
-> :class:`Task`. ``inputs(rng)`` draws the exercise's inputs (a dict of
arrays) from a ``numpy.random.Generator``: the public seed in a self-check,
a seed the student never sees in grading, so that hard-coded outputs fail.
``judge(inputs, got, expected)`` returns one ``PartResult`` per part of the
exercise, in the order of ``Exercise.parts``, from the outputs ``got`` of the
student's code (:mod:`numgan.course.probes`) and the ``expected`` outputs of
the references (:mod:`numgan.course.answers`, instructor only).
"""
from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..compare import PartResult


@dataclass(frozen=True)
class Task:
    """The inputs and the judgement of one exercise."""

    inputs: Callable[[np.random.Generator], dict[str, np.ndarray]]
    judge: Callable[[dict[str, np.ndarray], dict[str, Any], dict[str, np.ndarray]], list[PartResult]]


def public_seed(name: str) -> int:
    """The seed of the inputs a self-check uses (the same on every machine)."""
    return zlib.crc32(name.encode())


def secret_seed(name: str, submission: str, secret: str = "") -> int:
    """The seed of the inputs a submission is graded on: from the instructor's secret and the submission's name."""
    text = f"{secret}\x00{submission}\x00{name}"
    digest = hashlib.sha256(text.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "little")


def _all_tasks() -> dict[str, Task]:
    from . import classifier, conv, gan, layers, losses, notebooks, optim, penalties

    tasks: dict[str, Task] = {}
    for group in (layers, conv, losses, optim, gan, penalties, classifier, notebooks):
        tasks.update(group.TASKS)
    return tasks


def task(name: str) -> Task:
    """The task of exercise ``name``."""
    tasks = _all_tasks()
    if name not in tasks:
        raise KeyError(f"no task for exercise {name!r}")
    return tasks[name]
