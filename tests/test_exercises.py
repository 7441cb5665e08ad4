"""One test per package exercise of the course: your code on the public inputs.

In the student edition, run one exercise's test with its marker::

    pytest -m dense_backward tests/test_exercises.py

(the markers are registered in ``setup.cfg``). Each test is the self-check of
``numgan-course check NAME``: it fails with the same message, part by part.
Notebook exercises are checked inside their notebooks (``check("01.scale_layer")``).
"""
from __future__ import annotations

import pytest

from numgan.course.exercises import EXERCISES
from numgan.course.selfcheck import format_result, run_check

PACKAGE = [ex for ex in EXERCISES if not ex.in_notebook]


@pytest.mark.parametrize("name", [pytest.param(ex.name, marks=getattr(pytest.mark, ex.name), id=ex.name)
                                  for ex in PACKAGE])
def test_exercise(name: str) -> None:
    result = run_check(name)
    assert result["status"] == "passed", format_result(result)
