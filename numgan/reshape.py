"""``Reshape`` and ``Flatten``: layers that only change how each sample's numbers are laid out.

They move no number, so their backward is the inverse reshape of ``dy``::

    Reshape((1, 28, 28)):  (N, 784) -> (N, 1, 28, 28),    dx = dy.reshape(N, 784)
    Flatten():             (N, C, H, W) -> (N, C*H*W),     dx = dy.reshape(N, C, H, W)

With them a convolutional network keeps the flat ``(N, features)`` inputs and
outputs of the rest of numgan: a discriminator starts with ``Reshape`` and a
generator ends with ``Flatten``. Both follow the layer contract of
:mod:`numgan.layers` (no parameters; the cache is the input's shape).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ._checks import as_float_array, check_int
from .layers import Layer, _check_dy


class Reshape(Layer):
    """``(N, ...) -> (N, *shape)``: each sample reshaped to ``shape`` (the batch axis is kept).

    ``Reshape((1, 28, 28))`` turns ``(N, 784)`` into ``(N, 1, 28, 28)``.
    Backward: ``dx = dy.reshape(x.shape)``.
    """

    def __init__(self, shape: Sequence[int]) -> None:
        super().__init__()
        if isinstance(shape, (str, bytes)) or not isinstance(shape, (tuple, list)) or not shape:
            raise TypeError(f"shape must be a non-empty tuple of positive integers (the shape of one sample), "
                            f"got {shape!r}")
        self.shape = tuple(check_int(n, f"shape[{k}]") for k, n in enumerate(shape))

    @property
    def size(self) -> int:
        """Numbers per sample: the product of ``shape``."""
        return math.prod(self.shape)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """``shape``, for a per-sample input of the same number of elements."""
        if math.prod(input_shape) != self.size:
            raise ValueError(f"{self!r} takes samples of {self.size} numbers, got samples of shape {input_shape}")
        return self.shape

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        """``x.reshape(N, *shape)``; the cache is ``x.shape``."""
        as_float_array(x, "x")
        if x.ndim < 1 or math.prod(x.shape[1:]) != self.size:
            raise ValueError(f"x must hold {self.size} numbers per sample (to reshape each into {self.shape}), "
                             f"got shape {x.shape}")
        return x.reshape(x.shape[0], *self.shape), x.shape

    def backward(self, dy: np.ndarray, cache: Any, *, param_grads: bool = True
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        _check_dy(dy, (cache[0], *self.shape))
        return dy.reshape(cache), {}

    def __repr__(self) -> str:
        return f"Reshape({self.shape})"


class Flatten(Layer):
    """``(N, d1, d2, ...) -> (N, d1 * d2 * ...)``; backward ``dx = dy.reshape(x.shape)``."""

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """``(prod(input_shape),)``."""
        return (math.prod(input_shape),)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        """``x.reshape(N, -1)``; the cache is ``x.shape``."""
        as_float_array(x, "x")
        if x.ndim < 1:
            raise ValueError(f"x must have a batch axis, got shape {x.shape}")
        return x.reshape(x.shape[0], math.prod(x.shape[1:])), x.shape

    def backward(self, dy: np.ndarray, cache: Any, *, param_grads: bool = True
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        _check_dy(dy, (cache[0], math.prod(cache[1:])))
        return dy.reshape(cache), {}
