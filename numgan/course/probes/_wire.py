"""Arrays to JSON and back, for the grading child's inputs and outputs.

The parent reads what the child printed as hostile data: :func:`decode`
accepts only a dict of names to ``{"dtype", "shape", "data"}`` with a known
dtype, a shape that matches the data and a bounded size, and raises
``ValueError`` for anything else.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

DTYPES = ("float64", "float32", "int64", "bool")
MAX_ENTRIES = 2_000_000          # per message, all arrays together
MAX_NAMES = 256


def encode(arrays: dict[str, Any]) -> dict[str, dict]:
    """``{name: array or number}`` as JSON-ready dicts; float32 goes as float64 (exact)."""
    out = {}
    for name, value in arrays.items():
        a = np.asarray(value)
        if a.dtype.kind == "f":
            kind = "float32" if a.dtype == np.float32 else "float64"
            data = a.astype(np.float64).ravel().tolist()
        elif a.dtype.kind in "iu":
            kind, data = "int64", a.astype(np.int64).ravel().tolist()
        elif a.dtype.kind == "b":
            kind, data = "bool", a.ravel().tolist()
        else:
            raise TypeError(f"output {name!r} must be numbers, got an array of dtype {a.dtype}")
        out[str(name)] = {"dtype": kind, "shape": list(a.shape), "data": data}
    return out


def decode(message: Any) -> dict[str, np.ndarray]:
    """The arrays of :func:`encode`'s message; ``ValueError`` for anything malformed or too large."""
    if not isinstance(message, dict):
        raise ValueError(f"expected a dict of arrays, got {type(message).__name__}")
    if len(message) > MAX_NAMES:
        raise ValueError(f"expected at most {MAX_NAMES} arrays, got {len(message)}")
    arrays, total = {}, 0
    for name, item in message.items():
        if not isinstance(name, str) or not isinstance(item, dict) or set(item) != {"dtype", "shape", "data"}:
            raise ValueError(f"array {name!r}: expected {{'dtype', 'shape', 'data'}}")
        dtype, shape, data = item["dtype"], item["shape"], item["data"]
        if dtype not in DTYPES:
            raise ValueError(f"array {name!r}: dtype must be one of {DTYPES}, got {dtype!r}")
        if (not isinstance(shape, list) or len(shape) > 8
                or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d for d in shape)):
            raise ValueError(f"array {name!r}: shape must be a list of at most 8 sizes >= 0, got {shape!r}")
        size = math.prod(shape)
        total += size
        if total > MAX_ENTRIES:
            raise ValueError(f"the arrays hold more than {MAX_ENTRIES} numbers")
        if not isinstance(data, list) or len(data) != size:
            raise ValueError(f"array {name!r}: expected {size} numbers for shape {tuple(shape)}")
        allowed: tuple[type, ...] = (bool,) if dtype == "bool" else (int,) if dtype == "int64" else (int, float)
        if not all(type(v) in allowed for v in data):
            raise ValueError(f"array {name!r}: expected {dtype} numbers only")
        try:
            arrays[name] = np.array(data, dtype=dtype).reshape(shape)
        except (OverflowError, ValueError) as err:
            raise ValueError(f"array {name!r}: {err}") from None
    return arrays
