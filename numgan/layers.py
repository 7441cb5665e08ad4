"""Layers: a dense (affine) layer and elementwise activations.

Every layer follows one contract (the CS231n contract, made explicit)::

    y, cache = layer.forward(x)
    dx, grads = layer.backward(dy, cache)                      # or backward(dy, cache, param_grads=False)

* ``x`` has shape ``(N, D_in)`` and ``y`` shape ``(N, D_out)``; ``dy = dL/dy`` has
  the shape of ``y`` and ``dx = dL/dx`` the shape of ``x``.
* ``cache`` holds what backward needs; it is returned, never stored on the layer,
  so the same layer can run forward on real and on fake data before either
  backward without one overwriting the other.
* ``grads`` maps each name of ``layer.params`` to ``dL/dparam`` (same shape).
  With ``param_grads=False`` only ``dx`` is computed and ``grads`` is ``{}``
  (a GAN's generator step needs ``dx`` through a frozen discriminator).
* Nothing is updated inside ``backward``: an optimizer changes the parameters.

Options beyond ``param_grads`` are keyword-only and only for speed: ``Dense``
also takes ``out=`` (arrays to write its grads into) and ``input_grad=False``
(skip ``dx``), and says so with ``takes_speed_options = True`` beside its
``backward``; a layer written to the plain contract above (a subclass of
``Dense`` that rewrites ``backward`` included) works in a
:class:`~numgan.network.Sequential` as it is.

The derivations are in ``docs/backprop.md``.
"""
from __future__ import annotations

from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt

from ._checks import as_float_array, check_float_dtype, check_in_range, check_int, check_matrix
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

    #: whether ``backward`` also takes the keyword-only speed options ``out=`` and ``input_grad=``;
    #: declared by the class that writes ``backward`` (see :meth:`backward_takes_speed_options`)
    takes_speed_options: bool = False

    @classmethod
    def backward_takes_speed_options(cls) -> bool:
        """Whether the class that defines this layer's ``backward`` declares ``takes_speed_options = True``.

        The declaration goes with the ``backward`` it describes: a subclass of
        ``Dense`` that rewrites ``backward`` to the plain contract does not
        inherit it, and is called by the plain contract.
        """
        for klass in cls.__mro__:
            if "backward" in vars(klass):
                return bool(vars(klass).get("takes_speed_options", False))
        return False

    def backward(self, dy: np.ndarray, cache: Any, *, param_grads: bool = True
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Return ``(dx, grads)``: ``dx = dL/dx`` and ``grads[name] = dL/dparams[name]``.

        With ``param_grads=False`` only ``dx`` is computed and ``grads`` is ``{}``.
        """
        raise NotImplementedError

    def derivative(self, cache: Any) -> np.ndarray | float:
        """``f'(x)`` from the cache of an elementwise activation ``y = f(x)`` (other layers raise)."""
        raise NotImplementedError(f"{type(self).__name__} is not an elementwise activation: it has no "
                                  f"derivative(cache) = f'(x)")

    def second_derivative(self, cache: Any) -> np.ndarray | None:
        """``f''(x)`` from the cache of an elementwise activation ``y = f(x)``, ``None`` where it is zero."""
        raise NotImplementedError(f"{type(self).__name__} is not an elementwise activation: it has no "
                                  f"second_derivative(cache) = f''(x)")

    def astype(self, dtype: npt.DTypeLike) -> "Layer":
        """A copy of the layer whose parameters have ``dtype`` (a floating dtype)."""
        dtype = check_float_dtype(dtype, "dtype")
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.params = {k: v.astype(dtype) for k, v in self.params.items()}
        return new

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _check_dy(dy: object, shape: tuple[int, ...]) -> None:
    """Raise ``ValueError`` unless ``dy`` has the ``shape`` of the layer's output (a shape comparison, no copy).

    Without it an elementwise backward would broadcast a ``dy`` of the wrong
    shape and return a ``dx`` of the wrong shape, silently.
    """
    got = getattr(dy, "shape", None)
    if got != shape:
        if not isinstance(dy, np.ndarray):
            raise TypeError(f"dy must be a numpy array of the shape of the layer's output {shape}, "
                            f"got {type(dy).__name__}")
        raise ValueError(f"dy must have the shape of the layer's output {shape}, got {got}")


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
                 alpha: float = 0.0, dtype: npt.DTypeLike = np.float32,
                 rng: np.random.Generator | int | None = None) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features")
        self.out_features = check_int(out_features, "out_features")
        dtype = check_float_dtype(dtype, "dtype")
        rng = np.random.default_rng(rng)
        self.params = {
            "W": init_weight(init, in_features, out_features, rng, dtype, alpha),
            "b": zeros_bias(out_features, dtype),
        }

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``y = x @ W + b``; the cache is ``x``."""
        W, b = self.params["W"], self.params["b"]
        check_matrix(x, "x", width=self.in_features, dtype=W.dtype)
        ### BEGIN SOLUTION
        y = x @ W
        y += b
        return y, x
        ### END SOLUTION

    takes_speed_options = True

    @overload   # for the type checker: dx is an array unless input_grad=False
    def backward(self, dy: np.ndarray, cache: np.ndarray, *, param_grads: bool = True,
                 out: dict[str, np.ndarray] | None = None, input_grad: Literal[True] = True
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]: ...

    @overload
    def backward(self, dy: np.ndarray, cache: np.ndarray, *, param_grads: bool = True,
                 out: dict[str, np.ndarray] | None = None, input_grad: bool
                 ) -> tuple[np.ndarray | None, dict[str, np.ndarray]]: ...

    def backward(self, dy: np.ndarray, cache: np.ndarray, *, param_grads: bool = True,
                 out: dict[str, np.ndarray] | None = None, input_grad: bool = True
                 ) -> tuple[np.ndarray | None, dict[str, np.ndarray]]:
        """``dx = dy @ W.T``, ``dW = x.T @ dy``, ``db = dy.sum(axis=0)`` with ``x`` the cache.

        Speed options (keyword-only): ``out`` maps ``"W"`` and ``"b"`` to arrays
        that receive the gradients (``Sequential`` passes views of its flat
        gradient buffer), and ``grads`` is then ``out`` itself;
        ``input_grad=False`` skips ``dx`` and returns ``None`` for it (the
        discriminator's first layer needs no gradient for the data).
        """
        if isinstance(dy, np.ndarray) and dy.ndim == 2 and dy.shape[0] != cache.shape[0]:
            raise ValueError(f"dy must have the shape of the layer's output {(cache.shape[0], self.out_features)}, "
                             f"got {dy.shape}")
        x = cache
        W = self.params["W"]
        check_matrix(dy, "dy", width=self.out_features, dtype=W.dtype)
        ### BEGIN SOLUTION
        dx = dy @ W.T if input_grad else None
        if not param_grads:
            return dx, {}
        if out is None:
            out = {"W": np.empty_like(W), "b": np.empty_like(self.params["b"])}
        np.matmul(x.T, dy, out=out["W"])
        np.sum(dy, axis=0, out=out["b"])
        return dx, out
        ### END SOLUTION

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

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        as_float_array(x, "x")
        ### BEGIN SOLUTION
        slope = (x > 0).astype(x.dtype)      # 1 where x > 0, else 0
        slope *= 1 - self.alpha              # 1 - alpha where x > 0, else 0
        slope += self.alpha                  # 1 where x > 0, else alpha
        return x * slope, slope
        ### END SOLUTION

    def backward(self, dy: np.ndarray, cache: Any, *, param_grads: bool = True
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        slope = cache
        _check_dy(dy, slope.shape)
        ### BEGIN SOLUTION
        return dy * slope, {}
        ### END SOLUTION

    def derivative(self, cache: Any) -> np.ndarray | float:
        """``f'(x)`` from the cache: the slope."""
        return cache

    def second_derivative(self, cache: Any) -> np.ndarray | None:
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

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        x = as_float_array(x, "x")
        ### BEGIN SOLUTION
        y = stable_sigmoid(x)
        return y, y
        ### END SOLUTION

    def backward(self, dy: np.ndarray, cache: Any, *, param_grads: bool = True
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        y = cache
        _check_dy(dy, y.shape)
        ### BEGIN SOLUTION
        return dy * y * (1 - y), {}
        ### END SOLUTION

    def derivative(self, cache: Any) -> np.ndarray | float:
        """``f'(x) = y (1 - y)``."""
        y = cache
        return y * (1 - y)

    def second_derivative(self, cache: Any) -> np.ndarray | None:
        """``f''(x) = y (1 - y) (1 - 2 y)`` (used by gradient penalties)."""
        y = cache
        return y * (1 - y) * (1 - 2 * y)


class Tanh(Layer):
    """``y = tanh(x)``; ``dx = dy * (1 - y**2)`` (``docs/backprop.md#tanh``)."""

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        y = np.tanh(as_float_array(x, "x"))
        return y, y

    def backward(self, dy: np.ndarray, cache: Any, *, param_grads: bool = True
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        y = cache
        _check_dy(dy, y.shape)
        ### BEGIN SOLUTION
        return dy * (1 - y * y), {}
        ### END SOLUTION

    def derivative(self, cache: Any) -> np.ndarray | float:
        """``f'(x) = 1 - y**2``."""
        y = cache
        return 1 - y * y

    def second_derivative(self, cache: Any) -> np.ndarray | None:
        """``f''(x) = -2 y (1 - y**2)`` (used by gradient penalties)."""
        y = cache
        return -2 * y * (1 - y * y)


class Identity(Layer):
    """``y = x``; ``dx = dy``. The cache is the shape of ``x`` (to check ``dy``'s)."""

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return as_float_array(x, "x"), x.shape

    def backward(self, dy: np.ndarray, cache: Any, *, param_grads: bool = True
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        if cache is not None:   # None: a cache from before the cache held the shape
            _check_dy(dy, cache)
        return dy, {}

    def derivative(self, cache: Any) -> np.ndarray | float:
        """``f'(x) = 1``."""
        return 1

    def second_derivative(self, cache: Any) -> np.ndarray | None:
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
