"""Verdicts from outputs: the comparison of what a student's code returned with what it should.

Used the same way by the grader (expected outputs from the instructor's
references, in the grader's own process) and by the self-check (expected
outputs from the references, or in a student edition from the file of expected
outputs for the public inputs). ``got`` may be anything the student's code
produced, or, in grading, anything the child printed: every helper here
treats a missing key, a wrong shape or a non-finite number as a wrong answer,
never as a crash.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np


@dataclass
class PartResult:
    """The verdict on one part: passed or not, a one-line message, a gradient-check report when it applies."""

    part: str
    passed: bool
    message: str = ""
    report: str | None = None


class Wrong(Exception):
    """Raised by the helpers below; caught by :func:`part` and turned into a failed ``PartResult``."""

    def __init__(self, message: str, report: str | None = None) -> None:
        super().__init__(message)
        self.report = report


def array(got: Mapping[str, Any], key: str, what: str) -> np.ndarray:
    """``got[key]`` as an array, or ``Wrong`` saying that ``what`` is missing."""
    if key not in got:
        raise Wrong(f"{what} is missing")
    value = got[key]
    if not isinstance(value, np.ndarray):
        raise Wrong(f"{what} must be a numpy array, got {type(value).__name__}")
    return value


def close(got: Mapping[str, Any], key: str, expected: np.ndarray, what: str, *, rtol: float = 1e-9,
          atol: float = 1e-12, dtype: Any = None) -> None:
    """``got[key]`` has ``expected``'s shape (and ``dtype``) and values within ``atol + rtol |expected|``."""
    value = array(got, key, what)
    expected = np.asarray(expected)
    if value.shape != expected.shape:
        raise Wrong(f"{what} must have shape {expected.shape}, got {value.shape}")
    if dtype is not None and value.dtype != np.dtype(dtype):
        raise Wrong(f"{what} must have dtype {np.dtype(dtype).name}, got {value.dtype.name}")
    if value.dtype.kind not in "fiub":
        raise Wrong(f"{what} must hold numbers, got dtype {value.dtype}")
    with np.errstate(invalid="ignore", over="ignore"):
        a, e = value.astype(np.float64), expected.astype(np.float64)
        diff = np.abs(a - e)
        bad = ~(diff <= atol + rtol * np.abs(e))
    if bad.any():
        worst = np.unravel_index(int(np.argmax(np.where(bad, np.nan_to_num(diff, nan=np.inf), -1.0))), diff.shape)
        at = f" at index {tuple(int(i) for i in worst)}" if value.ndim else ""
        raise Wrong(f"{what} is wrong at {int(bad.sum())} of {bad.size} entries; e.g.{at}: yours "
                    f"{float(a[worst]):.8g}, expected {float(e[worst]):.8g}")


def gradients(got: Mapping[str, Any], expected: Mapping[str, np.ndarray], what: str, tol: float = 1e-6,
              names: Mapping[str, str] | None = None) -> None:
    """Each ``got[key]`` against ``expected[key]`` (from finite differences) as a gradient check.

    The relative error is ``max|a - b| / max(1e-8, max|a| + max|b|)``, as in
    ``numgan.gradcheck.rel_error``; ``Wrong`` carries a report of every gradient.
    """
    rows, wrong = [], []
    for key, num in expected.items():
        label = (names or {}).get(key, key)
        value = array(got, key, f"{what}: the gradient {label}")
        if value.shape != num.shape:
            raise Wrong(f"{what}: the gradient {label} must have shape {num.shape}, got {value.shape}")
        with np.errstate(invalid="ignore", over="ignore"):
            a, b = value.astype(np.float64), num.astype(np.float64)
            diff = np.abs(a - b)
            worst: tuple[int, ...] = ()
            if a.size == 0:
                err = 0.0
            else:
                scale = max(1e-8, float(np.abs(a).max() + np.abs(b).max()))
                err = float(diff.max() / scale) if np.isfinite(diff).all() else float("inf")
                worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.nan_to_num(diff, nan=np.inf))),
                                                               diff.shape))
        ok = err < tol
        if not ok:
            wrong.append(label)
        rows.append(f"{label:<14} {err:>10.2e}  {str(worst):<12} "
                    f"{float(a[worst]) if a.size else 0.0:>12.5g} {float(b[worst]) if b.size else 0.0:>12.5g}  "
                    f"{'ok' if ok else 'WRONG'}")
    report = "\n".join([f"{'gradient':<14} {'rel. error':>10}  {'worst at':<12} {'yours':>12} "
                        f"{'numerical':>12}  verdict"] + rows)
    if wrong:
        raise Wrong(f"{what}: gradient{'s' if len(wrong) > 1 else ''} {', '.join(wrong)} "
                    f"{'are' if len(wrong) > 1 else 'is'} off (relative error above {tol:g})", report)


def unchanged(got: Mapping[str, Any], key: str, original: np.ndarray, what: str) -> None:
    """``got[key]`` (the input after the call) equals ``original``: the code did not change its input."""
    value = array(got, key, what)
    if value.shape != original.shape or not np.array_equal(value, original):
        raise Wrong(f"{what} was changed in place: compute the result in a new array")


def part(name: str, check: Any) -> PartResult:
    """Run ``check()`` (which raises ``Wrong``) and return the part's verdict."""
    try:
        check()
    except Wrong as err:
        return PartResult(name, False, str(err), err.report)
    return PartResult(name, True)


def error_parts(parts: Any, message: str) -> list[PartResult]:
    """Every part failed with the same message (the code raised, or nothing came back)."""
    return [PartResult(p.name, False, message) for p in parts]
