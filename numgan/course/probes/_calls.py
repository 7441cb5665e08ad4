"""Small helpers the probes share: unpacking what the student's code returned, with clear errors."""
from __future__ import annotations

from typing import Any

import numpy as np


def pair(result: Any, what: str) -> tuple[Any, Any]:
    """``result`` as a 2-tuple, or ``TypeError`` naming what was expected."""
    if not isinstance(result, tuple) or len(result) != 2:
        raise TypeError(f"{what} must return a pair (2-tuple), got {_kind(result)}")
    return result


def as_array(value: Any, what: str) -> np.ndarray:
    """``value`` when it is an array (a NumPy scalar becomes a 0-d array), else ``TypeError``."""
    if isinstance(value, np.generic):
        return np.asarray(value)
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{what} must be a numpy array, got {_kind(value)}")
    return value


def as_number(value: Any, what: str) -> np.ndarray:
    """A Python or NumPy real number as a 0-d float64 array, else ``TypeError``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            and not (isinstance(value, np.ndarray) and value.ndim == 0):
        raise TypeError(f"{what} must be one number, got {_kind(value)}")
    return np.asarray(float(value))


def _kind(value: Any) -> str:
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return type(value).__name__


def student(namespace: dict[str, Any] | None, name: str, cell: str) -> Any:
    """The notebook's ``name`` (a function or class the student defined), or ``NameError`` saying where."""
    if namespace is None or name not in namespace:
        raise NameError(f"{name} is not defined: run the cell of {cell} first")
    return namespace[name]
