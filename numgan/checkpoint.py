"""Checkpoints: one ``.npz`` file of plain arrays plus JSON metadata, never a pickle.

A checkpoint holds G, D (and G's moving average), both optimizers' state, the
random generator's state, the step and the history. The JSON metadata (the
architectures, the GAN's options, the optimizers' numbers, the rng state and a
SHA-256 checksum of every array) is stored inside the same ``.npz`` as a byte
array, so that one file is written, atomically (a temporary file renamed over
the old one), and read with ``allow_pickle=False``. Loading a run and calling
``fit`` again continues bit for bit as the uninterrupted run would::

    save_checkpoint("runs/ring/checkpoint.npz", gan, rng)
    gan, rng = load_checkpoint("runs/ring/checkpoint.npz")
    gan.fit(data, steps=10_000, rng=rng)
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .gan import GAN
from .network import from_spec

FORMAT = "numgan-checkpoint"
VERSION = 1


def _checksum(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _split_optimizer(state: dict, prefix: str, arrays: dict) -> dict:
    """Put the optimizer's arrays into ``arrays`` under ``prefix``; return its numbers."""
    numbers = {}
    for key, value in state.items():
        if isinstance(value, np.ndarray):
            arrays[f"{prefix}/{key}"] = value
        else:
            numbers[key] = value
    return numbers


def save_checkpoint(path, gan: GAN, rng: np.random.Generator, extra: dict | None = None) -> Path:
    """Write ``gan`` and ``rng`` to ``path`` (a ``.npz``), atomically; return the path.

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
    for key, values in gan.history.items():
        arrays[f"history/{key}"] = np.asarray(values, dtype=np.float64)
    meta = {
        "format": FORMAT, "version": VERSION, "step": gan.step, "dtype": gan.dtype.name,
        "config": gan.config(), "G": gan.G.spec(), "D": gan.D.spec(),
        "opt_G": _split_optimizer(gan.opt_G.state_dict(), "opt_G", arrays),
        "opt_D": _split_optimizer(gan.opt_D.state_dict(), "opt_D", arrays),
        "rng": rng.bit_generator.state, "extra": extra or {},
    }
    meta["checksum"] = _checksum(arrays)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def read_checkpoint(path) -> tuple[dict, dict[str, np.ndarray]]:
    """The metadata and arrays of a checkpoint, checked (format, checksum); no pickle."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, UnicodeDecodeError) as err:
        raise ValueError(f"{str(path)!r} is not a readable numgan checkpoint (truncated, damaged or "
                         f"another kind of file): {type(err).__name__}: {err}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{str(path)!r} is not a numgan checkpoint (format {meta.get('format')!r})")
    if meta.get("version") != VERSION:
        raise ValueError(f"{str(path)!r} has checkpoint version {meta.get('version')!r}; "
                         f"this numgan reads version {VERSION}")
    if _checksum(arrays) != meta.get("checksum"):
        raise ValueError(f"{str(path)!r} fails its checksum: the file was modified after it was written")
    return meta, arrays


def _optimizer_state(numbers: dict, prefix: str, arrays: dict) -> dict:
    state = dict(numbers)
    for name, value in arrays.items():
        if name.startswith(prefix + "/"):
            state[name[len(prefix) + 1:]] = value
    return state


def load_checkpoint(path) -> tuple[GAN, np.random.Generator]:
    """Rebuild the GAN and the random generator saved by :func:`save_checkpoint`."""
    meta, arrays = read_checkpoint(path)
    dtype = np.dtype(meta["dtype"])
    G, D = from_spec(meta["G"], dtype), from_spec(meta["D"], dtype)
    G.flat_params[...] = arrays["G/params"]
    D.flat_params[...] = arrays["D/params"]
    gan = GAN(G, D, **meta["config"])
    if gan.G_ema is not None:
        gan.G_ema.flat_params[...] = arrays["G_ema/params"]
    gan.opt_G.load_state_dict(_optimizer_state(meta["opt_G"], "opt_G", arrays))
    gan.opt_D.load_state_dict(_optimizer_state(meta["opt_D"], "opt_D", arrays))
    gan.step = int(meta["step"])
    gan.history = {name.split("/", 1)[1]: value.tolist() for name, value in arrays.items()
                   if name.startswith("history/")}
    bit_generator = getattr(np.random, meta["rng"]["bit_generator"])()
    bit_generator.state = meta["rng"]
    return gan, np.random.Generator(bit_generator)
