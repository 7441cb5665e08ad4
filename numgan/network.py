"""Networks: ``Sequential``, the ``mlp`` builder and the seed article's presets.

A ``Sequential`` chains layers by the layer contract of :mod:`numgan.layers`::

    y, cache = net.forward(x)                 # cache: one entry per layer
    dx, grads = net.backward(dy, cache)       # chain rule, last layer first

``net.params`` is a :class:`numgan.flat.FlatParams`: every parameter is a
named view into **one contiguous buffer** (``net.params.flat``) of the
network's dtype, and each backward returns the gradients as a ``FlatParams``
of the same layout over a fresh buffer. An optimizer can then update every
parameter in a few vectorised operations on the two flat arrays instead of one
small operation per array (``docs/backprop.md#the-flat-parameter-buffer``).
"""
from __future__ import annotations

from typing import Any, Literal, Sequence, overload

import numpy as np
import numpy.typing as npt

from ._checks import check_choice, check_float_dtype, check_int, check_matrix, check_rng
from .batchnorm import BatchNorm
from .conv import Conv2d, ConvTranspose2d
from .flat import FlatParams
from .init import INITS
from .layers import ACTIVATIONS, Dense, Identity, Layer, LeakyReLU, ReLU, Sigmoid, Tanh, make_activation
from .reshape import Flatten, Reshape

OUT_ACTIVATIONS = (None, "sigmoid", "tanh")

#: layers that know the shape of their output from that of their input (``output_shape``): with any of them
#: in a network, its input and output widths are found by following one sample's shape through the layers
SHAPED_LAYERS: tuple[type[Layer], ...] = (Conv2d, ConvTranspose2d, Reshape, Flatten, BatchNorm)
_ELEMENTWISE: tuple[type[Layer], ...] = (LeakyReLU, Sigmoid, Tanh, Identity)


def _input_shape(layers: Sequence[Layer]) -> tuple[int, ...] | None:
    """One sample's input shape, as far as the first layer that fixes it tells (``None``: not known).

    ``Dense`` and ``Reshape`` take flat samples (``(in_features,)``, ``(prod(shape),)``);
    elementwise activations and ``BatchNorm`` (which keeps any shape) pass the
    question on; any other layer (a convolution takes ``(C, H, W)`` of any
    ``H, W``) leaves it open.
    """
    for layer in layers:
        if isinstance(layer, Dense):
            return (layer.in_features,)
        if isinstance(layer, Reshape):
            return (layer.size,)
        if not isinstance(layer, (*_ELEMENTWISE, BatchNorm)):
            return None
    return None


def _output_shape(layer: Layer, shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """One sample's shape after ``layer`` (``None``: a layer numgan does not know); ``ValueError`` if it does not fit."""
    if isinstance(layer, Dense):
        if shape != (layer.in_features,):
            raise ValueError(f"{layer!r} takes samples of shape ({layer.in_features},), got {shape}")
        return (layer.out_features,)
    if isinstance(layer, SHAPED_LAYERS):
        shaped: Any = layer
        return tuple(shaped.output_shape(shape))
    if isinstance(layer, _ELEMENTWISE):
        return shape
    return None


class Sequential:
    """A chain of layers; ``y = layers[-1](...layers[1](layers[0](x)))``.

    ``params`` is a :class:`~numgan.flat.FlatParams`: stable names
    ``"<layer index>.<param name>"`` (``"0.W"``, ``"0.b"``, ``"2.W"``...) of
    views into one flat buffer ``params.flat``; ``backward`` returns ``grads``
    with the same names and layout. The network owns its layers: their
    parameters are moved into the network's buffer.
    """

    def __init__(self, layers: Sequence[Layer], dtype: npt.DTypeLike | None = None) -> None:
        layers = list(layers)
        if not layers or not all(isinstance(layer, Layer) for layer in layers):
            raise TypeError(f"layers must be a non-empty list of numgan Layers, got {layers!r}")
        dtypes = {p.dtype for layer in layers for p in layer.params.values()}
        if dtype is None:
            if len(dtypes) > 1:
                raise TypeError(f"all parameters must share one dtype, got {sorted(d.name for d in dtypes)}")
            dtype = dtypes.pop() if dtypes else np.dtype(np.float32)
        self.dtype: np.dtype = check_float_dtype(dtype)
        self.layers = layers
        # which layers' backward also takes out= and input_grad= (declared by the layer class, read once)
        self._speed_options = [layer.backward_takes_speed_options() for layer in layers]
        # the first layer with parameters: below it, backward(input_grad=False) has nothing left to do
        self._first_with_params = next((i for i, layer in enumerate(layers) if layer.params), 0)
        shapes = {f"{i}.{k}": p.shape for i, layer in enumerate(layers) for k, p in layer.params.items()}
        self.params = FlatParams.zeros(shapes, self.dtype)
        for i, layer in enumerate(layers):
            for k in layer.params:
                self.params[f"{i}.{k}"][...] = layer.params[k]
                layer.params[k] = self.params[f"{i}.{k}"]
        # with a convolution, BatchNorm, Reshape or Flatten the widths come from following the shapes,
        # which also checks now that the layers fit together (ValueError naming the layer)
        self._shaped = any(isinstance(layer, SHAPED_LAYERS) for layer in layers)
        # the widths, found once: forward and backward check every batch against them (the layers are fixed)
        self._in_features, self._out_features = self._find_in_features(), self._find_out_features()

    @property
    def flat_params(self) -> np.ndarray:
        """All parameters as one 1-D array (``params.flat``): writing into it changes the layers."""
        return self.params.flat

    @property
    def n_params(self) -> int:
        """Number of scalar parameters."""
        return self.params.flat.size

    @property
    def in_features(self) -> int | None:
        """Input width (that of the first dense layer, or of a first ``Reshape``), or ``None`` without one.

        ``None`` too when the input is not flat (a network that starts with a convolution).
        """
        return self._in_features

    @property
    def out_features(self) -> int | None:
        """Output width (that of the last dense layer, or of a last ``Flatten``), or ``None`` without one.

        With convolutions it is found by following one sample's shape through
        the layers (:meth:`sample_shapes`); ``None`` when the output is not flat.
        """
        return self._out_features

    def _find_in_features(self) -> int | None:
        if self._shaped:
            shape = _input_shape(self.layers)
            return shape[0] if shape is not None else None
        dense = [layer for layer in self.layers if isinstance(layer, Dense)]
        return dense[0].in_features if dense else None

    def _find_out_features(self) -> int | None:
        """:attr:`out_features`, found by following the shapes (which also checks that the layers fit together)."""
        if self._shaped:
            shapes = self.sample_shapes()
            if not shapes:                  # the input's shape is open (a first convolution): a last Dense tells
                for layer in reversed(self.layers):
                    if isinstance(layer, Dense):
                        return layer.out_features
                    if not isinstance(layer, _ELEMENTWISE):
                        return None
                return None
            last = shapes[-1]
            return last[0] if last is not None and len(last) == 1 else None
        dense = [layer for layer in self.layers if isinstance(layer, Dense)]
        return dense[-1].out_features if dense else None

    def sample_shapes(self) -> list[tuple[int, ...] | None]:
        """The shape of one sample after each layer, from the input's (``[]`` when the input shape is not known).

        Entry ``i`` is the shape *after* layer ``i``: ``Reshape((1, 28, 28))``,
        ``Conv2d(1, 8, 4, 2, 1)``, ``Flatten()`` give ``[(1, 28, 28), (8, 14, 14),
        (1568,)]``; ``None`` after a layer whose output shape numgan cannot tell.
        ``ValueError`` (naming the layer) when a layer does not fit its input.
        """
        shape = _input_shape(self.layers)
        if shape is None:
            return []
        shapes: list[tuple[int, ...] | None] = []
        current: tuple[int, ...] | None = shape
        for i, layer in enumerate(self.layers):
            if current is not None:
                try:
                    current = _output_shape(layer, current)
                except ValueError as err:
                    raise ValueError(f"layer {i} does not fit its input: {err}") from None
            shapes.append(current)
        return shapes

    def _check_batch(self, x: object, name: str, width: int | None) -> None:
        """``x`` a matrix of ``width`` columns (a flat end of the network), else an array of the network's dtype."""
        if width is not None:
            check_matrix(x, name, width=width, dtype=self.dtype)
            return
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
        if x.dtype != self.dtype:
            raise TypeError(f"{name} must have dtype {self.dtype.name} like the network, got {x.dtype.name}; "
                            f"convert it with {name}.astype(np.{self.dtype.name})")

    def train(self) -> "Sequential":
        """Training mode for every layer that has modes (``BatchNorm``: batch statistics). Returns the network."""
        for layer in self.layers:
            if isinstance(layer, BatchNorm):
                layer.train()
        return self

    def eval(self) -> "Sequential":
        """Evaluation mode for every layer that has modes (``BatchNorm``: running statistics). Returns the network."""
        for layer in self.layers:
            if isinstance(layer, BatchNorm):
                layer.eval()
        return self

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        """State that is saved but not trained, ``"<layer index>.<name>"`` -> array (BatchNorm's running statistics).

        The arrays are the layers' own: writing into them changes the layers.
        """
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) if isinstance(layer, BatchNorm)
                for k, v in layer.buffers.items()}

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list]:
        """Return ``(y, cache)``; ``x`` is ``(N, in_features)`` of the network's dtype.

        A network that starts with a convolution takes ``(N, C, H, W)`` instead.
        """
        if self._shaped:
            self._check_batch(x, "x", self._in_features)
        else:
            check_matrix(x, "x", width=self.in_features, dtype=self.dtype)
        cache = []
        for layer in self.layers:
            x, c = layer.forward(x)
            cache.append(c)
        return x, cache

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The output ``y`` alone (no cache kept): for sampling and evaluation."""
        return self.forward(x)[0]

    # for the type checker: dx is None only with input_grad=False, grads is {} only with param_grads=False
    @overload
    def backward(self, dy: np.ndarray, cache: list, *, param_grads: Literal[True] = True,
                 input_grad: Literal[True] = True, out: FlatParams | None = None) -> tuple[np.ndarray, FlatParams]: ...

    @overload
    def backward(self, dy: np.ndarray, cache: list, *, param_grads: Literal[True] = True, input_grad: bool,
                 out: FlatParams | None = None) -> tuple[np.ndarray | None, FlatParams]: ...

    @overload
    def backward(self, dy: np.ndarray, cache: list, *, param_grads: Literal[False], input_grad: Literal[True] = True,
                 out: FlatParams | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]: ...

    @overload
    def backward(self, dy: np.ndarray, cache: list, *, param_grads: bool = True, input_grad: bool = True,
                 out: FlatParams | None = None) -> tuple[np.ndarray | None, FlatParams | dict[str, np.ndarray]]: ...

    def backward(self, dy: np.ndarray, cache: list, *, param_grads: bool = True, input_grad: bool = True,
                 out: FlatParams | None = None) -> tuple[np.ndarray | None, FlatParams | dict[str, np.ndarray]]:
        """Return ``(dx, grads)`` by the chain rule, last layer first.

        ``grads`` is a :class:`~numgan.flat.FlatParams` laid out like
        ``params``, over a new buffer, so a later backward never overwrites the
        grads of an earlier one. Keyword-only options:

        * ``param_grads=False`` skips the parameter gradients (``grads`` is ``{}``);
        * ``input_grad=False`` skips the ``dx`` of the first layer with
          parameters (``dx`` is ``None``) and every layer below it (a
          convolutional D's ``Reshape``); each saves one matrix product per
          layer or one in all;
        * ``out`` (a ``FlatParams`` laid out like ``params``, e.g.
          ``net.params.like()``) receives the grads instead of a new buffer: the
          training step reuses one, so that it allocates nothing of the size of
          the parameters.

        Each layer is called by the layer contract, ``layer.backward(dy, cache)``
        (with ``param_grads=False`` when the grads are not wanted and the layer
        has parameters); a layer whose ``backward`` is declared with
        ``takes_speed_options = True`` (``Dense``) also gets ``out=`` (its views
        of the buffer) and ``input_grad=``. A layer that returns new arrays has
        them copied into the buffer.
        """
        if not isinstance(cache, list) or len(cache) != len(self.layers):
            raise ValueError(f"cache must be the list returned by this network's forward "
                             f"({len(self.layers)} entries), got {type(cache).__name__}")
        if not (param_grads or input_grad):
            raise ValueError("backward with param_grads=False and input_grad=False computes nothing")
        if self._shaped:
            self._check_batch(dy, "dy", self._out_features)
        else:
            check_matrix(dy, "dy", width=self.out_features, dtype=self.dtype)
        if out is not None and not (self.params.same_layout(out) and out.dtype == self.dtype):
            raise ValueError(f"out must be a FlatParams laid out like this network's params "
                             f"({self.dtype.name}, {self.n_params} numbers), got {out!r}")
        grads: FlatParams | dict[str, np.ndarray] = (self.params.like() if out is None else out) if param_grads else {}
        dx: np.ndarray | None = dy
        lowest = 0 if input_grad else self._first_with_params      # the layers below it have no grads to give
        for i in reversed(range(lowest, len(self.layers))):
            assert dx is not None               # only the lowest layer's dx, computed last, may be None
            layer = self.layers[i]
            views = {k: grads[f"{i}.{k}"] for k in layer.params} if param_grads else {}
            if self._speed_options[i]:
                fast: Any = layer                 # Dense: its backward also takes out= and input_grad=
                dx, g = fast.backward(dx, cache[i], param_grads=param_grads, out=views or None,
                                      input_grad=input_grad or i > lowest)
            elif param_grads or not layer.params:         # a layer without parameters has no grads to skip
                dx, g = layer.backward(dx, cache[i])
            else:
                dx, g = layer.backward(dx, cache[i], param_grads=False)
            if set(g) != set(views):
                raise ValueError(f"layer {i} ({layer!r}) must return grads for {sorted(views)}, got {sorted(g)}")
            for k, value in g.items():      # a layer that returns new arrays instead of filling ``out``
                if value is not views[k]:
                    views[k][...] = value
        return (dx if input_grad else None), grads

    def spec(self) -> list[dict[str, Any]]:
        """The architecture as plain data (JSON-ready); :func:`from_spec` rebuilds it."""
        out = []
        for layer in self.layers:
            entry: dict[str, Any] = {"layer": type(layer).__name__}
            if isinstance(layer, Dense):
                entry.update(in_features=layer.in_features, out_features=layer.out_features)
            elif type(layer) is LeakyReLU:
                entry["alpha"] = layer.alpha
            elif isinstance(layer, (Conv2d, ConvTranspose2d)):
                entry.update(in_channels=layer.in_channels, out_channels=layer.out_channels,
                             kernel_size=layer.kernel_size, stride=layer.stride, padding=layer.padding)
            elif isinstance(layer, Reshape):
                entry["shape"] = list(layer.shape)
            elif isinstance(layer, BatchNorm):
                entry.update(num_features=layer.num_features, momentum=layer.momentum, eps=layer.eps)
            out.append(entry)
        return out

    def astype(self, dtype: npt.DTypeLike) -> "Sequential":
        """A copy of the network with parameters of ``dtype`` (e.g. float64 for checks)."""
        return Sequential([layer.astype(dtype) for layer in self.layers], dtype=dtype)

    def copy(self) -> "Sequential":
        """An independent copy (same dtype, same weights)."""
        return self.astype(self.dtype)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}], dtype={self.dtype.name}, n_params={self.n_params})"


LAYER_TYPES: dict[str, type[Layer]] = {cls.__name__: cls for cls in (Dense, LeakyReLU, ReLU, Sigmoid, Tanh, Identity,
                                                                     Conv2d, ConvTranspose2d, Reshape, Flatten,
                                                                     BatchNorm)}


def from_spec(spec: list[dict[str, Any]], dtype: npt.DTypeLike = np.float32) -> Sequential:
    """Rebuild a network from :meth:`Sequential.spec` (weights zero, biases zero; BatchNorm in training mode
    with fresh running statistics).

    Used by checkpoints, which then fill in the saved parameters and buffers.
    """
    if not isinstance(spec, list) or not spec:
        raise ValueError(f"spec must be a non-empty list of layer descriptions, got {spec!r}")
    layers: list[Layer] = []
    for k, entry in enumerate(spec):
        kind = entry.get("layer") if isinstance(entry, dict) else None
        if kind not in LAYER_TYPES:
            raise ValueError(f"spec[{k}] must name a layer among {sorted(LAYER_TYPES)}, got {entry!r}")
        layer: Layer
        if kind == "Dense":
            layer = Dense(entry["in_features"], entry["out_features"], dtype=dtype, rng=0)
            layer.params["W"][...] = 0
        elif kind == "LeakyReLU":
            layer = LeakyReLU(entry["alpha"])
        elif kind in ("Conv2d", "ConvTranspose2d"):
            conv = Conv2d if kind == "Conv2d" else ConvTranspose2d
            layer = conv(entry["in_channels"], entry["out_channels"], entry["kernel_size"], entry["stride"],
                         entry["padding"], dtype=dtype, rng=0)
            layer.params["W"][...] = 0
        elif kind == "Reshape":
            layer = Reshape(entry["shape"])
        elif kind == "BatchNorm":
            layer = BatchNorm(entry["num_features"], momentum=entry["momentum"], eps=entry["eps"], dtype=dtype)
        else:
            layer = LAYER_TYPES[kind]()
        layers.append(layer)
    return Sequential(layers, dtype=dtype)


def mlp(sizes: Sequence[int], activation: str = "leaky_relu", out_activation: str | None = None,
        alpha: float = 0.2, init: str = "he", dtype: npt.DTypeLike = np.float32,
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
    rng = check_rng(seed, "seed")
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


def seed_generator(z_dim: int, out_dim: int, alpha: float = 0.2, dtype: npt.DTypeLike = np.float32,
                   seed: int | np.random.Generator | None = None) -> Sequential:
    """The seed article's 11-layer generator with its output width corrected.

    ``z -> 128, 256, 512, 1024, 1024, 512, 256, 128, 64, 32 -> out_dim``, leaky
    ReLU, sigmoid out. The article's code ends in 1 unit, which can only make
    scalars (``docs/seed-errata.md``, error 5); here the output has the data's
    dimension ``out_dim``.
    """
    return mlp([z_dim, *SEED_GENERATOR_HIDDEN, out_dim], "leaky_relu", "sigmoid", alpha,
               dtype=dtype, seed=seed)


def seed_discriminator(in_dim: int, alpha: float = 0.2, dtype: npt.DTypeLike = np.float32,
                       seed: int | np.random.Generator | None = None) -> Sequential:
    """The seed article's 7-layer discriminator, returning the logit.

    ``x -> 1024, 512, 256, 128, 64, 32 -> 1``, leaky ReLU. It outputs the raw
    score (logit) ``s``; the probability that ``x`` is real is ``sigmoid(s)``,
    which the losses apply themselves in a numerically stable way.
    """
    return mlp([in_dim, *SEED_DISCRIMINATOR_HIDDEN, 1], "leaky_relu", None, alpha,
               dtype=dtype, seed=seed)
