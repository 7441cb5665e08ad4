"""A bridge out of numgan: PyTorch ``state_dict`` layouts, ``torch.nn`` modules and safetensors files.

A numgan :class:`~numgan.network.Sequential` maps one to one onto a PyTorch
``nn.Sequential`` with the same layer indices, so that every name keeps its
number (``docs/export.md``)::

    numgan                               PyTorch
    Dense(i, o)    y = x @ W + b         nn.Linear(i, o)   y = x @ weight.T + bias
      "k.W"  (i, o)                        "k.weight"  (o, i)  = W.T
      "k.b"  (o,)                          "k.bias"    (o,)    = b
    LeakyReLU(alpha)                     nn.LeakyReLU(negative_slope=alpha)
    ReLU(), Tanh(), Sigmoid(), Identity() nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.Identity()
    Conv2d(i, o, k, s, p)                nn.Conv2d(i, o, k, stride=s, padding=p)
      "k.W"  (o, i, k, k), "k.b" (o,)      "k.weight" (o, i, k, k) = W, "k.bias" = b    (same layout: NCHW)
    ConvTranspose2d(i, o, k, s, p)       nn.ConvTranspose2d(i, o, k, stride=s, padding=p)
      "k.W"  (i, o, k, k), "k.b" (o,)      "k.weight" (i, o, k, k) = W, "k.bias" = b
    BatchNorm(C, momentum, eps)          nn.BatchNorm1d(C, eps, momentum) on (N, C) samples,
                                         nn.BatchNorm2d(C, eps, momentum) on (N, C, H, W)
      "k.gamma", "k.beta" (C,)             "k.weight" = gamma, "k.bias" = beta
      buffers "k.running_mean", "k.running_var"   the same names, and "k.num_batches_tracked" (int64, 0)
      training / eval mode                 the module's own ``training`` flag, set to match
    Reshape(shape) of a flat sample      nn.Unflatten(1, shape)
    Flatten()                            nn.Flatten()

Both libraries update BatchNorm's running statistics alike (``running <-
(1 - momentum) running + momentum batch``, the unbiased batch variance).
PyTorch's ``num_batches_tracked`` only matters with ``momentum=None``, which
numgan does not have: it is exported as 0.

Activations have no parameters but keep their index, as they do in
``nn.Sequential``: the ring recipe's G ``Dense, ReLU, Dense, ...`` gives
``0.weight, 0.bias, 2.weight, ...`` on both sides. The table is
:data:`TORCH_MODULES`; a layer whose exact type is not in it (a subclass
included: it may compute something else) is a ``TypeError`` naming it, never
dropped. The dtype (float32 or float64) is kept.

* :func:`to_state_dict` (NumPy only) and :func:`to_torch` (imports PyTorch
  when called) for one network; :func:`gan_state_dict` and
  :func:`gan_to_torch` for G, D and G's moving average of a :class:`~numgan.gan.GAN`;
* :func:`save_safetensors` / :func:`load_safetensors`: the safetensors format
  written and read with NumPy alone (``docs/export.md#the-safetensors-format``),
  readable by PyTorch, JAX and others through the ``safetensors`` package;
* :func:`export_checkpoint`: a checkpoint of ``numgan train`` to a
  ``.safetensors`` or ``.pt`` file (``numgan export``), and :func:`load_torch`
  to rebuild its networks in PyTorch.
"""
from __future__ import annotations

import contextlib
import importlib
import json
import math
import os
import struct
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from ._checks import check_path
from ._npz import _temp_prefix, _umask
from .batchnorm import BatchNorm
from .conv import Conv2d, ConvTranspose2d
from .layers import Dense, Identity, Layer, LeakyReLU, ReLU, Sigmoid, Tanh
from .network import Sequential
from .reshape import Flatten, Reshape

#: numgan layer type -> the ``torch.nn`` module it becomes (exact types: a subclass is not mapped)
TORCH_MODULES: dict[type[Layer], str] = {
    Dense: "Linear",
    LeakyReLU: "LeakyReLU",
    ReLU: "ReLU",
    Tanh: "Tanh",
    Sigmoid: "Sigmoid",
    Identity: "Identity",
    Conv2d: "Conv2d",
    ConvTranspose2d: "ConvTranspose2d",
    BatchNorm: "BatchNorm1d or BatchNorm2d",     # by the shape of its input (:func:`_batchnorm_modules`)
    Reshape: "Unflatten",
    Flatten: "Flatten",
}

#: the networks of a GAN, in the order they are written
GAN_NETWORKS = ("G", "D", "G_ema")

#: safetensors dtype names of the arrays numgan writes and reads
SAFETENSORS_DTYPES: dict[str, np.dtype] = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}
#: the largest JSON header read (the ``safetensors`` package's own limit)
MAX_HEADER_BYTES = 100_000_000

TORCH_HINT = "PyTorch is not installed: pip install 'numgan[torch]' (or pip install torch)"


def _torch() -> Any:
    """The ``torch`` module, imported now (never when numgan is imported); ``ImportError`` with the fix."""
    try:
        return importlib.import_module("torch")
    except ImportError:
        raise ImportError(TORCH_HINT) from None


def _check_net(net: object, name: str = "net") -> Sequential:
    if not isinstance(net, Sequential):
        raise TypeError(f"{name} must be a numgan Sequential, got {type(net).__name__}")
    return net


def _batchnorm_modules(net: Sequential) -> dict[int, str]:
    """``"BatchNorm1d"`` or ``"BatchNorm2d"`` for each BatchNorm of ``net`` (by index): 2-D on image samples.

    The samples that reach a layer are images ``(C, H, W)`` after a convolution
    or a 3-axis ``Reshape``, flat after a ``Dense`` or a ``Flatten``; before any
    of them, the network's input is an image batch when its first such layer is
    a convolution.
    """
    shaping = (Dense, Flatten, Reshape, Conv2d, ConvTranspose2d)
    first = next((layer for layer in net.layers if isinstance(layer, shaping)), None)
    images = isinstance(first, (Conv2d, ConvTranspose2d))
    kinds: dict[int, str] = {}
    for i, layer in enumerate(net.layers):
        if isinstance(layer, (Conv2d, ConvTranspose2d)):
            images = True
        elif isinstance(layer, (Dense, Flatten)):
            images = False
        elif isinstance(layer, Reshape):
            images = len(layer.shape) == 3
        elif isinstance(layer, BatchNorm):
            kinds[i] = "BatchNorm2d" if images else "BatchNorm1d"
    return kinds


def torch_layers(net: Sequential) -> list[dict[str, Any]]:
    """The ``torch.nn`` modules of ``net``, one per layer, as JSON-ready data.

    ``{"module": "Linear", "in_features": i, "out_features": o}``,
    ``{"module": "LeakyReLU", "negative_slope": alpha}``, ``{"module": "ReLU"}``,
    ``{"module": "Conv2d", "in_channels": i, "out_channels": o, "kernel_size": k,
    "stride": s, "padding": p}`` (and ``"ConvTranspose2d"``), ``{"module":
    "BatchNorm2d", "num_features": C, "momentum": m, "eps": e}`` (or
    ``"BatchNorm1d"``), ``{"module": "Unflatten", "unflattened_size": [...]}``,
    ``{"module": "Flatten"}``. A layer whose exact type is not in
    :data:`TORCH_MODULES` is a ``TypeError`` that names it and its index; so is
    a ``Reshape`` whose input is not flat (``nn.Unflatten`` splits one axis).
    """
    _check_net(net)
    out: list[dict[str, Any]] = []
    norms = _batchnorm_modules(net)
    shapes = net.sample_shapes() if any(isinstance(layer, Reshape) for layer in net.layers) else []
    for i, layer in enumerate(net.layers):
        module = TORCH_MODULES.get(type(layer))
        if module is None:
            raise TypeError(f"layer {i} of the network, {layer!r} ({type(layer).__module__}."
                            f"{type(layer).__qualname__}), has no PyTorch counterpart: numgan exports exactly "
                            f"{sorted(cls.__name__ for cls in TORCH_MODULES)} (a subclass may compute "
                            f"something else, so it is refused, never dropped)")
        entry: dict[str, Any] = {"module": norms.get(i, module)}
        if isinstance(layer, Dense):
            entry.update(in_features=layer.in_features, out_features=layer.out_features)
        elif isinstance(layer, LeakyReLU) and module == "LeakyReLU":
            entry["negative_slope"] = float(layer.alpha)
        elif isinstance(layer, (Conv2d, ConvTranspose2d)):
            entry.update(in_channels=layer.in_channels, out_channels=layer.out_channels,
                         kernel_size=layer.kernel_size, stride=layer.stride, padding=layer.padding)
        elif isinstance(layer, BatchNorm):
            entry.update(num_features=layer.num_features, momentum=float(layer.momentum), eps=float(layer.eps))
        elif isinstance(layer, Reshape):
            before = (shapes[i - 1] if i > 0 else (layer.size,)) if shapes else None
            if before is not None and len(before) != 1:
                raise TypeError(f"layer {i} of the network, {layer!r}, reshapes samples of shape {before}: numgan "
                                f"exports a Reshape as nn.Unflatten(1, shape), which takes flat samples only")
            entry["unflattened_size"] = list(layer.shape)
        out.append(entry)
    return out


def to_state_dict(net: Sequential) -> dict[str, np.ndarray]:
    """``net``'s parameters (and buffers) under PyTorch's ``nn.Sequential`` names and layouts (NumPy copies).

    For a ``Dense`` layer at index ``k``: ``"k.weight" = W.T`` of shape
    ``(out_features, in_features)`` (``nn.Linear`` computes ``x @ weight.T +
    bias``) and ``"k.bias" = b`` of shape ``(out_features,)``, C-contiguous, in
    ``net``'s dtype. A convolution: ``"k.weight" = W`` (the same layout in both
    libraries) and ``"k.bias" = b``. A ``BatchNorm``: ``"k.weight" = gamma``,
    ``"k.bias" = beta``, ``"k.running_mean"``, ``"k.running_var"`` and
    ``"k.num_batches_tracked"`` (an int64 0-d array, 0: numgan does not count),
    in the order of ``module.state_dict()``. Layers without parameters have no
    entries but keep their index. Every layer must be mappable (:func:`torch_layers`).
    """
    torch_layers(net)              # refuses an unmappable layer before anything is copied
    state: dict[str, np.ndarray] = {}
    for i, layer in enumerate(net.layers):
        if isinstance(layer, Dense):
            state[f"{i}.weight"] = np.ascontiguousarray(layer.params["W"].T)
            state[f"{i}.bias"] = layer.params["b"].copy()
        elif isinstance(layer, (Conv2d, ConvTranspose2d)):
            state[f"{i}.weight"] = layer.params["W"].copy()
            state[f"{i}.bias"] = layer.params["b"].copy()
        elif isinstance(layer, BatchNorm):
            state[f"{i}.weight"] = layer.params["gamma"].copy()
            state[f"{i}.bias"] = layer.params["beta"].copy()
            state[f"{i}.running_mean"] = layer.buffers["running_mean"].copy()
            state[f"{i}.running_var"] = layer.buffers["running_var"].copy()
            state[f"{i}.num_batches_tracked"] = np.zeros((), dtype=np.int64)
    return state


def load_state_dict(net: Sequential, state: Mapping[str, Any]) -> Sequential:
    """Write a PyTorch-layout ``state`` (arrays or tensors, e.g. ``module.state_dict()``) into ``net``; return it.

    The inverse of :func:`to_state_dict`: ``W = weight.T``, ``b = bias`` (a
    convolution's ``W = weight``; BatchNorm's ``gamma``, ``beta`` and running
    statistics). The names must be exactly those of ``to_state_dict(net)``
    (BatchNorm's ``num_batches_tracked`` may be left out, and is ignored), with
    the same shapes; values are converted to ``net``'s dtype.
    """
    expected = to_state_dict(net)
    if not isinstance(state, Mapping):
        raise TypeError(f"state must be a dict of name -> array, got {type(state).__name__}")
    counters = {name for name in expected if name.endswith(".num_batches_tracked")}
    expected = {name: value for name, value in expected.items() if name not in counters}
    state = {name: value for name, value in state.items() if name not in counters}
    if set(state) != set(expected):
        raise ValueError(f"state must hold exactly {sorted(expected)}, got {sorted(map(str, state))}")
    arrays = {}
    for name, want in expected.items():
        value = state[name]
        if hasattr(value, "detach"):                        # a torch tensor
            value = value.detach().cpu().numpy()
        value = np.asarray(value)
        if value.shape != want.shape:
            raise ValueError(f"state[{name!r}] must have shape {want.shape}, got {value.shape}")
        arrays[name] = value
    for i, layer in enumerate(net.layers):
        if isinstance(layer, Dense):
            layer.params["W"][...] = arrays[f"{i}.weight"].T
            layer.params["b"][...] = arrays[f"{i}.bias"]
        elif isinstance(layer, (Conv2d, ConvTranspose2d)):
            layer.params["W"][...] = arrays[f"{i}.weight"]
            layer.params["b"][...] = arrays[f"{i}.bias"]
        elif isinstance(layer, BatchNorm):
            layer.params["gamma"][...] = arrays[f"{i}.weight"]
            layer.params["beta"][...] = arrays[f"{i}.bias"]
            layer.buffers["running_mean"][...] = arrays[f"{i}.running_mean"]
            layer.buffers["running_var"][...] = arrays[f"{i}.running_var"]
    return net


def build_torch(layers: list[dict[str, Any]], dtype: Any = np.float32) -> Any:
    """A ``torch.nn.Sequential`` of the modules described by :func:`torch_layers` (weights untouched)."""
    torch = _torch()
    nn = torch.nn
    tdtype = _torch_dtype(torch, dtype)
    makers: dict[str, Callable[[dict[str, Any]], Any]] = {
        "Linear": lambda e: nn.Linear(int(e["in_features"]), int(e["out_features"]), dtype=tdtype),
        "LeakyReLU": lambda e: nn.LeakyReLU(float(e["negative_slope"])),
        "ReLU": lambda e: nn.ReLU(),
        "Tanh": lambda e: nn.Tanh(),
        "Sigmoid": lambda e: nn.Sigmoid(),
        "Identity": lambda e: nn.Identity(),
        "Conv2d": lambda e: nn.Conv2d(*_conv_sizes(e), dtype=tdtype),
        "ConvTranspose2d": lambda e: nn.ConvTranspose2d(*_conv_sizes(e), dtype=tdtype),
        "BatchNorm1d": lambda e: nn.BatchNorm1d(int(e["num_features"]), eps=float(e["eps"]),
                                                momentum=float(e["momentum"]), dtype=tdtype),
        "BatchNorm2d": lambda e: nn.BatchNorm2d(int(e["num_features"]), eps=float(e["eps"]),
                                                momentum=float(e["momentum"]), dtype=tdtype),
        "Unflatten": lambda e: nn.Unflatten(1, tuple(int(n) for n in e["unflattened_size"])),
        "Flatten": lambda e: nn.Flatten(),
    }
    modules = []
    for i, entry in enumerate(layers):
        kind = entry.get("module") if isinstance(entry, dict) else None
        if kind not in makers:
            raise ValueError(f"layers[{i}] must name a module among {sorted(makers)}, got {entry!r}")
        modules.append(makers[kind](entry))
    return nn.Sequential(*modules)


def _conv_sizes(entry: dict[str, Any]) -> tuple[int, int, int, int, int]:
    """``(in_channels, out_channels, kernel_size, stride, padding)`` of a convolution's description."""
    return (int(entry["in_channels"]), int(entry["out_channels"]), int(entry["kernel_size"]), int(entry["stride"]),
            int(entry["padding"]))


def _torch_dtype(torch: Any, dtype: Any) -> Any:
    name = np.dtype(dtype).name
    if name not in ("float32", "float64"):
        raise TypeError(f"dtype must be float32 or float64, got {name}")
    return getattr(torch, name)


def to_torch(net: Sequential) -> Any:
    """The same network as a ``torch.nn.Sequential`` (same indices, same weights, same dtype).

    ``Dense`` becomes ``nn.Linear`` (``weight = W.T``), ``LeakyReLU(alpha)``
    ``nn.LeakyReLU(alpha)``, and ``ReLU``, ``Tanh``, ``Sigmoid``, ``Identity``
    their namesakes; ``Conv2d``, ``ConvTranspose2d`` theirs (same weights),
    ``BatchNorm`` ``nn.BatchNorm1d`` or ``nn.BatchNorm2d`` with its running
    statistics and in its mode (``module[k].training`` is the layer's
    ``training``), ``Reshape`` ``nn.Unflatten`` and ``Flatten`` ``nn.Flatten``
    (:data:`TORCH_MODULES`); any other layer is a ``TypeError`` naming it.
    PyTorch is imported here, not with numgan.
    """
    torch = _torch()
    module = build_torch(torch_layers(net), net.dtype)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in to_state_dict(net).items()})
    for i, layer in enumerate(net.layers):
        if isinstance(layer, BatchNorm):
            module[i].train(layer.training)
    return module


def _gan_networks(gan: Any) -> dict[str, Sequential]:
    from .gan import GAN
    if not isinstance(gan, GAN):
        raise TypeError(f"gan must be a numgan GAN, got {type(gan).__name__}")
    nets = {"G": gan.G, "D": gan.D, "G_ema": gan.G_ema}
    return {name: net for name, net in nets.items() if net is not None}


def gan_state_dict(gan: Any) -> dict[str, np.ndarray]:
    """G's, D's and (when there is one) G_ema's :func:`to_state_dict`, prefixed ``"G."``, ``"D."``, ``"G_ema."``."""
    return {f"{name}.{key}": value for name, net in _gan_networks(gan).items()
            for key, value in to_state_dict(net).items()}


def gan_to_torch(gan: Any) -> dict[str, Any]:
    """``{"G": ..., "D": ..., "G_ema": ...}``: :func:`to_torch` of each network of ``gan`` (G_ema when there is one)."""
    return {name: to_torch(net) for name, net in _gan_networks(gan).items()}


# -- the safetensors format ------------------------------------------------------------------------

def _dtype_name(a: np.ndarray, name: str) -> str:
    for key, dtype in SAFETENSORS_DTYPES.items():
        if a.dtype.newbyteorder("<") == dtype and a.dtype.kind == dtype.kind:
            return key
    raise TypeError(f"arrays[{name!r}] must have one of the dtypes {sorted(d.name for d in SAFETENSORS_DTYPES.values())}, "
                    f"got {a.dtype}")


def safetensors_bytes(arrays: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> bytes:
    """The bytes of a safetensors file holding ``arrays`` (and the string pairs ``metadata``).

    The layout (``docs/export.md#the-safetensors-format``)::

        8 bytes       N, the header's length, unsigned little-endian
        N bytes       a JSON object: {name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]},
                      ..., "__metadata__": {str: str}}, padded with spaces to a multiple of 8
        the data      each array's bytes, little-endian, C order, at [begin, end) of this part

    Arrays are laid out in the order given, one after the other, no gaps.
    """
    if not isinstance(arrays, Mapping):
        raise TypeError(f"arrays must be a dict of name -> numpy array, got {type(arrays).__name__}")
    header: dict[str, Any] = {}
    if metadata is not None:
        if not isinstance(metadata, Mapping) or not all(isinstance(k, str) and isinstance(v, str)
                                                         for k, v in metadata.items()):
            raise TypeError(f"metadata must be a dict of str -> str (the format allows nothing else), "
                            f"got {metadata!r:.200}")
        header["__metadata__"] = dict(metadata)
    blobs, offset = [], 0
    for name, a in arrays.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise ValueError(f"array names must be non-empty strings other than '__metadata__', got {name!r}")
        if not isinstance(a, np.ndarray):
            raise TypeError(f"arrays[{name!r}] must be a numpy array, got {type(a).__name__}")
        dtype = _dtype_name(a, name)
        data = np.ascontiguousarray(a, dtype=SAFETENSORS_DTYPES[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)            # the data start on an 8-byte boundary
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def _atomic_write(path: Path, write: Callable[[Any], None]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it over ``path`` (as checkpoints do)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def save_safetensors(path: str | os.PathLike, arrays: Mapping[str, np.ndarray],
                     metadata: Mapping[str, str] | None = None) -> Path:
    """Write ``arrays`` (and ``metadata``, str -> str) to ``path`` in the safetensors format, atomically.

    See :func:`safetensors_bytes` for the layout. PyTorch reads it with
    ``safetensors.torch.load_file(path)``, JAX with
    ``safetensors.flax.load_file(path)``, NumPy with :func:`load_safetensors`.
    """
    path = check_path(path, "path")
    data = safetensors_bytes(arrays, metadata)
    return _atomic_write(path, lambda f: f.write(data))


def load_safetensors(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """``(arrays, metadata)`` of a safetensors file, every number of its header checked before use.

    The header's length must fit the file (and :data:`MAX_HEADER_BYTES`); the
    header must be a JSON object whose entries name a dtype of
    :data:`SAFETENSORS_DTYPES`, a shape of non-negative integers and offsets
    that cover the data exactly, in order, without gaps or overlaps, each of the
    size its dtype and shape imply; ``__metadata__`` must map strings to
    strings. Anything else is a ``ValueError`` naming the file.
    """
    path = check_path(path, "path")
    data = path.read_bytes()

    def bad(why: str) -> ValueError:
        return ValueError(f"{str(path)!r} is not a valid safetensors file: {why}")

    if len(data) < 8:
        raise bad(f"it has {len(data)} bytes, fewer than the 8 of the header's length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > min(MAX_HEADER_BYTES, len(data) - 8):
        raise bad(f"its header length {n} exceeds the file ({len(data) - 8} bytes after the length) or the "
                  f"limit of {MAX_HEADER_BYTES}")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise bad(f"its header is not JSON text: {str(err)[:120]}") from None
    if not isinstance(header, dict):
        raise bad(f"its header must be a JSON object, got {type(header).__name__}")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise bad("its __metadata__ must map strings to strings")
    buffer = memoryview(data)[8 + n:]
    entries = []
    for name, entry in header.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise bad(f"entry {name[:60]!r} must hold exactly dtype, shape and data_offsets, got {str(entry)[:80]}")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if not isinstance(dtype, str) or dtype not in SAFETENSORS_DTYPES:
            raise bad(f"entry {name[:60]!r} has dtype {str(dtype)[:20]!r}, not one of {sorted(SAFETENSORS_DTYPES)}")
        ints = isinstance(shape, list) and isinstance(offsets, list) and len(offsets) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in [*shape, *offsets])
        if not ints:
            raise bad(f"entry {name[:60]!r} must have a shape and two data_offsets of non-negative integers")
        size = math.prod(shape) * SAFETENSORS_DTYPES[dtype].itemsize
        if offsets[1] - offsets[0] != size:
            raise bad(f"entry {name[:60]!r} spans {offsets[1] - offsets[0]} bytes, but {dtype} of shape "
                      f"{tuple(shape)} takes {size}")
        entries.append((offsets[0], offsets[1], name, dtype, tuple(shape)))
    entries.sort()
    end = 0
    for begin, stop, name, _, _ in entries:
        if begin != end:
            raise bad(f"entry {name[:60]!r} starts at byte {begin} of the data, expected {end} (no gaps or overlaps)")
        end = stop
    if end != len(buffer):
        raise bad(f"its entries cover {end} bytes of data, but the file holds {len(buffer)}")
    arrays = {name: np.frombuffer(buffer[begin:stop], dtype=SAFETENSORS_DTYPES[dtype]).reshape(shape).copy()
              for begin, stop, name, dtype, shape in entries}
    order = [name for name in header]                # the file's order
    return {name: arrays[name] for name in order}, dict(metadata)


# -- checkpoints -------------------------------------------------------------------------------------

def gan_metadata(gan: Any, extra: Mapping[str, Any] | None = None) -> dict[str, str]:
    """What a file exported from ``gan`` says about itself (str -> str, as safetensors requires).

    ``format`` ``"pt"`` (PyTorch names and layouts), ``numgan_version``,
    ``dtype``, ``step``, ``z_dim``, ``data_dim``, ``config`` (the GAN's options,
    JSON), ``extra`` (the checkpoint's extra data, JSON: data set, seed, any
    standardisation of the data) and for each network ``G``, ``D``, ``G_ema``
    its modules (:func:`torch_layers`, JSON), from which :func:`load_torch`
    rebuilds it.
    """
    from . import __version__
    nets = _gan_networks(gan)
    meta = {"format": "pt", "numgan_version": __version__, "dtype": gan.dtype.name, "step": str(gan.step),
            "z_dim": str(gan.z_dim), "data_dim": str(gan.data_dim),
            "config": json.dumps(gan.config.to_dict(), sort_keys=True),
            "extra": json.dumps(dict(extra or {}), sort_keys=True, default=str)}
    meta.update({name: json.dumps(torch_layers(net)) for name, net in nets.items()})
    return meta


EXPORT_SUFFIXES = (".safetensors", ".pt")


def export_gan(gan: Any, out: str | os.PathLike, extra: Mapping[str, Any] | None = None) -> Path:
    """Write G, D and G_ema of ``gan`` to ``out``: a ``.safetensors`` (NumPy only) or a ``.pt`` (PyTorch).

    * ``.safetensors``: the tensors ``"G.0.weight"``, ``"G.0.bias"``, ...,
      ``"D.…"``, ``"G_ema.…"`` (:func:`gan_state_dict`) and :func:`gan_metadata`;
    * ``.pt``: ``torch.save`` of ``{"G": G.state_dict(), "D": ..., "G_ema": ...,
      "metadata": gan_metadata(...)}``: tensors, strings and dicts only, so
      ``torch.load(path, weights_only=True)`` reads it without unpickling code.
    """
    path = check_path(out, "out")
    if path.suffix not in EXPORT_SUFFIXES:
        raise ValueError(f"out must end in {' or '.join(EXPORT_SUFFIXES)}, got {str(path)!r}")
    state = gan_state_dict(gan)         # refuses an unmappable layer before anything is written
    metadata = gan_metadata(gan, extra)
    if path.suffix == ".safetensors":
        return save_safetensors(path, state, metadata)
    torch = _torch()
    payload: dict[str, Any] = {name: {key.split(".", 1)[1]: torch.from_numpy(value) for key, value in state.items()
                                      if key.split(".", 1)[0] == name} for name in _gan_networks(gan)}
    payload["metadata"] = metadata
    return _atomic_write(path, lambda f: torch.save(payload, f))


def export_checkpoint(checkpoint: str | os.PathLike, out: str | os.PathLike) -> Path:
    """:func:`export_gan` of the GAN in a checkpoint of ``numgan train`` (read as hostile: :func:`~numgan.checkpoint.load_checkpoint`)."""
    from .checkpoint import load_checkpoint, read_checkpoint
    gan, _ = load_checkpoint(checkpoint)
    meta, _ = read_checkpoint(checkpoint)
    extra = meta.get("extra")
    return export_gan(gan, out, extra if isinstance(extra, dict) else None)


def load_torch(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, str]]:
    """``({"G": module, "D": module, "G_ema": module}, metadata)`` from a file of :func:`export_gan`.

    The modules are ``torch.nn.Sequential`` rebuilt from the metadata's
    descriptions and loaded with the file's weights (``.pt`` files are read
    with ``torch.load(..., weights_only=True)``).
    """
    path = check_path(path, "path")
    torch = _torch()
    if path.suffix == ".safetensors":
        arrays, metadata = load_safetensors(path)
        states: dict[str, dict[str, Any]] = {}
        for key, value in arrays.items():
            net, _, name = key.partition(".")
            states.setdefault(net, {})[name] = torch.from_numpy(value)
    elif path.suffix == ".pt":
        payload = torch.load(path, weights_only=True)
        if not isinstance(payload, dict) or not isinstance(payload.get("metadata"), dict):
            raise ValueError(f"{str(path)!r} is not a file written by numgan export: it lacks its metadata")
        metadata = payload.pop("metadata")
        states = payload
    else:
        raise ValueError(f"path must end in {' or '.join(EXPORT_SUFFIXES)}, got {str(path)!r}")
    modules = {}
    for name in GAN_NETWORKS:
        if name not in metadata:
            continue
        try:
            layers = json.loads(metadata[name])
        except ValueError:
            raise ValueError(f"{str(path)!r}: the metadata's {name} is not JSON") from None
        if not isinstance(layers, list):
            raise ValueError(f"{str(path)!r}: the metadata's {name} must be a list of modules")
        module = build_torch(layers, metadata.get("dtype", "float32"))
        try:
            module.load_state_dict(states.get(name, {}))
        except (RuntimeError, TypeError, AttributeError) as err:   # names or shapes that do not fit
            raise ValueError(f"{str(path)!r}: the weights of {name} do not fit its modules: "
                             f"{str(err).splitlines()[0][:200]}") from None
        modules[name] = module
    return modules, metadata
