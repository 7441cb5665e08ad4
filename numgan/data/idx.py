"""IDX files, the format of MNIST and Fashion-MNIST, read and written with NumPy alone.

An IDX file (LeCun et al., the MNIST page) is a header followed by the array in C order,
every number big-endian::

    byte 0, 1    0x00 0x00                  always zero
    byte 2       type code                  0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                                            0x0D float32, 0x0E float64
    byte 3       d, the number of dims      >= 1 (3 for images: N, rows, columns; 1 for labels)
    d x 4 bytes  the sizes n_1 .. n_d       unsigned 32-bit each
    then         n_1 * ... * n_d numbers    of the type above

so a file of type t holds exactly ``4 + 4 d + n_1 ... n_d * itemsize(t)`` bytes, which
:func:`load_idx` checks before it trusts anything. The files are often gzipped (``*.gz``);
:func:`load_idx` recognises gzip by its first two bytes ``1f 8b``, not by the name.
"""
from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .._checks import check_choice, check_path
from .images import SPLITS, _check_options, _finish

#: IDX type code -> big-endian dtype of the data
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}

#: where Debian's package ``dataset-fashion-mnist`` installs the four files
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"

#: the ten Fashion-MNIST classes, by label
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

_GZIP_MAGIC = b"\x1f\x8b"


def _type_names() -> str:
    return ", ".join(f"0x{code:02X} ({dt.name})" for code, dt in IDX_TYPES.items())


def load_idx(path: str | os.PathLike) -> np.ndarray:
    """The array stored in the IDX file ``path`` (gzipped or not), with the shape of its header.

    Returns an ``(n_1, ..., n_d)`` array in native byte order whose dtype follows the type code
    (uint8 for MNIST images and labels). Raises ``ValueError`` saying what is wrong when the file is
    not IDX (first two bytes not zero, unknown type code, no dimension), when the header or the data
    is shorter than the header announces (a truncated file), or when bytes follow the data
    (a wrong dimension count or a foreign file); ``FileNotFoundError`` when there is no such file.

    References: Y. LeCun, C. Cortes, C. J. C. Burges, "The MNIST database of handwritten digits"
    (the format is described at the end of its page).
    """
    path = check_path(path)
    raw = path.read_bytes()
    where = f"{path}"
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as err:
            raise ValueError(f"{where}: the gzip stream is truncated or corrupt ({err})") from None
        where = f"{path} (gunzipped)"
    if len(raw) < 4:
        raise ValueError(f"{where}: {len(raw)} bytes, too short for the 4-byte IDX magic number: "
                         f"the file is truncated or not an IDX file")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{where} is not an IDX file: its magic number must start with two zero bytes, "
                         f"got {raw[:4].hex(' ')}")
    code, ndim = raw[2], raw[3]
    if code not in IDX_TYPES:
        raise ValueError(f"{where}: unknown IDX type code 0x{code:02X}, expected one of {_type_names()}")
    if ndim < 1:
        raise ValueError(f"{where}: the IDX header gives 0 dimensions, expected at least 1")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{where}: a header of {ndim} dimensions needs {header} bytes, found {len(raw)}: "
                         f"the file is truncated")
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_TYPES[code]
    expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
    found = len(raw) - header
    what = f"expected {expected} bytes of data (shape {shape}, {dtype.name}), found {found}"
    if found < expected:
        raise ValueError(f"{where}: {what}: the file is truncated")
    if found > expected:
        raise ValueError(f"{where}: {what}: {found - expected} bytes follow the data "
                         f"(a wrong dimension count in the header, or not an IDX file)")
    data = np.frombuffer(raw, dtype=dtype, offset=header)
    return data.astype(dtype.newbyteorder("=")).reshape(shape)    # a writable, native-order copy


def save_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write ``array`` (any shape with 1 to 255 dimensions) to ``path`` as an IDX file.

    The dtype must be one of the IDX types (uint8, int8, int16, int32, float32, float64, any byte
    order); the file is big-endian, as the format says. A name ending in ``.gz`` gives a gzipped file
    (with a zero time stamp, so the same array always gives the same bytes). Returns the path.
    """
    path = check_path(path)
    if not isinstance(array, np.ndarray):
        raise TypeError(f"array must be a numpy array, got {type(array).__name__}")
    codes = {dt.newbyteorder("="): code for code, dt in IDX_TYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise TypeError(f"array must have an IDX dtype (uint8, int8, int16, int32, float32 or float64), "
                        f"got {array.dtype.name}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"array must have 1 to 255 dimensions, got shape {array.shape}")
    if max(array.shape) >= 2 ** 32:
        raise ValueError(f"array sizes must be below 2**32 (4-byte sizes), got shape {array.shape}")
    code = codes[native]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    data = header + np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


def _find(folder: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def _fashion_split(folder: Path, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, H, W) uint8 and labels (N,) uint8 of ``<prefix>-*-idx?-ubyte[.gz]`` in ``folder``."""
    files = []
    for stem in (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"):
        found = _find(folder, stem)
        if found is None:
            raise FileNotFoundError(
                f"Fashion-MNIST not found: no {stem}.gz (or {stem}) in {folder}. Install Debian's package "
                f"with `sudo apt install dataset-fashion-mnist` (it puts the files in {FASHION_MNIST_DIR}), "
                f"or download the four IDX files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                f"t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz from the Fashion-MNIST page "
                f"(https://github.com/zalandoresearch/fashion-mnist) and pass their folder as path=")
        files.append(found)
    images, labels = load_idx(files[0]), load_idx(files[1])
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"{files[0]} must hold uint8 images (N, rows, columns), "
                         f"got {images.dtype.name} of shape {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(f"{files[1]} must hold uint8 labels (N,), got {labels.dtype.name} of shape {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{files[0]} holds {len(images)} images but {files[1]} {len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{files[1]} must hold labels 0..9, got a label {labels.max()}")
    return images, labels


def load_fashion_mnist(path: str | os.PathLike | None = None, split: str = "train", scale: str | None = "tanh",
                       flatten: bool = True, dtype: npt.DTypeLike = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 28x28 grey images of 10 kinds of clothing.

    Reads the four IDX files ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (each ``.gz`` or not) from the folder
    ``path``, or by default from :data:`FASHION_MNIST_DIR`, where Debian's package
    ``dataset-fashion-mnist`` (MIT licence) puts them. They are not shipped with numgan (30 MB).
    The same files of the original MNIST load too.

    Parameters
    ----------
    path : the folder holding the files, or None for ``/usr/share/datasets/fashion-mnist``.
    split : ``"train"`` (60,000 images), ``"test"`` (the 10,000 ``t10k`` images) or ``"all"``
        (train then test).
    scale : ``"tanh"`` for ``x / 255 * 2 - 1`` in [-1, 1], ``"unit"`` for [0, 1], None for raw uint8.
    flatten : True for (N, 784), False for (N, 28, 28).
    dtype : the floating dtype of scaled images (float32 by default).

    Returns
    -------
    images : (N, 784) or (N, 28, 28), of ``dtype`` (uint8 when ``scale`` is None).
    labels : (N,) int64, 0..9, named by :data:`FASHION_MNIST_CLASSES`.

    Raises ``FileNotFoundError`` that says how to get the files when they are missing.

    References: H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST: a Novel Image Dataset for
    Benchmarking Machine Learning Algorithms", arXiv:1708.07747, 2017.
    """
    check_choice(split, "split", SPLITS)
    dtype = _check_options(scale, flatten, dtype)
    folder = check_path(FASHION_MNIST_DIR if path is None else path)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"path must be the folder holding the IDX files, got the file {folder}")
    prefixes = {"train": ["train"], "test": ["t10k"], "all": ["train", "t10k"]}[split]
    parts = [_fashion_split(folder, prefix) for prefix in prefixes]
    images = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
    labels = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
    return _finish(images, labels, 255, scale, flatten, dtype)
