"""The course kit: exercises with checks, a student edition without answers, and a grader.

* ``check("dense_backward")`` (in a notebook) or ``numgan-course check``: the
  self-check on the public inputs, PASS or FAIL with the reason
  (:mod:`numgan.course.selfcheck`).
* ``numgan-course hint NAME --level 1|2|3``: the contract, the key idea, the formula.
* ``numgan-course make-student OUT``: the student edition (:mod:`numgan.course.edition`).
* ``numgan-course grade SUBMISSION`` and ``grade-all FOLDER --csv grades.csv``: grading
  in a separate, limited process that only reports outputs; the verdict is
  decided in the grader's process (:mod:`numgan.course.grading`,
  :mod:`numgan.course.sandbox`, :mod:`numgan.course.gradebook`).

The layout, one job per module: ``exercises`` (the table), ``markers`` (the
``### BEGIN/END SOLUTION`` blocks), ``probes`` (run the student's code),
``tasks`` (inputs and judgements), ``answers`` (references, instructor only),
``compare`` and ``results`` (verdicts), ``selfcheck``, ``edition``,
``notebooks`` (notebook cells for the edition and nbgrader), ``sandbox``,
``grading``, ``gradebook``, ``cli``. See ``docs/course.md``.
"""
from __future__ import annotations

from .exercises import EXERCISES, EXERCISES_BY_NAME, Exercise, Part
from .selfcheck import check

__all__ = ["EXERCISES", "EXERCISES_BY_NAME", "Exercise", "Part", "check", "main"]


def main(argv: list[str] | None = None) -> int:
    """The ``numgan-course`` command line (:mod:`numgan.course.cli`)."""
    from .cli import main as cli_main

    return cli_main(argv)
