"""``FlatParams``: named arrays that are views into one flat buffer.

A network's parameters (``"0.W"``, ``"0.b"``, ``"2.W"``, ...) are stored one
after the other in a single 1-D array, and each name is a view of its slice
with the parameter's shape::

    flat:   [ W0 (3*5 numbers) | b0 (5) | W2 (5*2) | b2 (2) ]
    p["0.W"] is flat[0:15].reshape(3, 5), p["0.b"] is flat[15:20], ...

The gradients that a backward pass returns and the optimizer's moments use
the same layout, so "every parameter at once" is one operation on ``.flat``::

    grads.flat += penalty_grads.flat          # add the penalty's gradient to every array
    params.flat -= lr * grads.flat            # a gradient-descent step on every array

Writing through a name changes ``.flat`` and the other way round: they share
memory. Which buffer a name belongs to is known by construction, never found
by comparing memory addresses (``docs/backprop.md#the-flat-parameter-buffer``).
"""
from __future__ import annotations

from typing import Iterator, Mapping

import numpy as np
import numpy.typing as npt

Shape = tuple[int, ...]


class FlatParams(Mapping[str, np.ndarray]):
    """A read-only mapping ``name -> array view`` over one 1-D array ``flat``.

    ``shapes`` gives the names in order and their shapes; ``flat`` must hold
    exactly their total number of elements. The mapping cannot be rebound
    (``p["0.W"] = ...`` is an error); write into the views instead
    (``p["0.W"][...] = ...``).
    """

    def __init__(self, flat: np.ndarray, shapes: Mapping[str, Shape]) -> None:
        if not isinstance(flat, np.ndarray) or flat.ndim != 1 or not flat.flags.c_contiguous:
            raise TypeError(f"flat must be a contiguous 1-D numpy array, got "
                            f"{getattr(flat, 'shape', type(flat).__name__)}")
        self.shapes: dict[str, Shape] = {name: tuple(int(n) for n in shape) for name, shape in shapes.items()}
        size = sum(int(np.prod(shape)) for shape in self.shapes.values())
        if flat.size != size:
            raise ValueError(f"flat must hold {size} numbers for shapes {self.shapes}, got {flat.size}")
        self.flat = flat
        self._views: dict[str, np.ndarray] = {}
        start = 0
        for name, shape in self.shapes.items():
            n = int(np.prod(shape))
            self._views[name] = flat[start:start + n].reshape(shape)
            start += n

    @classmethod
    def zeros(cls, shapes: Mapping[str, Shape], dtype: npt.DTypeLike = np.float32) -> "FlatParams":
        """A new buffer of zeros laid out as ``shapes``."""
        return cls(np.zeros(sum(int(np.prod(s)) for s in shapes.values()), dtype=dtype), shapes)

    def like(self, flat: np.ndarray | None = None) -> "FlatParams":
        """The same names and shapes over ``flat`` (default: a new uninitialised buffer of this dtype)."""
        return FlatParams(np.empty_like(self.flat) if flat is None else flat, self.shapes)

    def zeros_like(self) -> "FlatParams":
        """The same names and shapes over a new buffer of zeros."""
        return FlatParams(np.zeros_like(self.flat), self.shapes)

    def copy(self) -> "FlatParams":
        """An independent copy (a new buffer with the same numbers)."""
        return FlatParams(self.flat.copy(), self.shapes)

    def same_layout(self, other: object) -> bool:
        """Whether ``other`` is a ``FlatParams`` with the same names, in the same order, and shapes."""
        return isinstance(other, FlatParams) and list(self.shapes.items()) == list(other.shapes.items())

    @property
    def dtype(self) -> np.dtype:
        return self.flat.dtype

    def __getitem__(self, name: str) -> np.ndarray:
        return self._views[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._views)

    def __len__(self) -> int:
        return len(self._views)

    def __repr__(self) -> str:
        inner = ", ".join(f"{name!r}: {shape}" for name, shape in self.shapes.items())
        return f"FlatParams({{{inner}}}, dtype={self.flat.dtype.name}, size={self.flat.size})"
