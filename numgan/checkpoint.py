"""Checkpoints: one ``.npz`` file of plain arrays plus JSON metadata, never a pickle.

A checkpoint holds G, D (and G's moving average) with their ``BatchNorm``
running statistics (``<net>/buffers/<layer>.running_mean``, ``...running_var``),
both optimizers' state, the
random generator's state, the step, the GAN's options (:class:`GANConfig`) and
the training history. The JSON metadata (the
architectures, the GAN's options, the optimizers' numbers, the rng state and a
SHA-256 checksum of every array and of the metadata) is stored inside the
same ``.npz`` as a byte array, so that one file is written, atomically (a
temporary file renamed over the old one), and read with
``allow_pickle=False`` (the file format is :mod:`numgan._npz`, shared with
the classifier). Loading a run and calling
``fit`` again continues bit for bit as the uninterrupted run would::

    save_checkpoint("runs/ring/checkpoint.npz", gan, rng, history=history)
    gan, rng = load_checkpoint("runs/ring/checkpoint.npz")
    history = load_history("runs/ring/checkpoint.npz")
    fit(gan, data, steps=10_000, rng=rng, history=history)

Files from others are checked before use (:func:`check_checkpoint_meta`):
the JSON against a schema (types and ranges of every field, layer and
random-generator names from allow-lists), and every array's dtype and shape
against what the architectures imply, before any array is read or any
network built; every failure is one ``ValueError`` naming the file.
"""
from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ._npz import Headers, read_npz, write_npz
from .gan import GAN, GANConfig
from .data.standardise import Standardiser
from .history import History
from .conv import conv_output_size, conv_transpose_output_size
from .network import LAYER_TYPES, Sequential, from_spec

FORMAT = "numgan-checkpoint"
#: version 2: the checksum covers the JSON metadata too (numgan._npz); version 1 files still load
VERSION = 2

#: the random bit generators a checkpoint may name (a file never picks any other attribute of np.random)
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")

#: the arrays of the optional data mapping (:class:`numgan.data.standardise.Standardiser`); a file without
#: them (every file written before they existed) loads as the identity
STANDARDISE_SHIFT, STANDARDISE_SCALE = "standardise/shift", "standardise/scale"

#: the most layers a network of a checkpoint may have (a crafted spec cannot make it build millions)
MAX_LAYERS = 10_000
#: the most axes a Reshape of a checkpoint may give one sample
MAX_RESHAPE_AXES = 8
#: the most numbers one sample may have anywhere in a checkpoint's network: its activations, a
#: convolution's padded input, its im2col rows (a crafted stride or padding cannot make a forward
#: pass allocate gigabytes from a small file; numgan's largest network, MNIST's DCGAN, needs 25 K)
MAX_SAMPLE_NUMBERS = 2 ** 20
_MAX_INT = 2 ** 63 - 1
_DTYPES = ("float32", "float64")
_OPTIMIZER_NUMBERS = ("t", "lr", "beta1", "beta2", "eps", "weight_decay")
_TOP_KEYS = ("step", "dtype", "config", "G", "D", "opt_G", "opt_D", "rng", "extra")
#: JSON types allowed for each GANConfig field ("int", "number", "str", "pair"; "|None" when it may be null)
_CONFIG_TYPES = {
    "objective": "str", "d_steps": "int", "g_lr": "number", "d_lr": "number", "betas": "pair",
    "clip": "number|None", "penalty": "str|None", "penalty_weight": "number", "penalty_every": "int",
    "label_smoothing": "number", "instance_noise": "number", "instance_noise_steps": "int|None",
    "ema": "number|None", "pack": "int", "n_classes": "int|None",
}


def _split_optimizer(state: dict, prefix: str, arrays: dict) -> dict:
    """Put the optimizer's arrays into ``arrays`` under ``prefix``; return its numbers."""
    numbers = {}
    for key, value in state.items():
        if isinstance(value, np.ndarray):
            arrays[f"{prefix}/{key}"] = value
        else:
            numbers[key] = value
    return numbers


def save_checkpoint(path: str | os.PathLike, gan: GAN, rng: np.random.Generator, extra: dict | None = None,
                    history: Mapping[str, Sequence[float]] | None = None, *,
                    standardiser: Standardiser | None = None) -> Path:
    """Write ``gan``, ``rng`` and the training ``history`` to ``path`` (a ``.npz``), atomically; return the path.

    ``extra`` is JSON-ready data kept with it (e.g. the data set's name), read
    back by :func:`read_checkpoint` as ``meta["extra"]``. ``standardiser``, the
    map from the data's units to the units G was trained in, is stored as the
    float64 arrays ``standardise/shift`` and ``standardise/scale`` of shape
    ``(data_dim,)`` (read back by :func:`load_standardiser`; none: nothing stored).
    """
    if not isinstance(gan, GAN):
        raise TypeError(f"gan must be a numgan GAN, got {type(gan).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    path = Path(path)
    arrays = {"G/params": gan.G.flat_params, "D/params": gan.D.flat_params}
    if gan.G_ema is not None:
        arrays["G_ema/params"] = gan.G_ema.flat_params
    for net_name, net in (("G", gan.G), ("D", gan.D), ("G_ema", gan.G_ema)):
        for name, value in (net.buffers.items() if net is not None else ()):
            arrays[f"{net_name}/buffers/{name}"] = value
    for key, values in (history or {}).items():
        arrays[f"history/{key}"] = np.asarray(values, dtype=np.float64)
    if standardiser is not None:
        if not isinstance(standardiser, Standardiser):
            raise TypeError(f"standardiser must be a numgan Standardiser or None, got {type(standardiser).__name__}")
        if standardiser.dim != gan.data_dim:
            raise ValueError(f"standardiser maps {standardiser.dim} features, but the generator makes "
                             f"{gan.data_dim}")
        arrays[STANDARDISE_SHIFT], arrays[STANDARDISE_SCALE] = standardiser.shift, standardiser.scale
    meta = {
        "step": gan.step, "dtype": gan.dtype.name,
        "config": gan.config.to_dict(), "G": gan.G.spec(), "D": gan.D.spec(),
        "opt_G": _split_optimizer(gan.opt_G.state_dict(), "opt_G", arrays),
        "opt_D": _split_optimizer(gan.opt_D.state_dict(), "opt_D", arrays),
        "rng": rng.bit_generator.state, "extra": extra or {},
    }
    return write_npz(path, arrays, meta, FORMAT, VERSION)


class _Invalid(ValueError):
    """One thing wrong with a checkpoint's metadata (the reader adds the file's name)."""


def _short(value: object) -> str:
    try:
        text = repr(value)
    except (RecursionError, ValueError):    # deeply nested, or an int too long to print
        text = f"a {type(value).__name__}"
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _int(value: object, where: str, minimum: int = 0) -> int:
    if not _is_int(value):
        raise _Invalid(f"{where} must be an integer, got {type(value).__name__} {_short(value)}")
    assert isinstance(value, int)
    if not minimum <= value <= _MAX_INT:
        raise _Invalid(f"{where} must be an integer in [{minimum}, 2**63 - 1], got {_short(value)}")
    return value


def _number(value: object, where: str, low: float, high: float, *, low_open: bool = False,
            high_open: bool = False) -> float:
    if not _is_number(value):
        raise _Invalid(f"{where} must be a number, got {type(value).__name__} {_short(value)}")
    try:
        x = float(value)                    # type: ignore[arg-type]
    except OverflowError:
        raise _Invalid(f"{where} must be a finite number, got {_short(value)}") from None
    ok = math.isfinite(x) and (low < x if low_open else low <= x) and (x < high if high_open else x <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise _Invalid(f"{where} must be a finite number in {interval}, got {_short(value)}")
    return x


def _dict(value: object, where: str) -> dict:
    if not isinstance(value, dict):
        raise _Invalid(f"{where} must be a JSON object, got {type(value).__name__} {_short(value)}")
    return value


def _keys(value: dict, where: str, required: Sequence[str], optional: Sequence[str] = ()) -> None:
    missing = [k for k in required if k not in value]
    if missing:
        raise _Invalid(f"{where} lacks {missing}")
    unknown = sorted(str(k)[:40] for k in value if k not in required and k not in optional)
    if unknown:
        raise _Invalid(f"{where} has unknown keys {unknown[:10]}")


def _check_config(config: object) -> GANConfig:
    config = _dict(config, "config")
    fields = [f.name for f in dataclasses.fields(GANConfig)]
    _keys(config, "config", fields)
    for name in fields:
        kind = _CONFIG_TYPES.get(name)
        value, where = config[name], f"config field {name!r}"
        if kind is None or (kind.endswith("|None") and value is None):
            continue                        # a field this table does not know yet: GANConfig checks it
        kind = kind.split("|")[0]
        if kind == "str" and not isinstance(value, str):
            raise _Invalid(f"{where} must be a string, got {type(value).__name__} {_short(value)}")
        if kind == "int":
            _int(value, where, minimum=-_MAX_INT)
        if kind == "number":
            _number(value, where, -math.inf, math.inf)
        if kind == "pair":
            if not isinstance(value, list) or len(value) != 2:
                raise _Invalid(f"{where} must be a list of 2 numbers, got {_short(value)}")
            for k, x in enumerate(value):
                _number(x, f"{where}[{k}]", -math.inf, math.inf)
    try:
        return GANConfig.from_dict(config)
    except (ValueError, TypeError) as err:
        raise _Invalid(f"invalid config: {err}") from None


def _check_spec(spec: object, name: str) -> dict[str, tuple[int, ...]]:
    """The parameter shapes (``"0.W"`` -> (in, out)...) a network spec implies, after checking it."""
    if not isinstance(spec, list) or not spec:
        raise _Invalid(f"{name} must be a non-empty list of layers, got {_short(spec)}")
    if len(spec) > MAX_LAYERS:
        raise _Invalid(f"{name} has {len(spec)} layers, over the limit of {MAX_LAYERS}")
    shapes: dict[str, tuple[int, ...]] = {}
    for i, entry in enumerate(spec):
        where = f"{name}[{i}]"
        entry = _dict(entry, where)
        kind = entry.get("layer")
        if not isinstance(kind, str) or kind not in LAYER_TYPES:
            raise _Invalid(f"{where} must name a layer among {sorted(LAYER_TYPES)}, got {_short(kind)}")
        if kind == "Dense":
            _keys(entry, where, ("layer", "in_features", "out_features"))
            n_in = _int(entry["in_features"], f"{where} in_features", minimum=1)
            n_out = _int(entry["out_features"], f"{where} out_features", minimum=1)
            shapes[f"{i}.W"], shapes[f"{i}.b"] = (n_in, n_out), (n_out,)
        elif kind == "LeakyReLU":
            _keys(entry, where, ("layer", "alpha"))
            _number(entry["alpha"], f"{where} alpha", 0.0, 1.0)
        elif kind in ("Conv2d", "ConvTranspose2d"):
            _keys(entry, where, ("layer", "in_channels", "out_channels", "kernel_size", "stride", "padding"))
            c_in = _int(entry["in_channels"], f"{where} in_channels", minimum=1)
            c_out = _int(entry["out_channels"], f"{where} out_channels", minimum=1)
            k = _int(entry["kernel_size"], f"{where} kernel_size", minimum=1)
            _int(entry["stride"], f"{where} stride", minimum=1)
            _int(entry["padding"], f"{where} padding", minimum=0)
            shapes[f"{i}.W"] = (c_out, c_in, k, k) if kind == "Conv2d" else (c_in, c_out, k, k)
            shapes[f"{i}.b"] = (c_out,)
        elif kind == "Reshape":
            _keys(entry, where, ("layer", "shape"))
            shape = entry["shape"]
            if not isinstance(shape, list) or not 1 <= len(shape) <= MAX_RESHAPE_AXES:
                raise _Invalid(f"{where} shape must be a list of 1 to {MAX_RESHAPE_AXES} positive integers, "
                               f"got {_short(shape)}")
            for k, n in enumerate(shape):
                _int(n, f"{where} shape[{k}]", minimum=1)
        elif kind == "BatchNorm":
            _keys(entry, where, ("layer", "num_features", "momentum", "eps"))
            c = _int(entry["num_features"], f"{where} num_features", minimum=1)
            _number(entry["momentum"], f"{where} momentum", 0.0, 1.0)
            _number(entry["eps"], f"{where} eps", 0.0, math.inf, low_open=True)
            shapes[f"{i}.gamma"], shapes[f"{i}.beta"] = (c,), (c,)
        else:
            _keys(entry, where, ("layer",))
    return shapes


def _check_sample_sizes(spec: list, name: str) -> tuple[int, ...] | None:
    """Follow one sample's shape through a checked spec; refuse one whose forward pass would be too large.

    Every convolution must see a known image shape (the network starts flat,
    with ``Dense`` or ``Reshape``, as a GAN's networks do), a ``Reshape`` must
    keep the number of values, and no activation, padded input or im2col row
    block of one sample may exceed :data:`MAX_SAMPLE_NUMBERS` numbers. Arithmetic
    only: nothing is allocated. Returns the shape of one output sample
    (``None`` when a spec without a Dense or Reshape never fixes it).
    """
    shape: tuple[int, ...] | None = None
    for i, entry in enumerate(spec):
        where, kind = f"{name}[{i}]", entry["layer"]
        sizes = []
        if kind == "Dense":
            shape = (entry["out_features"],)
        elif kind == "Reshape":
            new = tuple(entry["shape"])
            if shape is not None and math.prod(new) != math.prod(shape):
                raise _Invalid(f"{where} reshapes {math.prod(shape)} values per sample into {list(new)}")
            shape = new
        elif kind == "Flatten":
            shape = None if shape is None else (math.prod(shape),)
        elif kind in ("Conv2d", "ConvTranspose2d"):
            if shape is None or len(shape) != 3 or shape[0] != entry["in_channels"]:
                raise _Invalid(f"{where} needs samples of shape ({entry['in_channels']}, H, W) from the layers "
                               f"before it, got {'an unknown shape' if shape is None else list(shape)}")
            c, h, w = shape
            k, st, p = entry["kernel_size"], entry["stride"], entry["padding"]
            if kind == "Conv2d":
                out = [conv_output_size(n, k, st, p) for n in (h, w)]
                sizes += [c * (h + 2 * p) * (w + 2 * p), out[0] * out[1] * c * k * k]     # padded input, im2col
            else:
                out = [conv_transpose_output_size(n, k, st, p) for n in (h, w)]
                sizes += [entry["out_channels"] * ((h - 1) * st + k) * ((w - 1) * st + k), h * w * c * k * k]
            if min(out) < 1:
                raise _Invalid(f"{where} makes no output from samples of shape {list(shape)}")
            shape = (entry["out_channels"], out[0], out[1])
        if shape is not None:
            sizes.append(math.prod(shape))
        if sizes and max(sizes) > MAX_SAMPLE_NUMBERS:
            raise _Invalid(f"{where} needs {max(sizes)} numbers per sample, over the limit of {MAX_SAMPLE_NUMBERS}")
    return shape


def _spec_buffers(spec: list) -> dict[str, tuple[int, ...]]:
    """The buffer shapes (BatchNorm's ``"3.running_mean"`` -> (C,)...) of a spec :func:`_check_spec` accepted."""
    return {f"{i}.{name}": (entry["num_features"],) for i, entry in enumerate(spec)
            if entry["layer"] == "BatchNorm" for name in ("running_mean", "running_var")}


def _output_width(spec: list) -> int | None:
    """The width of one output sample of a spec that passed :func:`_check_spec`; ``None`` when it is not flat."""
    shape = _check_sample_sizes(spec, "G")
    return shape[0] if shape is not None and len(shape) == 1 else None


def _check_optimizer(numbers: object, name: str) -> None:
    numbers = _dict(numbers, name)
    _keys(numbers, name, _OPTIMIZER_NUMBERS)
    _int(numbers["t"], f"{name} t")
    _number(numbers["lr"], f"{name} lr", 0.0, math.inf, low_open=True)
    _number(numbers["beta1"], f"{name} beta1", 0.0, 1.0, high_open=True)
    _number(numbers["beta2"], f"{name} beta2", 0.0, 1.0, high_open=True)
    _number(numbers["eps"], f"{name} eps", 0.0, math.inf, low_open=True)
    _number(numbers["weight_decay"], f"{name} weight_decay", 0.0, math.inf)


def _make_rng(state: object) -> np.random.Generator:
    state = _dict(state, "rng")
    name = state.get("bit_generator")
    if not isinstance(name, str) or name not in BIT_GENERATORS:
        raise _Invalid(f"rng names a random generator {_short(name)}; expected one of {list(BIT_GENERATORS)}")
    bit_generator = getattr(np.random, name)()
    try:
        bit_generator.state = state
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError, RecursionError) as err:
        raise _Invalid(f"rng holds a state numpy refuses for {name}: {type(err).__name__}: "
                       f"{str(err)[:120]}") from None
    return np.random.Generator(bit_generator)


def _n_params(shapes: Mapping[str, tuple[int, ...]]) -> int:
    return sum(math.prod(shape) for shape in shapes.values())


def check_checkpoint_meta(meta: dict, headers: Headers) -> None:
    """Check a checkpoint's metadata and arrays' ``(dtype, shape)`` against each other; ``ValueError`` if wrong.

    The schema: ``step`` an integer >= 0; ``dtype`` ``"float32"`` or
    ``"float64"``; ``config`` exactly the :class:`GANConfig` fields with valid
    values; ``G`` and ``D`` non-empty lists of layers named in
    :data:`numgan.network.LAYER_TYPES` (Dense sizes positive integers,
    LeakyReLU ``alpha`` in [0, 1], convolution sizes positive integers with
    ``padding >= 0``, a Reshape's ``shape`` 1 to 8 positive integers,
    BatchNorm ``num_features >= 1``, ``momentum`` in [0, 1], ``eps > 0``); ``opt_G`` and ``opt_D`` Adam's numbers
    (``t >= 0``, ``lr > 0``, ``beta1``, ``beta2`` in [0, 1), ``eps > 0``,
    ``weight_decay >= 0``, all finite); ``rng`` the state of a bit generator
    among :data:`BIT_GENERATORS`; ``extra`` an object. The arrays: exactly
    ``G/params``, ``D/params`` (1-D, of the dtype and the size the specs
    imply), ``G_ema/params`` when and only when ``config["ema"]`` is set,
    ``<net>/buffers/<i>.running_mean`` and ``...running_var`` of shape ``(C,)``
    for each BatchNorm of G, D (and G_ema), each
    optimizer's ``m.<param>`` and ``v.<param>`` of its parameter's shape, and
    ``history/<key>``: 1-D float64 of one common length; optionally
    ``standardise/shift`` and ``standardise/scale``, both or neither, float64 of
    shape ``(G's output width,)`` (their values are checked when read, by
    :func:`load_standardiser`). Nothing is built or
    read here: ``headers`` come from the arrays' headers.
    """
    if not isinstance(meta, dict):
        raise _Invalid(f"the metadata must be a JSON object, got {type(meta).__name__}")
    for key in _TOP_KEYS:
        if key not in meta:
            raise _Invalid(f"the metadata lacks {key!r}")
    _int(meta["step"], "step")
    dtype = meta["dtype"]
    if not isinstance(dtype, str) or dtype not in _DTYPES:
        raise _Invalid(f"dtype must be one of {list(_DTYPES)}, got {_short(dtype)}")
    config = _check_config(meta["config"])
    specs = {net: _check_spec(meta[net], net) for net in ("G", "D")}
    for net in ("G", "D"):
        _check_sample_sizes(meta[net], net)
    buffers = {net: _spec_buffers(meta[net]) for net in ("G", "D")}
    for opt in ("opt_G", "opt_D"):
        _check_optimizer(meta[opt], opt)
    _make_rng(meta["rng"])
    _dict(meta["extra"], "extra")

    expected: dict[str, tuple[np.dtype, tuple[int, ...]]] = {}
    for net, shapes in specs.items():
        if not shapes:
            raise _Invalid(f"{net} must hold at least one Dense layer")
        expected[f"{net}/params"] = (np.dtype(dtype), (_n_params(shapes),))
        for state in ("m", "v"):
            for param, shape in shapes.items():
                expected[f"opt_{net}/{state}.{param}"] = (np.dtype(dtype), shape)
        for buffer, shape in buffers[net].items():
            expected[f"{net}/buffers/{buffer}"] = (np.dtype(dtype), shape)
    if config.ema is not None:
        expected["G_ema/params"] = (np.dtype(dtype), expected["G/params"][1])
        for buffer, shape in buffers["G"].items():
            expected[f"G_ema/buffers/{buffer}"] = (np.dtype(dtype), shape)
    mapping = [name for name in (STANDARDISE_SHIFT, STANDARDISE_SCALE) if name in headers]
    if len(mapping) == 1:
        raise _Invalid(f"it holds {mapping[0]!r} without its pair: a data mapping needs both "
                       f"{STANDARDISE_SHIFT!r} and {STANDARDISE_SCALE!r}")
    if mapping:
        width = _output_width(meta["G"]) or 0          # G's output width
        for name in mapping:
            expected[name] = (np.dtype(np.float64), (width,))
    history = {name: value for name, value in headers.items() if name.startswith("history/")}
    missing = sorted(set(expected) - set(headers))
    if missing:
        raise _Invalid(f"it lacks the arrays {missing[:6]}{' ...' if len(missing) > 6 else ''} that its "
                       f"metadata implies")
    unexpected = sorted(set(headers) - set(expected) - set(history))
    if unexpected:
        raise _Invalid(f"it holds arrays {[u[:60] for u in unexpected[:6]]} that its metadata does not "
                       f"imply")
    for name, (want_dtype, want_shape) in expected.items():
        got_dtype, got_shape = headers[name]
        if got_dtype != want_dtype or tuple(got_shape) != want_shape:
            raise _Invalid(f"array {name!r} must be {want_dtype.name} of shape {want_shape} (from the "
                           f"metadata), got {got_dtype.name} of shape {tuple(got_shape)}")
    lengths = set()
    for name, (got_dtype, got_shape) in history.items():
        if got_dtype != np.dtype(np.float64) or len(got_shape) != 1:
            raise _Invalid(f"array {name!r} must be 1-D float64, got {got_dtype.name} of shape "
                           f"{tuple(got_shape)}")
        lengths.add(got_shape[0])
    if len(lengths) > 1:
        raise _Invalid(f"the history arrays must share one length, got lengths {sorted(lengths)}")


def read_checkpoint(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """The metadata and arrays of a checkpoint, checked (format, schema, dtypes and shapes, checksum); no pickle."""
    return read_npz(path, FORMAT, versions=(1, 2), legacy_versions=(1,), check=check_checkpoint_meta)


def _optimizer_state(numbers: dict, prefix: str, arrays: dict) -> dict:
    state = dict(numbers)
    for name, value in arrays.items():
        if name.startswith(prefix + "/"):
            state[name[len(prefix) + 1:]] = value
    return state


def _load_buffers(net: Sequential, prefix: str, arrays: Mapping[str, np.ndarray]) -> None:
    """Fill ``net``'s buffers from ``arrays`` (``<prefix>/buffers/<name>``), refusing a negative running variance."""
    for name, value in net.buffers.items():
        saved = arrays[f"{prefix}/buffers/{name}"]
        if name.endswith("running_var") and not (saved >= 0).all():
            raise ValueError(f"array '{prefix}/buffers/{name}' holds a negative or NaN variance")
        value[...] = saved


def load_checkpoint(path: str | os.PathLike) -> tuple[GAN, np.random.Generator]:
    """Rebuild the GAN and the random generator saved by :func:`save_checkpoint`.

    The file is checked first (:func:`read_checkpoint`: format, schema, every
    array's dtype and shape, checksum), so a damaged or crafted file gives one
    ``ValueError`` naming the file and what is wrong; a missing one
    ``FileNotFoundError``.
    """
    meta, arrays = read_checkpoint(path)
    try:
        dtype = np.dtype(meta["dtype"])
        G, D = from_spec(meta["G"], dtype), from_spec(meta["D"], dtype)
        G.flat_params[...] = arrays["G/params"]
        D.flat_params[...] = arrays["D/params"]
        _load_buffers(G, "G", arrays)
        _load_buffers(D, "D", arrays)
        gan = GAN(G, D, GANConfig.from_dict(meta["config"]))
        if gan.G_ema is not None:
            gan.G_ema.flat_params[...] = arrays["G_ema/params"]
            _load_buffers(gan.G_ema, "G_ema", arrays)
        gan.opt_G.load_state_dict(_optimizer_state(meta["opt_G"], "opt_G", arrays))
        gan.opt_D.load_state_dict(_optimizer_state(meta["opt_D"], "opt_D", arrays))
        gan.step = int(meta["step"])
        rng = _make_rng(meta["rng"])
        for name, value in arrays.items():
            if not name.startswith("history/") and not np.isfinite(value).all():
                raise ValueError(f"array {name!r} holds NaN or infinite values")
    except (ValueError, TypeError, KeyError) as err:     # e.g. G's output does not fit D's input
        raise ValueError(f"{str(path)!r} is not a valid numgan checkpoint: {err}") from None
    except MemoryError:
        raise ValueError(f"{str(path)!r} holds networks too large for this machine's memory") from None
    return gan, rng


def load_standardiser(path: str | os.PathLike) -> Standardiser:
    """The map between the data's units and G's (``standardise=`` of :func:`numgan.train.fit`) saved with a checkpoint.

    A checkpoint without one (written without standardisation, or by an older
    numgan) gives the identity on G's output width. The values are checked as
    coming from a stranger: finite, ``scale > 0``; else one ``ValueError`` naming the file.
    """
    meta, arrays = read_checkpoint(path)
    if STANDARDISE_SHIFT not in arrays:
        width = _output_width(meta["G"])
        if width is None:
            raise ValueError(f"{str(path)!r} is not a valid numgan checkpoint: its generator's output is not flat")
        return Standardiser.identity(width)
    try:
        return Standardiser(arrays[STANDARDISE_SHIFT], arrays[STANDARDISE_SCALE])
    except (ValueError, TypeError) as err:
        raise ValueError(f"{str(path)!r} is not a valid numgan checkpoint: its data mapping is invalid: "
                         f"{err}") from None


def load_history(path: str | os.PathLike) -> History:
    """The training history saved with a checkpoint (older key names renamed: ``d_real`` -> ``p_real``)."""
    _, arrays = read_checkpoint(path)
    return History.from_lists({name.split("/", 1)[1]: value for name, value in arrays.items()
                               if name.startswith("history/")})
