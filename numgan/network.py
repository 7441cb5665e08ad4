"""Networks: ``Sequential``, the ``mlp`` builder and the seed article's presets.

A ``Sequential`` chains layers by the layer contract of :mod:`numgan.layers`::

    y, cache = net.forward(x)                 # cache: one entry per layer
    dx, grads = net.backward(dy, cache)       # chain rule, last layer first

All parameters of a network live as views into **one contiguous buffer**
(``net.flat_params``) of the network's dtype, and each backward writes the
gradients into one fresh contiguous buffer laid out the same way. An optimizer
can then update every parameter in a few vectorised operations on the two flat
arrays instead of one small operation per array
(``docs/backprop.md#the-flat-parameter-buffer``).
"""
from __future__ import annotations

import inspect
from typing import Sequence

import numpy as np

from ._checks import check_choice, check_int, check_matrix
from .init import INITS
from .layers import ACTIVATIONS, Dense, Identity, Layer, LeakyReLU, ReLU, Sigmoid, Tanh, make_activation

OUT_ACTIVATIONS = (None, "sigmoid", "tanh")


def tiling_buffer(arrays: Sequence[np.ndarray]) -> np.ndarray | None:
    """The 1-D buffer that ``arrays`` tile in order, or ``None``.

    Returns ``b`` when every array is a C-contiguous view of the same 1-D array
    ``b`` and, taken in order, they cover ``b`` exactly with no gap: then one
    operation on ``b`` is one operation on every array.
    """
    arrays = list(arrays)
    if not arrays:
        return None
    base = arrays[0].base
    if base is None or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    address = base.__array_interface__["data"][0]
    for a in arrays:
        if a.base is not base or not a.flags.c_contiguous or a.__array_interface__["data"][0] != address:
            return None
        address += a.nbytes
    if address != base.__array_interface__["data"][0] + base.nbytes:
        return None
    return base


def flat_views(flat: np.ndarray, shapes: dict[str, tuple]) -> dict[str, np.ndarray]:
    """Consecutive views of the 1-D ``flat``, one per name, with the given shapes (in order)."""
    views, start = {}, 0
    for name, shape in shapes.items():
        n = int(np.prod(shape))
        views[name] = flat[start:start + n].reshape(shape)
        start += n
    return views


def _takes_out_and_input_grad(layer: Layer) -> bool:
    """Whether ``layer.backward`` accepts the optional ``out`` and ``input_grad`` arguments."""
    params = inspect.signature(layer.backward).parameters
    return all(name in params for name in ("out", "input_grad")) or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


class Sequential:
    """A chain of layers; ``y = layers[-1](...layers[1](layers[0](x)))``.

    ``params`` maps stable names ``"<layer index>.<param name>"`` (``"0.W"``,
    ``"0.b"``, ``"2.W"``...) to views into ``flat_params``; ``backward`` returns
    ``grads`` with the same names. The network owns its layers: their
    parameters are moved into the network's buffer.
    """

    def __init__(self, layers: Sequence[Layer], dtype=None) -> None:
        layers = list(layers)
        if not layers or not all(isinstance(layer, Layer) for layer in layers):
            raise TypeError(f"layers must be a non-empty list of numgan Layers, got {layers!r}")
        dtypes = {p.dtype for layer in layers for p in layer.params.values()}
        if dtype is None:
            if len(dtypes) > 1:
                raise TypeError(f"all parameters must share one dtype, got {sorted(d.name for d in dtypes)}")
            dtype = dtypes.pop() if dtypes else np.dtype(np.float32)
        self.dtype = np.dtype(dtype)
        if not np.issubdtype(self.dtype, np.floating):
            raise TypeError(f"dtype must be a floating dtype, got {self.dtype.name}")
        self.layers = layers
        self._fast_backward = [_takes_out_and_input_grad(layer) for layer in layers]
        self._shapes = {f"{i}.{k}": p.shape for i, layer in enumerate(layers) for k, p in layer.params.items()}
        size = sum(int(np.prod(s)) for s in self._shapes.values())
        self.flat_params = np.empty(size, dtype=self.dtype)
        self.params = self.views(self.flat_params)
        for i, layer in enumerate(layers):
            for k in layer.params:
                self.params[f"{i}.{k}"][...] = layer.params[k]
                layer.params[k] = self.params[f"{i}.{k}"]

    def views(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Views of ``flat`` with the names and shapes of the parameters."""
        return flat_views(flat, self._shapes)

    @property
    def n_params(self) -> int:
        """Number of scalar parameters."""
        return self.flat_params.size

    @property
    def in_features(self) -> int | None:
        """Input width (that of the first dense layer), or ``None`` without one."""
        dense = [layer for layer in self.layers if isinstance(layer, Dense)]
        return dense[0].in_features if dense else None

    @property
    def out_features(self) -> int | None:
        """Output width (that of the last dense layer), or ``None`` without one."""
        dense = [layer for layer in self.layers if isinstance(layer, Dense)]
        return dense[-1].out_features if dense else None

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list]:
        """Return ``(y, cache)``; ``x`` is ``(N, in_features)`` of the network's dtype."""
        check_matrix(x, "x", width=self.in_features, dtype=self.dtype)
        cache = []
        for layer in self.layers:
            x, c = layer.forward(x)
            cache.append(c)
        return x, cache

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The output ``y`` alone (no cache kept): for sampling and evaluation."""
        return self.forward(x)[0]

    def backward(self, dy: np.ndarray, cache: list, param_grads: bool = True, input_grad: bool = True,
                 grad_buffer: np.ndarray | None = None) -> tuple[np.ndarray | None, dict[str, np.ndarray]]:
        """Return ``(dx, grads)`` by the chain rule, last layer first.

        ``grads`` are views into one new flat buffer (``tiling_buffer`` finds it),
        so a later backward never overwrites the grads of an earlier one.
        ``param_grads=False`` skips the parameter gradients (``grads`` is ``{}``);
        ``input_grad=False`` skips the first layer's ``dx`` (``dx`` is ``None``):
        each saves one matrix product per layer or one in all. ``grad_buffer``
        (an array like ``flat_params``) receives the grads instead of a new
        buffer: the training step reuses one, so that it allocates nothing of
        the size of the parameters.
        """
        if not isinstance(cache, list) or len(cache) != len(self.layers):
            raise ValueError(f"cache must be the list returned by this network's forward "
                             f"({len(self.layers)} entries), got {type(cache).__name__}")
        if not (param_grads or input_grad):
            raise ValueError("backward with param_grads=False and input_grad=False computes nothing")
        check_matrix(dy, "dy", width=self.out_features, dtype=self.dtype)
        if grad_buffer is not None and (grad_buffer.shape != self.flat_params.shape
                                        or grad_buffer.dtype != self.dtype):
            raise ValueError(f"grad_buffer must be a {self.dtype.name} array of shape {self.flat_params.shape}, "
                             f"got {grad_buffer.dtype.name} {grad_buffer.shape}")
        if param_grads:
            grads = self.views(np.empty_like(self.flat_params) if grad_buffer is None else grad_buffer)
        else:
            grads = {}
        for i in reversed(range(len(self.layers))):
            layer = self.layers[i]
            out = {k: grads[f"{i}.{k}"] for k in layer.params} if param_grads else None
            if self._fast_backward[i]:
                dy, g = layer.backward(dy, cache[i], param_grads=param_grads, out=out,
                                       input_grad=input_grad or i > 0)
            else:                           # a layer written to the plain contract backward(dy, cache, param_grads)
                dy, g = layer.backward(dy, cache[i], param_grads=param_grads)
            for k, value in g.items():      # a layer that returns new arrays instead of filling ``out``
                if value is not out[k]:
                    out[k][...] = value
        return dy, grads

    def spec(self) -> list[dict]:
        """The architecture as plain data (JSON-ready); :func:`from_spec` rebuilds it."""
        out = []
        for layer in self.layers:
            entry = {"layer": type(layer).__name__}
            if isinstance(layer, Dense):
                entry.update(in_features=layer.in_features, out_features=layer.out_features)
            elif type(layer) is LeakyReLU:
                entry["alpha"] = layer.alpha
            out.append(entry)
        return out

    def astype(self, dtype) -> "Sequential":
        """A copy of the network with parameters of ``dtype`` (e.g. float64 for checks)."""
        return Sequential([layer.astype(dtype) for layer in self.layers], dtype=dtype)

    def copy(self) -> "Sequential":
        """An independent copy (same dtype, same weights)."""
        return self.astype(self.dtype)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}], dtype={self.dtype.name}, n_params={self.n_params})"


LAYER_TYPES = {cls.__name__: cls for cls in (Dense, LeakyReLU, ReLU, Sigmoid, Tanh, Identity)}


def from_spec(spec: list[dict], dtype=np.float32) -> Sequential:
    """Rebuild a network from :meth:`Sequential.spec` (weights zero, biases zero).

    Used by checkpoints, which then fill in the saved parameters.
    """
    if not isinstance(spec, list) or not spec:
        raise ValueError(f"spec must be a non-empty list of layer descriptions, got {spec!r}")
    layers: list[Layer] = []
    for k, entry in enumerate(spec):
        kind = entry.get("layer") if isinstance(entry, dict) else None
        if kind not in LAYER_TYPES:
            raise ValueError(f"spec[{k}] must name a layer among {sorted(LAYER_TYPES)}, got {entry!r}")
        if kind == "Dense":
            layer = Dense(entry["in_features"], entry["out_features"], dtype=dtype, rng=0)
            layer.params["W"][...] = 0
        elif kind == "LeakyReLU":
            layer = LeakyReLU(entry["alpha"])
        else:
            layer = LAYER_TYPES[kind]()
        layers.append(layer)
    return Sequential(layers, dtype=dtype)


def mlp(sizes: Sequence[int], activation: str = "leaky_relu", out_activation: str | None = None,
        alpha: float = 0.2, init: str = "he", dtype=np.float32,
        seed: int | np.random.Generator | None = None) -> Sequential:
    """A multilayer perceptron ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    Dense layers with ``activation`` ("leaky_relu" of slope ``alpha``, "relu",
    "tanh", "sigmoid", "identity") between them and ``out_activation`` (None,
    "sigmoid" or "tanh") after the last one. Weights from ``init`` ("he",
    "he_uniform", "glorot", "glorot_uniform"), drawn from ``seed`` (an int, a
    ``numpy.random.Generator`` or None), biases zero.
    """
    sizes = list(sizes) if not isinstance(sizes, (str, bytes)) else sizes
    if not isinstance(sizes, list) or len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output width, got {sizes!r}")
    for k, s in enumerate(sizes):
        check_int(s, f"sizes[{k}]")
    check_choice(activation, "activation", ACTIVATIONS)
    if out_activation not in OUT_ACTIVATIONS:
        raise ValueError(f"out_activation must be one of {list(OUT_ACTIVATIONS)}, got {out_activation!r}")
    check_choice(init, "init", INITS)
    rng = np.random.default_rng(seed)
    gain_alpha = alpha if activation == "leaky_relu" else 0.0
    layers: list[Layer] = []
    for k, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(fan_in, fan_out, init=init, alpha=gain_alpha, dtype=dtype, rng=rng))
        if k < len(sizes) - 2:
            layers.append(make_activation(activation, alpha))
    if out_activation is not None:
        layers.append(make_activation(out_activation))
    return Sequential(layers, dtype=dtype)


SEED_GENERATOR_HIDDEN = (128, 256, 512, 1024, 1024, 512, 256, 128, 64, 32)
SEED_DISCRIMINATOR_HIDDEN = (1024, 512, 256, 128, 64, 32)


def seed_generator(z_dim: int, out_dim: int, alpha: float = 0.2, dtype=np.float32,
                   seed: int | np.random.Generator | None = None) -> Sequential:
    """The seed article's 11-layer generator with its output width corrected.

    ``z -> 128, 256, 512, 1024, 1024, 512, 256, 128, 64, 32 -> out_dim``, leaky
    ReLU, sigmoid out. The article's code ends in 1 unit, which can only make
    scalars (``docs/seed-errata.md``, error 5); here the output has the data's
    dimension ``out_dim``.
    """
    return mlp([z_dim, *SEED_GENERATOR_HIDDEN, out_dim], "leaky_relu", "sigmoid", alpha,
               dtype=dtype, seed=seed)


def seed_discriminator(in_dim: int, alpha: float = 0.2, dtype=np.float32,
                       seed: int | np.random.Generator | None = None) -> Sequential:
    """The seed article's 7-layer discriminator, returning the logit.

    ``x -> 1024, 512, 256, 128, 64, 32 -> 1``, leaky ReLU. It outputs the raw
    score (logit) ``s``; the probability that ``x`` is real is ``sigmoid(s)``,
    which the losses apply themselves in a numerically stable way.
    """
    return mlp([in_dim, *SEED_DISCRIMINATOR_HIDDEN, 1], "leaky_relu", None, alpha,
               dtype=dtype, seed=seed)
