"""Argument checks shared by the package: numbers, choices, arrays, labels, dtypes, paths, random generators.

Every bad argument raises a ``ValueError`` or ``TypeError`` whose message names
the argument, what was expected and what was received, so that a learner can
fix the call without reading the source.
"""
from __future__ import annotations

import os
from pathlib import Path

from numbers import Real
from typing import Iterable, TypeGuard

import numpy as np
import numpy.typing as npt


def is_real_number(value: object) -> TypeGuard[float]:
    """Whether ``value`` is a real number (a ``numbers.Real``: int, float, numpy scalars...) but not a bool.

    For the type checker a real number is a ``float``, as in the numeric tower of PEP 484.
    """
    return not isinstance(value, bool) and isinstance(value, Real)


def check_choice(value: object, name: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError``."""
    choices = list(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_positive(value: object, name: str) -> float:
    """Return ``value`` as a float if it is a finite number > 0."""
    if not is_real_number(value):
        raise TypeError(f"{name} must be a positive number, got {type(value).__name__} {value!r}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def check_in_range(value: object, name: str, low: float, high: float,
                   low_open: bool = False, high_open: bool = False) -> float:
    """Return ``value`` as a float if it lies in the interval from low to high."""
    if not is_real_number(value):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if not np.isfinite(value) or too_low or too_high:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name} must be in {left}{low}, {high}{right}, got {value!r}")
    return float(value)


def check_int(value: object, name: str, minimum: int = 1) -> int:
    """Return ``value`` if it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_matrix(x: object, name: str, width: int | None = None, dtype: npt.DTypeLike | None = None) -> np.ndarray:
    """Check that ``x`` is a 2-D floating array (batch, width) and return it.

    ``width`` is the number of columns expected; ``dtype`` the floating dtype
    expected (numgan never mixes float32 and float64 silently).
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D with shape (batch, features), got shape {x.shape}")
    if width is not None and x.shape[1] != width:
        raise ValueError(f"{name} must have {width} columns, got shape {x.shape}")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(
            f"{name} must have dtype {np.dtype(dtype).name} like the network, got {x.dtype.name}; "
            f"convert it with {name}.astype(np.{np.dtype(dtype).name})")
    return x


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise ``ValueError`` unless two arrays have the same shape."""
    if a.shape != b.shape:
        raise ValueError(f"{name_b} must have the shape of {name_a} {a.shape}, got {b.shape}")


def as_float_array(x: object, name: str) -> np.ndarray:
    """Return ``x`` as a floating numpy array (no copy when it is one already)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{name} must be a floating array (float32 or float64), got dtype {x.dtype.name}")
    return x


def check_labels(labels: object, n: int, n_classes: int | None = None, name: str = "labels") -> np.ndarray:
    """``labels`` as an int64 vector of length ``n`` with values in ``[0, n_classes)``.

    Raises ``TypeError`` for a non-array or non-integer dtype and ``ValueError``
    for a wrong shape or a value out of range, naming ``name``.
    """
    if not isinstance(labels, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of integers, got {type(labels).__name__}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{name} must be integers, got dtype {labels.dtype.name}")
    if labels.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one per row, got {labels.shape}")
    if labels.size and labels.min() < 0:
        raise ValueError(f"{name} must be >= 0, got minimum {labels.min()}")
    if n_classes is not None and labels.size and labels.max() >= n_classes:
        raise ValueError(f"{name} must lie in [0, {n_classes}), got maximum {labels.max()}")
    return labels.astype(np.int64, copy=False)


def check_float_dtype(dtype: npt.DTypeLike | None, name: str = "dtype") -> np.dtype:
    """``dtype`` as a floating ``np.dtype`` (float32 or float64), else ``TypeError``."""
    try:
        dt = np.dtype(dtype) if dtype is not None else None
    except TypeError:
        dt = None
    if dt is None or not np.issubdtype(dt, np.floating):
        got = dt.name if dt is not None else repr(dtype)
        raise TypeError(f"{name} must be a floating dtype (float32 or float64), got {got}")
    return dt


def check_rng(rng: object, name: str = "rng") -> np.random.Generator:
    """A ``numpy.random.Generator`` from ``rng`` (a Generator, returned as is, an int seed, or None).

    Anything else (a float, a legacy ``RandomState``, a string) raises ``TypeError``.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        if rng is not None and rng < 0:
            raise ValueError(f"{name} as a seed must be an integer >= 0, got {rng!r}")
        return np.random.default_rng(rng)
    raise TypeError(f"{name} must be a numpy.random.Generator, an int seed or None, "
                    f"got {type(rng).__name__} {rng!r}")


def check_path(path: object, name: str = "path") -> Path:
    """``path`` (a ``str`` or ``os.PathLike``) as a ``Path``, else ``TypeError`` naming ``name``."""
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike, got {type(path).__name__} {path!r}")
    return Path(path)
