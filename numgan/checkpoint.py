"""Checkpoints: one ``.npz`` file of plain arrays plus JSON metadata, never a pickle.

A checkpoint holds G, D (and G's moving average), both optimizers' state, the
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
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ._npz import read_npz, write_npz
from .gan import GAN, GANConfig
from .history import History
from .network import from_spec

FORMAT = "numgan-checkpoint"
#: version 2: the checksum covers the JSON metadata too (numgan._npz); version 1 files still load
VERSION = 2

#: the random bit generators a checkpoint may name (a file never picks any other attribute of np.random)
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


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
                    history: Mapping[str, Sequence[float]] | None = None) -> Path:
    """Write ``gan``, ``rng`` and the training ``history`` to ``path`` (a ``.npz``), atomically; return the path.

    ``extra`` is JSON-ready data kept with it (e.g. the data set's name), read
    back by :func:`read_checkpoint` as ``meta["extra"]``.
    """
    if not isinstance(gan, GAN):
        raise TypeError(f"gan must be a numgan GAN, got {type(gan).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    path = Path(path)
    arrays = {"G/params": gan.G.flat_params, "D/params": gan.D.flat_params}
    if gan.G_ema is not None:
        arrays["G_ema/params"] = gan.G_ema.flat_params
    for key, values in (history or {}).items():
        arrays[f"history/{key}"] = np.asarray(values, dtype=np.float64)
    meta = {
        "step": gan.step, "dtype": gan.dtype.name,
        "config": gan.config.to_dict(), "G": gan.G.spec(), "D": gan.D.spec(),
        "opt_G": _split_optimizer(gan.opt_G.state_dict(), "opt_G", arrays),
        "opt_D": _split_optimizer(gan.opt_D.state_dict(), "opt_D", arrays),
        "rng": rng.bit_generator.state, "extra": extra or {},
    }
    return write_npz(path, arrays, meta, FORMAT, VERSION)


def read_checkpoint(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """The metadata and arrays of a checkpoint, checked (format, checksum); no pickle."""
    return read_npz(path, FORMAT, versions=(1, 2), legacy_versions=(1,))


def _optimizer_state(numbers: dict, prefix: str, arrays: dict) -> dict:
    state = dict(numbers)
    for name, value in arrays.items():
        if name.startswith(prefix + "/"):
            state[name[len(prefix) + 1:]] = value
    return state


def load_checkpoint(path: str | os.PathLike) -> tuple[GAN, np.random.Generator]:
    """Rebuild the GAN and the random generator saved by :func:`save_checkpoint`."""
    meta, arrays = read_checkpoint(path)
    dtype = np.dtype(meta["dtype"])
    G, D = from_spec(meta["G"], dtype), from_spec(meta["D"], dtype)
    G.flat_params[...] = arrays["G/params"]
    D.flat_params[...] = arrays["D/params"]
    gan = GAN(G, D, GANConfig.from_dict(meta["config"]))
    if gan.G_ema is not None:
        gan.G_ema.flat_params[...] = arrays["G_ema/params"]
    gan.opt_G.load_state_dict(_optimizer_state(meta["opt_G"], "opt_G", arrays))
    gan.opt_D.load_state_dict(_optimizer_state(meta["opt_D"], "opt_D", arrays))
    gan.step = int(meta["step"])
    name = meta["rng"].get("bit_generator") if isinstance(meta.get("rng"), dict) else None
    if name not in BIT_GENERATORS:
        raise ValueError(f"{str(path)!r} names a random generator {name!r}; expected one of {list(BIT_GENERATORS)}")
    bit_generator = getattr(np.random, name)()
    bit_generator.state = meta["rng"]
    return gan, np.random.Generator(bit_generator)


def load_history(path: str | os.PathLike) -> History:
    """The training history saved with a checkpoint (older key names renamed: ``d_real`` -> ``p_real``)."""
    _, arrays = read_checkpoint(path)
    return History.from_lists({name.split("/", 1)[1]: value for name, value in arrays.items()
                               if name.startswith("history/")})
