"""Standardisation: the per-feature affine map between the data's own units and the units a GAN trains in.

A :class:`Standardiser` holds two vectors of ``d`` numbers, ``shift`` and ``scale``
(``scale > 0``), and maps rows ``x`` ``(n, d)`` both ways::

    forward:  y = (x - shift) / scale        data units -> training units
    inverse:  x = y * scale + shift          training units -> data units (what samples come back in)

Two ways to choose them:

* :meth:`Standardiser.of_points`: ``shift`` the mean and ``scale`` the standard deviation of
  each feature (column) of the data, so every feature trains with mean 0 and std 1
  (a constant feature keeps ``scale = 1``: it is only shifted);
* :meth:`Standardiser.of_range`: one pixel range ``[low, high]`` for all features, sent to
  ``[-1, 1]`` (``shift = (low + high) / 2``, ``scale = (high - low) / 2``), the range of the
  image recipes' tanh output (``numgan.data.images``: ``x / max * 2 - 1``).

:meth:`Standardiser.identity` changes nothing: a checkpoint without a stored
mapping loads as the identity. Everything is computed and stored in float64;
:meth:`forward` and :meth:`inverse` return the dtype they are asked for (float32 by
default, the training dtype).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .._checks import check_float_dtype


def _vector(value: object, name: str) -> np.ndarray:
    """``value`` as a read-only 1-D float64 array of finite numbers (``ValueError`` naming ``name`` if not)."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 1-D array of numbers, got {type(value).__name__}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {int(np.sum(~np.isfinite(arr)))} NaN or inf entries")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Standardiser:
    """The affine map ``y = (x - shift) / scale`` per feature, and back; ``shift`` and ``scale`` have shape ``(d,)``."""

    shift: np.ndarray
    scale: np.ndarray

    def __post_init__(self) -> None:
        shift, scale = _vector(self.shift, "shift"), _vector(self.scale, "scale")
        if shift.shape != scale.shape:
            raise ValueError(f"shift and scale must have the same shape (d,), got {shift.shape} and {scale.shape}")
        if not np.all(scale > 0):
            raise ValueError(f"scale must be positive, got minimum {float(scale.min())!r}")
        object.__setattr__(self, "shift", shift)
        object.__setattr__(self, "scale", scale)

    @property
    def dim(self) -> int:
        """The number of features ``d``."""
        return int(self.shift.shape[0])

    @property
    def is_identity(self) -> bool:
        """True when the map changes nothing (shift 0, scale 1)."""
        return bool(np.all(self.shift == 0) and np.all(self.scale == 1))

    @classmethod
    def identity(cls, dim: int) -> Standardiser:
        """The map that changes nothing on ``dim`` features (what a checkpoint without a mapping holds)."""
        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
            raise ValueError(f"dim must be a positive integer, got {dim!r}")
        return cls(np.zeros(dim), np.ones(dim))

    @classmethod
    def of_points(cls, x: np.ndarray) -> Standardiser:
        """Per-feature mean and standard deviation (``ddof=0``) of ``x`` ``(N, d)``, computed in float64.

        A feature whose std is 0 (or not above ``1e-12`` of its magnitude) gets ``scale = 1``.
        """
        if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[0] < 2:
            raise ValueError(f"x must be an array of shape (N, d) with N >= 2, got "
                             f"{getattr(x, 'shape', type(x).__name__)}")
        x64 = x.astype(np.float64)
        if not np.all(np.isfinite(x64)):
            raise ValueError("x must be finite to be standardised, got NaN or inf")
        mean = x64.mean(axis=0)
        std = x64.std(axis=0)
        tiny = std <= 1e-12 * np.maximum(np.abs(mean), 1.0)
        return cls(mean, np.where(tiny, 1.0, std))

    @classmethod
    def of_range(cls, low: float, high: float, dim: int) -> Standardiser:
        """The map sending ``[low, high]`` to ``[-1, 1]`` on each of ``dim`` features (images: one pixel range)."""
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"the range must be finite numbers low < high, got [{low!r}, {high!r}]")
        base = cls.identity(dim)
        return cls(base.shift + (low + high) / 2, base.scale * ((high - low) / 2))

    def _check(self, x: np.ndarray, name: str) -> None:
        if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"{name} must be an array of shape (n, {self.dim}), got "
                             f"{getattr(x, 'shape', type(x).__name__)}")

    def forward(self, x: np.ndarray, dtype: npt.DTypeLike = np.float32) -> np.ndarray:
        """Data units to training units: ``(x - shift) / scale``, ``(n, d)`` of ``dtype``."""
        self._check(x, "x")
        return ((x.astype(np.float64) - self.shift) / self.scale).astype(check_float_dtype(dtype))

    def inverse(self, y: np.ndarray, dtype: npt.DTypeLike = np.float32) -> np.ndarray:
        """Training units (e.g. the generator's samples) to data units: ``y * scale + shift``, of ``dtype``."""
        self._check(y, "y")
        return (y.astype(np.float64) * self.scale + self.shift).astype(check_float_dtype(dtype))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Standardiser) and np.array_equal(self.shift, other.shift)
                and np.array_equal(self.scale, other.scale))

    def __hash__(self) -> int:
        return hash((self.shift.tobytes(), self.scale.tobytes()))

    def __repr__(self) -> str:
        return f"Standardiser(shift={self.shift.tolist()!r:.60}, scale={self.scale.tolist()!r:.60}, d={self.dim})"
