"""Layers: a dense (affine) layer and elementwise activations.

Every layer follows one contract (the CS231n contract, made explicit)::

    y, cache = layer.forward(x)
    dx, grads = layer.backward(dy, cache, param_grads=True)

* ``x`` has shape ``(N, D_in)`` and ``y`` shape ``(N, D_out)``; ``dy = dL/dy`` has
  the shape of ``y`` and ``dx = dL/dx`` the shape of ``x``.
* ``cache`` holds what backward needs; it is returned, never stored on the layer,
  so the same layer can run forward on real and on fake data before either
  backward without one overwriting the other.
* ``grads`` maps each name of ``layer.params`` to ``dL/dparam`` (same shape).
  With ``param_grads=False`` only ``dx`` is computed and ``grads`` is ``{}``
  (a GAN's generator step needs ``dx`` through a frozen discriminator).
* Nothing is updated inside ``backward``: an optimizer changes the parameters.

The derivations are in ``docs/backprop.md``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import as_float_array, check_in_range, check_int, check_matrix
from .init import init_weight, zeros_bias


class Layer:
    """Base class: a layer with parameters ``params`` (a dict of arrays).

    Elementwise activations ``y = f(x)`` also give ``derivative(cache) = f'(x)``
    and ``second_derivative(cache) = f''(x)`` (``None`` where it is zero), which
    the gradient penalties need for their backward pass through the backward
    pass (``docs/gradient-penalty.md``).
    """

    params: dict[str, np.ndarray]

    def __init__(self) -> None:
        self.params = {}

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        raise NotImplementedError

    def backward(self, dy: np.ndarray, cache: Any, param_grads: bool = True,
                 out: dict[str, np.ndarray] | None = None, input_grad: bool = True) -> tuple[np.ndarray, dict]:
        """Return ``(dx, grads)``.

        ``out``, when given, maps parameter names to arrays into which the
        parameter gradients are written (``Sequential`` passes views of its one
        flat gradient buffer); ``grads`` then holds those same arrays. With
        ``input_grad=False`` a layer may skip ``dx`` and return ``None`` (the
        discriminator step needs no gradient with respect to the data).
        """
        raise NotImplementedError

    def astype(self, dtype) -> "Layer":
        """A copy of the layer whose parameters have ``dtype``."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.params = {k: v.astype(dtype) for k, v in self.params.items()}
        return new

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Dense(Layer):
    """Affine layer ``y = x @ W + b``.

    Shapes: ``x`` (N, in_features), ``W`` (in_features, out_features),
    ``b`` (out_features,), ``y`` (N, out_features). Backward
    (``docs/backprop.md#dense``)::

        dx = dy @ W.T        dW = x.T @ dy        db = sum over the batch of dy

    ``W`` is drawn with ``init`` ("he", "he_uniform", "glorot", "glorot_uniform";
    ``alpha`` is the leaky slope for the He gain) from ``rng``; ``b`` starts at 0.
    """

    def __init__(self, in_features: int, out_features: int, init: str = "he",
                 alpha: float = 0.0, dtype=np.float32,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features")
        self.out_features = check_int(out_features, "out_features")
        rng = np.random.default_rng(rng)
        self.params = {
            "W": init_weight(init, in_features, out_features, rng, dtype, alpha),
            "b": zeros_bias(out_features, dtype),
        }

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        W, b = self.params["W"], self.params["b"]
        check_matrix(x, "x", width=self.in_features, dtype=W.dtype)
        ### BEGIN SOLUTION
        y = x @ W
        y += b
        return y, x
        ### END SOLUTION

    def backward(self, dy, cache, param_grads=True, out=None, input_grad=True):
        x = cache
        W = self.params["W"]
        check_matrix(dy, "dy", width=self.out_features, dtype=W.dtype)
        ### BEGIN SOLUTION
        dx = dy @ W.T if input_grad else None
        ### END SOLUTION
        if not param_grads:
            return dx, {}
        if out is None:
            out = {"W": np.empty_like(W), "b": np.empty_like(self.params["b"])}
        ### BEGIN SOLUTION
        np.matmul(x.T, dy, out=out["W"])
        np.sum(dy, axis=0, out=out["b"])
        ### END SOLUTION
        return dx, out

    def __repr__(self) -> str:
        return f"Dense({self.in_features}, {self.out_features})"


class LeakyReLU(Layer):
    """``y = x`` where ``x > 0`` and ``y = alpha * x`` elsewhere.

    The slope ``s = 1 if x > 0 else alpha`` is kept from forward as the cache, so
    backward is one multiply: ``dx = dy * s`` (``docs/backprop.md#leaky-relu``).
    At ``x = 0`` the slope ``alpha`` is used (a subgradient).
    """

    def __init__(self, alpha: float = 0.2) -> None:
        super().__init__()
        self.alpha = check_in_range(alpha, "alpha", 0.0, 1.0)

    def forward(self, x):
        as_float_array(x, "x")
        ### BEGIN SOLUTION
        slope = (x > 0).astype(x.dtype)      # 1 where x > 0, else 0
        slope *= 1 - self.alpha              # 1 - alpha where x > 0, else 0
        slope += self.alpha                  # 1 where x > 0, else alpha
        return x * slope, slope
        ### END SOLUTION

    def backward(self, dy, cache, param_grads=True, out=None, input_grad=True):
        slope = cache
        ### BEGIN SOLUTION
        return dy * slope, {}
        ### END SOLUTION

    def derivative(self, cache):
        """``f'(x)`` from the cache: the slope."""
        return cache

    def second_derivative(self, cache):
        """``f''(x) = 0`` away from the kink: ``None`` says "zero, skip it"."""
        return None

    def __repr__(self) -> str:
        return f"LeakyReLU(alpha={self.alpha})"


class ReLU(LeakyReLU):
    """``y = max(x, 0)``; ``dx = dy * (x > 0)``: a leaky ReLU of slope 0."""

    def __init__(self) -> None:
        super().__init__(alpha=0.0)

    def __repr__(self) -> str:
        return "ReLU()"


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow for any ``x``.

    With ``e = exp(-|x|)`` (never above 1): ``1 / (1 + e)`` for ``x >= 0`` and
    ``e / (1 + e)`` for ``x < 0``, both exact rearrangements of the formula.

    See ``docs/backprop.md#sigmoid``.
    """
    ### BEGIN SOLUTION
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    ### END SOLUTION


class Sigmoid(Layer):
    """``y = 1 / (1 + exp(-x))``; ``dx = dy * y * (1 - y)``.

    Computed without overflow (see :func:`stable_sigmoid`);
    ``docs/backprop.md#sigmoid``.
    """

    def forward(self, x):
        x = as_float_array(x, "x")
        ### BEGIN SOLUTION
        y = stable_sigmoid(x)
        return y, y
        ### END SOLUTION

    def backward(self, dy, cache, param_grads=True, out=None, input_grad=True):
        y = cache
        ### BEGIN SOLUTION
        return dy * y * (1 - y), {}
        ### END SOLUTION

    def derivative(self, cache):
        """``f'(x) = y (1 - y)``."""
        y = cache
        return y * (1 - y)

    def second_derivative(self, cache):
        """``f''(x) = y (1 - y) (1 - 2 y)`` (used by gradient penalties)."""
        y = cache
        return y * (1 - y) * (1 - 2 * y)


class Tanh(Layer):
    """``y = tanh(x)``; ``dx = dy * (1 - y**2)`` (``docs/backprop.md#tanh``)."""

    def forward(self, x):
        y = np.tanh(as_float_array(x, "x"))
        return y, y

    def backward(self, dy, cache, param_grads=True, out=None, input_grad=True):
        y = cache
        return dy * (1 - y * y), {}

    def derivative(self, cache):
        """``f'(x) = 1 - y**2``."""
        y = cache
        return 1 - y * y

    def second_derivative(self, cache):
        """``f''(x) = -2 y (1 - y**2)`` (used by gradient penalties)."""
        y = cache
        return -2 * y * (1 - y * y)


class Identity(Layer):
    """``y = x``; ``dx = dy``."""

    def forward(self, x):
        return as_float_array(x, "x"), None

    def backward(self, dy, cache, param_grads=True, out=None, input_grad=True):
        return dy, {}

    def derivative(self, cache):
        """``f'(x) = 1``."""
        return 1

    def second_derivative(self, cache):
        """``f''(x) = 0``: ``None`` says "zero, skip it"."""
        return None


ACTIVATIONS = {
    "leaky_relu": LeakyReLU,
    "relu": ReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "identity": Identity,
}


def make_activation(name: str, alpha: float = 0.2) -> Layer:
    """Build an activation layer from its name (one of ``ACTIVATIONS``)."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return LeakyReLU(alpha) if name == "leaky_relu" else ACTIVATIONS[name]()
