"""Probes: the code that runs a student's exercise on given inputs and returns its outputs.

A probe is the only course code that calls the student's code. It returns
arrays and numbers, never a verdict: the verdict is decided elsewhere, by
comparing these outputs with the expected ones (``numgan.course.compare``).

The grader copies this folder, as the top-level package ``numgan_probes``, into
the grading child process, ahead of the submission on ``sys.path``; so the
modules here import only the standard library and NumPy at the top (and
``numgan`` inside the probe functions, where it is the student's package), and
each other only by relative imports.

Each group module (``layers``, ``losses``, ...) holds ``PROBES``, a dict from
exercise name to ``probe(inputs, namespace) -> outputs``: ``inputs`` and
``outputs`` map names to NumPy arrays; ``namespace`` is the notebook's
globals for a notebook exercise (the student's function is looked up there)
and ``None`` for a package exercise.
"""
from __future__ import annotations

from typing import Any, Callable

from . import classifier, conv, gan, layers, losses, notebooks, optim, penalties

Probe = Callable[[dict, "dict[str, Any] | None"], dict]

PROBES: dict[str, Probe] = {}
for _group in (layers, conv, losses, optim, gan, penalties, classifier, notebooks):
    PROBES.update(_group.PROBES)


def run_probe(name: str, inputs: dict, namespace: dict[str, Any] | None = None) -> dict:
    """The outputs of the student's code for exercise ``name`` on ``inputs``."""
    try:
        probe = PROBES[name]
    except KeyError:
        raise KeyError(f"no probe for exercise {name!r}") from None
    return probe(inputs, namespace)
